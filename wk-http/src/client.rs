//! The [`Client`] handle and its [`ClientBuilder`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use serde::de::DeserializeOwned;
use tower::util::BoxCloneSyncService;
use tower::{Layer, Service, ServiceExt};
use tracing::Instrument;
use wk_retry::{RetryConfig, RetryLayer};
use wk_types::http::Envelope;

use crate::BoxError;
use crate::error::{
    BuildError, DecodeError, Error, Result, StatusError, TimeoutError, TransportError,
};
use crate::request::{BaseUrl, Call};
use crate::transport::{self, PoolConfig, Timeout};

type Stack = BoxCloneSyncService<Request<Bytes>, Response<Bytes>, BoxError>;

/// A WandererKills HTTP client: cheap to clone, `Send + Sync`, one connection pool for all clones.
///
/// ```no_run
/// # async fn run() -> Result<(), wk_http::Error> {
/// use wk_types::SystemId;
/// let client = wk_http::Client::builder().base_url("http://127.0.0.1:4004").build()?;
/// let page = client.system_kills(SystemId::new(30000142)).since_hours(24).limit(50).send().await?;
/// println!("{} kills", page.kills.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    base: BaseUrl,
    service: Stack,
    timeout: Option<Duration>,
    user_agent: http::HeaderValue,
    /// `None` for a client over a custom service ([`Client::from_service`]).
    streamer: Option<crate::stream::Streamer>,
    /// The rustls config its connections use (`None` over a custom service).
    #[cfg(feature = "rustls")]
    rustls: Option<Arc<rustls::ClientConfig>>,
    #[cfg(feature = "cache")]
    cache: Option<wk_cache::Cache>,
}

/// The `User-Agent` header for an application token (see [`ClientBuilder::application`]).
fn user_agent(application: Option<&str>) -> http::HeaderValue {
    http::HeaderValue::from_str(&wk_types::user_agent(application))
        .unwrap_or(http::HeaderValue::from_static(wk_types::USER_AGENT))
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &wk_types::redact::Url(self.inner.base.as_str()))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A builder with the defaults: retries, pooled keep-alive connections, per-endpoint timeouts.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client with default settings for `base_url` (e.g. `http://127.0.0.1:4004`).
    ///
    /// # Errors
    /// [`Error::Build`] when `base_url` is not an `http`/`https` URL with a host.
    pub fn new(base_url: &str) -> Result<Self> {
        Self::builder().base_url(base_url).build()
    }

    /// A client over a custom tower stack that takes `Request<Bytes>` and returns the whole response
    /// body. Each request carries its per-attempt timeout and [`wk_retry::RetryMode`] as extensions.
    ///
    /// # Errors
    /// [`Error::Build`] when `base_url` is not an `http`/`https` URL with a host.
    pub fn from_service<S>(base_url: &str, service: S) -> Result<Self>
    where
        S: Service<Request<Bytes>, Response = Response<Bytes>, Error = BoxError>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
    {
        Ok(Self {
            inner: Arc::new(Inner {
                base: BaseUrl::parse(base_url).map_err(Error::Build)?,
                service: BoxCloneSyncService::new(service),
                timeout: None,
                user_agent: user_agent(None),
                streamer: None,
                #[cfg(feature = "rustls")]
                rustls: None,
                #[cfg(feature = "cache")]
                cache: None,
            }),
        })
    }

    /// The base URL requests go to.
    #[must_use]
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// The read-through cache, when one was configured with [`ClientBuilder::cache`].
    #[cfg(feature = "cache")]
    #[must_use]
    pub fn cache(&self) -> Option<&wk_cache::Cache> {
        self.inner.cache.as_ref()
    }

    /// The rustls configuration this client's connections use (roots, certificates, protocol
    /// versions), so another transport to the same server can share it: the WebSocket client
    /// does. `None` for a client made with [`Client::from_service`].
    #[cfg(feature = "rustls")]
    #[must_use]
    pub fn rustls_config(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.inner.rustls.clone()
    }

    /// The streaming side of the pool, when the client has one.
    pub(crate) fn streamer(&self) -> Option<&crate::stream::Streamer> {
        self.inner.streamer.as_ref()
    }

    /// The `User-Agent` every request carries.
    pub(crate) fn user_agent(&self) -> &http::HeaderValue {
        &self.inner.user_agent
    }

    /// Sends a call and returns the raw response, whatever its status.
    pub(crate) async fn execute(&self, call: &Call) -> Result<Response<Bytes>> {
        let mut req = call.build(&self.inner.base).map_err(Error::Build)?;
        req.headers_mut()
            .insert(http::header::USER_AGENT, self.inner.user_agent.clone());
        if let Some(t) = self.inner.timeout
            && !call.timeout_overridden
        {
            req.extensions_mut()
                .insert(crate::request::AttemptTimeout(t));
        }
        let span = tracing::debug_span!(
            "wk_http.request",
            otel.name = call.op,
            http.request.method = %call.method,
            url.full = %wk_types::redact::Url(&req.uri().to_string()),
            http.response.status_code = tracing::field::Empty,
        );
        let mut service = self.inner.service.clone();
        async move {
            let ready = service.ready().await.map_err(map_error)?;
            let resp = ready.call(req).await.map_err(map_error)?;
            tracing::Span::current().record("http.response.status_code", resp.status().as_u16());
            Ok(resp)
        }
        .instrument(span)
        .await
    }

    /// Sends a call and decodes the `data` of a success envelope.
    pub(crate) async fn data<T: DeserializeOwned>(&self, call: &Call) -> Result<T> {
        let resp = self.execute(call).await?;
        let resp = success(resp)?;
        decode::<Envelope<T>>(&resp).map(|e| e.data)
    }
}

