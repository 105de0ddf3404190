//! [`Error`]: one variant per layer.

/// Any SDK failure, by layer. Ask [`Error::is_retryable`] rather than matching on causes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An HTTP call failed.
    #[cfg(feature = "http")]
    #[error("HTTP call failed")]
    Http(#[source] wk_http::Error),
    /// A realtime transport failed.
    #[cfg(any(feature = "ws", feature = "sse", feature = "hub", feature = "webhook"))]
    #[error("realtime transport failed")]
    Realtime(#[source] wk_realtime::Error),
    /// Input the server would reject, refused before sending.
    #[error("invalid input")]
    Invalid(#[source] wk_types::ValidationError),
}

impl Error {
    /// Whether trying again later may succeed.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            #[cfg(feature = "http")]
            Self::Http(e) => e.is_retryable(),
            #[cfg(any(feature = "ws", feature = "sse", feature = "hub", feature = "webhook"))]
            Self::Realtime(e) => e.is_retryable(),
            Self::Invalid(_) => false,
        }
    }
}

#[cfg(feature = "http")]
impl From<wk_http::Error> for Error {
    fn from(e: wk_http::Error) -> Self {
        Self::Http(e)
    }
}

#[cfg(any(feature = "ws", feature = "sse", feature = "hub", feature = "webhook"))]
impl From<wk_realtime::Error> for Error {
    fn from(e: wk_realtime::Error) -> Self {
        Self::Realtime(e)
    }
}

impl From<wk_types::ValidationError> for Error {
    fn from(e: wk_types::ValidationError) -> Self {
        Self::Invalid(e)
    }
}
