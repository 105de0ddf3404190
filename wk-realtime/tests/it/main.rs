//! wk-realtime against wk-testkit over real sockets, in every server profile.

#![cfg(feature = "ws")]

mod bad_input;
#[cfg(feature = "hub")]
mod hub;
#[cfg(feature = "sse")]
mod phases;
mod secrets;
#[cfg(feature = "sse")]
mod sse_basic;
#[cfg(feature = "sse")]
mod sse_enhanced;
#[cfg(feature = "sse")]
mod sse_resilience;
#[cfg(feature = "sse")]
mod sse_support;
mod support;
#[cfg(feature = "webhook")]
mod webhook;
mod ws_basic;
mod ws_join_refs;
mod ws_limits;
mod ws_resilience;
