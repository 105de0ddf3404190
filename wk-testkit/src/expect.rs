//! Expectations: how many times a route must be called, and scripted answers for its first calls.
//!
//! [`crate::TestServer::expect`] registers an [`Expectation`] on a [`Route`] at once; its setters
//! change it in place. Every matching request is counted, including those answered by a scripted
//! [`Answer`] or by a [`crate::Fault`]. [`crate::TestServer::verify`] checks every expectation and
//! panics with an [`UnmetExpectations`] message; [`crate::TestServer::try_verify`] returns it
//! instead, and dropping the server checks whatever neither of them has reported yet.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use serde_json::Value;

/// An HTTP method and an exact path that requests are matched against.
///
/// The path is compared after the server's trailing-slash normalisation (`/api/v1/kills/count/1/`
/// and `/api/v1/kills/count/1` are the same route), as the request sent it (no percent-decoding),
/// and without the query string. Control routes under `/_testkit/` are never counted, so a route
/// there never matches.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    method: Option<Method>,
    path: String,
}

impl Route {
    /// `GET path`.
    ///
    /// # Panics
    /// If `path` does not start with `/` or contains a query string (`?`).
    #[must_use]
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Some(Method::GET), path.into())
    }

    /// `POST path`.
    ///
    /// # Panics
    /// As [`Route::get`].
    #[must_use]
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Some(Method::POST), path.into())
    }

    /// `DELETE path`.
    ///
    /// # Panics
    /// As [`Route::get`].
    #[must_use]
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Some(Method::DELETE), path.into())
    }

    /// `path` with any method.
    ///
    /// # Panics
    /// As [`Route::get`].
    #[must_use]
    pub fn any(path: impl Into<String>) -> Self {
        Self::new(None, path.into())
    }

    /// The method (`"GET"`, `"POST"`, …), or `None` for [`Route::any`].
    #[must_use]
    pub fn method(&self) -> Option<&str> {
        self.method.as_ref().map(Method::as_str)
    }

    /// The normalised path.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    fn new(method: Option<Method>, mut path: String) -> Self {
        assert!(
            path.starts_with('/'),
            "a route path starts with `/`, got {path:?}"
        );
        assert!(
            !path.contains('?'),
            "a route matches the path only, without a query string: {path:?}"
        );
        // The normalised path is a prefix of the path.
        path.truncate(normalise(&path).len());
        Self { method, path }
    }

    /// Whether a request with this method and (normalised) path matches.
    fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.as_ref().is_none_or(|m| m == method) && self.path == path
    }
}

impl fmt::Display for Route {
    /// `GET /api/v1/kills/count/30000142`, or `ANY /…` for [`Route::any`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method = self.method().unwrap_or("ANY");
        write!(f, "{method} {}", self.path)
    }
}

/// The server's trailing-slash rule: `/a/b/` is `/a/b`, and `/` stays `/`.
fn normalise(path: &str) -> &str {
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        if trimmed.is_empty() { "/" } else { trimmed }
    } else {
        path
    }
}

/// A scripted answer for one call: a status with the server's fallback error body
/// (`{"error": "Too Many Requests", "status": "429"}`) unless [`Answer::json`] gives another,
/// and optionally a `Retry-After` header.
///
/// ```
/// use std::time::Duration;
/// use wk_testkit::Answer;
///
/// let rate_limited = Answer::status(429).retry_after(Duration::from_secs(1));
/// let unavailable = Answer::status(503).json(serde_json::json!({"error": "maintenance"}));
/// # let _ = (rate_limited, unavailable);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    status: StatusCode,
    retry_after: Option<Duration>,
    body: Option<Value>,
}

impl Answer {
    /// Answers `status` with the fallback error body.
    ///
    /// # Panics
    /// If `status` is not a valid status code (100 to 999).
    #[must_use]
    pub fn status(status: u16) -> Self {
        let status = StatusCode::from_u16(status)
            .unwrap_or_else(|_| panic!("{status} is not an HTTP status code (100 to 999)"));
        Self {
            status,
            retry_after: None,
            body: None,
        }
    }

    /// Adds `Retry-After` in delta-seconds, rounded up to a whole second.
    #[must_use]
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// Answers this JSON body (encoded like the server's) instead of the fallback error body.
    #[must_use]
    pub fn json(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub(crate) fn status_code(&self) -> StatusCode {
        self.status
    }

    pub(crate) fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after
            .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
    }

