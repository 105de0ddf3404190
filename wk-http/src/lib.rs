//! A pooled, retrying HTTP client for every WandererKills endpoint.
//!
//! [`Client`] is cheap to clone and `Send + Sync`; every clone shares one keep-alive connection pool
//! (hyper-util, HTTP/1.1 and h2 via ALPN, rustls by default). Under it sits a tower stack: a
//! concurrency limit, [`wk_retry`]'s retries (jittered backoff, `Retry-After`, a budget), a
//! per-attempt timeout chosen per endpoint, and whole-body collection, so a connection that breaks
//! mid-response is retried like any other transport failure.
//!
//! | Seed guide | This crate |
//! |---|---|
//! | `get_system_kills(system, since_hours:, limit:)` | `client.system_kills(system).since_hours(h).limit(n).send()` |
//! | `get_systems_kills(systems, …)` | `client.systems_kills(systems).send()` |
//! | `get_killmail(id)` | `client.killmail(id)` |
//! | `create_subscription(…)` | `client.create_subscription(&CreateSubscription::new(…))` |
//!
//! Errors follow the phase that failed ([`Error::Build`], [`Error::Timeout`], [`Error::Transport`],
//! [`Error::Status`], [`Error::Decode`]); the server's error body, in whichever of its five shapes,
//! is parsed into [`wk_types::ErrorBody`]. Ask [`Error::is_retryable`] and [`Error::retry_after`]
//! rather than matching on causes.
//!
//! ```no_run
//! # async fn run() -> Result<(), wk_http::Error> {
//! use wk_types::{KillmailId, SystemId};
//!
//! let client = wk_http::Client::new("http://127.0.0.1:4004")?;
//! let kills = client.system_kills(SystemId::new(30000142)).limit(10).await?;
//! for reference in &kills.kills {
//!     if let Some(full) = client.killmail(reference.killmail_id).await?.into_killmail() {
//!         println!("{} in {:?}", full.killmail_id, full.system_id);
//!     }
//! }
//! match client.killmail(KillmailId::new(0)).await {
//!     Err(wk_http::Error::Build(e)) => println!("refused locally: {:?}", e.validation()),
//!     other => println!("{other:?}"),
//! }
//! # Ok(()) }
//! ```
//!
//! ## Features
//!
//! | Name | Description | Default |
//! |---|---|---|
//! | `rustls` | HTTPS with rustls (ring provider, webpki roots) | yes |
//! | `native-tls` | HTTPS with the platform TLS library instead (used only when `rustls` is off) | no |
//! | `cache` | read-through [`wk_cache`] TTL cache for killmails by id and cached system kills | no |

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod endpoints;
mod error;
mod request;
mod stream;
mod transport;

pub use client::{Client, ClientBuilder};
pub use endpoints::{CachedKills, KillmailRequest, SystemKills, SystemsKills};
pub use error::{
    BuildError, DecodeError, Error, Result, StatusError, TimeoutError, TransportError,
};
pub use request::{HEALTH_TIMEOUT, LOCAL_TIMEOUT, UPSTREAM_TIMEOUT};
pub use stream::Streaming;

/// The boxed error type that flows through the tower stack.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
