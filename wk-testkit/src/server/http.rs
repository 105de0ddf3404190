//! The JSON HTTP API (PROTOCOL.md §6 and §10) with the server's exact envelopes and error shapes.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Request, Response, StatusCode, header};
use axum::routing::{delete, get, post};
use serde_json::{Map, Value, json};
use wk_types::Killmail;

use super::hub::{Shared, SubKind, SubRecord};
use crate::forms;
use crate::json::{self, now_timestamp};

type Shared_ = State<Arc<Shared>>;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/api/v1/kills/system/{id}",
            get(system_kills).fallback(api_not_found),
        )
        .route(
            "/api/v1/kills/systems",
            post(bulk_systems).fallback(api_not_found),
        )
        .route(
            "/api/v1/kills/cached/{id}",
            get(cached).fallback(api_not_found),
        )
        .route(
            "/api/v1/killmail/{id}",
            get(killmail).fallback(api_not_found),
        )
        .route(
            "/api/v1/kills/count/{id}",
            get(kill_count).fallback(api_not_found),
        )
        .route(
            "/api/v1/subscriptions",
            post(create_subscription)
                .get(list_subscriptions)
                .fallback(api_not_found),
        )
        .route(
            "/api/v1/subscriptions/stats",
            get(subscription_stats)
                .delete(delete_stats)
                .fallback(api_not_found),
        )
        .route(
            "/api/v1/subscriptions/{subscriber_id}",
            delete(delete_subscription).fallback(api_not_found),
        )
}

/// A JSON response with the server's headers, encoded like Jason.
pub(crate) fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let mut resp = Response::new(Body::from(json::encode(value)));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        "application/json; charset=utf-8"
            .parse()
            .expect("static header"),
    );
    h.insert(
        header::CACHE_CONTROL,
        "max-age=0, private, must-revalidate"
            .parse()
            .expect("static header"),
    );
    resp
}

/// The framework fallback shape (§3.4): `{"error": <reason phrase>, "status": "<code>"}`.
pub(crate) fn fallback_error(status: StatusCode) -> Response<Body> {
    // Plug's reason phrases, where they differ from the `http` crate's.
    let reason = match status.as_u16() {
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Long",
        416 => "Requested Range not Satisfiable",
        _ => status.canonical_reason().unwrap_or("Unknown"),
    };
    json_response(status, &json!({"error": reason, "status": status.as_str()}))
}

/// The standard API error shape (§3.1).
pub(crate) fn api_error(
    status: StatusCode,
    code: &str,
    message: &str,
    details: &Value,
) -> Response<Body> {
    json_response(
        status,
        &json!({"error": message, "code": code, "details": details, "timestamp": now_timestamp()}),
    )
}

fn ok_envelope(data: &Value) -> Response<Body> {
    json_response(
        StatusCode::OK,
        &json!({"data": data, "timestamp": now_timestamp()}),
    )
}

pub(super) async fn fallback(req: Request<Body>) -> Response<Body> {
    let path = req.uri().path();
    if path == "/api/v1" || path.starts_with("/api/v1/") {
        api_not_found().await
    } else {
        fallback_error(StatusCode::NOT_FOUND)
    }
}

pub(super) async fn api_not_found() -> Response<Body> {
    api_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "Not Found",
        &Value::Null,
    )
}

/// "Positive integer" of §6: the whole string is base-10 (optional leading `+`) and > 0.
pub(crate) fn positive(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<i64>().ok().filter(|n| *n > 0)
}

