//! In-process benchmarks whose baseline runs in the same process, interleaved round by round:
//! `decode_killmail`, `cache_get` / `cache_get_raw` and `character_filter_50k`.

use std::collections::HashSet;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use wk_cache::{Cache, Config};
use wk_realtime::Filter;
use wk_types::{CharacterId, Killmail, KillmailId, KillmailRef};

use crate::{Args, Outcome, median};

/// Rounds per measurement and the time one round should take.
fn rounds(args: &Args) -> (usize, Duration) {
    if args.flag("quick") {
        (5, Duration::from_millis(150))
    } else {
        (11, Duration::from_millis(400))
    }
}

/// Runs `f` (one pass over the input) until `budget` has passed; returns passes per second.
fn rate(budget: Duration, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut passes = 0u64;
    while passes == 0 || start.elapsed() < budget {
        f();
        passes += 1;
    }
    passes as f64 / start.elapsed().as_secs_f64()
}

/// Times one pass of each of `passes` in turn, round after round, until `budget` has passed; returns
/// each one's passes per second from its median pass time.
///
/// One pass is short (milliseconds), so whatever else loads the machine (other builds, a VM's
/// stolen time) falls on every variant alike, and the median drops the passes it hit hardest.
fn interleaved(budget: Duration, passes: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); passes.len()];
    let start = Instant::now();
    while times[0].len() < 5 || start.elapsed() < budget {
        for (pass, samples) in passes.iter_mut().zip(&mut times) {
            let t = Instant::now();
            pass();
            samples.push(t.elapsed().as_secs_f64());
        }
    }
    times.into_iter().map(|t| 1.0 / median(t)).collect()
}

/// Canonical killmails as the server writes them (sorted keys, Erlang floats), 1–4 KB each.
fn corpus(n: usize) -> Vec<Vec<u8>> {
    let mut generator = wk_testkit::Generator::new(7);
    (0..n)
        .map(|_| {
            let km = generator.killmail();
            wk_testkit::json::encode(&wk_testkit::forms::canonical(&km)).into_bytes()
        })
        .collect()
}

/// Decodes the corpus with `wk_types::decode::killmail_ref` (with `--owned`, `decode::killmail`)
/// for profilers: for `--secs` seconds, or exactly `--passes` times (for callgrind).
pub(crate) fn decode_loop(args: &Args) -> Outcome {
    let docs = corpus(1_000);
    let owned = args.flag("owned");
    let pass = || {
        for d in &docs {
            let text = std::str::from_utf8(d).expect("utf-8");
            if owned {
                black_box(wk_types::decode::killmail(text).expect("decodes"));
            } else {
                black_box(wk_types::decode::killmail_ref(text).expect("decodes"));
            }
        }
    };
    let fixed = args.num("passes", 0)?;
    if fixed > 0 {
        (0..fixed).for_each(|_| pass());
        return Ok(None);
    }
    let passes = rate(Duration::from_secs(args.num("secs", 5)?), pass);
    Ok(Some(json!({
        "passes_per_s": passes,
        "killmail_size": std::mem::size_of::<Killmail>(),
        "killmail_ref_size": std::mem::size_of::<KillmailRef<'_>>(),
        "attacker_size": std::mem::size_of::<wk_types::Attacker>(),
        "attacker_ref_size": std::mem::size_of::<wk_types::AttackerRef<'_>>(),
        "victim_size": std::mem::size_of::<wk_types::Victim>(),
    })))
}

