//! The core's integration tests, one binary for them all: the data files the repository ships.
//! Test fixtures (photos) are in `crates/core/tests/fixtures`; other crates' tests read them too.

mod shipped_data;
