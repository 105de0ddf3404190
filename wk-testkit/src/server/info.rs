//! Health, info, OpenAPI and debug endpoints (PROTOCOL.md §10): opaque shapes, stable fields right.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Response, StatusCode, header};
use axum::routing::get;
use serde_json::json;

use super::http::{api_not_found, json_response};
use super::hub::Shared;
use crate::json::now_timestamp;

type Shared_ = State<Arc<Shared>>;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/api/v1/kills/stream/cleanup",
            get(forbidden).fallback(api_not_found),
        )
        .route(
            "/api/v1/kills/stream/stats",
            get(forbidden).fallback(api_not_found),
        )
        .route(
            "/api/v1/kills/stream/test",
            get(forbidden).fallback(api_not_found),
        )
        .route("/api/openapi", get(openapi))
        .route("/ping", get(ping))
        .route("/health", get(health))
        .route("/status", get(status))
        .route("/metrics", get(metrics))
        .route("/websocket", get(websocket_info))
        .route("/websocket/status", get(websocket_status))
        .route("/dashboard-debug", get(debug_info))
        .route("/test-websocket-tracking", get(debug_info))
        .route("/", get(dashboard))
}

async fn forbidden() -> Response<Body> {
    json_response(
        StatusCode::FORBIDDEN,
        &json!({"error": "Forbidden", "code": "forbidden", "message": "Debug endpoints are disabled in production"}),
    )
}

async fn openapi(State(shared): Shared_) -> Response<Body> {
    let summary = |text: &str| json!({"summary": text});
    let mut paths = json!({
        "/api/v1/kills/system/{system_id}": {"get": summary("Recent zKillboard references for one system")},
        "/api/v1/kills/systems": {"post": summary("References for several systems")},
        "/api/v1/kills/cached/{system_id}": {"get": summary("Cached kills for a system")},
        "/api/v1/killmail/{killmail_id}": {"get": summary("One killmail")},
        "/api/v1/kills/count/{system_id}": {"get": summary("Kill count")},
        "/api/v1/subscriptions": {"get": summary("List subscriptions"), "post": summary("Create a webhook subscription")}
    });
    let mut doc = json!({
        "openapi": "3.0.0",
        "info": {"title": "WandererKills API", "version": "1.5.8",
                 "description": "Served by wk-testkit. Like the real server's document, it is not accurate: read PROTOCOL.md."},
    });
    if shared.behaviour().openapi_components {
        // v1.6 resolves its schemas into `components` and refers to them (§18.3); the content is
        // as wrong as before (§10.6: `solar_system_id`, no `data` wrapper).
        doc["info"]["version"] = json!("1.0.0");
        let reference = |name: &str| json!({"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{name}")}}}}});
        paths["/api/v1/kills/system/{system_id}"]["get"]["responses"] =
            reference("KillListResponse");
        paths["/api/v1/killmail/{killmail_id}"]["get"]["responses"] = reference("Killmail");
        doc["components"] = json!({"schemas": {
            "Killmail": {"type": "object", "properties": {"killmail_id": {"type": "integer"}, "solar_system_id": {"type": "integer"}}},
            "KillListResponse": {"type": "object", "properties": {
                "kills": {"type": "array", "items": {"$ref": "#/components/schemas/Killmail"}},
                "data_fetched_at": {"type": "string"}}}
        }});
    }
    doc["paths"] = paths;
    json_response(StatusCode::OK, &doc)
}

async fn ping() -> Response<Body> {
    let mut resp = Response::new(Body::from("pong"));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        "text/plain; charset=utf-8".parse().expect("static header"),
    );
    resp
}

fn unix_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

async fn health() -> Response<Body> {
    let now_s = unix_ms() / 1000;
    let counters = |kind: &str| json!({ "subscription_count": 0, format!("{kind}_count"): 0, "memory_bytes": 0, "last_update": "never" });
    json_response(
        StatusCode::OK,
        &json!({
            "healthy": true,
            "status": "ok",
            "details": {"unknown": {"character_subscriptions": counters("character"), "system_subscriptions": counters("system")}},
            "timestamp": now_timestamp(),
            "circuit_breaker": {"circuit_state": "closed", "consecutive_errors": 0, "max_consecutive_errors": 10,
                                "circuit_opened_at": null, "circuit_reset_timeout_ms": 300_000, "last_updated": unix_ms()},
            "connection_monitor": {"consecutive_timeout_errors": 0, "consecutive_connection_failures": 0,
                                   "last_successful_request": now_s, "last_recycled_at": now_s, "total_timeouts": 0,
                                   "total_connection_failures": 0, "recycled_count": 0, "time_since_success": 0,
                                   "time_since_recycled": 0, "failure_reasons": {}, "conn_max_idle_time": 90_000,
                                   "recycle_interval": 300}
        }),
    )
}

