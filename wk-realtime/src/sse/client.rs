//! The user's handles: [`Client`], its [`ClientBuilder`], and [`Subscription`] streams.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use http::Uri;
use tokio::sync::{mpsc, oneshot, watch};
use wk_retry::BackoffConfig;
use wk_types::sse::{BASIC_PATH, ENHANCED_PATH, SseFilter};
use wk_types::validate::{MAX_SSE_IDS, ValidationError};

use super::config::{Config, ConnectionState, Shared, StreamKind};
use super::driver::Driver;
use crate::error::{Error, Result};
use crate::event::KillEvent;
use crate::filter::Filter;

/// An SSE client for one server: settings, and the HTTP client its streams (and gap recovery)
/// go through. Each [`Client::subscribe`] opens its own stream (SSE carries one filter per request) with
/// its own background task. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Client {
    shared: Arc<Shared>,
}

impl Client {
    /// A builder for `base_url` (`http://host:4004` or `https://…`, optionally with a path prefix).
    pub fn builder(base_url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            base: base_url.into(),
            config: Config::default(),
        }
    }

    /// A client with the defaults.
    ///
    /// # Errors
    /// [`Error::Url`] when `base_url` is not an `http`/`https` URL.
    pub fn new(base_url: impl Into<String>) -> Result<Self> {
        Self::builder(base_url).build()
    }

    /// Opens the basic stream for `filter`: the server is asked for what it can filter itself
    /// (`system_ids`), the client applies the rest, and each kill arrives once. Resolves when the
    /// server has answered the first request.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a bad filter (nothing is sent; an empty non-[`Filter::everything`]
    /// filter is [`ValidationError::NoIds`]); [`Error::Connect`] when the first request fails or is
    /// answered with anything but an event stream ([`crate::ConnectError`] says the phase, and
    /// the status, headers and body of a refusal). A first `503` or `429` is not an error: the
    /// stream retries in the background. Later, a refusal no retry can fix (see
    /// [`ClientBuilder::retry_refused`]) is the stream's last item.
    ///
    /// # Cancel safety
    /// Dropping the future closes the stream.
    pub async fn subscribe(&self, filter: Filter) -> Result<Subscription> {
        self.open(StreamKind::Basic, filter).await
    }

    /// Opens the enhanced stream for `filter` with `preload_days` of history (`batch` events, then
    /// `transition`, then live kills). The real server ends this stream right away and may answer
    /// `503` (PROTOCOL.md §8.3.2); the stream then keeps retrying with growing delays.
    ///
    /// # Errors
    /// As [`Client::subscribe`]; also [`Error::Invalid`] for more than 100 systems or characters
    /// (the enhanced stream filters on the server).
    ///
    /// # Cancel safety
    /// Dropping the future closes the stream.
    pub async fn subscribe_enhanced(
        &self,
        filter: Filter,
        preload_days: u32,
    ) -> Result<Subscription> {
        self.open(StreamKind::Enhanced { preload_days }, filter)
            .await
    }

    /// Opens a stream of `kind`.
    ///
    /// # Errors
    /// As [`Client::subscribe`] and [`Client::subscribe_enhanced`].
    ///
    /// # Cancel safety
    /// Dropping the future closes the stream.
    pub async fn open(&self, kind: StreamKind, filter: Filter) -> Result<Subscription> {
        if !filter.is_everything()
            && filter.system_ids().len() == 0
            && filter.character_ids().len() == 0
        {
            return Err(Error::Invalid(ValidationError::NoIds));
        }
        filter.validate()?;
        let path = self.path(kind, &filter)?;
        let (events, rx) = mpsc::channel(self.shared.config.queue_capacity);
        let lagged = Arc::new(AtomicU64::new(0));
        let (state_tx, state) = watch::channel(ConnectionState::Connecting { attempt: 1 });
        let (ready_tx, ready) = oneshot::channel();
        let driver = Driver::new(
            self.shared.clone(),
            kind,
            filter,
            path,
            events,
            lagged.clone(),
            state_tx,
        );
        tokio::spawn(driver.run(ready_tx));
        let subscription = Subscription {
            events: rx,
            lagged,
            state,
            kind,
        };
        ready.await.map_err(|_| Error::Closed)??;
        Ok(subscription)
    }

    /// The stream's path and query, checked to make a URL with the base.
    fn path(&self, kind: StreamKind, filter: &Filter) -> Result<String> {
        let (path, query) = match kind {
            StreamKind::Basic => (BASIC_PATH, basic_query(filter)),
            StreamKind::Enhanced { preload_days } => {
                (ENHANCED_PATH, enhanced_query(filter, preload_days))
            }
        };
        let query = query.to_query()?;
        let mut path = path.to_owned();
        if !query.is_empty() {
            path.push('?');
            path.push_str(&query);
        }
        let url = format!("{}{path}", self.shared.base);
        match url.parse::<Uri>() {
            Ok(_) => Ok(path),
            Err(_) => Err(Error::Url(wk_types::redact::url(&url))),
        }
    }
}

