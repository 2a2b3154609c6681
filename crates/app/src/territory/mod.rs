//! The territory: the in-memory grid index and its refresh.

pub mod index;

pub use index::{Located, NodeRef, TerritoryIndex};
