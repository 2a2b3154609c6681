//! The case loop in storage.

pub mod attachment;
