//! A four-namespace TTL cache for WandererKills data, on quick_cache.
//!
//! The WandererKills server keeps four caches, each with its own TTL: `killmails` (5 min), `systems`
//! (1 h), `esi_data` (24 h) and `temp_data` (5 min). [`Cache`] gives a client the same four, typed:
//!
//! - [`Cache::killmails`]: [`Killmail`](wk_types::Killmail) by [`KillmailId`](wk_types::KillmailId);
//! - [`Cache::systems`]: [`KillList`](wk_types::http::KillList) by [`SystemId`](wk_types::SystemId);
//! - [`Cache::esi_data`] and [`Cache::temp_data`]: [`serde_json::Value`] by `String`.
//!
//! Each is a [`Namespace`] with `get`, `insert`, `remove`, `clear` and an async
//! [`get_or_insert_with`](Namespace::get_or_insert_with) that coalesces concurrent misses into one load.
//! A hit costs one quick_cache lookup, one clock read (the CPU's time-stamp counter, see
//! [`SystemClock`]), one comparison and one relaxed counter add; an expired entry is never returned.
//! Counters are in [`Cache::stats`], and [`Builder::on_event`] takes a metrics hook. Time comes from
//! a [`Clock`], so tests drive expiry with a [`ManualClock`] instead of sleeping. Built inside a
//! tokio runtime, the cache also sweeps expired entries in the background (see [`Cache`]).
//!
//! ```
//! use std::time::Duration;
//! use wk_cache::{Cache, Config, ManualClock};
//! use wk_types::{Killmail, KillmailId};
//!
//! let clock = ManualClock::new();
//! let cache = Cache::builder().config(Config::default()).clock(clock.clone()).build();
//!
//! let id = KillmailId::new(131_588_301);
//! cache.killmails().insert(id, Killmail::default());
//! assert!(cache.killmails().get(&id).is_some());
//!
//! clock.advance(Duration::from_secs(5 * 60)); // the killmails TTL
//! assert!(cache.killmails().get(&id).is_none());
//! assert_eq!(cache.stats().killmails.expirations, 1);
//! ```
//!
//! Read-through for an HTTP client goes through [`Namespace::load`] with a per-request [`Lookup`]
//! (`ReadThrough`, `Refresh` or `Bypass`).

#![forbid(unsafe_code)]

mod cache;
mod clock;
mod config;
mod namespace;
mod stats;
mod weigh;

pub use cache::{Builder, Cache};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Capacity, Config, NamespaceConfig};
pub use namespace::{Lookup, Namespace};
pub use stats::{Event, EventKind, NamespaceKind, NamespaceStats, Stats};
pub use weigh::Weigh;
