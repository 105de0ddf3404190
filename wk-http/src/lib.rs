//! HTTP client for the WandererKills `/api/v1` endpoints.
//!
//! This crate is a skeleton: the pooled hyper client lands with its own issue. The wire types it will
//! send and receive already live in [`wk_types`].

#![forbid(unsafe_code)]
