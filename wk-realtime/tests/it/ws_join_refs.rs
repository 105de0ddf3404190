//! What Phoenix 1.8 changed for a channel client (PROTOCOL.md §18.2), in every profile: the client
//! only ever sends the current join_ref, as a string, and a push answered by silence (what 1.8 does
//! with a stale join_ref) ends in a typed timeout and a rejoined channel with the full set.

use std::collections::BTreeSet;
use std::time::Duration;

use wk_realtime::ws::{ConnectionState, Update};
use wk_realtime::{Error, Filter};
use wk_testkit::{Fault, Generator, Profile, State};
use wk_types::{CharacterId, KillmailId, SystemId};

use crate::support::{WAIT, client, next_kill, start};

const JITA: SystemId = SystemId::new(30000142);
const TAMA: SystemId = SystemId::new(30002813);
const AMARR: SystemId = SystemId::new(30002187);
const PILOT: CharacterId = CharacterId::new(95465499);

async fn joined(client: &wk_realtime::ws::Client) {
    let mut rx = client.state();
    tokio::time::timeout(WAIT, rx.wait_for(|s| *s == ConnectionState::Joined))
        .await
        .expect("joined in time")
        .expect("client alive");
}

async fn wait(server: &wk_testkit::TestServer, what: &str, pred: impl Fn(&State) -> bool) {
    if let Err(state) = server.wait_for(WAIT, pred).await {
        panic!("{what}: {state:?}");
    }
}

/// Every call, a crash and rejoin, a reconnect, and the rejoin that dropping the last system
/// while characters are held needs: not one frame with a stale, `null` or numeric join_ref (the
/// testkit counts them, see `frames_with_a_stale_join_ref_per_phoenix_version` there), and no
/// `phx_leave` at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_only_sends_the_current_join_ref_as_a_string() {
    for profile in Profile::ALL {
        let server = start(profile).await;
        let client = client(&server).connect().await.unwrap();
        let sub = client
            .subscribe(Filter::new().systems([JITA]).characters([PILOT]))
            .await
            .unwrap();
        sub.subscribe_systems([TAMA]).await.unwrap();
        sub.unsubscribe_characters([PILOT]).await.unwrap();
        sub.update_subscriptions(
            Update::new()
                .add_systems([AMARR])
                .remove_systems([TAMA])
                .add_characters([PILOT]),
        )
        .await
        .unwrap();
        client.status().await.unwrap();

        server.fault(Fault::CrashChannels);
        wait(&server, "rejoined after the crash", |s| {
            s.joins == 2 && s.joined_channels == 1
        })
        .await;
        joined(&client).await;
        sub.unsubscribe_systems([AMARR]).await.unwrap();

        server.fault(Fault::DropConnections);
        wait(&server, "reconnected", |s| {
            s.ws_connections == 2 && s.joined_channels == 1
        })
        .await;
        joined(&client).await;
        let mut other = client
            .subscribe(Filter::new().characters([CharacterId::new(2119283745)]))
            .await
            .unwrap();
        // Jita was the last system: with characters held, leaving it takes a rejoin (§7.6).
        sub.unsubscribe_systems([JITA]).await.unwrap();
        wait(&server, "rejoined for characters only", |s| s.joins >= 4).await;
        joined(&client).await;
        client.status().await.unwrap();
        // The rejoin restored the all-kills listener: a character's kill anywhere arrives.
        let mut kill = Generator::new(7).killmail_in(AMARR);
        kill.victim.as_mut().expect("a victim").character_id = Some(CharacterId::new(2119283745));
        server.inject(kill.clone());
        assert_eq!(
            next_kill(&mut other).await.killmail.killmail_id,
            kill.killmail_id,
            "{profile}"
        );
        drop(other);
        drop(sub);
        client.status().await.unwrap();

        let state = server.state();
        assert!(state.frames_received > 10, "{profile}: {state:?}");
        assert_eq!(state.stale_pushes, 0, "{profile}: {state:?}");
        assert_eq!(state.numeric_refs, 0, "{profile}: {state:?}");
        assert_eq!((state.leaves, state.channel_crashes), (0, 1), "{profile}");
        assert_eq!(client.stats().joins, state.joins, "{profile}");
    }
}

/// Phoenix 1.8 drops a push whose join_ref is stale without a reply; the testkit's `DropPushes`
/// fault gives that silence. The call ends in `Timeout`, the client joins again with everything
/// it holds (the call's own ids included), and every kill arrives once: live on the channel that
/// stayed, preloaded or recovered for the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_answered_by_silence_times_out_and_the_channel_recovers() {
    for profile in Profile::ALL {
        let server = start(profile).await;
        let client = client(&server)
            .reply_timeout(Duration::from_millis(400))
            .connect()
            .await
            .unwrap();
        let mut sub = client
            .subscribe(Filter::new().systems([JITA]))
            .await
            .unwrap();
        let mut generator = Generator::new(31);
        server.fault(Fault::DropPushes { count: 1 });
        // While the push waits: a kill where the channel still listens, one where it will.
        let (during_jita, during_tama) = (generator.killmail_in(JITA), generator.killmail_in(TAMA));
        let (result, ()) = tokio::join!(sub.subscribe_systems([TAMA]), async {
            wait(&server, "the push was dropped", |s| s.silenced_pushes == 1).await;
            server.inject_many([during_jita.clone(), during_tama.clone()]);
        });
        let err = result.unwrap_err();
        assert!(matches!(err, Error::Timeout), "{profile}: {err:?}");
        assert!(err.is_retryable());
        assert_eq!(server.state().silenced_pushes, 1, "{profile}");

        wait(&server, "rejoined", |s| {
            s.joins == 2 && s.joined_channels == 1
        })
        .await;
        joined(&client).await;
        let status = client.status().await.unwrap();
        let systems: BTreeSet<_> = status.subscribed_systems.into_iter().collect();
        assert_eq!(
            systems,
            BTreeSet::from([JITA, TAMA]),
            "{profile}: the full set"
        );
        let reply = client.join_reply().expect("joined");
        let joined_with: BTreeSet<_> = reply.subscribed_systems.into_iter().collect();
        assert_eq!(joined_with, systems, "{profile}: in one join, not pushes");

        let after = generator.killmail_in(TAMA);
        server.inject(after.clone());
        let mut want: BTreeSet<KillmailId> = [&during_jita, &during_tama, &after]
            .into_iter()
            .map(|k| k.killmail_id)
            .collect();
        let mut seen = BTreeSet::new();
        while !want.is_empty() {
            let kill = next_kill(&mut sub).await;
            let id = kill.killmail.killmail_id;
            assert!(seen.insert(id), "{profile}: {id} twice");
            want.remove(&id);
        }
        assert_eq!(server.state().stale_pushes, 0, "{profile}");
    }
}
