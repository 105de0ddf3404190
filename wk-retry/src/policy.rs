//! What is retried and when: response classification, `Retry-After`, replayable requests.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};

/// A per-request override of the retry decision, set as a request extension.
///
/// ```
/// let mut req = http::Request::post("/api/v1/kills/systems").body(bytes::Bytes::new()).unwrap();
/// // This POST only reads, so replaying it is safe.
/// req.extensions_mut().insert(wk_retry::RetryMode::Always);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryMode {
    /// Retry idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) only.
    #[default]
    Idempotent,
    /// Retry whatever the method (the caller knows the request is safe to replay).
    Always,
    /// Never retry this request.
    Never,
}

impl RetryMode {
    /// Whether a request with this mode and method may be replayed.
    #[must_use]
    pub fn allows(self, method: &Method) -> bool {
        match self {
            Self::Always => true,
            Self::Never => false,
            Self::Idempotent => method.is_idempotent(),
        }
    }
}

/// A request body that may be cloned for a replay. Streaming bodies return `None` and are never
/// retried.
pub trait ReplayBody: Sized {
    /// A copy of the body for another attempt, or `None` when it cannot be replayed.
    fn try_clone_body(&self) -> Option<Self>;
}

impl ReplayBody for Bytes {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl ReplayBody for String {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl ReplayBody for Vec<u8> {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl ReplayBody for () {
    fn try_clone_body(&self) -> Option<Self> {
        Some(())
    }
}

impl<D: Clone> ReplayBody for http_body_util::Full<D> {
    fn try_clone_body(&self) -> Option<Self> {
        Some(self.clone())
    }
}

impl<D> ReplayBody for http_body_util::Empty<D> {
    fn try_clone_body(&self) -> Option<Self> {
        Some(Self::new())
    }
}

impl<D, E> ReplayBody for http_body_util::combinators::UnsyncBoxBody<D, E> {
    fn try_clone_body(&self) -> Option<Self> {
        None
    }
}

impl<D, E> ReplayBody for http_body_util::combinators::BoxBody<D, E> {
    fn try_clone_body(&self) -> Option<Self> {
        None
    }
}

/// Clones a request for replay: method, URI, version, headers, extensions and the body.
pub(crate) fn try_clone_request<B: ReplayBody>(req: &Request<B>) -> Option<Request<B>> {
    let body = req.body().try_clone_body()?;
    let mut clone = Request::new(body);
    *clone.method_mut() = req.method().clone();
    *clone.uri_mut() = req.uri().clone();
    *clone.version_mut() = req.version();
    *clone.headers_mut() = req.headers().clone();
    *clone.extensions_mut() = req.extensions().clone();
    Some(clone)
}

/// Why an attempt is being retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryReason {
    /// The server answered with this retryable status.
    Status(StatusCode),
    /// The attempt failed before a response arrived (connect error, timeout, reset).
    Transport,
}

impl std::fmt::Display for RetryReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status(s) => write!(f, "status {}", s.as_u16()),
            Self::Transport => f.write_str("transport error"),
        }
    }
}

/// What to do after an attempt's response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// The response is final.
    Done,
    /// Retry with backoff.
    Backoff(RetryReason),
    /// Retry after the server-given delay (uncapped here; the service caps it).
    After(RetryReason, Duration),
}

/// Classifies a response: 429 and 503 wait for `Retry-After` (or back off without it); 408 and other
/// 5xx except 501 and 505 back off; everything else is final.
#[must_use]
pub fn classify_response(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Verdict {
    let reason = RetryReason::Status(status);
    match status.as_u16() {
        429 | 503 => match retry_after(headers, now) {
            Some(delay) => Verdict::After(reason, delay),
            None => Verdict::Backoff(reason),
        },
        408 => Verdict::Backoff(reason),
        501 | 505 => Verdict::Done,
        500..=599 => Verdict::Backoff(reason),
        _ => Verdict::Done,
    }
}

/// Reads `Retry-After` in either form: delta-seconds (`120`) or an HTTP-date (IMF-fixdate, RFC 850 or
/// asctime). A date in the past means no wait. Garbage or a missing header gives `None`.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// let mut h = http::HeaderMap::new();
/// h.insert("retry-after", "2".parse().unwrap());
/// assert_eq!(wk_retry::retry_after(&h, SystemTime::now()), Some(Duration::from_secs(2)));
/// h.insert("retry-after", "soon".parse().unwrap());
/// assert_eq!(wk_retry::retry_after(&h, SystemTime::now()), None);
/// ```
#[must_use]
pub fn retry_after(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly long digit strings saturate instead of failing.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(retry_after: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::RETRY_AFTER, retry_after.parse().unwrap());
        h
    }

    #[test]
    fn retry_after_in_both_forms() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(retry_after(&headers("0"), now), Some(Duration::ZERO));
        assert_eq!(
            retry_after(&headers(" 7 "), now),
            Some(Duration::from_secs(7))
        );
        let later = "Sun, 06 Nov 1994 08:50:07 GMT";
        assert_eq!(
            retry_after(&headers(later), now),
            Some(Duration::from_secs(30))
        );
        let rfc850 = "Sunday, 06-Nov-94 08:50:07 GMT";
        assert_eq!(
            retry_after(&headers(rfc850), now),
            Some(Duration::from_secs(30))
        );
        let asctime = "Sun Nov  6 08:50:07 1994";
        assert_eq!(
            retry_after(&headers(asctime), now),
            Some(Duration::from_secs(30))
        );
        let past = "Sun, 06 Nov 1994 08:00:00 GMT";
        assert_eq!(retry_after(&headers(past), now), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_garbage_is_ignored() {
        let now = SystemTime::now();
        for bad in ["-1", "1.5", "soon", "", "Sun, 99 Nov 1994 08:49:37 GMT"] {
            assert_eq!(retry_after(&headers(bad), now), None, "{bad:?}");
        }
        assert_eq!(
            retry_after(&headers("99999999999999999999999"), now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(retry_after(&HeaderMap::new(), now), None);
    }

    #[test]
    fn statuses() {
        let now = SystemTime::now();
        let none = HeaderMap::new();
        let c = |s: u16, h: &HeaderMap| classify_response(StatusCode::from_u16(s).unwrap(), h, now);
        assert_eq!(c(200, &none), Verdict::Done);
        assert_eq!(c(404, &none), Verdict::Done);
        assert_eq!(c(400, &none), Verdict::Done);
        assert_eq!(c(501, &none), Verdict::Done);
        assert!(matches!(c(408, &none), Verdict::Backoff(_)));
        assert!(matches!(c(500, &none), Verdict::Backoff(_)));
        assert!(matches!(c(502, &none), Verdict::Backoff(_)));
        assert!(matches!(c(503, &none), Verdict::Backoff(_)));
        assert!(
            matches!(c(429, &headers("3")), Verdict::After(_, d) if d == Duration::from_secs(3))
        );
    }

    #[test]
    fn modes() {
        assert!(RetryMode::Idempotent.allows(&Method::GET));
        assert!(RetryMode::Idempotent.allows(&Method::DELETE));
        assert!(!RetryMode::Idempotent.allows(&Method::POST));
        assert!(RetryMode::Always.allows(&Method::POST));
        assert!(!RetryMode::Never.allows(&Method::GET));
    }
}
