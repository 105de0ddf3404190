//! Every protocol example (`spec/protocol/examples/`) decodes into its type, re-encodes to JSON
//! that decodes to an equal value, and keeps every non-null field the server sent.

use std::path::PathBuf;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use wk_types::http::{
    BulkSystemsKills, BulkSystemsRequest, CreateSubscription, Envelope, KillCount, KillList,
    KillmailLookup, SubscriptionCreated, SubscriptionDeleted, SubscriptionList, SubscriptionStats,
};
use wk_types::phoenix::{
    CharactersReply, ErrorReply, Frame, JoinParams, JoinReply, KillCountUpdate, KillmailUpdate,
    Push, Reply, StatusReply, SystemsReply,
};
use wk_types::sse::{Batch, Connected, EnhancedEvent, Heartbeat, Transition};
use wk_types::webhook::WebhookBody;
use wk_types::{ErrorBody, Killmail, KillmailShape, decode};

fn data_dir() -> PathBuf {
    crate::support::examples_dir()
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(data_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Removes `null`s and empty arrays and objects, which the model treats as absent.
fn normalize(v: Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) => Some(Value::Array(
            items
                .into_iter()
                .map(|i| normalize(i).unwrap_or(Value::Object(Default::default())))
                .collect(),
        )),
        Value::Object(map) => {
            let map: serde_json::Map<_, _> = map
                .into_iter()
                .filter_map(|(k, v)| normalize(v).map(|v| (k, v)))
                .collect();
            Some(Value::Object(map))
        }
        other => Some(other),
    }
}

/// Decodes, re-encodes, decodes again; asserts equality and that no sent field was dropped.
fn check<T>(name: &str) -> T
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let bytes = read(name);
    let value: T = decode::from_slice(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let encoded = serde_json::to_vec(&value).unwrap();
    let again: T =
        decode::from_slice(&encoded).unwrap_or_else(|e| panic!("{name} re-encoded: {e}"));
    assert_eq!(value, again, "{name}: round trip changed the value");
    let sent: Value = serde_json::from_slice(&bytes).unwrap();
    let kept: Value = serde_json::from_slice(&encoded).unwrap();
    assert_eq!(
        normalize(kept),
        normalize(sent),
        "{name}: re-encoding dropped or changed a field"
    );
    value
}

/// Every JSON example, mapped to the type that decodes it. A new file without a row fails
/// `every_example_is_covered`.
/// A check run on one example file.
type Check = fn(&str);

