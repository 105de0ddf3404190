//! Server limits: large character sets split under 128 KiB; slow consumers lag, the socket does not.

use std::time::Duration;

use futures_util::StreamExt;
use wk_realtime::{Filter, KillEvent};
use wk_testkit::{Generator, Profile};
use wk_types::{CharacterId, SystemId};

use crate::support::{Split, WAIT, client, count_kills, server, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_thousand_characters_join_in_chunks() {
    for profile in Profile::ALL {
        let server = start(profile).await;
        let client = client(&server).connect().await.unwrap();
        let ids: Vec<CharacterId> = (0..50_000)
            .map(|i| CharacterId::new(90_000_000 + i * 7))
            .collect();
        let _sub = client
            .subscribe(Filter::new().characters(ids.clone()))
            .await
            .unwrap();
        let status = client.status().await.unwrap();
        assert_eq!(
            status.subscribed_characters.len(),
            50_000,
            "{profile}: the server saw them all"
        );
        let state = server.state();
        assert_eq!(state.channel_crashes, 0);
        assert_eq!(
            state.ws_connections, 1,
            "no frame over 128 KiB closed the socket"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_consumer_lags_and_the_connection_stays_up() {
    // The designed server also pushes a `kill_count_update` per kill, which shares the queue.
    for profile in [Profile::Faithful, Profile::Legacy] {
        slow_consumer_lags(profile).await;
    }
}

async fn slow_consumer_lags(profile: Profile) {
    // No preload: the join's preload runs in a task of its own, and on a loaded machine it can run
    // after the kills below are stored and push them once more.
    let server = server(profile)
        .preload_window(Duration::ZERO)
        .start()
        .await
        .unwrap();
    let client = client(&server).queue_capacity(8).connect().await.unwrap();
    let jita = SystemId::new(30000142);
    let mut slow = client
        .subscribe(Filter::new().systems([jita]))
        .await
        .unwrap();
    let mut generator = Generator::new(9);
    server.inject_many((0..40).map(|_| generator.killmail_in(jita)));
    server
        .wait_for(WAIT, |s| {
            s.pushes_of("killmail_update") == 40 * profile.ws_system_copies() as u64
        })
        .await
        .expect("all pushed");
    // Heartbeats and replies still flow while nobody reads.
    assert!(client.status().await.is_ok());
    // The consumer gets its 8 buffered kills, then one Lagged marker for the 32 it missed.
    let mut kills_seen = 0;
    let mut lagged = 0;
    while let Ok(Some(Ok(event))) =
        tokio::time::timeout(Duration::from_millis(300), slow.next()).await
    {
        match event {
            KillEvent::Kill(_) => kills_seen += 1,
            KillEvent::Lagged(n) => lagged += n,
            _ => {}
        }
        if kills_seen == 8 && lagged == 0 {
            // Delivery resumes after the marker once there is room again.
            server.inject(generator.killmail_in(jita));
        }
    }
    assert_eq!((kills_seen, lagged), (9, 32), "{profile}");
    assert_eq!(server.state().ws_connections, 1, "never reconnected");
}

/// The consumer is a current-thread runtime's `block_on` future, two connections' tasks share the
/// thread with it, and the server (on a runtime of its own) keeps both sockets full. With another
/// task always ready, a busy task's budget alone never lets the scheduler reach `block_on`; each
/// connection must give way itself before a queue fills.
#[test]
fn a_burst_overflows_no_queue_of_a_block_on_consumer() {
    let Split {
        server_rt: _server_rt,
        server,
        client_rt,
    } = Split::start(Profile::Designed);
    let total = 4_000u64;
    let (kills, lagged) = client_rt.block_on(async {
        let a = client(&server).queue_capacity(256).connect().await.unwrap();
        let b = client(&server).queue_capacity(256).connect().await.unwrap();
        let sub_a = a.subscribe(Filter::everything()).await.unwrap();
        let sub_b = b.subscribe(Filter::everything()).await.unwrap();
        let mut both = futures_util::stream::select(sub_a, sub_b);
        assert_eq!(server.firehose(total), 2, "two joined sockets");
        count_kills(&mut both, 2 * total).await
    });
    assert_eq!((kills, lagged), (2 * total, 0));
}
