//! A bounded set of recently seen killmail ids.

use std::collections::{HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

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
///
/// The window grows as ids arrive (nothing is reserved up front, so an idle connection costs a few
/// bytes), and ids are hashed with a multiply-and-fold hasher instead of SipHash: they come from the
/// server, and the window is bounded, so flooding it costs nothing but the window itself.
#[derive(Clone, Debug)]
pub struct Dedup {
    seen: HashSet<KillmailId, BuildHasherDefault<IdHasher>>,
    order: VecDeque<KillmailId>,
    capacity: usize,
}

impl Dedup {
    /// A window of `capacity` ids (at least 1).
    #[must_use]
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: HashSet::default(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
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

/// Hashes integer ids: one multiplication by a large odd constant, folded so the high bits (which
/// hashbrown uses for its control bytes) and the low bits (its bucket index) both depend on every
/// input bit.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IdHasher(u64);

impl IdHasher {
    #[inline]
    fn mix(&mut self, v: u64) {
        let m = u128::from(self.0.rotate_left(5) ^ v) * 0x9E37_79B9_7F4A_7C15_u128;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }
}

impl Hasher for IdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.mix(v);
    }

    #[inline]
    fn write_i64(&mut self, v: i64) {
        self.mix(v as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_first_and_stays_bounded() {
        let mut d = Dedup::new(1_000);
        for i in 0..5_000 {
            assert!(d.insert(KillmailId::new(i)));
        }
        assert_eq!(d.len(), 1_000);
        assert!(!d.contains(KillmailId::new(3_999)));
        assert!(d.contains(KillmailId::new(4_000)));
        assert!(!d.insert(KillmailId::new(4_999)));
        assert!(d.insert(KillmailId::new(0)));
    }

    #[test]
    fn hasher_spreads_consecutive_ids() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<IdHasher>::default();
        let a = build.hash_one(KillmailId::new(131_588_301));
        let b = build.hash_one(KillmailId::new(131_588_302));
        assert_ne!(a >> 57, b >> 57);
        assert_ne!(a & 0xff, b & 0xff);
    }
}
