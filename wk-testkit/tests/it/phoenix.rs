//! Phoenix Channels (§7) over a real WebSocket, per profile.

use std::time::Duration;

use serde_json::{Value, json};
use wk_testkit::{Profile, TestServer};
use wk_types::{CharacterId, KillmailId, SystemId};

use crate::support::{Ended, Ws, capsule_kill, example_kill, get};

const TAMA: i64 = 30002813;
const JITA: i64 = 30000142;

fn is_push(f: &Value, event: &str) -> bool {
    f[1].is_null() && f[3] == event
}

#[tokio::test]
async fn join_reply_and_subscription_record() {
    for profile in Profile::ALL {
        let s = TestServer::start(profile).await.unwrap();
        let mut ws = Ws::v2(&s).await;
        let r = ws.join("1", json!({"systems": [JITA, TAMA, JITA], "character_ids": [95465499], "preload": {"enabled": true}})).await;
        assert_eq!(r[0], "1");
        assert_eq!(r[2], "killmails:lobby");
        assert_eq!(r[4]["status"], "ok");
        let resp = &r[4]["response"];
        assert_eq!(resp["status"], "connected");
        assert_eq!(resp["subscribed_systems"], json!([JITA, TAMA]));
        assert_eq!(resp["subscribed_characters"], json!([95465499]));
        let sub_id = resp["subscription_id"].as_str().unwrap();
        let example: Value =
            serde_json::from_str(&crate::support::data("ws_join_reply.json")).unwrap();
        let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(resp), keys(&example["response"]));
        assert!(wk_types::SubscriptionId::from(sub_id).is_well_formed());
        let list = get(s.addr(), "/api/v1/subscriptions").await.json();
        let rec = &list["data"]["subscriptions"][0];
        assert_eq!(rec["type"], "websocket");
        // §13 row 15: the real server's record has an id of its own.
        let record_id = rec["id"].as_str().unwrap();
        assert!(wk_types::SubscriptionId::from(record_id).is_well_formed());
        assert_eq!(
            record_id == sub_id,
            profile == Profile::Designed,
            "{profile}: record {record_id}, join {sub_id}"
        );
        assert!(rec["callback_url"].is_null());
        assert!(
            rec["subscriber_id"]
                .as_str()
                .unwrap()
                .starts_with("rust-client_")
        );
        assert_eq!(s.state().joins, 1);
    }
}

