//! Kills and subscription routes (PROTOCOL.md §6.2–§6.10).

use serde_json::json;
use wk_types::http::{
    BulkSystemsKills, BulkSystemsRequest, CreateSubscription, Envelope, KillCount, KillList,
    KillmailLookup, SubscriptionCreated, SubscriptionDeleted, SubscriptionList, SubscriptionStats,
};
use wk_types::{FallbackError, SubscriptionError};

use super::{Route, api_error, crashed, json_response, not_acceptable, path, positive_id, query};
use crate::schemas::Registry;

/// The kills endpoints (`{data, timestamp}` envelope).
pub(super) fn kills_routes(reg: &mut Registry) -> Vec<Route> {
    let system_id = || {
        positive_id(
            "system_id",
            "Solar system id: a positive integer, no upper bound.",
        )
    };
    vec![
        Route {
            method: "get",
            path: "/api/v1/kills/system/{system_id}",
            id: "getSystemKills",
            tag: "kills",
            summary: "Recent zKillboard references for one system",
            description: "One live call to zKillboard's system listing; the first `limit` entries in zKillboard's order. Items are zKillboard references (`{killmail_id, zkb}`), not enriched killmails; `cached` is always false. `since_hours` is validated and has no effect. The upstream call can take ~60 s: use a client timeout of at least 75 s.",
            params: vec![
                system_id(),
                query(
                    "since_hours",
                    "A positive integer. Validated, then ignored by the server.",
                    json!({ "type": "integer", "minimum": 1, "default": 24 }),
                ),
                query(
                    "limit",
                    "How many entries, 1..=1000.",
                    json!({ "type": "integer", "minimum": 1, "maximum": 1000, "default": 50 }),
                ),
            ],
            body: None,
            responses: vec![
                json_response(
                    200,
                    "The references; `kills` may be empty.",
                    reg.named::<Envelope<KillList>>("Envelope_KillList"),
                ),
                json_response(
                    400,
                    "A bad `system_id`, `since_hours` or `limit`: all three give `INVALID_SYSTEM_ID` (\"Invalid system ID format\").",
                    api_error(reg, &["INVALID_SYSTEM_ID"]),
                ),
                not_acceptable(reg),
                json_response(
                    500,
                    "`FETCH_ERROR` with `details.reason`: upstream failure, upstream 404, a non-list upstream body, or an exhausted internal rate budget (fails at once under load). Retry with backoff. An uncaught exception gives the fallback shape.",
                    json!({ "anyOf": [api_error(reg, &["FETCH_ERROR"]), reg.schema::<FallbackError>()] }),
                ),
            ],
            extensions: vec![],
        },
        Route {
            method: "post",
            path: "/api/v1/kills/systems",
            id: "getBulkSystemsKills",
            tag: "kills",
            summary: "Recent zKillboard references for several systems",
            description: "One zKillboard call per element of `system_ids`, started in parallel and awaited one after another, each with its own 30 s window. `since_hours` and `limit` may also be strings holding an integer; query parameters of the same names are merged in and body keys win. `since_hours` has no effect. A system whose fetch fails (or whose id is <= 0) maps to `[]`. Keys of `systems_kills` are decimal strings; duplicate ids give one key. There is no maximum count.",
            params: vec![
                query(
                    "since_hours",
                    "Merged into the body; a body key wins. Validated, then ignored.",
                    json!({ "type": "integer", "minimum": 1 }),
                ),
                query(
                    "limit",
                    "Merged into the body; a body key wins. Per system, 1..=1000.",
                    json!({ "type": "integer", "minimum": 1, "maximum": 1000 }),
                ),
            ],
            body: Some(reg.named::<BulkSystemsRequest>("BulkSystemsRequest")),
            responses: vec![
                json_response(
                    200,
                    "References per system.",
                    reg.named::<Envelope<BulkSystemsKills>>("Envelope_BulkSystemsKills"),
                ),
                json_response(
                    400,
                    "`INVALID_SYSTEM_IDS` (missing, not a list, empty, or a non-integer element; a JSON array body counts as missing), `INVALID_PARAMETERS` (bad `since_hours`/`limit`, or `since_hours: null`), or the fallback `Bad Request` for malformed JSON.",
                    json!({ "anyOf": [api_error(reg, &["INVALID_SYSTEM_IDS", "INVALID_PARAMETERS"]), reg.schema::<FallbackError>()] }),
                ),
                not_acceptable(reg),
                json_response(
                    413,
                    "Body over 8,000,000 bytes.",
                    reg.schema::<FallbackError>(),
                ),
                crashed(
                    reg,
                    "A system's 30 s window ran out, or a task raised: the whole request fails.",
                ),
            ],
            extensions: vec![],
        },
        Route {
            method: "get",
            path: "/api/v1/kills/cached/{system_id}",
            id: "getCachedKills",
            tag: "kills",
            summary: "Kills this server has ingested for a system",
            description: "Every killmail for the system in the in-memory store, in stored form, most recently ingested first. No time filter and no limit; because of the retention defect the list can hold kills older than 2 days, and busy systems may repeat a killmail. `cached` is true. Never 404: a quiet system gives `kills: []`.",
            params: vec![system_id()],
            body: None,
            responses: vec![
                json_response(
                    200,
                    "Stored-form killmails.",
                    reg.named::<Envelope<KillList>>("Envelope_KillList"),
                ),
                json_response(
                    400,
                    "A bad `system_id`.",
                    api_error(reg, &["INVALID_SYSTEM_ID"]),
                ),
                not_acceptable(reg),
            ],
            extensions: vec![],
        },
        Route {
            method: "get",
            path: "/api/v1/killmail/{killmail_id}",
            id: "getKillmail",
            tag: "kills",
            summary: "One killmail",
            description: "From the in-memory store (stored form), else fetched from zKillboard and ESI and enriched without storing (canonical form). If enrichment fails, `data` is the bare zKillboard reference; if the kill is more than 365 days old, `data` is the string `\"kill_older\"`. Can take tens of seconds: use a client timeout of at least 90 s.",
            params: vec![positive_id(
                "killmail_id",
                "Killmail id: a positive integer.",
            )],
            body: None,
            responses: vec![
                json_response(
                    200,
                    "The killmail in stored, canonical or reference form, or `\"kill_older\"`.",
                    reg.named::<Envelope<KillmailLookup>>("Envelope_KillmailLookup"),
                ),
                json_response(
                    400,
                    "A bad `killmail_id`.",
                    api_error(reg, &["INVALID_KILLMAIL_ID"]),
                ),
                json_response(
                    404,
                    "zKillboard does not know the id, or any upstream error (\"Killmail not found\").",
                    api_error(reg, &["NOT_FOUND"]),
                ),
                not_acceptable(reg),
                crashed(reg, "An unexpected internal exception."),
            ],
            extensions: vec![],
        },
        Route {
            method: "get",
            path: "/api/v1/kills/count/{system_id}",
            id: "getKillCount",
            tag: "kills",
            summary: "Kill count of a system (always 0)",
            description: "`count` reads an internal counter that nothing increments, so it is always 0. Do not use it; count `GET /api/v1/kills/cached/{system_id}` instead.",
            params: vec![system_id()],
            body: None,
            responses: vec![
                json_response(
                    200,
                    "The count (always 0).",
                    reg.named::<Envelope<KillCount>>("Envelope_KillCount"),
                ),
                json_response(
                    400,
                    "A bad `system_id`.",
                    api_error(reg, &["INVALID_SYSTEM_ID"]),
                ),
                not_acceptable(reg),
            ],
            extensions: vec![],
        },
    ]
}

