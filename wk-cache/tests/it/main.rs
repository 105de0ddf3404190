//! Integration tests for wk-cache: one binary, a module per topic.

mod capacity;
mod coalescing;
mod lookup;
mod model;
mod stats;
mod sweeper;
mod ttl;

use std::time::Duration;

use wk_cache::{Cache, Config, ManualClock};
use wk_types::{Killmail, KillmailId};

/// A cache on a manual clock with no sweeper, and the clock's handle.
fn manual(config: Config) -> (Cache, ManualClock) {
    let clock = ManualClock::new();
    let cache = Cache::builder()
        .config(config.sweep_interval(None))
        .clock(clock.clone())
        .build();
    (cache, clock)
}

/// A killmail with this id and nothing else.
fn killmail(id: i64) -> Killmail {
    let mut km = Killmail::default();
    km.killmail_id = KillmailId::new(id);
    km
}

const NS: Duration = Duration::from_nanos(1);
