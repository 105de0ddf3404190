//! Bad-input tables: every field of every protocol example given a value of the wrong type,
//! invalid UTF-8, lone surrogates, huge and deeply nested payloads, unknown events. Each case is a
//! typed [`DecodeError`] naming the bad path, or is tolerated; never a panic.

use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::Value;
use wk_types::phoenix::{Frame, JoinReply, KillCountUpdate, KillmailUpdate, Push, Reply};
use wk_types::sse::{Batch, Connected, EnhancedEvent};
use wk_types::webhook::{self, WebhookBody};
use wk_types::{Killmail, decode};

fn example(name: &str) -> Value {
    let path = crate::support::examples_dir().join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// Every leaf and container of `v` with its path in `serde_path_to_error` form (`a.b[0].c`).
fn paths(v: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.push((p.clone(), child.clone()));
                paths(child, &p, out);
            }
        }
        Value::Array(items) => {
            // The first element stands for the rest: same fields, far fewer cases.
            for (i, child) in items.iter().enumerate().take(1) {
                let p = format!("{prefix}[{i}]");
                out.push((p.clone(), child.clone()));
                paths(child, &p, out);
            }
        }
        _ => {}
    }
}

/// A value of a different JSON type than `v`.
fn wrong_types(v: &Value) -> Vec<Value> {
    let all = [
        Value::from("wrong"),
        Value::from(-7.5),
        Value::from(true),
        Value::Array(vec![Value::from(1)]),
        serde_json::json!({"nested": {"x": 1}}),
    ];
    let same = |a: &Value| std::mem::discriminant(a) == std::mem::discriminant(v);
    all.into_iter().filter(|a| !same(a)).collect()
}

/// Sets the value at `path` (as produced by [`paths`]).
fn set(root: &mut Value, path: &str, new: Value) {
    let mut cur = root;
    for part in path.split('.') {
        let (key, indexes) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            cur = cur.get_mut(key).expect("path exists");
        }
        for idx in indexes
            .split(['[', ']'])
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<usize>().unwrap())
        {
            cur = cur.get_mut(idx).expect("index exists");
        }
    }
    *cur = new;
}

/// For each field of `file`, each wrong type: the decode is `Ok` or an error whose path is the
/// mutated field or inside it. Returns (cases, errors) so callers can check the table did work.
fn every_field_wrong<T: DeserializeOwned>(file: &str) -> (usize, usize) {
    let original = example(file);
    let mut fields = Vec::new();
    paths(&original, "", &mut fields);
    let (mut cases, mut errors) = (0, 0);
    for (path, value) in &fields {
        for wrong in wrong_types(value) {
            let mut doc = original.clone();
            set(&mut doc, path, wrong.clone());
            let text = serde_json::to_string(&doc).unwrap();
            cases += 1;
            if let Err(e) = decode::from_str::<T>(&text) {
                errors += 1;
                // Internally tagged enums (the webhook body) buffer their content, so the path
                // stops at the enum; everything else names the field.
                assert!(
                    e.path() == "." || path.starts_with(e.path()) || e.path().starts_with(path),
                    "{file}: {path} = {wrong} gave an error at `{}`: {e}",
                    e.path()
                );
            }
        }
    }
    (cases, errors)
}

#[test]
fn every_field_of_every_shape_with_the_wrong_type() {
    let tables = [
        every_field_wrong::<Killmail>("killmail.json"),
        every_field_wrong::<Killmail>("killmail_stored.json"),
        every_field_wrong::<Killmail>("killmail_zkb_reference.json"),
        every_field_wrong::<KillmailUpdate>("ws_killmail_update.json"),
        every_field_wrong::<KillCountUpdate>("ws_kill_count_update.json"),
        every_field_wrong::<Reply<JoinReply>>("ws_join_reply.json"),
        every_field_wrong::<Batch>("sse_enhanced_batch.json"),
        every_field_wrong::<Connected>("sse_enhanced_connected.json"),
        every_field_wrong::<WebhookBody>("webhook_body.json"),
        every_field_wrong::<WebhookBody>("webhook_count_body.json"),
    ];
    for (i, (cases, errors)) in tables.iter().enumerate() {
        assert!(*cases > 0 && *errors > 0, "table {i} tested nothing");
    }
    let total: usize = tables.iter().map(|t| t.0).sum();
    assert!(total > 500, "only {total} cases");
}

