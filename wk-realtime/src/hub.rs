//! An in-process PubSub hub: the Rust counterpart of the server's same-cluster topics
//! (PROTOCOL.md §11), fed by any transport.
//!
//! Publish [`KillEvent`]s (or [`Hub::attach`] a WebSocket subscription, an SSE stream or the
//! webhook receiver) and each kill, de-duplicated by id, is fanned out to the subscribers of
//! [`Topic::All`], [`Topic::System`] of its system and [`Topic::Character`] of its victim and every
//! attacker. Kill-count updates go to their system's topic. Each subscriber is a bounded
//! [`futures_util::Stream`]; one that falls behind gets [`KillEvent::Lagged`] instead of slowing
//! the others. Subscribers are indexed by topic, so a kill costs one map lookup per topic it
//! touches, however many subscribers other topics have.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use futures_util::StreamExt;
//! use wk_realtime::hub::{Hub, Topic};
//! use wk_realtime::{Kill, KillEvent, Origin};
//! use wk_types::{Killmail, KillmailId, SystemId};
//!
//! let hub = Hub::new();
//! let mut jita = hub.subscribe(Topic::System(SystemId::new(30000142)));
//! let mut km = Killmail::default();
//! km.killmail_id = KillmailId::new(1);
//! km.system_id = Some(SystemId::new(30000142));
//! let event = KillEvent::Kill(Kill::new(km.into(), Origin::Live));
//! hub.publish(&event);
//! hub.publish(&event); // a duplicate: dropped
//! assert_eq!(jita.next().await, Some(event));
//! # }
//! ```

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use futures_util::{Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use wk_types::{CharacterId, SystemId};

use crate::dedup::Dedup;
use crate::event::KillEvent;

/// What a hub subscriber listens to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Topic {
    /// `system:<id>`: kills in the system, and its kill-count updates.
    System(SystemId),
    /// `character:<id>`: kills where the character is the victim or an attacker.
    Character(CharacterId),
    /// `all`: every kill.
    All,
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::System(id) => write!(f, "system:{id}"),
            Self::Character(id) => write!(f, "character:{id}"),
            Self::All => f.write_str("all"),
        }
    }
}

/// Settings of a [`Hub`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Events buffered per subscriber before it lags (default 256).
    pub queue_capacity: usize,
    /// Killmail ids remembered for de-duplication (default 65,536).
    pub dedup_capacity: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            queue_capacity: 256,
            dedup_capacity: 65_536,
        }
    }
}

impl Config {
    /// Sets the per-subscriber queue capacity.
    #[must_use]
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n.max(1);
        self
    }

    /// Sets the dedup window.
    #[must_use]
    pub fn dedup_capacity(mut self, n: usize) -> Self {
        self.dedup_capacity = n;
        self
    }
}

struct Slot {
    id: u64,
    tx: mpsc::Sender<KillEvent>,
    lagged: Arc<AtomicU64>,
}

struct Inner {
    topics: HashMap<Topic, Vec<Slot>>,
    dedup: Dedup,
    next_id: u64,
}

struct Shared {
    inner: Mutex<Inner>,
    queue_capacity: usize,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The hub. Cheap to clone; every clone is the same hub.
#[derive(Clone)]
pub struct Hub {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("subscribers", &self.subscriber_count())
            .finish_non_exhaustive()
    }
}

impl Default for Hub {
    fn default() -> Self {
        Self::with_config(&Config::default())
    }
}

impl Hub {
    /// A hub with the default settings.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A hub with `config`.
    #[must_use]
    pub fn with_config(config: &Config) -> Self {
        Self {
            shared: Arc::new(Shared {
                inner: Mutex::new(Inner {
                    topics: HashMap::new(),
                    dedup: Dedup::new(config.dedup_capacity),
                    next_id: 0,
                }),
                queue_capacity: config.queue_capacity.max(1),
            }),
        }
    }

    /// Subscribes to `topic`. Drop the subscription to unsubscribe.
    #[must_use]
    pub fn subscribe(&self, topic: Topic) -> HubSubscription {
        let (tx, rx) = mpsc::channel(self.shared.queue_capacity);
        let lagged = Arc::new(AtomicU64::new(0));
        let mut inner = self.shared.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        inner.topics.entry(topic).or_default().push(Slot {
            id,
            tx,
            lagged: lagged.clone(),
        });
        drop(inner);
        HubSubscription {
            rx,
            lagged,
            topic,
            id,
            hub: Arc::downgrade(&self.shared),
        }
    }

