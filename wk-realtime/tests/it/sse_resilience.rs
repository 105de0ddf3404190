//! Reconnects: the server's `retry:` and `Retry-After` honoured, gap recovery after a drop.

use std::time::Duration;

use tokio::time::Instant;
use wk_realtime::sse::{Client, ConnectionState};
use wk_realtime::{Filter, Origin};
use wk_testkit::{Fault, Generator, Profile, TestServer};
use wk_types::SystemId;

use crate::sse_support::{client, fixed_backoff, next_kill, wait_state};
use crate::support::{WAIT, start};

const JITA: SystemId = SystemId::new(30000142);

fn fast(server: &TestServer) -> Client {
    Client::builder(server.base_url())
        .reconnect_backoff(fixed_backoff(10))
        .gap_recovery(false)
        .build()
        .unwrap()
}

/// The basic stream opens with `retry: 2000`: after an end of stream the client waits 2 s even
/// though its own backoff is 10 ms.
#[tokio::test(start_paused = true)]
async fn the_servers_retry_is_a_floor() {
    let server = start(Profile::Faithful).await;
    let sub = fast(&server)
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    // Let the `retry:` chunk arrive before the stream ends.
    server
        .wait_for(WAIT, |s| s.sse_open == 1)
        .await
        .expect("open");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ended = Instant::now();
    server.fault(Fault::EndStreams);
    server
        .wait_for(Duration::from_secs(30), |s| s.sse_streams >= 2)
        .await
        .expect("reconnected");
    let waited = ended.elapsed();
    assert!(
        waited >= Duration::from_millis(2000) && waited < Duration::from_millis(2500),
        "waited {waited:?}"
    );
    wait_state(&sub, |s| *s == ConnectionState::Connected).await;
}

/// `503` with `Retry-After: 5`, three times: the stream comes up after 15 s, not after 3 × 10 ms.
#[tokio::test(start_paused = true)]
async fn retry_after_on_503_is_honoured() {
    let server = start(Profile::Faithful).await;
    server.fault(Fault::HttpStatus {
        status: 503,
        retry_after: Some(5),
        count: 3,
    });
    let started = Instant::now();
    let sub = fast(&server)
        .subscribe(Filter::new().systems([JITA]))
        .await
        .expect("a busy server is retried");
    server
        .wait_for(Duration::from_secs(60), |s| s.sse_streams >= 1)
        .await
        .expect("connected in the end");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(15) && waited < Duration::from_secs(16),
        "waited {waited:?}"
    );
    assert_eq!(server.state().http_requests, 4);
    drop(sub);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_missed_while_away_are_recovered_once() {
    let server = start(Profile::Faithful).await;
    let client = client(&server)
        .reconnect_backoff(fixed_backoff(400))
        .max_server_delay(Duration::from_millis(400))
        .build()
        .unwrap();
    let mut sub = client
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    let mut generator = Generator::new(31);
    let before = generator.killmail_in(JITA);
    server.inject(before.clone());
    assert_eq!(
        next_kill(&mut sub).await.killmail.killmail_id,
        before.killmail_id
    );
    server.fault(Fault::DropConnections);
    server
        .wait_for(WAIT, |s| s.sse_open == 0)
        .await
        .expect("dropped");
    let missed = generator.killmail_in(JITA);
    server.inject(missed.clone());
    let got = next_kill(&mut sub).await;
    assert_eq!(
        (got.killmail.killmail_id, got.origin),
        (missed.killmail_id, Origin::Recovered)
    );
    // `before` is in the cache too, but was already delivered.
    let after = generator.killmail_in(JITA);
    server.inject(after.clone());
    let got = next_kill(&mut sub).await;
    assert_eq!(
        (got.killmail.killmail_id, got.origin),
        (after.killmail_id, Origin::Live)
    );
}
