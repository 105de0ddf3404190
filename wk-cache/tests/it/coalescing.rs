//! Concurrent misses on one key run one loader; failed and cancelled loads hand over to a waiter.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use wk_cache::{Cache, Config};
use wk_types::KillmailId;

use super::{killmail, manual};

/// Lets the spawned tasks run until each is parked.
async fn settle() {
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
}

/// Spawns `n` callers of `get_or_insert_with` on one key; each loader counts itself, then waits for
/// a permit from `gate`. With `fail_first`, the first load of all fails.
fn spawn_callers(
    cache: &Cache,
    n: usize,
    (loads, gate): (&Arc<AtomicUsize>, &Arc<Semaphore>),
    fail_first: bool,
) -> JoinSet<Result<i64, String>> {
    let mut set = JoinSet::new();
    for _ in 0..n {
        let (cache, loads, gate) = (cache.clone(), Arc::clone(loads), Arc::clone(gate));
        set.spawn(async move {
            cache
                .killmails()
                .get_or_insert_with(&KillmailId::new(42), || async move {
                    let attempt = loads.fetch_add(1, Ordering::SeqCst);
                    let _permit = gate.acquire().await.map_err(|e| e.to_string())?;
                    if attempt == 0 && fail_first {
                        return Err("upstream failed".to_owned());
                    }
                    Ok(killmail(42))
                })
                .await
                .map(|km| km.killmail_id.get())
        });
    }
    set
}

#[tokio::test]
async fn hundred_concurrent_misses_load_once() {
    let (cache, _clock) = manual(Config::default());
    let loads = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(0));
    let callers = spawn_callers(&cache, 100, (&loads, &gate), false);
    settle().await;
    assert_eq!(loads.load(Ordering::SeqCst), 1, "one loader, 99 waiting");
    gate.add_permits(100);
    let results = callers.join_all().await;
    assert!(results.iter().all(|r| r == &Ok(42)));
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    let stats = cache.stats().killmails;
    assert_eq!((stats.misses, stats.hits, stats.inserts), (1, 99, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_concurrent_misses_load_once_on_threads() {
    let (cache, _clock) = manual(Config::default());
    let loads = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(0));
    let callers = spawn_callers(&cache, 100, (&loads, &gate), false);
    while loads.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    gate.add_permits(100);
    let results = callers.join_all().await;
    assert!(results.iter().all(|r| r == &Ok(42)));
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    assert_eq!(cache.stats().killmails.hits, 99);
}

#[tokio::test]
async fn a_failed_load_is_not_cached_and_a_waiter_retries() {
    let (cache, _clock) = manual(Config::default());
    let loads = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(0));
    let callers = spawn_callers(&cache, 3, (&loads, &gate), true);
    settle().await;
    gate.add_permits(3);
    let results = callers.join_all().await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(
        failed, 1,
        "only the failing loader's caller sees its error: {results:?}"
    );
    assert_eq!(loads.load(Ordering::SeqCst), 2, "one waiter took over");
    let stats = cache.stats().killmails;
    assert_eq!((stats.misses, stats.hits, stats.inserts), (2, 1, 1));
}

#[tokio::test]
async fn a_cancelled_load_hands_over_to_a_waiter() {
    let (cache, _clock) = manual(Config::default());
    let loads = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(Semaphore::new(0));
    let mut first = spawn_callers(&cache, 1, (&loads, &gate), false);
    settle().await;
    let rest = spawn_callers(&cache, 2, (&loads, &gate), false);
    settle().await;
    assert_eq!(loads.load(Ordering::SeqCst), 1);
    first.abort_all();
    settle().await;
    assert_eq!(
        loads.load(Ordering::SeqCst),
        2,
        "a waiter started its own load"
    );
    gate.add_permits(2);
    assert!(rest.join_all().await.iter().all(|r| r == &Ok(42)));
    assert!(cache.killmails().get(&KillmailId::new(42)).is_some());
}

#[test]
fn futures_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let cache = Cache::new(Config::default().sweep_interval(None));
    let id = KillmailId::new(1);
    let fut = cache
        .killmails()
        .get_or_insert_with(&id, || async { Ok::<_, ()>(killmail(1)) });
    assert_send(&fut);
    let fut = cache
        .esi_data()
        .load("k", wk_cache::Lookup::Refresh, || async {
            Ok::<_, ()>(serde_json::Value::Null)
        });
    assert_send(&fut);
    fn assert_sync<T: Send + Sync + Clone>(_: &T) {}
    assert_sync(&cache);
}