    /// Publishes an event. A [`KillEvent::Kill`] whose id was already published is dropped; a new
    /// one goes to `all`, its system and each character involved (once per subscriber). A
    /// [`KillEvent::KillCount`] goes to its system. Other events are not topical and are dropped.
    /// Never waits: a full subscriber queue counts as lag.
    pub fn publish(&self, event: &KillEvent) {
        let mut inner = self.shared.lock();
        let mut topics: Vec<Topic> = Vec::new();
        match event {
            KillEvent::Kill(kill) => {
                let km = &kill.killmail;
                if !inner.dedup.insert(km.killmail_id) {
                    return;
                }
                topics.push(Topic::All);
                if let Some(system) = km.system_id {
                    topics.push(Topic::System(system));
                }
                for character in km.character_ids() {
                    let topic = Topic::Character(character);
                    if !topics.contains(&topic) {
                        topics.push(topic);
                    }
                }
            }
            KillEvent::KillCount(update) => topics.push(Topic::System(update.system_id)),
            _ => return,
        }
        for topic in topics {
            let now_empty = match inner.topics.get_mut(&topic) {
                Some(slots) => {
                    // Closed subscribers are pruned here as well as on drop.
                    slots.retain(|slot| offer(slot, event));
                    slots.is_empty()
                }
                None => false,
            };
            if now_empty {
                inner.topics.remove(&topic);
            }
        }
    }

    /// Feeds the hub from a stream (a WebSocket `ws::Subscription`, an SSE `sse::Subscription`,
    /// the webhook receiver's `WebhookStream`): a task publishes each event until the stream ends.
    /// Errors on the stream are logged and skipped. Abort the returned handle to detach early.
    pub fn attach<S>(&self, stream: S) -> JoinHandle<()>
    where
        S: Stream<Item = crate::Result<KillEvent>> + Send + 'static,
    {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut stream = std::pin::pin!(stream);
            while let Some(item) = stream.next().await {
                match item {
                    Ok(event) => hub.publish(&event),
                    Err(error) => tracing::warn!(%error, "hub feed error"),
                }
            }
        })
    }

    /// How many subscribers there are, over all topics.
    #[must_use]
    pub fn subscriber_count(&self) -> usize {
        self.shared.lock().topics.values().map(Vec::len).sum()
    }

    /// How many subscribers `topic` has.
    #[must_use]
    pub fn topic_subscribers(&self, topic: Topic) -> usize {
        self.shared.lock().topics.get(&topic).map_or(0, Vec::len)
    }
}

/// Offers an event without waiting; `false` when the subscriber is gone.
fn offer(slot: &Slot, event: &KillEvent) -> bool {
    crate::queue::offer(&slot.tx, &slot.lagged, event.clone()) != crate::queue::Offered::Closed
}

/// One subscriber's stream of [`KillEvent`]s for one [`Topic`]. Drop it to unsubscribe.
pub struct HubSubscription {
    rx: mpsc::Receiver<KillEvent>,
    lagged: Arc<AtomicU64>,
    topic: Topic,
    id: u64,
    hub: std::sync::Weak<Shared>,
}

impl std::fmt::Debug for HubSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubSubscription")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl HubSubscription {
    /// The topic.
    #[must_use]
    pub fn topic(&self) -> Topic {
        self.topic
    }
}

impl Stream for HubSubscription {
    type Item = KillEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<KillEvent>> {
        let this = &mut *self;
        crate::queue::poll_next(&mut this.rx, &this.lagged, cx)
    }
}

impl Drop for HubSubscription {
    fn drop(&mut self) {
        let Some(shared) = self.hub.upgrade() else {
            return;
        };
        let mut inner = shared.lock();
        if let Some(slots) = inner.topics.get_mut(&self.topic) {
            if let Some(at) = slots.iter().position(|s| s.id == self.id) {
                slots.swap_remove(at);
            }
            if slots.is_empty() {
                inner.topics.remove(&self.topic);
            }
        }
    }
}
