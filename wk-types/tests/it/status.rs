//! `GET /status`: both generations' `metrics.processing` key names decode to the same fields, and
//! a round trip gives back the server's document, unknown keys and original names included.

use std::time::Duration;

use serde_json::{Value, json};
use wk_types::decode;
use wk_types::http::{ServiceStatus, StatusKeys, StatusProcessing};

/// `/status` of a v1.5.8 server (RedisQ ingest), trimmed but with every section.
fn v158() -> Value {
    json!({
        "metrics": {
            "system": {"memory_mb": 212.4, "process_count": 611, "scheduler_usage": 0.07},
            "websocket": {"connections": 3, "subscriptions": 5},
            "processing": {
                "redisq_received": 1834,
                "redisq_older": 12,
                "redisq_skipped": 3,
                "redisq_errors": 0,
                "redisq_error_rate": 0.0,
                "redisq_systems": 402,
                "redisq_last_killmail_ago_seconds": 41,
                "parser_stored": 1790,
                "parser_skipped": 44,
                "parser_failed": 0,
                "parser_success_rate": 97.6,
                "processing_lag_seconds": 1.5
            },
            "storage": {"killmails": 1790, "systems": 402},
            "api": {"requests_per_minute": 18},
            "sse": {"connections": 1},
            "parser_stats": {"stored": 1790, "skipped": 44}
        },
        "summary": {
            "api_requests_per_minute": 18,
            "active_subscriptions": 5,
            "killmails_stored": 1834,
            "cache_hit_rate": 91.2,
            "memory_usage_mb": 212.4,
            "uptime_hours": 26.5,
            "processing_lag_seconds": 41,
            "active_preload_tasks": 0
        },
        "timestamp": "2025-12-03T14:25:02.417735Z"
    })
}

/// The same server state as a v1.6 server (R2Z2 ingest) reports it, plus keys no version sends.
fn v16() -> Value {
    json!({
        "metrics": {
            "system": {"memory_mb": 212.4, "process_count": 611},
            "websocket": {"connections": 3},
            "processing": {
                "killmails_received": 1834,
                "redisq_older": 12,
                "last_killmail_ago_seconds": 41,
                "parser_stored": 1790,
                "r2z2_sequence": 96_112_345,
                "future_counter": {"nested": [1, 2.5, "x", null]}
            },
            "storage": {"killmails": 1790},
            "api": {},
            "sse": {},
            "parser_stats": {},
            "new_section": {"anything": true}
        },
        "summary": {
            "api_requests_per_minute": 18,
            "active_subscriptions": 5,
            "killmails_stored": 1834,
            "cache_hit_rate": 91.2,
            "memory_usage_mb": 212.4,
            "uptime_hours": 26.5,
            "processing_lag_seconds": 41,
            "active_preload_tasks": 0,
            "new_summary_key": 1
        },
        "timestamp": "2025-12-03T14:25:02.417735Z",
        "server_extra": "kept"
    })
}

fn decode_value(value: &Value) -> ServiceStatus {
    decode::from_str(&value.to_string()).unwrap()
}

