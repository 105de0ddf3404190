//! The in-process hub: topic fan-out, de-duplication, lag, unsubscribe, and feeds from the
//! transports.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use wk_realtime::hub::{Config, Hub, HubSubscription, Topic};
use wk_realtime::{Filter, Kill, KillEvent, Origin};
use wk_testkit::{Generator, Profile};
use wk_types::phoenix::KillCountUpdate;
use wk_types::{CharacterId, Killmail, SystemId};

use crate::support::{WAIT, start};
use futures_util::FutureExt;

const JITA: SystemId = SystemId::new(30000142);
const AMARR: SystemId = SystemId::new(30002187);

fn live(km: &Killmail) -> KillEvent {
    KillEvent::Kill(Kill::new(Arc::new(km.clone()), Origin::Live))
}

/// Everything queued on `sub` right now (outside tokio's cooperative budget, which would report
/// a queue as empty after a few hundred polls).
fn queued(sub: &mut HubSubscription) -> Vec<KillEvent> {
    let mut out = Vec::new();
    while let Some(Some(event)) = tokio::task::unconstrained(sub.next()).now_or_never() {
        out.push(event);
    }
    out
}

#[tokio::test]
async fn a_kill_reaches_every_topic_it_touches_once() {
    let hub = Hub::new();
    let km = Generator::new(41).killmail_in(JITA);
    let victim = km.victim.as_ref().unwrap().character_id.unwrap();
    let attacker = km.attackers.iter().find_map(|a| a.character_id).unwrap();
    let mut all = hub.subscribe(Topic::All);
    let mut jita = hub.subscribe(Topic::System(JITA));
    let mut amarr = hub.subscribe(Topic::System(AMARR));
    let mut v = hub.subscribe(Topic::Character(victim));
    let mut a = hub.subscribe(Topic::Character(attacker));
    let mut nobody = hub.subscribe(Topic::Character(CharacterId::new(1)));
    let event = live(&km);
    hub.publish(&event);
    hub.publish(&event);
    for sub in [&mut all, &mut jita, &mut v, &mut a] {
        assert_eq!(queued(sub), std::slice::from_ref(&event), "{}", sub.topic());
    }
    assert!(queued(&mut amarr).is_empty());
    assert!(queued(&mut nobody).is_empty());
    assert_eq!(Topic::System(JITA).to_string(), "system:30000142");
}

#[tokio::test]
async fn kill_counts_go_to_the_system_topic() {
    let hub = Hub::new();
    let mut all = hub.subscribe(Topic::All);
    let mut jita = hub.subscribe(Topic::System(JITA));
    let count = KillEvent::KillCount(KillCountUpdate::new(JITA, 3, None));
    hub.publish(&count);
    hub.publish(&KillEvent::Lagged(5));
    assert_eq!(queued(&mut jita), [count]);
    assert!(queued(&mut all).is_empty());
}

#[tokio::test]
async fn a_full_subscriber_lags_without_slowing_the_others() {
    let hub = Hub::with_config(&Config::default().queue_capacity(2));
    let mut slow = hub.subscribe(Topic::System(JITA));
    let mut generator = Generator::new(42);
    let kills: Vec<_> = (0..5).map(|_| generator.killmail_in(JITA)).collect();
    let mut fast = hub.subscribe(Topic::All);
    for km in &kills {
        hub.publish(&live(km));
        assert_eq!(queued(&mut fast).len(), 1);
    }
    let got = queued(&mut slow);
    assert_eq!(got[..2], [live(&kills[0]), live(&kills[1])]);
    assert_eq!(got[2..], [KillEvent::Lagged(3)]);
    // The count comes first once there is room again.
    let next = generator.killmail_in(JITA);
    hub.publish(&live(&next));
    assert_eq!(queued(&mut slow), [live(&next)]);
}

#[tokio::test]
async fn thousands_of_subscribers_come_and_go() {
    let hub = Hub::new();
    let km = Generator::new(43).killmail_in(JITA);
    let victim = km.victim.as_ref().unwrap().character_id.unwrap();
    let mut quiet: Vec<_> = (0..5_000)
        .map(|i| hub.subscribe(Topic::Character(CharacterId::new(2_000_000_000 + i))))
        .collect();
    let mut hits: Vec<_> = (0..1_000)
        .map(|_| hub.subscribe(Topic::Character(victim)))
        .collect();
    assert_eq!(hub.subscriber_count(), 6_000);
    let started = std::time::Instant::now();
    hub.publish(&live(&km));
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(hits.iter_mut().all(|s| queued(s).len() == 1));
    assert!(queued(&mut quiet[0]).is_empty());
    quiet.truncate(10);
    hits.clear();
    assert_eq!(hub.subscriber_count(), 10);
    assert_eq!(hub.topic_subscribers(Topic::Character(victim)), 0);
}

/// WebSocket and SSE both feed the hub; each kill reaches a subscriber once.
#[cfg(feature = "sse")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websocket_and_sse_feed_one_hub() {
    let server = start(Profile::Faithful).await;
    let hub = Hub::new();
    let ws = crate::support::client(&server).connect().await.unwrap();
    let ws_sub = ws.subscribe(Filter::new().systems([JITA])).await.unwrap();
    let sse = crate::sse_support::client(&server).build().unwrap();
    let sse_sub = sse.subscribe(Filter::new().systems([JITA])).await.unwrap();
    let feeds = [hub.attach(ws_sub), hub.attach(sse_sub)];
    let mut jita = hub.subscribe(Topic::System(JITA));
    let kill = Generator::new(44).killmail_in(JITA);
    server.inject(kill.clone());
    let got = tokio::time::timeout(WAIT, jita.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.killmail().unwrap().killmail_id, kill.killmail_id);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), jita.next())
            .await
            .is_err(),
        "the other transport's copy is dropped"
    );
    for feed in feeds {
        feed.abort();
    }
}
