//! Territorial identifiers: 12-digit statistical division codes (统计用区划代码) and
//! 15-digit grid codes (6 district + 3 street + 3 community + 3 serial).

use crate::ErrorCode;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

use super::node::Level;
use crate::i18n::{Lang, Localized};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CodeError {
    #[error("a territory code has 12 digits (division) or 15 digits (grid); got {found} characters")]
    WrongLength { found: usize },
    #[error("a territory code has digits only")]
    NotDigits,
    #[error("province part {0} is not a mainland province code (11–82)")]
    BadProvince(String),
    #[error("the code has a non-zero part below a zero part, so it names no level")]
    Inconsistent,
    #[error("a grid code starts with a community code (its last 3 digits not 000)")]
    GridOutsideCommunity,
    #[error("a grid's serial number runs from 001 to 999")]
    BadSerial,
}

impl Localized for CodeError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidCode
    }

    fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (CodeError::WrongLength { found }, Lang::Zh) => {
                format!("区划代码应为12位数字、网格代码应为15位数字，实际为{found}位")
            }
            (CodeError::NotDigits, Lang::Zh) => "代码只能由数字组成".into(),
            (CodeError::BadProvince(p), Lang::Zh) => format!("省级部分 {p} 不是有效的省级代码（11–82）"),
            (CodeError::Inconsistent, Lang::Zh) => "代码在零段之后出现非零段，不对应任何层级".into(),
            (CodeError::GridOutsideCommunity, Lang::Zh) => "网格代码的前12位必须是社区（村）代码".into(),
            (CodeError::BadSerial, Lang::Zh) => "网格序号应为001至999".into(),
            (e, Lang::En) => e.to_string(),
        }
    }
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

/// A 12-digit statistical division code: 2 province, 2 city, 2 county, 3 township, 3 village.
/// Its level follows from which parts are zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivisionCode(String);

