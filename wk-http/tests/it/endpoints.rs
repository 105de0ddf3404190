//! A typed call for every endpoint, in both profiles where they differ.

use wk_testkit::{Generator, Profile};
use wk_types::http::{CreateSubscription, HealthStatus, KillmailLookup, SubscriptionKind};
use wk_types::{CharacterId, KillmailId, KillmailShape, SystemId};

use super::{client, start};

const JITA: SystemId = SystemId::new(30000142);
const TAMA: SystemId = SystemId::new(30002813);

#[tokio::test]
async fn system_kills_are_references_on_the_real_server() {
    let server = start(Profile::Faithful).await;
    let mut generator = Generator::new(1);
    let kills: Vec<_> = (0..3).map(|_| generator.killmail_in(JITA)).collect();
    server.seed_store(kills.clone());
    let http = client(&server);
    let page = http
        .system_kills(JITA)
        .since_hours(1)
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.kills.len(), 2, "limit applies");
    assert!(!page.cached);
    assert!(
        page.kills
            .iter()
            .all(|k| k.shape() == KillmailShape::Reference)
    );
    // IntoFuture: the builder can be awaited directly.
    let all = http.system_kills(JITA).await.unwrap();
    assert_eq!(all.kills.len(), 3);
}

#[tokio::test]
async fn bulk_systems_key_by_system() {
    let server = start(Profile::Faithful).await;
    let mut generator = Generator::new(2);
    server.seed_store([generator.killmail_in(JITA), generator.killmail_in(TAMA)]);
    let bulk = client(&server)
        .systems_kills([JITA, TAMA, SystemId::new(31000005)])
        .limit(10)
        .send()
        .await
        .unwrap();
    assert_eq!(bulk.systems_kills.len(), 3);
    assert_eq!(bulk.systems_kills[&JITA].len(), 1);
    assert!(bulk.systems_kills[&SystemId::new(31000005)].is_empty());
}

#[tokio::test]
async fn cached_kills_and_killmail_lookup_shapes() {
    let server = start(Profile::Faithful).await;
    let mut generator = Generator::new(3);
    let stored = generator.killmail_in(TAMA);
    server.seed_store([stored.clone()]);
    let upstream = generator.killmail_in(JITA);
    server.set_upstream(upstream.clone());
    server.set_kill_older(KillmailId::new(1));
    let http = client(&server);
    let cached = http.cached_kills(TAMA).await.unwrap();
    assert!(cached.cached);
    assert_eq!(cached.kills[0].shape(), KillmailShape::Stored);
    assert_eq!(cached.kills[0].killmail_id, stored.killmail_id);

    let from_store = http.killmail(stored.killmail_id).await.unwrap();
    assert_eq!(
        from_store.killmail().unwrap().shape(),
        KillmailShape::Stored
    );
    let fetched = http.killmail(upstream.killmail_id).await.unwrap();
    assert_eq!(
        fetched.killmail().unwrap().shape(),
        KillmailShape::Canonical
    );
    assert_eq!(fetched.killmail().unwrap().victim, upstream.victim);
    assert_eq!(
        http.killmail(KillmailId::new(1)).await.unwrap(),
        KillmailLookup::KillOlder
    );
}

#[tokio::test]
async fn kill_count_per_profile() {
    for (profile, want) in [(Profile::Faithful, 0), (Profile::Designed, 2)] {
        let server = start(profile).await;
        let mut generator = Generator::new(4);
        server.inject_many([generator.killmail_in(JITA), generator.killmail_in(JITA)]);
        let count = client(&server).kill_count(JITA).await.unwrap();
        assert_eq!((count.system_id, count.count), (JITA, want), "{profile}");
    }
}

#[tokio::test]
async fn subscriptions_lifecycle() {
    let server = start(Profile::Faithful).await;
    let http = client(&server);
    let request = CreateSubscription::new("tama-intel-bot", "http://127.0.0.1:9/hook")
        .systems([TAMA, JITA])
        .characters([CharacterId::new(95465499)]);
    let created = http.create_subscription(&request).await.unwrap();
    assert!(created.subscription_id.is_well_formed());
    let again = http.create_subscription(&request).await.unwrap();
    assert_ne!(again.subscription_id, created.subscription_id, "no upsert");
    let list = http.subscriptions().await.unwrap();
    assert_eq!(list.count, 2);
    let sub = &list.subscriptions[0];
    assert_eq!(sub.kind, SubscriptionKind::Webhook);
    assert_eq!(sub.system_ids, [JITA, TAMA], "normalised: sorted");
    let stats = http.subscription_stats().await.unwrap();
    assert_eq!(
        (
            stats.webhook_subscriptions,
            stats.total_systems,
            stats.total_characters
        ),
        (2, 2, 1)
    );
    let deleted = http.delete_subscription("tama-intel-bot").await.unwrap();
    assert_eq!(deleted.subscriber_id, "tama-intel-bot");
    assert_eq!(http.subscriptions().await.unwrap().count, 0);
    // Deleting again still answers 200.
    assert!(http.delete_subscription("tama-intel-bot").await.is_ok());
}

#[tokio::test]
async fn info_endpoints() {
    let server = start(Profile::Faithful).await;
    let http = client(&server);
    assert_eq!(http.ping().await.unwrap(), "pong");
    let health = http.health().await.unwrap();
    assert!(health.healthy);
    assert_eq!(health.status, Some(HealthStatus::Ok));
    let status = http.status().await.unwrap();
    assert!(status.summary.uptime_hours >= 0.0);
    let info = http.websocket_info().await.unwrap();
    assert!(info.websocket_url.starts_with("ws://"));
    assert!(info.websocket_url.ends_with("/socket"));
    let ws = http.websocket_status().await.unwrap();
    assert_eq!(ws.status, "operational");
    let openapi = http.openapi().await.unwrap();
    assert!(openapi.get("openapi").is_some());
}

/// `/status` under each server generation's key names (PROTOCOL.md §18.3).
#[tokio::test]
async fn status_reads_every_generations_keys() {
    use wk_types::http::StatusKeys;
    for profile in Profile::ALL {
        let server = start(profile).await;
        let http = client(&server);
        server.inject(wk_testkit::Generator::new(3).killmail());
        let status = http.status().await.unwrap();
        let want = match profile {
            Profile::Faithful => Some(StatusKeys::R2z2),
            Profile::Legacy => Some(StatusKeys::RedisQ),
            _ => None,
        };
        assert_eq!(status.key_set(), want, "{profile}");
        let processing = status.processing().expect("metrics.processing");
        if want.is_some() {
            assert_eq!(processing.killmails_received, Some(1.0), "{profile}");
            assert!(processing.last_killmail_ago().is_some(), "{profile}");
        } else {
            assert_eq!(processing.killmails_received, None, "{profile}");
        }
        // Every section comes through, modelled or not.
        let json = serde_json::to_value(&status).unwrap();
        assert!(json["metrics"]["storage"].is_object(), "{profile}: {json}");
        if let Some(keys) = want {
            assert_eq!(
                json["metrics"]["processing"][keys.received_key()],
                1,
                "{json}"
            );
        }
    }
}

#[tokio::test]
async fn one_pool_serves_many_concurrent_calls() {
    let server = start(Profile::Faithful).await;
    let http = client(&server);
    let calls = (0..50).map(|_| {
        let http = http.clone();
        tokio::spawn(async move { http.ping().await })
    });
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), "pong");
    }
    assert_eq!(server.state().http_requests, 50);
}
