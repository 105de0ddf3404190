//! The streaming request: one `GET` per connection attempt on wk-http's pooled connections (one
//! TLS configuration, one pool and one timeout policy with every other request), the body left
//! open for reading.

use std::time::Duration;

use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::error::{BODY_EXCERPT, ConnectError, ConnectPhase};

/// Sends the `GET` and waits (at most `timeout`) for the response head. A `200` with an
/// event-stream content type gives the body to read; anything else is a [`ConnectError`] of its
/// phase.
pub(crate) async fn open(
    http: &wk_http::Client,
    path_and_query: &str,
    last_event_id: &str,
    timeout: Duration,
) -> Result<wk_http::Streaming, ConnectError> {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::ACCEPT,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(id) = HeaderValue::from_str(last_event_id)
        && !last_event_id.is_empty()
    {
        headers.insert("last-event-id", id);
    }
    let resp = http
        .get_stream(path_and_query, headers, timeout)
        .await
        .map_err(|e| classify(&e, timeout))?;
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_start()
        .to_ascii_lowercase();
    if status == StatusCode::OK && content_type.starts_with("text/event-stream") {
        return Ok(resp);
    }
    let detail = (status == StatusCode::OK)
        .then(|| format!("content type `{content_type}`, not an event stream"));
    let headers = resp.headers().clone();
    // The body only explains; a server that sends it slowly does not hold the attempt up.
    let body = resp.excerpt(BODY_EXCERPT, Duration::from_secs(2)).await;
    Err(ConnectError::refused(status, headers, &body, detail))
}

/// Sorts a failed request into its phase: connecting (DNS, TCP, TLS), a timeout, or a broken
/// answer.
fn classify(e: &wk_http::Error, timeout: Duration) -> ConnectError {
    match e {
        wk_http::Error::Timeout(_) => ConnectError::timeout(timeout),
        wk_http::Error::Transport(t) if !t.is_connect() && t.is_parse() => {
            ConnectError::classify(ConnectPhase::Protocol, e)
        }
        wk_http::Error::Transport(_) => ConnectError::classify(ConnectPhase::Connect, e),
        _ => ConnectError::classify(ConnectPhase::Protocol, e),
    }
}
