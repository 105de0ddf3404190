//! The [`Cache`] handle, its [`Builder`], and the background sweeper.

use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::oneshot;
use wk_types::http::KillList;
use wk_types::{Killmail, KillmailId, SystemId};

use crate::clock::{Clock, ClockRef, SystemClock};
use crate::config::Config;
use crate::namespace::Namespace;
use crate::stats::{Event, Hook, NamespaceKind, Stats};

/// The four-namespace TTL cache: a cheap `Clone` handle (an `Arc` inside) that is `Send + Sync`.
///
/// | namespace | key | value | default TTL | default capacity |
/// |---|---|---|---|---|
/// | [`killmails`](Self::killmails) | [`KillmailId`] | [`Killmail`] | 5 min | 50,000 entries |
/// | [`systems`](Self::systems) | [`SystemId`] | [`KillList`] | 1 h | 10,000 entries |
/// | [`esi_data`](Self::esi_data) | `String` | [`serde_json::Value`] | 24 h | 100,000 entries |
/// | [`temp_data`](Self::temp_data) | `String` | [`serde_json::Value`] | 5 min | 10,000 entries |
///
/// Built inside a tokio runtime, the cache starts a sweeper task that drops expired entries every
/// [`Config::sweep_interval`] and ends when the last handle is dropped. Built outside one, expiry is
/// lazy only (expired entries are never returned and are removed when read or evicted); call
/// [`sweep`](Self::sweep) yourself if you want them gone sooner.
#[derive(Clone, Debug)]
pub struct Cache {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    killmails: Namespace<KillmailId, Killmail>,
    systems: Namespace<SystemId, KillList>,
    esi_data: Namespace<String, serde_json::Value>,
    temp_data: Namespace<String, serde_json::Value>,
    /// Dropped with the cache, which tells the sweeper (if any) to stop.
    _stop: oneshot::Sender<()>,
}

impl Cache {
    /// A cache with these settings, the system clock and no metrics hook.
    #[must_use]
    pub fn new(config: Config) -> Self {
        Self::builder().config(config).build()
    }

    /// A builder, to set a clock or a metrics hook as well.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Killmails by id.
    #[must_use]
    pub fn killmails(&self) -> &Namespace<KillmailId, Killmail> {
        &self.inner.killmails
    }

    /// System kill lists (`GET /kills/system/{id}` and `/kills/cached/{id}` data) by system id.
    #[must_use]
    pub fn systems(&self) -> &Namespace<SystemId, KillList> {
        &self.inner.systems
    }

    /// ESI lookups as JSON by any string key, such as the request path (`"/universe/systems/30000142/"`).
    ///
    /// JSON keeps the namespace useful for every ESI endpoint; decode a hit without cloning it with
    /// `T::deserialize(&*value)`, since `&serde_json::Value` is a deserializer.
    #[must_use]
    pub fn esi_data(&self) -> &Namespace<String, serde_json::Value> {
        &self.inner.esi_data
    }

    /// Short-lived JSON by any string key.
    #[must_use]
    pub fn temp_data(&self) -> &Namespace<String, serde_json::Value> {
        &self.inner.temp_data
    }

    /// Snapshots of every namespace's counters.
    #[must_use]
    pub fn stats(&self) -> Stats {
        Stats {
            killmails: self.inner.killmails.stats(),
            systems: self.inner.systems.stats(),
            esi_data: self.inner.esi_data.stats(),
            temp_data: self.inner.temp_data.stats(),
        }
    }

    /// Removes every entry from every namespace. The counters keep counting.
    pub fn clear(&self) {
        self.inner.killmails.clear();
        self.inner.systems.clear();
        self.inner.esi_data.clear();
        self.inner.temp_data.clear();
    }

    /// Removes every expired entry from every namespace now, returning how many went.
    pub fn sweep(&self) -> u64 {
        self.inner.sweep()
    }
}

impl Default for Cache {
    /// A cache with [`Config::default`].
    fn default() -> Self {
        Self::new(Config::default())
    }
}

