//! The command line's integration tests, one binary (one link) for them all: HTTP on both
//! databases, the CLI run as a process, a SIGKILL crash test, real Open311 clients and Chromium.
//! Each module was a test binary of its own; `common` is what they share. Run one module with
//! `cargo test -p gongzhi --test it open311::` (the module path filters).

mod common;

mod access_matrix;
mod agreements;
mod audit_api;
mod auth_api;
mod bad_input;
mod bounded_reads;
mod browser;
mod browser_agreements;
mod browser_case_loop;
mod browser_cogov;
mod browser_gridworker;
mod browser_import;
mod browser_inbox;
mod browser_meetings;
mod browser_orders;
mod browser_registry;
mod browser_resident;
mod browser_resident_nearby;
mod case_loop;
mod case_pages;
mod cli;
mod cogov_pages;
mod crash;
mod demo_cases;
mod duties;
mod faults;
mod gridworker_pages;
mod headers;
mod inbox_pages;
mod list_reads;
mod log_scrub;
mod meetings;
mod open311;
mod open311_caching;
mod open311_clients;
mod openapi;
mod orders_taken;
mod registry_edits;
mod registry_export;
mod registry_import;
mod registry_pages;
mod resident_nearby_orders;
mod resident_pages;
mod rules_cli;
mod sign_in_attacks;
mod staff_sign_in;
mod territory_api;
mod territory_pages;
