//! The basic stream in every profile: client-side filters, de-duplication, lag, size cap.

use std::time::Duration;

use wk_realtime::sse::{Client, ConnectionState};
use wk_realtime::{Error, Filter, Origin};
use wk_testkit::{Fault, Generator, Profile, TestServer};
use wk_types::{CharacterId, Killmail, SystemId};

use crate::sse_support::{client, drain_kills, next_event, next_kill, wait_state};
use crate::support::{Split, WAIT, count_kills, start};

const JITA: SystemId = SystemId::new(30000142);
const AMARR: SystemId = SystemId::new(30002187);

fn with_value(mut km: Killmail, isk: f64) -> Killmail {
    km.zkb
        .as_mut()
        .expect("generated kills have zkb")
        .total_value = Some(isk);
    km
}

fn victim(km: &Killmail) -> CharacterId {
    km.victim
        .as_ref()
        .and_then(|v| v.character_id)
        .expect("a pilot")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_kill_once_however_often_the_server_sends_it() {
    for profile in Profile::ALL {
        let server = start(profile).await;
        let client = client(&server).build().unwrap();
        let mut sub = client
            .subscribe(Filter::new().systems([JITA]))
            .await
            .unwrap();
        let mut generator = Generator::new(1);
        let elsewhere = generator.killmail_in(AMARR);
        let kill = generator.killmail_in(JITA);
        server.inject(elsewhere);
        server.inject(kill.clone());
        let got = next_kill(&mut sub).await;
        assert_eq!(got.killmail.killmail_id, kill.killmail_id, "{profile}");
        assert_eq!(got.origin, Origin::Live);
        assert!(
            drain_kills(&mut sub, Duration::from_millis(200))
                .await
                .is_empty(),
            "{profile}: the duplicate is dropped"
        );
        assert_eq!(
            server.state().sse_events,
            profile.sse_copies() as u64,
            "{profile}: the server sent it this often"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn characters_and_min_value_are_filtered_on_the_client() {
    for profile in Profile::ALL {
        let server = start(profile).await;
        let mut generator = Generator::new(2);
        let rich = with_value(generator.killmail_in(AMARR), 5e9);
        let pilot = victim(&rich);
        let cheap = with_value(generator.killmail_in(AMARR), 1e6);
        let mut cheap = cheap;
        cheap.victim.as_mut().unwrap().character_id = Some(pilot);
        let stranger = with_value(generator.killmail_in(AMARR), 9e9);
        let client = client(&server).build().unwrap();
        let mut sub = client
            .subscribe(Filter::new().characters([pilot]).min_value(1e9))
            .await
            .unwrap();
        server.inject_many([cheap, stranger, rich.clone()]);
        let got = next_kill(&mut sub).await;
        assert_eq!(got.killmail.killmail_id, rich.killmail_id, "{profile}");
        assert!(
            drain_kills(&mut sub, Duration::from_millis(200))
                .await
                .is_empty()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn systems_or_characters_as_the_server_means_it() {
    // The faithful server would drop the character's kills outside the systems if asked for
    // both, so the client asks for everything and applies the OR rule itself.
    let server = start(Profile::Faithful).await;
    let mut generator = Generator::new(3);
    let in_jita = generator.killmail_in(JITA);
    let pilots_kill = generator.killmail_in(AMARR);
    let other = generator.killmail_in(AMARR);
    let client = client(&server).build().unwrap();
    let mut sub = client
        .subscribe(
            Filter::new()
                .systems([JITA])
                .characters([victim(&pilots_kill)]),
        )
        .await
        .unwrap();
    server.inject_many([in_jita.clone(), other, pilots_kill.clone()]);
    let mut ids = vec![
        next_kill(&mut sub).await.killmail.killmail_id,
        next_kill(&mut sub).await.killmail.killmail_id,
    ];
    ids.sort();
    let mut want = vec![in_jita.killmail_id, pilots_kill.killmail_id];
    want.sort();
    assert_eq!(ids, want);
    assert!(
        drain_kills(&mut sub, Duration::from_millis(200))
            .await
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_and_bad_filters() {
    let server = start(Profile::Faithful).await;
    let client = client(&server).build().unwrap();
    assert!(matches!(
        client.subscribe(Filter::new()).await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        client.subscribe(Filter::everything().min_value(-1.0)).await,
        Err(Error::Invalid(_))
    ));
    let many = (1..=101).map(CharacterId::new);
    assert!(matches!(
        client
            .subscribe_enhanced(Filter::new().characters(many), 0)
            .await,
        Err(Error::Invalid(_))
    ));
    assert!(matches!(Client::new("ftp://x"), Err(Error::Url(_))));
    let mut sub = client.subscribe(Filter::everything()).await.unwrap();
    let kill = Generator::new(4).killmail();
    server.inject(kill.clone());
    assert_eq!(
        next_kill(&mut sub).await.killmail.killmail_id,
        kill.killmail_id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_first_request_is_an_error() {
    let server = start(Profile::Faithful).await;
    server.fault(wk_testkit::Fault::HttpStatus {
        status: 404,
        retry_after: None,
        count: 1,
    });
    let client = client(&server).build().unwrap();
    let err = client
        .subscribe(Filter::everything())
        .await
        .expect_err("404 refuses");
    assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_lags_and_counts_what_it_missed() {
    for profile in Profile::ALL {
        slow_consumer_lags(profile).await;
    }
}

async fn slow_consumer_lags(profile: Profile) {
    let server = start(profile).await;
    let client = client(&server).queue_capacity(2).build().unwrap();
    let mut sub = client
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    let mut generator = Generator::new(5);
    let total = 20u64;
    server.inject_many((0..total).map(|_| generator.killmail_in(JITA)));
    server
        .wait_for(WAIT, |s| {
            s.sse_events >= profile.sse_copies() as u64 * total
        })
        .await
        .expect("written");
    // Written is not yet read. The stream then ends, after those events: once the client is
    // reconnecting it has read (and queued or dropped) every one, and nobody has consumed any.
    server.fault(Fault::EndStreams);
    wait_state(&sub, |s| matches!(s, ConnectionState::Reconnecting { .. })).await;
    // Each kill is either delivered or counted as lagged.
    let (kills, lagged) = count_kills(&mut sub, total).await;
    assert!(lagged > 0, "{profile}: the queue of 2 overflowed");
    assert_eq!(kills + lagged, total, "{profile}");
}

/// The consumer is a current-thread runtime's `block_on` future, the stream's task its only task,
/// and the server (on a runtime of its own) keeps the socket full. Chunks already buffered are
/// parsed without touching the socket, and a busy task's budget alone never lets the scheduler
/// reach `block_on`; the stream must give way itself before the queue fills.
#[test]
fn a_burst_overflows_no_queue_of_a_block_on_consumer() {
    let Split {
        server_rt,
        server,
        client_rt,
    } = Split::start(Profile::Faithful);
    let total = 8_000u64;
    let (kills, lagged) = client_rt.block_on(async {
        let client = client(&server).queue_capacity(256).build().unwrap();
        let mut sub = client.subscribe(Filter::everything()).await.unwrap();
        tokio::time::timeout(WAIT, async {
            while server.firehose_sse(0) == 0 {
                tokio::task::yield_now().await;
            }
        })
        .await
        .expect("the stream registers");
        let sent = {
            let _in_server = server_rt.enter();
            server.firehose_sse(total)
        };
        assert_eq!(sent, 1, "one stream to send to");
        count_kills(&mut sub, total).await
    });
    assert_eq!((kills, lagged), (total, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_event_is_refused_and_the_stream_goes_on() {
    let server = TestServer::builder()
        .profile(Profile::Designed)
        .start()
        .await
        .unwrap();
    let client = client(&server).max_event_size(32 * 1024).build().unwrap();
    let mut sub = client
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    let mut generator = Generator::new(6);
    let mut big = generator.killmail_in(JITA);
    big.victim.as_mut().unwrap().character_name = Some("x".repeat(200_000));
    let small = generator.killmail_in(JITA);
    server.inject_many([big, small.clone()]);
    let err = next_event(&mut sub)
        .await
        .expect_err("the big event is refused");
    assert!(
        matches!(err, Error::EventTooLarge { limit: 32_768 }),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(
        next_kill(&mut sub).await.killmail.killmail_id,
        small.killmail_id
    );
    assert_eq!(server.state().sse_streams, 1, "no reconnect was needed");
}

/// The first error of type `T` in `err`'s source chain.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_rustls_against_a_tls_testkit() {
    let server = TestServer::builder()
        .profile(Profile::Faithful)
        .tls(true)
        .start()
        .await
        .unwrap();
    assert!(server.base_url().starts_with("https://"));
    let der = server.tls_certificate_der().unwrap().to_vec();
    let client = client(&server).add_root_certificate(der).build().unwrap();
    let mut sub = client
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    let kill = Generator::new(7).killmail_in(JITA);
    server.inject(kill.clone());
    assert_eq!(
        next_kill(&mut sub).await.killmail.killmail_id,
        kill.killmail_id
    );
    // Without trusting the certificate the first request fails.
    let untrusted = client_untrusted(&server).await;
    assert!(matches!(untrusted, Error::Connect(_)), "{untrusted:?}");
}

async fn client_untrusted(server: &TestServer) -> Error {
    client(server)
        .gap_recovery(false)
        .build()
        .unwrap()
        .subscribe(Filter::everything())
        .await
        .unwrap_err()
}
