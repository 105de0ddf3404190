//! Counters are exact, per namespace, readable at any time, and mirrored by the metrics hook.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use wk_cache::{Cache, Capacity, Config, EventKind, ManualClock, NamespaceKind};
use wk_types::http::KillList;
use wk_types::{KillmailId, SystemId};

use super::killmail;

#[test]
fn counters_and_hook_agree() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let clock = ManualClock::new();
    let config = Config::default()
        .sweep_interval(None)
        .systems(Config::SYSTEMS.capacity(Capacity::Entries(1)));
    let cache = Cache::builder()
        .config(config)
        .clock(clock.clone())
        .on_event(move |e| {
            seen.lock()
                .expect("not poisoned")
                .push((e.namespace, e.kind))
        })
        .build();

    let km = cache.killmails();
    km.insert(KillmailId::new(1), killmail(1));
    km.insert(KillmailId::new(2), killmail(2));
    assert!(km.get(&KillmailId::new(1)).is_some());
    assert!(km.get(&KillmailId::new(1)).is_some());
    assert!(km.get(&KillmailId::new(3)).is_none());
    assert!(km.remove(&KillmailId::new(2)).is_some());
    clock.advance(Duration::from_secs(300));
    assert!(km.get(&KillmailId::new(1)).is_none());

    let empty = KillList::new(Vec::new(), None, false);
    cache.systems().insert(SystemId::new(1), empty.clone());
    cache.systems().insert(SystemId::new(2), empty);

    let stats = cache.stats();
    assert_eq!(stats.killmails.hits, 2);
    assert_eq!(stats.killmails.misses, 2);
    assert_eq!(stats.killmails.inserts, 2);
    assert_eq!(stats.killmails.expirations, 1);
    assert_eq!(stats.killmails.evictions, 0);
    assert_eq!(stats.killmails.entries, 0);
    assert_eq!(stats.systems.inserts, 2);
    assert_eq!(stats.systems.evictions, 1);
    assert_eq!(stats.systems.entries, 1);
    assert_eq!(stats.esi_data, Default::default());
    assert!((stats.killmails.hit_ratio() - 0.5).abs() < f64::EPSILON);

    let events = events.lock().expect("not poisoned");
    let count = |ns, kind| events.iter().filter(|e| **e == (ns, kind)).count();
    assert_eq!(count(NamespaceKind::Killmails, EventKind::Insert), 2);
    assert_eq!(count(NamespaceKind::Killmails, EventKind::Miss), 2);
    assert_eq!(count(NamespaceKind::Killmails, EventKind::Expire), 1);
    assert_eq!(count(NamespaceKind::Systems, EventKind::Evict), 1);
    assert_eq!(events.len(), 2 + 2 + 1 + 2 + 1);
}

#[test]
fn clear_empties_but_keeps_counting() {
    let cache = Cache::new(Config::default().sweep_interval(None));
    cache
        .temp_data()
        .insert("a".to_owned(), serde_json::json!(1));
    cache
        .esi_data()
        .insert("b".to_owned(), serde_json::json!(2));
    cache.clear();
    assert!(cache.temp_data().get("a").is_none());
    assert!(cache.esi_data().is_empty());
    let stats = cache.stats();
    assert_eq!((stats.temp_data.inserts, stats.temp_data.misses), (1, 1));
}

#[test]
fn stats_serialize_with_the_seed_names() {
    let cache = Cache::new(Config::default().sweep_interval(None));
    cache.killmails().insert(KillmailId::new(1), killmail(1));
    let json = serde_json::to_value(cache.stats()).expect("serializes");
    assert_eq!(json["killmails"]["inserts"], 1);
    assert_eq!(json["temp_data"]["hits"], 0);
    assert!(json["esi_data"]["expirations"].is_u64());
}