const JSON_EXAMPLES: &[(&str, Check)] = &[
    ("bulk_systems_kills.json", |n| {
        let e = check::<Envelope<BulkSystemsKills>>(n);
        assert_eq!(e.data.systems_kills.len(), 3);
        assert!(
            e.data
                .systems_kills
                .values()
                .flatten()
                .all(|k| k.shape() == KillmailShape::Reference)
        );
    }),
    ("bulk_systems_kills_request.json", |n| {
        check::<BulkSystemsRequest>(n);
    }),
    ("cached_kills.json", |n| {
        let e = check::<Envelope<KillList>>(n);
        assert!(e.data.cached);
        assert!(
            e.data
                .kills
                .iter()
                .all(|k| k.shape() == KillmailShape::Stored)
        );
    }),
    ("error_debug_forbidden.json", |n| {
        assert!(matches!(check::<ErrorBody>(n), ErrorBody::Forbidden(_)));
    }),
    ("error_fetch_error.json", |n| {
        let e = check::<ErrorBody>(n);
        assert!(matches!(e, ErrorBody::Api(_)));
        assert!(e.is_retryable());
    }),
    ("error_health_check_failed.json", |n| {
        assert!(matches!(check::<ErrorBody>(n), ErrorBody::Structured(_)));
    }),
    ("error_invalid_killmail_id.json", |n| {
        assert_eq!(
            check::<ErrorBody>(n).code(),
            Some(&wk_types::ErrorCode::InvalidKillmailId)
        );
    }),
    ("error_invalid_parameters.json", |n| {
        assert_eq!(
            check::<ErrorBody>(n).code(),
            Some(&wk_types::ErrorCode::InvalidParameters)
        );
    }),
    ("error_invalid_system_id.json", |n| {
        assert_eq!(
            check::<ErrorBody>(n).code(),
            Some(&wk_types::ErrorCode::InvalidSystemId)
        );
    }),
    ("error_invalid_system_ids.json", |n| {
        assert_eq!(
            check::<ErrorBody>(n).code(),
            Some(&wk_types::ErrorCode::InvalidSystemIds)
        );
    }),
    ("error_killmail_not_found.json", |n| {
        assert_eq!(
            check::<ErrorBody>(n).code(),
            Some(&wk_types::ErrorCode::NotFound)
        );
    }),
    ("error_not_found.json", |n| {
        assert_eq!(check::<ErrorBody>(n).message(), "Not Found");
    }),
    ("error_phoenix_fallback.json", |n| {
        let e = check::<ErrorBody>(n);
        assert!(matches!(e, ErrorBody::Fallback(_)));
        assert!(!e.is_retryable());
    }),
    ("error_sse_connection_limit.json", |n| {
        let e = check::<ErrorBody>(n);
        assert_eq!(
            e.error_type(),
            Some(&wk_types::ErrorType::ConnectionLimitReached)
        );
        assert!(e.is_retryable());
    }),
    ("error_sse_validation.json", |n| {
        assert_eq!(
            check::<ErrorBody>(n).error_type(),
            Some(&wk_types::ErrorType::InvalidFormat)
        );
    }),
    ("error_subscription_validation.json", |n| {
        let e = check::<ErrorBody>(n);
        assert!(matches!(e, ErrorBody::Subscription(_)));
        assert_eq!(e.message(), "callback_url must be a valid HTTP/HTTPS URL");
    }),
    ("kill_count.json", |n| {
        assert_eq!(check::<Envelope<KillCount>>(n).data.count, 0);
    }),
    ("killmail.json", |n| {
        let k = check::<Killmail>(n);
        assert_eq!(k.shape(), KillmailShape::Canonical);
        assert_eq!(k.attacker_count(), 3);
        assert_eq!(
            k.final_blow().and_then(|a| a.character_id).map(|c| c.get()),
            Some(2_119_283_745)
        );
        assert_eq!(k.total_value(), Some(13_645_977.48));
        assert_eq!(k.kill_time.unwrap().to_string(), "2025-12-03T14:21:07Z");
    }),
    ("killmail_response_from_store.json", |n| {
        let e = check::<Envelope<KillmailLookup>>(n);
        assert_eq!(e.data.killmail().unwrap().shape(), KillmailShape::Stored);
    }),
    ("killmail_response_from_zkb.json", |n| {
        let e = check::<Envelope<KillmailLookup>>(n);
        assert_eq!(e.data.killmail().unwrap().shape(), KillmailShape::Canonical);
    }),
    ("killmail_response_unenriched_fallback.json", |n| {
        let e = check::<Envelope<KillmailLookup>>(n);
        assert_eq!(e.data.killmail().unwrap().shape(), KillmailShape::Reference);
    }),
    ("killmail_solo_capsule.json", |n| {
        let k = check::<Killmail>(n);
        assert_eq!(k.shape(), KillmailShape::Canonical);
        assert_eq!(k.total_value(), Some(10_000.0));
    }),
    ("killmail_stored.json", |n| {
        let k = check::<Killmail>(n);
        assert_eq!(k.shape(), KillmailShape::Stored);
        let victim = k.victim.as_ref().unwrap();
        assert_eq!(
            victim.corporation.as_ref().unwrap().ticker.as_deref(),
            Some("DVS")
        );
        assert_eq!(victim.items.len(), 2);
        assert_eq!(k.involved_parties, Some(4));
    }),
    ("killmail_zkb_reference.json", |n| {
        let k = check::<Killmail>(n);
        assert_eq!(k.shape(), KillmailShape::Reference);
        assert_eq!(
            k.zkb.as_ref().unwrap().location_id.map(|l| l.get()),
            Some(60_003_760)
        );
    }),
    ("sse_basic_killmail_data.json", |n| {
        assert_eq!(check::<Killmail>(n).shape(), KillmailShape::Canonical);
    }),
    ("sse_enhanced_batch.json", |n| {
        let b = check::<Batch>(n);
        assert_eq!((b.batch_number, b.total_batches), (1, 1));
    }),
    ("sse_enhanced_connected.json", |n| {
        assert_eq!(check::<Connected>(n).filters.min_value, Some(1.0e7));
    }),
    ("sse_enhanced_heartbeat.json", |n| {
        check::<Heartbeat>(n);
    }),
    ("sse_enhanced_transition.json", |n| {
        assert_eq!(check::<Transition>(n).total_historical, 1);
    }),
    ("subscription_create.json", |n| {
        assert!(
            check::<Envelope<SubscriptionCreated>>(n)
                .data
                .subscription_id
                .is_well_formed()
        );
    }),
    ("subscription_create_request.json", |n| {
        let r = check::<CreateSubscription>(n);
        assert!(wk_types::validate::subscription(&r).is_ok());
    }),
    ("subscription_delete.json", |n| {
        check::<Envelope<SubscriptionDeleted>>(n);
    }),
    ("subscription_stats.json", |n| {
        assert_eq!(
            check::<Envelope<SubscriptionStats>>(n).data.memory_usage,
            3472
        );
    }),
    ("subscriptions_list.json", |n| {
        let l = check::<Envelope<SubscriptionList>>(n).data;
        assert_eq!(l.count, 2);
        assert_eq!(
            l.subscriptions[1].kind,
            wk_types::http::SubscriptionKind::Websocket
        );
        assert_eq!(l.subscriptions[1].callback_url, None);
    }),
    ("system_kills.json", |n| {
        let e = check::<Envelope<KillList>>(n);
        assert!(!e.data.cached);
        assert!(
            e.data
                .kills
                .iter()
                .all(|k| k.shape() == KillmailShape::Reference)
        );
    }),
    ("webhook_body.json", |n| {
        let b = check::<WebhookBody>(n);
        assert!(matches!(b, WebhookBody::KillmailUpdate(_)));
        assert_eq!(wk_types::webhook::parse(&read(n)).unwrap(), b);
    }),
    ("webhook_count_body.json", |n| {
        assert!(matches!(
            check::<WebhookBody>(n),
            WebhookBody::KillmailCountUpdate(_)
        ));
    }),
    ("ws_get_status_reply.json", |n| {
        let r = check::<Reply<StatusReply>>(n);
        assert_eq!(
            r.response.user_id.as_deref(),
            Some("rust-client_1764770412338761_Hq3k9VZr1aQ")
        );
    }),
    ("ws_heartbeat_reply.json", |n| {
        check::<Reply>(n);
    }),
    ("ws_join_crashed_reply.json", |n| {
        let r = check::<Reply<ErrorReply>>(n);
        assert_eq!(
            r.response.parsed(),
            wk_types::phoenix::ChannelErrorReason::JoinCrashed
        );
    }),
    ("ws_join_error_reply.json", |n| {
        let r = check::<Reply<ErrorReply>>(n);
        assert!(matches!(
            r.response.parsed(),
            wk_types::phoenix::ChannelErrorReason::Validation { .. }
        ));
    }),
    ("ws_join_params.json", |n| {
        let p = check::<JoinParams>(n);
        assert_eq!(p.systems.len(), 2);
        assert!(p.preload.is_some());
    }),
    ("ws_join_reply.json", |n| {
        let r = check::<Reply<JoinReply>>(n);
        assert_eq!(r.status, wk_types::phoenix::ReplyStatus::Ok);
        assert_eq!(r.response.subscribed_systems.len(), 2);
    }),
    ("ws_kill_count_update.json", |n| {
        check::<KillCountUpdate>(n);
    }),
    ("ws_killmail_update.json", |n| {
        let u = check::<KillmailUpdate>(n);
        assert!(!u.preload);
        assert_eq!(u.killmails[0].shape(), KillmailShape::Canonical);
    }),
    ("ws_killmail_update_preload.json", |n| {
        let u = check::<KillmailUpdate>(n);
        assert!(u.preload);
        assert!(
            u.killmails
                .iter()
                .all(|k| k.shape() == KillmailShape::Stored)
        );
    }),
    ("ws_subscribe_characters_noop_reply.json", |n| {
        assert!(matches!(
            check::<Reply<CharactersReply>>(n).response,
            CharactersReply::Unchanged { .. }
        ));
    }),
    ("ws_subscribe_characters_reply.json", |n| {
        assert!(matches!(
            check::<Reply<CharactersReply>>(n).response,
            CharactersReply::Updated { .. }
        ));
    }),
    ("ws_subscribe_systems_noop_reply.json", |n| {
        assert!(matches!(
            check::<Reply<SystemsReply>>(n).response,
            SystemsReply::Unchanged { .. }
        ));
    }),
    ("ws_subscribe_systems_reply.json", |n| {
        assert!(matches!(
            check::<Reply<SystemsReply>>(n).response,
            SystemsReply::Updated { .. }
        ));
    }),
    ("ws_unmatched_topic_reply.json", |n| {
        let r = check::<Reply<ErrorReply>>(n);
        assert_eq!(
            r.response.parsed(),
            wk_types::phoenix::ChannelErrorReason::UnmatchedTopic
        );
    }),
    ("ws_unsubscribe_characters_noop_reply.json", |n| {
        assert!(matches!(
            check::<Reply<CharactersReply>>(n).response,
            CharactersReply::Unchanged { .. }
        ));
    }),
    ("ws_unsubscribe_characters_reply.json", |n| {
        assert!(matches!(
            check::<Reply<CharactersReply>>(n).response,
            CharactersReply::Updated { .. }
        ));
    }),
    ("ws_unsubscribe_systems_noop_reply.json", |n| {
        assert!(matches!(
            check::<Reply<SystemsReply>>(n).response,
            SystemsReply::Unchanged { .. }
        ));
    }),
    ("ws_unsubscribe_systems_reply.json", |n| {
        assert!(matches!(
            check::<Reply<SystemsReply>>(n).response,
            SystemsReply::Updated { .. }
        ));
    }),
];

