//! The store's integration tests, one binary for them all: every test runs on SQLite and on
//! PostgreSQL (`gongzhi_store::testing::TestDb`).

mod attachments;
mod audit;
mod bulk;
mod case_walks;
mod cases;
mod faults;
mod intake;
mod registry;
mod rules;
mod schema_parity;
mod sign_in;
mod territory;
