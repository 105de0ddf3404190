//! The events every transport delivers: WebSocket and SSE yield the same [`KillEvent`].

use std::sync::Arc;

use wk_types::Killmail;
use wk_types::phoenix::KillCountUpdate;

/// Where a killmail came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Origin {
    /// Pushed live (canonical shape).
    Live,
    /// History the server sent after a join (stored shape).
    Preload,
    /// Fetched by the SDK's gap recovery after a reconnect (stored shape).
    Recovered,
    /// History from an SSE `batch` event (stored shape).
    History,
}

/// One de-duplicated killmail.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Kill {
    /// The killmail, shared between every subscription it is routed to.
    pub killmail: Arc<Killmail>,
    /// Where it came from.
    pub origin: Origin,
}

impl Kill {
    /// A kill from `origin`.
    #[must_use]
    pub fn new(killmail: Arc<Killmail>, origin: Origin) -> Self {
        Self { killmail, origin }
    }
}

/// Progress of history loading (enhanced SSE batches, or the designed WebSocket preload events).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Batch `batch` of `total` delivered.
    Batch {
        /// 1-based batch number.
        batch: i64,
        /// How many batches the history has.
        total: i64,
    },
    /// History is complete; live kills follow.
    Complete {
        /// Kills in the history.
        total: i64,
    },
}

/// An event on a subscription's stream.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum KillEvent {
    /// A killmail, delivered once however often the server sent it.
    Kill(Kill),
    /// A kill-count update for a subscribed system (never sent by the real server today).
    KillCount(KillCountUpdate),
    /// History-loading progress.
    Progress(Progress),
    /// The consumer fell behind: this many events were dropped from its bounded queue.
    Lagged(u64),
    /// An event this SDK does not model, passed through.
    Other {
        /// The event name.
        event: String,
        /// Its payload.
        payload: serde_json::Value,
    },
}

impl KillEvent {
    /// The killmail, for [`KillEvent::Kill`].
    #[must_use]
    pub fn killmail(&self) -> Option<&Killmail> {
        match self {
            Self::Kill(k) => Some(&k.killmail),
            _ => None,
        }
    }
}