/// Passes 2xx responses through; turns every other status into [`Error::Status`].
pub(crate) fn success(resp: Response<Bytes>) -> Result<Response<Bytes>> {
    if resp.status().is_success() {
        return Ok(resp);
    }
    let retry_after = wk_retry::retry_after(resp.headers(), std::time::SystemTime::now());
    let status = resp.status();
    Err(Error::Status(StatusError::new(
        status,
        resp.into_body(),
        retry_after,
    )))
}

/// Decodes a response body, naming the JSON path of the first bad value on failure.
pub(crate) fn decode<T: DeserializeOwned>(resp: &Response<Bytes>) -> Result<T> {
    wk_types::decode::from_slice(resp.body())
        .map_err(|e| Error::Decode(DecodeError::json(resp.status(), e)))
}

/// Maps an error from the stack to its phase.
fn map_error(e: BoxError) -> Error {
    let e = match e.downcast::<TimeoutError>() {
        Ok(t) => return Error::Timeout(*t),
        Err(e) => e,
    };
    match e.downcast::<DecodeError>() {
        Ok(d) => Error::Decode(*d),
        Err(e) => Error::Transport(TransportError::new(e)),
    }
}

/// A custom rustls config, when the builder was given one.
#[cfg(feature = "rustls")]
type TlsConfig = Option<Arc<rustls::ClientConfig>>;
#[cfg(not(feature = "rustls"))]
type TlsConfig = NoTlsConfig;

/// Without rustls there is no TLS config to set.
#[cfg(not(feature = "rustls"))]
#[derive(Clone, Debug, Default)]
struct NoTlsConfig;

/// Builds a [`Client`].
#[derive(Clone)]
#[must_use]
pub struct ClientBuilder {
    base_url: Option<String>,
    retry: RetryConfig,
    concurrency: usize,
    default_timeout: Duration,
    timeout: Option<Duration>,
    pool: PoolConfig,
    extra_roots: Vec<Vec<u8>>,
    tls: TlsConfig,
    application: Option<String>,
    #[cfg(feature = "cache")]
    cache: Option<wk_cache::Cache>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry credentials: shown redacted.
        f.debug_struct("ClientBuilder")
            .field(
                "base_url",
                &self.base_url.as_deref().map(wk_types::redact::Url),
            )
            .field("retry", &self.retry)
            .field("concurrency", &self.concurrency)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: None,
            retry: RetryConfig::default(),
            concurrency: 64,
            default_timeout: crate::request::LOCAL_TIMEOUT,
            timeout: None,
            extra_roots: Vec::new(),
            tls: TlsConfig::default(),
            application: None,
            #[cfg(feature = "cache")]
            cache: None,
            pool: PoolConfig {
                idle_timeout: Duration::from_secs(30),
                max_idle_per_host: 32,
                connect_timeout: Duration::from_secs(10),
                max_body: 64 * 1024 * 1024,
            },
        }
    }
}

impl ClientBuilder {
    /// The server's base URL, e.g. `http://127.0.0.1:4004` (a path prefix is kept).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Retry settings (backoff, attempts, budget). See [`wk_retry::RetryConfig`].
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// Disables retries.
    pub fn no_retry(mut self) -> Self {
        self.retry = RetryConfig::default().max_retries(0);
        self
    }

    /// One per-attempt timeout for every endpoint, in place of the per-endpoint defaults
    /// ([`crate::UPSTREAM_TIMEOUT`], [`crate::LOCAL_TIMEOUT`], [`crate::HEALTH_TIMEOUT`]). A
    /// request builder's own `.timeout(..)` still wins.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    /// Trusts this DER-encoded certificate in addition to the webpki roots (a private CA, or
    /// wk-testkit's self-signed certificate). Used with the `rustls` feature.
    pub fn add_root_certificate(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(der.into());
        self
    }

    /// Names your application in every request's `User-Agent`: `<token> wk/<version>` (default
    /// `wk/<version>`). Upstream feeds ask clients to identify themselves; a token such as
    /// `my-killboard/2.0 (ops@example.org)` lets the server's operators reach you. A token that
    /// is not a valid header value is ignored.
    pub fn application(mut self, token: impl Into<String>) -> Self {
        self.application = Some(token.into());
        self
    }