/// What the basic stream's server can filter: only `system_ids` (PROTOCOL.md §8.2). With characters
/// in the filter, or more ids than the server takes, the client asks for everything and filters.
fn basic_query(filter: &Filter) -> SseFilter {
    let mut query = SseFilter::default();
    if !filter.is_everything() {
        let systems = filter.system_ids();
        let characters = filter.character_ids();
        if characters.len() == 0 && systems.len() <= MAX_SSE_IDS {
            query = query.systems(systems);
        } else if systems.len() == 0 && characters.len() <= MAX_SSE_IDS {
            // Ignored by the real server (it sends every kill); the designed one applies it.
            query = query.characters(characters);
        }
    }
    if let Some(min) = filter.min_value_isk() {
        query = query.min_value(min);
    }
    query
}

/// The enhanced stream filters on the server (as designed); the client filters again.
fn enhanced_query(filter: &Filter, preload_days: u32) -> SseFilter {
    let mut query = SseFilter::default();
    if !filter.is_everything() {
        query = query
            .systems(filter.system_ids())
            .characters(filter.character_ids());
    }
    if let Some(min) = filter.min_value_isk() {
        query = query.min_value(min);
    }
    if preload_days > 0 {
        query = query.preload_days(preload_days);
    }
    query
}

/// Builds a [`Client`].
#[must_use]
pub struct ClientBuilder {
    base: String,
    config: Config,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry credentials: shown redacted.
        f.debug_struct("ClientBuilder")
            .field("base", &wk_types::redact::Url(&self.base))
            .field("config", &self.config)
            .finish()
    }
}

impl ClientBuilder {
    /// The reconnect backoff (default: 1 s base, ×2, 30 s cap, 100 ms floor, full jitter). The
    /// server's `retry:` and `Retry-After` are floors on top of it.
    pub fn reconnect_backoff(mut self, backoff: BackoffConfig) -> Self {
        self.config.reconnect = backoff;
        self
    }

    /// How long a stream must stay up before the backoff resets (default 30 s). A stream that ends
    /// sooner (the enhanced stream's empty body) counts as a failed attempt.
    pub fn stable_after(mut self, d: Duration) -> Self {
        self.config.stable_after = d;
        self
    }

