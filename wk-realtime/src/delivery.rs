//! The one path every transport's kills take once they are off the wire: the repeat filter, the
//! de-duplication window, the merge of history and recovered kills, the filters of the local
//! subscriptions, and each subscription's bounded queue with [`KillEvent::Lagged`].
//!
//! A transport reads frames or events, asks [`Delivery::repeat`] before it decodes a push, decodes
//! it, and hands the kills to [`Delivery::kill`] or [`Delivery::kills`]. Nothing here does IO or
//! waits: a full queue counts as lag.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;
use wk_types::{Killmail, SystemId, Timestamp};

use crate::dedup::Dedup;
use crate::error::{Error, Result};
use crate::event::{Kill, KillEvent, Origin};
use crate::filter::Filter;
use crate::queue::{Offered, filling, offer};
use crate::repeat::{Fingerprint, Repeats};

/// A local subscription's id.
pub(crate) type SubId = u64;

/// What delivery counts, readable by the handles at any time.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Distinct killmails delivered (each once, whatever its origin).
    pub(crate) kills: AtomicU64,
    /// Killmails dropped as duplicates, repeats included.
    pub(crate) duplicates: AtomicU64,
    /// Pushes dropped unread as copies of a recent one.
    pub(crate) repeats: AtomicU64,
    /// Killmails delivered by gap recovery.
    pub(crate) recovered: AtomicU64,
    /// Events dropped because a queue was full.
    pub(crate) lagged: AtomicU64,
}

impl Counters {
    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The value of one counter.
    #[cfg_attr(not(feature = "ws"), allow(dead_code))] // SSE streams have one subscription.
    pub(crate) fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

/// A subscription's end of its queue.
#[derive(Debug)]
pub(crate) struct Sink {
    pub(crate) filter: Filter,
    pub(crate) events: mpsc::Sender<Result<KillEvent>>,
    pub(crate) lagged: Arc<AtomicU64>,
}

impl Sink {
    /// A sink for `filter` on `events`, whose stream reports `lagged`.
    pub(crate) fn new(
        filter: Filter,
        events: mpsc::Sender<Result<KillEvent>>,
        lagged: Arc<AtomicU64>,
    ) -> Self {
        Self {
            filter,
            events,
            lagged,
        }
    }
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct Delivery {
    dedup: Dedup,
    repeats: Repeats,
    sinks: HashMap<SubId, Sink>,
    counters: Arc<Counters>,
    last_live: Option<Timestamp>,
    give_way: bool,
}

impl Delivery {
    /// Delivery with a de-duplication window of `dedup_capacity` ids, counting into `counters`.
    pub(crate) fn new(dedup_capacity: usize, counters: Arc<Counters>) -> Self {
        Self {
            dedup: Dedup::new(dedup_capacity),
            repeats: Repeats::default(),
            sinks: HashMap::new(),
            counters,
            last_live: None,
            give_way: false,
        }
    }

    /// Adds a subscription.
    pub(crate) fn add(&mut self, id: SubId, sink: Sink) {
        self.sinks.insert(id, sink);
    }

    /// Removes a subscription, returning its filter.
    #[cfg_attr(not(feature = "ws"), allow(dead_code))] // SSE streams have one subscription.
    pub(crate) fn remove(&mut self, id: SubId) -> Option<Filter> {
        self.sinks.remove(&id).map(|s| s.filter)
    }

    /// A subscription's filter, to change in place.
    #[cfg_attr(not(feature = "ws"), allow(dead_code))] // SSE streams have one subscription.
    pub(crate) fn filter_mut(&mut self, id: SubId) -> Option<&mut Filter> {
        self.sinks.get_mut(&id).map(|s| &mut s.filter)
    }

    /// A subscription's filter.
    #[cfg_attr(not(feature = "ws"), allow(dead_code))] // SSE streams have one subscription.
    pub(crate) fn filter(&self, id: SubId) -> Option<&Filter> {
        self.sinks.get(&id).map(|s| &s.filter)
    }

