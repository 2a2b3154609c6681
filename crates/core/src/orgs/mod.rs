//! Member organizations (成员单位): agencies, public institutions, enterprises and social
//! organizations, identified by their unified social credit code.

pub mod credit_code;
pub mod department;
pub mod registry;

pub use credit_code::{CreditCode, CreditCodeError};
pub use department::{BadDepartmentCode, DepartmentCode};
