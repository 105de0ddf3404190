//! Malformed input gives a typed [`DecodeError`] naming the JSON path, never a panic.

use wk_types::http::{Envelope, KillList, KillmailLookup};
use wk_types::phoenix::{Frame, JoinReply, Push, Reply};
use wk_types::sse::EnhancedEvent;
use wk_types::{DecodeError, Killmail, decode, webhook};

fn err<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str) -> DecodeError {
    decode::from_str::<T>(json).expect_err(json)
}

#[test]
fn wrong_types_name_their_path() {
    let cases: &[(&str, &str)] = &[
        (r#"{"killmail_id":"1"}"#, "killmail_id"),
        (r#"{"killmail_id":1,"kill_time":"yesterday"}"#, "kill_time"),
        (r#"{"killmail_id":1,"system_id":1.5}"#, "system_id"),
        (
            r#"{"killmail_id":1,"victim":{"position":{"x":"a","y":0,"z":0}}}"#,
            "victim.position.x",
        ),
        (
            r#"{"killmail_id":1,"attackers":[{"final_blow":"yes"}]}"#,
            "attackers[0].final_blow",
        ),
        (
            r#"{"killmail_id":1,"zkb":{"totalValue":"lots"}}"#,
            "zkb.totalValue",
        ),
        (r#"{"killmail_id":1,"zkb":{"points":1.5}}"#, "zkb.points"),
        (r#"{"killmail_id":1,"zkb":{"labels":[1]}}"#, "zkb.labels[0]"),
        (
            r#"{"killmail_id":1,"victim":{"items":[{"items":[{"flag":"x"}]}]}}"#,
            "victim.items[0].items[0].flag",
        ),
    ];
    for (json, path) in cases {
        assert_eq!(err::<Killmail>(json).path(), *path, "{json}");
    }
}

#[test]
fn envelope_paths_are_full() {
    let e =
        err::<Envelope<KillList>>(r#"{"data":{"kills":[{"killmail_id":1},{"killmail_id":null}]}}"#);
    assert_eq!(e.path(), "data.kills[1].killmail_id");
    let e = err::<Envelope<KillmailLookup>>(r#"{"data":42}"#);
    assert_eq!(e.path(), "data");
}

#[test]
fn missing_required_fields_are_errors() {
    assert!(err::<Killmail>("{}").message().contains("killmail_id"));
    assert!(
        err::<Reply<JoinReply>>(r#"{"status":"ok","response":{}}"#)
            .message()
            .contains("subscription_id")
    );
}

#[test]
fn absent_and_null_are_the_same() {
    let a: Killmail = decode::from_str(r#"{"killmail_id":1}"#).unwrap();
    let b: Killmail = decode::from_str(
        r#"{"killmail_id":1,"victim":null,"attackers":null,"zkb":null,"kill_time":null,"system_id":null}"#,
    )
    .unwrap();
    assert_eq!(a, b);
    let v: Killmail = decode::from_str(
        r#"{"killmail_id":1,"victim":{"damage_taken":null,"items":null},"attackers":[{"damage_done":null,"final_blow":null,"security_status":null}],"zkb":{"npc":null,"labels":null}}"#,
    )
    .unwrap();
    assert_eq!(v.victim.unwrap().damage_taken, 0);
    assert!(!v.attackers[0].final_blow);
}

#[test]
fn numbers_in_any_json_form_parse() {
    let k: Killmail = decode::from_str(
        r#"{"killmail_id":1,"zkb":{"totalValue":1.0e4,"fittedValue":10000,"droppedValue":2.5E7,"points":7.0}}"#,
    )
    .unwrap();
    let z = k.zkb.unwrap();
    assert_eq!(z.total_value, Some(10_000.0));
    assert_eq!(z.fitted_value, Some(10_000.0));
    assert_eq!(z.dropped_value, Some(25_000_000.0));
    assert_eq!(z.points, Some(7));
}

#[test]
fn unknown_keys_are_ignored() {
    let k: Killmail = decode::from_str(
        r#"{"killmail_id":1,"solar_system_id":5,"zkb":{"href":"https://esi/x","new":{"a":[1]}},"victim":{"surprise":true}}"#,
    )
    .unwrap();
    assert_eq!(k.killmail_id.get(), 1);
}

#[test]
fn kill_older_is_its_own_variant() {
    let e: Envelope<KillmailLookup> =
        decode::from_str(r#"{"data":"kill_older","timestamp":"2025-12-03T14:25:02.417735Z"}"#)
            .unwrap();
    assert_eq!(e.data, KillmailLookup::KillOlder);
    let e: Envelope<KillmailLookup> = decode::from_str(r#"{"data":"gone"}"#).unwrap();
    assert_eq!(e.data, KillmailLookup::Unavailable("gone".into()));
}

#[test]
fn bad_frames_and_events_are_errors() {
    for bad in [
        "",
        "[]",
        "[null,null,\"t\"]",
        "{}",
        "[1,2,3,4,5]",
        "[null,null,\"t\",\"e\",{}",
        "\u{0}",
    ] {
        assert!(Frame::decode(bad).is_err(), "{bad:?}");
    }
    let e = Push::decode(
        "killmail_update",
        r#"{"system_id":1,"killmails":[{"killmail_id":"x"}]}"#,
    )
    .unwrap_err();
    assert_eq!(e.path(), "killmails[0].killmail_id");
    assert!(EnhancedEvent::decode("batch", r#"{"kills":[]}"#).is_err());
    assert!(EnhancedEvent::decode("killmail", "not json").is_err());
}

#[test]
fn webhook_bodies_are_checked() {
    assert!(webhook::parse(br#"{"type":"other","system_id":1}"#).is_err());
    assert!(webhook::parse(br#"{"system_id":1}"#).is_err());
    assert!(webhook::parse(b"\xff\xff").is_err());
    let e =
        webhook::parse(br#"{"type":"killmail_update","system_id":1,"kills":[{"killmail_id":[]}]}"#)
            .unwrap_err();
    assert!(e.to_string().starts_with("invalid JSON at `"), "{e}");
}

#[test]
fn deep_nesting_is_an_error_or_skipped_never_a_stack_overflow() {
    // Deep nesting inside a modelled field hits the recursion limit: a typed error.
    let open = r#"{"items":["#.repeat(300);
    let close = "]}".repeat(300);
    let deep = format!(r#"{{"killmail_id":1,"victim":{open}{close}}}"#);
    let e = decode::from_str::<Killmail>(&deep).unwrap_err();
    assert!(e.message().contains("recursion limit"), "{e}");
    // Deep nesting inside an unknown key is skipped without recursion.
    let deep = format!(
        r#"{{"killmail_id":1,"zkb":{{"x":{}{}}}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    assert_eq!(
        decode::from_str::<Killmail>(&deep)
            .unwrap()
            .killmail_id
            .get(),
        1
    );
}