/// Query pairs, percent-decoded, in order.
pub(crate) fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    q.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// The last value of `key` (a repeated parameter uses the last value).
pub(crate) fn last<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(b) = hex {
                    out.push(b);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn system_of(km: &Killmail) -> Option<i64> {
    km.system_id.map(|s| s.get())
}

/// Stored kills of a system, newest kill first.
fn kills_in(shared: &Shared, system: i64) -> Vec<Killmail> {
    let g = shared.lock();
    let mut kills: Vec<Killmail> = g
        .store
        .iter()
        .rev()
        .filter(|k| system_of(k) == Some(system))
        .cloned()
        .collect();
    drop(g);
    kills.sort_by_key(|k| std::cmp::Reverse(k.kill_time));
    kills
}

fn system_listing(shared: &Shared, system: i64, since_hours: i64, limit: usize) -> Vec<Value> {
    let kills = kills_in(shared, system);
    if shared.behaviour().zkb_references {
        kills.iter().take(limit).map(forms::reference).collect()
    } else {
        let cutoff = jiff::Timestamp::now()
            .checked_sub(jiff::SignedDuration::from_hours(since_hours))
            .unwrap_or(jiff::Timestamp::MIN);
        kills
            .iter()
            .filter(|k| k.kill_time.is_some_and(|t| t >= cutoff))
            .take(limit)
            .map(forms::canonical)
            .collect()
    }
}

async fn system_kills(
    State(shared): Shared_,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Response<Body> {
    let invalid = || {
        api_error(
            StatusCode::BAD_REQUEST,
            "INVALID_SYSTEM_ID",
            "Invalid system ID format",
            &Value::Null,
        )
    };
    let pairs = query_pairs(q.as_deref());
    let Some(system) = positive(&id) else {
        return invalid();
    };
    let since = match last(&pairs, "since_hours") {
        None => 24,
        Some(v) => match positive(v) {
            Some(n) => n,
            None => return invalid(),
        },
    };
    let limit = match last(&pairs, "limit") {
        None => 50,
        Some(v) => match positive(v) {
            Some(n) if n <= 1000 => n,
            _ => return invalid(),
        },
    };
    let fetch_error = {
        let mut g = shared.lock();
        if g.faults.fetch_error > 0 {
            g.faults.fetch_error -= 1;
            true
        } else {
            false
        }
    };
    if fetch_error {
        let reason = format!(
            "%WandererKills.Core.Support.Error{{domain: :http, type: :timeout, message: \"Request to https://zkillboard.com/api/systemID/{system}/ timed out\", details: nil, retryable: true}}"
        );
        return api_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "FETCH_ERROR",
            "Failed to fetch system kills",
            &json!({"reason": reason}),
        );
    }
    let kills = system_listing(&shared, system, since, usize::try_from(limit).unwrap_or(50));
    ok_envelope(&json!({"kills": kills, "timestamp": now_timestamp(), "cached": false}))
}

/// Reads a request body up to Plug's 8,000,000-byte limit; larger bodies get the fallback 413.
async fn read_body(body: Body) -> Result<Bytes, Response<Body>> {
    axum::body::to_bytes(body, 8_000_000)
        .await
        .map_err(|_| fallback_error(StatusCode::PAYLOAD_TOO_LARGE))
}

/// Parses a JSON request body the way Plug does: JSON content types only, malformed → `None`.
fn body_params(headers: &HeaderMap, body: &Bytes) -> Option<Map<String, Value>> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("json"));
    if !is_json || body.iter().all(u8::is_ascii_whitespace) {
        return Some(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Some(map),
        Ok(other) => {
            let mut map = Map::new();
            map.insert("_json".into(), other);
            Some(map)
        }
        Err(_) => None,
    }
}

/// `since_hours`/`limit` of the bulk endpoint: an integer or a string holding one.
fn int_param(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => positive(s).or_else(|| s.parse::<i64>().ok()),
        _ => None,
    }
}

