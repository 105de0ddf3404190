//! `decode::killmail_ref`, `decode::killmail` and `decode::killmail_update` (a hand-written reader
//! with serde behind it) give exactly what `decode::from_str` gives, for every input: the same
//! value, encoded the same, or the same error at the same path.

use std::sync::LazyLock;

use proptest::prelude::*;
use serde_json::Value;
use wk_types::phoenix::{Frame, FrameRef, KillmailUpdate};
use wk_types::{Killmail, KillmailRef, decode};

use crate::support::{example_frames, example_killmails};

/// The payloads of the `killmail_update` frames in the examples, byte for byte as sent.
fn example_updates() -> Vec<String> {
    example_frames()
        .iter()
        .filter(|f| f.contains(r#","killmail_update","#))
        .map(|frame| {
            let value: Vec<&serde_json::value::RawValue> = serde_json::from_str(frame).unwrap();
            value[4].get().to_owned()
        })
        .collect()
}

fn same_outcome<T: serde::Serialize + PartialEq + std::fmt::Debug>(
    fast: Result<T, wk_types::DecodeError>,
    serde: Result<T, wk_types::DecodeError>,
    text: &str,
) {
    match (fast, serde) {
        (Ok(a), Ok(b)) => {
            // The encodings catch what `==` cannot see, such as the sign of a zero.
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                serde_json::to_string(&b).unwrap(),
                "{text}"
            );
            assert_eq!(a, b, "{text}");
        }
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text}"),
        (a, b) => panic!("fast {a:?}, serde {b:?}: {text}"),
    }
}

/// The fast functions agree with `from_str` on `text`, read as a killmail and as an update.
fn agree(text: &str) {
    same_outcome(
        decode::killmail_ref(text),
        decode::from_str::<KillmailRef<'_>>(text),
        text,
    );
    same_outcome(
        decode::killmail(text),
        decode::from_str::<Killmail>(text),
        text,
    );
    same_outcome(
        decode::killmail_update(text),
        decode::from_str::<KillmailUpdate>(text),
        text,
    );
}

#[test]
fn every_example_killmail_and_update_decodes_the_same() {
    let killmails = example_killmails();
    assert!(killmails.len() >= 15, "only {} killmails", killmails.len());
    for text in &killmails {
        agree(text);
        // Pretty-printed too: whitespace everywhere JSON allows it.
        let pretty = serde_json::to_string_pretty(&serde_json::from_str::<Value>(text).unwrap());
        agree(&pretty.unwrap());
    }
    let updates = example_updates();
    assert!(updates.len() >= 4, "only {} updates", updates.len());
    for text in &updates {
        agree(text);
        let update = decode::killmail_update(text).unwrap();
        assert!(!update.killmails.is_empty());
    }
}