    /// A custom rustls configuration (client certificates, a private CA only, …) in place of the
    /// default (webpki roots plus [`add_root_certificate`](Self::add_root_certificate)), for
    /// every request and stream.
    #[cfg(feature = "rustls")]
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// The most requests in flight at once; further calls wait for a slot (default 64).
    pub fn concurrency_limit(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// How long an idle pooled connection is kept (default 30 s, below common server keep-alives).
    pub fn pool_idle_timeout(mut self, d: Duration) -> Self {
        self.pool.idle_timeout = d;
        self
    }

    /// The most idle connections kept per host (default 32).
    pub fn pool_max_idle_per_host(mut self, n: usize) -> Self {
        self.pool.max_idle_per_host = n;
        self
    }

    /// The TCP connect timeout (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.pool.connect_timeout = d;
        self
    }

    /// The largest response body accepted (default 64 MiB); larger ones fail with [`Error::Decode`].
    pub fn max_response_body(mut self, bytes: usize) -> Self {
        self.pool.max_body = bytes;
        self
    }

    /// A read-through cache: [`Client::killmail`] and [`Client::cached_kills`] answer from it while
    /// fresh, and fill it on a miss (concurrent misses for one key make one request). Each request
    /// can bypass or refresh it with `.lookup(..)`.
    #[cfg(feature = "cache")]
    pub fn cache(mut self, cache: wk_cache::Cache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Builds the client. Needs a tokio runtime when requests are sent, not here.
    ///
    /// # Errors
    /// [`Error::Build`] when the base URL is missing or invalid, or TLS cannot be set up.
    pub fn build(self) -> Result<Client> {
        let Some(url) = self.base_url.as_deref() else {
            return Err(Error::Build(BuildError::base_url("")));
        };
        let base = BaseUrl::parse(url).map_err(Error::Build)?;
        let connector = transport::http_connector(&self.pool);
        let retry = self.retry.clone().retry_error(|e| !e.is::<DecodeError>());
        // The one rustls config of this client, resolved here so it can be shared (see
        // `Client::rustls_config`).
        #[cfg(feature = "rustls")]
        let tls = match self.tls.clone() {
            Some(config) => config,
            None => Arc::new(default_tls(&self.extra_roots)?),
        };
        #[cfg(not(feature = "rustls"))]
        let tls = self.tls.clone();
        let (service, streamer) = stack(
            connector,
            &self.pool,
            self.default_timeout,
            retry,
            self.concurrency,
            tls.clone(),
        );
        Ok(Client {
            inner: Arc::new(Inner {
                base,
                service,
                timeout: self.timeout,
                user_agent: user_agent(self.application.as_deref()),
                streamer: Some(streamer),
                #[cfg(feature = "rustls")]
                rustls: Some(tls),
                #[cfg(feature = "cache")]
                cache: self.cache,
            }),
        })
    }
}

/// The whole-body stack (timeouts, retries, concurrency limit) and the streaming side, on one
/// hyper client and so one pool.
fn layered<C>(
    connector: C,
    pool: &PoolConfig,
    timeout: Duration,
    retry: RetryConfig,
    limit: usize,
) -> (Stack, crate::stream::Streamer)
where
    C: hyper_util::client::legacy::connect::Connect + Clone + Send + Sync + 'static,
{
    let collect = transport::collect(connector, pool);
    let streamer = collect.streamer();
    let svc = Timeout::new(collect, timeout);
    let svc = RetryLayer::new(retry).layer(svc);
    let svc = tower::limit::ConcurrencyLimitLayer::new(limit).layer(svc);
    (BoxCloneSyncService::new(svc), streamer)
}

#[cfg(feature = "rustls")]
fn stack(
    http: hyper_util::client::legacy::connect::HttpConnector,
    pool: &PoolConfig,
    timeout: Duration,
    retry: RetryConfig,
    limit: usize,
    tls: Arc<rustls::ClientConfig>,
) -> (Stack, crate::stream::Streamer) {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(Arc::unwrap_or_clone(tls))
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    layered(https, pool, timeout, retry, limit)
}

/// The default rustls config: the webpki roots and `extra_roots`, the ring provider.
#[cfg(feature = "rustls")]
fn default_tls(extra_roots: &[Vec<u8>]) -> Result<rustls::ClientConfig> {
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in extra_roots {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| Error::Build(BuildError::tls(e)))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Build(BuildError::tls(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tls)
}

#[cfg(all(feature = "native-tls", not(feature = "rustls")))]
fn stack(
    http: hyper_util::client::legacy::connect::HttpConnector,
    pool: &PoolConfig,
    timeout: Duration,
    retry: RetryConfig,
    limit: usize,
    _tls: TlsConfig,
) -> (Stack, crate::stream::Streamer) {
    let https = hyper_tls::HttpsConnector::new_with_connector(http);
    layered(https, pool, timeout, retry, limit)
}

#[cfg(not(any(feature = "rustls", feature = "native-tls")))]
fn stack(
    http: hyper_util::client::legacy::connect::HttpConnector,
    pool: &PoolConfig,
    timeout: Duration,
    retry: RetryConfig,
    limit: usize,
    _tls: TlsConfig,
) -> (Stack, crate::stream::Streamer) {
    layered(http, pool, timeout, retry, limit)
}