async fn status(State(shared): Shared_) -> Response<Body> {
    let s = shared.state();
    let (uptime_h, last_ago) = {
        let g = shared.lock();
        let uptime_h = g.started.elapsed().as_secs_f64() / 3600.0;
        // The real server says 999999 seconds when it never received a kill.
        let last_ago = g.last_ingest.map_or(999_999, |t| t.elapsed().as_secs());
        (uptime_h, last_ago)
    };
    // The real server's summary `processing_lag_seconds` is really the last killmail's age.
    let (processing, lag) = match shared.behaviour().status_keys {
        Some(keys) => {
            let mut processing = serde_json::Map::new();
            processing.insert(keys.received_key().into(), s.killmails_ingested.into());
            processing.insert(keys.last_killmail_key().into(), last_ago.into());
            processing.insert("processing_lag_seconds".into(), 0.into());
            (serde_json::Value::Object(processing), last_ago)
        }
        None => (json!({}), 0),
    };
    json_response(
        StatusCode::OK,
        &json!({
            "metrics": {"system": {}, "websocket": {"connections": s.ws_open}, "processing": processing, "storage": {"killmails": s.stored_killmails},
                        "api": {}, "sse": {"streams": s.sse_open}, "parser_stats": {}},
            "summary": {"api_requests_per_minute": 0, "active_subscriptions": s.subscriptions, "killmails_stored": s.killmails_ingested,
                        "cache_hit_rate": 0.0, "memory_usage_mb": 64.0, "uptime_hours": uptime_h, "processing_lag_seconds": lag,
                        "active_preload_tasks": 0},
            "timestamp": now_timestamp()
        }),
    )
}

async fn metrics(State(shared): Shared_) -> Response<Body> {
    let s = shared.state();
    json_response(
        StatusCode::OK,
        &json!({"timestamp": now_timestamp(), "components": {
            "cache": {"killmails": s.stored_killmails},
            "application": {"profile": s.profile},
            "subscriptions": {"total": s.subscriptions}
        }}),
    )
}

async fn websocket_info(headers: HeaderMap) -> Response<Body> {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let host = host
        .strip_suffix(":80")
        .or_else(|| host.strip_suffix(":443"))
        .unwrap_or(host);
    json_response(
        StatusCode::OK,
        &json!({
            "websocket_url": format!("ws://{host}/socket"),
            "protocol": "Phoenix Channels",
            "version": "2.0.0",
            "channels": {"killmails": "killmails:lobby"},
            "authentication": {"required": false, "type": "none", "description": "No authentication required for public killmail data"},
            "limits": {"max_systems_per_subscription": 100, "timeout_seconds": 45, "rate_limit": "per_connection"},
            "documentation": {"url": "https://github.com/wanderer-industries/wanderer-kills", "examples": "/examples/websocket_client.ex"}
        }),
    )
}

async fn websocket_status(State(shared): Shared_) -> Response<Body> {
    let s = shared.state();
    let uptime = shared.lock().started.elapsed().as_secs();
    json_response(
        StatusCode::OK,
        &json!({"status": "operational", "active_connections": s.ws_open, "active_subscriptions": s.subscriptions,
                "uptime_seconds": uptime, "timestamp": now_timestamp()}),
    )
}

async fn debug_info(State(shared): Shared_) -> Response<Body> {
    let s = shared.state();
    json_response(
        StatusCode::OK,
        &json!({"debug": true, "websocket_connections": s.ws_open, "timestamp": now_timestamp()}),
    )
}

async fn dashboard() -> Response<Body> {
    let mut resp = Response::new(Body::from(
        "<!DOCTYPE html><html><head><title>WandererKills (wk-testkit)</title></head><body><h1>WandererKills</h1><p>wk-testkit fake server</p></body></html>",
    ));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        "text/html; charset=utf-8".parse().expect("static header"),
    );
    resp
}
