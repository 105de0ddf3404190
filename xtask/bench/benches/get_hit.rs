//! Get-hit cost on 1 and 2 threads: wk-cache against moka and bare quick_cache, in one run.
//!
//! Every cache holds the same 10,000 killmails as `Arc<Killmail>`; each iteration makes 256 hits, so
//! divide divan's time per iteration by 256 for one hit. Two groups:
//!
//! - `throughput`: independent hits in a shuffled order, so the CPU overlaps consecutive lookups;
//! - `latency`: each key is derived from the previous hit's value, so hits run strictly one after
//!   another and the time is the latency of one hit.
//!
//! Baselines: `quick_cache_bare` (a `get`, no expiry), `quick_cache_tsc_expiry` (a `get` plus the
//! expiry check on the same TSC clock wk-cache uses), `quick_cache_std_expiry` (the same check on
//! `std::time::Instant`) and `moka` (`sync::Cache` with a time-to-live). Run with
//! `cargo bench --manifest-path xtask/bench/Cargo.toml --bench get_hit`.

use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use wk_cache::{Cache, Config};
use wk_types::{Killmail, KillmailId};

const ENTRIES: usize = 10_000;
const BATCH: usize = 256;
const TTL: Duration = Duration::from_secs(300);

fn main() {
    divan::main();
}

/// The keys 0..ENTRIES in a fixed pseudo-random order.
static KEYS: LazyLock<Vec<KillmailId>> = LazyLock::new(|| {
    let mut keys: Vec<KillmailId> = (0..ENTRIES as i64).map(KillmailId::new).collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..keys.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        keys.swap(i, (state % (i as u64 + 1)) as usize);
    }
    keys
});

thread_local! {
    /// Each thread starts half the key space away from the previous one.
    static CURSOR: Cell<usize> = Cell::new({
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        NEXT.fetch_add(ENTRIES / 2, Ordering::Relaxed) % ENTRIES
    });
}

/// This thread's next position in `KEYS`.
fn start() -> usize {
    CURSOR.with(|c| {
        let start = c.get();
        c.set((start + BATCH) % (ENTRIES - BATCH));
        start
    })
}

/// `BATCH` independent hits.
#[inline]
fn independent(get: impl Fn(&KillmailId) -> i64) {
    let start = start();
    for id in &KEYS[start..start + BATCH] {
        black_box(get(id));
    }
}

/// `BATCH` hits, each key computed from the previous hit's value.
#[inline]
fn dependent(get: impl Fn(&KillmailId) -> i64) {
    let mut at = start();
    for _ in 0..BATCH {
        let id = get(&KEYS[at]);
        at = (id as usize).wrapping_mul(7_919).wrapping_add(1) % ENTRIES;
    }
}

fn value(id: KillmailId) -> Arc<Killmail> {
    let mut km = Killmail::default();
    km.killmail_id = id;
    Arc::new(km)
}

fn wk() -> Cache {
    let cache = Cache::new(Config::default().sweep_interval(None));
    for &id in KEYS.iter() {
        cache.killmails().insert(id, value(id));
    }
    cache
}

fn moka() -> moka::sync::Cache<KillmailId, Arc<Killmail>> {
    let cache = moka::sync::Cache::builder()
        .max_capacity(50_000)
        .time_to_live(TTL)
        .build();
    for &id in KEYS.iter() {
        cache.insert(id, value(id));
    }
    cache
}

fn bare() -> quick_cache::sync::Cache<KillmailId, Arc<Killmail>> {
    let cache = quick_cache::sync::Cache::new(50_000);
    for &id in KEYS.iter() {
        cache.insert(id, value(id));
    }
    cache
}

/// quick_cache holding `(value, expiry)` with expiry in nanoseconds on a quanta clock.
struct Tsc {
    cache: quick_cache::sync::Cache<KillmailId, (Arc<Killmail>, u64)>,
    clock: quanta::Clock,
    origin: u64,
}

impl Tsc {
    fn new() -> Self {
        let clock = quanta::Clock::new();
        let origin = clock.raw();
        let tsc = Self {
            cache: quick_cache::sync::Cache::new(50_000),
            clock,
            origin,
        };
        for &id in KEYS.iter() {
            let expires = tsc.now() + TTL.as_nanos() as u64;
            tsc.cache.insert(id, (value(id), expires));
        }
        tsc
    }

    #[inline]
    fn now(&self) -> u64 {
        self.clock.delta_as_nanos(self.origin, self.clock.raw())
    }

