//! The office crate's integration tests, one binary for them all: the shipped lists as spreadsheets.

mod responsibility_xlsx;