/// §13 row 15: on the real server a WebSocket record keeps its join-time lists and outlives its
/// channel; the designed server keeps it current and removes it with the channel.
#[tokio::test]
async fn websocket_records_per_profile() {
    for profile in Profile::ALL {
        let s = TestServer::start(profile).await.unwrap();
        let records = || async {
            get(s.addr(), "/api/v1/subscriptions").await.json()["data"]["subscriptions"]
                .as_array()
                .unwrap()
                .clone()
        };
        let mut ws = Ws::v2(&s).await;
        ws.join("1", json!({"systems": [JITA]})).await;
        ws.call("1", "2", "subscribe_systems", json!({"systems": [TAMA]}))
            .await;
        let listed = records().await;
        assert_eq!(listed.len(), 1, "{profile}");
        let want = if profile == Profile::Designed {
            json!([JITA, TAMA])
        } else {
            json!([JITA])
        };
        assert_eq!(listed[0]["system_ids"], want, "{profile}");
        // A crash, a rejoin with nothing, a leave and a closed socket.
        ws.send(r#"["1","3","killmails:lobby","subscribe_systems",{"systems":[0]}]"#)
            .await;
        if profile.crashes_on_rejected_request() {
            ws.until(|f| f[3] == "phx_error").await;
            ws.join("4", json!({})).await;
        } else {
            ws.until(|f| f[1] == "3").await;
        }
        let jr = if profile.crashes_on_rejected_request() {
            "4"
        } else {
            "1"
        };
        ws.call(jr, "5", "phx_leave", json!({})).await;
        drop(ws);
        s.wait_for(crate::support::T, |st| st.ws_open == 0)
            .await
            .unwrap();
        let listed = records().await;
        let want = if profile == Profile::Designed { 0 } else { 2 };
        assert_eq!(listed.len(), want, "{profile}: {listed:?}");
        let stats = get(s.addr(), "/api/v1/subscriptions/stats").await.json();
        assert_eq!(stats["data"]["websocket_subscriptions"], want, "{profile}");
    }
}
#[tokio::test]
async fn heartbeat_reply_is_byte_exact_and_refs_keep_their_type() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let mut ws = Ws::v2(&s).await;
    ws.send(r#"[null,"2","phoenix","heartbeat",{}]"#).await;
    assert_eq!(
        ws.text().await,
        r#"[null,"2","phoenix","phx_reply",{"response":{},"status":"ok"}]"#
    );
    ws.send(r#"[null,7,"phoenix","heartbeat",{}]"#).await;
    assert_eq!(
        ws.text().await,
        r#"[null,7,"phoenix","phx_reply",{"response":{},"status":"ok"}]"#
    );
}

async fn subscription_events(profile: Profile) -> (Ws, TestServer) {
    let s = TestServer::start(profile).await.unwrap();
    let mut ws = Ws::v2(&s).await;
    ws.join("1", json!({"systems": [JITA, TAMA]})).await;
    let r = ws
        .call(
            "1",
            "3",
            "subscribe_systems",
            json!({"systems": [30000144]}),
        )
        .await;
    assert_eq!(
        r[4],
        json!({"status": "ok", "response": {"subscribed_systems": [JITA, 30000144, TAMA]}})
    );
    let r = ws
        .call(
            "1",
            "4",
            "subscribe_systems",
            json!({"systems": [30000144]}),
        )
        .await;
    assert_eq!(
        r[4]["response"],
        json!({"message": "Already subscribed to all requested systems"})
    );
    let r = ws
        .call(
            "1",
            "5",
            "subscribe_characters",
            json!({"character_ids": [95465499]}),
        )
        .await;
    assert_eq!(
        r[4]["response"],
        json!({"subscribed_characters": [95465499]})
    );
    let r = ws
        .call(
            "1",
            "5b",
            "subscribe_characters",
            json!({"character_ids": []}),
        )
        .await;
    assert_eq!(
        r[4]["response"],
        json!({"message": "Already subscribed to all requested characters"})
    );
    let r = ws.call("1", "6", "get_status", json!({})).await;
    let resp = &r[4]["response"];
    assert_eq!(resp["subscribed_systems"], json!([JITA, 30000144, TAMA]));
    assert_eq!(resp["subscribed_characters"], json!([95465499]));
    assert!(resp["connected_at"].as_str().unwrap().ends_with('Z'));
    let user_id = resp["user_id"].as_str().unwrap();
    let rest = user_id.strip_prefix("rust-client_").unwrap();
    let (micros, token) = rest.split_once('_').unwrap();
    assert!(micros.parse::<u64>().is_ok(), "{user_id}");
    assert_eq!(token.len(), 11, "{user_id}");
    let r = ws
        .call(
            "1",
            "7",
            "unsubscribe_systems",
            json!({"systems": [30000144]}),
        )
        .await;
    assert_eq!(
        r[4]["response"],
        json!({"subscribed_systems": [JITA, TAMA]})
    );
    let r = ws
        .call(
            "1",
            "7b",
            "unsubscribe_systems",
            json!({"systems": [30000144]}),
        )
        .await;
    assert_eq!(
        r[4]["response"],
        json!({"message": "Not subscribed to any of the requested systems"})
    );
    let r = ws
        .call(
            "1",
            "7c",
            "unsubscribe_characters",
            json!({"character_ids": [95465500]}),
        )
        .await;
    assert_eq!(
        r[4]["response"],
        json!({"message": "Not subscribed to any of the requested characters"})
    );
    let r = ws
        .call(
            "1",
            "7d",
            "unsubscribe_characters",
            json!({"character_ids": [95465499]}),
        )
        .await;
    assert_eq!(r[4]["response"], json!({"subscribed_characters": []}));
    (ws, s)
}

#[tokio::test]
async fn real_servers_crash_the_channel_on_invalid_ids() {
    for profile in [Profile::Faithful, Profile::Legacy] {
        let (mut ws, s) = subscription_events(profile).await;
        let crashed = |jr: &str| {
            format!(
                r#"["{jr}","{jr}","killmails:lobby","phx_error",{}]"#,
                profile.crash_payload()
            )
        };
        ws.send(
            r#"["1","8","killmails:lobby","unsubscribe_characters",{"character_ids":[11111111]}]"#,
        )
        .await;
        assert_eq!(ws.text().await, crashed("1"), "{profile}");
        // The topic is no longer joined.
        ws.send(r#"["1","9","killmails:lobby","get_status",{}]"#)
            .await;
        assert_eq!(
            ws.text().await,
            r#"[null,"9","killmails:lobby","phx_reply",{"response":{"reason":"unmatched topic"},"status":"error"}]"#
        );
        assert_eq!(s.state().channel_crashes, 1);
        // §13 row 15: the crashed channel's record stays listed.
        assert_eq!(
            get(s.addr(), "/api/v1/subscriptions").await.json()["data"]["count"],
            1,
            "{profile}"
        );
        // Unknown events and bad payloads crash too.
        for (i, bad) in [
            json!(["update_subscriptions", {"add_systems": [1]}]),
            json!(["subscribe_systems", {"system_ids": [1]}]),
            json!(["subscribe_systems", {"systems": 30000142}]),
            json!(["subscribe_systems", {"systems": [30000142.0]}]),
            json!(["heartbeat", {}]),
        ]
        .into_iter()
        .enumerate()
        {
            let jr = format!("j{i}");
            ws.join(&jr, json!({})).await;
            ws.send_json(json!([jr, "x", "killmails:lobby", bad[0], bad[1]]))
                .await;
            assert_eq!(ws.text().await, crashed(&jr), "{profile} {bad}");
        }
    }
}
#[tokio::test]
async fn designed_invalid_ids_get_error_replies() {
    let (mut ws, _s) = subscription_events(Profile::Designed).await;
    let r = ws
        .call(
            "1",
            "8",
            "unsubscribe_characters",
            json!({"character_ids": [11111111]}),
        )
        .await;
    assert_eq!(
        r[4],
        json!({"status": "error", "response": {"reason": "[validation:invalid_character_ids] Invalid character IDs"}})
    );
    let r = ws.call("1", "9", "update_subscriptions", json!({})).await;
    assert_eq!(r[4]["status"], "error");
    // Still joined.
    let r = ws.call("1", "10", "get_status", json!({})).await;
    assert_eq!(r[4]["status"], "ok");
}

#[tokio::test]
async fn join_validation_and_crashes() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let mut ws = Ws::v2(&s).await;
    let cases = [
        (
            json!({"systems": [60000000]}),
            Some("[validation:invalid_system_ids] Invalid system IDs"),
        ),
        (
            json!({"systems": [30000142.0]}),
            Some("[validation:non_integer_system_ids] System IDs must be integers"),
        ),
        (
            json!({"systems": vec![1; 10001]}),
            Some("[validation:too_many_systems] Too many systems (max: 10000)"),
        ),
        (
            json!({"character_ids": [1]}),
            Some("[validation:invalid_character_ids] Invalid character IDs"),
        ),
        (
            json!({"character_ids": ["95465499"]}),
            Some("[validation:non_integer_character_ids] Character IDs must be integers"),
        ),
        (
            json!({"systems": [0], "character_ids": 5}),
            Some("[validation:invalid_system_ids] Invalid system IDs"),
        ),
        (
            json!({"systems": [1], "character_ids": null}),
            Some("join crashed"),
        ),
        (
            json!({"systems": null, "character_ids": [95465499]}),
            Some("join crashed"),
        ),
        (json!([1]), Some("join crashed")),
        (json!({"systems": "30000142"}), None),
        (json!({"system_ids": [30000142]}), None),
    ];
    for (i, (params, reason)) in cases.into_iter().enumerate() {
        let jr = i.to_string();
        let r = ws.join(&jr, params.clone()).await;
        match reason {
            Some(reason) => assert_eq!(
                r[4],
                json!({"status": "error", "response": {"reason": reason}}),
                "{params}"
            ),
            None => {
                assert_eq!(r[4]["status"], "ok", "{params}");
                assert_eq!(r[4]["response"]["subscribed_systems"], json!([]));
                let leave = ws.call(&jr, "l", "phx_leave", json!({})).await;
                assert_eq!(leave[4], json!({"status": "ok", "response": {}}));
                assert_eq!(
                    ws.frame().await,
                    json!([jr, jr, "killmails:lobby", "phx_close", {}])
                );
            }
        }
    }
    ws.send(r#"["11","11","killmails:system:30000142","phx_join",{}]"#)
        .await;
    assert_eq!(
        ws.text().await,
        r#"["11","11","killmails:system:30000142","phx_reply",{"response":{"reason":"join crashed"},"status":"error"}]"#
    );
    ws.send(r#"["12","12","kills:all","phx_join",{}]"#).await;
    assert_eq!(
        ws.text().await,
        r#"[null,"12","kills:all","phx_reply",{"response":{"reason":"unmatched topic"},"status":"error"}]"#
    );
}

#[tokio::test]
async fn duplicate_join_answers_new_then_closes_old() {
    for profile in Profile::ALL {
        let s = TestServer::start(profile).await.unwrap();
        let mut ws = Ws::v2(&s).await;
        ws.join("9", json!({"systems": [JITA]})).await;
        let r = ws.join("10", json!({"systems": [60000000]})).await;
        assert_eq!(r[4]["status"], "error");
        assert_eq!(
            ws.text().await,
            r#"["9","9","killmails:lobby","phx_close",{}]"#
        );
        let r = ws.join("13", json!({})).await;
        assert_eq!(r[4]["status"], "ok");
        let r = ws.join("14", json!({"systems": [TAMA]})).await;
        assert_eq!(r[4]["status"], "ok");
        assert_eq!(
            ws.text().await,
            r#"["13","13","killmails:lobby","phx_close",{}]"#
        );
        // Designed: the orphan record rule (§7.10), the replaced join had no subscriptions, so
        // its record stays. The real server never removes a WebSocket record (§13 row 15).
        let want = if profile == Profile::Designed { 2 } else { 3 };
        assert_eq!(
            get(s.addr(), "/api/v1/subscriptions").await.json()["data"]["count"],
            want,
            "{profile}"
        );
    }
}
async fn live(profile: Profile, params: Value) -> (TestServer, Ws) {
    let s = TestServer::start(profile).await.unwrap();
    let mut ws = Ws::v2(&s).await;
    let r = ws.join("1", params).await;
    assert_eq!(r[4]["status"], "ok");
    (s, ws)
}

#[tokio::test]
async fn real_servers_push_system_kills_in_identical_pairs() {
    for profile in [Profile::Faithful, Profile::Legacy] {
        let (s, mut ws) = live(
            profile,
            json!({"systems": [TAMA], "character_ids": [2119283745]}),
        )
        .await;
        s.inject(capsule_kill()); // Jita: not subscribed, and characters are ignored.
        s.inject(example_kill());
        let frames = ws.sync().await;
        let copies = profile.ws_system_copies();
        assert_eq!(frames.len(), copies, "{profile}: {frames:?}");
        assert_eq!(copies, if profile == Profile::Legacy { 4 } else { 2 });
        for f in &frames {
            assert!(is_push(f, "killmail_update"));
            assert_eq!(f[0], "1");
            assert_eq!(f[4]["preload"], false);
            assert_eq!(f[4]["system_id"], TAMA);
            assert_eq!(f[4]["killmails"][0]["killmail_id"], 131588274);
            assert_eq!(f[4]["killmails"][0]["attacker_count"], 3);
        }
        // Each pair is byte for byte the same frame.
        for pair in frames.chunks(2) {
            assert_eq!(pair[0], pair[1], "{profile}");
        }
        assert_eq!(s.state().pushes_of("killmail_update"), copies as u64);
        assert_eq!(s.state().pushes_of("kill_count_update"), 0);
    }
}
#[tokio::test]
async fn real_servers_characters_only_copies_grow_per_subscribe() {
    for profile in [Profile::Faithful, Profile::Legacy] {
        let copies = profile.ws_character_copies();
        assert_eq!(copies, if profile == Profile::Legacy { 2 } else { 1 });
        let (s, mut ws) = live(profile, json!({"character_ids": [93265215]})).await;
        s.inject(capsule_kill());
        assert_eq!(ws.sync().await.len(), copies, "{profile}");
        ws.call(
            "1",
            "2",
            "subscribe_characters",
            json!({"character_ids": [95465499]}),
        )
        .await;
        s.inject(capsule_kill());
        assert_eq!(
            ws.sync().await.len(),
            2 * copies,
            "{profile}: a second listener"
        );
        // 0 → 1 systems stops the all-kills listener; removing it does not bring it back.
        ws.call("1", "3", "subscribe_systems", json!({"systems": [TAMA]}))
            .await;
        ws.call("1", "4", "unsubscribe_systems", json!({"systems": [TAMA]}))
            .await;
        s.inject(capsule_kill());
        assert_eq!(ws.sync().await.len(), 0, "{profile}");
    }
}
#[tokio::test]
async fn designed_pushes_each_kill_once_with_count_update() {
    let (s, mut ws) = live(
        Profile::Designed,
        json!({"systems": [TAMA], "character_ids": [93265215]}),
    )
    .await;
    s.inject(example_kill());
    s.inject(capsule_kill()); // Jita, but a subscribed character is on it.
    let frames = ws.drain(Duration::from_millis(300)).await;
    let updates: Vec<_> = frames
        .iter()
        .filter(|f| is_push(f, "killmail_update"))
        .collect();
    let counts: Vec<_> = frames
        .iter()
        .filter(|f| is_push(f, "kill_count_update"))
        .collect();
    assert_eq!(updates.len(), 2, "{frames:?}");
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0][4]["system_id"], TAMA);
    assert_eq!(counts[0][4]["count"], 1);
}

#[tokio::test]
async fn preload_after_join_reply_in_stored_form() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let mut g = wk_testkit::Generator::new(3);
    let kills: Vec<_> = (0..7)
        .map(|_| {
            let k = g.killmail_in(SystemId::new(TAMA));
            g.stored(&k)
        })
        .collect();
    s.seed_store(kills);
    let mut old = capsule_kill();
    old.kill_time = Some("2020-01-01T00:00:00Z".parse().unwrap());
    s.seed_store([old]);
    let mut ws = Ws::v2(&s).await;
    ws.send_json(json!(["1", "1", "killmails:lobby", "phx_join", {"systems": [JITA, TAMA]}]))
        .await;
    let reply = ws.frame().await;
    assert_eq!(reply[3], "phx_reply", "the join reply comes first");
    let pre = ws.frame().await;
    assert!(is_push(&pre, "killmail_update"));
    assert_eq!(pre[4]["preload"], true);
    assert_eq!(pre[4]["system_id"], TAMA);
    let kills = pre[4]["killmails"].as_array().unwrap();
    assert_eq!(kills.len(), 5);
    assert!(kills[0].get("involved_parties").is_some(), "stored form");
    let times: Vec<&str> = kills
        .iter()
        .map(|k| k["kill_time"].as_str().unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(times, sorted, "newest first");
    // Jita's only kill is too old: no push for it.
    assert!(ws.drain(Duration::from_millis(200)).await.is_empty());
    // subscribe_systems preloads the newly added systems only.
    s.seed_store([capsule_kill_now()]);
    ws.send_json(
        json!(["1", "2", "killmails:lobby", "subscribe_systems", {"systems": [TAMA, 30000144]}]),
    )
    .await;
    let frames = ws.drain(Duration::from_millis(300)).await;
    assert_eq!(
        frames.len(),
        1,
        "reply only: 30000144 has nothing, TAMA was not new: {frames:?}"
    );
}

fn capsule_kill_now() -> wk_types::Killmail {
    let mut k = capsule_kill();
    k.killmail_id = KillmailId::new(1);
    k.kill_time = Some(jiff::Timestamp::now());
    k
}

#[tokio::test]
async fn real_servers_send_stale_preload_after_phx_error() {
    for profile in [Profile::Faithful, Profile::Legacy] {
        let s = TestServer::builder()
            .profile(profile)
            .preload_delay(Duration::from_millis(1000))
            .start()
            .await
            .unwrap();
        s.seed_store([example_kill()]);
        let mut ws = Ws::v2(&s).await;
        ws.join("1", json!({"systems": [TAMA]})).await;
        ws.send(r#"["1","2","killmails:lobby","subscribe_systems",{"systems":[0]}]"#)
            .await;
        assert_eq!(
            ws.text().await,
            format!(
                r#"["1","1","killmails:lobby","phx_error",{}]"#,
                profile.crash_payload()
            )
        );
        let stale = ws.frame().await;
        assert_eq!(stale[0], "1", "old join_ref");
        assert_eq!(stale[4]["preload"], true);
    }
}
#[tokio::test]
async fn designed_preload_is_not_stale() {
    let s = TestServer::builder()
        .profile(Profile::Designed)
        .preload_delay(Duration::from_millis(1000))
        .start()
        .await
        .unwrap();
    s.seed_store([example_kill()]);
    let mut ws = Ws::v2(&s).await;
    ws.join("1", json!({"systems": [TAMA]})).await;
    ws.call("1", "2", "phx_leave", json!({})).await;
    let frames = ws.drain(Duration::from_millis(1300)).await;
    assert_eq!(
        frames,
        vec![json!(["1", "1", "killmails:lobby", "phx_close", {}])]
    );
}

#[tokio::test]
async fn idle_close_1000_and_heartbeats_keep_alive() {
    let s = TestServer::builder()
        .idle_timeout(Duration::from_millis(800))
        .start()
        .await
        .unwrap();
    let mut ws = Ws::v2(&s).await;
    for i in 0..8 {
        tokio::time::sleep(Duration::from_millis(150)).await;
        ws.send(&format!(r#"[null,"{i}","phoenix","heartbeat",{{}}]"#))
            .await;
        ws.text().await;
    }
    assert_eq!(
        ws.next_within(Duration::from_secs(3)).await,
        Err(Ended::Close(Some(1000)))
    );
}

#[tokio::test]
async fn frame_limits_and_malformed_frames() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let mut ws = Ws::v2(&s).await;
    let big = format!(
        r#"[null,"1","phoenix","heartbeat",{{"pad":"{}"}}]"#,
        "x".repeat(131_072)
    );
    ws.send(&big).await;
    assert_eq!(
        ws.next_within(Duration::from_secs(3)).await,
        Err(Ended::Close(Some(1009)))
    );
    for bad in [
        r#"{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1"}"#,
        r#"["1","1","killmails:lobby","phx_join"]"#,
        "nope",
    ] {
        let mut ws = Ws::v2(&s).await;
        ws.send(bad).await;
        assert_eq!(
            ws.next_within(Duration::from_secs(3)).await,
            Err(Ended::Close(Some(1011))),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn v1_object_frames_without_vsn_and_403_on_other_versions() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let mut ws = Ws::connect(&s.ws_url()).await;
    ws.send(r#"{"topic":"phoenix","event":"heartbeat","payload":{},"ref":"1","join_ref":null}"#)
        .await;
    assert_eq!(
        ws.text().await,
        r#"{"event":"phx_reply","join_ref":null,"payload":{"response":{},"status":"ok"},"ref":"1","topic":"phoenix"}"#
    );
    ws.send(r#"{"topic":"killmails:lobby","event":"phx_join","payload":{"systems":[30000142]},"ref":"2","join_ref":"2"}"#).await;
    let f: Value = serde_json::from_str(&ws.text().await).unwrap();
    assert_eq!(
        f["payload"]["response"]["subscribed_systems"],
        json!([JITA])
    );
    let err = tokio_tungstenite::connect_async(format!("{}?vsn=3.0.0", s.ws_url()))
        .await
        .unwrap_err();
    match err {
        tokio_tungstenite::tungstenite::Error::Http(resp) => {
            assert_eq!(resp.status().as_u16(), 403)
        }
        other => panic!("expected HTTP 403, got {other:?}"),
    }
}

#[tokio::test]
async fn a_system_subscription_ignores_characters_elsewhere() {
    let (s, mut ws) = live(
        Profile::Faithful,
        json!({"systems": [TAMA], "character_ids": [93265215]}),
    )
    .await;
    s.inject(capsule_kill()); // 93265215 is the attacker, but in Jita.
    assert!(ws.drain(Duration::from_millis(300)).await.is_empty());
    let _ = CharacterId::new(93265215);
}

#[tokio::test]
async fn upgrade_refusals() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let r = crate::support::request(s.addr(), "POST", "/socket/websocket?vsn=2.0.0", &[], "").await;
    assert_eq!(r.status, 400);
    let r = get(s.addr(), "/socket/websocket?vsn=2.0.0").await;
    assert_eq!(r.status, 400, "a GET that is not an upgrade");
    let r = get(s.addr(), "/socket/websocket?vsn=9").await;
    assert_eq!((r.status, r.body.len()), (403, 0));
}

#[tokio::test]
async fn deleting_a_socket_record_keeps_the_socket_working() {
    for profile in Profile::ALL {
        let s = TestServer::start(profile).await.unwrap();
        let mut ws = Ws::v2(&s).await;
        ws.join("1", json!({"systems": [JITA]})).await;
        let status = ws.call("1", "2", "get_status", json!({})).await;
        let user_id = status[4]["response"]["user_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = crate::support::request(
            s.addr(),
            "DELETE",
            &format!("/api/v1/subscriptions/{user_id}"),
            &[],
            "",
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(
            get(s.addr(), "/api/v1/subscriptions").await.json()["data"]["count"],
            0
        );
        let r = ws
            .call("1", "3", "subscribe_systems", json!({"systems": [TAMA]}))
            .await;
        assert_eq!(r[4]["status"], "ok");
        assert_eq!(
            get(s.addr(), "/api/v1/subscriptions").await.json()["data"]["count"],
            0
        );
        s.inject(example_kill());
        let pushes = ws
            .sync()
            .await
            .into_iter()
            .filter(|f| is_push(f, "killmail_update"))
            .count();
        assert_eq!(
            pushes,
            profile.ws_system_copies(),
            "{profile}: the socket still receives data"
        );
    }
}
#[tokio::test]
async fn frames_with_a_stale_join_ref_per_phoenix_version() {
    for profile in Profile::ALL {
        let s = TestServer::start(profile).await.unwrap();
        let mut ws = Ws::v2(&s).await;
        ws.join("1", json!({})).await;
        ws.join("2", json!({"systems": [JITA]})).await;
        assert_eq!(
            ws.frame().await,
            json!(["1", "1", "killmails:lobby", "phx_close", {}])
        );
        // A stale string join_ref, `null`, and the number 2 (`===` tells it from "2").
        for (i, jr) in [json!("1"), Value::Null, json!(2)].into_iter().enumerate() {
            let r = format!("s{i}");
            ws.send_json(json!([jr, r, "killmails:lobby", "get_status", {}]))
                .await;
            let got = ws.sync().await;
            if profile.answers_stale_join_ref() {
                // Phoenix 1.7: handled on the topic alone; the reply names the channel's join.
                assert_eq!(got.len(), 1, "{profile} {jr}: {got:?}");
                assert_eq!(got[0][0], "2");
                assert_eq!(got[0][1], r.as_str());
                assert_eq!(got[0][4]["status"], "ok");
                assert_eq!(got[0][4]["response"]["subscribed_systems"], json!([JITA]));
            } else {
                assert!(
                    got.is_empty(),
                    "{profile} {jr}: dropped without a reply: {got:?}"
                );
            }
        }
        // A stale `phx_leave` gets no reply and leaves the channel joined, in every version.
        ws.send(r#"["1","l","killmails:lobby","phx_leave",{}]"#)
            .await;
        assert!(ws.sync().await.is_empty(), "{profile}");
        let st = s.state();
        assert_eq!((st.stale_pushes, st.numeric_refs), (4, 1), "{profile}");
        let r = ws.call("2", "4", "get_status", json!({})).await;
        assert_eq!(r[4]["status"], "ok");
        assert_eq!(
            s.state().stale_pushes,
            4,
            "the current join_ref is not stale"
        );
    }
}

#[tokio::test]
async fn a_list_vsn_is_refused_by_phoenix_1_8() {
    for profile in Profile::ALL {
        let s = TestServer::start(profile).await.unwrap();
        let r = get(s.addr(), "/socket/websocket?vsn[]=2.0.0").await;
        if profile == Profile::Faithful {
            assert_eq!((r.status, r.body.len()), (403, 0), "{profile}");
        } else {
            // Not a valid upgrade request either way; the parameter itself is not refused.
            assert_eq!(r.status, 400, "{profile}");
        }
    }
}

#[tokio::test]
async fn drop_pushes_fault_answers_with_silence_then_recovers() {
    for profile in Profile::ALL {
        let s = TestServer::start(profile).await.unwrap();
        let mut ws = Ws::v2(&s).await;
        ws.join("1", json!({"systems": [JITA]})).await;
        s.fault(wk_testkit::Fault::DropPushes { count: 1 });
        ws.send(r#"["1","2","killmails:lobby","subscribe_systems",{"systems":[30002813]}]"#)
            .await;
        assert!(ws.sync().await.is_empty(), "{profile}: no reply");
        let r = ws.call("1", "3", "get_status", json!({})).await;
        assert_eq!(
            r[4]["response"]["subscribed_systems"],
            json!([JITA]),
            "nothing changed"
        );
        let st = s.state();
        assert_eq!((st.silenced_pushes, st.stale_pushes), (1, 0), "{profile}");
    }
}

#[tokio::test]
async fn crash_joins_fault_crashes_each_join_after_its_reply_then_stops() {
    for profile in Profile::ALL {
        let s = TestServer::start(profile).await.unwrap();
        s.fault(wk_testkit::Fault::CrashJoins { count: 2 });
        let mut ws = Ws::v2(&s).await;
        for jr in ["1", "2"] {
            let reply = ws.join(jr, json!({"systems": [JITA]})).await;
            assert_eq!(reply[4]["status"], "ok", "{profile}: {reply}");
            let after = ws.sync().await;
            assert!(
                after
                    .iter()
                    .any(|f| f[0] == jr && f[1] == jr && f[3] == "phx_error"),
                "{profile}: the join crashes: {after:?}"
            );
        }
        let reply = ws.join("3", json!({"systems": [JITA]})).await;
        assert_eq!(reply[4]["status"], "ok");
        let after = ws.sync().await;
        assert!(
            !after.iter().any(|f| f[3] == "phx_error"),
            "{profile}: the third join stays: {after:?}"
        );
        let st = s.state();
        assert_eq!((st.joins, st.channel_crashes), (3, 2), "{profile}");
        assert_eq!(st.joined_channels, 1, "{profile}");
    }
}
