//! The four-namespace TTL cache (killmails, systems, esi_data, temp_data) for WandererKills data.
//!
//! This crate is a skeleton: the cache lands with its own issue.

#![forbid(unsafe_code)]
