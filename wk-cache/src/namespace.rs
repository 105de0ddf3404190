//! [`Namespace`]: one typed, TTL-bounded store on quick_cache, with request coalescing and counters.

use std::borrow::Borrow;
use std::cell::Cell;
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use quick_cache::sync::{Cache as QuickCache, EntryAction, EntryResult};
use quick_cache::{DefaultHashBuilder, Lifecycle, OptionsBuilder, Weighter};

use crate::clock::ClockRef;
use crate::config::{Capacity, NamespaceConfig};
use crate::stats::{Counters, EventKind, Hook, NamespaceKind, NamespaceStats};
use crate::weigh::Weigh;

/// How a read-through call treats the cache, chosen per request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Lookup {
    /// Serve a fresh cached value, else load once (coalescing concurrent callers) and cache it.
    #[default]
    ReadThrough,
    /// Always load, then cache the new value (a forced refresh).
    Refresh,
    /// Always load and leave the cache untouched.
    Bypass,
}

/// One namespace of the [`Cache`](crate::Cache): values of type `V` by key `K`, each readable for the
/// namespace's TTL after it was written.
///
/// Values are shared as `Arc<V>`, so a hit costs one reference-count increment, never a deep clone.
/// Expiry is checked on every read (an expired entry is never returned, and is removed then) and by the
/// periodic sweep. Get a namespace from [`Cache::killmails`](crate::Cache::killmails) and its siblings.
pub struct Namespace<K, V> {
    kind: NamespaceKind,
    ttl: Duration,
    capacity: Capacity,
    store: QuickCache<K, Entry<V>, EntryWeighter, DefaultHashBuilder, Listener>,
    clock: ClockRef,
    counters: Arc<Counters>,
    /// The next [`Entry::id`]; ids start at 1.
    next_id: AtomicU32,
}

