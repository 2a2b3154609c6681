//! The territorial axis (块块): city → district/county → street/town → community/village → grid.

pub mod code;
pub mod datum;
pub mod geojson;
pub mod index;
pub mod node;
pub mod partition;
pub mod places;

pub use code::{CodeError, DivisionCode, GridCode, TerritoryCode};
pub use datum::{Datum, DatumError, LonLat};
pub use index::GridIndex;
pub use node::{Kind, Level, Node, NodeError};
