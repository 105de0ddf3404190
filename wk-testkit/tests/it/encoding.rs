//! Byte-faithful JSON: sorted keys, Erlang floats, explicit nulls of the stored form.

use serde_json::Value;
use wk_testkit::{Generator, forms, json};
use wk_types::Killmail;

use crate::support::data;

#[test]
fn every_sse_data_line_re_encodes_byte_for_byte() {
    let text = data("sse_stream.txt");
    let mut n = 0;
    for line in text.lines().filter_map(|l| l.strip_prefix("data: ")) {
        let v: Value = serde_json::from_str(line).unwrap();
        assert_eq!(json::encode(&v), line);
        let km: Killmail = serde_json::from_str(line).unwrap();
        assert_eq!(
            json::encode(&forms::canonical(&km)),
            line,
            "canonical form of a parsed kill"
        );
        n += 1;
    }
    assert_eq!(n, 4);
}

#[test]
fn every_compact_phoenix_frame_re_encodes_byte_for_byte() {
    let text = data("phoenix_frames.txt");
    let mut n = 0;
    for line in text.lines() {
        let Some(frame) = line
            .strip_prefix("<< ")
            .or_else(|| line.strip_prefix(">> "))
        else {
            continue;
        };
        let v: Value = serde_json::from_str(frame).unwrap();
        if line.starts_with("<< ") {
            assert_eq!(json::encode(&v), frame);
            n += 1;
        }
    }
    assert!(n > 15);
}

#[test]
fn stored_form_reproduces_the_example() {
    let pretty = data("killmail_stored.json");
    let v: Value = serde_json::from_str(&pretty).unwrap();
    let compact = json::encode(&v);
    let km: Killmail = serde_json::from_str(&pretty).unwrap();
    assert_eq!(json::encode(&forms::stored(&km)), compact);
}

#[test]
fn canonical_form_reproduces_the_example_from_the_stored_kill() {
    let stored: Killmail = serde_json::from_str(&data("killmail_stored.json")).unwrap();
    let canonical: Value = serde_json::from_str(&data("killmail.json")).unwrap();
    assert_eq!(
        json::encode(&forms::canonical(&stored)),
        json::encode(&canonical)
    );
}

#[test]
fn generated_kills_encode_consistently() {
    let mut g = Generator::new(99);
    for _ in 0..50 {
        let km = g.killmail();
        let stored = g.stored(&km);
        let canon = json::encode(&forms::canonical(&km));
        // Canonical parses back to the same value and re-encodes identically.
        let back: Killmail = serde_json::from_str(&canon).unwrap();
        assert_eq!(json::encode(&forms::canonical(&back)), canon);
        let s = forms::stored(&stored);
        assert_eq!(s["involved_parties"], km.attackers.len() + 1);
        assert!(
            s["victim"].get("alliance_id").is_some(),
            "explicit null kept"
        );
        assert!(s.get("attacker_count").is_none());
    }
}
