//! The places of the registry under the grid: compounds (小区, may span grids, so tied to a
//! community), buildings (楼栋, in one grid), their entrances (单元, one stairwell each) and
//! households (户). "People into households, households into buildings, buildings into grids."
//!
//! A household's room (its exact address) is personal data and sealed by the store under
//! [`crate::people::registry::sealed::HOUSEHOLD_ROOM`]; a building's address is a place's, kept in clear.

use serde::Serialize;

use super::code::{DivisionCode, GridCode};
use crate::data::{FieldError, FieldProblem, required_text};

/// A compound to be written.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCompound {
    /// Unique, e.g. `230903011001-C01`.
    pub code: String,
    pub name: String,
    pub community: DivisionCode,
    pub address: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The outline as GeoJSON geometry text (a Polygon or MultiPolygon), when imported with one.
    pub outline: Option<String>,
    pub property_company_id: Option<i64>,
}

/// A building to be written; its community and street follow from its grid.
#[derive(Debug, Clone, PartialEq)]
pub struct NewBuilding {
    /// Unique, e.g. `230903011001007-B03`.
    pub code: String,
    pub compound_id: Option<i64>,
    pub grid: GridCode,
    pub name: String,
    pub address: String,
    pub floors: u16,
    /// Entrances numbered 1..=entrances are created with the building.
    pub entrances: u16,
    /// 用途: a key of [`crate::import::registry::BUILDING_USES`] (`residential` by default).
    pub use_kind: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The outline as GeoJSON geometry text (a Polygon or MultiPolygon), when imported with one.
    pub outline: Option<String>,
}

/// A household to be written in a building (and one of its entrances).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewHousehold {
    /// Unique: the building's code and a serial, never the room (`230903011001007-B03-0012`).
    pub code: String,
    pub building_id: i64,
    /// The entrance's number in the building (1-based), if known.
    pub entrance: Option<u16>,
    /// The room as written on the door (`502`, `2-502`): sealed by the store.
    pub room: String,
    /// Floor area in square metres (建筑面积), when known.
    pub area_m2: Option<i64>,
}

/// The street of a community or grid: the community code with its last three digits zeroed.
pub fn street_of(community: &DivisionCode) -> String {
    format!("{}000", &community.as_str()[..9])
}

pub fn validate_floors(text: &str) -> Result<u16, FieldError> {
    text.trim()
        .parse::<u16>()
        .ok()
        .filter(|f| (1..=200).contains(f))
        .ok_or_else(|| FieldError::new("floors", FieldProblem::Number(text.trim().to_string())))
}

pub fn validate_room(text: &str) -> Result<String, FieldError> {
    required_text("room", text, 20)
}

/// A building as lists show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BuildingSummary {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub address: String,
    pub grid_code: String,
    pub floors: i64,
    pub households: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_street_is_its_communitys_first_nine_digits() {
        let c = DivisionCode::parse("230903011001").unwrap();
        assert_eq!(street_of(&c), "230903011000");
    }

    #[test]
    fn floors_and_rooms_are_checked() {
        assert_eq!(validate_floors("6").unwrap(), 6);
        assert_eq!(validate_floors("0").unwrap_err().field, "floors");
        assert_eq!(validate_room(" ").unwrap_err().field, "room");
    }
}
