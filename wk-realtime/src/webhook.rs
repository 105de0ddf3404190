//! The webhook receiver: a tower [`Service`] that accepts the server's webhook POSTs
//! (PROTOCOL.md §9.3) and yields typed [`KillEvent`]s on a [`WebhookStream`], the same events the
//! WebSocket and SSE clients yield (and, with the `hub` feature, into a `hub::Hub`).
//!
//! The service answers `204` once a body is accepted; `405` for a method other than POST, `401`
//! for a missing or wrong shared secret (when one is configured; compared in constant time), `415`
//! for a content type other than `application/json`, `413` for a body over the size limit, `400`
//! for a body [`wk_types::webhook::parse`] refuses, and `503` when nobody consumes the events.
//! `killmail_update` bodies become one [`KillEvent::Kill`] per kill ([`Origin::Live`],
//! de-duplicated by id), `killmail_count_update` bodies a [`KillEvent::KillCount`].
//!
//! The real server never POSTs at the commit described (§9.2); wk-testkit's designed profile does.
//!
//! Mount it anywhere a tower service fits: `axum::Router::route_service("/hooks/wk", service)`, or
//! bare hyper through a `service_fn` that calls it:
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! use futures_util::StreamExt;
//! use http::HeaderName;
//! use wk_realtime::webhook::{self, Config};
//!
//! let config = Config::default()
//!     .max_body(1 << 20)
//!     .secret(HeaderName::from_static("x-wk-secret"), "s3cret");
//! let (service, mut events) = webhook::receiver(config);
//! // ... serve `service` on an HTTP listener ...
//! # drop(service);
//! while let Some(Ok(event)) = events.next().await {
//!     println!("{event:?}");
//! }
//! # Ok(()) }
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use http::{HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use tokio::sync::mpsc;
use tower::Service;
use wk_types::phoenix::KillCountUpdate;
use wk_types::webhook::WebhookBody;

use crate::dedup::Dedup;
use crate::error::Result;
use crate::event::{Kill, KillEvent, Origin};

/// A shared secret. Its bytes never reach `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// A secret from its bytes.
    #[must_use]
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self(secret.into())
    }

    /// Whether `candidate` equals the secret, in time independent of where they differ.
    #[must_use]
    pub fn matches(&self, candidate: &[u8]) -> bool {
        constant_time_eq(&self.0, candidate)
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

/// Equal length and equal bytes, looking at every byte whatever the first difference.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Settings of the receiver.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    max_body: usize,
    secret: Option<(HeaderName, Secret)>,
    queue_capacity: usize,
    dedup_capacity: usize,
    #[cfg(feature = "hub")]
    hub: Option<crate::hub::Hub>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_body: 8_000_000,
            secret: None,
            queue_capacity: 1024,
            dedup_capacity: 65_536,
            #[cfg(feature = "hub")]
            hub: None,
        }
    }
}

impl Config {
    /// The largest body accepted, in bytes (default 8,000,000, the server's own request limit).
    #[must_use]
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// Requires `header` to carry `secret` (the server sends none; a proxy or a fixed server may).
    #[must_use]
    pub fn secret(mut self, header: HeaderName, secret: impl Into<Secret>) -> Self {
        self.secret = Some((header, secret.into()));
        self
    }

    /// Events buffered on the stream before it lags (default 1024).
    #[must_use]
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.queue_capacity = n.max(1);
        self
    }

    /// Killmail ids remembered for de-duplication (default 65,536).
    #[must_use]
    pub fn dedup_capacity(mut self, n: usize) -> Self {
        self.dedup_capacity = n;
        self
    }

    /// Also publishes every event into `hub`.
    #[cfg(feature = "hub")]
    #[must_use]
    pub fn hub(mut self, hub: crate::hub::Hub) -> Self {
        self.hub = Some(hub);
        self
    }
}

/// A receiver: the service to mount and the stream its events arrive on.
#[must_use]
pub fn receiver(config: Config) -> (ReceiverService, WebhookStream) {
    let (tx, rx) = mpsc::channel(config.queue_capacity);
    let lagged = Arc::new(AtomicU64::new(0));
    let service = ReceiverService {
        inner: Arc::new(Inner {
            dedup: Mutex::new(Dedup::new(config.dedup_capacity)),
            config,
            tx,
            lagged: lagged.clone(),
        }),
    };
    (service, WebhookStream { rx, lagged })
}

struct Inner {
    config: Config,
    tx: mpsc::Sender<Result<KillEvent>>,
    lagged: Arc<AtomicU64>,
    dedup: Mutex<Dedup>,
}

