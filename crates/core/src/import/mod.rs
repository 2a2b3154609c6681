//! Importing tables from staff's spreadsheets, generically: a [`template::Template`] of columns
//! (Chinese header, English key, required or not, an example, a validator), matching a file's
//! header against it in any order and in either language, checking every cell, and collecting
//! every bad row (listing the first ones, counting all) so that a file is taken whole or not at
//! all. [`progress`] is the model of a running import that the command line and the pages show.
//!
//! Errors are the data files' [`crate::cases::data::RowError`] and
//! [`crate::cases::data::DataError`]: row (1-based, as the spreadsheet numbers it), column (as the
//! file's header spells it) and reason in both languages.

pub mod progress;
pub mod registry;
pub mod template;

pub use progress::{Phase, Progress, ProgressSnapshot};
pub use template::{CellKind, Column, ErrorList, HeaderMap, Record, Template};