#[test]
fn invalid_utf8_and_lone_surrogates_are_typed_errors() {
    let bad: &[&[u8]] = &[
        b"{\"killmail_id\":1,\"victim\":{\"character_name\":\"\xff\xfe\"}}",
        b"{\"killmail_id\":1,\"zkb\":{\"hash\":\"\xc3\x28\"}}",
        b"{\"killmail_id\":1,\"\xed\xa0\x80\":1}",
        b"\xef\xbb\xbf{\"killmail_id\":1}",
        b"{\"killmail_id\":1,\"zkb\":{\"hash\":\"\\ud800\"}}",
        b"{\"killmail_id\":1,\"zkb\":{\"hash\":\"\\udc00x\"}}",
        b"{\"killmail_id\":1,\"zkb\":{\"hash\":\"\\u12\"}}",
    ];
    for bytes in bad {
        let e = decode::from_slice::<Killmail>(bytes).expect_err(&String::from_utf8_lossy(bytes));
        assert!(!e.message().is_empty());
        assert!(webhook::parse(bytes).is_err());
    }
    // Escaped, valid surrogate pairs are fine.
    let ok: Killmail =
        decode::from_slice(br#"{"killmail_id":1,"zkb":{"hash":"\ud83d\ude80"}}"#).unwrap();
    assert_eq!(ok.zkb.unwrap().hash.as_deref(), Some("\u{1f680}"));
}

#[test]
fn deep_nesting_anywhere_in_a_frame_is_an_error_or_skipped() {
    let depth = 20_000;
    let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    // As a whole frame, as a payload, inside a known and an unknown event.
    assert!(Frame::decode(&deep).is_err());
    let frame = format!(r#"[null,null,"killmails:lobby","killmail_update",{deep}]"#);
    if let Ok(f) = Frame::decode(&frame) {
        assert!(f.payload_as::<KillmailUpdate>().is_err());
    }
    assert!(Push::decode("killmail_update", &deep).is_err());
    assert!(Push::decode("made_up_event", &deep).is_err());
    let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    assert!(Push::decode("made_up_event", &objects).is_err());
    assert!(EnhancedEvent::decode("killmail", &objects).is_err());
    assert!(webhook::parse(objects.as_bytes()).is_err());
}

#[test]
fn oversized_payloads_decode_in_linear_time() {
    // 10,000 kills in one push (about 1 MB): decodes, and quickly.
    let one =
        r#"{"killmail_id":1,"system_id":30000142,"victim":{"ship_type_id":670},"attackers":[]}"#;
    let list = vec![one; 10_000].join(",");
    let payload = format!(r#"{{"system_id":30000142,"killmails":[{list}]}}"#);
    let start = Instant::now();
    let Push::KillmailUpdate(update) = Push::decode("killmail_update", &payload).unwrap() else {
        panic!("not a killmail_update");
    };
    assert_eq!(update.killmails.len(), 10_000);
    // A 1 MB string and a 1 MB unknown field are carried or skipped.
    let big = "x".repeat(1 << 20);
    let k: Killmail = decode::from_str(&format!(
        r#"{{"killmail_id":1,"zkb":{{"hash":"{big}"}},"unknown":"{big}"}}"#
    ))
    .unwrap();
    assert_eq!(k.zkb.unwrap().hash.map(|h| h.len()), Some(1 << 20));
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn unknown_events_and_fields_are_tolerated() {
    let p = Push::decode("presence_diff", r#"{"joins":{},"leaves":{}}"#).unwrap();
    assert_eq!(p.event(), "presence_diff");
    let e = EnhancedEvent::decode("surprise", "not even json").unwrap();
    assert_eq!(e.name(), "surprise");
    let f = Frame::decode(r#"["1","2","killmails:lobby","future_event",{"a":[1,{"b":null}]}]"#)
        .unwrap();
    assert_eq!(f.event, "future_event");
    // Unknown keys at every level of a webhook body.
    let body = br#"{"type":"killmail_update","system_id":1,"new":1,"kills":[{"killmail_id":5,"x":{"y":[]}}],"timestamp":null}"#;
    assert!(matches!(
        webhook::parse(body).unwrap(),
        WebhookBody::KillmailUpdate(_)
    ));
}

#[test]
fn numbers_out_of_range_are_typed_errors() {
    for (json, path) in [
        (r#"{"killmail_id":9223372036854775808}"#, "killmail_id"),
        (r#"{"killmail_id":1e400}"#, "killmail_id"),
        (r#"{"killmail_id":-1e19}"#, "killmail_id"),
        (r#"{"killmail_id":1,"system_id":1e3}"#, "system_id"),
        (
            r#"{"killmail_id":1,"zkb":{"totalValue":1e999}}"#,
            "zkb.totalValue",
        ),
    ] {
        let e = decode::from_str::<Killmail>(json).expect_err(json);
        assert_eq!(e.path(), path, "{json}: {e}");
    }
}

#[test]
fn truncated_frames_are_errors_at_every_cut() {
    let frame = r#"["3","7","killmails:lobby","killmail_update",{"system_id":30000142,"killmails":[{"killmail_id":1,"victim":{"character_name":"Ünïcödé"}}]}]"#;
    for cut in 0..frame.len() {
        if let Some(prefix) = frame.get(..cut) {
            assert!(Frame::decode(prefix).is_err(), "{prefix}");
        }
    }
}
