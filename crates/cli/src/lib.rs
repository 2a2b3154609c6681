//! The `gongzhi` binary's library: configuration, commands and benchmarks (the demo city is the
//! `gongzhi-demo` crate).

pub mod bench;
pub mod bench_audit;
pub mod bench_import;
pub mod bench_reads;
pub mod client;
pub mod commands;
pub mod config;
pub mod context;
pub mod import;
pub mod rules;
