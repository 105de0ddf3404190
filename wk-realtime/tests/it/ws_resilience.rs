//! Crashes, restarts, dead connections: rejoin with the current set and deliver every kill once.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use wk_realtime::ws::ConnectionState;
use wk_realtime::{Filter, Origin};
use wk_testkit::{Fault, Generator, Profile, TestServer};
use wk_types::{CharacterId, SystemId};

use crate::support::{Split, WAIT, client, drain_kills, next_kill, server, start, subscribed};

const JITA: SystemId = SystemId::new(30000142);
const TAMA: SystemId = SystemId::new(30002813);

/// A reconnect delay of exactly `ms`, so a test knows the client is away for that long.
fn fixed_backoff(ms: u64) -> wk_retry::BackoffConfig {
    let d = Duration::from_millis(ms);
    wk_retry::BackoffConfig::default().base(d).min(d).max(d)
}

async fn wait_state(client: &wk_realtime::ws::Client, want: impl Fn(&ConnectionState) -> bool) {
    let mut rx = client.state();
    tokio::time::timeout(WAIT, rx.wait_for(|s| want(s)))
        .await
        .expect("state reached")
        .expect("client alive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashed_channel_rejoins_with_the_current_set() {
    // The crash's `phx_error` payload differs: `{"reason":"channel_crash"}` on v1.6.2, `{}` else.
    for profile in Profile::ALL {
        crashed_channel_rejoins(profile).await;
    }
}

async fn crashed_channel_rejoins(profile: Profile) {
    let server = start(profile).await;
    let client = client(&server).connect().await.unwrap();
    let mut sub = client
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    sub.subscribe_systems([TAMA]).await.unwrap();
    sub.subscribe_characters([CharacterId::new(95465499)])
        .await
        .unwrap();
    server.fault(Fault::CrashChannels);
    server
        .wait_for(WAIT, |s| s.joins >= 2 && s.joined_channels == 1)
        .await
        .expect("rejoined");
    let status = tokio::time::timeout(WAIT, async {
        loop {
            if let Ok(s) = client.status().await {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    let systems: BTreeSet<_> = status.subscribed_systems.into_iter().collect();
    assert_eq!(
        systems,
        BTreeSet::from([JITA, TAMA]),
        "{profile}: the current set, not the initial one"
    );
    assert_eq!(status.subscribed_characters, [CharacterId::new(95465499)]);
    let kill = Generator::new(11).killmail_in(TAMA);
    server.inject(kill.clone());
    assert_eq!(
        next_kill(&mut sub).await.killmail.killmail_id,
        kill.killmail_id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_heartbeats_replace_the_connection() {
    let server = start(Profile::Faithful).await;
    let (client, mut sub) = subscribed(
        client(&server)
            .heartbeat_interval(Duration::from_millis(100))
            .heartbeat_timeout(Duration::from_millis(200)),
        Filter::new().systems([JITA]),
    )
    .await;
    server.fault(Fault::StallHeartbeats(true));
    server
        .wait_for(WAIT, |s| s.ws_connections >= 2)
        .await
        .expect("a new connection");
    server.fault(Fault::StallHeartbeats(false));
    wait_state(&client, |s| *s == ConnectionState::Joined).await;
    server
        .wait_for(WAIT, |s| s.joined_channels == 1 && s.ws_open == 1)
        .await
        .expect("one live socket");
    let kill = Generator::new(12).killmail_in(JITA);
    server.inject(kill.clone());
    assert_eq!(
        next_kill(&mut sub).await.killmail.killmail_id,
        kill.killmail_id
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_keep_an_idle_connection_alive() {
    let server = server(Profile::Faithful)
        .idle_timeout(Duration::from_millis(400))
        .start()
        .await
        .unwrap();
    let client = client(&server)
        .heartbeat_interval(Duration::from_millis(100))
        .connect()
        .await
        .unwrap();
    let _sub = client
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    // Three idle timeouts of quiet apart from heartbeats, measured by the heartbeats themselves:
    // twelve, at 100 ms each, span 1.2 s, three times the server's idle timeout.
    let state = server
        .wait_for(WAIT, |s| s.heartbeats >= 12)
        .await
        .expect("heartbeats go on");
    assert_eq!(state.ws_connections, 1, "never reconnected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_feed_loses_nothing_and_duplicates_nothing() {
    let server = server(Profile::Faithful)
        .keep_store_on_restart(true)
        .start()
        .await
        .unwrap();
    let (_client, mut sub) = subscribed(
        client(&server).reconnect_backoff(fixed_backoff(150)),
        Filter::new().systems([JITA, TAMA]),
    )
    .await;
    let mut generator = Generator::new(13);
    let mut injected = Vec::new();
    for round in 0..3 {
        let before: Vec<_> = (0..4)
            .map(|i| generator.killmail_in(if i % 2 == 0 { JITA } else { TAMA }))
            .collect();
        server.inject_many(before.clone());
        injected.extend(before);
        server.restart().await.unwrap();
        // Kills that land while the client is away reach it only through gap recovery (or preload).
        let during: Vec<_> = (0..3).map(|_| generator.killmail_in(TAMA)).collect();
        server.inject_many(during.clone());
        injected.extend(during);
        server
            .wait_for(WAIT, |s| s.joined_channels == 1)
            .await
            .unwrap_or_else(|s| panic!("round {round}: {s:?}"));
    }
    let after = generator.killmail_in(JITA);
    server.inject(after.clone());
    injected.push(after);
    let got = drain_kills(&mut sub, Duration::from_millis(800)).await;
    let ids: Vec<_> = got.iter().map(|k| k.killmail.killmail_id).collect();
    let unique: BTreeSet<_> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "no duplicates: {ids:?}");
    let want: BTreeSet<_> = injected.iter().map(|k| k.killmail_id).collect();
    assert_eq!(unique, want, "every injected kill delivered");
    assert!(
        got.iter().any(|k| k.origin != Origin::Live),
        "some came back through preload or recovery"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gap_recovery_fetches_what_preload_cannot() {
    // Preload returns at most 5 kills per system; a gap of 8 needs /kills/cached.
    let server = server(Profile::Faithful)
        .keep_store_on_restart(true)
        .start()
        .await
        .unwrap();
    let (_client, mut sub) = subscribed(
        client(&server).reconnect_backoff(fixed_backoff(300)),
        Filter::new().systems([JITA]),
    )
    .await;
    let mut generator = Generator::new(14);
    let first = generator.killmail_in(JITA);
    server.inject(first.clone());
    assert_eq!(
        next_kill(&mut sub).await.killmail.killmail_id,
        first.killmail_id
    );
    server.fault(Fault::DropConnections);
    server
        .wait_for(WAIT, |s| s.ws_open == 0)
        .await
        .expect("dropped");
    let gap: Vec<_> = (0..8).map(|_| generator.killmail_in(JITA)).collect();
    server.inject_many(gap.clone());
    let got = drain_kills(&mut sub, Duration::from_millis(800)).await;
    let ids: BTreeSet<_> = got.iter().map(|k| k.killmail.killmail_id).collect();
    let want: BTreeSet<_> = gap.iter().map(|k| k.killmail_id).collect();
    assert_eq!(ids, want);
    assert!(got.iter().any(|k| k.origin == Origin::Recovered), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_preload_of_a_crashed_join_is_dropped() {
    // The server sends a join's preload from a background task; after a crash it still arrives,
    // carrying the old join_ref (PROTOCOL.md §7.10). The client must drop those frames.
    let server = server(Profile::Faithful)
        .preload_delay(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let mut generator = Generator::new(15);
    server.seed_store((0..3).map(|_| generator.killmail_in(JITA)));
    let client = client(&server).connect().await.unwrap();
    let mut sub = client
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    server.fault(Fault::CrashChannels);
    let got = drain_kills(&mut sub, Duration::from_millis(1500)).await;
    let stats = client.stats();
    assert!(stats.stale_frames >= 1, "{stats:?}");
    assert_eq!(stats.joins, 2, "{stats:?}");
    // The rejoin's own preload delivers the history once.
    assert_eq!(got.len(), 3, "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_duplicates_and_reconnects() {
    for profile in [Profile::Faithful, Profile::Legacy] {
        duplicates_and_reconnects(profile).await;
    }
}

async fn duplicates_and_reconnects(profile: Profile) {
    let server = start(profile).await;
    let client = client(&server).connect().await.unwrap();
    let mut sub = client
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    let kill = Generator::new(16).killmail_in(JITA);
    server.inject(kill);
    next_kill(&mut sub).await;
    // Every copy must be read before the drop, or the socket takes the unread ones with it.
    let repeats = profile.ws_system_copies() as u64 - 1;
    tokio::time::timeout(WAIT, async {
        while client.stats().duplicates < repeats {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("every duplicate push dropped");
    server.fault(Fault::DropConnections);
    tokio::time::timeout(WAIT, async {
        while client.stats().reconnects() < 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("reconnected");
    wait_state(&client, |s| *s == ConnectionState::Joined).await;
    let stats = client.stats();
    assert_eq!(stats.kills, 1, "{profile}");
    assert_eq!(
        stats.repeats, repeats,
        "{profile}: identical copies dropped unread"
    );
    let reply = client.join_reply().expect("joined");
    assert!(reply.subscription_id.is_well_formed());
}

/// A TCP proxy whose server-to-client direction can be held back: what the server sends waits at
/// the proxy until the gate opens again.
struct Gate {
    addr: SocketAddr,
    open: watch::Sender<bool>,
}

impl Gate {
    async fn start(upstream: SocketAddr) -> Self {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (open, _) = watch::channel(true);
        let gate = open.subscribe();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_server, mut to_server) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut from_client, &mut to_server).await;
                });
                let mut gate = gate.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0; 64 * 1024];
                    while let Ok(n @ 1..) = from_server.read(&mut buf).await {
                        if gate.wait_for(|open| *open).await.is_err()
                            || to_client.write_all(&buf[..n]).await.is_err()
                        {
                            return;
                        }
                    }
                });
            }
        });
        Self { addr, open }
    }
}

/// Waits until the server has received one more heartbeat.
async fn next_heartbeat(server: &TestServer) {
    let seen = server.state().heartbeats;
    server
        .wait_for(WAIT, |s| s.heartbeats > seen)
        .await
        .expect("a heartbeat");
}

/// A runtime too busy to poll the client on time: the heartbeat reply arrives within the timeout,
/// but the client's thread is held past it, so when the client runs again the reply is in its
/// socket and the timer has fired. The connection answered: it must be kept, not replaced (every
/// needless reconnect costs a gap recovery, which in `cargo xtask chaos` made a loaded runtime
/// busier still).
///
/// Real time on purpose: the server and the proxy run on their own runtime while the client's only
/// thread is held, as a busy application would hold it; paused time would jump the clock instead.
#[test]
fn a_late_timer_does_not_drop_a_connection_that_answered() {
    let Split {
        server_rt: server_runtime,
        server,
        client_rt: client_runtime,
    } = Split::start(Profile::Faithful);
    let gate = Arc::new(server_runtime.block_on(Gate::start(server.addr())));
    let server_side = server_runtime.handle().clone();
    client_runtime.block_on(async {
        let client = wk_realtime::ws::Client::builder(format!("http://{}", gate.addr))
            .heartbeat_interval(Duration::from_millis(100))
            .heartbeat_timeout(Duration::from_millis(200))
            .connect()
            .await
            .unwrap();
        let _sub = client
            .subscribe(Filter::new().systems([JITA]))
            .await
            .unwrap();
        // Were the expired timer allowed to win, `select!` would pick it over the readable socket
        // three times in four: eight rounds passing by luck is a chance of 1 in 65,536.
        for round in 0..8 {
            // A heartbeat answered as usual: the client has caught up with the previous round.
            next_heartbeat(&server).await;
            assert_eq!(
                server.state().ws_connections,
                1,
                "round {round}: the connection was replaced"
            );
            // Let that reply through before closing the gate: the next heartbeat is 100 ms away.
            tokio::time::sleep(Duration::from_millis(30)).await;
            let seen = server.state().heartbeats;
            gate.open.send_replace(false);
            server
                .wait_for(WAIT, |s| s.heartbeats > seen)
                .await
                .unwrap_or_else(|s| panic!("round {round}: no heartbeat: {s:?}"));
            // The reply reaches the client 50 ms after the heartbeat, well within the timeout;
            // meanwhile this thread is busy for 500 ms.
            let gate = gate.clone();
            server_side.spawn(async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                gate.open.send_replace(true);
            });
            std::thread::sleep(Duration::from_millis(500));
        }
        next_heartbeat(&server).await;
        assert_eq!(client.stats().reconnects(), 0, "{:?}", client.stats());
        assert_eq!(server.state().ws_connections, 1);
    });
}

/// A channel that crashes on every join (the storm seen against Phoenix 1.8): each rejoin waits
/// its backoff, so six crashes take six delays and six joins, not a hundred; the subscription
/// survives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_that_crashes_on_every_join_is_rejoined_after_a_backoff_each_time() {
    let server = start(Profile::Faithful).await;
    let (client, mut sub) = subscribed(
        client(&server).reconnect_backoff(fixed_backoff(100)),
        Filter::new().systems([JITA]),
    )
    .await;
    let joins = server.state().joins;
    server.fault(Fault::CrashJoins { count: 5 });
    let started = std::time::Instant::now();
    server.fault(Fault::CrashChannels);
    let st = server
        .wait_for(WAIT, |s| s.joins == joins + 6 && s.joined_channels == 1)
        .await
        .expect("rejoined after six crashes");
    // A lower bound on real time: a storm would have made these joins within milliseconds.
    assert!(
        started.elapsed() >= Duration::from_millis(6 * 100),
        "six rejoins in {:?}",
        started.elapsed()
    );
    assert_eq!(st.channel_crashes, 6);
    assert_eq!(client.stats().joins, joins + 6);
    let kill = Generator::new(12).killmail_in(JITA);
    server.inject(kill.clone());
    assert_eq!(
        next_kill(&mut sub).await.killmail.killmail_id,
        kill.killmail_id
    );
    assert_eq!(
        server.state().joins,
        joins + 6,
        "nothing beyond the crashes"
    );
}

/// Gap recovery asks whatever `Backfill` the builder was given: here kills of the application's
/// own, which arrive as recovered after a lost connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gap_recovery_asks_the_backfill_it_was_given() {
    struct Stored {
        kills: Vec<wk_types::Killmail>,
        asked: std::sync::Mutex<Vec<SystemId>>,
    }
    impl wk_types::Backfill for Stored {
        fn system_kills(&self, system: SystemId) -> wk_types::BackfillFuture<'_> {
            self.asked.lock().unwrap().push(system);
            let kills = self.kills.clone();
            Box::pin(async move { Ok(kills) })
        }
    }
    let server = start(Profile::Faithful).await;
    let mut g = Generator::new(31);
    let live = g.killmail_in(JITA);
    let missed = g.killmail_in(JITA);
    let store = Arc::new(Stored {
        kills: vec![missed.clone()],
        asked: std::sync::Mutex::new(Vec::new()),
    });
    let (_client, mut sub) = subscribed(
        client(&server).backfill(store.clone()),
        Filter::new().systems([JITA]),
    )
    .await;
    server.inject(live.clone());
    assert_eq!(
        next_kill(&mut sub).await.killmail.killmail_id,
        live.killmail_id
    );
    server.fault(Fault::DropConnections);
    let kill = next_kill(&mut sub).await;
    assert_eq!(kill.killmail.killmail_id, missed.killmail_id);
    assert_eq!(kill.origin, Origin::Recovered);
    assert_eq!(store.asked.lock().unwrap().as_slice(), [JITA]);
}
