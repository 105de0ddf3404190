//! The five error shapes (§3), validation order and messages, Accept handling.

use serde_json::{Value, json};
use wk_testkit::{Profile, TestServer};

use crate::support::{data, get, post_json, request};

fn api_error(v: &Value, code: &str, message: &str) {
    assert_eq!(v["code"], code, "{v}");
    assert_eq!(v["error"], message, "{v}");
    assert!(v["details"].is_null());
    assert!(v["timestamp"].is_string());
}

#[tokio::test]
async fn kills_endpoint_errors() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    for path in [
        "/api/v1/kills/system/0",
        "/api/v1/kills/system/-3",
        "/api/v1/kills/system/12x",
        "/api/v1/kills/system/30000142?since_hours=0",
        "/api/v1/kills/system/30000142?limit=1001",
        "/api/v1/kills/system/30000142?limit=abc",
        "/api/v1/kills/cached/abc",
        "/api/v1/kills/count/0",
    ] {
        let r = get(s.addr(), path).await;
        assert_eq!(r.status, 400, "{path}");
        api_error(&r.json(), "INVALID_SYSTEM_ID", "Invalid system ID format");
    }
    assert_eq!(
        get(s.addr(), "/api/v1/kills/system/+30000142").await.status,
        200
    );
    let r = get(s.addr(), "/api/v1/killmail/zero").await;
    api_error(
        &r.json(),
        "INVALID_KILLMAIL_ID",
        "Invalid killmail ID format",
    );
    for body in [
        r#"{}"#,
        r#"{"system_ids":[]}"#,
        r#"{"system_ids":[1.5]}"#,
        r#"{"system_ids":"1"}"#,
        r#"[1,2]"#,
    ] {
        let r = post_json(s.addr(), "/api/v1/kills/systems", body).await;
        assert_eq!(r.status, 400, "{body}");
        api_error(&r.json(), "INVALID_SYSTEM_IDS", "Invalid system IDs");
    }
    for body in [
        r#"{"system_ids":[1],"since_hours":null}"#,
        r#"{"system_ids":[1],"limit":0}"#,
        r#"{"system_ids":[1],"since_hours":"x"}"#,
    ] {
        let r = post_json(s.addr(), "/api/v1/kills/systems", body).await;
        api_error(&r.json(), "INVALID_PARAMETERS", "Invalid parameters");
    }
    let r = post_json(s.addr(), "/api/v1/kills/systems", "{not json").await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"error": "Bad Request", "status": "400"}))
    );
}

#[tokio::test]
async fn catch_all_404_and_wrong_method() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let r = get(s.addr(), "/api/v1/nope").await;
    assert_eq!(r.status, 404);
    api_error(&r.json(), "NOT_FOUND", "Not Found");
    let r = get(s.addr(), "/api/v1/kills/systems").await;
    assert_eq!(r.status, 404, "wrong method → catch-all, not 405");
    api_error(&r.json(), "NOT_FOUND", "Not Found");
    let r = get(s.addr(), "/elsewhere").await;
    assert_eq!(
        (r.status, r.json()),
        (404, json!({"error": "Not Found", "status": "404"}))
    );
    let r = request(s.addr(), "OPTIONS", "/api/v1/kills/cached/1", &[], "").await;
    assert_eq!(
        (r.status, r.json()),
        (404, json!({"error": "Not Found", "status": "404"}))
    );
}