#[test]
fn bad_values_fail_at_the_same_path_with_the_same_message() {
    for text in [
        r#"{"killmail_id":1,"attackers":[{"character_id":1.5}]}"#,
        r#"{"killmail_id":1,"attackers":[{"security_status":"x"}]}"#,
        r#"{"killmail_id":1,"victim":{"position":{"x":1,"y":2}}}"#,
        r#"{"killmail_id":1,"killmail_id":2}"#,
        r#"{"killmail_id":-0}"#,
        r#"{"killmail_id":9223372036854775808}"#,
        r#"{"system_id":1}"#,
        r#"{"killmail_id":1,"kill_time":"yesterday"}"#,
        r#"{"killmail_id":1,"zkb":{"points":7.5}}"#,
        r#"{"killmail_id":1,"zkb":{"labels":["a",null]}}"#,
        r#"{"killmail_id":1,"attackers":[null]}"#,
        r#"{"killmail_id":1} x"#,
        r#"{"killmail_id":1,}"#,
        r#"{"system_id":1,"killmails":[{"attackers":[]}]}"#,
        r#"{"system_id":1,"preload":"yes","killmails":[]}"#,
        r#"{"system_id":1,"killmails":[{"killmail_id":1}],"system_id":2}"#,
        "[]",
        "",
        // A known key spelt with an escape is still that key: here a duplicate.
        r#"{"killmail_id":1,"killmail\u005fid":2}"#,
        r#"{"killmail_id":1,"attackers":[{"final_blow":true,"final\u005fblow":false}]}"#,
        // A raw control character in a key the reader does not know.
        "{\"killmail_id\":1,\"zkb\":{\"hash\u{1f}\":0}}",
    ] {
        assert!(decode::from_str::<KillmailRef<'_>>(text).is_err(), "{text}");
        agree(text);
    }
}

#[test]
fn odd_but_valid_input_decodes_the_same() {
    for text in [
        // Escaped strings and keys, which serde reads for the hand-written reader.
        r#"{"killmail_id":1,"attackers":[{"character_name":"A \"quoted\" name"}]}"#,
        r#"{"killmail\u005fid":1}"#,
        // An escaped quote inside a key: the text before it is not the key.
        r#"{"killmail_id":1,"killmail_id\"":2}"#,
        r#"{"killmail_id":1,"attackers":[{"x\"damage_done":5,"damage_done\\":6}]}"#,
        r#"{"killmail_id":1,"victim":{"position\"":[1,2],"position":{"x":1,"y":2,"z":3}}}"#,
        // Number spellings: negative zero, exponents, integers as floats, whole-float points.
        r#"{"killmail_id":1,"total_value":-0,"zkb":{"totalValue":-0.0,"points":7.0,"fittedValue":1E+2}}"#,
        r#"{"killmail_id":1,"zkb":{"points":-0,"droppedValue":18446744073709551615}}"#,
        r#"{"killmail_id":-9223372036854775808,"total_value":-9223372036854775809}"#,
        r#"{"killmail_id":1,"total_value":1e-400,"moon_id":null,"npc":null}"#,
        // `null` wherever a default applies.
        r#"{"killmail_id":1,"attackers":null,"victim":{"damage_taken":null,"items":null},"zkb":{"labels":null,"npc":null}}"#,
        // Unknown keys, nested, and an empty victim.
        r#"{"killmail_id":1,"x":{"y":[1,{"z":null}],"w":"\u00e9"},"victim":{}}"#,
        // Stored-form records and items, read by serde inside the hand-written reader.
        r#"{"killmail_id":1,"victim":{"items":[{"item_type_id":1,"flag":5,"singleton":0}],"character":{"name":"x"}}}"#,
        "  {\t\"killmail_id\" :\n1 }\r\n",
    ] {
        assert!(decode::from_str::<KillmailRef<'_>>(text).is_ok(), "{text}");
        agree(text);
    }
}

/// Spans of the string and number tokens of JSON text, and whether each string is a key.
fn tokens(text: &str) -> Vec<(usize, usize, bool)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                let key = bytes[i..]
                    .iter()
                    .find(|b| !b.is_ascii_whitespace())
                    .is_some_and(|&b| b == b':');
                out.push((start, i, key));
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len() && b"-+.eE0123456789".contains(&bytes[i]) {
                    i += 1;
                }
                out.push((start, i, false));
            }
            _ => i += 1,
        }
    }
    out
}

const KEYS: &[&str] = &[
    "killmail_id",
    "system_id",
    "victim",
    "attackers",
    "zkb",
    "kill_time",
    "character_id",
    "security_status",
    "damage_done",
    "final_blow",
    "position",
    "x",
    "points",
    "labels",
    "items",
    "killmails",
    "timestamp",
    "preload",
    "total_value",
    "character_name",
    "unknown",
];

const VALUES: &[&str] = &[
    "-0",
    "-0.0",
    "0",
    "1",
    "-1",
    "7.0",
    "1.5",
    "1e2",
    "1E+2",
    "1e400",
    "1e-400",
    "9.5e15",
    "-9223372036854775808",
    "-9223372036854775809",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "123456789012345678901234567890",
    "01",
    "1.",
    "null",
    "true",
    "false",
    "[]",
    "{}",
    "[1,2]",
    "{\"a\":[null]}",
    "\"\"",
    "\"x\"",
    "\"a\\\"b\"",
    "\"\\u00e9\"",
    "\"tab\\t\"",
    "\"2025-12-03T14:21:07Z\"",
    "\"\t\"",
    "[null]",
    "[\"a\",\"b\"]",
    "{\"x\":1,\"y\":2,\"z\":3}",
    "{\"x\":1,\"y\":2}",
];