/// `decode_killmail`: MB/s through `wk_types::decode::killmail_ref` (UTF-8 check included; strings
/// borrowed from the input) against `serde_json::Value` on the same bytes. Notes: the owned
/// `Killmail` through `decode::killmail` and through plain `serde_json::from_slice`, `KillmailRef`
/// through serde alone (`decode::from_slice`), and an ids-only skeleton.
pub(crate) fn decode(args: &Args) -> Outcome {
    let docs = corpus(1_000);
    let bytes: usize = docs.iter().map(Vec::len).sum();
    let (n, budget) = rounds(args);
    for d in &docs {
        // The skeleton must read the same corpus, or its figure means nothing.
        let text = std::str::from_utf8(d).map_err(|e| format!("corpus: {e}"))?;
        let full =
            wk_types::decode::killmail_ref(text).map_err(|e| format!("borrowed decode: {e}"))?;
        if full != wk_types::decode::from_slice::<KillmailRef<'_>>(d).map_err(|e| e.to_string())? {
            return Err("the fast and serde decodes disagree".to_owned());
        }
        let ids = serde_json::from_slice::<crate::skeleton::Skeleton>(d)
            .map_err(|e| format!("skeleton decode: {e}"))?;
        if full.attackers.len() != ids.attackers.len() || full.killmail_id.get() != ids.killmail_id
        {
            return Err("borrowed and skeleton decodes disagree".to_owned());
        }
    }
    let docs = &docs;
    let each = |decode: fn(&[u8])| move || docs.iter().for_each(|d| decode(d));
    let rates = interleaved(
        budget * n as u32,
        &mut [
            &mut each(|d| {
                let text = std::str::from_utf8(d).expect("utf-8");
                black_box(wk_types::decode::killmail_ref(text).expect("decodes"));
            }),
            &mut each(|d| {
                black_box(serde_json::from_slice::<serde_json::Value>(d).expect("decodes"));
            }),
            &mut each(|d| {
                let text = std::str::from_utf8(d).expect("utf-8");
                black_box(wk_types::decode::killmail(text).expect("decodes"));
            }),
            &mut each(|d| {
                black_box(wk_types::decode::from_slice::<KillmailRef<'_>>(d).expect("decodes"));
            }),
            &mut each(|d| {
                black_box(serde_json::from_slice::<Killmail>(d).expect("decodes"));
            }),
            &mut each(|d| {
                let text = std::str::from_utf8(d).expect("utf-8");
                black_box(
                    serde_json::from_str::<crate::skeleton::Skeleton>(text).expect("decodes"),
                );
            }),
        ],
    );
    let [view, value, owned, serde_view, plain, skeleton] = rates[..] else {
        unreachable!("one rate per pass")
    };
    let mb = |passes: f64| passes * bytes as f64 / 1e6;
    Ok(Some(json!({
        "value": mb(view),
        "baseline": mb(value),
        "owned_mb_s": mb(owned),
        "serde_view_mb_s": mb(serde_view),
        "serde_json_typed_mb_s": mb(plain),
        "skeleton_mb_s": mb(skeleton),
        "documents": docs.len(),
        "mean_document_bytes": bytes / docs.len(),
    })))
}

const ENTRIES: usize = 10_000;
const TTL: Duration = Duration::from_secs(300);

/// The keys 0..ENTRIES in a fixed pseudo-random order.
fn keys() -> Vec<KillmailId> {
    let mut keys: Vec<KillmailId> = (0..ENTRIES as i64).map(KillmailId::new).collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..keys.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        keys.swap(i, (state % (i as u64 + 1)) as usize);
    }
    keys
}

fn value(id: KillmailId) -> Arc<Killmail> {
    let mut km = Killmail::default();
    km.killmail_id = id;
    Arc::new(km)
}

