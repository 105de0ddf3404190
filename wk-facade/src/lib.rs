//! The Rust SDK for [WandererKills](https://github.com/wanderer-industries/wanderer-kills), the
//! service that streams EVE Online killmails.
//!
//! This crate only re-exports the SDK's layers behind features and adds one entry point,
//! [`Client`]. Every layer is written against the server as it really behaves, defects included
//! (duplicate pushes, channels that crash on bad input, `since_hours` ignored, …), and also works
//! against the server as designed.
//!
//! | Module | Crate | What it gives you |
//! |---|---|---|
//! | [`types`] | wk-types | the wire model: killmails in all three shapes, ids, envelopes, errors, validators |
//! | [`http`] | wk-http | a pooled, retrying client with a typed method for every endpoint |
//! | [`ws`] | wk-realtime | the Phoenix Channels client: subscriptions, de-duplication, rejoin, gap recovery |
//! | [`sse`] | wk-realtime | the basic and enhanced SSE clients, filtering and de-duplicating on the client |
//! | [`hub`] | wk-realtime | an in-process PubSub hub: `system:<id>`, `character:<id>` and `all` topics |
//! | [`webhook`] | wk-realtime | a tower `Service` receiving the server's webhook POSTs as a stream |
//! | [`cache`] | wk-cache | the four-namespace TTL cache, and read-through in the HTTP client |
//! | [`retry`] | wk-retry | tower retry middleware (backoff with jitter, `Retry-After`, budgets) |
//! | [`testkit`] | wk-testkit | a protocol-faithful fake server for your tests |
//!
//! # Features
//!
//! | Name | Description | Default |
//! |---|---|---|
//! | `http` | the HTTP client and the unified [`Client`] | yes |
//! | `rustls` | HTTPS and WSS with rustls (ring provider, webpki roots) | yes |
//! | `native-tls` | HTTPS with the platform TLS library instead, for `http` without `rustls`, `ws` or `sse` (those speak rustls) | no |
//! | `ws` | the Phoenix Channels WebSocket client | no |
//! | `sse` | the basic and enhanced Server-Sent Events clients | no |
//! | `hub` | the in-process PubSub hub | no |
//! | `webhook` | the webhook receiver | no |
//! | `cache` | the TTL cache and read-through caching in the HTTP client | no |
//! | `retry` | the tower retry middleware on its own | no |
//! | `testkit` | the fake WandererKills server for your tests | no |
//! | `full` | everything | no |

#![cfg_attr(feature = "ws", doc = include_str!("docs/quick_start.md"))]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "http")]
mod client;
mod error;

#[cfg(feature = "http")]
pub use client::{Client, ClientBuilder};
pub use error::Error;

/// The wire model (wk-types).
pub use wk_types as types;
pub use wk_types::{
    CharacterId, Killmail, KillmailId, KillmailRef, KillmailShape, SystemId, USER_AGENT,
};

/// The HTTP client (wk-http).
#[cfg(feature = "http")]
pub use wk_http as http;

/// The WebSocket client (wk-realtime, `ws` feature).
#[cfg(feature = "ws")]
pub use wk_realtime::ws;

/// The SSE clients (wk-realtime, `sse` feature).
#[cfg(feature = "sse")]
pub use wk_realtime::sse;

/// The in-process PubSub hub (wk-realtime, `hub` feature).
#[cfg(feature = "hub")]
pub use wk_realtime::hub;

/// The webhook receiver (wk-realtime, `webhook` feature).
#[cfg(feature = "webhook")]
pub use wk_realtime::webhook;

/// The realtime layer as a whole (wk-realtime): its [`Error`](wk_realtime::Error), the
/// connection errors by phase ([`ConnectError`](wk_realtime::ConnectError),
/// [`ConnectPhase`](wk_realtime::ConnectPhase)) and every transport module.
#[cfg(any(feature = "ws", feature = "sse", feature = "hub", feature = "webhook"))]
pub use wk_realtime as realtime;

/// What every realtime transport yields, whichever it is.
#[cfg(any(feature = "ws", feature = "sse", feature = "hub", feature = "webhook"))]
pub use wk_realtime::{Filter, Kill, KillEvent, Origin, Progress};

/// The four-namespace TTL cache (wk-cache).
#[cfg(feature = "cache")]
pub use wk_cache as cache;

/// The tower retry middleware (wk-retry).
#[cfg(feature = "retry")]
pub use wk_retry as retry;

/// The fake WandererKills server for tests (wk-testkit).
#[cfg(feature = "testkit")]
pub use wk_testkit as testkit;

/// The README's code blocks, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