impl DivisionCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let s = s.trim();
        if !all_digits(s) {
            return Err(CodeError::NotDigits);
        }
        if s.len() != 12 {
            return Err(CodeError::WrongLength {
                found: s.chars().count(),
            });
        }
        let province: u8 = s[0..2].parse().map_err(|_| CodeError::NotDigits)?;
        if !(11..=82).contains(&province) {
            return Err(CodeError::BadProvince(s[0..2].to_string()));
        }
        let parts = [&s[2..4], &s[4..6], &s[6..9], &s[9..12]];
        let zero = |p: &str| p.bytes().all(|b| b == b'0');
        // Once a part is zero, every finer part must be zero too.
        if let Some(first_zero) = parts.iter().position(|p| zero(p)) {
            if parts[first_zero..].iter().any(|p| !zero(p)) {
                return Err(CodeError::Inconsistent);
            }
            // Province-level codes are not part of a city deployment.
            if first_zero == 0 {
                return Err(CodeError::Inconsistent);
            }
        }
        Ok(DivisionCode(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn level(&self) -> Level {
        let s = &self.0;
        if &s[9..12] != "000" {
            Level::Community
        } else if &s[6..9] != "000" {
            Level::Street
        } else if &s[4..6] != "00" {
            Level::District
        } else {
            Level::City
        }
    }

    /// The digits that every code below this one starts with.
    pub fn significant_prefix(&self) -> &str {
        let n = match self.level() {
            Level::City => 4,
            Level::District => 6,
            Level::Street => 9,
            Level::Community | Level::Grid => 12,
        };
        &self.0[..n]
    }

    pub fn parent(&self) -> Option<DivisionCode> {
        let s = &self.0;
        let parent = match self.level() {
            Level::City | Level::Grid => return None,
            Level::District => format!("{}00000000", &s[..4]),
            Level::Street => format!("{}000000", &s[..6]),
            Level::Community => format!("{}000", &s[..9]),
        };
        Some(DivisionCode(format!("{parent:0<12}")))
    }

    pub fn is_ancestor_of(&self, code: &str) -> bool {
        code != self.0 && code.starts_with(self.significant_prefix())
    }
}

/// A 15-digit grid code: the 12-digit code of its community followed by a 3-digit serial.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GridCode(String);

impl GridCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let s = s.trim();
        if !all_digits(s) {
            return Err(CodeError::NotDigits);
        }
        if s.len() != 15 {
            return Err(CodeError::WrongLength {
                found: s.chars().count(),
            });
        }
        let community = DivisionCode::parse(&s[..12])?;
        if community.level() != Level::Community {
            return Err(CodeError::GridOutsideCommunity);
        }
        if &s[12..] == "000" {
            return Err(CodeError::BadSerial);
        }
        Ok(GridCode(s.to_string()))
    }

    pub fn new(community: &DivisionCode, serial: u16) -> Result<Self, CodeError> {
        if !(1..=999).contains(&serial) {
            return Err(CodeError::BadSerial);
        }
        GridCode::parse(&format!("{}{serial:03}", community.as_str()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn community(&self) -> DivisionCode {
        DivisionCode(self.0[..12].to_string())
    }

    pub fn serial(&self) -> u16 {
        self.0[12..].parse().unwrap_or(0)
    }
}

/// Any node's code: a division code or a grid code, told apart by length.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TerritoryCode {
    Division(DivisionCode),
    Grid(GridCode),
}

impl TerritoryCode {
    pub fn parse(s: &str) -> Result<Self, CodeError> {
        let t = s.trim();
        if t.len() == 15 && all_digits(t) {
            GridCode::parse(t).map(TerritoryCode::Grid)
        } else {
            DivisionCode::parse(t).map(TerritoryCode::Division)
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            TerritoryCode::Division(d) => d.as_str(),
            TerritoryCode::Grid(g) => g.as_str(),
        }
    }

    pub fn level(&self) -> Level {
        match self {
            TerritoryCode::Division(d) => d.level(),
            TerritoryCode::Grid(_) => Level::Grid,
        }
    }

    pub fn parent(&self) -> Option<TerritoryCode> {
        match self {
            TerritoryCode::Division(d) => d.parent().map(TerritoryCode::Division),
            TerritoryCode::Grid(g) => Some(TerritoryCode::Division(g.community())),
        }
    }

    /// The digits every code in this node's subtree starts with.
    pub fn subtree_prefix(&self) -> &str {
        match self {
            TerritoryCode::Division(d) => d.significant_prefix(),
            TerritoryCode::Grid(g) => g.as_str(),
        }
    }
}

macro_rules! string_newtype_impls {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = CodeError;
            fn from_str(s: &str) -> Result<Self, CodeError> {
                Self::parse(s)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}
string_newtype_impls!(DivisionCode);
string_newtype_impls!(GridCode);
string_newtype_impls!(TerritoryCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_from_the_zero_parts() {
        assert_eq!(DivisionCode::parse("230900000000").unwrap().level(), Level::City);
        assert_eq!(DivisionCode::parse("230903000000").unwrap().level(), Level::District);
        assert_eq!(DivisionCode::parse("230903011000").unwrap().level(), Level::Street);
        assert_eq!(DivisionCode::parse("230903011001").unwrap().level(), Level::Community);
    }

    #[test]
    fn parents_walk_up_the_tree() {
        let c = DivisionCode::parse("230903011001").unwrap();
        let s = c.parent().unwrap();
        assert_eq!(s.as_str(), "230903011000");
        let d = s.parent().unwrap();
        assert_eq!(d.as_str(), "230903000000");
        assert_eq!(d.parent().unwrap().as_str(), "230900000000");
        assert_eq!(d.parent().unwrap().parent(), None);
    }

    #[test]
    fn bad_division_codes_are_refused_with_the_reason() {
        assert_eq!(DivisionCode::parse("2309"), Err(CodeError::WrongLength { found: 4 }));
        assert_eq!(DivisionCode::parse("23090000000x"), Err(CodeError::NotDigits));
        assert!(matches!(
            DivisionCode::parse("990900000000"),
            Err(CodeError::BadProvince(_))
        ));
        assert_eq!(DivisionCode::parse("230900011000"), Err(CodeError::Inconsistent));
        assert_eq!(DivisionCode::parse("230000000000"), Err(CodeError::Inconsistent));
    }

    #[test]
    fn grid_codes_sit_inside_a_community() {
        let g = GridCode::parse("230903011001007").unwrap();
        assert_eq!(g.community().as_str(), "230903011001");
        assert_eq!(g.serial(), 7);
        assert_eq!(GridCode::parse("230903011000007"), Err(CodeError::GridOutsideCommunity));
        assert_eq!(GridCode::parse("230903011001000"), Err(CodeError::BadSerial));
        let c = DivisionCode::parse("230903011001").unwrap();
        assert_eq!(GridCode::new(&c, 12).unwrap().as_str(), "230903011001012");
        assert!(GridCode::new(&c, 1000).is_err());
    }

    #[test]
    fn any_code_parses_by_length_and_knows_its_subtree() {
        let g = TerritoryCode::parse("230903011001007").unwrap();
        assert_eq!(g.level(), Level::Grid);
        assert_eq!(g.parent().unwrap().as_str(), "230903011001");
        let d = TerritoryCode::parse("230903000000").unwrap();
        assert_eq!(d.subtree_prefix(), "230903");
        assert!(
            DivisionCode::parse("230903000000")
                .unwrap()
                .is_ancestor_of("230903011001007")
        );
        assert!(
            !DivisionCode::parse("230903000000")
                .unwrap()
                .is_ancestor_of("230904011001007")
        );
    }

    #[test]
    fn errors_speak_chinese_by_default() {
        let e = DivisionCode::parse("12").unwrap_err();
        assert!(e.message(Lang::Zh).contains("12位"));
        assert!(e.message(Lang::En).contains("12 digits"));
    }
}
