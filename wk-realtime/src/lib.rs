//! Realtime transports for WandererKills: the Phoenix Channels WebSocket (and, with their issues,
//! the SSE streams).
//!
//! The WebSocket client is built for the server as it really behaves (PROTOCOL.md §7, §13):
//!
//! - one socket and **one channel join** carry the union of every local [`ws::Subscription`]'s
//!   systems and characters (the server allows a single `killmails:lobby` join per socket); kills are
//!   routed locally to each subscription they match;
//! - ids are **validated locally** (the server crashes the channel on a bad id), and large sets are
//!   **split** into frames under the server's 128 KiB limit;
//! - each kill is delivered **once** although the server pushes it up to four times, and the copies,
//!   which differ only in their `timestamp`, are recognised and dropped before they are decoded;
//! - heartbeats every 30 s; a silent connection is replaced; reconnects use jittered backoff and
//!   **rejoin with the current** subscription set, as do channel crashes (`phx_error`);
//! - frames of an older join are dropped (late preload pushes after a crash);
//! - after a reconnect, **gap recovery** fetches `/kills/cached` for subscribed systems and delivers
//!   what was missed, marked [`Origin::Recovered`]. Character-only subscriptions cannot be recovered:
//!   the server has no per-character endpoint;
//! - a slow consumer never blocks the socket: its bounded queue overflows into
//!   [`KillEvent::Lagged`].
//!
//! [`phoenix::machine`] is the IO-free protocol core underneath.
//!
//! The SSE clients (`sse` module and feature) read both stream endpoints with a linear parser
//! (`sse::parser`) over hyper, filter and de-duplicate on the client, reconnect with backoff and
//! recover gaps the same way, and yield the same [`KillEvent`]s. The `hub` (module and feature) fans
//! kills from any transport out to `system:<id>`, `character:<id>` and `all` topics in process, and
//! the `webhook` receiver (module and feature) turns the server's webhook POSTs into a stream.
//!
//! ## Features
//!
//! | Name | Description | Default |
//! |---|---|---|
//! | `ws` | the Phoenix Channels WebSocket client | yes |
//! | `sse` | the Server-Sent Events clients (basic and enhanced streams) | no |
//! | `hub` | the in-process PubSub hub with system, character and all topics | no |
//! | `webhook` | a tower `Service` receiving webhook POSTs as a stream | no |

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod dedup;
#[cfg(any(feature = "ws", feature = "sse"))]
mod delivery;
mod error;
mod event;
mod filter;
#[cfg(feature = "hub")]
pub mod hub;
pub mod phoenix;
#[cfg(any(feature = "ws", feature = "sse", feature = "hub", feature = "webhook"))]
mod queue;
#[cfg(any(feature = "ws", feature = "sse"))]
mod recovery;
#[cfg(any(feature = "ws", feature = "sse"))]
mod repeat;
#[cfg(feature = "sse")]
pub mod sse;
#[cfg(feature = "webhook")]
pub mod webhook;

pub use dedup::Dedup;
pub use error::{ConnectError, ConnectPhase, Error, Result};
pub use event::{Kill, KillEvent, Origin, Progress};
pub use filter::Filter;

/// The WebSocket client (`ws` feature).
#[cfg(feature = "ws")]
pub mod ws {
    pub use crate::phoenix::{
        Client, ClientBuilder, Config, ConnectionState, Stats, Subscription, Update, UpdateReply,
    };
}
