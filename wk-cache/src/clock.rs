//! Time sources: the [`Clock`] trait, the monotonic [`SystemClock`] and the test [`ManualClock`].

use std::fmt::Debug;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A monotonic time source: the time elapsed since some fixed origin.
///
/// The cache reads it once per operation to decide whether an entry has expired, so `now` must be
/// cheap and must never go backwards. Use [`SystemClock`] in production and [`ManualClock`] in tests.
pub trait Clock: Debug + Send + Sync + 'static {
    /// The time elapsed since this clock's origin.
    fn now(&self) -> Duration;
}

/// The real monotonic clock, cheap enough to read on every cache hit.
///
/// It reads the CPU's time-stamp counter where the CPU has an invariant one (through `quanta`,
/// calibrated once per process against the OS clock), and the OS monotonic clock otherwise. The
/// counter matters here: it costs a few nanoseconds and does not stall the pipeline, where a
/// `clock_gettime` call costs tens and does. The first `SystemClock` in a process spends about a
/// millisecond calibrating (200 ms at most); later ones are free.
///
/// ```
/// use wk_cache::{Clock, SystemClock};
///
/// let clock = SystemClock::new();
/// let a = clock.now();
/// assert!(clock.now() >= a);
/// ```
#[derive(Clone, Debug)]
pub struct SystemClock {
    clock: quanta::Clock,
    origin: u64,
    /// How many nanoseconds 2^40 raw ticks last: converts a TTL to ticks once per write, so a
    /// hit compares raw readings and never scales one.
    nanos_per_2_40_ticks: u64,
}

impl SystemClock {
    /// A clock whose origin is now.
    #[must_use]
    pub fn new() -> Self {
        let clock = quanta::Clock::new();
        let origin = clock.raw();
        let nanos_per_2_40_ticks = clock.delta_as_nanos(0, 1 << 40);
        Self {
            clock,
            origin,
            nanos_per_2_40_ticks,
        }
    }

    /// Nanoseconds since the origin.
    #[inline]
    fn nanos(&self) -> u64 {
        self.clock.delta_as_nanos(self.origin, self.clock.raw())
    }

    /// The raw reading: time-stamp-counter ticks, or nanoseconds where quanta falls back to the OS
    /// clock.
    #[inline]
    fn ticks(&self) -> u64 {
        self.clock.raw()
    }

    /// `d` in raw ticks, rounded down: an entry may expire up to one tick early, never late.
    fn ticks_in(&self, d: Duration) -> u64 {
        if self.nanos_per_2_40_ticks == 0 {
            return to_nanos(d);
        }
        let ticks = (u128::from(to_nanos(d)) << 40) / u128::from(self.nanos_per_2_40_ticks);
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for SystemClock {
    #[inline]
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos())
    }
}

/// A clock that only moves when told to, so TTL tests need no sleeping.
///
/// Clones share one time: keep a clone, hand another to [`Builder::clock`](crate::Builder::clock),
/// then [`advance`](Self::advance) it.
///
/// ```
/// use std::time::Duration;
/// use wk_cache::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let handle = clock.clone();
/// handle.advance(Duration::from_secs(90));
/// assert_eq!(clock.now(), Duration::from_secs(90));
/// ```
#[derive(Clone, Debug, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock standing at zero.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.nanos.fetch_add(to_nanos(by), Ordering::SeqCst);
    }

    /// Moves the clock to `to`, which must not be earlier than its current time; an earlier value is
    /// ignored so the clock stays monotonic.
    pub fn set(&self, to: Duration) {
        self.nanos.fetch_max(to_nanos(to), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::SeqCst))
    }
}

/// The clock a namespace reads: the system clock inline (no indirection on the hit path) or any other.
#[derive(Clone, Debug)]
pub(crate) enum ClockRef {
    System(SystemClock),
    Custom(Arc<dyn Clock>),
}

impl ClockRef {
    /// The current time in the clock's own units: raw ticks for the system clock (a hit then
    /// costs one counter read and one comparison, with no scaling), nanoseconds for any other.
    /// Only ever compared with instants from [`Self::after`] on the same clock.
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        match self {
            Self::System(clock) => clock.ticks(),
            Self::Custom(clock) => to_nanos(clock.now()),
        }
    }

    /// The instant `d` after `now` (a reading of [`Self::now`]), saturating.
    pub(crate) fn after(&self, now: u64, d: Duration) -> u64 {
        let span = match self {
            Self::System(clock) => clock.ticks_in(d),
            Self::Custom(_) => to_nanos(d),
        };
        now.saturating_add(span)
    }
}

/// A duration in whole nanoseconds, saturating at `u64::MAX` (about 584 years).
#[inline]
pub(crate) fn to_nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_is_shared_and_monotonic() {
        let clock = ManualClock::new();
        let other = clock.clone();
        other.advance(Duration::from_millis(1500));
        assert_eq!(clock.now(), Duration::from_millis(1500));
        clock.set(Duration::from_secs(1));
        assert_eq!(other.now(), Duration::from_millis(1500));
        clock.set(Duration::from_secs(3));
        assert_eq!(other.now(), Duration::from_secs(3));
    }

    #[test]
    fn nanos_saturate() {
        assert_eq!(to_nanos(Duration::MAX), u64::MAX);
        assert_eq!(to_nanos(Duration::from_micros(2)), 2_000);
    }

    #[test]
    fn clock_ref_reads_both_kinds() {
        let manual = ManualClock::new();
        manual.advance(Duration::from_nanos(42));
        let custom = ClockRef::Custom(Arc::new(manual));
        assert_eq!(custom.now(), 42);
        assert_eq!(custom.after(42, Duration::from_nanos(8)), 50);
        let system = ClockRef::System(SystemClock::new());
        let a = system.now();
        assert!(system.now() >= a);
    }

    #[test]
    fn ttl_in_ticks_is_never_longer_than_the_ttl() {
        let clock = SystemClock::new();
        for ttl in [1, 999, 300_000_000_000, 86_400_000_000_000] {
            let ticks = clock.ticks_in(Duration::from_nanos(ttl));
            let back = clock.clock.delta_as_nanos(0, ticks);
            assert!(back <= ttl, "{ttl} ns became {ticks} ticks = {back} ns");
            // Rounding down loses less than a few ticks' worth.
            assert!(ttl - back <= 16, "{ttl} ns became {back} ns");
        }
        let day = clock.ticks_in(Duration::from_secs(86_400));
        assert!(clock.ticks_in(Duration::MAX) > day);
    }
}
