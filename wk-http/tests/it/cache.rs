//! Read-through caching of killmails and cached system kills (the `cache` feature).

use std::time::Duration;

use wk_cache::{Cache, Lookup, ManualClock};
use wk_testkit::{Generator, Profile};
use wk_types::http::KillmailLookup;
use wk_types::{KillmailId, SystemId};

use super::start;

fn cached_client(server: &wk_testkit::TestServer, cache: Cache) -> wk_http::Client {
    wk_http::Client::builder()
        .base_url(server.base_url())
        .cache(cache)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_misses_make_one_request() {
    let server = start(Profile::Faithful).await;
    let kill = Generator::new(1).killmail_in(SystemId::new(30000142));
    server.seed_store([kill.clone()]);
    let http = cached_client(&server, Cache::default());
    let calls: Vec<_> = (0..100)
        .map(|_| {
            let http = http.clone();
            tokio::spawn(async move { http.killmail(kill.killmail_id).await })
        })
        .collect();
    for call in calls {
        let got = call.await.unwrap().unwrap();
        assert_eq!(got.killmail().unwrap().killmail_id, kill.killmail_id);
    }
    assert_eq!(
        server.state().http_requests,
        1,
        "100 concurrent misses, one load"
    );
    let stats = http.cache().unwrap().stats().killmails;
    assert_eq!(stats.inserts, 1);
}

#[tokio::test]
async fn entries_expire_with_the_namespace_ttl_and_refill() {
    let server = start(Profile::Faithful).await;
    let system = SystemId::new(30002813);
    let mut generator = Generator::new(2);
    server.seed_store([generator.killmail_in(system)]);
    let clock = ManualClock::new();
    let http = cached_client(&server, Cache::builder().clock(clock.clone()).build());
    assert_eq!(http.cached_kills(system).await.unwrap().kills.len(), 1);
    server.seed_store([generator.killmail_in(system)]);
    assert_eq!(
        http.cached_kills(system).await.unwrap().kills.len(),
        1,
        "still cached"
    );
    clock.advance(Duration::from_secs(3600));
    assert_eq!(
        http.cached_kills(system).await.unwrap().kills.len(),
        2,
        "the systems TTL is 1 h"
    );
    assert_eq!(server.state().http_requests, 2);
}

#[tokio::test]
async fn lookups_bypass_and_refresh_per_request() {
    let server = start(Profile::Faithful).await;
    let system = SystemId::new(30000142);
    server.seed_store([Generator::new(3).killmail_in(system)]);
    let http = cached_client(&server, Cache::default());
    http.cached_kills(system).await.unwrap();
    http.cached_kills(system)
        .lookup(Lookup::Bypass)
        .await
        .unwrap();
    http.cached_kills(system)
        .lookup(Lookup::Refresh)
        .await
        .unwrap();
    http.cached_kills(system).await.unwrap();
    assert_eq!(
        server.state().http_requests,
        3,
        "bypass and refresh load; the last read hits"
    );
}

#[tokio::test]
async fn only_found_killmails_are_cached() {
    let server = start(Profile::Faithful).await;
    server.set_kill_older(KillmailId::new(1));
    let http = cached_client(&server, Cache::default());
    for _ in 0..2 {
        assert_eq!(
            http.killmail(KillmailId::new(1)).await.unwrap(),
            KillmailLookup::KillOlder
        );
        assert!(
            http.killmail(KillmailId::new(2)).await.is_err(),
            "404 is not cached"
        );
    }
    assert_eq!(server.state().http_requests, 4);
}
