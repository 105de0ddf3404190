//! Server-Sent Events clients for `/api/v1/kills/stream` (basic) and
//! `/api/v1/kills/stream/enhanced` (enhanced), built for the server as it really behaves
//! (PROTOCOL.md §8, §13):
//!
//! - [`parser`] is an IO-free, linear event-stream parser with a maximum event size; it runs over a
//!   streaming request on wk-http's pooled connections ([`Client`] streams through one
//!   `wk_http::Client`, its own or the one given with `http_client`: one pool and one TLS setup
//!   with every other request);
//! - the **basic** stream honours only `system_ids` on the server, so the client applies
//!   characters and [`Filter::min_value`](crate::Filter::min_value) itself (asking the server for
//!   every kill when characters must be matched) and delivers each kill **once** although the
//!   server writes it twice;
//! - the **enhanced** stream's `batch`, `transition` and `killmail` events become
//!   [`Origin::History`](crate::Origin::History) kills, [`Progress`](crate::Progress) and live
//!   kills; its early end of stream and `503 connection_limit_reached` (§8.3.2) are retried with
//!   jittered backoff that only resets after a stable connection, never in a hot loop; a watchdog
//!   replaces a connection that stays silent for twice the heartbeat (or keep-alive) interval;
//! - reconnects honour the server's `retry:` value and `Retry-After` as a floor, and after a
//!   reconnect **gap recovery** asks the [`Backfill`](wk_types::Backfill) (by default
//!   `/kills/cached` through wk-http) for the filter's systems, as the WebSocket client does;
//! - a slow consumer never blocks the connection: its bounded queue overflows into
//!   [`KillEvent::Lagged`](crate::KillEvent::Lagged).
//!
//! ```no_run
//! # async fn run() -> Result<(), wk_realtime::Error> {
//! use futures_util::StreamExt;
//! use wk_realtime::{Filter, KillEvent, sse::Client};
//! use wk_types::{CharacterId, SystemId};
//!
//! let client = Client::new("http://127.0.0.1:4004")?;
//! let filter = Filter::new()
//!     .systems([SystemId::new(30000142)])
//!     .characters([CharacterId::new(95465499)])
//!     .min_value(1e8);
//! let mut kills = client.subscribe(filter).await?;
//! while let Some(event) = kills.next().await {
//!     if let KillEvent::Kill(kill) = event? {
//!         println!("{} ({:?})", kill.killmail.killmail_id, kill.origin);
//!     }
//! }
//! # Ok(()) }
//! ```

mod client;
mod config;
mod driver;
pub mod parser;
mod transport;

pub use client::{Client, ClientBuilder, Subscription};
pub use config::{ConnectionState, StreamKind};