/// The tower service receiving webhook POSTs. Cheap to clone; every clone feeds the same stream.
#[derive(Clone)]
pub struct ReceiverService {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ReceiverService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverService")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<B> Service<Request<B>> for ReceiverService
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move { Ok(inner.handle(req).await) })
    }
}

fn reply(status: StatusCode, message: &'static str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from_static(message.as_bytes())));
    *resp.status_mut() = status;
    if !message.is_empty() {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
    }
    resp
}

fn is_json(value: Option<&HeaderValue>) -> bool {
    let Some(value) = value.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or("").trim();
    essence.eq_ignore_ascii_case("application/json")
}

impl Inner {
    async fn handle<B>(&self, req: Request<B>) -> Response<Full<Bytes>>
    where
        B: http_body::Body,
        B::Error: Into<BoxError>,
    {
        if req.method() != Method::POST {
            let mut resp = reply(StatusCode::METHOD_NOT_ALLOWED, "use POST");
            resp.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            return resp;
        }
        if let Some((name, secret)) = &self.config.secret {
            let given = req
                .headers()
                .get(name)
                .map_or(&[][..], HeaderValue::as_bytes);
            if !secret.matches(given) {
                return reply(StatusCode::UNAUTHORIZED, "missing or wrong secret");
            }
        }
        if !is_json(req.headers().get(header::CONTENT_TYPE)) {
            return reply(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "content type must be application/json",
            );
        }
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.config.max_body as u64) {
            return reply(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
        }
        let body = match Limited::new(req.into_body(), self.config.max_body)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<LengthLimitError>() => {
                return reply(StatusCode::PAYLOAD_TOO_LARGE, "body too large");
            }
            Err(_) => return reply(StatusCode::BAD_REQUEST, "body could not be read"),
        };
        let parsed = match wk_types::webhook::parse(&body) {
            Ok(parsed) => parsed,
            Err(e) => {
                tracing::debug!(error = %e, "webhook body refused");
                return reply(StatusCode::BAD_REQUEST, "not a webhook body");
            }
        };
        if !self.has_consumer() {
            return reply(StatusCode::SERVICE_UNAVAILABLE, "no consumer");
        }
        self.deliver(parsed);
        reply(StatusCode::NO_CONTENT, "")
    }

    fn has_consumer(&self) -> bool {
        #[cfg(feature = "hub")]
        if self.config.hub.is_some() {
            return true;
        }
        !self.tx.is_closed()
    }

    fn deliver(&self, body: WebhookBody) {
        match body {
            WebhookBody::KillmailUpdate(update) => {
                for km in update.kills {
                    let fresh = self
                        .dedup
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(km.killmail_id);
                    if fresh {
                        self.emit(KillEvent::Kill(Kill::new(Arc::new(km), Origin::Live)));
                    }
                }
            }
            WebhookBody::KillmailCountUpdate(count) => {
                self.emit(KillEvent::KillCount(KillCountUpdate::new(
                    count.system_id,
                    count.count,
                    count.timestamp,
                )));
            }
            other => tracing::debug!(?other, "webhook body of an unknown kind"),
        }
    }

    fn emit(&self, event: KillEvent) {
        #[cfg(feature = "hub")]
        if let Some(hub) = &self.config.hub {
            hub.publish(&event);
        }
        let _ = crate::queue::offer(&self.tx, &self.lagged, Ok(event));
    }
}

/// The receiver's events, the same [`KillEvent`]s every transport yields (never an `Err`; the
/// `Result` keeps the item type of the other streams, so `Hub::attach`
/// and user code take any of them). Ends when every clone of the service is dropped.
#[derive(Debug)]
pub struct WebhookStream {
    rx: mpsc::Receiver<Result<KillEvent>>,
    lagged: Arc<AtomicU64>,
}

impl Stream for WebhookStream {
    type Item = Result<KillEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        crate::queue::poll_next(&mut this.rx, &this.lagged, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole_and_never_print() {
        let s = Secret::from("abc");
        assert!(s.matches(b"abc"));
        assert!(!s.matches(b"abd"));
        assert!(!s.matches(b"ab"));
        assert!(!s.matches(b""));
        let config = Config::default().secret(HeaderName::from_static("x-s"), "hunter2");
        assert!(!format!("{config:?}").contains("hunter2"));
    }

    #[test]
    fn json_content_types() {
        let v = |s: &'static str| HeaderValue::from_static(s);
        assert!(is_json(Some(&v("application/json"))));
        assert!(is_json(Some(&v("Application/JSON; charset=utf-8"))));
        assert!(!is_json(Some(&v("text/plain"))));
        assert!(!is_json(Some(&v("application/jsonx"))));
        assert!(!is_json(None));
    }
}
