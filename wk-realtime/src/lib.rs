//! Realtime transports for WandererKills: the Phoenix Channels WebSocket and the SSE streams.
//!
//! [`phoenix::machine`] is the IO-free protocol core: frames and time in, frames to send and typed
//! outputs out. The connection driver, subscriptions, de-duplication and gap recovery build on it.

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod phoenix;
