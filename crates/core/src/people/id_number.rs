//! Citizen ID numbers (公民身份号码, GB 11643-1999): 6 digits of the registering division, the
//! birth date as `YYYYMMDD`, a 3-digit sequence (odd for men, even for women) and a check
//! character over the first 17 (ISO 7064 MOD 11-2, `X` standing for 10).

use crate::ErrorCode;
use std::fmt;

use chrono::NaiveDate;
use thiserror::Error;

use crate::{Lang, Localized};

/// A citizen ID number whose form, birth date and check character are right.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdNumberError {
    #[error("an ID number has 18 characters: 17 digits and a digit or X; got {0:?}")]
    Form(String),
    #[error("the birth date {1} of ID number {0} does not exist")]
    BirthDate(String, String),
    #[error("the check character of ID number {0} should be {1}")]
    Check(String, char),
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

/// The check character of the first 17 digits.
pub fn check_character(first17: &str) -> Option<char> {
    let digits: Vec<u32> = first17.chars().map(|c| c.to_digit(10)).collect::<Option<_>>()?;
    if digits.len() != 17 {
        return None;
    }
    let sum: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    Some(CHECK[(sum % 11) as usize] as char)
}

impl IdNumber {
    /// Parses an ID number; a lower-case `x` is read as `X`, surrounding spaces are ignored.
    pub fn parse(text: &str) -> Result<IdNumber, IdNumberError> {
        let s = text.trim().to_ascii_uppercase();
        // ASCII first: slicing a string of Chinese characters by bytes would panic.
        let well_formed = s.is_ascii()
            && s.len() == 18
            && s[..17].bytes().all(|b| b.is_ascii_digit())
            && matches!(s.as_bytes()[17], b'0'..=b'9' | b'X');
        if !well_formed {
            return Err(IdNumberError::Form(text.trim().to_string()));
        }
        let birth = &s[6..14];
        if NaiveDate::parse_from_str(birth, "%Y%m%d").is_err() {
            return Err(IdNumberError::BirthDate(s.clone(), birth.to_string()));
        }
        let expected = check_character(&s[..17]).ok_or_else(|| IdNumberError::Form(s.clone()))?;
        if s.as_bytes()[17] as char != expected {
            return Err(IdNumberError::Check(s, expected));
        }
        Ok(IdNumber(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The division code where the number was issued.
    pub fn division(&self) -> &str {
        &self.0[..6]
    }

    pub fn birth_date(&self) -> NaiveDate {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").unwrap_or_default()
    }

    /// Masked for lists: the first 6 and the last 4 characters (`230903********123X`).
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

/// Never print the full number by accident (logs, panics): debug output is masked.
impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

impl Localized for IdNumberError {
    fn code(&self) -> ErrorCode {
        match self {
            IdNumberError::Form(_) => ErrorCode::InvalidIdNumber,
            IdNumberError::BirthDate(..) => ErrorCode::InvalidBirthDate,
            IdNumberError::Check(..) => ErrorCode::BadCheckCharacter,
        }
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (IdNumberError::Form(s), Lang::Zh) => format!("身份证号码应为18位（17位数字加1位数字或X），“{s}”不符"),
            (IdNumberError::BirthDate(s, d), Lang::Zh) => format!("身份证号码 {s} 中的出生日期 {d} 不存在"),
            (IdNumberError::Check(s, c), Lang::Zh) => format!("身份证号码 {s} 的校验码应为 {c}"),
            (e, Lang::En) => e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_number_is_read_with_its_parts() {
        let id = IdNumber::parse(" 11010519491231002x ").unwrap();
        assert_eq!(id.as_str(), "11010519491231002X");
        assert_eq!(id.division(), "110105");
        assert_eq!(id.birth_date(), NaiveDate::from_ymd_opt(1949, 12, 31).unwrap());
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(110105********002X)");
    }

    #[test]
    fn the_check_character_catches_one_wrong_digit() {
        assert_eq!(check_character("11010519491231002"), Some('X'));
        let e = IdNumber::parse("11010519491231003X").unwrap_err();
        assert_eq!(e.code(), "bad_check_character");
        assert!(e.message(Lang::Zh).contains("校验码"));
    }

    #[test]
    fn the_reference_examples_are_valid() {
        // security-cn.md §4.1's three numbers, one ending in X.
        for id in ["34052419800101001X", "513101198201130014", "370101190102039973"] {
            assert!(IdNumber::parse(id).is_ok(), "{id}");
        }
    }

    #[test]
    fn bad_forms_and_dates_are_named() {
        assert_eq!(
            IdNumber::parse("1101051949123100").unwrap_err().code(),
            "invalid_id_number"
        );
        assert_eq!(
            IdNumber::parse("11010519491231002Y").unwrap_err().code(),
            "invalid_id_number"
        );
        assert_eq!(IdNumber::parse("一二三四五六").unwrap_err().code(), "invalid_id_number");
        let first17 = "11010519490230001";
        let with_check = format!("{first17}{}", check_character(first17).unwrap());
        assert_eq!(IdNumber::parse(&with_check).unwrap_err().code(), "invalid_birth_date");
    }
}
