//! `wk health` and `wk status`.

use wk::testkit::{Fault, Profile, TestServer};

use crate::support::{server, wk, wk_at};

#[tokio::test]
async fn health_in_both_formats() {
    let server = server().await;
    let pretty = wk_at(&server, &["health"]).await;
    let out = pretty.ok();
    assert!(out.contains("healthy"), "{out}");
    assert!(out.contains("yes"), "{out}");
    let json = wk_at(&server, &["--format", "json", "health"]).await.json();
    assert_eq!(json["healthy"], true, "{json}");
    // The server's whole document: every section, integers as integers.
    for key in ["details", "circuit_breaker", "connection_monitor"] {
        assert!(json[key].is_object(), "{key}: {json}");
    }
    assert!(
        json["circuit_breaker"]["consecutive_errors"].is_u64(),
        "{json}"
    );
}

#[tokio::test]
async fn status_in_both_formats() {
    for profile in Profile::ALL {
        status_of(profile).await;
    }
}

async fn status_of(profile: Profile) {
    let server = TestServer::start(profile).await.unwrap();
    let pretty = wk_at(&server, &["status"]).await;
    let out = pretty.ok();
    let generation = match profile {
        Profile::Faithful => "v1.6 or later",
        Profile::Legacy => "v1.5.8 or earlier",
        _ => "unknown",
    };
    assert!(out.contains(generation), "{profile}: {out}");
    for key in [
        "requests/min",
        "subscriptions",
        "kills received",
        "last kill",
        "uptime",
        "generation",
        "timestamp",
    ] {
        assert!(out.contains(key), "{key}: {out}");
    }
    let json = wk_at(&server, &["--format", "json", "status"]).await.json();
    assert!(json["summary"].is_object(), "{json}");
    assert!(json["summary"]["uptime_hours"].is_number(), "{json}");
    // Counters stay integers, as the server wrote them.
    assert!(json["summary"]["active_subscriptions"].is_u64(), "{json}");
    assert!(json["summary"]["killmails_stored"].is_u64(), "{json}");
    // `metrics` comes through as the server sent it, unmodelled sections included.
    assert!(json["metrics"]["processing"].is_object(), "{json}");
    assert!(json["metrics"]["storage"].is_object(), "{json}");
    let keys = match profile {
        Profile::Faithful => ["killmails_received", "last_killmail_ago_seconds"],
        Profile::Legacy => ["redisq_received", "redisq_last_killmail_ago_seconds"],
        _ => return,
    };
    for key in keys {
        // The server's own key names, not the SDK's.
        assert!(
            json["metrics"]["processing"][key].is_number(),
            "{key}: {json}"
        );
    }
}

#[tokio::test]
async fn server_and_transport_errors_exit_1() {
    let server = server().await;
    server.fault(Fault::HttpStatus {
        status: 404,
        retry_after: None,
        count: 1,
    });
    let run = wk_at(&server, &["status"]).await;
    assert!(run.failed(1).contains("404"), "{run:?}");
    let run = wk(&["--url", "http://127.0.0.1:9", "health"]).await;
    assert!(
        run.failed(1).contains("cannot reach http://127.0.0.1:9"),
        "{run:?}"
    );
}
