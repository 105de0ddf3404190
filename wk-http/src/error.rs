//! Errors by the phase of the call that failed: build, timeout, transport, status, decode.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use wk_types::{ErrorBody, ValidationError};

use crate::BoxError;

/// A failed call. Match on the phase; ask [`Error::is_retryable`] rather than inspecting causes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request could not be built: an invalid id or parameter, or a bad base URL. Nothing was sent.
    #[error("request could not be built")]
    Build(#[source] BuildError),
    /// No response within the timeout (after any retries).
    #[error("no response within the timeout")]
    Timeout(#[source] TimeoutError),
    /// The connection failed or broke (after any retries).
    #[error("connection failed")]
    Transport(#[source] TransportError),
    /// The server answered with an error status.
    #[error("server answered {}", .0.status())]
    Status(StatusError),
    /// The response body did not decode into the expected type.
    #[error("response body did not decode")]
    Decode(#[source] DecodeError),
}

/// A `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether trying again later may succeed: timeouts, transport failures, 408, 429, 5xx other
    /// than 501/505, and bodies that say so (`FETCH_ERROR`).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout(_) | Self::Transport(_) => true,
            Self::Status(e) => e.is_retryable(),
            Self::Build(_) | Self::Decode(_) => false,
        }
    }

    /// The server's `Retry-After`, when it sent one.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status(e) => e.retry_after(),
            _ => None,
        }
    }

    /// The HTTP status, when a response arrived.
    #[must_use]
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status(e) => Some(e.status()),
            Self::Decode(e) => e.status(),
            _ => None,
        }
    }

    /// The server's parsed error body, when it sent one.
    #[must_use]
    pub fn body(&self) -> Option<&ErrorBody> {
        match self {
            Self::Status(e) => e.body(),
            _ => None,
        }
    }

    /// Whether the request reached the server (false for build errors and connect failures).
    #[must_use]
    pub fn was_sent(&self) -> bool {
        match self {
            Self::Build(_) => false,
            Self::Transport(e) => !e.is_connect(),
            _ => true,
        }
    }
}

/// Why a request could not be built.
#[derive(Debug)]
pub struct BuildError {
    kind: BuildErrorKind,
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.kind, f)
    }
}

impl std::error::Error for BuildError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

