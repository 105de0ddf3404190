//! `wk kills system|systems|cached|count`.

use wk::testkit::Fault;

use crate::support::{JITA, TAMA, seeded, wk_at};

#[tokio::test]
async fn system_kills_in_both_formats() {
    let (server, kills) = seeded().await;
    let json = wk_at(
        &server,
        &[
            "--format", "json", "kills", "system", "30000142", "--limit", "2",
        ],
    )
    .await
    .json();
    let listed = json["kills"].as_array().expect("kills");
    assert_eq!(listed.len(), 2, "{json}");
    assert!(listed.iter().all(|k| k["killmail_id"].is_i64()), "{json}");
    assert_eq!(json["cached"], false);

    let pretty = wk_at(
        &server,
        &["kills", "system", "30000142", "--since-hours", "6"],
    )
    .await;
    let out = pretty.ok();
    assert!(out.starts_with("KILLMAIL"), "{out}");
    assert_eq!(out.lines().count(), 4, "a header and three kills: {out}");
    for km in kills
        .iter()
        .filter(|k| k.system_id.map(|s| s.get()) == Some(JITA))
    {
        assert!(out.contains(&km.killmail_id.to_string()), "{out}");
    }
    let empty = wk_at(&server, &["kills", "system", "30000144"]).await;
    assert!(
        empty
            .ok()
            .contains("no recent kills in Perimeter (30000144)"),
        "{empty:?}"
    );
}

#[tokio::test]
async fn several_systems_in_both_formats() {
    let (server, _) = seeded().await;
    let ids = format!("{JITA},{TAMA},30000144");
    let json = wk_at(&server, &["--format", "json", "kills", "systems", &ids])
        .await
        .json();
    let map = json["systems_kills"].as_object().expect("systems_kills");
    assert_eq!(
        map[&JITA.to_string()].as_array().map(Vec::len),
        Some(3),
        "{json}"
    );
    assert_eq!(
        map[&TAMA.to_string()].as_array().map(Vec::len),
        Some(2),
        "{json}"
    );

    let pretty = wk_at(&server, &["kills", "systems", &ids, "--limit", "10"]).await;
    let out = pretty.ok();
    assert!(out.contains("Jita (30000142): 3 kills"), "{out}");
    assert!(out.contains("Tama (30002813): 2 kills"), "{out}");
    assert!(
        out.contains("Perimeter (30000144): no recent kills"),
        "{out}"
    );
}

#[tokio::test]
async fn cached_kills_in_both_formats() {
    let (server, kills) = seeded().await;
    let json = wk_at(
        &server,
        &["--format", "json", "kills", "cached", "30002813"],
    )
    .await
    .json();
    let listed = json["kills"].as_array().expect("kills");
    assert_eq!(listed.len(), 2, "{json}");
    assert!(listed.iter().all(|k| k["victim"].is_object()), "{json}");
    assert_eq!(json["cached"], true);

    let pretty = wk_at(&server, &["kills", "cached", "30002813"]).await;
    let out = pretty.ok();
    for km in kills
        .iter()
        .filter(|k| k.system_id.map(|s| s.get()) == Some(TAMA))
    {
        let ship = km
            .victim
            .as_ref()
            .and_then(|v| v.ship_name.clone())
            .expect("ship");
        assert!(out.contains(&km.killmail_id.to_string()), "{out}");
        assert!(out.contains(&ship), "{out}");
    }
    assert!(out.contains("Tama (30002813)"), "{out}");
    assert!(out.contains(" ISK"), "{out}");
    let none = wk_at(&server, &["kills", "cached", "31000005"]).await;
    assert!(none.ok().contains("no cached kills in Thera"), "{none:?}");
}

#[tokio::test]
async fn kill_count_in_both_formats() {
    let (server, _) = seeded().await;
    let json = wk_at(&server, &["--format", "json", "kills", "count", "30000142"])
        .await
        .json();
    assert_eq!(json["system_id"], JITA);
    assert!(json["count"].is_i64(), "{json}");
    let pretty = wk_at(&server, &["kills", "count", "30000142"]).await;
    let out = pretty.ok();
    assert!(out.contains("Jita (30000142)"), "{out}");
    assert!(out.contains("count"), "{out}");
}

#[tokio::test]
async fn bad_parameters_and_server_errors() {
    let (server, _) = seeded().await;
    let run = wk_at(&server, &["kills", "system", "0"]).await;
    assert!(run.failed(2).contains("system id 0"), "{run:?}");
    let run = wk_at(&server, &["kills", "system", "30000142", "--limit", "5000"]).await;
    assert!(run.failed(2).contains("5000"), "{run:?}");
    let run = wk_at(&server, &["kills", "cached", "-4"]).await;
    assert!(run.failed(2).contains("system id -4"), "{run:?}");
    // The same id rule as `tail`: no system id above 50,000,000 reaches the server.
    let run = wk_at(&server, &["kills", "count", "50000001"]).await;
    assert!(
        run.failed(2).contains("system id 50000001 is out of range"),
        "{run:?}"
    );
    let run = wk_at(&server, &["kills", "systems", "30000142,50000001"]).await;
    assert!(run.failed(2).contains("50000001"), "{run:?}");
    assert_eq!(server.state().http_requests, 0, "nothing was sent");

    server.fault(Fault::FetchError { count: 10 });
    let run = wk_at(
        &server,
        &["--format", "json", "kills", "system", "30000142"],
    )
    .await;
    let line = run.failed(1);
    assert!(line.contains("FETCH_ERROR"), "{line}");
    assert!(line.contains("500"), "{line}");
}
