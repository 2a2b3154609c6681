//! The unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters from 31
//! (digits and capitals without I, O, Z, S, V): the registering authority, the kind of body, the
//! 6-digit division code, the 9-character organization code (GB 11714, with its own check
//! character) and a check character over the first 17 (MOD 31).

use crate::ErrorCode;
use std::fmt;

use thiserror::Error;

use crate::{Lang, Localized};

const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CreditCodeError {
    #[error(
        "a unified social credit code has 18 characters from 0-9 and A-Y without I, O, S, V, Z, \
         and 6 digits of a division code at 3-8; got {0:?}"
    )]
    Form(String),
    #[error("the organization code inside {0} has a wrong check character (should be {1})")]
    OrganizationCheck(String, char),
    #[error("the check character of {0} should be {1}")]
    Check(String, char),
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

/// The check character of the first 17 characters, if they are all from the alphabet.
pub fn check_character(first17: &str) -> Option<char> {
    let values: Vec<u32> = first17.bytes().map(value).collect::<Option<_>>()?;
    if values.len() != 17 {
        return None;
    }
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    let check = (31 - sum % 31) % 31;
    Some(ALPHABET[check as usize] as char)
}

/// The GB 11714 check character of an organization code's first 8 characters.
/// GB 11714 values its characters on its own scale: digits as themselves, every capital from
/// A = 10 to Z = 35 (not by its place in the credit code's 31 characters).
fn organization_check(first8: &str) -> Option<char> {
    let gb11714 = |c: u8| match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'A'..=b'Z' => Some(u32::from(c - b'A') + 10),
        _ => None,
    };
    let values: Vec<u32> = first8.bytes().map(gb11714).collect::<Option<_>>()?;
    let sum: u32 = values.iter().zip(ORG_WEIGHTS).map(|(v, w)| v * w).sum();
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        n => char::from_digit(n, 10)?,
    })
}

impl CreditCode {
    /// Builds a code from its parts, computing both check characters: the registering
    /// department and kind (`91`), the division (6 digits) and the organization code's first 8
    /// characters. For synthetic data (the demo city) and tests.
    pub fn from_parts(kind: &str, division: &str, org8: &str) -> Result<CreditCode, CreditCodeError> {
        let bad = || CreditCodeError::Form(format!("{kind}{division}{org8}"));
        let org_check = organization_check(org8).filter(|_| org8.len() == 8).ok_or_else(bad)?;
        let first17 = format!("{kind}{division}{org8}{org_check}");
        let check = check_character(&first17).ok_or_else(bad)?;
        CreditCode::parse(&format!("{first17}{check}"))
    }

