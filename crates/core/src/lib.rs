//! The pure core of Gongzhi: domain types, validated identifiers and rules.
//! No I/O, no async, no SQL: everything here is a function of its inputs.

pub mod audit;
pub mod cases;
pub mod cogov;
pub mod data;
pub mod error;
pub mod i18n;
pub mod import;
pub mod orgs;
pub mod people;
pub mod territory;
pub mod text;
pub mod time;

pub use error::ErrorCode;
pub use i18n::{Lang, Localized};