/// The webhook subscription endpoints (`{data}` envelope, no timestamp).
pub(super) fn subscription_routes(reg: &mut Registry) -> Vec<Route> {
    vec![
        Route {
            method: "post",
            path: "/api/v1/subscriptions",
            id: "createSubscription",
            tag: "subscriptions",
            summary: "Register a webhook subscription",
            description: "Non-integer ids are silently dropped, then each list is de-duplicated and sorted; remaining ids must be positive. At most 100 systems and 1000 characters; at least one id overall. Creating twice for one `subscriber_id` makes a second subscription (no upsert). Subscriptions live in memory only. Nothing is ever delivered to `callback_url` at this server commit.",
            params: vec![],
            body: Some(reg.named::<CreateSubscription>("CreateSubscription")),
            responses: vec![
                json_response(
                    201,
                    "Created; the id is 22 base64url characters.",
                    reg.named::<Envelope<SubscriptionCreated>>("Envelope_SubscriptionCreated"),
                ),
                json_response(
                    400,
                    "The first failed check, `{\"error\":{\"message\",\"details\"}}` with `details` equal to `message`; or the fallback `Bad Request` for malformed JSON.",
                    json!({ "anyOf": [reg.schema::<SubscriptionError>(), reg.schema::<FallbackError>()] }),
                ),
                not_acceptable(reg),
                json_response(
                    413,
                    "Body over 8,000,000 bytes.",
                    reg.schema::<FallbackError>(),
                ),
                crashed(reg, "A non-string `callback_url` crashes the request."),
            ],
            extensions: vec![],
        },
        Route {
            method: "get",
            path: "/api/v1/subscriptions",
            id: "listSubscriptions",
            tag: "subscriptions",
            summary: "Every subscription on the server",
            description: "Webhook subscriptions and one entry per live WebSocket channel join (`callback_url: null`). Order unspecified. Public: anyone can read every callback URL.",
            params: vec![],
            body: None,
            responses: vec![
                json_response(
                    200,
                    "The listing.",
                    reg.named::<Envelope<SubscriptionList>>("Envelope_SubscriptionList"),
                ),
                not_acceptable(reg),
            ],
            extensions: vec![],
        },
        Route {
            method: "get",
            path: "/api/v1/subscriptions/stats",
            id: "getSubscriptionStats",
            tag: "subscriptions",
            summary: "Subscription counters",
            description: "All integers. `sse_subscriptions` is always 0; `memory_usage` is in bytes.",
            params: vec![],
            body: None,
            responses: vec![
                json_response(
                    200,
                    "The counters.",
                    reg.named::<Envelope<SubscriptionStats>>("Envelope_SubscriptionStats"),
                ),
                not_acceptable(reg),
            ],
            extensions: vec![],
        },
        Route {
            method: "delete",
            path: "/api/v1/subscriptions/{subscriber_id}",
            id: "deleteSubscriptions",
            tag: "subscriptions",
            summary: "Remove every subscription of a subscriber",
            description: "Removes every subscription whose `subscriber_id` equals the (URL-decoded) segment, WebSocket entries included. Always 200, even when nothing matched. There is no way to delete one subscription by `subscription_id`.",
            params: vec![path(
                "subscriber_id",
                "The subscriber, matched exactly.",
                json!({ "type": "string" }),
            )],
            body: None,
            responses: vec![
                json_response(
                    200,
                    "Always, even when nothing matched.",
                    reg.named::<Envelope<SubscriptionDeleted>>("Envelope_SubscriptionDeleted"),
                ),
                not_acceptable(reg),
            ],
            extensions: vec![],
        },
    ]
}