    /// Parses a code; lower case is read as upper case, surrounding spaces are ignored.
    pub fn parse(text: &str) -> Result<CreditCode, CreditCodeError> {
        let s = text.trim().to_ascii_uppercase();
        let form = || CreditCodeError::Form(text.trim().to_string());
        if s.len() != 18 || !s.bytes().all(|b| value(b).is_some()) {
            return Err(form());
        }
        if !s[2..8].bytes().all(|b| b.is_ascii_digit()) {
            return Err(form());
        }
        let org = &s[8..17];
        let expected_org = organization_check(&org[..8]).ok_or_else(form)?;
        if org.as_bytes()[8] as char != expected_org {
            return Err(CreditCodeError::OrganizationCheck(s, expected_org));
        }
        let expected = check_character(&s[..17]).ok_or_else(form)?;
        if s.as_bytes()[17] as char != expected {
            return Err(CreditCodeError::Check(s, expected));
        }
        Ok(CreditCode(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The division code of the registering authority's area.
    pub fn division(&self) -> &str {
        &self.0[2..8]
    }
}

impl fmt::Debug for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CreditCode({})", self.0)
    }
}

impl fmt::Display for CreditCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Localized for CreditCodeError {
    fn code(&self) -> ErrorCode {
        match self {
            CreditCodeError::Form(_) => ErrorCode::InvalidCreditCode,
            CreditCodeError::OrganizationCheck(..) => ErrorCode::BadOrganizationCheck,
            CreditCodeError::Check(..) => ErrorCode::BadCheckCharacter,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (CreditCodeError::Form(s), Lang::Zh) => {
                format!(
                    "统一社会信用代码应为18位（数字及除 I、O、S、V、Z 外的大写字母，第3至8位为行政区划代码），“{s}”不符"
                )
            }
            (CreditCodeError::OrganizationCheck(s, c), Lang::Zh) => {
                format!("统一社会信用代码 {s} 中组织机构代码的校验码应为 {c}")
            }
            (CreditCodeError::Check(s, c), Lang::Zh) => format!("统一社会信用代码 {s} 的校验码应为 {c}"),
            (e, Lang::En) => e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A code built from a division, a kind and an organization serial, with both checks.
    fn make(authority_kind: &str, division: &str, org8: &str) -> String {
        let org = format!("{org8}{}", organization_check(org8).unwrap());
        let first17 = format!("{authority_kind}{division}{org}");
        format!("{first17}{}", check_character(&first17).unwrap())
    }

    #[test]
    fn the_reference_examples_are_valid() {
        // security-cn.md §4 (testable 36): both check characters of each, organization codes
        // with letters past I included (M, B, K: GB 11714 values them A = 10 … Z = 35).
        for code in ["91350100M000100Y43", "11320000MB151840XJ", "91512081MA62K0260E"] {
            assert!(CreditCode::parse(code).is_ok(), "{code}: {:?}", CreditCode::parse(code));
            assert_eq!(check_character(&code[..17]), code.chars().nth(17), "{code}");
        }
    }

    #[test]
    fn a_published_example_is_valid() {
        // The example printed in GB 32100-2015's explanations.
        let code = CreditCode::parse("91350100M000100Y43").unwrap();
        assert_eq!(code.division(), "350100");
        assert_eq!(CreditCode::parse("91350100m000100y43").unwrap(), code);
    }

    #[test]
    fn a_qitaihe_enterprise_code_round_trips() {
        let code = make("91", "230903", "MA1B2C3D");
        assert_eq!(CreditCode::parse(&code).unwrap().division(), "230903");
    }

    #[test]
    fn each_kind_of_mistake_is_named() {
        let good = make("12", "230900", "40123456");
        let mut wrong_check = good.clone();
        wrong_check.replace_range(17..18, if &good[17..] == "0" { "1" } else { "0" });
        assert_eq!(
            CreditCode::parse(&wrong_check).unwrap_err().code(),
            "bad_check_character"
        );
        assert_eq!(
            CreditCode::parse("91350100M000100Y4").unwrap_err().code(),
            "invalid_credit_code"
        );
        assert_eq!(
            CreditCode::parse("91350100M000100I43").unwrap_err().code(),
            "invalid_credit_code"
        );
        // GB 32100 leaves I, O, Z, S and V out of its alphabet, in every position.
        for letter in ['I', 'O', 'Z', 'S', 'V'] {
            let code = format!("91350100M000100{letter}43");
            assert_eq!(
                CreditCode::parse(&code).unwrap_err().code(),
                "invalid_credit_code",
                "{code}"
            );
            let code = format!("91350100M000100Y4{letter}");
            assert_eq!(
                CreditCode::parse(&code).unwrap_err().code(),
                "invalid_credit_code",
                "{code}"
            );
        }
        assert_eq!(
            CreditCode::parse("91ABCDEFM000100Y43").unwrap_err().code(),
            "invalid_credit_code"
        );
        assert_eq!(
            CreditCode::parse("统一社会信用代码").unwrap_err().code(),
            "invalid_credit_code"
        );
        let e = CreditCode::parse("91350100M000100X43").unwrap_err();
        assert_eq!(e.code(), "bad_organization_check");
        assert!(e.message(Lang::Zh).contains("组织机构代码"));
    }
}