/// One edit of JSON text: a token replaced, a key renamed, a pair repeated, or a byte cut.
#[derive(Clone, Debug)]
enum Edit {
    Value(prop::sample::Index, &'static str),
    Key(prop::sample::Index, &'static str),
    Repeat(prop::sample::Index),
    Cut(prop::sample::Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<prop::sample::Index>(), prop::sample::select(VALUES)).prop_map(|(i, v)| Edit::Value(i, v)),
        2 => (any::<prop::sample::Index>(), prop::sample::select(KEYS)).prop_map(|(i, k)| Edit::Key(i, k)),
        1 => any::<prop::sample::Index>().prop_map(Edit::Repeat),
        1 => any::<prop::sample::Index>().prop_map(Edit::Cut),
    ]
}

fn apply(text: &str, edit: &Edit) -> String {
    let tokens = tokens(text);
    let values: Vec<_> = tokens.iter().filter(|t| !t.2).collect();
    let keys: Vec<_> = tokens.iter().filter(|t| t.2).collect();
    match edit {
        Edit::Value(i, v) if !values.is_empty() => {
            let &&(start, end, _) = i.get(&values);
            format!("{}{v}{}", &text[..start], &text[end..])
        }
        Edit::Key(i, k) if !keys.is_empty() => {
            let &&(start, end, _) = i.get(&keys);
            format!("{}\"{k}\"{}", &text[..start], &text[end..])
        }
        // `"key":value,` copied in front of itself, for the simple values that follow a key.
        Edit::Repeat(i) if !keys.is_empty() => {
            let &&(start, _, _) = i.get(&keys);
            match tokens.iter().position(|t| t.0 == start) {
                Some(at) if at + 1 < tokens.len() && !tokens[at + 1].2 => {
                    let end = tokens[at + 1].1;
                    format!("{}{},{}", &text[..start], &text[start..end], &text[start..])
                }
                _ => text.to_owned(),
            }
        }
        Edit::Cut(i) => {
            let mut at = i.index(text.len().max(1));
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            text[..at].to_owned()
        }
        _ => text.to_owned(),
    }
}

/// Example killmails and `killmail_update` payloads.
static DOCS: LazyLock<Vec<String>> = LazyLock::new(|| {
    let mut docs = example_killmails();
    docs.extend(example_updates());
    docs
});

/// Example frames.
static FRAMES: LazyLock<Vec<String>> = LazyLock::new(example_frames);

/// One of `examples`, edited a few times.
fn edited(
    examples: &'static LazyLock<Vec<String>>,
    edits: std::ops::Range<usize>,
) -> impl Strategy<Value = String> {
    (
        any::<prop::sample::Index>(),
        prop::collection::vec(edit(), edits),
    )
        .prop_map(move |(pick, edits)| {
            edits
                .iter()
                .fold(pick.get(examples).clone(), |text, e| apply(&text, e))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    /// Example killmails and updates, each edited a few times, decode the same both ways.
    #[test]
    fn edited_examples_decode_the_same(text in edited(&DOCS, 1..4)) {
        agree(&text);
    }
}

/// Where `FrameRef::split` takes a frame, `Frame::decode` reads the same five parts.
fn split_agrees(text: &str) -> bool {
    let Some(split) = FrameRef::split(text) else {
        return false;
    };
    let frame = Frame::decode(text).unwrap_or_else(|e| panic!("split but {e}: {text}"));
    assert_eq!(split.join_ref, frame.join_ref.as_deref(), "{text}");
    assert_eq!(split.msg_ref, frame.msg_ref.as_deref(), "{text}");
    assert_eq!(split.topic, frame.topic, "{text}");
    assert_eq!(split.event, frame.event, "{text}");
    assert_eq!(split.payload, frame.payload.get(), "{text}");
    // The one-pass split of a `killmail_update` reads the same parts and payload.
    if let Some(update) = FrameRef::killmail_update(text) {
        assert_eq!(update.event, "killmail_update", "{text}");
        assert_eq!(
            (update.join_ref, update.msg_ref, update.topic),
            (split.join_ref, split.msg_ref, split.topic),
            "{text}"
        );
        let serde: KillmailUpdate = decode::from_str(split.payload).expect("read by the split");
        assert_eq!(update.payload, serde, "{text}");
    }
    true
}

#[test]
fn every_example_frame_splits_as_it_decodes() {
    let mut count = 0;
    for frame in &example_frames() {
        assert!(split_agrees(frame), "not split: {frame}");
        assert_eq!(
            FrameRef::killmail_update(frame).is_some(),
            frame.contains(r#","killmail_update","#),
            "{frame}"
        );
        count += 1;
    }
    assert!(count >= 10, "only {count} frames");
    assert!(split_agrees(
        " [ null , \"1\" ,\"t\",\n\"e\", { \"a\" : [ 1 , 2.5e3 ] } ] "
    ));
}

#[test]
fn frames_off_the_quick_path_are_left_to_frame_decode() {
    for text in [
        r#"[null,null,"t","e"]"#,
        r#"[null,null,"t","e",{},"extra"]"#,
        r#"[1,null,"t","e",{}]"#,
        r#"[null,null,"t\u0021","e",{}]"#,
        r#"[null,null,"t","e",{"a":"\n"}]"#,
        r#"[null,null,"t","e",{}] x"#,
        r#"[null,null,"t","e",{"a":01}]"#,
        r#"{"topic":"t"}"#,
    ] {
        assert!(FrameRef::split(text).is_none(), "{text}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Edited example frames split (when they do) into what `Frame::decode` reads.
    #[test]
    fn edited_frames_split_as_they_decode(text in edited(&FRAMES, 1..3)) {
        split_agrees(&text);
    }
}
