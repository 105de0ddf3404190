//! Webhook delivery as §9.3 describes the sender: one plain-HTTP POST, 10 s timeout, no retries.

use std::time::Duration;

use axum::http::{Request, header};
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// POSTs `body` to `url`. `true` when the receiver answered 2xx within `timeout`.
///
/// Only `http://` URLs are delivered (the testkit has no TLS); others count as failures.
pub(crate) async fn deliver(url: &str, body: String, timeout: Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, post(url, body)).await,
        Ok(Ok(true))
    )
}

async fn post(url: &str, body: String) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Ok(false);
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let path = if path.starts_with('?') {
        format!("/{path}")
    } else {
        path.to_owned()
    };
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let target = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let stream =
        TcpStream::connect(target.trim_start_matches('[').replace("]:", ":").as_str()).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let req = Request::post(path)
        .header(header::HOST, authority)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "WandererKills/1.0")
        .header(header::ACCEPT, "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let resp = sender.send_request(req).await?;
    Ok(resp.status().is_success())
}
