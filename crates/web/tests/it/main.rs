//! The web crate's integration tests, one binary for them all: attachments, server-sent events
//! and the rules pages, on SQLite and PostgreSQL.

mod attachments;
mod events;
mod rules;
