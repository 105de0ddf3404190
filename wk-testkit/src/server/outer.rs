//! The layer in front of the router: trailing-slash normalisation, request ids, expectation counts
//! and scripted answers, Accept negotiation (406), `OPTIONS` → 404 and the HTTP faults (status,
//! delay, mangled bodies).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, Response, StatusCode, header};
use tower::ServiceExt;

use super::http;
use super::hub::Shared;
use crate::expect::{Answer, Registry};

/// Which Accept rule a path follows.
enum AcceptRule {
    None,
    Json,
    JsonOrText,
}

fn accept_rule(path: &str) -> AcceptRule {
    if path == sse_path::BASIC || path == sse_path::ENHANCED {
        AcceptRule::None
    } else if path.starts_with("/api/v1/") || path == "/api/v1" || path == "/api/openapi" {
        AcceptRule::Json
    } else if matches!(
        path,
        "/ping"
            | "/health"
            | "/status"
            | "/metrics"
            | "/websocket"
            | "/websocket/status"
            | "/dashboard-debug"
            | "/test-websocket-tracking"
    ) {
        AcceptRule::JsonOrText
    } else {
        AcceptRule::None
    }
}

mod sse_path {
    pub(super) const BASIC: &str = "/api/v1/kills/stream";
    pub(super) const ENHANCED: &str = "/api/v1/kills/stream/enhanced";
}

fn accepts(req: &Request<Body>, text_ok: bool) -> bool {
    let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
    else {
        return true;
    };
    if accept.trim().is_empty() {
        return true;
    }
    accept.split(',').any(|part| {
        let media = part
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        matches!(media.as_str(), "*/*" | "application/*" | "application/json")
            || (text_ok && matches!(media.as_str(), "text/*" | "text/plain"))
    })
}

fn request_id(req: &Request<Body>, shared: &Shared) -> HeaderValue {
    if let Some(v) = req.headers().get("x-request-id")
        && (20..=200).contains(&v.len())
    {
        return v.clone();
    }
    let mut g = shared.lock();
    let id = crate::rng::base64url(&g.rng.bytes(15));
    drop(g);
    HeaderValue::from_str(&id).unwrap_or(HeaderValue::from_static("wk-testkit-request-id"))
}

/// The layer in front of the router.
pub(super) async fn outer(
    shared: Arc<Shared>,
    expectations: Arc<Registry>,
    router: Router,
    mut req: Request<Body>,
) -> Result<Response<Body>, Reset> {
    let rid = request_id(&req, &shared);
    let path = req.uri().path().to_owned();
    // Trailing slashes are ignored.
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let pq = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_owned(),
        };
        if let Ok(uri) = pq.parse() {
            *req.uri_mut() = uri;
        }
    }
    let path = req.uri().path().to_owned();
    let mut resp = if path.starts_with("/_testkit/") {
        router.oneshot(req).await.unwrap_or_else(|e| match e {})
    } else {
        let agent = req
            .headers()
            .get(header::USER_AGENT)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default();
        shared.count(|c| {
            c.http_requests += 1;
            *c.user_agents.entry(agent).or_default() += 1;
        });
        // Counted before any fault; a scripted answer replaces the server, faults included.
        if let Some(answer) = expectations.record(req.method(), &path) {
            let mut resp = scripted(&answer);
            resp.headers_mut().insert("x-request-id", rid);
            return Ok(resp);
        }
        let reset = {
            let mut g = shared.lock();
            let hit = g.faults.reset > 0;
            g.faults.reset = g.faults.reset.saturating_sub(1);
            hit
        };
        if reset {
            // A service error makes hyper drop the connection without any response.
            return Err(Reset);
        }
        faulted(&shared, router, req, &path).await
    };
    resp.headers_mut().insert("x-request-id", rid);
    Ok(resp)
}

/// A scripted answer: its status with the fallback error body or its JSON, and `Retry-After`.
fn scripted(answer: &Answer) -> Response<Body> {
    let status = answer.status_code();
    let mut resp = match answer.body() {
        Some(body) => http::json_response(status, body),
        None => http::fallback_error(status),
    };
    if let Some(secs) = answer.retry_after_secs() {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// The reset fault: the connection is closed without a response.
#[derive(Debug)]
pub(super) struct Reset;

impl std::fmt::Display for Reset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by fault")
    }
}

impl std::error::Error for Reset {}

async fn faulted(
    shared: &Arc<Shared>,
    router: Router,
    req: Request<Body>,
    path: &str,
) -> Response<Body> {
    let (delay, status) = {
        let mut g = shared.lock();
        let status = match &mut g.faults.status {
            Some((s, ra, n)) if *n > 0 => {
                *n -= 1;
                Some((*s, *ra))
            }
            _ => None,
        };
        (g.faults.delay, status)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    if let Some((status, retry_after)) = status {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = http::fallback_error(code);
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return resp;
    }
    if req.method() == Method::OPTIONS {
        return http::fallback_error(StatusCode::NOT_FOUND);
    }
    match accept_rule(path) {
        AcceptRule::Json if !accepts(&req, false) => {
            return http::fallback_error(StatusCode::NOT_ACCEPTABLE);
        }
        AcceptRule::JsonOrText if !accepts(&req, true) => {
            return http::fallback_error(StatusCode::NOT_ACCEPTABLE);
        }
        _ => {}
    }
    let resp = router.oneshot(req).await.unwrap_or_else(|e| match e {});
    mangle(shared, resp).await
}

/// Applies the truncate/garbage body faults to JSON responses.
async fn mangle(shared: &Shared, resp: Response<Body>) -> Response<Body> {
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json {
        return resp;
    }
    let mode = {
        let mut g = shared.lock();
        if g.faults.truncate > 0 {
            g.faults.truncate -= 1;
            1
        } else if g.faults.garbage > 0 {
            g.faults.garbage -= 1;
            2
        } else if g.faults.cut > 0 {
            g.faults.cut -= 1;
            3
        } else {
            0
        }
    };
    if mode == 0 {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    if mode == 3 {
        // Half the body, then an error: hyper drops the connection mid-response.
        let half = bytes.slice(..bytes.len() / 2);
        let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = vec![
            Ok(half),
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "cut by fault",
            )),
        ];
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::from_stream(futures_util::stream::iter(chunks)));
    }
    let new_body = if mode == 1 {
        bytes.slice(..bytes.len() / 2)
    } else {
        bytes::Bytes::from_static(b"{\"data\": <<garbage>> not json")
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(new_body))
}
