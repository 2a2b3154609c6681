//! The registry's stores shared across its domains: editing one row of any registry table
//! ([`edit`]), and the helpers the territory, people and organization stores write and read
//! registry rows with (multi-row inserts, the audit entry of a write, opening sealed columns).

pub mod edit;
pub(crate) mod rows;
