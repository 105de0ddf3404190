//! The borrowed view decodes exactly what the owned killmail does, and borrows what it can.

use std::borrow::Cow;

use wk_types::{Killmail, KillmailRef, decode};

/// The view and the owned type agree: same content, same encoding, same accessors.
fn assert_same(text: &str) {
    let owned: Killmail = decode::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    let view: KillmailRef<'_> = decode::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(view.shape(), owned.shape());
    assert_eq!(view.total_value(), owned.total_value());
    assert_eq!(view.attacker_count(), owned.attacker_count());
    assert_eq!(
        view.final_blow().map(|a| a.character_id),
        owned.final_blow().map(|a| a.character_id)
    );
    assert!(view.character_ids().eq(owned.character_ids()));
    assert_eq!(
        serde_json::to_string(&view).unwrap(),
        serde_json::to_string(&owned).unwrap()
    );
    assert_eq!(view.into_owned(), owned);
}

#[test]
fn every_killmail_in_the_examples_decodes_the_same_borrowed() {
    let found = crate::support::example_killmails();
    // Canonical, stored (with ESI records and items) and reference killmails are all among them.
    assert!(found.len() >= 15, "only {} killmails found", found.len());
    for text in &found {
        assert_same(text);
    }
}

#[test]
fn strings_without_escapes_are_borrowed_from_the_input() {
    let text = include_str!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../spec/protocol/examples/killmail.json"
    ));
    let view: KillmailRef<'_> = decode::from_str(text).unwrap();
    let victim = view.victim.as_ref().unwrap();
    let mut names = vec![&victim.character_name, &victim.ship_name];
    for a in &view.attackers {
        names.extend([&a.character_name, &a.ship_name]);
    }
    names.push(&view.zkb.as_ref().unwrap().hash);
    assert!(names.iter().filter(|n| n.is_some()).count() >= 5);
    for name in names.into_iter().flatten() {
        assert!(matches!(name, Cow::Borrowed(_)), "copied: {name}");
        let at = name.as_ptr() as usize - text.as_ptr() as usize;
        assert!(at < text.len(), "{name} does not point into the input");
    }
    let labels = &view.zkb.as_ref().unwrap().labels;
    assert!(!labels.is_empty() && labels.iter().all(|l| matches!(l, Cow::Borrowed(_))));
}

#[test]
fn escaped_strings_are_unescaped_into_copies() {
    let text = r#"{"killmail_id":1,"victim":{"character_name":"Ann \"The\" Pilot\u00e9\n",
                  "ship_name":"Rifter"},"zkb":{"labels":["a\/b","solo"]}}"#;
    let view: KillmailRef<'_> = decode::from_slice(text.as_bytes()).unwrap();
    let victim = view.victim.as_ref().unwrap();
    assert!(
        matches!(&victim.character_name, Some(Cow::Owned(s)) if s == "Ann \"The\" Pilot\u{e9}\n")
    );
    assert!(matches!(victim.ship_name, Some(Cow::Borrowed("Rifter"))));
    let labels = &view.zkb.as_ref().unwrap().labels;
    assert!(matches!(&labels[0], Cow::Owned(s) if s == "a/b"));
    assert!(matches!(labels[1], Cow::Borrowed("solo")));
    assert_same(text);
}

#[test]
fn nulls_and_absent_keys_mean_the_same_as_for_the_owned_type() {
    assert_same(
        r#"{"killmail_id":7,"victim":null,"attackers":null,"zkb":{"labels":null,"hash":null,
            "npc":null,"points":7.0},"solar_system_name":null}"#,
    );
    assert_same(r#"{"killmail_id":7,"attackers":[{"character_name":null,"final_blow":null}]}"#);
}

#[test]
fn bad_input_is_refused_with_the_same_path_as_the_owned_type() {
    for text in [
        r#"{"killmail_id":1,"attackers":[{},{"character_id":"nope"}]}"#,
        r#"{"killmail_id":1,"victim":{"ship_name":5}}"#,
        r#"{"killmail_id":1,"zkb":{"labels":["ok",3]}}"#,
        r#"{"killmail_id":1,"zkb":{"points":1.5}}"#,
        r#"{"victim":{}}"#,
        r#"{"killmail_id":1,"victim":{"ship_name":"Rif"#,
    ] {
        let owned = decode::from_str::<Killmail>(text).unwrap_err();
        let view = decode::from_str::<KillmailRef<'_>>(text).unwrap_err();
        assert_eq!(view.path(), owned.path(), "{text}");
        assert_eq!(view.message(), owned.message(), "{text}");
    }
    let bad_utf8 = b"{\"killmail_id\":1,\"victim\":{\"ship_name\":\"\xff\"}}";
    let err = decode::from_slice::<KillmailRef<'_>>(bad_utf8).unwrap_err();
    assert_eq!(err.path(), "victim.ship_name");
}
