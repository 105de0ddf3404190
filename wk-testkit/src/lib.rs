//! A protocol-faithful fake WandererKills server for tests.
//!
//! This crate is a skeleton: the server lands with its own issue.

#![forbid(unsafe_code)]
