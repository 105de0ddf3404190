//! Health, info, OpenAPI, debug and dashboard routes at the server root (PROTOCOL.md §10).

use serde_json::json;
use wk_types::StructuredError;
use wk_types::http::{Health, ServiceStatus, WebsocketInfo, WebsocketStatus};

use super::{Response, Route, json_response, not_acceptable, opaque, query, realtime};
use crate::schemas::Registry;

/// Every root-level route, the WebSocket upgrade included.
pub(super) fn info_routes(reg: &mut Registry) -> Vec<Route> {
    let simple = |path, id, tag, summary, description, responses| Route {
        method: "get",
        path,
        id,
        tag,
        summary,
        description,
        params: vec![],
        body: None,
        responses,
        extensions: vec![],
    };
    let text = |status, description, media| Response {
        status,
        description,
        content: Some((media, json!({ "type": "string" }))),
    };
    let mut status = simple(
        "/status",
        "getStatus",
        "health",
        "Service status",
        "`summary` holds headline numbers; `metrics` is a large unstable object, of which \
         `metrics.processing` is modelled under both key sets (v1.5.8 `redisq_*`, v1.6 renamed).",
        vec![
            json_response(
                200,
                "The status.",
                reg.named::<ServiceStatus>("ServiceStatus"),
            ),
            not_acceptable(reg),
        ],
    );
    status.params.push(query(
        "debug",
        "`dashboard` returns a different debug object.",
        json!({ "type": "string" }),
    ));
    vec![
        simple(
            "/api/openapi",
            "getServerOpenApi",
            "meta",
            "The server's own runtime-generated OpenAPI document",
            "Inaccurate (it uses `solar_system_id`, nested error objects, fields never sent); do not generate clients from it. This document describes the real server instead.",
            vec![
                json_response(200, "An OpenAPI 3 document.", opaque()),
                not_acceptable(reg),
            ],
        ),
        simple(
            "/ping",
            "ping",
            "health",
            "Liveness probe",
            "Answers `pong` as `text/plain; charset=utf-8`.",
            vec![text(200, "`pong`.", "text/plain"), not_acceptable(reg)],
        ),
        simple(
            "/health",
            "getHealth",
            "health",
            "Health check",
            "Use only `healthy` and the HTTP status: `details` is malformed (one entry under `\"unknown\"` with zero counters) and the other fields are unstable.",
            vec![
                json_response(200, "Healthy.", reg.named::<Health>("Health")),
                not_acceptable(reg),
                json_response(
                    503,
                    "Unhealthy (same shape as 200), or the check itself failed (`health_check_failed`, structured error shape).",
                    json!({ "anyOf": [reg.schema::<Health>(), reg.schema::<StructuredError>()] }),
                ),
            ],
        ),
        status,
        simple(
            "/metrics",
            "getMetrics",
            "health",
            "Internal metrics",
            "`{timestamp, components: {cache, application, subscriptions}}`; opaque.",
            vec![
                json_response(200, "The metrics.", opaque()),
                not_acceptable(reg),
            ],
        ),
        simple(
            "/websocket",
            "getWebsocketInfo",
            "websocket",
            "WebSocket service discovery",
            "`websocket_url` always says `ws://` (even behind TLS) and lacks the `/websocket` suffix, and `limits` are static and wrong (real: 10,000 systems, 50,000 characters, 60 s idle timeout). Do not build URLs from it.",
            vec![
                json_response(
                    200,
                    "Discovery data.",
                    reg.named::<WebsocketInfo>("WebsocketInfo"),
                ),
                not_acceptable(reg),
            ],
        ),
        simple(
            "/websocket/status",
            "getWebsocketStatus",
            "websocket",
            "WebSocket status",
            "`active_connections` does not count sockets; `active_subscriptions` counts webhook and WebSocket subscriptions; `degraded` means more than 1000 connections.",
            vec![
                json_response(
                    200,
                    "The status.",
                    reg.named::<WebsocketStatus>("WebsocketStatus"),
                ),
                not_acceptable(reg),
            ],
        ),
        simple(
            "/dashboard-debug",
            "debugDashboard",
            "debug",
            "Debug: dashboard data",
            "Internal debug JSON, not protected in production. Clients should not call it.",
            vec![json_response(200, "Debug data.", opaque())],
        ),
        simple(
            "/test-websocket-tracking",
            "debugWebsocketTracking",
            "debug",
            "Debug: WebSocket tracking",
            "Internal debug JSON, not protected in production. Clients should not call it.",
            vec![json_response(200, "Debug data.", opaque())],
        ),
        simple(
            "/",
            "getDashboard",
            "health",
            "HTML status dashboard",
            "A `text/html` page for people.",
            vec![
                text(200, "The dashboard.", "text/html"),
                json_response(
                    500,
                    "The page's data could not be gathered.",
                    json!({ "type": "object", "properties": { "error": { "const": "Internal server error" }, "message": { "const": "Failed to load status page" } }, "required": ["error", "message"] }),
                ),
            ],
        ),
        realtime::websocket_route(reg),
    ]
}