    /// Whether the push with `fingerprint` repeats one that decoded recently: then it is dropped
    /// unread, and its kills count as duplicates.
    pub(crate) fn repeat(&mut self, fingerprint: Option<Fingerprint>) -> bool {
        let Some(kills) = fingerprint.and_then(|f| self.repeats.seen(f)) else {
            return false;
        };
        Counters::add(&self.counters.repeats, 1);
        Counters::add(&self.counters.duplicates, kills as u64);
        true
    }

    /// Remembers a push that decoded, carrying `kills` killmails.
    pub(crate) fn remember(&mut self, fingerprint: Option<Fingerprint>, kills: usize) {
        if let Some(f) = fingerprint {
            self.repeats.remember(f, kills);
        }
    }

    /// A new connection: its copies are its own.
    pub(crate) fn new_connection(&mut self) {
        self.repeats.clear();
    }

    /// The newest `kill_time` of a live kill delivered, the anchor of gap recovery.
    pub(crate) fn last_live(&self) -> Option<Timestamp> {
        self.last_live
    }

    /// Whether a queue filled since the last [`take_give_way`](Self::take_give_way).
    #[cfg_attr(not(feature = "ws"), allow(dead_code))] // Only the ws driver reads in bursts.
    pub(crate) fn gives_way(&self) -> bool {
        self.give_way
    }

    /// Whether a queue filled since the last call: the transport should give way to consumers.
    pub(crate) fn take_give_way(&mut self) -> bool {
        std::mem::take(&mut self.give_way)
    }

    /// Delivers one killmail, once: to every subscription whose filter matches it (`system` is the
    /// push's system, for kills that lack their own).
    pub(crate) fn kill(&mut self, km: Killmail, system: Option<SystemId>, origin: Origin) {
        if !self.dedup.insert(km.killmail_id) {
            Counters::add(&self.counters.duplicates, 1);
            return;
        }
        Counters::add(&self.counters.kills, 1);
        if origin == Origin::Recovered {
            Counters::add(&self.counters.recovered, 1);
        }
        if origin == Origin::Live
            && let Some(t) = km.kill_time
        {
            self.last_live = Some(self.last_live.map_or(t, |l| l.max(t)));
        }
        let km = Arc::new(km);
        let event = KillEvent::Kill(Kill::new(km.clone(), origin));
        self.route(|f| f.matches(&km, system), &event);
    }

    /// Delivers several killmails of one push, history or recovery: oldest first, whatever order
    /// the server listed them in (it lists newest first).
    pub(crate) fn kills(
        &mut self,
        mut kills: Vec<Killmail>,
        system: Option<SystemId>,
        origin: Origin,
    ) {
        if origin != Origin::Live {
            kills.sort_by_key(|k| k.kill_time);
        }
        for km in kills {
            self.kill(km, system, origin);
        }
    }

    /// Offers `event` to every subscription `wants`.
    pub(crate) fn route(&mut self, wants: impl Fn(&Filter) -> bool, event: &KillEvent) {
        for sink in self.sinks.values_mut() {
            if !wants(&sink.filter) {
                continue;
            }
            if offer(&sink.events, &sink.lagged, Ok(event.clone())) == Offered::Lagged {
                Counters::add(&self.counters.lagged, 1);
            }
            self.give_way |= filling(&sink.events);
        }
    }