async fn bulk_systems(
    State(shared): Shared_,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response<Body> {
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let Some(body) = body_params(&headers, &body) else {
        return fallback_error(StatusCode::BAD_REQUEST);
    };
    let mut params: Map<String, Value> = query_pairs(q.as_deref())
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    params.extend(body);
    let bad_ids = || {
        api_error(
            StatusCode::BAD_REQUEST,
            "INVALID_SYSTEM_IDS",
            "Invalid system IDs",
            &Value::Null,
        )
    };
    let bad_params = || {
        api_error(
            StatusCode::BAD_REQUEST,
            "INVALID_PARAMETERS",
            "Invalid parameters",
            &Value::Null,
        )
    };
    let Some(Value::Array(ids)) = params.get("system_ids") else {
        return bad_ids();
    };
    if ids.is_empty() {
        return bad_ids();
    }
    let Some(ids) = ids.iter().map(Value::as_i64).collect::<Option<Vec<i64>>>() else {
        return bad_ids();
    };
    let since = match params.get("since_hours") {
        None => 24,
        Some(v) => match int_param(v) {
            Some(n) if n > 0 => n,
            _ => return bad_params(),
        },
    };
    let limit = match params.get("limit") {
        None | Some(Value::Null) => 50,
        Some(v) => match int_param(v) {
            Some(n) if (1..=1000).contains(&n) => n,
            _ => return bad_params(),
        },
    };
    let mut out = BTreeMap::new();
    for id in ids {
        let kills = if id > 0 {
            system_listing(&shared, id, since, usize::try_from(limit).unwrap_or(50))
        } else {
            Vec::new()
        };
        out.insert(id.to_string(), Value::Array(kills));
    }
    let systems_kills: Map<String, Value> = out.into_iter().collect();
    ok_envelope(&json!({"systems_kills": systems_kills, "timestamp": now_timestamp()}))
}

async fn cached(State(shared): Shared_, Path(id): Path<String>) -> Response<Body> {
    let Some(system) = positive(&id) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            "INVALID_SYSTEM_ID",
            "Invalid system ID format",
            &Value::Null,
        );
    };
    // Only the copies are made under the lock; building the JSON, the costly part, is not.
    let kills: Vec<Killmail> = {
        let g = shared.lock();
        g.store
            .iter()
            .rev()
            .filter(|k| system_of(k) == Some(system))
            .cloned()
            .collect()
    };
    let kills: Vec<Value> = kills.iter().map(forms::stored).collect();
    ok_envelope(&json!({"kills": kills, "timestamp": now_timestamp(), "cached": true}))
}

async fn killmail(State(shared): Shared_, Path(id): Path<String>) -> Response<Body> {
    let Some(id) = positive(&id) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            "INVALID_KILLMAIL_ID",
            "Invalid killmail ID format",
            &Value::Null,
        );
    };
    let found = {
        let g = shared.lock();
        if let Some(k) = g.store.iter().rev().find(|k| k.killmail_id.get() == id) {
            Some(forms::stored(k))
        } else if let Some(k) = g.upstream.get(&id) {
            Some(forms::natural(k))
        } else if g.kill_older.contains(&id) {
            Some(Value::from("kill_older"))
        } else {
            None
        }
    };
    match found {
        Some(data) => ok_envelope(&data),
        None => api_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Killmail not found",
            &Value::Null,
        ),
    }
}

async fn kill_count(State(shared): Shared_, Path(id): Path<String>) -> Response<Body> {
    let Some(system) = positive(&id) else {
        return api_error(
            StatusCode::BAD_REQUEST,
            "INVALID_SYSTEM_ID",
            "Invalid system ID format",
            &Value::Null,
        );
    };
    let count = if shared.behaviour().kill_count {
        kills_in(&shared, system).len()
    } else {
        0
    };
    ok_envelope(&json!({"system_id": system, "count": count, "timestamp": now_timestamp()}))
}

fn sub_error(message: &str) -> Response<Body> {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({"error": {"message": message, "details": message}}),
    )
}

/// Integer elements only, de-duplicated and sorted; `None` when one is ≤ 0.
fn normalise_ids(v: Option<&Value>) -> Option<Vec<i64>> {
    let Some(Value::Array(items)) = v else {
        return Some(Vec::new());
    };
    let mut ids: Vec<i64> = items.iter().filter_map(Value::as_i64).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.iter().any(|&i| i <= 0) {
        None
    } else {
        Some(ids)
    }
}