    pub(crate) fn body(&self) -> Option<&Value> {
        self.body.as_ref()
    }
}

/// A registered expectation on a [`Route`], returned by [`crate::TestServer::expect`].
///
/// It is registered already: the setters change it in place and return the handle so they chain,
/// and the handle reads the count ([`Expectation::calls`]). Until a count is set, the route must be
/// called at least once. Dropping the handle keeps the expectation.
///
/// When several expectations match a request, each counts it, and the first registered one with
/// a scripted answer for its own call number answers it.
#[derive(Clone, Debug)]
pub struct Expectation {
    registry: Arc<Registry>,
    index: usize,
    route: Route,
}

// The setters change the registered expectation in place, so a statement such as
// `server.expect(route).times(1);` needs no binding: the returned handle is only for chaining and
// for `calls()`.
#[allow(clippy::return_self_not_must_use)]
impl Expectation {
    /// Exactly `n` calls.
    pub fn times(self, n: u64) -> Self {
        self.update(|e| e.bounds = Bounds::between(n, Some(n)))
    }

    /// At least `n` calls (keeps an upper bound set by [`Expectation::at_most`]).
    pub fn at_least(self, n: u64) -> Self {
        self.update(|e| e.bounds.min = Some(n))
    }

    /// At most `n` calls (keeps a lower bound set by [`Expectation::at_least`], none otherwise).
    pub fn at_most(self, n: u64) -> Self {
        self.update(|e| e.bounds.max = Some(n))
    }

    /// The first matching call gets `answer` and later calls the normal answer; it replaces any
    /// answers scripted before. Chain [`Expectation::then`] to script the following calls.
    pub fn respond_first(self, answer: Answer) -> Self {
        self.update(|e| e.script = vec![answer])
    }

    /// The next call after those already scripted gets `answer` (the first call when none is).
    pub fn then(self, answer: Answer) -> Self {
        self.update(|e| e.script.push(answer))
    }

    /// How many matching requests the server has received so far.
    #[must_use]
    pub fn calls(&self) -> u64 {
        self.registry.lock()[self.index].calls
    }

    /// The route it matches.
    #[must_use]
    pub fn route(&self) -> &Route {
        &self.route
    }

    fn update(self, f: impl FnOnce(&mut Entry)) -> Self {
        f(&mut self.registry.lock()[self.index]);
        self
    }
}

/// The error of [`crate::TestServer::try_verify`]: the expectations whose count is off, in the
/// order they were registered. `Display` gives one line each, such as
/// `expected GET /api/v1/kills/system/30000142 to be called exactly 1 time, it was called 2 times`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnmetExpectations {
    unmet: Vec<UnmetExpectation>,
}

impl UnmetExpectations {
    /// Each unmet expectation (never empty).
    #[must_use]
    pub fn unmet(&self) -> &[UnmetExpectation] {
        &self.unmet
    }
}

impl fmt::Display for UnmetExpectations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, unmet) in self.unmet.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{unmet}")?;
        }
        Ok(())
    }
}

impl std::error::Error for UnmetExpectations {}

/// One expectation whose count is off: its route, the bounds and the actual count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnmetExpectation {
    route: Route,
    bounds: Bounds,
    calls: u64,
}

impl UnmetExpectation {
    /// The route.
    #[must_use]
    pub fn route(&self) -> &Route {
        &self.route
    }

    /// The fewest calls expected.
    #[must_use]
    pub fn min(&self) -> u64 {
        self.bounds.min()
    }

    /// The most calls expected, if bounded.
    #[must_use]
    pub fn max(&self) -> Option<u64> {
        self.bounds.max
    }

    /// How many calls the server received.
    #[must_use]
    pub fn calls(&self) -> u64 {
        self.calls
    }
}

impl fmt::Display for UnmetExpectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (min, max) = (self.bounds.min(), self.bounds.max);
        write!(f, "expected {} to be called ", self.route)?;
        match max {
            Some(max) if max == min => write!(f, "exactly {}", times(min))?,
            None => write!(f, "at least {}", times(min))?,
            Some(max) if min == 0 => write!(f, "at most {}", times(max))?,
            Some(max) => write!(f, "between {min} and {}", times(max))?,
        }
        write!(f, ", it was called {}", times(self.calls))
    }
}

fn times(n: u64) -> String {
    if n == 1 {
        "1 time".to_owned()
    } else {
        format!("{n} times")
    }
}

