//! Errors of the realtime transports.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, StatusCode};

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
    /// Connecting failed; [`ConnectError::phase`] says where, [`Error::is_retryable`] whether
    /// the SDK tries again.
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
        match self {
            Self::Connect(e) => e.is_retryable(),
            Self::Timeout | Self::ChannelLost | Self::NotConnected => true,
            _ => false,
        }
    }

    /// The connection error, when this is one.
    #[must_use]
    pub fn connect_error(&self) -> Option<&ConnectError> {
        match self {
            Self::Connect(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status of a refused upgrade or SSE request.
    #[must_use]
    pub fn status(&self) -> Option<StatusCode> {
        self.connect_error().and_then(ConnectError::status)
    }

    /// The server's `Retry-After` on a refused upgrade or SSE request.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.connect_error().and_then(ConnectError::retry_after)
    }
}

/// Displays an error with its whole `source()` chain, `: `-separated, for logs.
#[cfg(any(feature = "ws", feature = "sse"))]
pub(crate) struct Chain<'a>(pub(crate) &'a (dyn std::error::Error + 'static));

#[cfg(any(feature = "ws", feature = "sse"))]
impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Many errors repeat their source in their own message; a cause already said is skipped.
        let mut said = self.0.to_string();
        f.write_str(&said)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            let text = e.to_string();
            if !said.contains(&text) {
                write!(f, ": {text}")?;
            }
            said = text;
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

/// Where a connection attempt failed: the phases of opening a WebSocket or an SSE stream, in
/// the order they happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConnectPhase {
    /// Resolving the host or the TCP connection: refused, unreachable, or closed or reset before
    /// the server answered.
    Connect,
    /// No answer within the connect timeout.
    Timeout,
    /// The TLS handshake, certificate verification included.
    Tls,
    /// The server answered the upgrade or the SSE request with a status that opens no stream
    /// (see [`ConnectError::status`]).
    Status,
    /// The answer broke the rules of HTTP, the WebSocket handshake or the event stream.
    Protocol,
}

impl ConnectPhase {
    fn describe(self) -> &'static str {
        match self {
            Self::Connect => "could not reach the server",
            Self::Timeout => "no answer within the connect timeout",
            Self::Tls => "the TLS handshake failed",
            Self::Status => "the server refused the stream",
            Self::Protocol => "the server's answer broke the protocol",
        }
    }
}

/// The most of a refusal's body an error keeps.
#[cfg(any(feature = "ws", feature = "sse"))]
pub(crate) const BODY_EXCERPT: usize = 4096;

/// Why a connection attempt failed, classified by [`ConnectPhase`]. For a refusal it carries the
/// status, the headers and the start of the body; its `source()` is the underlying error, as
/// text only, so no type of the transport's libraries is part of this crate's API.
#[derive(Clone)]
pub struct ConnectError(Arc<ConnectInner>);

struct ConnectInner {
    phase: ConnectPhase,
    /// A certificate or name the TLS handshake cannot accept, now or on a retry.
    rejected: bool,
    status: Option<StatusCode>,
    headers: HeaderMap,
    body: String,
    retry_after: Option<Duration>,
    detail: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Debug for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &*self.0;
        let mut d = f.debug_struct("ConnectError");
        d.field("phase", &inner.phase);
        if let Some(status) = inner.status {
            d.field("status", &status);
        }
        if let Some(after) = inner.retry_after {
            d.field("retry_after", &after);
        }
        if let Some(detail) = &inner.detail {
            d.field("detail", detail);
        }
        if let Some(source) = &inner.source {
            d.field("source", &source.to_string());
        }
        d.finish_non_exhaustive()
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &*self.0;
        match (inner.phase, inner.status) {
            (ConnectPhase::Status, Some(status)) => write!(f, "the server answered {status}")?,
            (ConnectPhase::Tls, _) if inner.rejected => {
                f.write_str("the server's TLS certificate was rejected")?;
            }
            (phase, _) => f.write_str(phase.describe())?,
        }
        if let Some(detail) = &inner.detail {
            write!(f, " ({detail})")?;
        } else if inner.phase == ConnectPhase::Status {
            let excerpt: String = inner
                .body
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .chars()
                .take(200)
                .collect();
            if !excerpt.is_empty() {
                write!(f, ": {excerpt}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0
            .source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl ConnectError {
    /// The phase the attempt failed in.
    #[must_use]
    pub fn phase(&self) -> ConnectPhase {
        self.0.phase
    }

    /// The HTTP status of a refusal ([`ConnectPhase::Status`]); `None` before the server answered.
    #[must_use]
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status
    }

    /// The headers of a refusal (empty before the server answered).
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.0.headers
    }

    /// The start of a refusal's body (at most 4 KiB, lossy UTF-8), for diagnostics.
    #[must_use]
    pub fn body(&self) -> &str {
        &self.0.body
    }

    /// The server's `Retry-After` on a refusal, when it sent one; reconnects wait at least this.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// Whether a later attempt may succeed. A refusal is retryable for `408`, `429` and `5xx`
    /// other than `501` and `505` (the rule wk-http follows); a rejected certificate is not;
    /// network failures, timeouts and broken answers are.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self.0.phase {
            ConnectPhase::Status => self.0.status.is_some_and(|s| {
                matches!(s.as_u16(), 408 | 429)
                    || (s.is_server_error() && !matches!(s.as_u16(), 501 | 505))
            }),
            ConnectPhase::Tls => !self.0.rejected,
            _ => true,
        }
    }
}

