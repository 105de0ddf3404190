//! `wk subscriptions create|list|stats|delete`.

use crate::support::{server, wk_at};

#[tokio::test]
async fn the_subscription_lifecycle_in_both_formats() {
    let server = server().await;
    let created = wk_at(
        &server,
        &[
            "subscriptions",
            "create",
            "--subscriber",
            "tama-bot",
            "--callback-url",
            "https://hooks.example.org/wk",
            "--systems",
            "30002813,30000142",
        ],
    )
    .await;
    let out = created.ok();
    assert!(out.contains("subscription"), "{out}");
    assert!(out.contains("tama-bot"), "{out}");

    let json = wk_at(
        &server,
        &[
            "--format",
            "json",
            "subscriptions",
            "create",
            "--subscriber",
            "char-bot",
            "--callback-url",
            "http://127.0.0.1:1/hook",
            "--characters",
            "95465499",
        ],
    )
    .await
    .json();
    assert_eq!(
        json["subscription_id"].as_str().map(str::len),
        Some(22),
        "{json}"
    );

    let list = wk_at(&server, &["subscriptions", "list"]).await;
    let out = list.ok();
    for needle in [
        "SUBSCRIBER",
        "tama-bot",
        "char-bot",
        "webhook",
        "30000142,30002813",
        "https://hooks.example.org/wk",
    ] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
    let json = wk_at(&server, &["--format", "json", "subscriptions", "list"])
        .await
        .json();
    assert_eq!(json["count"], 2, "{json}");

    let stats = wk_at(&server, &["subscriptions", "stats"]).await;
    let out = stats.ok();
    assert!(out.contains("webhook"), "{out}");
    assert!(out.contains("total"), "{out}");
    let json = wk_at(&server, &["--format", "json", "subscriptions", "stats"])
        .await
        .json();
    assert_eq!(json["webhook_subscriptions"], 2, "{json}");
    assert_eq!(json["total_systems"], 2, "{json}");

    let deleted = wk_at(&server, &["subscriptions", "delete", "tama-bot"]).await;
    assert!(deleted.ok().contains("tama-bot"), "{deleted:?}");
    let json = wk_at(
        &server,
        &["--format", "json", "subscriptions", "delete", "char-bot"],
    )
    .await
    .json();
    assert_eq!(json["subscriber_id"], "char-bot", "{json}");
    let empty = wk_at(&server, &["subscriptions", "list"]).await;
    assert!(empty.ok().contains("no subscriptions"), "{empty:?}");
}

#[tokio::test]
async fn invalid_subscriptions_are_refused_locally() {
    let server = server().await;
    let run = wk_at(
        &server,
        &[
            "subscriptions",
            "create",
            "--subscriber",
            "x",
            "--callback-url",
            "https://example.org/h",
        ],
    )
    .await;
    assert!(run.failed(2).contains("at least one"), "{run:?}");
    let run = wk_at(
        &server,
        &[
            "subscriptions",
            "create",
            "--subscriber",
            "x",
            "--callback-url",
            "ftp://example.org",
            "--systems",
            "1",
        ],
    )
    .await;
    assert!(run.failed(2).contains("callback_url"), "{run:?}");
    assert_eq!(server.state().http_requests, 0, "nothing was sent");
}
