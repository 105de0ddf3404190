//! Namespaces stay within their entry or weight capacity and count what they evict.

use wk_cache::{Capacity, Config, NamespaceConfig, Weigh};
use wk_types::KillmailId;

use super::{killmail, manual};

#[test]
fn entry_capacity_bounds_the_namespace() {
    let config = Config::default().killmails(Config::KILLMAILS.capacity(Capacity::Entries(100)));
    let (cache, _clock) = manual(config);
    for id in 0..1_000 {
        cache.killmails().insert(KillmailId::new(id), killmail(id));
        assert!(cache.killmails().len() <= 100);
    }
    let stats = cache.stats().killmails;
    assert_eq!(stats.inserts, 1_000);
    assert!(stats.entries >= 50, "evicts only what it must: {stats:?}");
    assert_eq!(stats.evictions, stats.inserts - stats.entries);
}

#[test]
fn weight_capacity_bounds_the_total_weight() {
    let value = serde_json::Value::String("x".repeat(1_000));
    let each = value.weigh();
    let limit = 64 * 1024;
    let config = Config::default().esi_data(NamespaceConfig::new(
        Config::ESI_DATA.ttl,
        Capacity::Weight(limit),
    ));
    let (cache, _clock) = manual(config);
    for i in 0..500 {
        cache.esi_data().insert(format!("/k/{i}"), value.clone());
        assert!(cache.esi_data().len() * each <= limit);
    }
    let stats = cache.stats().esi_data;
    assert!(stats.entries >= limit / each / 2, "{stats:?}");
    assert_eq!(stats.evictions, 500 - stats.entries);
}

#[test]
fn a_value_heavier_than_the_namespace_is_not_kept() {
    let config = Config::default().temp_data(Config::TEMP_DATA.capacity(Capacity::Weight(100)));
    let (cache, _clock) = manual(config);
    cache.temp_data().insert(
        "big".to_owned(),
        serde_json::Value::String("x".repeat(1_000)),
    );
    assert!(cache.temp_data().get("big").is_none());
    assert_eq!(cache.stats().temp_data.evictions, 1);

    // Over a small value: the small one is replaced (no eviction), the big one rejected (one).
    cache
        .temp_data()
        .insert("k".to_owned(), serde_json::json!(1));
    cache
        .temp_data()
        .insert("k".to_owned(), serde_json::Value::String("x".repeat(1_000)));
    assert!(cache.temp_data().get("k").is_none());
    assert_eq!(cache.stats().temp_data.evictions, 2);
}

#[test]
fn replacing_a_key_is_not_an_eviction() {
    let (cache, _clock) = manual(Config::default());
    for round in 0..3 {
        cache
            .killmails()
            .insert(KillmailId::new(1), killmail(round));
    }
    let stats = cache.stats().killmails;
    assert_eq!((stats.inserts, stats.evictions, stats.entries), (3, 0, 1));
    let got = cache.killmails().get(&KillmailId::new(1)).expect("fresh");
    assert_eq!(got.killmail_id.get(), 2);
}