#[derive(Debug, thiserror::Error)]
enum BuildErrorKind {
    #[error("invalid input")]
    Invalid(#[source] ValidationError),
    #[error("invalid base URL `{0}`")]
    BaseUrl(String),
    #[error("invalid request")]
    Http(#[source] http::Error),
    #[error("request body did not encode")]
    Encode(#[source] serde_json::Error),
    #[error("TLS could not be set up")]
    #[cfg_attr(not(feature = "rustls"), allow(dead_code))]
    Tls(#[source] BoxError),
    #[error("a client over a custom service has no connections to stream on")]
    NoStreaming,
}

impl BuildError {
    pub(crate) fn invalid(e: ValidationError) -> Self {
        Self {
            kind: BuildErrorKind::Invalid(e),
        }
    }

    pub(crate) fn base_url(url: &str) -> Self {
        Self {
            kind: BuildErrorKind::BaseUrl(wk_types::redact::url(url)),
        }
    }

    pub(crate) fn http(e: http::Error) -> Self {
        Self {
            kind: BuildErrorKind::Http(e),
        }
    }

    pub(crate) fn encode(e: serde_json::Error) -> Self {
        Self {
            kind: BuildErrorKind::Encode(e),
        }
    }

    #[cfg_attr(not(feature = "rustls"), allow(dead_code))]
    pub(crate) fn tls(e: impl Into<BoxError>) -> Self {
        Self {
            kind: BuildErrorKind::Tls(e.into()),
        }
    }

    pub(crate) fn no_streaming() -> Self {
        Self {
            kind: BuildErrorKind::NoStreaming,
        }
    }

    /// Whether TLS could not be set up (a root certificate that does not parse, say).
    #[must_use]
    pub fn is_tls(&self) -> bool {
        matches!(self.kind, BuildErrorKind::Tls(_))
    }

    /// The local validation failure, when that is why.
    #[must_use]
    pub fn validation(&self) -> Option<&ValidationError> {
        match &self.kind {
            BuildErrorKind::Invalid(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Self::Build(BuildError::invalid(e))
    }
}

/// The call ran out of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("timed out after {after:?}")]
pub struct TimeoutError {
    after: Duration,
}

impl TimeoutError {
    pub(crate) fn new(after: Duration) -> Self {
        Self { after }
    }

    /// The timeout that elapsed (per attempt).
    #[must_use]
    pub fn after(&self) -> Duration {
        self.after
    }
}

/// The connection failed or broke.
#[derive(Debug, thiserror::Error)]
#[error("transport error")]
pub struct TransportError {
    #[source]
    source: BoxError,
}

impl TransportError {
    pub(crate) fn new(source: BoxError) -> Self {
        Self { source }
    }

    /// Whether the server's answer broke HTTP (garbage instead of a response head, say).
    #[must_use]
    pub fn is_parse(&self) -> bool {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&*self.source);
        while let Some(e) = next {
            if e.downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_parse)
            {
                return true;
            }
            next = e.source();
        }
        false
    }

    /// Whether the failure was in connecting (the request was never sent).
    #[must_use]
    pub fn is_connect(&self) -> bool {
        self.source
            .downcast_ref::<hyper_util::client::legacy::Error>()
            .is_some_and(hyper_util::client::legacy::Error::is_connect)
    }
}

/// The server answered with an error status.
#[derive(Debug, thiserror::Error)]
#[error("server answered {}", .0.status)]
pub struct StatusError(Box<StatusInner>);

#[derive(Debug)]
struct StatusInner {
    status: StatusCode,
    body: Option<ErrorBody>,
    raw: Bytes,
    retry_after: Option<Duration>,
}

impl StatusError {
    pub(crate) fn new(status: StatusCode, raw: Bytes, retry_after: Option<Duration>) -> Self {
        let body = wk_types::decode::from_slice::<ErrorBody>(&raw).ok();
        Self(Box::new(StatusInner {
            status,
            body,
            raw,
            retry_after,
        }))
    }

    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// The error body in whichever of the server's five shapes it came, if it was JSON.
    #[must_use]
    pub fn body(&self) -> Option<&ErrorBody> {
        self.0.body.as_ref()
    }

    /// The raw body bytes as received.
    #[must_use]
    pub fn raw_body(&self) -> &Bytes {
        &self.0.raw
    }

    /// The server's message, from the body, else the status's reason phrase.
    #[must_use]
    pub fn message(&self) -> &str {
        match &self.0.body {
            Some(b) if !b.message().is_empty() => b.message(),
            _ => self.0.status.canonical_reason().unwrap_or("error"),
        }
    }

    /// The server's `Retry-After`, when it sent one.
    #[must_use]
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// Whether trying again later may succeed.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        let by_status = matches!(self.0.status.as_u16(), 408 | 429)
            || (self.0.status.is_server_error() && !matches!(self.0.status.as_u16(), 501 | 505));
        by_status || self.0.body.as_ref().is_some_and(ErrorBody::is_retryable)
    }
}

/// The response body did not decode.
#[derive(Debug)]
pub struct DecodeError {
    status: Option<StatusCode>,
    kind: DecodeErrorKind,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.kind, f)
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&self.kind)
    }
}

#[derive(Debug, thiserror::Error)]
enum DecodeErrorKind {
    #[error("unexpected JSON")]
    Json(#[source] wk_types::DecodeError),
    #[error("response body exceeds {limit} bytes")]
    TooLarge { limit: usize },
    #[error("response body is not UTF-8 text")]
    NotText,
}

impl DecodeError {
    pub(crate) fn json(status: StatusCode, e: wk_types::DecodeError) -> Self {
        Self {
            status: Some(status),
            kind: DecodeErrorKind::Json(e),
        }
    }

    pub(crate) fn too_large(limit: usize) -> Self {
        Self {
            status: None,
            kind: DecodeErrorKind::TooLarge { limit },
        }
    }

    pub(crate) fn not_text(status: StatusCode) -> Self {
        Self {
            status: Some(status),
            kind: DecodeErrorKind::NotText,
        }
    }

    /// The JSON path of the value that did not fit (`.` for the document), for JSON errors.
    #[must_use]
    pub fn path(&self) -> Option<&str> {
        match &self.kind {
            DecodeErrorKind::Json(e) => Some(e.path()),
            _ => None,
        }
    }

    /// The wire-model decode error, for JSON errors.
    #[must_use]
    pub fn json_error(&self) -> Option<&wk_types::DecodeError> {
        match &self.kind {
            DecodeErrorKind::Json(e) => Some(e),
            _ => None,
        }
    }

    /// Whether the body was refused for exceeding the configured size limit.
    #[must_use]
    pub fn is_too_large(&self) -> bool {
        matches!(self.kind, DecodeErrorKind::TooLarge { .. })
    }

    /// The status of the response whose body failed.
    #[must_use]
    pub fn status(&self) -> Option<StatusCode> {
        self.status
    }
}
