//! The enhanced stream: the designed event sequence, and the real server's early end and leaking
//! connection cap without hot loops.

use std::time::Duration;

use wk_realtime::sse::{ConnectionState, StreamKind};
use wk_realtime::{Filter, KillEvent, Origin, Progress};
use wk_testkit::{Generator, Profile, TestServer};
use wk_types::SystemId;

use crate::sse_support::{client, next_event, next_kill, wait_state};
use crate::support::WAIT;

const JITA: SystemId = SystemId::new(30000142);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn designed_history_in_batches_then_live() {
    let server = TestServer::builder()
        .profile(Profile::Designed)
        .batch_size(2)
        .batch_delay(Duration::from_millis(5))
        .heartbeat_interval(Duration::from_millis(50))
        .start()
        .await
        .unwrap();
    let mut generator = Generator::new(21);
    let history: Vec<_> = (0..5).map(|_| generator.killmail_in(JITA)).collect();
    server.seed_store(history.clone());
    let client = client(&server)
        .heartbeat_interval(Duration::from_millis(500))
        .build()
        .unwrap();
    let mut sub = client
        .subscribe_enhanced(Filter::new().systems([JITA]), 1)
        .await
        .unwrap();
    assert_eq!(sub.kind(), StreamKind::Enhanced { preload_days: 1 });
    let mut seen = Vec::new();
    let mut batches = Vec::new();
    let total = loop {
        match next_event(&mut sub).await.unwrap() {
            KillEvent::Kill(k) => {
                assert_eq!(k.origin, Origin::History);
                seen.push(k.killmail.killmail_id);
            }
            KillEvent::Progress(Progress::Batch { batch, total }) => batches.push((batch, total)),
            KillEvent::Progress(Progress::Complete { total }) => break total,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(total, 5);
    assert_eq!(batches, [(1, 3), (2, 3), (3, 3)]);
    seen.sort();
    let mut want: Vec<_> = history.iter().map(|k| k.killmail_id).collect();
    want.sort();
    assert_eq!(seen, want);
    let live = generator.killmail_in(JITA);
    server.inject(live.clone());
    let got = next_kill(&mut sub).await;
    assert_eq!(
        (got.killmail.killmail_id, got.origin),
        (live.killmail_id, Origin::Live)
    );
    // Heartbeats every 50 ms keep the 1 s watchdog quiet: one stream all along. The events the
    // server writes measure the time: 24 more of them span 1.2 s.
    let written = server.state().sse_events;
    let state = server
        .wait_for(WAIT, |s| s.sse_events >= written + 24)
        .await
        .expect("heartbeats go on");
    assert_eq!(state.enhanced_requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_enhanced_stream_is_replaced() {
    // The server's heartbeat is far away; the client expects one every 50 ms.
    let server = TestServer::builder()
        .profile(Profile::Designed)
        .heartbeat_interval(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let client = client(&server)
        .heartbeat_interval(Duration::from_millis(50))
        .build()
        .unwrap();
    let sub = client
        .subscribe_enhanced(Filter::new().systems([JITA]), 0)
        .await
        .unwrap();
    server
        .wait_for(WAIT, |s| s.enhanced_requests >= 3)
        .await
        .expect("the watchdog replaced the stream");
    drop(sub);
    server
        .wait_for(WAIT, |s| s.sse_open == 0)
        .await
        .expect("dropping the subscription closes the stream");
}

/// The real server answers every enhanced request with an empty 200: each one is a failed
/// attempt, and the delays grow to the cap. Paused time: five virtual minutes.
#[tokio::test(start_paused = true)]
async fn faithful_early_end_backs_off_instead_of_looping() {
    let server = TestServer::builder()
        .profile(Profile::Faithful)
        .enhanced_cap(10_000)
        .start()
        .await
        .unwrap();
    let client = wk_realtime::sse::Client::builder(server.base_url())
        .reconnect_backoff(
            wk_retry::BackoffConfig::default()
                .base(Duration::from_secs(1))
                .max(Duration::from_secs(30))
                .min(Duration::from_millis(100))
                .seed(7),
        )
        .gap_recovery(false)
        .build()
        .unwrap();
    let sub = client
        .subscribe_enhanced(Filter::new().systems([JITA]), 0)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(300)).await;
    let attempts = server.state().enhanced_requests;
    // A hot loop would make thousands; 1 s doubling to a 30 s cap allows about 20 in 300 s.
    assert!((5..=40).contains(&attempts), "{attempts} attempts in 300 s");
    let state = sub.state().borrow().clone();
    let attempt = match state {
        ConnectionState::Reconnecting { attempt, .. } | ConnectionState::Connecting { attempt } => {
            attempt
        }
        other => panic!("unexpected {other:?}"),
    };
    assert!(attempt >= 5, "the backoff never reset: attempt {attempt}");
}

/// The cap leaks: after two streams every request gets `503 connection_limit_reached`. Retried
/// with backoff, never in a hot loop.
#[tokio::test(start_paused = true)]
async fn faithful_connection_limit_is_retried_with_backoff() {
    let server = TestServer::builder()
        .profile(Profile::Faithful)
        .enhanced_cap(2)
        .start()
        .await
        .unwrap();
    let client = wk_realtime::sse::Client::builder(server.base_url())
        .reconnect_backoff(
            wk_retry::BackoffConfig::default()
                .base(Duration::from_secs(1))
                .max(Duration::from_secs(30))
                .min(Duration::from_millis(100))
                .seed(8),
        )
        .gap_recovery(false)
        .build()
        .unwrap();
    let sub = client
        .subscribe_enhanced(Filter::new().systems([JITA]), 0)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(300)).await;
    let state = server.state();
    assert_eq!(state.enhanced_requests, 2, "two got in, then the cap");
    assert!(
        (5..=40).contains(&state.http_requests),
        "{} requests in 300 s",
        state.http_requests
    );
    // A 503 on the first attempt is not an error either: the stream just waits.
    let late = client
        .subscribe_enhanced(Filter::new().systems([JITA]), 0)
        .await
        .expect("503 is retried, not refused");
    wait_state(&late, |s| matches!(s, ConnectionState::Reconnecting { .. })).await;
    drop(sub);
}
