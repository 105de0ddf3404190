//! The route table of the real WandererKills server (PROTOCOL.md §6, §7.1, §8, §10), as data.
//!
//! [`crate::openapi`] turns it into `spec/openapi.json`. Each entry says what the server does at
//! the described commit, defects included, not what its own docs claim (PROTOCOL.md §14).

use serde_json::{Value, json};
use wk_types::FallbackError;

use crate::schemas::Registry;

mod api;
mod info;
mod realtime;

/// One operation: a method on a path.
#[derive(Debug)]
pub(crate) struct Route {
    /// Lowercase HTTP method.
    pub(crate) method: &'static str,
    /// The path template, e.g. `/api/v1/kills/system/{system_id}`.
    pub(crate) path: &'static str,
    /// The unique `operationId`.
    pub(crate) id: &'static str,
    /// The tag grouping the operation.
    pub(crate) tag: &'static str,
    /// One line.
    pub(crate) summary: &'static str,
    /// What the real server does, defects included.
    pub(crate) description: &'static str,
    /// Path and query parameters.
    pub(crate) params: Vec<Param>,
    /// The JSON request body schema, if any.
    pub(crate) body: Option<Value>,
    /// Every status the server answers with.
    pub(crate) responses: Vec<Response>,
    /// `x-` extensions (SSE event and Phoenix channel maps).
    pub(crate) extensions: Vec<(&'static str, Value)>,
}

/// A path or query parameter.
#[derive(Debug)]
pub(crate) struct Param {
    /// The name.
    pub(crate) name: &'static str,
    /// `path` or `query`.
    pub(crate) location: &'static str,
    /// Its rule, in words.
    pub(crate) description: &'static str,
    /// Its JSON Schema.
    pub(crate) schema: Value,
    /// Comma-separated list (`style: form, explode: false`).
    pub(crate) comma_list: bool,
}

/// One response of an operation.
#[derive(Debug)]
pub(crate) struct Response {
    /// The HTTP status.
    pub(crate) status: u16,
    /// When it happens.
    pub(crate) description: &'static str,
    /// `(media type, schema)`, or `None` for an empty body.
    pub(crate) content: Option<(&'static str, Value)>,
}

const JSON: &str = "application/json";

/// A path parameter.
fn path(name: &'static str, description: &'static str, schema: Value) -> Param {
    Param {
        name,
        location: "path",
        description,
        schema,
        comma_list: false,
    }
}

/// A query parameter.
fn query(name: &'static str, description: &'static str, schema: Value) -> Param {
    Param {
        name,
        location: "query",
        description,
        schema,
        comma_list: false,
    }
}

/// A positive-integer path parameter (no upper bound; a leading `+` is accepted).
fn positive_id(name: &'static str, description: &'static str) -> Param {
    path(
        name,
        description,
        json!({ "type": "integer", "format": "int64", "minimum": 1 }),
    )
}

/// A JSON response.
fn json_response(status: u16, description: &'static str, schema: Value) -> Response {
    Response {
        status,
        description,
        content: Some((JSON, schema)),
    }
}

/// A standard API error (§3.1) restricted to `codes`.
fn api_error(reg: &mut Registry, codes: &[&str]) -> Value {
    json!({ "allOf": [reg.schema::<wk_types::ApiError>(), { "properties": { "code": { "enum": codes } } }] })
}

/// `406` with the fallback shape: the `Accept` header does not allow JSON.
fn not_acceptable(reg: &mut Registry) -> Response {
    let schema = reg.schema::<FallbackError>();
    json_response(
        406,
        "`Accept` does not allow JSON: `{\"error\":\"Not Acceptable\",\"status\":\"406\"}`.",
        schema,
    )
}

/// The fallback 500 of an uncaught exception.
fn crashed(reg: &mut Registry, description: &'static str) -> Response {
    json_response(500, description, reg.schema::<FallbackError>())
}

/// An opaque JSON object.
fn opaque() -> Value {
    json!({ "type": "object", "description": "Unstable internal JSON; treat as opaque." })
}

/// Every route of PROTOCOL.md §6.1 with its real behaviour.
pub(crate) fn table(reg: &mut Registry) -> Vec<Route> {
    let mut routes = api::kills_routes(reg);
    routes.extend(api::subscription_routes(reg));
    routes.extend(realtime::stream_routes(reg));
    routes.extend(info::info_routes(reg));
    routes
}
