//! A bounded set of recently seen killmail ids.

use std::collections::{HashSet, VecDeque};

use wk_types::KillmailId;

/// Remembers the last `capacity` distinct ids; the oldest is forgotten first.
///
/// The real server pushes each live kill up to four times (PROTOCOL.md §7.8); live kills are at most
/// an hour old at ingest, so a window of tens of thousands of ids is plenty.
///
/// ```
/// use wk_realtime::Dedup;
/// use wk_types::KillmailId;
/// let mut d = Dedup::new(2);
/// assert!(d.insert(KillmailId::new(1)));
/// assert!(!d.insert(KillmailId::new(1)));
/// d.insert(KillmailId::new(2));
/// d.insert(KillmailId::new(3)); // forgets 1
/// assert!(d.insert(KillmailId::new(1)));
/// ```
#[derive(Clone, Debug)]
pub struct Dedup {
    seen: HashSet<KillmailId>,
    order: VecDeque<KillmailId>,
    capacity: usize,
}

impl Dedup {
    /// A window of `capacity` ids (at least 1).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            seen: HashSet::with_capacity(capacity.min(1 << 16)),
            order: VecDeque::with_capacity(capacity.min(1 << 16)),
            capacity,
        }
    }

    /// Records `id`; `true` when it was not in the window (deliver it), `false` for a duplicate.
    pub fn insert(&mut self, id: KillmailId) -> bool {
        if !self.seen.insert(id) {
            return false;
        }
        if self.order.len() == self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        self.order.push_back(id);
        true
    }

    /// Whether `id` is in the window.
    #[must_use]
    pub fn contains(&self, id: KillmailId) -> bool {
        self.seen.contains(&id)
    }

    /// How many ids are remembered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether nothing is remembered.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}
