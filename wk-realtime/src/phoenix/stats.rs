//! Counters a connection keeps, readable at any time through [`Client::stats`](super::Client::stats).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use wk_types::phoenix::JoinReply;

use crate::delivery::Counters;

/// A snapshot of a connection's counters since the client was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Text frames received.
    pub frames: u64,
    /// Distinct killmails delivered (each once, whatever its origin).
    pub kills: u64,
    /// Killmails dropped as duplicates (the real server pushes each live kill up to four times).
    pub duplicates: u64,
    /// `killmail_update` frames dropped unread as copies of a recent one (the real server's copies of
    /// a push differ only in their `timestamp`); their kills are counted in `duplicates` too.
    pub repeats: u64,
    /// Frames dropped because they belonged to an older join (late preload after a crash).
    pub stale_frames: u64,
    /// Socket connections opened (1 + reconnects).
    pub connections: u64,
    /// Channel joins sent (1 + rejoins).
    pub joins: u64,
    /// Killmails delivered by gap recovery.
    pub recovered: u64,
    /// Events dropped because a subscription's queue was full.
    pub lagged: u64,
}

impl Stats {
    /// Reconnects so far.
    #[must_use]
    pub fn reconnects(&self) -> u64 {
        self.connections.saturating_sub(1)
    }
}

/// The live counters and the last join reply, shared by the task and the handles.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    pub(crate) frames: AtomicU64,
    pub(crate) stale_frames: AtomicU64,
    pub(crate) connections: AtomicU64,
    pub(crate) joins: AtomicU64,
    /// What delivery counts.
    pub(crate) delivery: Arc<Counters>,
    pub(crate) join_reply: Mutex<Option<JoinReply>>,
    /// The refusal that ended the session, for calls made after it.
    pub(crate) ended: Mutex<Option<crate::error::Error>>,
}

impl Shared {
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The error a call gets once the connection task is gone: the refusal that ended it, or
    /// [`Error::Closed`](crate::error::Error::Closed).
    pub(crate) fn gone(&self) -> crate::error::Error {
        self.ended
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .unwrap_or(crate::error::Error::Closed)
    }

    pub(crate) fn snapshot(&self) -> Stats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let d = &self.delivery;
        Stats {
            frames: get(&self.frames),
            kills: Counters::get(&d.kills),
            duplicates: Counters::get(&d.duplicates),
            repeats: Counters::get(&d.repeats),
            stale_frames: get(&self.stale_frames),
            connections: get(&self.connections),
            joins: get(&self.joins),
            recovered: Counters::get(&d.recovered),
            lagged: Counters::get(&d.lagged),
        }
    }
}
