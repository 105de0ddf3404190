//! Settings: one [`NamespaceConfig`] (TTL and [`Capacity`]) per namespace, and the sweep interval.

use std::time::Duration;

/// How much a namespace may hold before quick_cache starts evicting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Capacity {
    /// At most this many entries.
    Entries(u64),
    /// At most this much total weight, each entry weighing its value's [`Weigh::weigh`](crate::Weigh::weigh)
    /// (an estimate of its size in bytes).
    Weight(u64),
}

impl Capacity {
    /// The weight limit handed to quick_cache.
    pub(crate) fn limit(self) -> u64 {
        match self {
            Self::Entries(n) | Self::Weight(n) => n.max(1),
        }
    }

    /// quick_cache's sizing hint: the number of entries expected at capacity.
    pub(crate) fn estimated_entries(self) -> usize {
        let entries = match self {
            Self::Entries(n) => n,
            // Assume about 1 KiB per entry; this only sizes tables, it bounds nothing.
            Self::Weight(n) => n / 1024,
        };
        usize::try_from(entries.max(32)).unwrap_or(usize::MAX)
    }
}

/// One namespace's settings: how long entries live and how many fit.
///
/// ```
/// use std::time::Duration;
/// use wk_cache::{Capacity, NamespaceConfig};
///
/// let ns = NamespaceConfig::new(Duration::from_secs(60), Capacity::Entries(1_000))
///     .ttl(Duration::from_secs(120));
/// assert_eq!(ns.ttl, Duration::from_secs(120));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NamespaceConfig {
    /// How long an entry stays readable after it is written.
    pub ttl: Duration,
    /// How much the namespace may hold.
    pub capacity: Capacity,
}

impl NamespaceConfig {
    /// Settings with this TTL and capacity.
    #[must_use]
    pub const fn new(ttl: Duration, capacity: Capacity) -> Self {
        Self { ttl, capacity }
    }

    /// Sets how long an entry stays readable after it is written.
    #[must_use]
    pub const fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets how much the namespace may hold.
    #[must_use]
    pub const fn capacity(mut self, capacity: Capacity) -> Self {
        self.capacity = capacity;
        self
    }
}

/// Settings for the whole [`Cache`](crate::Cache).
///
/// The defaults are the WandererKills server's own: `killmails` 5 min, `systems` 1 h, `esi_data` 24 h
/// and `temp_data` 5 min, holding 50,000, 10,000, 100,000 and 10,000 entries, swept every 60 s.
///
/// ```
/// use std::time::Duration;
/// use wk_cache::{Capacity, Config, NamespaceConfig};
///
/// let config = Config::default()
///     .killmails(NamespaceConfig::new(Duration::from_secs(600), Capacity::Entries(5_000)))
///     .sweep_interval(None);
/// assert_eq!(config.systems.ttl, Duration::from_secs(3_600));
/// assert_eq!(config.sweep_interval, None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Killmails by [`KillmailId`](wk_types::KillmailId).
    pub killmails: NamespaceConfig,
    /// System kill lists by [`SystemId`](wk_types::SystemId).
    pub systems: NamespaceConfig,
    /// ESI lookups by string key.
    pub esi_data: NamespaceConfig,
    /// Short-lived data by string key.
    pub temp_data: NamespaceConfig,
    /// How often the background sweeper drops expired entries; `None` starts no sweeper.
    pub sweep_interval: Option<Duration>,
}

impl Config {
    /// The seed's default for `killmails`: 5 min, 50,000 entries.
    pub const KILLMAILS: NamespaceConfig =
        NamespaceConfig::new(Duration::from_secs(5 * 60), Capacity::Entries(50_000));
    /// The seed's default for `systems`: 1 h, 10,000 entries.
    pub const SYSTEMS: NamespaceConfig =
        NamespaceConfig::new(Duration::from_secs(60 * 60), Capacity::Entries(10_000));
    /// The seed's default for `esi_data`: 24 h, 100,000 entries.
    pub const ESI_DATA: NamespaceConfig = NamespaceConfig::new(
        Duration::from_secs(24 * 60 * 60),
        Capacity::Entries(100_000),
    );
    /// The seed's default for `temp_data`: 5 min, 10,000 entries.
    pub const TEMP_DATA: NamespaceConfig =
        NamespaceConfig::new(Duration::from_secs(5 * 60), Capacity::Entries(10_000));
    /// The default sweep interval: 60 s.
    pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);

    /// Sets the `killmails` namespace.
    #[must_use]
    pub const fn killmails(mut self, ns: NamespaceConfig) -> Self {
        self.killmails = ns;
        self
    }

    /// Sets the `systems` namespace.
    #[must_use]
    pub const fn systems(mut self, ns: NamespaceConfig) -> Self {
        self.systems = ns;
        self
    }

    /// Sets the `esi_data` namespace.
    #[must_use]
    pub const fn esi_data(mut self, ns: NamespaceConfig) -> Self {
        self.esi_data = ns;
        self
    }

    /// Sets the `temp_data` namespace.
    #[must_use]
    pub const fn temp_data(mut self, ns: NamespaceConfig) -> Self {
        self.temp_data = ns;
        self
    }

    /// Sets how often the background sweeper runs; `None` disables it (expiry stays lazy, on read).
    #[must_use]
    pub const fn sweep_interval(mut self, every: Option<Duration>) -> Self {
        self.sweep_interval = every;
        self
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            killmails: Self::KILLMAILS,
            systems: Self::SYSTEMS,
            esi_data: Self::ESI_DATA,
            temp_data: Self::TEMP_DATA,
            sweep_interval: Some(Self::SWEEP_INTERVAL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_seed() {
        let c = Config::default();
        assert_eq!(c.killmails.ttl, Duration::from_secs(300));
        assert_eq!(c.systems.ttl, Duration::from_secs(3_600));
        assert_eq!(c.esi_data.ttl, Duration::from_secs(86_400));
        assert_eq!(c.temp_data.ttl, Duration::from_secs(300));
        assert_eq!(c.killmails.capacity, Capacity::Entries(50_000));
        assert_eq!(c.sweep_interval, Some(Duration::from_secs(60)));
    }

    #[test]
    fn capacity_sizing() {
        assert_eq!(Capacity::Entries(0).limit(), 1);
        assert_eq!(Capacity::Entries(10).estimated_entries(), 32);
        assert_eq!(Capacity::Weight(1 << 20).estimated_entries(), 1024);
        assert_eq!(Capacity::Weight(1 << 20).limit(), 1 << 20);
    }
}