async fn create_subscription(
    State(shared): Shared_,
    headers: HeaderMap,
    body: Body,
) -> Response<Body> {
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let Some(mut params) = body_params(&headers, &body) else {
        return fallback_error(StatusCode::BAD_REQUEST);
    };
    let subscriber_id = match params.remove("subscriber_id") {
        None | Some(Value::Null) => return sub_error("subscriber_id is required"),
        Some(Value::String(s)) if s.is_empty() => return sub_error("subscriber_id is required"),
        Some(v) => v,
    };
    let url = match params.get("callback_url") {
        None | Some(Value::Null) => return sub_error("callback_url is required"),
        Some(Value::String(s)) if s.is_empty() => return sub_error("callback_url is required"),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return fallback_error(StatusCode::INTERNAL_SERVER_ERROR),
    };
    if !wk_types::validate::is_http_url(&url) {
        return sub_error("callback_url must be a valid HTTP/HTTPS URL");
    }
    let Some(systems) = normalise_ids(params.get("system_ids")) else {
        return sub_error("system_ids must be an array of positive integers");
    };
    let Some(characters) = normalise_ids(params.get("character_ids")) else {
        return sub_error("character_ids must be an array of positive integers");
    };
    if systems.is_empty() && characters.is_empty() {
        return sub_error("At least one system_id or character_id is required");
    }
    if systems.len() > 100 {
        return sub_error("Maximum 100 system_ids allowed per subscription");
    }
    if characters.len() > 1000 {
        return sub_error("Maximum 1000 character_ids allowed per subscription");
    }
    let id = shared.new_sub_id();
    let now = now_timestamp();
    shared.lock().subs.push(SubRecord {
        id: id.clone(),
        subscriber_id,
        kind: SubKind::Webhook,
        systems,
        characters,
        callback_url: Some(url),
        created_at: now.clone(),
        updated_at: now,
    });
    shared.changed.notify_waiters();
    json_response(
        StatusCode::CREATED,
        &json!({"data": {"subscription_id": id, "message": "Subscription created successfully"}}),
    )
}

async fn list_subscriptions(State(shared): Shared_) -> Response<Body> {
    let subs: Vec<Value> = shared.lock().subs.iter().map(SubRecord::to_json).collect();
    json_response(
        StatusCode::OK,
        &json!({"data": {"count": subs.len(), "subscriptions": subs}}),
    )
}

async fn subscription_stats(State(shared): Shared_) -> Response<Body> {
    let g = shared.lock();
    let ws = g
        .subs
        .iter()
        .filter(|s| s.kind == SubKind::Websocket)
        .count();
    let total = g.subs.len();
    let systems: std::collections::BTreeSet<i64> = g
        .subs
        .iter()
        .flat_map(|s| s.systems.iter().copied())
        .collect();
    let chars: std::collections::BTreeSet<i64> = g
        .subs
        .iter()
        .flat_map(|s| s.characters.iter().copied())
        .collect();
    let memory = 1312 + 1080 * total + 8 * (systems.len() + chars.len());
    drop(g);
    json_response(
        StatusCode::OK,
        &json!({"data": {
            "total_subscriptions": total,
            "websocket_subscriptions": ws,
            "webhook_subscriptions": total - ws,
            "sse_subscriptions": 0,
            "total_systems": systems.len(),
            "total_characters": chars.len(),
            "memory_usage": memory,
        }}),
    )
}

fn delete_by(shared: &Shared, subscriber_id: &str) -> Response<Body> {
    shared
        .lock()
        .subs
        .retain(|s| s.subscriber_id != subscriber_id);
    shared.changed.notify_waiters();
    json_response(
        StatusCode::OK,
        &json!({"data": {"message": "Successfully unsubscribed", "subscriber_id": subscriber_id}}),
    )
}

async fn delete_subscription(
    State(shared): Shared_,
    Path(subscriber_id): Path<String>,
) -> Response<Body> {
    delete_by(&shared, &subscriber_id)
}

async fn delete_stats(State(shared): Shared_) -> Response<Body> {
    delete_by(&shared, "stats")
}
