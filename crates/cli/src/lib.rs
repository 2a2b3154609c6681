//! The `gongzhi` binary's library: configuration, the demo city and the commands.

pub mod demo;
