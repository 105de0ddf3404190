//! Exponential backoff with full jitter, and the reconnect schedule the realtime transports share.

use std::time::{Duration, Instant};

/// How delays grow: `min + uniform(0, min(max, base × factor^n) - min)` for the n-th retry (full jitter).
///
/// ```
/// use std::time::Duration;
/// use wk_retry::{Backoff, BackoffConfig};
///
/// let config = BackoffConfig::default().base(Duration::from_millis(100)).max(Duration::from_secs(1)).seed(7);
/// let mut backoff = Backoff::new(config.clone());
/// let first: Vec<Duration> = (0..5).map(|_| backoff.next_delay()).collect();
/// // The same seed gives the same schedule, and no delay exceeds the cap.
/// let mut again = Backoff::new(config);
/// assert!(first.iter().all(|d| *d == again.next_delay() && *d <= Duration::from_secs(1)));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct BackoffConfig {
    /// The upper bound of the first delay.
    pub base: Duration,
    /// Growth per retry (values below 1.0 are treated as 1.0).
    pub factor: f64,
    /// The cap on any delay.
    pub max: Duration,
    /// The floor on any delay (0 for pure full jitter).
    pub min: Duration,
    /// A fixed seed for the jitter, for reproducible schedules in tests; `None` seeds randomly.
    pub seed: Option<u64>,
}

impl Default for BackoffConfig {
    /// 200 ms base, factor 2, 10 s cap, no floor, random seed.
    fn default() -> Self {
        Self {
            base: Duration::from_millis(200),
            factor: 2.0,
            max: Duration::from_secs(10),
            min: Duration::ZERO,
            seed: None,
        }
    }
}

impl BackoffConfig {
    /// Sets the upper bound of the first delay.
    #[must_use]
    pub fn base(mut self, base: Duration) -> Self {
        self.base = base;
        self
    }

    /// Sets the growth factor per retry.
    #[must_use]
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Sets the cap on any delay.
    #[must_use]
    pub fn max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// Sets the floor on any delay.
    #[must_use]
    pub fn min(mut self, min: Duration) -> Self {
        self.min = min;
        self
    }

    /// Fixes the jitter seed.
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// The un-jittered upper bound for the `attempt`-th delay (0-based), capped.
    #[must_use]
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = if self.factor.is_finite() && self.factor >= 1.0 {
            self.factor
        } else {
            1.0
        };
        let exp = i32::try_from(attempt).unwrap_or(i32::MAX);
        let scaled = self.base.as_secs_f64() * factor.powi(exp);
        let cap = self.max.as_secs_f64();
        let secs = if scaled.is_finite() {
            scaled.min(cap)
        } else {
            cap
        };
        Duration::from_secs_f64(secs.max(0.0)).max(self.min.min(self.max))
    }
}

/// A backoff schedule: each [`Backoff::next_delay`] is the next jittered delay.
#[derive(Clone, Debug)]
pub struct Backoff {
    config: BackoffConfig,
    attempt: u32,
    rng: SplitMix64,
}

impl Backoff {
    /// A fresh schedule.
    #[must_use]
    pub fn new(config: BackoffConfig) -> Self {
        let rng = SplitMix64::new(config.seed.unwrap_or_else(random_seed));
        Self {
            config,
            attempt: 0,
            rng,
        }
    }

    /// The next delay, and the schedule advances.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.config.ceiling(self.attempt);
        self.attempt = self.attempt.saturating_add(1);
        let floor = self.config.min.min(ceiling);
        let span = ceiling - floor;
        floor + self.rng.below(span)
    }

    /// How many delays were handed out since the last reset.
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Starts the schedule over (the jitter sequence continues).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &BackoffConfig {
        &self.config
    }
}

/// The reconnect schedule for long-lived connections (WebSocket, SSE).
///
/// Delays grow with each failed attempt and reset only once a connection has stayed up for
/// `stable_after`, so a server that accepts and immediately drops connections cannot cause a hot loop.
///
/// ```
/// use std::time::{Duration, Instant};
/// use wk_retry::{BackoffConfig, ReconnectBackoff};
///
/// let mut r = ReconnectBackoff::new(BackoffConfig::default().seed(1), Duration::from_secs(30));
/// let t0 = Instant::now();
/// r.connected(t0);
/// r.disconnected(t0 + Duration::from_secs(1)); // short-lived: no reset
/// let _ = r.next_delay();
/// assert_eq!(r.attempt(), 1);
/// r.connected(t0 + Duration::from_secs(2));
/// r.disconnected(t0 + Duration::from_secs(40)); // stable: reset
/// assert_eq!(r.attempt(), 0);
/// ```
#[derive(Clone, Debug)]
pub struct ReconnectBackoff {
    backoff: Backoff,
    stable_after: Duration,
    connected_at: Option<Instant>,
}

