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
//! - after a reconnect, **gap recovery** asks a [`Backfill`](wk_types::Backfill) (by default
//!   `/kills/cached` through wk-http, the `http` feature) for subscribed systems and delivers what
//!   was missed, oldest first, marked [`Origin::Recovered`]. Character-only subscriptions cannot be recovered:
//!   the server has no per-character endpoint;
//! - a slow consumer never blocks the socket: its bounded queue overflows into
//!   [`KillEvent::Lagged`].
//!
//! Underneath is an IO-free protocol core (frame machine and session, private): it takes events
//! and `now` in and gives frames, deadlines and deliveries out; the tasks only do IO.
//!
//! Connection failures are [`Error::Connect`] with a [`ConnectError`] that names its
//! [`ConnectPhase`]; a refusal no retry can fix (a `4xx` other than `408`/`429`, a rejected
//! certificate) ends the streams with that error instead of retrying forever.
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
//! | `http` | gap recovery through a `wk_http::Client` by default, and the builders' `http_client` | yes |

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod dedup;
#[cfg(any(feature = "ws", feature = "sse"))]
mod delivery;
mod error;
mod event;
mod filter;
#[cfg(any(feature = "sse", all(feature = "ws", feature = "http")))]
mod http_client;
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

// Hidden: every transport de-duplicates on its own; the window is public only for tools that
// merge several feeds (the `wk` CLI's tail), and may change shape.
#[doc(hidden)]
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
