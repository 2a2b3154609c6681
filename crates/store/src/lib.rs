//! Persistence for Gongzhi: SQLite (embedded default) and PostgreSQL from one code path.
//!
//! Every query is written once, in SQL both databases accept, with `$1`-style placeholders
//! (SQLite reads them as numbered parameters). The [`on_pool!`] and [`on_tx!`] macros expand the
//! same expression for each native sqlx pool, so values bind through each database's own types
//! (dates, timestamps) and row structs decode on both.

#[macro_use]
mod db;
pub mod audit;
pub mod cases;
pub mod cogov;
mod error;
pub mod orgs;
pub mod people;
pub mod registry;
pub mod rules;
mod sql;
pub mod territory;
pub mod testing;

pub use cases::attachment::{Attachment, Blobs, Saved};
pub use db::{Backend, Db, Tx, create_data_dir};
pub use error::StoreError;
pub use territory::{ImportReport, SubtreeTotals, Summary};
