//! The bottom of the stack: hyper-util's pooled client, whole-body collection, per-attempt timeouts.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use tower::Service;

use crate::BoxError;
use crate::error::{DecodeError, TimeoutError};
use crate::request::AttemptTimeout;

/// Settings for the connection pool.
#[derive(Clone, Debug)]
pub(crate) struct PoolConfig {
    pub(crate) idle_timeout: Duration,
    pub(crate) max_idle_per_host: usize,
    pub(crate) connect_timeout: Duration,
    pub(crate) max_body: usize,
}

/// Sends a request and collects the whole response body, so a connection that breaks mid-body is
/// an error of this attempt (and can be retried), and an oversized body is refused.
#[derive(Clone, Debug)]
pub(crate) struct Collect<C> {
    client: HyperClient<C, Full<Bytes>>,
    max_body: usize,
}

impl<C> Service<Request<Bytes>> for Collect<C>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    type Response = Response<Bytes>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Bytes>, BoxError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<Bytes>) -> Self::Future {
        let client = self.client.clone();
        let max_body = self.max_body;
        Box::pin(async move {
            let resp = client.request(req.map(Full::new)).await?;
            let (parts, body) = resp.into_parts();
            let collected = Limited::new(body, max_body).collect().await.map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    Box::new(DecodeError::too_large(max_body)) as BoxError
                } else {
                    e
                }
            })?;
            Ok(Response::from_parts(parts, collected.to_bytes()))
        })
    }
}

impl<C> Collect<C>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    /// The same hyper client (and so the same pool), for responses read as they arrive.
    pub(crate) fn streamer(&self) -> crate::stream::Streamer {
        let client = self.client.clone();
        tower::util::BoxCloneSyncService::new(tower::service_fn(move |req| {
            let client = client.clone();
            async move { client.request(req).await.map_err(BoxError::from) }
        }))
    }
}

/// Bounds each attempt by the [`AttemptTimeout`] the request carries (or a default).
#[derive(Clone, Debug)]
pub(crate) struct Timeout<S> {
    inner: S,
    default: Duration,
}

impl<S> Timeout<S> {
    pub(crate) fn new(inner: S, default: Duration) -> Self {
        Self { inner, default }
    }
}

impl<S> Service<Request<Bytes>> for Timeout<S>
where
    S: Service<Request<Bytes>, Error = BoxError>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Bytes>) -> Self::Future {
        let after = req
            .extensions()
            .get::<AttemptTimeout>()
            .map_or(self.default, |t| t.0);
        let fut = self.inner.call(req);
        Box::pin(async move {
            match tokio::time::timeout(after, fut).await {
                Ok(result) => result,
                Err(_) => Err(Box::new(TimeoutError::new(after)) as BoxError),
            }
        })
    }
}

/// Builds the pooled client over `connector`.
pub(crate) fn collect<C>(connector: C, pool: &PoolConfig) -> Collect<C>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let client = HyperClient::builder(TokioExecutor::new())
        .pool_idle_timeout(pool.idle_timeout)
        .pool_max_idle_per_host(pool.max_idle_per_host)
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .build(connector);
    Collect {
        client,
        max_body: pool.max_body,
    }
}

/// A plain TCP connector with the pool's connect timeout; `enforce_http` is off so TLS wrappers work.
pub(crate) fn http_connector(pool: &PoolConfig) -> HttpConnector {
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(pool.connect_timeout));
    http.set_nodelay(true);
    http.enforce_http(false);
    http
}
