//! The Qitaihe demo city, deterministic from a seed (see docs/DEMO-CITY.md): the grid layer
//! ([`grids`]), the staff accounts ([`accounts`]), a year of cases ([`cases`]), the registry
//! ([`registry`]), the loaders that write them into a database ([`load`]), and rows for the
//! registry's import templates ([`import_rows`]). The `gongzhi demo` command, the tests and the
//! benchmarks use them; this crate depends on core and store only.

pub mod accounts;
pub mod cases;
pub mod grids;
pub mod import_rows;
pub mod load;
pub mod registry;

pub use accounts::{DEMO_ACCOUNTS, DEMO_EXTRA_GRANTS, DEMO_LIAISON, ensure_demo_accounts, ensure_demo_liaison};
pub use grids::{GridSystem, build};
pub use load::{ensure_demo, ensure_demo_cases, ensure_demo_registry};
