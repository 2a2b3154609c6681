//! The `gongzhi` binary's library: configuration, the demo city, commands and benchmarks.

pub mod bench;
pub mod bench_import;
pub mod client;
pub mod commands;
pub mod config;
pub mod demo;
pub mod demo_cases;
pub mod demo_registry;
pub mod import;
pub mod rules;
