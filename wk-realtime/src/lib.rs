//! Realtime transports for WandererKills: the Phoenix Channels WebSocket and the SSE streams.
//!
//! This crate is a skeleton: the transports land with their own issues. The payloads they will
//! decode already live in [`wk_types`].

#![forbid(unsafe_code)]