#[test]
fn every_json_example_decodes_and_round_trips() {
    for (name, check) in JSON_EXAMPLES {
        check(name);
    }
}

#[test]
fn every_example_is_covered() {
    let mut missing = Vec::new();
    for entry in std::fs::read_dir(data_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let covered =
            JSON_EXAMPLES.iter().any(|(n, _)| *n == name) || TEXT_EXAMPLES.contains(&name.as_str());
        if !covered {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "examples without a test: {missing:?}");
}

const TEXT_EXAMPLES: &[&str] = &[
    "phoenix_frames.txt",
    "sse_stream.txt",
    "sse_enhanced_stream.txt",
    "sse_enhanced_stream_realtime_only.txt",
];

#[test]
fn phoenix_session_frames_decode() {
    let text = String::from_utf8(read("phoenix_frames.txt")).unwrap();
    let (mut sent, mut received, mut pushes, mut replies) = (0, 0, 0, 0);
    for line in text.lines() {
        let (dir, frame) = match line.split_at_checked(3) {
            Some((">> ", f)) => ("out", f),
            Some(("<< ", f)) => ("in", f),
            _ => continue,
        };
        let frame = Frame::decode(frame).unwrap_or_else(|e| panic!("{line}: {e}"));
        let encoded = frame.encode().unwrap();
        assert_eq!(Frame::decode(&encoded).unwrap().encode().unwrap(), encoded);
        let compact: Value = serde_json::from_str(frame.payload.get()).unwrap();
        let original: Value = serde_json::from_str(line.split_at(3).1).unwrap();
        assert_eq!(original[4], compact);
        if dir == "out" {
            sent += 1;
            if frame.event == "phx_join" {
                frame.payload_as::<JoinParams>().unwrap();
            }
            continue;
        }
        received += 1;
        match frame.event.as_str() {
            "phx_reply" => {
                replies += 1;
                frame.payload_as::<Reply>().unwrap();
            }
            "phx_error" | "phx_close" => {}
            event => {
                pushes += 1;
                let push = Push::decode(event, frame.payload.get()).unwrap();
                assert!(matches!(push, Push::KillmailUpdate(_)), "{event}");
                assert!(frame.msg_ref.is_none());
            }
        }
    }
    assert_eq!((sent, received, pushes, replies), (15, 22, 5, 14));
}

/// Splits an SSE text into `(event name, data)` pairs; comments and `retry:` are skipped.
fn sse_events(text: &str) -> Vec<(String, String)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut event = "message".to_owned();
            let mut data = None;
            for line in block.lines() {
                if let Some(e) = line.strip_prefix("event: ") {
                    event = e.to_owned();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = Some(d.to_owned());
                }
            }
            data.map(|d| (event, d))
        })
        .collect()
}