#[tokio::test]
async fn accept_negotiation() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let r = request(
        s.addr(),
        "GET",
        "/api/v1/kills/cached/1",
        &[("accept", "text/html")],
        "",
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (406, json!({"error": "Not Acceptable", "status": "406"}))
    );
    let r = request(
        s.addr(),
        "GET",
        "/api/v1/kills/cached/1",
        &[("accept", "text/html, */*;q=0.8")],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    let r = request(s.addr(), "GET", "/ping", &[("accept", "text/plain")], "").await;
    assert_eq!(r.status, 200);
    let r = request(s.addr(), "GET", "/ping", &[("accept", "image/png")], "").await;
    assert_eq!(r.status, 406);
    // The SSE routes do no Accept check.
    let r = request(
        s.addr(),
        "GET",
        "/api/v1/kills/stream/enhanced",
        &[("accept", "image/png")],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn debug_routes_are_forbidden() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let want: Value = serde_json::from_str(&data("error_debug_forbidden.json")).unwrap();
    for p in ["cleanup", "stats", "test"] {
        let r = get(s.addr(), &format!("/api/v1/kills/stream/{p}")).await;
        assert_eq!((r.status, r.json()), (403, want.clone()));
    }
}

#[tokio::test]
async fn subscription_validation_in_server_order() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let cases = [
        (
            json!({"callback_url": "http://x"}),
            "subscriber_id is required",
        ),
        (
            json!({"subscriber_id": "", "callback_url": "http://x"}),
            "subscriber_id is required",
        ),
        (
            json!({"subscriber_id": "a", "system_ids": [0]}),
            "callback_url is required",
        ),
        (
            json!({"subscriber_id": "a", "callback_url": "ftp://x", "system_ids": [0]}),
            "callback_url must be a valid HTTP/HTTPS URL",
        ),
        (
            json!({"subscriber_id": "a", "callback_url": "http://x", "system_ids": [0], "character_ids": [-1]}),
            "system_ids must be an array of positive integers",
        ),
        (
            json!({"subscriber_id": "a", "callback_url": "http://x", "character_ids": [-1]}),
            "character_ids must be an array of positive integers",
        ),
        (
            json!({"subscriber_id": "a", "callback_url": "http://x", "system_ids": ["1", 2.5]}),
            "At least one system_id or character_id is required",
        ),
        (
            json!({"subscriber_id": "a", "callback_url": "http://x", "system_ids": (1..=101).collect::<Vec<i64>>()}),
            "Maximum 100 system_ids allowed per subscription",
        ),
        (
            json!({"subscriber_id": "a", "callback_url": "http://x", "character_ids": (1..=1001).collect::<Vec<i64>>()}),
            "Maximum 1000 character_ids allowed per subscription",
        ),
    ];
    for (body, message) in cases {
        let r = post_json(s.addr(), "/api/v1/subscriptions", &body.to_string()).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(
            r.json(),
            json!({"error": {"message": message, "details": message}})
        );
    }
    let r = post_json(
        s.addr(),
        "/api/v1/subscriptions",
        r#"{"subscriber_id":"a","callback_url":5}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            500,
            json!({"error": "Internal Server Error", "status": "500"})
        )
    );
}

#[tokio::test]
async fn sse_validation_messages() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let many = (1..=101)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let many_q = format!("system_ids={many}");
    let cases = [
        (
            "system_ids=abc",
            "Invalid system_ids: 'abc' is not a valid integer".to_owned(),
        ),
        (
            "character_ids=1,x2",
            "Invalid character_ids: 'x2' is not a valid integer".to_owned(),
        ),
        (
            "system_ids[]=1",
            "system_ids must be a comma-separated list of integers".to_owned(),
        ),
        (
            "min_value=-1",
            "min_value must be non-negative, got -1.0".to_owned(),
        ),
        (
            "min_value=lots",
            "Invalid min_value: 'lots' is not a valid number".to_owned(),
        ),
        (
            "preload_days=-2",
            "preload_days must be non-negative".to_owned(),
        ),
        (
            "preload_days=x",
            "Invalid preload_days: 'x' is not a valid integer".to_owned(),
        ),
        (
            many_q.as_str(),
            "Too many system_ids specified (max 100)".to_owned(),
        ),
    ];
    for (q, message) in cases {
        for path in ["/api/v1/kills/stream", "/api/v1/kills/stream/enhanced"] {
            let r = get(s.addr(), &format!("{path}?{q}")).await;
            assert_eq!(r.status, 400, "{path}?{q}");
            assert_eq!(
                r.json(),
                json!({"error": {"domain": "validation", "type": "invalid_format", "message": message, "details": null, "retryable": false}})
            );
        }
    }
}

#[tokio::test]
async fn bodies_over_8_mb_get_413() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let body = format!(r#"{{"system_ids":[1],"pad":"{}"}}"#, "x".repeat(8_000_001));
    let r = post_json(s.addr(), "/api/v1/kills/systems", &body).await;
    assert_eq!(
        (r.status, r.json()),
        (
            413,
            json!({"error": "Request Entity Too Large", "status": "413"})
        )
    );
}
