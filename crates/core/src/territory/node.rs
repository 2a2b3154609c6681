//! Levels and kinds of territory nodes.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::i18n::Lang;

/// The five levels of the tree. Districts and counties share a level, as do streets and towns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    City,
    District,
    Street,
    Community,
    Grid,
}

impl Level {
    pub const ALL: [Level; 5] = [
        Level::City,
        Level::District,
        Level::Street,
        Level::Community,
        Level::Grid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::City => "city",
            Level::District => "district",
            Level::Street => "street",
            Level::Community => "community",
            Level::Grid => "grid",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Level::City => lang.pick("市", "City"),
            Level::District => lang.pick("区县", "District / county"),
            Level::Street => lang.pick("街道乡镇", "Street / town"),
            Level::Community => lang.pick("社区村", "Community / village"),
            Level::Grid => lang.pick("网格", "Grid"),
        }
    }

    pub fn child(self) -> Option<Level> {
        match self {
            Level::City => Some(Level::District),
            Level::District => Some(Level::Street),
            Level::Street => Some(Level::Community),
            Level::Community => Some(Level::Grid),
            Level::Grid => None,
        }
    }
}

/// What a node is within its level: a district or a county, a subdistrict or a town …
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    City,
    District,
    County,
    Subdistrict,
    Town,
    Township,
    DevelopmentZone,
    Community,
    Village,
    Grid,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::City,
        Kind::District,
        Kind::County,
        Kind::Subdistrict,
        Kind::Town,
        Kind::Township,
        Kind::DevelopmentZone,
        Kind::Community,
        Kind::Village,
        Kind::Grid,
    ];

    pub fn level(self) -> Level {
        match self {
            Kind::City => Level::City,
            Kind::District | Kind::County => Level::District,
            Kind::Subdistrict | Kind::Town | Kind::Township | Kind::DevelopmentZone => Level::Street,
            Kind::Community | Kind::Village => Level::Community,
            Kind::Grid => Level::Grid,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::City => "city",
            Kind::District => "district",
            Kind::County => "county",
            Kind::Subdistrict => "subdistrict",
            Kind::Town => "town",
            Kind::Township => "township",
            Kind::DevelopmentZone => "development_zone",
            Kind::Community => "community",
            Kind::Village => "village",
            Kind::Grid => "grid",
        }
    }

    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Kind::City => lang.pick("市", "city"),
            Kind::District => lang.pick("区", "district"),
            Kind::County => lang.pick("县", "county"),
            Kind::Subdistrict => lang.pick("街道", "subdistrict"),
            Kind::Town => lang.pick("镇", "town"),
            Kind::Township => lang.pick("乡", "township"),
            Kind::DevelopmentZone => lang.pick("开发区", "development zone"),
            Kind::Community => lang.pick("社区", "community"),
            Kind::Village => lang.pick("村", "village"),
            Kind::Grid => lang.pick("网格", "grid"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what}: {value}")]
pub struct UnknownName {
    pub what: &'static str,
    pub value: String,
}

impl FromStr for Level {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "level",
                value: s.to_string(),
            })
    }
}

impl FromStr for Kind {
    type Err = UnknownName;
    fn from_str(s: &str) -> Result<Self, UnknownName> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownName {
                what: "kind",
                value: s.to_string(),
            })
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_belong_to_levels_and_round_trip_as_text() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), k);
        }
        for l in Level::ALL {
            assert_eq!(l.as_str().parse::<Level>().unwrap(), l);
        }
        assert_eq!(Kind::County.level(), Level::District);
        assert_eq!(Kind::Village.level(), Level::Community);
        assert!("hamlet".parse::<Kind>().is_err());
    }
}

/// One version of a territory node. Nodes are versioned, never deleted: a change closes the
/// current version (`valid_to`) and opens a new one.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub code: super::TerritoryCode,
    pub name: String,
    pub kind: Kind,
    pub households: Option<i64>,
    pub boundary: Option<geo::MultiPolygon<f64>>,
    pub valid_from: chrono::NaiveDate,
    pub valid_to: Option<chrono::NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    #[error("a {kind} belongs to level {expected}, but code {code} is at level {found}")]
    KindDoesNotFitCode {
        code: String,
        kind: Kind,
        expected: Level,
        found: Level,
    },
    #[error("the name is empty")]
    EmptyName,
    #[error("a grid needs a boundary polygon")]
    GridWithoutBoundary,
    #[error("households cannot be negative")]
    NegativeHouseholds,
}

impl Node {
    /// Checks the rules every node keeps: its kind fits the level its code names, it has a
    /// name, and a grid has a boundary.
    pub fn validate(&self) -> Result<(), NodeError> {
        let found = self.code.level();
        if self.kind.level() != found {
            return Err(NodeError::KindDoesNotFitCode {
                code: self.code.to_string(),
                kind: self.kind,
                expected: self.kind.level(),
                found,
            });
        }
        if self.name.trim().is_empty() {
            return Err(NodeError::EmptyName);
        }
        if self.kind == Kind::Grid && self.boundary.as_ref().is_none_or(|b| b.0.is_empty()) {
            return Err(NodeError::GridWithoutBoundary);
        }
        if self.households.is_some_and(|h| h < 0) {
            return Err(NodeError::NegativeHouseholds);
        }
        Ok(())
    }

    pub fn level(&self) -> Level {
        self.kind.level()
    }

    pub fn parent_code(&self) -> Option<super::TerritoryCode> {
        self.code.parent()
    }
}