    /// Gives every subscription `error` as its last item and lets go of them, so each stream
    /// ends after it. A full queue gets it as soon as the consumer makes room (never dropped as
    /// lag), from a task that lives no longer than the consumer's stream.
    pub(crate) fn end(&mut self, error: &Error) {
        for (_, sink) in self.sinks.drain() {
            match sink.events.try_send(Err(error.clone())) {
                Err(mpsc::error::TrySendError::Full(item)) => {
                    tokio::spawn(async move {
                        let _ = sink.events.send(item).await;
                    });
                }
                Ok(()) | Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
    }

    /// Offers an error to every subscription; the streams go on.
    pub(crate) fn error(&mut self, error: &Error) {
        tracing::warn!(%error, "a server message was dropped");
        for sink in self.sinks.values_mut() {
            let _ = offer(&sink.events, &sink.lagged, Err(error.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wk_types::KillmailId;

    fn km(id: i64, system: i64, minute: i64) -> Killmail {
        let mut km: Killmail = serde_json::from_value(serde_json::json!({
            "killmail_id": id, "system_id": system,
            "kill_time": format!("2026-12-04T12:{minute:02}:00Z"),
        }))
        .unwrap();
        km.killmail_id = KillmailId::new(id);
        km
    }

    fn sub(
        d: &mut Delivery,
        id: SubId,
        filter: Filter,
        cap: usize,
    ) -> mpsc::Receiver<Result<KillEvent>> {
        let (tx, rx) = mpsc::channel(cap);
        d.add(id, Sink::new(filter, tx, Arc::new(AtomicU64::new(0))));
        rx
    }

    fn ids(rx: &mut mpsc::Receiver<Result<KillEvent>>) -> Vec<i64> {
        let mut out = Vec::new();
        while let Ok(item) = rx.try_recv() {
            if let Ok(KillEvent::Kill(k)) = item {
                out.push(k.killmail.killmail_id.get());
            }
        }
        out
    }

    const JITA: SystemId = SystemId::new(30000142);
    const TAMA: SystemId = SystemId::new(30002813);

    #[test]
    fn each_kill_once_to_every_matching_subscription() {
        let counters = Arc::new(Counters::default());
        let mut d = Delivery::new(16, counters.clone());
        let mut jita = sub(&mut d, 1, Filter::new().systems([JITA]), 8);
        let mut both = sub(&mut d, 2, Filter::new().systems([JITA, TAMA]), 8);
        for _ in 0..3 {
            d.kill(km(1, JITA.get(), 1), None, Origin::Live);
        }
        d.kill(km(2, TAMA.get(), 2), None, Origin::Live);
        assert_eq!(ids(&mut jita), [1]);
        assert_eq!(ids(&mut both), [1, 2]);
        assert_eq!(Counters::get(&counters.kills), 2);
        assert_eq!(Counters::get(&counters.duplicates), 2);
        assert_eq!(d.last_live().unwrap().to_string(), "2026-12-04T12:02:00Z");
    }

    #[test]
    fn history_and_recovery_arrive_oldest_first() {
        let mut d = Delivery::new(16, Arc::default());
        let mut rx = sub(&mut d, 1, Filter::new().systems([JITA]), 8);
        let newest_first = vec![
            km(3, JITA.get(), 30),
            km(2, JITA.get(), 20),
            km(1, JITA.get(), 10),
        ];
        d.kills(newest_first.clone(), Some(JITA), Origin::Preload);
        assert_eq!(ids(&mut rx), [1, 2, 3]);
        let live: Vec<_> = newest_first
            .into_iter()
            .map(|mut k| {
                k.killmail_id = KillmailId::new(k.killmail_id.get() + 10);
                k
            })
            .collect();
        d.kills(live, Some(JITA), Origin::Live);
        assert_eq!(
            ids(&mut rx),
            [13, 12, 11],
            "live kills keep the server's order"
        );
        assert!(d.last_live().is_some());
    }

    #[test]
    fn repeats_are_dropped_unread_and_counted() {
        let counters = Arc::new(Counters::default());
        let mut d = Delivery::new(16, counters.clone());
        let f = Some(Fingerprint::of_data("{\"killmail_id\":1}"));
        assert!(!d.repeat(f));
        d.remember(f, 1);
        assert!(d.repeat(f));
        assert!(!d.repeat(None));
        assert_eq!(Counters::get(&counters.repeats), 1);
        assert_eq!(Counters::get(&counters.duplicates), 1);
        d.new_connection();
        assert!(!d.repeat(f));
    }

    #[test]
    fn a_full_queue_lags_and_asks_to_give_way() {
        let counters = Arc::new(Counters::default());
        let mut d = Delivery::new(16, counters.clone());
        let mut rx = sub(&mut d, 1, Filter::everything(), 2);
        for i in 1..=5 {
            d.kill(km(i, JITA.get(), 1), None, Origin::Live);
        }
        assert!(d.take_give_way());
        assert!(!d.take_give_way());
        assert_eq!(ids(&mut rx), [1, 2]);
        assert_eq!(Counters::get(&counters.lagged), 3);
        assert!(d.remove(1).is_some());
        assert!(d.filter(1).is_none());
    }
}
