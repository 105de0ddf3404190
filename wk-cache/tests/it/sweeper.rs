//! The background sweeper drops expired entries on its tick and stops with the cache.

use std::time::Duration;

use tokio::runtime::Handle;
use wk_cache::{Cache, Config, ManualClock};
use wk_types::KillmailId;

use super::killmail;

fn swept_cache(clock: &ManualClock) -> Cache {
    Cache::builder()
        .config(Config::default().sweep_interval(Some(Duration::from_secs(60))))
        .clock(clock.clone())
        .build()
}

async fn settle() {
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
}

#[tokio::test(start_paused = true)]
async fn the_sweeper_drops_expired_entries_on_its_tick() {
    let clock = ManualClock::new();
    let cache = swept_cache(&clock);
    cache.killmails().insert(KillmailId::new(1), killmail(1));
    cache
        .temp_data()
        .insert("t".to_owned(), serde_json::json!(1));
    cache.systems().insert(
        wk_types::SystemId::new(1),
        wk_types::http::KillList::new(Vec::new(), None, false),
    );
    clock.advance(Duration::from_secs(300));

    tokio::time::advance(Duration::from_secs(59)).await;
    settle().await;
    assert_eq!(cache.killmails().len(), 1, "no tick yet");

    tokio::time::advance(Duration::from_secs(1)).await;
    settle().await;
    let stats = cache.stats();
    assert_eq!(
        (stats.killmails.entries, stats.killmails.expirations),
        (0, 1)
    );
    assert_eq!(
        (stats.temp_data.entries, stats.temp_data.expirations),
        (0, 1)
    );
    assert_eq!(stats.systems.entries, 1, "an hour-long TTL survives");
}

#[tokio::test(start_paused = true)]
async fn the_sweeper_stops_when_the_cache_is_dropped() {
    let metrics = Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    let cache = swept_cache(&ManualClock::new());
    let clone = cache.clone();
    assert_eq!(metrics.num_alive_tasks(), before + 1);
    drop(cache);
    settle().await;
    assert_eq!(
        metrics.num_alive_tasks(),
        before + 1,
        "a clone keeps it alive"
    );
    drop(clone);
    settle().await;
    assert_eq!(metrics.num_alive_tasks(), before);
}

#[tokio::test(start_paused = true)]
async fn no_sweeper_when_disabled() {
    let metrics = Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    let _cache = Cache::new(Config::default().sweep_interval(None));
    assert_eq!(metrics.num_alive_tasks(), before);
}

#[test]
fn outside_a_runtime_expiry_is_lazy_and_sweep_is_manual() {
    let clock = ManualClock::new();
    let cache = swept_cache(&clock);
    cache.killmails().insert(KillmailId::new(1), killmail(1));
    cache.killmails().insert(KillmailId::new(2), killmail(2));
    cache
        .killmails()
        .insert_with_ttl(KillmailId::new(3), killmail(3), Duration::from_secs(600));
    clock.advance(Duration::from_secs(300));
    assert_eq!(cache.killmails().len(), 3);
    assert_eq!(cache.sweep(), 2);
    assert_eq!(cache.killmails().len(), 1);
    assert_eq!(cache.stats().killmails.expirations, 2);
}
