//! Property tests: ids, killmails and frame payloads survive an encode/decode round trip.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use wk_types::phoenix::{Frame, JoinParams, KillmailUpdate};
use wk_types::{
    Attacker, CharacterId, Killmail, KillmailId, KillmailRef, SystemId, Victim, Zkb, decode,
};

fn any_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        (0u32..1_000_000_000).prop_map(|v| f64::from(v) * 10.0),
        Just(1.0e4),
        Just(0.0),
    ]
}

fn opt_id() -> impl Strategy<Value = Option<i64>> {
    option::of(1i64..4_000_000_000_000)
}

fn attacker() -> impl Strategy<Value = Attacker> {
    (
        opt_id(),
        opt_id(),
        opt_id(),
        any::<i32>(),
        any::<bool>(),
        any_f64(),
        // Quotes, backslashes and control characters are escaped on the wire; é is not.
        option::of("[a-zA-Z \"\\\\\n\u{e9}]{0,12}"),
    )
        .prop_map(
            |(character, corporation, ship, damage, final_blow, security, name)| {
                let mut a = Attacker::default();
                a.character_id = character.map(CharacterId::new);
                a.corporation_id = corporation.map(Into::into);
                a.ship_type_id = ship.map(Into::into);
                a.damage_done = i64::from(damage);
                a.final_blow = final_blow;
                a.security_status = security;
                a.character_name = name;
                a
            },
        )
}

fn killmail() -> impl Strategy<Value = Killmail> {
    (
        1i64..i64::MAX,
        option::of(0i64..4_000_000_000),
        option::of(1i64..50_000_000),
        option::of((
            opt_id(),
            any::<i32>(),
            option::of((any_f64(), any_f64(), any_f64())),
        )),
        vec(attacker(), 0..5),
        option::of((
            option::of("[0-9a-f]{40}"),
            option::of(any_f64()),
            any::<bool>(),
            vec("[a-z:#0-9+]{1,8}", 0..4),
        )),
    )
        .prop_map(|(id, secs, system, victim, attackers, zkb)| {
            let mut k = Killmail::default();
            k.killmail_id = KillmailId::new(id);
            k.kill_time = secs.map(|s| wk_types::Timestamp::from_second(s).unwrap());
            k.system_id = system.map(SystemId::new);
            k.victim = victim.map(|(character, damage, position)| {
                let mut v = Victim::default();
                v.character_id = character.map(CharacterId::new);
                v.damage_taken = i64::from(damage);
                v.position = position.map(|(x, y, z)| wk_types::Position { x, y, z });
                v
            });
            k.attacker_count = Some(attackers.len() as i64);
            k.attackers = attackers;
            k.zkb = zkb.map(|(hash, total, npc, labels)| {
                let mut z = Zkb::default();
                z.hash = hash;
                z.total_value = total;
                z.npc = npc;
                z.labels = labels;
                z
            });
            k
        })
}

proptest! {
    #[test]
    fn ids_round_trip(raw in any::<i64>()) {
        let id = SystemId::new(raw);
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(json.clone(), raw.to_string());
        prop_assert_eq!(decode::from_str::<SystemId>(&json).unwrap(), id);
        prop_assert_eq!(id.to_string().parse::<SystemId>().unwrap(), id);
    }

    #[test]
    fn killmails_round_trip(k in killmail()) {
        let json = serde_json::to_string(&k).unwrap();
        let back: Killmail = decode::from_str(&json).unwrap();
        prop_assert_eq!(back, k);
    }

    #[test]
    fn the_borrowed_view_decodes_what_the_owned_killmail_does(k in killmail()) {
        let json = serde_json::to_string(&k).unwrap();
        let view: KillmailRef<'_> = decode::from_str(&json).unwrap();
        prop_assert_eq!(serde_json::to_string(&view).unwrap(), json.clone());
        prop_assert_eq!(view.into_owned(), k);
    }

    #[test]
    fn killmail_update_frames_round_trip(
        kills in vec(killmail(), 0..3),
        system in 1i64..50_000_000,
        join_ref in option::of("[0-9]{1,4}"),
        preload in any::<bool>(),
    ) {
        let update = KillmailUpdate::new(SystemId::new(system), kills, None, preload);
        let frame = Frame::new(join_ref.clone(), None, "killmails:lobby", "killmail_update", &update);
        let text = frame.encode().unwrap();
        let decoded = Frame::decode(&text).unwrap();
        prop_assert_eq!(decoded.join_ref.clone(), join_ref);
        prop_assert_eq!(decoded.payload_as::<KillmailUpdate>().unwrap(), update);
    }

    #[test]
    fn join_params_round_trip(
        systems in vec(1i64..50_000_000, 0..50),
        characters in vec(90_000_000i64..3_000_000_000, 0..50),
    ) {
        let p = JoinParams::new(systems.into_iter().map(SystemId::new), characters.into_iter().map(CharacterId::new));
        let frame = Frame::new(Some("1".into()), Some("1".into()), "killmails:lobby", "phx_join", &p);
        let back = Frame::decode(&frame.encode().unwrap()).unwrap().payload_as::<JoinParams>().unwrap();
        prop_assert_eq!(back, p);
    }

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,200}") {
        let _ = Frame::decode(&s);
        let _ = decode::from_str::<Killmail>(&s);
        let _ = decode::from_str::<KillmailRef<'_>>(&s);
        let _ = wk_types::webhook::parse(s.as_bytes());
        let _ = wk_types::phoenix::ChannelErrorReason::parse(&s);
    }
}