    #[inline]
    fn get(&self, id: &KillmailId) -> Arc<Killmail> {
        let now = self.now();
        let (v, expires) = self.cache.get(id).expect("hit");
        assert!(now < expires);
        v
    }
}

/// Independent hits: how many a thread gets through.
mod throughput {
    use super::*;

    /// wk-cache: `Cache::killmails().get`, TTL check and hit counter included.
    #[divan::bench(threads = [1, 2], sample_count = 1000, sample_size = 4)]
    fn wk_cache(bencher: Bencher) {
        let cache = wk();
        let ns = cache.killmails();
        bencher
            .counter(ItemsCount::new(BATCH))
            .bench(|| independent(|id| ns.get(id).expect("hit").killmail_id.get()));
    }

    /// moka's `sync::Cache` with the same capacity and a 5 min time-to-live.
    #[divan::bench(threads = [1, 2], sample_count = 1000, sample_size = 4)]
    fn moka(bencher: Bencher) {
        let cache = super::moka();
        bencher
            .counter(ItemsCount::new(BATCH))
            .bench(|| independent(|id| cache.get(id).expect("hit").killmail_id.get()));
    }

    /// Bare quick_cache `get`, no expiry at all.
    #[divan::bench(threads = [1, 2], sample_count = 1000, sample_size = 4)]
    fn quick_cache_bare(bencher: Bencher) {
        let cache = bare();
        bencher
            .counter(ItemsCount::new(BATCH))
            .bench(|| independent(|id| cache.get(id).expect("hit").killmail_id.get()));
    }

    /// Bare quick_cache `get` plus the expiry check on the TSC clock wk-cache reads.
    #[divan::bench(threads = [1, 2], sample_count = 1000, sample_size = 4)]
    fn quick_cache_tsc_expiry(bencher: Bencher) {
        let tsc = Tsc::new();
        bencher
            .counter(ItemsCount::new(BATCH))
            .bench(|| independent(|id| tsc.get(id).killmail_id.get()));
    }

    /// Bare quick_cache `get` plus the expiry check on `std::time::Instant`.
    #[divan::bench(threads = [1, 2], sample_count = 1000, sample_size = 4)]
    fn quick_cache_std_expiry(bencher: Bencher) {
        let origin = Instant::now();
        let cache = quick_cache::sync::Cache::<KillmailId, (Arc<Killmail>, Duration)>::new(50_000);
        for &id in KEYS.iter() {
            cache.insert(id, (value(id), origin.elapsed() + TTL));
        }
        bencher.counter(ItemsCount::new(BATCH)).bench(|| {
            independent(|id| {
                let (v, expires) = cache.get(id).expect("hit");
                assert!(origin.elapsed() < expires);
                v.killmail_id.get()
            });
        });
    }
}

/// Dependent hits: the latency of one.
mod latency {
    use super::*;

    /// wk-cache: `Cache::killmails().get`, TTL check and hit counter included.
    #[divan::bench(threads = [1, 2], sample_count = 1000, sample_size = 4)]
    fn wk_cache(bencher: Bencher) {
        let cache = wk();
        let ns = cache.killmails();
        bencher
            .counter(ItemsCount::new(BATCH))
            .bench(|| dependent(|id| ns.get(id).expect("hit").killmail_id.get()));
    }

    /// moka's `sync::Cache` with the same capacity and a 5 min time-to-live.
    #[divan::bench(threads = [1, 2], sample_count = 1000, sample_size = 4)]
    fn moka(bencher: Bencher) {
        let cache = super::moka();
        bencher
            .counter(ItemsCount::new(BATCH))
            .bench(|| dependent(|id| cache.get(id).expect("hit").killmail_id.get()));
    }

    /// Bare quick_cache `get`, no expiry at all.
    #[divan::bench(threads = [1, 2], sample_count = 1000, sample_size = 4)]
    fn quick_cache_bare(bencher: Bencher) {
        let cache = bare();
        bencher
            .counter(ItemsCount::new(BATCH))
            .bench(|| dependent(|id| cache.get(id).expect("hit").killmail_id.get()));
    }

    /// Bare quick_cache `get` plus the expiry check on the TSC clock wk-cache reads.
    #[divan::bench(threads = [1, 2], sample_count = 1000, sample_size = 4)]
    fn quick_cache_tsc_expiry(bencher: Bencher) {
        let tsc = Tsc::new();
        bencher
            .counter(ItemsCount::new(BATCH))
            .bench(|| dependent(|id| tsc.get(id).killmail_id.get()));
    }
}