/// `value` with every number as an `f64`, so `41` and `41.0` compare equal.
fn numbers_as_f64(value: &Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64().unwrap()),
        Value::Array(items) => Value::Array(items.iter().map(numbers_as_f64).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), numbers_as_f64(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn both_generations_give_the_same_counters() {
    let old = decode_value(&v158());
    let new = decode_value(&v16());
    assert_eq!(old.key_set(), Some(StatusKeys::RedisQ));
    assert_eq!(new.key_set(), Some(StatusKeys::R2z2));
    for status in [&old, &new] {
        let p = status.processing().unwrap();
        assert_eq!(p.killmails_received, Some(1834.0));
        assert_eq!(p.last_killmail_ago_seconds, Some(41.0));
        assert_eq!(p.last_killmail_ago(), Some(Duration::from_secs(41)));
        assert!(!p.never_received());
        assert_eq!(status.summary.killmails_stored, 1834.0);
        assert!(status.timestamp.is_some());
    }
    let old_p = old.processing().unwrap();
    assert_eq!(old_p.processing_lag_seconds, Some(1.5));
    assert_eq!(old_p.extra["redisq_older"], 12);
    assert_eq!(old_p.extra["parser_success_rate"], 97.6);
    // The renamed keys are read into fields, not kept twice.
    for key in ["redisq_received", "redisq_last_killmail_ago_seconds"] {
        assert!(!old_p.extra.contains_key(key), "{key}");
    }
    let new_p = new.processing().unwrap();
    assert_eq!(new_p.processing_lag_seconds, None);
    assert_eq!(new_p.extra["r2z2_sequence"], 96_112_345);
}

#[test]
fn a_round_trip_keeps_every_key_and_the_servers_names() {
    for body in [v158(), v16()] {
        let status = decode_value(&body);
        let written = serde_json::to_value(&status).unwrap();
        // Every key and value comes back under the name the server used; whole numbers stay
        // integers in `processing`, and the summary's numbers are written as floats.
        assert_eq!(written["metrics"], body["metrics"]);
        assert_eq!(numbers_as_f64(&written), numbers_as_f64(&body));
        // And decoding the output gives the same value.
        assert_eq!(decode_value(&written), status);
    }
    let written = serde_json::to_value(decode_value(&v16())).unwrap();
    assert_eq!(written["server_extra"], "kept");
    assert_eq!(written["summary"]["new_summary_key"], 1.0);
    assert_eq!(written["metrics"]["new_section"]["anything"], true);
    assert!(
        written["metrics"]["processing"]
            .get("redisq_received")
            .is_none()
    );
}

#[test]
fn the_key_set_chooses_the_names_written() {
    let mut status = decode_value(&v158());
    let metrics = status.metrics.as_mut().unwrap();
    let processing = metrics.processing.as_mut().unwrap();
    processing.key_set = Some(StatusKeys::R2z2);
    let written = serde_json::to_value(&status).unwrap();
    let p = &written["metrics"]["processing"];
    assert_eq!(p["killmails_received"], 1834);
    assert_eq!(p["last_killmail_ago_seconds"], 41);
    assert!(p.get("redisq_received").is_none(), "{p}");

    // Built in code, with no key set: the current (v1.6) names.
    let mut built = StatusProcessing::default();
    built.killmails_received = Some(7.0);
    built.last_killmail_ago_seconds = Some(2.5);
    assert_eq!(
        serde_json::to_value(&built).unwrap(),
        json!({"killmails_received": 7, "last_killmail_ago_seconds": 2.5})
    );
    assert_eq!(StatusKeys::RedisQ.received_key(), "redisq_received");
    assert_eq!(
        StatusKeys::R2z2.last_killmail_key(),
        "last_killmail_ago_seconds"
    );
    assert_eq!(StatusKeys::R2z2.to_string(), "r2z2");
}

#[test]
fn a_body_mixing_both_sets_reads_as_v16_and_loses_nothing() {
    let body = json!({
        "metrics": {"processing": {"killmails_received": 5, "redisq_received": 4,
                                   "redisq_last_killmail_ago_seconds": 9}},
        "summary": {}
    });
    let status = decode_value(&body);
    assert_eq!(status.key_set(), Some(StatusKeys::R2z2));
    let p = status.processing().unwrap();
    assert_eq!(p.killmails_received, Some(5.0));
    assert_eq!(p.last_killmail_ago_seconds, None);
    assert_eq!(p.extra["redisq_received"], 4);
    assert_eq!(
        serde_json::to_value(&status).unwrap()["metrics"],
        body["metrics"]
    );
}

#[test]
fn never_received_is_not_a_duration() {
    let body = json!({
        "metrics": {"processing": {"killmails_received": 0, "last_killmail_ago_seconds": 999_999}},
        "summary": {"processing_lag_seconds": 999_999}
    });
    let p = decode_value(&body).processing().unwrap().clone();
    assert!(p.never_received());
    assert_eq!(p.last_killmail_ago(), None);
    assert_eq!(
        p.last_killmail_ago_seconds,
        Some(StatusProcessing::NEVER_RECEIVED)
    );
    assert_eq!(p.killmails_received, Some(0.0));
}

#[test]
fn minimal_and_empty_bodies_decode() {
    let minimal = decode_value(&json!({"summary": {}, "timestamp": null}));
    assert_eq!(minimal.metrics, None);
    assert_eq!(minimal.timestamp, None);
    assert_eq!(minimal.processing(), None);
    assert_eq!(minimal.key_set(), None);
    assert_eq!(minimal.summary.uptime_hours, 0.0);
    // Nothing is invented on the way out.
    assert_eq!(
        serde_json::to_value(&minimal).unwrap(),
        json!({"summary": {
        "api_requests_per_minute": 0.0, "active_subscriptions": 0.0, "killmails_stored": 0.0,
        "cache_hit_rate": 0.0, "memory_usage_mb": 0.0, "uptime_hours": 0.0,
        "processing_lag_seconds": 0.0, "active_preload_tasks": 0.0}})
    );

    let null_metrics = decode_value(&json!({"metrics": null, "summary": {}}));
    assert_eq!(null_metrics.metrics, None);

    // The fake server's shape: every section, `processing` empty.
    let body = json!({
        "metrics": {"system": {}, "websocket": {"connections": 0}, "processing": {},
                    "storage": {"killmails": 0}, "api": {}, "sse": {"streams": 0}, "parser_stats": {}},
        "summary": {"uptime_hours": 0.01},
        "timestamp": "2025-12-03T14:25:02.417735Z"
    });
    let status = decode_value(&body);
    let p = status.processing().unwrap();
    assert_eq!(*p, StatusProcessing::default());
    assert_eq!(p.last_killmail_ago(), None);
    assert!(!p.never_received());
    assert_eq!(status.key_set(), None);
    let written = serde_json::to_value(&status).unwrap();
    assert_eq!(written["metrics"], body["metrics"]);

    let no_processing = decode_value(&json!({"metrics": {"system": {}}, "summary": {}}));
    assert_eq!(no_processing.processing(), None);
    assert_eq!(
        serde_json::to_value(&no_processing).unwrap()["metrics"],
        json!({"system": {}})
    );
}

#[test]
fn bad_shapes_are_typed_errors_with_their_path() {
    let cases = [
        (
            r#"{"metrics":{"processing":"x"},"summary":{}}"#,
            "metrics.processing",
        ),
        (
            r#"{"metrics":{"processing":{"killmails_received":"many"}},"summary":{}}"#,
            "metrics.processing.killmails_received",
        ),
        (
            r#"{"metrics":{"processing":{"redisq_last_killmail_ago_seconds":[]}},"summary":{}}"#,
            "metrics.processing.redisq_last_killmail_ago_seconds",
        ),
        (r#"{"metrics":[],"summary":{}}"#, "metrics"),
        (
            r#"{"summary":{"uptime_hours":"long"}}"#,
            "summary.uptime_hours",
        ),
        (r#"{"summary":{},"timestamp":"yesterday"}"#, "timestamp"),
        (r#"{"metrics":{}}"#, "."),
        (r#""up""#, "."),
    ];
    for (body, path) in cases {
        let err = decode::from_str::<ServiceStatus>(body).unwrap_err();
        assert_eq!(err.path(), path, "{body}: {err}");
        assert!(!err.message().is_empty(), "{body}");
    }
    let err = decode::from_str::<ServiceStatus>(r#"{"metrics":{}}"#).unwrap_err();
    assert!(err.message().contains("summary"), "{err}");
}