/// Nanoseconds per hit with two threads hitting the same cache, each from its own offset.
fn ns_per_hit<F>(keys: &[KillmailId], passes: usize, get: F) -> f64
where
    F: Fn(&KillmailId) -> i64 + Sync,
{
    let per_thread: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..2)
            .map(|t| {
                let get = &get;
                s.spawn(move || {
                    let offset = t * keys.len() / 2;
                    let start = Instant::now();
                    for _ in 0..passes {
                        for id in keys[offset..].iter().chain(&keys[..offset]) {
                            black_box(get(id));
                        }
                    }
                    start.elapsed().as_nanos() as f64 / (passes * keys.len()) as f64
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bench thread"))
            .collect()
    });
    per_thread.iter().sum::<f64>() / per_thread.len() as f64
}

/// `cache_get` and `cache_get_raw`: ns per hit on 2 threads through wk-cache (TTL check included),
/// moka `sync::Cache` with a time-to-live, and bare quick_cache.
pub(crate) fn cache(args: &Args) -> Outcome {
    let keys = keys();
    let wk = Cache::new(Config::default().sweep_interval(None));
    let moka = moka::sync::Cache::builder()
        .max_capacity(50_000)
        .time_to_live(TTL)
        .build();
    let bare = quick_cache::sync::Cache::new(50_000);
    // The least any TTL check can cost: the bare get of a value stored with its expiry, one
    // clock reading (the same time-stamp counter wk-cache reads) and one comparison.
    let clock = quanta::Clock::new();
    let floor = quick_cache::sync::Cache::new(50_000);
    let expires = clock.raw().saturating_add(1 << 50);
    for &id in &keys {
        wk.killmails().insert(id, value(id));
        moka.insert(id, value(id));
        bare.insert(id, value(id));
        floor.insert(id, (value(id), expires));
    }
    let ns = wk.killmails();
    let (n, _) = rounds(args);
    let passes = if args.flag("quick") { 60 } else { 200 };
    let (mut ours, mut moka_ns, mut bare_ns, mut floor_ns) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        ours.push(ns_per_hit(&keys, passes, |id| {
            ns.get(id).expect("hit").killmail_id.get()
        }));
        moka_ns.push(ns_per_hit(&keys, passes, |id| {
            moka.get(id).expect("hit").killmail_id.get()
        }));
        bare_ns.push(ns_per_hit(&keys, passes, |id| {
            bare.get(id).expect("hit").killmail_id.get()
        }));
        floor_ns.push(ns_per_hit(&keys, passes, |id| {
            let now = clock.raw();
            let (km, expires) = floor.get(id).expect("hit");
            assert!(now < expires, "fresh");
            km.killmail_id.get()
        }));
    }
    Ok(Some(json!({
        "value": median(ours),
        "moka": median(moka_ns),
        "quick_cache": median(bare_ns),
        "quick_cache_ttl": median(floor_ns),
        "entries": ENTRIES,
        "threads": 2,
    })))
}

/// `character_filter_50k`: kills per second through [`Filter::matches`] with 50,000 characters,
/// against `HashSet<u64>` membership over the same kills' character ids.
pub(crate) fn filter(args: &Args) -> Outcome {
    let mut generator = wk_testkit::Generator::new(11);
    let kills: Vec<Killmail> = (0..20_000).map(|_| generator.killmail()).collect();
    let mut ids: Vec<i64> = Vec::with_capacity(50_000);
    // One kill in ten matches, through its victim or an attacker.
    for (i, km) in kills.iter().enumerate().filter(|(i, _)| i % 10 == 0) {
        if let Some(c) = km.character_ids().nth(i % 3) {
            ids.push(c.get());
        }
    }
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    while ids.len() < 50_000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ids.push(3_000_000_000 + (state % 1_000_000_000) as i64);
    }
    let filter = Filter::new().characters(ids.iter().copied().map(CharacterId::new));
    let set: HashSet<u64> = ids.iter().map(|&c| c as u64).collect();
    let ours_count = kills
        .iter()
        .filter(|k| filter.matches(k, k.system_id))
        .count();
    let bare_count = kills
        .iter()
        .filter(|k| k.character_ids().any(|c| set.contains(&(c.get() as u64))))
        .count();
    if ours_count != bare_count {
        return Err(format!("filter matched {ours_count}, HashSet {bare_count}"));
    }
    let (n, budget) = rounds(args);
    let (mut ours, mut bare) = (Vec::new(), Vec::new());
    for _ in 0..n {
        ours.push(rate(budget, || {
            let hits = kills
                .iter()
                .filter(|k| filter.matches(black_box(k), k.system_id))
                .count();
            black_box(hits);
        }));
        bare.push(rate(budget, || {
            let hits = kills
                .iter()
                .filter(|k| {
                    black_box(k)
                        .character_ids()
                        .any(|c| set.contains(&(c.get() as u64)))
                })
                .count();
            black_box(hits);
        }));
    }
    let per_s = |passes: f64| passes * kills.len() as f64;
    Ok(Some(json!({
        "value": per_s(median(ours)),
        "baseline": per_s(median(bare)),
        "kills": kills.len(),
        "matching": ours_count,
        "characters": ids.len(),
    })))
}
