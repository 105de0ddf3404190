//! Errors of the realtime transports.

use std::sync::Arc;

use wk_types::phoenix::ChannelErrorReason;
use wk_types::{DecodeError, ValidationError};

/// A failed realtime call. Protocol errors are plain data, so tests can compare them.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input breaks a server rule; nothing was sent (the server would crash the channel).
    #[error("invalid input")]
    Invalid(#[source] ValidationError),
    /// The URL could not be turned into a WebSocket or SSE endpoint.
    #[error("invalid URL `{0}`")]
    Url(String),
    /// Connecting failed.
    #[error("could not connect")]
    Connect(#[source] ConnectError),
    /// The server answered with an error reply.
    #[error("the server refused: {0}")]
    Rejected(ChannelErrorReason),
    /// No reply within the reply timeout. For a push on the channel, the SDK then rejoins with its
    /// full subscription set (Phoenix 1.8 answers a push whose join_ref is stale with silence), so
    /// ids the call added are kept and take effect once the channel is back.
    #[error("no reply within the timeout")]
    Timeout,
    /// The channel crashed or the connection dropped before the reply; the SDK rejoins on its own.
    #[error("the channel was lost before the reply")]
    ChannelLost,
    /// Not connected, and the call was set to fail fast (or waited its bound).
    #[error("not connected")]
    NotConnected,
    /// The client was shut down.
    #[error("the client is closed")]
    Closed,
    /// A server message did not decode.
    #[error("a server message did not decode")]
    Decode(#[source] DecodeError),
    /// A server event was larger than the configured maximum and was dropped; the stream goes on.
    #[error("a server event exceeded {limit} bytes and was dropped")]
    EventTooLarge {
        /// The configured maximum, in bytes.
        limit: usize,
    },
}

impl Error {
    /// Whether a later retry may succeed.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Connect(_) | Self::Timeout | Self::ChannelLost | Self::NotConnected
        )
    }
}

/// Displays an error with its whole `source()` chain, `: `-separated, for logs.
#[cfg(feature = "ws")]
pub(crate) struct Chain<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

#[cfg(feature = "ws")]
impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Self::Invalid(e)
    }
}

/// Why a connection attempt failed. Its `source()` is the underlying error, so callers can
/// downcast it (for example to an SSE `StatusError`).
#[derive(Clone, Debug)]
pub struct ConnectError {
    source: Arc<dyn std::error::Error + Send + Sync>,
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection attempt failed")
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.source)
    }
}

impl ConnectError {
    #[cfg_attr(not(any(feature = "ws", feature = "sse")), allow(dead_code))]
    pub(crate) fn new(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self {
            source: Arc::new(source),
        }
    }
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
