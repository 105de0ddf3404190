//! `wk killmail ID`.

use wk::testkit::Generator;
use wk::types::KillmailId;

use crate::support::{seeded, wk_at};

#[tokio::test]
async fn a_stored_killmail_in_both_formats() {
    let (server, kills) = seeded().await;
    let km = &kills[0];
    let id = km.killmail_id.to_string();
    let json = wk_at(&server, &["--format", "json", "killmail", &id])
        .await
        .json();
    assert_eq!(
        json["killmail_id"].as_i64(),
        Some(km.killmail_id.get()),
        "{json}"
    );
    let back: wk::types::Killmail = serde_json::from_value(json).expect("a killmail");
    assert_eq!(back.killmail_id, km.killmail_id);

    let pretty = wk_at(&server, &["killmail", &id]).await;
    let out = pretty.ok();
    let ship = km
        .victim
        .as_ref()
        .and_then(|v| v.ship_name.clone())
        .expect("ship");
    for needle in [
        id.as_str(),
        "Jita (30000142)",
        ship.as_str(),
        "final blow",
        "ATTACKER",
        "ISK",
    ] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
}

#[tokio::test]
async fn an_invalid_id_is_refused_locally() {
    let (server, _) = seeded().await;
    for format in ["pretty", "json"] {
        let run = wk_at(&server, &["--format", format, "killmail", "0"]).await;
        let line = run.failed(2);
        assert!(line.contains("killmail id 0"), "{line}");
        assert!(run.stdout.is_empty());
    }
    assert_eq!(server.state().http_requests, 0, "nothing was sent");
}

#[tokio::test]
async fn not_found_shows_the_servers_code_and_message() {
    let (server, _) = seeded().await;
    for format in ["pretty", "json"] {
        let run = wk_at(&server, &["--format", format, "killmail", "5"]).await;
        let line = run.failed(1);
        assert!(line.contains("NOT_FOUND"), "{line}");
        assert!(line.contains("Killmail not found"), "{line}");
        assert!(line.contains("404"), "{line}");
    }
}

#[tokio::test]
async fn old_and_upstream_killmails() {
    let (server, _) = seeded().await;
    server.set_kill_older(KillmailId::new(77));
    let json = wk_at(&server, &["--format", "json", "killmail", "77"])
        .await
        .json();
    assert_eq!(json, "kill_older");
    let pretty = wk_at(&server, &["killmail", "77"]).await;
    assert!(pretty.ok().contains("365 days"), "{pretty:?}");

    let upstream = Generator::new(5).killmail();
    let id = upstream.killmail_id.to_string();
    server.set_upstream(upstream);
    let json = wk_at(&server, &["--format", "json", "killmail", &id])
        .await
        .json();
    assert_eq!(json["killmail_id"].to_string(), id);
    let pretty = wk_at(&server, &["killmail", &id]).await;
    assert!(pretty.ok().contains("canonical"), "{pretty:?}");
}