impl<K, V> Namespace<K, V>
where
    K: Eq + Hash + Clone + Debug + Send + Sync + 'static,
    V: Weigh + Send + Sync + 'static,
{
    pub(crate) fn new(
        kind: NamespaceKind,
        config: NamespaceConfig,
        clock: ClockRef,
        hook: Option<Hook>,
    ) -> Self {
        let counters = Arc::new(Counters::new(kind, hook));
        let options = OptionsBuilder::new()
            .estimated_items_capacity(config.capacity.estimated_entries())
            .weight_capacity(config.capacity.limit())
            .build()
            .expect("both required options are set");
        let store = QuickCache::with_options(
            options,
            EntryWeighter,
            DefaultHashBuilder::default(),
            Listener(Arc::clone(&counters)),
        );
        Self {
            kind,
            ttl: config.ttl,
            capacity: config.capacity,
            store,
            clock,
            counters,
            next_id: AtomicU32::new(1),
        }
    }

    /// The fresh value for `key`, if any. An expired entry is removed and reads as a miss.
    ///
    /// ```
    /// use wk_cache::{Cache, Config};
    /// use wk_types::{Killmail, KillmailId};
    ///
    /// let cache = Cache::new(Config::default());
    /// let id = KillmailId::new(131_588_301);
    /// assert!(cache.killmails().get(&id).is_none());
    /// let mut km = Killmail::default();
    /// km.killmail_id = id;
    /// cache.killmails().insert(id, km);
    /// assert_eq!(cache.killmails().get(&id).unwrap().killmail_id, id);
    /// ```
    #[inline]
    pub fn get<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Debug + ?Sized,
    {
        // Reading the clock first lets the time-stamp read overlap the lookup. Any entry written
        // after this instant also expires after it, so the comparison stays sound.
        let now = self.clock.now();
        if let Some(entry) = self.store.get(key) {
            if now < entry.expires_at {
                self.counters.hits.incr();
                return Some(entry.value);
            }
            self.remove_expired(key, now);
        }
        self.counters.miss();
        None
    }

    /// Caches `value` under `key` for the namespace's TTL, replacing any earlier value.
    pub fn insert(&self, key: K, value: impl Into<Arc<V>>) {
        self.insert_with_ttl(key, value, self.ttl);
    }

    /// Caches `value` under `key` for `ttl` instead of the namespace's TTL, for example until an ESI
    /// response's `Expires` time.
    pub fn insert_with_ttl(&self, key: K, value: impl Into<Arc<V>>, ttl: Duration) {
        let entry = self.entry(value.into(), ttl);
        tracing::trace!(namespace = %self.kind, ?key, "cache insert");
        let mut request = Request::new(Some(key.clone()), entry.id);
        self.store.insert_with_lifecycle(key, entry, &mut request);
        self.counters.insert();
    }

    /// Removes `key`, returning its value if it was still fresh.
    pub fn remove<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Debug + ?Sized,
    {
        let (_, entry) = self.store.remove(key)?;
        if self.clock.now() < entry.expires_at {
            Some(entry.value)
        } else {
            tracing::trace!(namespace = %self.kind, ?key, "cache expire");
            self.counters.expire(1);
            None
        }
    }

    /// The fresh value for `key`, or the value `load` produces, which is then cached.
    ///
    /// Concurrent calls for one missing key are coalesced: one caller runs its loader while the others
    /// wait and then share its value, so 100 simultaneous misses cost one load.
    ///
    /// Loader errors are never cached. The caller whose loader failed gets its error; each waiting
    /// caller then retries in turn, the first of them running its own loader (so waiters never see
    /// another caller's error, and `E` need not be `Clone`).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use wk_cache::Cache;
    ///
    /// let cache = Cache::default();
    /// let status = cache
    ///     .esi_data()
    ///     .get_or_insert_with("status", || async {
    ///         Ok::<_, std::io::Error>(serde_json::json!({"players": 23_000}))
    ///     })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(status["players"], 23_000);
    /// assert!(cache.esi_data().get("status").is_some());
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// Whatever this caller's `load` returned; nothing is cached then.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe. Dropping the future while it waits leaves the cache unchanged; dropping it while its
    /// loader runs abandons that load, and one of the waiting callers (if any) takes over with its own.
    pub async fn get_or_insert_with<Q, F, Fut, E>(&self, key: &Q, load: F) -> Result<Arc<V>, E>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Debug + ToOwned<Owned = K> + ?Sized,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let now = self.clock.now();
        if let Some(entry) = self.store.get(key)
            && now < entry.expires_at
        {
            self.counters.hits.incr();
            return Ok(entry.value);
        }
        let outcome = self
            .store
            .entry_async(key, |_, entry| {
                if self.clock.now() < entry.expires_at {
                    EntryAction::Retain(Arc::clone(&entry.value))
                } else {
                    EntryAction::ReplaceWithGuard
                }
            })
            .await;
        let guard = match outcome {
            EntryResult::Retained(value) => {
                self.counters.hits.incr();
                return Ok(value);
            }
            EntryResult::Replaced(guard, _expired) => {
                tracing::trace!(namespace = %self.kind, ?key, "cache expire");
                self.counters.expire(1);
                guard
            }
            EntryResult::Vacant(guard) => guard,
            EntryResult::Removed(..) | EntryResult::Timeout => {
                unreachable!("the callback never removes and entry_async has no timeout")
            }
        };
        self.counters.miss();
        match load().await {
            Ok(value) => {
                let value = Arc::new(value);
                let entry = self.entry(Arc::clone(&value), self.ttl);
                let mut request = Request::new(None, entry.id);
                // An `Err` means a concurrent `insert` or `remove` already replaced our placeholder;
                // the waiters still got this value.
                if guard.insert_with_lifecycle(entry, &mut request).is_ok() {
                    tracing::trace!(namespace = %self.kind, ?key, "cache insert (loaded)");
                    self.counters.insert();
                }
                Ok(value)
            }
            Err(error) => {
                drop(guard);
                tracing::debug!(namespace = %self.kind, ?key, "cache loader failed");
                self.counters.emit(EventKind::LoadFailed);
                Err(error)
            }
        }
    }

    /// [`get_or_insert_with`](Self::get_or_insert_with) under a per-request [`Lookup`]: read through,
    /// force a refresh, or bypass the cache entirely.
    ///
    /// # Errors
    ///
    /// Whatever `load` returned; nothing is cached then.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`get_or_insert_with`](Self::get_or_insert_with); a cancelled refresh caches
    /// nothing.
    pub async fn load<Q, F, Fut, E>(&self, key: &Q, lookup: Lookup, load: F) -> Result<Arc<V>, E>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Debug + ToOwned<Owned = K> + ?Sized,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        match lookup {
            Lookup::ReadThrough => self.get_or_insert_with(key, load).await,
            Lookup::Refresh => {
                let value = Arc::new(load().await?);
                self.insert(key.to_owned(), Arc::clone(&value));
                Ok(value)
            }
            Lookup::Bypass => load().await.map(Arc::new),
        }
    }

    /// Removes every entry. The counters keep counting.
    pub fn clear(&self) {
        tracing::debug!(namespace = %self.kind, "cache clear");
        self.store.clear();
    }

    /// Removes every expired entry now, returning how many went. The background sweeper calls this.
    pub fn sweep(&self) -> u64 {
        let now = self.clock.now();
        let expired = Cell::new(0u64);
        self.store.retain(|key, entry| {
            let keep = now < entry.expires_at;
            if !keep {
                tracing::trace!(namespace = %self.kind, ?key, "cache expire (sweep)");
                expired.set(expired.get() + 1);
            }
            keep
        });
        let expired = expired.get();
        self.counters.expire(expired);
        if expired > 0 {
            tracing::debug!(namespace = %self.kind, expired, "cache sweep");
        }
        expired
    }

    /// A snapshot of this namespace's counters.
    #[must_use]
    pub fn stats(&self) -> NamespaceStats {
        self.counters.snapshot(self.len())
    }

    /// How many entries are held, expired ones not yet removed included.
    #[must_use]
    pub fn len(&self) -> u64 {
        u64::try_from(self.store.len()).unwrap_or(u64::MAX)
    }

    /// Whether no entry is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// Which namespace this is.
    #[must_use]
    pub fn kind(&self) -> NamespaceKind {
        self.kind
    }

    /// How long entries stay readable after they are written.
    #[must_use]
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The configured capacity.
    #[must_use]
    pub fn capacity(&self) -> Capacity {
        self.capacity
    }

    fn entry(&self, value: Arc<V>, ttl: Duration) -> Entry<V> {
        let weight = match self.capacity {
            Capacity::Weight(_) => u32::try_from(value.weigh()).unwrap_or(u32::MAX).max(1),
            Capacity::Entries(_) => 1,
        };
        Entry {
            value,
            expires_at: self.clock.after(self.clock.now(), ttl),
            weight,
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// Removes `key` if it is still expired: a fresher value written meanwhile stays.
    #[cold]
    fn remove_expired<Q>(&self, key: &Q, now: u64)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + Debug + ?Sized,
    {
        if self
            .store
            .remove_if(key, |entry| now >= entry.expires_at)
            .is_some()
        {
            tracing::trace!(namespace = %self.kind, ?key, "cache expire");
            self.counters.expire(1);
        }
    }
}

impl<K, V> Debug for Namespace<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("kind", &self.kind)
            .field("ttl", &self.ttl)
            .field("capacity", &self.capacity)
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

/// A stored value with its expiry (nanoseconds on the namespace's clock) and weight beside it.
///
/// 24 bytes: the smaller the entry, the more of a namespace stays in the CPU caches.
struct Entry<V> {
    value: Arc<V>,
    expires_at: u64,
    /// Capped at 4 GiB, far beyond any real value.
    weight: u32,
    /// Tells a rejected new entry from the one it replaces. It wraps after 2^32 writes; a collision
    /// would need exactly that many writes between the two, and could only misfile one eviction.
    id: u32,
}

impl<V> Clone for Entry<V> {
    fn clone(&self) -> Self {
        Self {
            value: Arc::clone(&self.value),
            expires_at: self.expires_at,
            weight: self.weight,
            id: self.id,
        }
    }
}

/// Reads the weight computed at insertion, so quick_cache's eviction loop stays cheap.
#[derive(Clone, Copy, Debug)]
struct EntryWeighter;

impl<K, V> Weighter<K, Entry<V>> for EntryWeighter {
    #[inline]
    fn weight(&self, _key: &K, entry: &Entry<V>) -> u64 {
        u64::from(entry.weight)
    }
}

/// Counts evictions; evicted values are dropped after the shard lock is released.
#[derive(Clone, Debug)]
struct Listener(Arc<Counters>);

/// What one write tells the [`Listener`]: quick_cache reports a value replaced under the same key
/// through `on_evict` too, and that is no eviction.
struct Request<K, V> {
    /// The key being written, for a plain insert (which may replace a resident entry).
    replacing: Option<K>,
    /// The new entry's id: if quick_cache rejects it as too heavy, that is an eviction.
    new_id: u32,
    /// Evicted and replaced values, dropped with the request, outside the shard lock.
    dropped: Vec<Arc<V>>,
}

impl<K, V> Request<K, V> {
    fn new(replacing: Option<K>, new_id: u32) -> Self {
        Self {
            replacing,
            new_id,
            dropped: Vec::new(),
        }
    }
}

impl<K, V> Default for Request<K, V> {
    fn default() -> Self {
        Self::new(None, 0)
    }
}

impl<K: Eq + Debug, V> Lifecycle<K, Entry<V>> for Listener {
    type RequestState = Request<K, V>;

    fn on_evict(&self, request: &mut Self::RequestState, key: K, entry: Entry<V>) {
        let replaced = entry.id != request.new_id && request.replacing.as_ref() == Some(&key);
        if !replaced {
            tracing::trace!(namespace = %self.0.kind, ?key, "cache evict");
            self.0.evict();
        }
        request.dropped.push(entry.value);
    }
}
