//! Functional departments (职能部门) and their posted offices, by their stable codes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a department code is 2 to 40 characters of a–z, 0–9 and '-', starting with a letter; got {0:?}")]
pub struct BadDepartmentCode(pub String);

/// A functional department (职能部门) or its posted office, by a short stable code such as
/// `urban-management` or `housing`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DepartmentCode(String);

impl DepartmentCode {
    pub fn parse(s: &str) -> Result<Self, BadDepartmentCode> {
        let ok = (2..=40).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Ok(DepartmentCode(s.to_string()))
        } else {
            Err(BadDepartmentCode(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DepartmentCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for DepartmentCode {
    type Err = BadDepartmentCode;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for DepartmentCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for DepartmentCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn department_codes_are_slugs() {
        assert!(DepartmentCode::parse("urban-management").is_ok());
        assert!(DepartmentCode::parse("Urban").is_err());
        assert!(DepartmentCode::parse("1abc").is_err());
        assert!(DepartmentCode::parse("a").is_err());
    }
}
