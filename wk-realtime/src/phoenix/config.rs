//! The settings of a WebSocket client, shared by its handles, its connection task and the
//! session core.

use std::sync::Arc;
use std::time::Duration;

use wk_retry::BackoffConfig;

use super::machine::MachineConfig;
use super::session::SessionConfig;

/// Settings of a WebSocket client. Build with [`Client::builder`](super::Client::builder).
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    pub(crate) machine: MachineConfig,
    pub(crate) reconnect: BackoffConfig,
    pub(crate) stable_after: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) call_wait: Option<Duration>,
    pub(crate) queue_capacity: usize,
    pub(crate) dedup_capacity: usize,
    pub(crate) gap_recovery: bool,
    pub(crate) recovery_margin: Duration,
    pub(crate) recovery_interval: Duration,
    /// The application token of the `User-Agent` (`<token> wk/<version>`).
    pub(crate) application: Option<String>,
    pub(crate) backfill: Option<Arc<dyn wk_types::Backfill>>,
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    pub(crate) extra_roots: Vec<Vec<u8>>,
    pub(crate) read_buffer_size: usize,
    pub(crate) max_message_size: usize,
    pub(crate) retry_refused: Option<Duration>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("machine", &self.machine)
            .field("reconnect", &self.reconnect)
            .field("call_wait", &self.call_wait)
            .field("queue_capacity", &self.queue_capacity)
            .field("dedup_capacity", &self.dedup_capacity)
            .field("gap_recovery", &self.gap_recovery)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            machine: MachineConfig::default(),
            reconnect: BackoffConfig::default()
                .base(Duration::from_secs(1))
                .max(Duration::from_secs(30))
                .min(Duration::from_millis(100)),
            stable_after: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            call_wait: Some(Duration::from_secs(10)),
            queue_capacity: 1024,
            dedup_capacity: 65_536,
            gap_recovery: true,
            recovery_margin: Duration::from_secs(65 * 60),
            recovery_interval: Duration::from_secs(5),
            application: None,
            backfill: None,
            tls: None,
            extra_roots: Vec::new(),
            read_buffer_size: 4 * 1024,
            max_message_size: 16 << 20,
            retry_refused: None,
        }
    }
}

impl Config {
    /// What the session core needs of it.
    pub(crate) fn session(&self) -> SessionConfig {
        SessionConfig {
            machine: self.machine.clone(),
            backoff: self.reconnect.clone(),
            stable_after: self.stable_after,
            call_wait: self.call_wait,
            gap_recovery: self.gap_recovery && self.backfill.is_some(),
            recovery_interval: self.recovery_interval,
            retry_refused: self.retry_refused,
        }
    }
}