#[test]
fn basic_sse_stream_decodes() {
    let text = String::from_utf8(read("sse_stream.txt")).unwrap();
    let events = sse_events(&text);
    assert_eq!(events.len(), 4);
    let ids: Vec<i64> = events
        .iter()
        .map(|(name, data)| {
            assert_eq!(name, "message");
            decode::from_str::<Killmail>(data)
                .unwrap()
                .killmail_id
                .get()
        })
        .collect();
    assert_eq!(ids, [131588274, 131588274, 131588301, 131588301]);
}

#[test]
fn enhanced_sse_streams_decode() {
    for (file, expected) in [
        (
            "sse_enhanced_stream.txt",
            &[
                "connected",
                "batch",
                "batch",
                "transition",
                "killmail",
                "heartbeat",
            ][..],
        ),
        (
            "sse_enhanced_stream_realtime_only.txt",
            &[
                "connected",
                "killmail",
                "killmail",
                "heartbeat",
                "heartbeat",
            ][..],
        ),
    ] {
        let text = String::from_utf8(read(file)).unwrap();
        let names: Vec<String> = sse_events(&text)
            .iter()
            .map(|(name, data)| {
                let event = EnhancedEvent::decode(name, data)
                    .unwrap_or_else(|e| panic!("{file} {name}: {e}"));
                assert!(!matches!(event, EnhancedEvent::Unknown { .. }));
                let again = EnhancedEvent::decode(event.name(), &event.data().unwrap()).unwrap();
                assert_eq!(event, again);
                event.name().to_owned()
            })
            .collect();
        let mut sorted_expected: Vec<&str> = expected.to_vec();
        let mut sorted_names: Vec<&str> = names.iter().map(String::as_str).collect();
        sorted_expected.sort_unstable();
        sorted_names.sort_unstable();
        assert_eq!(sorted_names, sorted_expected, "{file}");
    }
}
