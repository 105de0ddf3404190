//! Streaming routes: the SSE endpoints and their debug siblings (PROTOCOL.md §8, §10.7), and the
//! Phoenix Channels WebSocket (§7).

use serde_json::json;
use wk_types::{ForbiddenError, StructuredError};

use super::{Param, Response, Route, json_response, not_acceptable, opaque, query};
use crate::schemas::Registry;

/// The query parameters both SSE endpoints take (§8.1).
fn sse_params() -> Vec<Param> {
    let ids = json!({ "type": "array", "items": { "type": "integer", "format": "int64" }, "maxItems": 100 });
    vec![
        Param {
            comma_list: true,
            ..query(
                "system_ids",
                "Comma-separated integers; tokens are trimmed, empty ones skipped. Negatives and 0 are accepted, at most 100, duplicates kept. The last repeated parameter wins; `system_ids[]=` is rejected.",
                ids.clone(),
            )
        },
        Param {
            comma_list: true,
            ..query(
                "character_ids",
                "As `system_ids`, at most 100. Ignored by the basic stream: `character_ids` alone gives every kill.",
                ids,
            )
        },
        query(
            "min_value",
            "Minimum `zkb.totalValue` in ISK, a decimal number such as `1e8`. Ignored by the basic stream.",
            json!({ "type": "number", "minimum": 0 }),
        ),
        query(
            "preload_days",
            "Days of history. Values above 90 are capped to 90. Validated and ignored by the basic stream; crashes the enhanced stream's preload.",
            json!({ "type": "integer", "minimum": 0, "default": 0 }),
        ),
    ]
}

/// The two SSE streams and the debug routes beside them.
pub(super) fn stream_routes(reg: &mut Registry) -> Vec<Route> {
    use wk_types::Killmail;
    use wk_types::sse::{Batch, Connected, Heartbeat, StreamError, Transition};
    let sse_error = |reg: &mut Registry| {
        json_response(
            400,
            "A query parameter failed validation (`domain: validation`, `type: invalid_format`), before streaming starts.",
            reg.schema::<StructuredError>(),
        )
    };
    let mut routes = vec![
        Route {
            method: "get",
            path: "/api/v1/kills/stream",
            id: "streamKills",
            tag: "streams",
            summary: "Basic Server-Sent Events stream of live killmails",
            description: "`text/event-stream; charset=utf-8`, chunked, never closed for idleness. First `retry: 2000`, then one unnamed `data:` event per canonical killmail (no `event:` or `id:` lines), and `: ping` after 10 s of quiet. Only `system_ids` filters (by topic); `character_ids` and `min_value` are ignored and `preload_days` gives no history. Each live kill is written twice: deduplicate by `killmail_id`. No resume; reconnect after the retry delay. No `Accept` check.",
            params: sse_params(),
            body: None,
            responses: vec![
                Response {
                    status: 200,
                    description: "The event stream; every `data:` line is one canonical `Killmail`.",
                    content: Some(("text/event-stream", json!({ "type": "string" }))),
                },
                sse_error(reg),
            ],
            extensions: vec![(
                "x-sse-events",
                json!({ "message": reg.named::<Killmail>("Killmail") }),
            )],
        },
        Route {
            method: "get",
            path: "/api/v1/kills/stream/enhanced",
            id: "streamKillsEnhanced",
            tag: "streams",
            summary: "Enhanced Server-Sent Events stream (effectively broken)",
            description: "Designed: named events `connected`, then `batch`/`transition` history when `preload_days > 0`, then `killmail` and a `heartbeat` every 30 s. Actually: the stream ends right after it starts (expect an empty 200 body), preload crashes so `batch`/`transition` never come, only `character_ids` filters can yield `killmail` events, and leaked slots can make every request answer 503. Use the basic stream. No `Accept` check.",
            params: sse_params(),
            body: None,
            responses: vec![
                Response {
                    status: 200,
                    description: "`text/event-stream` (no charset), `x-accel-buffering: no`; events are `event: <name>` plus one `data:` line of JSON.",
                    content: Some(("text/event-stream", json!({ "type": "string" }))),
                },
                sse_error(reg),
                json_response(
                    503,
                    "`connection_limit_reached`: 100 streams counted as active (slots leak). No `Retry-After`.",
                    reg.schema::<StructuredError>(),
                ),
            ],
            extensions: vec![(
                "x-sse-events",
                json!({
                    "connected": reg.named::<Connected>("Connected"),
                    "batch": reg.named::<Batch>("Batch"),
                    "transition": reg.named::<Transition>("Transition"),
                    "killmail": reg.named::<Killmail>("Killmail"),
                    "heartbeat": reg.named::<Heartbeat>("Heartbeat"),
                    "error": reg.named::<StreamError>("StreamError"),
                }),
            )],
        },
    ];
    routes.push(debug_route(
        reg,
        "/api/v1/kills/stream/cleanup",
        "debugStreamCleanup",
        "Debug: SSE cleanup",
    ));
    routes.push(debug_route(
        reg,
        "/api/v1/kills/stream/stats",
        "debugStreamStats",
        "Debug: SSE statistics",
    ));
    routes.push(debug_route(
        reg,
        "/api/v1/kills/stream/test",
        "debugStreamTest",
        "Debug: broadcast a fake kill",
    ));
    routes
}

