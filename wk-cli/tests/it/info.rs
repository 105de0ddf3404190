//! `wk health` and `wk status`.

use wk_testkit::Fault;

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
}

#[tokio::test]
async fn status_in_both_formats() {
    let server = server().await;
    let pretty = wk_at(&server, &["status"]).await;
    let out = pretty.ok();
    for key in ["requests/min", "subscriptions", "uptime", "timestamp"] {
        assert!(out.contains(key), "{key}: {out}");
    }
    let json = wk_at(&server, &["--format", "json", "status"]).await.json();
    assert!(json["summary"].is_object(), "{json}");
    assert!(json["summary"]["uptime_hours"].is_number(), "{json}");
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