impl ReconnectBackoff {
    /// A schedule that resets after a connection has been up for `stable_after`.
    #[must_use]
    pub fn new(config: BackoffConfig, stable_after: Duration) -> Self {
        Self {
            backoff: Backoff::new(config),
            stable_after,
            connected_at: None,
        }
    }

    /// The defaults for realtime transports: 1 s base, factor 2, 30 s cap, 100 ms floor, stable
    /// after 30 s.
    #[must_use]
    pub fn realtime() -> Self {
        Self::new(
            BackoffConfig::default()
                .base(Duration::from_secs(1))
                .max(Duration::from_secs(30))
                .min(Duration::from_millis(100)),
            Duration::from_secs(30),
        )
    }

    /// Records that a connection came up at `now`.
    pub fn connected(&mut self, now: Instant) {
        self.connected_at = Some(now);
    }

    /// Records that the connection went down at `now`; resets the schedule if it had been stable.
    pub fn disconnected(&mut self, now: Instant) {
        if let Some(up) = self.connected_at.take()
            && now.saturating_duration_since(up) >= self.stable_after
        {
            self.backoff.reset();
        }
    }

    /// The delay before the next connection attempt.
    pub fn next_delay(&mut self) -> Duration {
        self.backoff.next_delay()
    }

    /// The delay before the next attempt, but at least `floor` (a server's `retry:` or
    /// `Retry-After`), still capped by the configured maximum unless `floor` is larger.
    pub fn next_delay_at_least(&mut self, floor: Duration) -> Duration {
        self.backoff.next_delay().max(floor)
    }

    /// Failed attempts since the last reset.
    #[must_use]
    pub fn attempt(&self) -> u32 {
        self.backoff.attempt()
    }
}

/// A small, fast PRNG (SplitMix64); jitter needs spread, not cryptographic strength.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        Self(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform duration in `[0, span]`, at nanosecond resolution.
    fn below(&mut self, span: Duration) -> Duration {
        let nanos = u64::try_from(span.as_nanos()).unwrap_or(u64::MAX);
        let wide = u128::from(self.next_u64()) * (u128::from(nanos) + 1);
        Duration::from_nanos(u64::try_from(wide >> 64).unwrap_or(nanos))
    }
}

fn random_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceilings_grow_and_cap() {
        let c = BackoffConfig::default()
            .base(Duration::from_millis(100))
            .max(Duration::from_millis(1000));
        let ceilings: Vec<u128> = (0..6).map(|n| c.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(c.ceiling(u32::MAX), Duration::from_millis(1000));
    }

    #[test]
    fn delays_stay_within_bounds() {
        let c = BackoffConfig::default()
            .base(Duration::from_millis(100))
            .max(Duration::from_secs(2))
            .min(Duration::from_millis(50))
            .seed(42);
        let mut b = Backoff::new(c.clone());
        for n in 0..50 {
            let d = b.next_delay();
            assert!(d >= Duration::from_millis(50), "{n}: {d:?}");
            assert!(d <= c.ceiling(n), "{n}: {d:?}");
        }
    }

    #[test]
    fn jitter_spreads() {
        let mut b = Backoff::new(
            BackoffConfig::default()
                .base(Duration::from_secs(1))
                .seed(3),
        );
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..100 {
            b.reset();
            seen.insert(b.next_delay().as_millis() / 100);
        }
        assert!(seen.len() >= 8, "jitter did not spread: {seen:?}");
    }

    #[test]
    fn silly_configs_do_not_panic() {
        let c = BackoffConfig::default()
            .factor(f64::NAN)
            .base(Duration::MAX)
            .min(Duration::MAX)
            .max(Duration::from_secs(1));
        let mut b = Backoff::new(c);
        assert!(b.next_delay() <= Duration::from_secs(1));
    }
}