impl Inner {
    fn sweep(&self) -> u64 {
        self.killmails.sweep()
            + self.systems.sweep()
            + self.esi_data.sweep()
            + self.temp_data.sweep()
    }
}

/// Builds a [`Cache`]: settings, clock and metrics hook.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::time::Duration;
/// use wk_cache::{Cache, Config, EventKind, ManualClock};
///
/// let clock = ManualClock::new();
/// let inserts = Arc::new(AtomicU64::new(0));
/// let seen = Arc::clone(&inserts);
/// let cache = Cache::builder()
///     .config(Config::default())
///     .clock(clock.clone())
///     .on_event(move |event| {
///         if event.kind == EventKind::Insert {
///             seen.fetch_add(1, Ordering::Relaxed);
///         }
///     })
///     .build();
///
/// cache.temp_data().insert("k".to_owned(), serde_json::json!(1));
/// clock.advance(Duration::from_secs(5 * 60));
/// assert!(cache.temp_data().get("k").is_none());
/// assert_eq!(inserts.load(Ordering::Relaxed), 1);
/// assert_eq!(cache.stats().temp_data.expirations, 1);
/// ```
#[derive(Default)]
#[must_use]
pub struct Builder {
    config: Config,
    clock: Option<Arc<dyn Clock>>,
    hook: Option<Hook>,
}

impl Builder {
    /// Sets the settings (default: [`Config::default`]).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets the time source (default: [`SystemClock`]); use [`ManualClock`](crate::ManualClock) in tests.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Sets a metrics hook, called for every [`Event`] (misses, inserts, evictions, expirations,
    /// failed loads; never for hits).
    ///
    /// It may run while a shard lock is held, so keep it fast (bump a counter) and never call back
    /// into the cache from it.
    pub fn on_event(mut self, hook: impl Fn(&Event) + Send + Sync + 'static) -> Self {
        self.hook = Some(Arc::new(hook));
        self
    }

    /// Builds the cache, starting the sweeper if a tokio runtime is running and
    /// [`Config::sweep_interval`] is set.
    pub fn build(self) -> Cache {
        let clock = self
            .clock
            .map_or_else(|| ClockRef::System(SystemClock::new()), ClockRef::Custom);
        let config = self.config;
        let sweeper = config
            .sweep_interval
            .zip(tokio::runtime::Handle::try_current().ok());
        let (stop, stopped) = oneshot::channel();
        let hook = self.hook;
        let inner = Arc::new(Inner {
            killmails: Namespace::new(
                NamespaceKind::Killmails,
                config.killmails,
                clock.clone(),
                hook.clone(),
            ),
            systems: Namespace::new(
                NamespaceKind::Systems,
                config.systems,
                clock.clone(),
                hook.clone(),
            ),
            esi_data: Namespace::new(
                NamespaceKind::EsiData,
                config.esi_data,
                clock.clone(),
                hook.clone(),
            ),
            temp_data: Namespace::new(NamespaceKind::TempData, config.temp_data, clock, hook),
            _stop: stop,
        });
        if let Some((every, runtime)) = sweeper {
            let every = every.max(Duration::from_millis(1));
            let first = tokio::time::Instant::now() + every;
            runtime.spawn(sweep_every(Arc::downgrade(&inner), first, every, stopped));
        } else {
            tracing::debug!("cache built without a sweeper: expiry is lazy only");
        }
        Cache { inner }
    }
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("config", &self.config)
            .field("clock", &self.clock)
            .field("hook", &self.hook.is_some())
            .finish()
    }
}

/// The sweeper: one pass per tick until the cache is dropped.
async fn sweep_every(
    inner: Weak<Inner>,
    first: tokio::time::Instant,
    every: Duration,
    mut stopped: oneshot::Receiver<()>,
) {
    let mut ticks = tokio::time::interval_at(first, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tracing::debug!(?every, "cache sweeper started");
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            _ = ticks.tick() => {
                let Some(inner) = inner.upgrade() else { break };
                inner.sweep();
            }
        }
    }
    tracing::debug!("cache sweeper stopped");
}
