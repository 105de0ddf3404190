//! Joins, replies and pushes in every profile; de-duplication; routing between subscriptions.

use std::time::Duration;

use wk_realtime::ws::Update;
use wk_realtime::{Error, Filter, Origin};
use wk_testkit::{Generator, Profile};
use wk_types::phoenix::{CharactersReply, SystemsReply};
use wk_types::{CharacterId, SystemId, ValidationError};

use crate::support::{WAIT, client, drain_kills, next_kill, start, subscribed};

const JITA: SystemId = SystemId::new(30000142);
const TAMA: SystemId = SystemId::new(30002813);
const AMARR: SystemId = SystemId::new(30002187);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_pushes_arrive_once() {
    for profile in [Profile::Faithful, Profile::Legacy] {
        let server = start(profile).await;
        let client = client(&server).connect().await.unwrap();
        let mut sub = client
            .subscribe(Filter::new().systems([JITA]))
            .await
            .unwrap();
        let mut generator = Generator::new(1);
        let kills: Vec<_> = (0..5).map(|_| generator.killmail_in(JITA)).collect();
        server.inject_many(kills.clone());
        let got = drain_kills(&mut sub, Duration::from_millis(500)).await;
        let ids: Vec<_> = got.iter().map(|k| k.killmail.killmail_id).collect();
        let want: Vec<_> = kills.iter().map(|k| k.killmail_id).collect();
        assert_eq!(ids, want, "{profile}: each kill once, in order");
        assert!(got.iter().all(|k| k.origin == Origin::Live));
        // C live copies each (2 on v1.6.2, 4 on v1.5.8); a background preload of the new system
        // may add one more push.
        let copies = profile.ws_system_copies() as u64;
        assert!(
            server.state().pushes_of("killmail_update") >= 5 * copies,
            "{profile}: the server really sent {copies} copies"
        );
        // Every copy after the first of a push (the identical pair of v1.6.2; both pairs of
        // v1.5.8, the second with a later `timestamp`) was dropped before decoding, and counted as
        // a duplicate.
        let stats = client.stats();
        assert_eq!(
            (stats.kills, stats.repeats),
            (5, 5 * (copies - 1)),
            "{profile}: {stats:?}"
        );
        assert!(stats.duplicates >= 5 * (copies - 1), "{stats:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn designed_single_pushes_and_count_updates() {
    let server = start(Profile::Designed).await;
    let client = client(&server).connect().await.unwrap();
    let mut sub = client
        .subscribe(Filter::new().systems([TAMA]))
        .await
        .unwrap();
    let mut generator = Generator::new(2);
    let kill = generator.killmail_in(TAMA);
    server.inject(kill.clone());
    assert_eq!(
        next_kill(&mut sub).await.killmail.killmail_id,
        kill.killmail_id
    );
    let count = tokio::time::timeout(WAIT, async {
        use futures_util::StreamExt;
        loop {
            if let Some(Ok(wk_realtime::KillEvent::KillCount(c))) = sub.next().await {
                return c;
            }
        }
    })
    .await
    .expect("a kill_count_update");
    assert_eq!(count.system_id, TAMA);
    assert_eq!(server.state().pushes_of("kill_count_update"), 1);
    // The designed server pushes a live kill once (a background preload of the newly added
    // system may carry it a second time; the client shows it once either way).
    assert!(
        drain_kills(&mut sub, Duration::from_millis(300))
            .await
            .is_empty()
    );
    // Nothing repeats here, so nothing may be taken for a repeat and dropped unread.
    let stats = client.stats();
    assert_eq!((stats.kills, stats.repeats), (1, 0), "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_share_one_join_and_get_their_own_kills() {
    let server = start(Profile::Faithful).await;
    let client = client(&server).connect().await.unwrap();
    let mut jita = client
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    let mut tama = client
        .subscribe(Filter::new().systems([TAMA]))
        .await
        .unwrap();
    let mut both = client
        .subscribe(Filter::new().systems([JITA, TAMA]))
        .await
        .unwrap();
    let mut generator = Generator::new(3);
    let (a, b) = (generator.killmail_in(JITA), generator.killmail_in(TAMA));
    server.inject_many([a.clone(), b.clone()]);
    assert_eq!(
        next_kill(&mut jita).await.killmail.killmail_id,
        a.killmail_id
    );
    assert_eq!(
        next_kill(&mut tama).await.killmail.killmail_id,
        b.killmail_id
    );
    let got: Vec<_> = drain_kills(&mut both, Duration::from_millis(300))
        .await
        .into_iter()
        .map(|k| k.killmail.killmail_id)
        .collect();
    assert_eq!(got, [a.killmail_id, b.killmail_id]);
    let state = server.state();
    assert_eq!(state.joins, 1, "one join carries every subscription");
    assert_eq!(state.ws_connections, 1);
    let status = client.status().await.unwrap();
    let mut systems = status.subscribed_systems.clone();
    systems.sort();
    assert_eq!(systems, [JITA, TAMA]);

    // Dropping a subscription shrinks the union, but only by ids nobody else wants.
    drop(tama);
    drop(both);
    let status = tokio::time::timeout(WAIT, async {
        loop {
            let s = client.status().await.unwrap();
            if s.subscribed_systems.len() == 1 {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(status.subscribed_systems, [JITA]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_calls_return_the_servers_replies() {
    for profile in Profile::ALL {
        let server = start(profile).await;
        let client = client(&server).connect().await.unwrap();
        let sub = client
            .subscribe(Filter::new().systems([JITA]))
            .await
            .unwrap();
        let reply = sub.subscribe_systems([TAMA]).await.unwrap();
        let SystemsReply::Updated {
            mut subscribed_systems,
        } = reply
        else {
            panic!("{reply:?}")
        };
        subscribed_systems.sort();
        assert_eq!(subscribed_systems, [JITA, TAMA]);
        let again = sub.subscribe_systems([TAMA]).await.unwrap();
        assert_eq!(
            again,
            SystemsReply::Unchanged {
                message: "Already subscribed to all requested systems".into()
            }
        );
        let chars = sub
            .subscribe_characters([CharacterId::new(95465499)])
            .await
            .unwrap();
        assert_eq!(
            chars,
            CharactersReply::Updated {
                subscribed_characters: vec![CharacterId::new(95465499)]
            }
        );
        let removed = sub.unsubscribe_systems([TAMA]).await.unwrap();
        assert_eq!(
            removed,
            SystemsReply::Updated {
                subscribed_systems: vec![JITA]
            }
        );
        let removed = sub
            .unsubscribe_characters([CharacterId::new(95465499)])
            .await
            .unwrap();
        assert_eq!(
            removed,
            CharactersReply::Updated {
                subscribed_characters: vec![]
            }
        );
        let status = client.status().await.unwrap();
        assert_eq!(status.subscribed_systems, [JITA]);
        assert!(status.user_id.unwrap().starts_with("wk-realtime-tests_"));
        assert_eq!(server.state().channel_crashes, 0, "{profile}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_subscriptions_maps_onto_real_events() {
    let server = start(Profile::Faithful).await;
    let client = client(&server).connect().await.unwrap();
    let mut sub = client
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    let reply = sub
        .update_subscriptions(
            Update::new()
                .add_systems([TAMA, AMARR])
                .remove_systems([JITA])
                .add_characters([CharacterId::new(95465499)]),
        )
        .await
        .unwrap();
    let Some(SystemsReply::Updated {
        mut subscribed_systems,
    }) = reply.systems
    else {
        panic!("{reply:?}")
    };
    subscribed_systems.sort();
    assert_eq!(subscribed_systems, [AMARR, TAMA]);
    assert_eq!(
        server.state().channel_crashes,
        0,
        "no update_subscriptions event was sent"
    );
    let mut generator = Generator::new(4);
    let (gone, kept) = (generator.killmail_in(JITA), generator.killmail_in(TAMA));
    server.inject_many([gone, kept.clone()]);
    assert_eq!(
        next_kill(&mut sub).await.killmail.killmail_id,
        kept.killmail_id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_ids_are_refused_without_touching_the_connection() {
    let server = start(Profile::Faithful).await;
    let client = client(&server).connect().await.unwrap();
    let sub = client
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    let before = server.state().frames_received;
    let err = sub
        .unsubscribe_characters([CharacterId::new(11111111)])
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Invalid(ValidationError::OutOfRange { id: 11111111, .. })
        ),
        "{err:?}"
    );
    let err = client
        .subscribe(Filter::new().systems([SystemId::new(60_000_000)]))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    let err = sub
        .update_subscriptions(
            Update::new()
                .add_systems([TAMA])
                .add_characters([CharacterId::new(1)]),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Invalid(_)),
        "nothing of a bad update is sent: {err:?}"
    );
    let state = server.state();
    assert_eq!(state.frames_received, before, "nothing was sent");
    assert_eq!(state.channel_crashes, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preload_is_delivered_once_and_marked() {
    let server = start(Profile::Faithful).await;
    let mut generator = Generator::new(5);
    let history: Vec<_> = (0..3).map(|_| generator.killmail_in(JITA)).collect();
    server.seed_store(history.clone());
    let client = client(&server).connect().await.unwrap();
    let mut sub = client
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    let got = drain_kills(&mut sub, Duration::from_millis(400)).await;
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(got.iter().all(|k| k.origin == Origin::Preload));
    assert!(
        got.iter()
            .all(|k| k.killmail.shape() == wk_types::KillmailShape::Stored)
    );
}

/// A testkit serving HTTPS and WSS, its certificate, and an HTTP client that trusts it.
async fn tls_server() -> (wk_testkit::TestServer, Vec<u8>, wk_http::Client) {
    let server = crate::support::server(Profile::Faithful)
        .tls(true)
        .start()
        .await
        .unwrap();
    let der = server.tls_certificate_der().unwrap().to_vec();
    let http = wk_http::Client::builder()
        .base_url(server.base_url())
        .add_root_certificate(der.clone())
        .build()
        .unwrap();
    (server, der, http)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_with_rustls_against_a_tls_testkit() {
    let (server, der, http) = tls_server().await;
    let (_client, mut sub) = subscribed(
        client(&server).add_root_certificate(der).http_client(http),
        Filter::new().systems([JITA]),
    )
    .await;
    let kill = Generator::new(21).killmail_in(JITA);
    server.inject(kill.clone());
    assert_eq!(
        next_kill(&mut sub).await.killmail.killmail_id,
        kill.killmail_id
    );

    // Without trusting the certificate the first connection fails with a typed error.
    let err = client_without_roots(&server).await;
    assert!(matches!(err, Error::Connect(_)), "{err:?}");
}

/// One TLS setup per server: `wss://` shares the HTTP client's rustls config when the WebSocket
/// builder has none of its own, and the default recovery client takes the builder's roots.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_shares_the_http_clients_tls_setup() {
    let (server, der, http) = tls_server().await;
    // Only the HTTP client trusts the certificate.
    let shared = client(&server).http_client(http).connect().await.unwrap();
    let mut sub = shared
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    // Only the WebSocket builder trusts it: gap recovery over https works too.
    let recovering = client(&server)
        .add_root_certificate(der)
        .connect()
        .await
        .unwrap();
    let mut other = recovering
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    let live = Generator::new(22).killmail_in(JITA);
    server.inject(live.clone());
    assert_eq!(
        next_kill(&mut sub).await.killmail.killmail_id,
        live.killmail_id
    );
    assert_eq!(
        next_kill(&mut other).await.killmail.killmail_id,
        live.killmail_id
    );
    // After a drop, each client reconnects (one upgrade) and recovers (one `/kills/cached` over
    // https): a request whose TLS handshake failed would never reach the server's count.
    let before = server.state().http_requests;
    server.fault(wk_testkit::Fault::DropConnections);
    server
        .wait_for(crate::support::WAIT, |s| s.http_requests >= before + 4)
        .await
        .expect("two upgrades and two recoveries, all over TLS");
}

async fn client_without_roots(server: &wk_testkit::TestServer) -> Error {
    crate::support::client(server)
        .gap_recovery(false)
        .connect()
        .await
        .unwrap_err()
}
