//! wk-realtime against wk-testkit over real sockets, in both server profiles.

#![cfg(feature = "ws")]

mod support;
mod ws_basic;
mod ws_limits;
mod ws_resilience;