/// A debug route under `/api/v1/kills/stream` (§10.7): 403 in production builds.
fn debug_route(
    reg: &mut Registry,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
) -> Route {
    Route {
        method: "get",
        path,
        id,
        tag: "debug",
        summary,
        description: "Debug endpoint; answers 403 in production builds. Clients should not call it.",
        params: vec![],
        body: None,
        responses: vec![
            json_response(200, "Dev and test builds only.", opaque()),
            json_response(403, "Production builds.", reg.schema::<ForbiddenError>()),
            not_acceptable(reg),
        ],
        extensions: vec![],
    }
}

/// `GET /socket/websocket`: the Phoenix Channels upgrade, with the channel's payloads (§7).
pub(super) fn websocket_route(reg: &mut Registry) -> Route {
    use wk_types::phoenix::{
        CharactersPayload, CharactersReply, ErrorReply, JoinParams, JoinReply, KillCountUpdate,
        KillmailUpdate, PreloadBatch, PreloadComplete, Reply, StatusReply, SystemsPayload,
        SystemsReply,
    };
    let channel = json!({
        "frame": "V2 text frames `[join_ref, ref, topic, event, payload]`; heartbeats go to topic `phoenix` every 30 s; 60 s without an inbound frame closes the socket (1000).",
        "topic": "killmails:lobby",
        "client_events": {
            "phx_join": reg.named::<JoinParams>("JoinParams"),
            "subscribe_systems": reg.named::<SystemsPayload>("SystemsPayload"),
            "unsubscribe_systems": reg.named::<SystemsPayload>("SystemsPayload"),
            "subscribe_characters": reg.named::<CharactersPayload>("CharactersPayload"),
            "unsubscribe_characters": reg.named::<CharactersPayload>("CharactersPayload"),
            "get_status": { "type": "object" },
            "phx_leave": { "type": "object" },
            "heartbeat": { "type": "object", "description": "On topic `phoenix`." },
        },
        "replies": {
            "phx_join": reg.named::<Reply<JoinReply>>("Reply_JoinReply"),
            "phx_join_error": reg.named::<Reply<ErrorReply>>("Reply_ErrorReply"),
            "subscribe_systems": reg.named::<Reply<SystemsReply>>("Reply_SystemsReply"),
            "unsubscribe_systems": reg.named::<Reply<SystemsReply>>("Reply_SystemsReply"),
            "subscribe_characters": reg.named::<Reply<CharactersReply>>("Reply_CharactersReply"),
            "unsubscribe_characters": reg.named::<Reply<CharactersReply>>("Reply_CharactersReply"),
            "get_status": reg.named::<Reply<StatusReply>>("Reply_StatusReply"),
            "heartbeat": reg.named::<Reply>("Reply"),
            "phx_leave": reg.named::<Reply>("Reply"),
        },
        "server_events": {
            "killmail_update": reg.named::<KillmailUpdate>("KillmailUpdate"),
            "kill_count_update": reg.named::<KillCountUpdate>("KillCountUpdate"),
            "preload_batch": reg.named::<PreloadBatch>("PreloadBatch"),
            "preload_complete": reg.named::<PreloadComplete>("PreloadComplete"),
        },
        "defects": "Each live kill arrives up to 4 times (deduplicate by `killmail_id`); `kill_count_update`, `preload_batch` and `preload_complete` are never pushed; any rejected or unknown `subscribe_*`/`unsubscribe_*` request crashes the channel (`phx_error`, no reply).",
    });
    Route {
        method: "get",
        path: "/socket/websocket",
        id: "connectWebsocket",
        tag: "websocket",
        summary: "Phoenix Channels WebSocket",
        description: "Upgrade to a Phoenix Channels socket; the only usable topic is `killmails:lobby` (join key `systems`, not `system_ids`). No authentication; any `Origin` is accepted. `x-phoenix-channel` lists the payload schema of each event.",
        params: vec![
            query(
                "vsn",
                "Frame format. Send `2.0.0` (array frames). Absent means `1.0.0` (object frames); any other value is refused with 403.",
                json!({ "type": "string", "enum": ["2.0.0", "1.0.0"] }),
            ),
            query(
                "client_id",
                "Optional cosmetic identity (also read from `client_identifier` or `identifier`): trimmed, cut to 32 chars, other characters than `[A-Za-z0-9_-]` become `_`. Prefixes the connection's `user_id`.",
                json!({ "type": "string" }),
            ),
        ],
        body: None,
        responses: vec![
            Response {
                status: 101,
                description: "Switching Protocols; `permessage-deflate` is accepted. Inbound frames over 131,072 bytes close the socket (1009); a malformed frame closes it (1011).",
                content: None,
            },
            Response {
                status: 400,
                description: "Not a valid WebSocket upgrade (plain-text body), or not a GET.",
                content: Some(("text/plain", json!({ "type": "string" }))),
            },
            Response {
                status: 403,
                description: "An unsupported `vsn`; empty body.",
                content: None,
            },
        ],
        extensions: vec![("x-phoenix-channel", channel)],
    }
}
