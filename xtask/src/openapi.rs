//! Builds the OpenAPI 3.1 document of the real server from [`crate::routes`] and the wk-types
//! schemas, plus the standalone schema of every wire type.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};
use wk_types::webhook::WebhookBody;

use crate::routes::{self, Param, Response, Route};
use crate::schemas::{self, GENERATED, Registry};

/// Everything `cargo xtask codegen` writes, as JSON values.
#[derive(Debug)]
pub(crate) struct Spec {
    /// `spec/openapi.json`.
    pub(crate) openapi: Value,
    /// `spec/schemas/<name>.json`, by name.
    pub(crate) schemas: BTreeMap<String, Value>,
}

const DESCRIPTION: &str = "\
The WandererKills killmail service as the real server behaves (v1.5.8 at commit 9cf988e5, and \
the current v1.6.2, which differs on the wire only in `/status` key names and Phoenix 1.8 channel \
details, PROTOCOL.md §18), not as its own OpenAPI file claims.

- No authentication, no inbound rate limiting (never `429`), no CORS headers.
- Routes under `/api/v1` (except the two SSE streams) and `/api/openapi` need an `Accept` that \
allows JSON; infrastructure routes allow JSON or text. Otherwise `406` with the fallback error shape.
- Any undefined path or wrong method under `/api/v1/` answers `404` \
`{\"error\":\"Not Found\",\"code\":\"NOT_FOUND\",\"details\":null,\"timestamp\":…}` (never `405`); \
elsewhere the fallback `{\"error\":\"Not Found\",\"status\":\"404\"}`. Trailing slashes are ignored; \
HEAD is accepted wherever GET is.
- Error bodies come in five shapes (`ErrorBody`): standard API error, subscription error, structured \
(SSE, health) error, framework fallback (`status` is a string) and debug refusal.
- Kills endpoints wrap payloads as `{data, timestamp}`; subscription endpoints as `{data}` only; \
health and info endpoints answer bare objects.
- Killmails come in three shapes (canonical, stored, zKillboard reference), all described by `Killmail`. \
Treat absent keys and `null` alike, ignore unknown keys, parse money and coordinates as floats \
(`1.0e4` occurs).
- Defects: `since_hours` is ignored, `/kills/system` and `/kills/systems` return zKillboard references, \
`/kills/count` is always 0, webhooks are never delivered, the enhanced SSE stream ends at once, and \
live kills arrive more than once on every transport.";

/// Builds the document and the standalone schemas.
pub(crate) fn build() -> Spec {
    let mut reg = Registry::new();
    reg.register_wire_types();
    let routes = routes::table(&mut reg);

    let mut paths = Map::new();
    for route in &routes {
        let item = paths.entry(route.path).or_insert_with(|| json!({}));
        let previous = item
            .as_object_mut()
            .expect("path items are objects")
            .insert(route.method.to_owned(), operation(route));
        assert!(
            previous.is_none(),
            "{} {} is listed twice",
            route.method,
            route.path
        );
    }

    let webhook = json!({
        "post": {
            "operationId": "deliverWebhook",
            "tags": ["subscriptions"],
            "summary": "Webhook delivery (dormant)",
            "description": "What the dormant sender would POST to a `callback_url` (no signature, no auth, \
                `User-Agent: WandererKills/1.0`, 10 s timeout, no retries, redirects not followed). \
                The server at this commit never sends it.",
            "requestBody": {
                "required": true,
                "content": { "application/json": { "schema": reg.named::<WebhookBody>("WebhookBody") } }
            },
            "responses": { "2XX": { "description": "Any 2xx counts as delivered." } }
        }
    });

    let mut doc = json!({
        "openapi": "3.1.0",
        "x-generated": GENERATED,
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "WandererKills",
            "version": "1.5.8",
            "description": DESCRIPTION,
            "license": { "name": "MIT OR Apache-2.0", "identifier": "MIT OR Apache-2.0" }
        },
        "servers": [
            { "url": "http://localhost:4004", "description": "Default port; the server speaks plain HTTP (TLS only via a proxy)." }
        ],
        "tags": [
            { "name": "kills", "description": "Killmail data (`{data, timestamp}` envelope)." },
            { "name": "subscriptions", "description": "Webhook subscriptions (`{data}` envelope); delivery never happens." },
            { "name": "streams", "description": "Server-Sent Events." },
            { "name": "websocket", "description": "Phoenix Channels WebSocket and its discovery endpoints." },
            { "name": "health", "description": "Health and info endpoints at the root (bare objects)." },
            { "name": "meta", "description": "The server's own API description." },
            { "name": "debug", "description": "Debug endpoints clients should not call." }
        ],
        "paths": paths,
        "webhooks": { "subscriptionCallback": webhook },
        "components": {
            "headers": {
                "RequestId": {
                    "description": "On every response: a valid incoming `x-request-id` (20-200 chars) is echoed, otherwise one is generated.",
                    "schema": { "type": "string" }
                }
            }
        }
    });

    let (components, wire_types) = reg.finish(&mut doc);
    let schemas = wire_types
        .iter()
        .map(|name| (name.clone(), schemas::standalone(&components, name)))
        .collect();
    doc["components"]["schemas"] = Value::Object(components);
    Spec {
        openapi: doc,
        schemas,
    }
}

/// The Operation Object of one route.
fn operation(route: &Route) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(route.id));
    op.insert("tags".into(), json!([route.tag]));
    op.insert("summary".into(), json!(route.summary));
    op.insert("description".into(), json!(route.description));
    if !route.params.is_empty() {
        op.insert(
            "parameters".into(),
            route.params.iter().map(parameter).collect(),
        );
    }
    if let Some(body) = &route.body {
        op.insert(
            "requestBody".into(),
            json!({ "required": true, "content": { "application/json": { "schema": body } } }),
        );
    }
    let responses: Map<String, Value> = route
        .responses
        .iter()
        .map(|r| (r.status.to_string(), response(r)))
        .collect();
    op.insert("responses".into(), Value::Object(responses));
    for (key, value) in &route.extensions {
        op.insert((*key).to_owned(), value.clone());
    }
    Value::Object(op)
}

/// The Parameter Object of one parameter.
fn parameter(param: &Param) -> Value {
    let mut p = json!({
        "name": param.name,
        "in": param.location,
        "required": param.location == "path",
        "description": param.description,
        "schema": param.schema,
    });
    if param.comma_list {
        p["style"] = json!("form");
        p["explode"] = json!(false);
    }
    p
}

/// The Response Object of one response.
fn response(r: &Response) -> Value {
    let mut out = json!({
        "description": r.description,
        "headers": { "x-request-id": { "$ref": "#/components/headers/RequestId" } },
    });
    if let Some((media, schema)) = &r.content {
        out["content"] = json!({ *media: { "schema": schema } });
    }
    out
}
