//! The case loop over HTTP.

pub mod attachment;
