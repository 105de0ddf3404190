//! State-machine transitions, driven by the frames of PROTOCOL.md's example session.

use super::*;

fn machine() -> (Machine, Instant) {
    let now = Instant::now();
    let mut m = Machine::new("killmails:lobby", MachineConfig::default());
    m.connected(now);
    (m, now)
}

fn sent(m: &mut Machine) -> Vec<String> {
    let mut out = Vec::new();
    while let Some(o) = m.poll_output() {
        match o {
            Output::Send(frame) => out.push(frame),
            other => panic!("unexpected output {other:?}"),
        }
    }
    out
}

fn outputs(m: &mut Machine) -> Vec<Output> {
    std::iter::from_fn(|| m.poll_output()).collect()
}

fn joined(m: &mut Machine, now: Instant) -> PushRef {
    let jr = m.join(r#"{"systems":[30000142]}"#, now);
    sent(m);
    m.handle_text(&format!(
        r#"["{jr}","{jr}","killmails:lobby","phx_reply",{{"response":{{"status":"connected","subscribed_characters":[],"subscribed_systems":[30000142],"subscription_id":"Zt0h1yQv9xWcB3m6pL2sNA"}},"status":"ok"}}]"#
    ))
    .unwrap();
    assert!(matches!(outputs(m).as_slice(), [Output::Joined { .. }]));
    jr
}

#[test]
fn join_frame_and_ok_reply() {
    let (mut m, now) = machine();
    let jr = m.join(r#"{"character_ids":[],"systems":[30000142]}"#, now);
    assert_eq!(
        sent(&mut m),
        [format!(
            r#"["{jr}","{jr}","killmails:lobby","phx_join",{{"character_ids":[],"systems":[30000142]}}]"#
        )]
    );
    assert!(!m.is_joined());
    m.handle_text(&format!(r#"["{jr}","{jr}","killmails:lobby","phx_reply",{{"response":{{"status":"connected"}},"status":"ok"}}]"#))
        .unwrap();
    let out = outputs(&mut m);
    let [Output::Joined { join_ref, response }] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert_eq!(*join_ref, jr);
    assert_eq!(response.get(), r#"{"status":"connected"}"#);
    assert!(m.is_joined());
}

#[test]
fn join_rejection_is_typed() {
    let (mut m, now) = machine();
    let jr = m.join(r#"{"systems":[60000000]}"#, now);
    sent(&mut m);
    m.handle_text(&format!(
        r#"["{jr}","{jr}","killmails:lobby","phx_reply",{{"response":{{"reason":"[validation:invalid_system_ids] Invalid system IDs"}},"status":"error"}}]"#
    ))
    .unwrap();
    let out = outputs(&mut m);
    let [Output::JoinRejected { reason, .. }] = out.as_slice() else {
        panic!("{out:?}")
    };
    assert!(matches!(
        reason,
        ChannelErrorReason::Validation {
            kind: wk_types::phoenix::ValidationKind::InvalidSystemIds,
            ..
        }
    ));
    assert!(!m.is_joined());
}

#[test]
fn pushes_need_a_join() {
    let (mut m, now) = machine();
    assert_eq!(m.push("get_status", "{}", now), Err(NotJoined::NotJoined));
    m.join("{}", now);
    assert_eq!(
        m.push("get_status", "{}", now),
        Err(NotJoined::NotJoined),
        "still joining"
    );
}

#[test]
fn replies_are_matched_by_ref() {
    let (mut m, now) = machine();
    let jr = joined(&mut m, now);
    let a = m
        .push("subscribe_systems", r#"{"systems":[30000144]}"#, now)
        .unwrap();
    let b = m.push("get_status", "{}", now).unwrap();
    assert_eq!(
        sent(&mut m),
        [
            format!(
                r#"["{jr}","{a}","killmails:lobby","subscribe_systems",{{"systems":[30000144]}}]"#
            ),
            format!(r#"["{jr}","{b}","killmails:lobby","get_status",{{}}]"#),
        ]
    );
    m.handle_text(&format!(r#"["{jr}","{b}","killmails:lobby","phx_reply",{{"response":{{"user_id":"x"}},"status":"ok"}}]"#))
        .unwrap();
    m.handle_text(&format!(
        r#"["{jr}","{a}","killmails:lobby","phx_reply",{{"response":{{"message":"Already subscribed to all requested systems"}},"status":"ok"}}]"#
    ))
    .unwrap();
    let refs: Vec<PushRef> = outputs(&mut m)
        .into_iter()
        .map(|o| match o {
            Output::Reply {
                push_ref, status, ..
            } => {
                assert_eq!(status, ReplyStatus::Ok);
                push_ref
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(refs, [b, a]);
    // A second reply for the same ref is stale.
    m.handle_text(&format!(
        r#"["{jr}","{a}","killmails:lobby","phx_reply",{{"response":{{}},"status":"ok"}}]"#
    ))
    .unwrap();
    assert!(outputs(&mut m).is_empty());
    assert_eq!(m.stale_dropped(), 1);
}

#[test]
fn phx_error_fails_pending_pushes_and_closes_the_channel() {
    let (mut m, now) = machine();
    let jr = joined(&mut m, now);
    let bad = m
        .push(
            "unsubscribe_characters",
            r#"{"character_ids":[11111111]}"#,
            now,
        )
        .unwrap();
    sent(&mut m);
    m.handle_text(&format!(
        r#"["{jr}","{jr}","killmails:lobby","phx_error",{{}}]"#
    ))
    .unwrap();
    let out = outputs(&mut m);
    assert!(
        matches!(out.as_slice(), [
        Output::NoReply { push_ref, why: NoReply::ChannelLost },
        Output::ChannelClosed { crashed: true, .. },
    ] if *push_ref == bad),
        "{out:?}"
    );
    assert!(!m.is_joined());
}

#[test]
fn frames_of_older_joins_are_dropped() {
    let (mut m, now) = machine();
    let old = joined(&mut m, now);
    m.handle_text(&format!(
        r#"["{old}","{old}","killmails:lobby","phx_error",{{}}]"#
    ))
    .unwrap();
    outputs(&mut m);
    let new = joined(&mut m, now);
    // A late preload push of the old join, and the old join's close, arrive after the rejoin.
    m.handle_text(&format!(r#"["{old}",null,"killmails:lobby","killmail_update",{{"killmails":[],"preload":true,"system_id":1}}]"#))
        .unwrap();
    m.handle_text(&format!(
        r#"["{old}","{old}","killmails:lobby","phx_close",{{}}]"#
    ))
    .unwrap();
    assert!(outputs(&mut m).is_empty());
    assert_eq!(m.stale_dropped(), 2);
    assert!(m.is_joined());
    m.handle_text(&format!(r#"["{new}",null,"killmails:lobby","killmail_update",{{"killmails":[],"preload":false,"system_id":1}}]"#))
        .unwrap();
    assert!(
        matches!(outputs(&mut m).as_slice(), [Output::Push { event, .. }] if event == "killmail_update")
    );
}

#[test]
fn unmatched_topic_replies_resolve_their_push() {
    let (mut m, now) = machine();
    let _jr = joined(&mut m, now);
    let p = m.push("get_status", "{}", now).unwrap();
    sent(&mut m);
    m.handle_text(&format!(r#"[null,"{p}","killmails:lobby","phx_reply",{{"response":{{"reason":"unmatched topic"}},"status":"error"}}]"#))
        .unwrap();
    let out = outputs(&mut m);
    assert!(
        matches!(
            out.as_slice(),
            [Output::Reply {
                status: ReplyStatus::Error,
                ..
            }]
        ),
        "{out:?}"
    );
}

#[test]
fn heartbeats_go_to_the_phoenix_topic_on_schedule() {
    let (mut m, t0) = machine();
    assert_eq!(m.poll_timeout(), Some(t0 + Duration::from_secs(30)));
    m.handle_timeout(t0 + Duration::from_secs(29));
    assert!(sent(&mut m).is_empty());
    m.handle_timeout(t0 + Duration::from_secs(30));
    let frames = sent(&mut m);
    assert_eq!(frames, [r#"[null,"1","phoenix","heartbeat",{}]"#]);
    m.handle_text(r#"[null,"1","phoenix","phx_reply",{"response":{},"status":"ok"}]"#)
        .unwrap();
    m.handle_timeout(t0 + Duration::from_secs(60));
    assert_eq!(sent(&mut m), [r#"[null,"2","phoenix","heartbeat",{}]"#]);
}

#[test]
fn an_unanswered_heartbeat_means_a_dead_connection() {
    let (mut m, t0) = machine();
    m.handle_timeout(t0 + Duration::from_secs(30));
    sent(&mut m);
    assert_eq!(m.poll_timeout(), Some(t0 + Duration::from_secs(60)));
    m.handle_timeout(t0 + Duration::from_secs(59));
    assert!(outputs(&mut m).is_empty());
    m.handle_timeout(t0 + Duration::from_secs(60));
    assert!(matches!(outputs(&mut m).as_slice(), [Output::Dead]));
}

#[test]
fn replies_time_out() {
    let (mut m, t0) = machine();
    let jr = m.join("{}", t0);
    sent(&mut m);
    m.handle_timeout(t0 + Duration::from_secs(10));
    let out = outputs(&mut m);
    assert!(
        matches!(out.as_slice(), [Output::JoinFailed { join_ref, why: NoReply::Timeout }] if *join_ref == jr),
        "{out:?}"
    );
    let _ = joined(&mut m, t0 + Duration::from_secs(11));
    let p = m
        .push("get_status", "{}", t0 + Duration::from_secs(11))
        .unwrap();
    sent(&mut m);
    m.handle_timeout(t0 + Duration::from_secs(21));
    let out = outputs(&mut m);
    assert!(
        matches!(out.as_slice(), [Output::NoReply { push_ref, why: NoReply::Timeout }] if *push_ref == p),
        "{out:?}"
    );
}

#[test]
fn disconnect_fails_everything() {
    let (mut m, now) = machine();
    joined(&mut m, now);
    let p = m.push("get_status", "{}", now).unwrap();
    sent(&mut m);
    m.disconnected();
    let out = outputs(&mut m);
    assert!(
        matches!(out.as_slice(), [Output::NoReply { push_ref, why: NoReply::Disconnected }] if *push_ref == p)
    );
    assert_eq!(m.poll_timeout(), None);
    assert!(!m.is_joined());
}

#[test]
fn malformed_frames_are_errors_and_change_nothing() {
    let (mut m, now) = machine();
    joined(&mut m, now);
    for bad in [
        "",
        "{}",
        "[1,2]",
        "not json",
        r#"["1",null,"killmails:lobby"]"#,
    ] {
        assert!(m.handle_text(bad).is_err(), "{bad:?}");
    }
    assert!(m.is_joined());
    assert!(outputs(&mut m).is_empty());
}

#[test]
fn the_example_session_replays() {
    // The server side of examples/phoenix_frames.txt, with our refs in place of the example's.
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../spec/protocol/examples/phoenix_frames.txt"
    ));
    let (mut m, now) = machine();
    let jr = m.join(r#"{"systems":[30000142,30002813]}"#, now);
    assert_eq!(jr, 1);
    sent(&mut m);
    let mut pushes = 0;
    for line in text.lines().filter_map(|l| l.strip_prefix("<< ")).take(7) {
        m.handle_text(line).unwrap();
        for o in outputs(&mut m) {
            match o {
                Output::Joined { .. } => {}
                Output::Push { event, .. } => {
                    assert_eq!(event, "killmail_update");
                    pushes += 1;
                }
                other => panic!("{other:?}"),
            }
        }
    }
    // One preload push and four live copies; the heartbeat reply (ref "2") matched nothing of ours.
    assert_eq!(pushes, 5);
    assert!(m.is_joined());
}

#[test]
fn the_fast_path_hands_back_typed_pushes_of_the_current_join_only() {
    let (mut m, now) = machine();
    let jr = joined(&mut m, now);
    let decode = wk_types::phoenix::FrameRef::killmail_update;
    let update = |join: PushRef, kill: i64| {
        format!(
            r#"["{join}",null,"killmails:lobby","killmail_update",{{"killmails":[{{"killmail_id":{kill}}}],"system_id":30000142}}]"#
        )
    };
    // The current join's push comes back typed.
    let text = update(jr, 1);
    let push = m
        .handle_text_fast(&text, event::KILLMAIL_UPDATE, decode)
        .unwrap()
        .expect("a push");
    let Payload::Typed(u) = push.payload else {
        panic!("raw payload")
    };
    assert_eq!(u.killmails[0].killmail_id.get(), 1);
    // An older join's push is stale, as on the serde path.
    let stale = m.stale_dropped();
    let text = update(jr + 100, 2);
    assert!(
        m.handle_text_fast(&text, event::KILLMAIL_UPDATE, decode)
            .unwrap()
            .is_none()
    );
    assert_eq!(m.stale_dropped(), stale + 1);
    // A payload the reader refuses takes the serde path and comes back raw, for its error.
    let bad = format!(
        r#"["{jr}",null,"killmails:lobby","killmail_update",{{"killmails":"x","system_id":1}}]"#
    );
    let push = m
        .handle_text_fast(&bad, event::KILLMAIL_UPDATE, decode)
        .unwrap()
        .expect("a push");
    assert!(matches!(push.payload, Payload::Raw(_)));
    // With output queued, the push is queued behind it, never handed back.
    let r = m.push("status", "{}", now).unwrap();
    sent(&mut m);
    m.handle_text(&format!(
        r#"["{jr}","{r}","killmails:lobby","phx_reply",{{"response":{{}},"status":"ok"}}]"#
    ))
    .unwrap();
    let text = update(jr, 3);
    assert!(
        m.handle_text_fast(&text, event::KILLMAIL_UPDATE, decode)
            .unwrap()
            .is_none()
    );
    let out = outputs(&mut m);
    assert!(
        matches!(out.as_slice(), [Output::Reply { .. }, Output::Push { event, .. }] if event == "killmail_update"),
        "{out:?}"
    );
}