    /// How long to wait for the TCP connection and the response head (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.config.connect_timeout = d;
        self
    }

    /// What a refusal that no retry can fix does once the client is running: a `4xx` other than
    /// `408`/`429` on the SSE request, or a rejected TLS certificate. By default (`None`) the
    /// stream ends with that [`Error::Connect`]; `Some(delay)` keeps retrying, at most once per
    /// `delay`, and logs each refusal at `error` level. The first attempt's failure is always
    /// `connect()`'s answer.
    pub fn retry_refused(mut self, delay: Option<Duration>) -> Self {
        self.config.retry_refused = delay;
        self
    }

    /// Events buffered per stream before it lags (default 1024).
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.config.queue_capacity = n.max(1);
        self
    }

    /// Killmail ids remembered for de-duplication (default 65,536).
    pub fn dedup_capacity(mut self, n: usize) -> Self {
        self.config.dedup_capacity = n;
        self
    }

    /// Whether to fetch `/kills/cached` for the filter's systems after a reconnect (default on).
    pub fn gap_recovery(mut self, on: bool) -> Self {
        self.config.gap_recovery = on;
        self
    }

    /// How far before the last kill seen gap recovery looks (default 65 min).
    pub fn recovery_margin(mut self, d: Duration) -> Self {
        self.config.recovery_margin = d;
        self
    }

    /// Where gap recovery gets the kills missed while the stream was away: any
    /// [`Backfill`](wk_types::Backfill) (default: the HTTP client the streams go through).
    pub fn backfill(mut self, backfill: impl wk_types::Backfill) -> Self {
        self.config.backfill = Some(Arc::new(backfill));
        self
    }

    /// The HTTP client the streams go through (its pool, TLS settings and `User-Agent`), and gap
    /// recovery with it unless [`backfill`](Self::backfill) says otherwise. Its base URL must be
    /// this client's. Default: one built from this builder's settings.
    pub fn http_client(mut self, http: wk_http::Client) -> Self {
        self.config.http = Some(http);
        self
    }

    /// Trusts this DER-encoded certificate for `https://` in addition to the webpki roots (a
    /// private CA, or wk-testkit's self-signed certificate); the default gap-recovery HTTP client
    /// trusts it too.
    pub fn add_root_certificate(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.config.extra_roots.push(der.into());
        self
    }

    /// A custom rustls configuration for `https://` (e.g. client certificates); it replaces the
    /// default roots and [`ClientBuilder::add_root_certificate`].
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.config.tls = Some(config);
        self
    }

    /// The largest event accepted, all its lines counted (default 16 MiB). A larger one is
    /// dropped and reported as an [`Error::Connect`] item with
    /// [`ParseError::EventTooLarge`](super::parser::ParseError::EventTooLarge) in its `source()`
    /// chain; the stream goes on.
    pub fn max_event_size(mut self, bytes: usize) -> Self {
        self.config.max_event_size = bytes;
        self
    }

    /// The basic stream's keep-alive interval (default 10 s, the server's `: ping`); a basic stream
    /// silent for twice this is replaced.
    pub fn ping_interval(mut self, d: Duration) -> Self {
        self.config.ping_interval = d;
        self
    }

    /// The enhanced stream's heartbeat interval (default 30 s); an enhanced stream silent for
    /// twice this is replaced.
    pub fn heartbeat_interval(mut self, d: Duration) -> Self {
        self.config.heartbeat_interval = d;
        self
    }

    /// Names your application in the `User-Agent` of each stream request: `<token> wk/<version>`
    /// (default: `wk/<version>`). Upstream feeds ask clients to identify themselves.
    pub fn application(mut self, token: impl AsRef<str>) -> Self {
        self.config.application = Some(token.as_ref().to_owned());
        self
    }

    /// The longest wait the server may ask for with `retry:` or `Retry-After` (default 5 min).
    pub fn max_server_delay(mut self, d: Duration) -> Self {
        self.config.max_server_delay = d;
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    /// [`Error::Url`] when the base URL is not `http`/`https`, or an
    /// [`http_client`](Self::http_client) has another; [`Error::Connect`] when the TLS setup
    /// fails.
    pub fn build(mut self) -> Result<Client> {
        let base = self.base.trim_end_matches('/').to_owned();
        let scheme_ok = base.starts_with("http://") || base.starts_with("https://");
        if !scheme_ok || base.parse::<Uri>().is_err() || wk_types::redact::has_userinfo(&base) {
            return Err(Error::Url(wk_types::redact::url(&self.base)));
        }
        let http = match self.config.http.take() {
            Some(http) if http.base_url() == base => http,
            Some(http) => {
                return Err(Error::Url(format!(
                    "the HTTP client's base URL {} is not {}",
                    wk_types::redact::url(http.base_url()),
                    wk_types::redact::url(&base)
                )));
            }
            None => self.default_http(&base)?,
        };
        if self.config.gap_recovery && self.config.backfill.is_none() {
            self.config.backfill = Some(Arc::new(http.clone()));
        }
        Ok(Client {
            shared: Arc::new(Shared {
                base,
                config: self.config,
                http,
            }),
        })
    }

    /// The HTTP client built from this builder's TLS, `User-Agent` and connect settings.
    fn default_http(&self, base: &str) -> Result<wk_http::Client> {
        crate::http_client::build(&crate::http_client::Settings {
            base,
            extra_roots: &self.config.extra_roots,
            tls: self.config.tls.as_ref(),
            application: self.config.application.as_deref(),
            connect_timeout: self.config.connect_timeout,
        })
    }
}

/// One SSE stream of [`KillEvent`]s, the same events the WebSocket yields. Drop it to close the
/// connection.
#[derive(Debug)]
pub struct Subscription {
    events: mpsc::Receiver<Result<KillEvent>>,
    lagged: Arc<AtomicU64>,
    state: watch::Receiver<ConnectionState>,
    kind: StreamKind,
}

impl Subscription {
    /// Watches the connection state.
    #[must_use]
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// Which endpoint this stream reads.
    #[must_use]
    pub fn kind(&self) -> StreamKind {
        self.kind
    }
}

impl Stream for Subscription {
    type Item = Result<KillEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        crate::queue::poll_next(&mut this.events, &this.lagged, cx)
    }
}
