//! Each namespace expires entries at exactly its TTL, on the manual clock.

use std::time::Duration;

use wk_cache::{Capacity, Config, NamespaceConfig};
use wk_types::http::KillList;
use wk_types::{KillmailId, SystemId};

use super::{NS, killmail, manual};

#[test]
fn every_namespace_expires_at_its_own_ttl() {
    let (cache, clock) = manual(Config::default());
    let km = KillmailId::new(1);
    let sys = SystemId::new(30_000_142);
    cache.killmails().insert(km, killmail(1));
    cache
        .systems()
        .insert(sys, KillList::new(vec![killmail(1)], None, true));
    cache
        .esi_data()
        .insert("esi".to_owned(), serde_json::json!("esi"));
    cache
        .temp_data()
        .insert("tmp".to_owned(), serde_json::json!("tmp"));

    // Five minutes less a nanosecond: everything is fresh.
    clock.advance(Duration::from_secs(5 * 60) - NS);
    assert!(cache.killmails().get(&km).is_some());
    assert!(cache.temp_data().get("tmp").is_some());
    // At five minutes killmails and temp_data are gone, the others stay.
    clock.advance(NS);
    assert!(cache.killmails().get(&km).is_none());
    assert!(cache.temp_data().get("tmp").is_none());
    assert!(cache.systems().get(&sys).is_some());
    assert!(cache.esi_data().get("esi").is_some());

    clock.set(Duration::from_secs(3_600) - NS);
    assert!(cache.systems().get(&sys).is_some());
    clock.advance(NS);
    assert!(cache.systems().get(&sys).is_none());
    assert!(cache.esi_data().get("esi").is_some());

    clock.set(Duration::from_secs(86_400) - NS);
    assert!(cache.esi_data().get("esi").is_some());
    clock.advance(NS);
    assert!(cache.esi_data().get("esi").is_none());

    let stats = cache.stats();
    for ns in [
        stats.killmails,
        stats.systems,
        stats.esi_data,
        stats.temp_data,
    ] {
        assert_eq!(ns.expirations, 1);
        assert_eq!(ns.entries, 0);
    }
}

#[test]
fn configured_ttl_and_per_insert_ttl() {
    let config = Config::default().killmails(NamespaceConfig::new(
        Duration::from_secs(10),
        Capacity::Entries(100),
    ));
    let (cache, clock) = manual(config);
    assert_eq!(cache.killmails().ttl(), Duration::from_secs(10));
    cache.killmails().insert(KillmailId::new(1), killmail(1));
    cache
        .killmails()
        .insert_with_ttl(KillmailId::new(2), killmail(2), Duration::from_secs(30));
    clock.advance(Duration::from_secs(10));
    assert!(cache.killmails().get(&KillmailId::new(1)).is_none());
    assert!(cache.killmails().get(&KillmailId::new(2)).is_some());
    clock.advance(Duration::from_secs(20));
    assert!(cache.killmails().get(&KillmailId::new(2)).is_none());
}

#[test]
fn reinsert_restarts_the_ttl() {
    let (cache, clock) = manual(Config::default());
    let key = "k".to_owned();
    cache.temp_data().insert(key.clone(), serde_json::json!(1));
    clock.advance(Duration::from_secs(200));
    cache.temp_data().insert(key.clone(), serde_json::json!(2));
    clock.advance(Duration::from_secs(200));
    assert_eq!(
        *cache.temp_data().get("k").expect("fresh"),
        serde_json::json!(2)
    );
}

#[test]
fn expired_entries_are_removed_when_read_or_removed() {
    let (cache, clock) = manual(Config::default());
    cache.killmails().insert(KillmailId::new(1), killmail(1));
    cache.killmails().insert(KillmailId::new(2), killmail(2));
    clock.advance(Duration::from_secs(300));
    assert_eq!(cache.killmails().len(), 2, "expiry is lazy until read");
    assert!(cache.killmails().get(&KillmailId::new(1)).is_none());
    assert!(cache.killmails().remove(&KillmailId::new(2)).is_none());
    assert!(cache.killmails().is_empty());
    assert_eq!(cache.stats().killmails.expirations, 2);
}

#[test]
fn zero_ttl_is_never_readable() {
    let (cache, _clock) = manual(Config::default());
    cache
        .temp_data()
        .insert_with_ttl("k".to_owned(), serde_json::json!(1), Duration::ZERO);
    assert!(cache.temp_data().get("k").is_none());
}

#[tokio::test]
async fn get_or_insert_with_reloads_after_expiry() {
    let (cache, clock) = manual(Config::default());
    let id = KillmailId::new(7);
    let mut loads = 0;
    for _ in 0..2 {
        let km = cache
            .killmails()
            .get_or_insert_with(&id, || {
                loads += 1;
                async { Ok::<_, ()>(killmail(7)) }
            })
            .await
            .expect("loads");
        assert_eq!(km.killmail_id, id);
    }
    assert_eq!(loads, 1);
    clock.advance(Duration::from_secs(300));
    cache
        .killmails()
        .get_or_insert_with(&id, || {
            loads += 1;
            async { Ok::<_, ()>(killmail(7)) }
        })
        .await
        .expect("reloads");
    assert_eq!(loads, 2);
    let stats = cache.stats().killmails;
    assert_eq!((stats.hits, stats.misses, stats.inserts), (1, 2, 2));
    assert_eq!((stats.expirations, stats.entries), (1, 1));
}