/// How many calls an expectation allows. With neither bound set, at least one call.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Bounds {
    min: Option<u64>,
    max: Option<u64>,
}

impl Bounds {
    fn between(min: u64, max: Option<u64>) -> Self {
        Self {
            min: Some(min),
            max,
        }
    }

    fn min(self) -> u64 {
        self.min.unwrap_or(u64::from(self.max.is_none()))
    }

    fn holds(self, calls: u64) -> bool {
        calls >= self.min() && self.max.is_none_or(|max| calls <= max)
    }
}

/// One registered expectation.
#[derive(Debug)]
struct Entry {
    route: Route,
    bounds: Bounds,
    calls: u64,
    /// Answers for calls 1, 2, … in order.
    script: Vec<Answer>,
    /// Reported unmet by a verification, so the drop check skips it.
    reported: bool,
}

/// Every expectation of one server.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    entries: Mutex<Vec<Entry>>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers an expectation on `route`.
    pub(crate) fn add(self: &Arc<Self>, route: Route) -> Expectation {
        let mut entries = self.lock();
        entries.push(Entry {
            route: route.clone(),
            bounds: Bounds::default(),
            calls: 0,
            script: Vec::new(),
            reported: false,
        });
        Expectation {
            registry: Arc::clone(self),
            index: entries.len() - 1,
            route,
        }
    }

    /// Counts a request (path already normalised) on every matching expectation, and returns the
    /// scripted answer it gets, if any.
    pub(crate) fn record(&self, method: &Method, path: &str) -> Option<Answer> {
        let mut answer = None;
        for entry in self.lock().iter_mut() {
            if !entry.route.matches(method, path) {
                continue;
            }
            entry.calls += 1;
            if answer.is_none() {
                answer = usize::try_from(entry.calls - 1)
                    .ok()
                    .and_then(|i| entry.script.get(i))
                    .cloned();
            }
        }
        answer
    }

    /// Checks every expectation, or only those not reported yet, and marks the unmet ones reported.
    pub(crate) fn check(&self, unreported_only: bool) -> Result<(), UnmetExpectations> {
        let mut unmet = Vec::new();
        for entry in self.lock().iter_mut() {
            if (unreported_only && entry.reported) || entry.bounds.holds(entry.calls) {
                continue;
            }
            entry.reported = true;
            unmet.push(UnmetExpectation {
                route: entry.route.clone(),
                bounds: entry.bounds,
                calls: entry.calls,
            });
        }
        if unmet.is_empty() {
            Ok(())
        } else {
            Err(UnmetExpectations { unmet })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unmet(bounds: Bounds, calls: u64) -> String {
        UnmetExpectation {
            route: Route::get("/api/v1/kills/count/1/"),
            bounds,
            calls,
        }
        .to_string()
    }

    #[test]
    fn messages_name_the_route_and_both_counts() {
        let at = |min, max| Bounds { min, max };
        assert_eq!(
            unmet(at(Some(1), Some(1)), 2),
            "expected GET /api/v1/kills/count/1 to be called exactly 1 time, it was called 2 times"
        );
        assert_eq!(
            unmet(at(None, None), 0),
            "expected GET /api/v1/kills/count/1 to be called at least 1 time, it was called 0 times"
        );
        assert_eq!(
            unmet(at(None, Some(2)), 3),
            "expected GET /api/v1/kills/count/1 to be called at most 2 times, it was called 3 times"
        );
        assert_eq!(
            unmet(at(Some(2), Some(4)), 1),
            "expected GET /api/v1/kills/count/1 to be called between 2 and 4 times, it was called 1 time"
        );
    }

    #[test]
    fn routes_normalise_and_match_methods() {
        assert_eq!(Route::any("/").path(), "/");
        assert_eq!(Route::post("/a//").path(), "/a");
        assert_eq!(Route::any("/a").to_string(), "ANY /a");
        assert!(Route::any("/a").matches(&Method::DELETE, "/a"));
        assert!(!Route::get("/a").matches(&Method::POST, "/a"));
        assert!(!Route::get("/a").matches(&Method::GET, "/a/b"));
    }

    #[test]
    fn retry_after_rounds_up() {
        let a = Answer::status(429).retry_after(Duration::from_millis(1500));
        assert_eq!(a.retry_after_secs(), Some(2));
        let a = Answer::status(429).retry_after(Duration::from_secs(1));
        assert_eq!(a.retry_after_secs(), Some(1));
    }
}