#[cfg(any(feature = "ws", feature = "sse"))]
impl ConnectError {
    fn bare(phase: ConnectPhase) -> ConnectInner {
        ConnectInner {
            phase,
            rejected: false,
            status: None,
            headers: HeaderMap::new(),
            body: String::new(),
            retry_after: None,
            detail: None,
            source: None,
        }
    }

    /// The connect timeout `after` elapsed.
    pub(crate) fn timeout(after: Duration) -> Self {
        let mut inner = Self::bare(ConnectPhase::Timeout);
        inner.detail = Some(format!("{after:?}"));
        Self(Arc::new(inner))
    }

    /// The server refused with `status`; `body` is cut to [`BODY_EXCERPT`].
    pub(crate) fn refused(
        status: StatusCode,
        headers: HeaderMap,
        body: &[u8],
        detail: Option<String>,
    ) -> Self {
        let mut inner = Self::bare(ConnectPhase::Status);
        inner.retry_after = wk_retry::retry_after(&headers, std::time::SystemTime::now());
        inner.status = Some(status);
        inner.headers = headers;
        inner.body = String::from_utf8_lossy(&body[..body.len().min(BODY_EXCERPT)]).into_owned();
        inner.detail = detail;
        Self(Arc::new(inner))
    }

    /// A TLS setting that cannot work (a root certificate that does not parse, say).
    pub(crate) fn tls_config(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        let mut inner = Self::bare(ConnectPhase::Tls);
        inner.rejected = true;
        inner.source = Some(Box::new(Text::of(&source)));
        Self(Arc::new(inner))
    }

    /// An error of the transport's libraries in `phase`, unless its source chain says better:
    /// a rustls error anywhere makes it a TLS failure, a timed-out I/O error a timeout.
    pub(crate) fn classify(
        phase: ConnectPhase,
        source: &(dyn std::error::Error + 'static),
    ) -> Self {
        let mut inner = Self::bare(phase);
        let mut next = Some(source);
        while let Some(e) = next {
            if let Some(tls) = e.downcast_ref::<rustls::Error>() {
                inner.phase = ConnectPhase::Tls;
                inner.rejected = matches!(
                    tls,
                    rustls::Error::InvalidCertificate(_)
                        | rustls::Error::NoCertificatesPresented
                        | rustls::Error::UnsupportedNameType
                        | rustls::Error::PeerIncompatible(_)
                );
                break;
            }
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::TimedOut && inner.phase == ConnectPhase::Connect
                {
                    inner.phase = ConnectPhase::Timeout;
                }
                // `io::Error::source` skips the error it wraps; look at that one too.
                if let Some(wrapped) = io.get_ref() {
                    next = Some(wrapped as &(dyn std::error::Error + 'static));
                    continue;
                }
            }
            next = e.source();
        }
        inner.source = Some(Box::new(Text::of(source)));
        Self(Arc::new(inner))
    }
}

/// The longest `Retry-After` (or `retry:`) a server may impose on the next attempt by default.
#[cfg(any(feature = "ws", feature = "sse"))]
pub(crate) const MAX_SERVER_DELAY: Duration = Duration::from_secs(300);

/// What a running transport does after a failed connection attempt.
#[cfg(any(feature = "ws", feature = "sse"))]
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum AfterFailure {
    /// Try again after the backoff, but not sooner than this.
    Retry { floor: Duration },
    /// A refusal no retry can fix: the transport ends, its streams get the error last.
    End,
}

/// The one policy both transports follow after attempt `attempt` failed with `error` (once they
/// are running; the first attempt's failure is always the caller's answer), said in the logs: a
/// retryable failure waits at least the server's `Retry-After` (capped at `max_server_delay`);
/// a refusal ends, unless `retry_refused` asks for a long delay instead.
#[cfg(any(feature = "ws", feature = "sse"))]
pub(crate) fn after_failure(
    error: &Error,
    attempt: u32,
    retry_refused: Option<Duration>,
    max_server_delay: Duration,
) -> AfterFailure {
    let floor = error
        .retry_after()
        .unwrap_or_default()
        .min(max_server_delay);
    let chain = Chain(error).to_string();
    if error.is_retryable() {
        tracing::warn!(attempt, error = %chain, "connection attempt failed");
        AfterFailure::Retry { floor }
    } else if let Some(long) = retry_refused {
        tracing::error!(attempt, error = %chain, "the server refused the connection; retrying after the long delay set with `retry_refused`");
        AfterFailure::Retry {
            floor: floor.max(long),
        }
    } else {
        tracing::error!(attempt, error = %chain, "the server refused the connection for good; it ends");
        AfterFailure::End
    }
}

/// A foreign error kept as its text (and its chain's), so no foreign type leaks through `source()`.
#[cfg(any(feature = "ws", feature = "sse"))]
#[derive(Debug)]
struct Text(String);

#[cfg(any(feature = "ws", feature = "sse"))]
impl Text {
    fn of(e: &(dyn std::error::Error + 'static)) -> Self {
        Self(Chain(e).to_string())
    }
}

#[cfg(any(feature = "ws", feature = "sse"))]
impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(any(feature = "ws", feature = "sse"))]
impl std::error::Error for Text {}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
