//! The settings and shared state of an SSE client, and the types its handles and its stream
//! tasks both name: the one place `client.rs` and `driver.rs` meet, so neither imports the other's
//! internals.

use std::sync::Arc;
use std::time::Duration;

use wk_retry::BackoffConfig;

/// Which endpoint a [`Subscription`](super::Subscription) reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamKind {
    /// `/api/v1/kills/stream`: unnamed `data:` events, one killmail each.
    Basic,
    /// `/api/v1/kills/stream/enhanced`: named events, with history when `preload_days > 0`.
    Enhanced {
        /// Days of history (the server caps it at 90; it needs at least one system or character).
        preload_days: u32,
    },
}

/// Where a stream's connection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Sending the request (attempt number since the backoff last reset).
    Connecting {
        /// 1 for the first try.
        attempt: u32,
    },
    /// The server answered with an event stream; events flow.
    Connected,
    /// Waiting before attempt `attempt`.
    Reconnecting {
        /// The attempt it waits for, numbered as in `Connecting`: 1 after a stable stream
        /// ended, one more after each failed attempt or short-lived stream.
        attempt: u32,
        /// How long until the next one.
        delay: Duration,
    },
    /// The subscription was dropped.
    Closed,
}

/// Settings of an SSE client, set through [`ClientBuilder`](super::ClientBuilder).
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) reconnect: BackoffConfig,
    pub(crate) stable_after: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) queue_capacity: usize,
    pub(crate) dedup_capacity: usize,
    pub(crate) gap_recovery: bool,
    pub(crate) recovery_margin: Duration,
    pub(crate) backfill: Option<Arc<dyn wk_types::Backfill>>,
    pub(crate) http: Option<wk_http::Client>,
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    pub(crate) extra_roots: Vec<Vec<u8>>,
    pub(crate) max_event_size: usize,
    pub(crate) ping_interval: Duration,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) max_server_delay: Duration,
    pub(crate) retry_refused: Option<Duration>,
    /// The application token of the `User-Agent` (`<token> wk/<version>`).
    pub(crate) application: Option<String>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("reconnect", &self.reconnect)
            .field("stable_after", &self.stable_after)
            .field("queue_capacity", &self.queue_capacity)
            .field("dedup_capacity", &self.dedup_capacity)
            .field("gap_recovery", &self.gap_recovery)
            .field("max_event_size", &self.max_event_size)
            .field("ping_interval", &self.ping_interval)
            .field("heartbeat_interval", &self.heartbeat_interval)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            reconnect: BackoffConfig::default()
                .base(Duration::from_secs(1))
                .max(Duration::from_secs(30))
                .min(Duration::from_millis(100)),
            stable_after: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            queue_capacity: 1024,
            dedup_capacity: 65_536,
            gap_recovery: true,
            recovery_margin: Duration::from_secs(65 * 60),
            backfill: None,
            http: None,
            tls: None,
            extra_roots: Vec::new(),
            max_event_size: 16 << 20,
            ping_interval: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(30),
            max_server_delay: crate::error::MAX_SERVER_DELAY,
            retry_refused: None,
            application: None,
        }
    }
}

pub(crate) struct Shared {
    pub(crate) base: String,
    pub(crate) config: Config,
    /// The HTTP client the streams go through.
    pub(crate) http: wk_http::Client,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &wk_types::redact::Url(&self.base))
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
