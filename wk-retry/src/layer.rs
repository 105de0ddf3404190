//! The retry `Layer` and `Service`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use http::{Request, Response};
use tower::retry::budget::{Budget, TpsBudget};
use tower::{Layer, Service, ServiceExt};
use tracing::Instrument;

use crate::backoff::{Backoff, BackoffConfig};
use crate::policy::{
    ReplayBody, RetryMode, RetryReason, Verdict, classify_response, try_clone_request,
};

/// The error type of the wrapped service: whatever the inner service failed with, boxed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Decides whether an inner-service error (no response arrived) is worth a retry.
pub type ErrorClassifier = Arc<dyn Fn(&BoxError) -> bool + Send + Sync>;

/// A retry budget: retries may add at most `retry_percent` of the recent request rate, plus
/// `min_per_sec`, so a fleet of clients cannot multiply an outage's load.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct BudgetConfig {
    /// How long a deposit counts (clamped to 1..=60 s).
    pub ttl: Duration,
    /// Retries always allowed per second, whatever the request rate.
    pub min_per_sec: u32,
    /// Extra retries allowed as a fraction of requests (clamped to 0.0..=1000.0).
    pub retry_percent: f32,
}

impl Default for BudgetConfig {
    /// 10 s window, 10 retries/s floor, 20 % of requests.
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(10),
            min_per_sec: 10,
            retry_percent: 0.2,
        }
    }
}

impl BudgetConfig {
    /// Sets the deposit window.
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets the retries always allowed per second.
    #[must_use]
    pub fn min_per_sec(mut self, n: u32) -> Self {
        self.min_per_sec = n;
        self
    }

    /// Sets the fraction of requests that may be retried on top.
    #[must_use]
    pub fn retry_percent(mut self, fraction: f32) -> Self {
        self.retry_percent = fraction;
        self
    }

    fn build(self) -> TpsBudget {
        let ttl = self
            .ttl
            .clamp(Duration::from_secs(1), Duration::from_secs(60));
        let percent = if self.retry_percent.is_finite() {
            self.retry_percent.clamp(0.0, 1000.0)
        } else {
            0.0
        };
        TpsBudget::new(ttl, self.min_per_sec, percent)
    }
}

/// Retry settings.
#[derive(Clone)]
#[non_exhaustive]
pub struct RetryConfig {
    /// The backoff between attempts without a server-given delay.
    pub backoff: BackoffConfig,
    /// Retries after the first attempt (so `max_retries + 1` attempts at most).
    pub max_retries: u32,
    /// The cap on a server's `Retry-After`.
    pub max_retry_after: Duration,
    /// The retry budget; `None` disables it.
    pub budget: Option<BudgetConfig>,
    /// Which inner-service errors to retry; by default all of them (connect errors, timeouts,
    /// resets: nothing was answered, and only replayable requests are retried).
    pub retry_error: ErrorClassifier,
}

impl Default for RetryConfig {
    /// 3 retries, default backoff and budget, `Retry-After` capped at 60 s, every error retried.
    fn default() -> Self {
        Self {
            backoff: BackoffConfig::default(),
            max_retries: 3,
            max_retry_after: Duration::from_secs(60),
            budget: Some(BudgetConfig::default()),
            retry_error: Arc::new(|_| true),
        }
    }
}

impl fmt::Debug for RetryConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RetryConfig")
            .field("backoff", &self.backoff)
            .field("max_retries", &self.max_retries)
            .field("max_retry_after", &self.max_retry_after)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl RetryConfig {
    /// Sets the backoff.
    #[must_use]
    pub fn backoff(mut self, backoff: BackoffConfig) -> Self {
        self.backoff = backoff;
        self
    }

    /// Sets how many retries follow the first attempt.
    #[must_use]
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// Sets the cap on `Retry-After`.
    #[must_use]
    pub fn max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap;
        self
    }

    /// Sets the retry budget (`None` disables it).
    #[must_use]
    pub fn budget(mut self, budget: Option<BudgetConfig>) -> Self {
        self.budget = budget;
        self
    }

    /// Sets which inner-service errors are retried.
    #[must_use]
    pub fn retry_error(
        mut self,
        classify: impl Fn(&BoxError) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.retry_error = Arc::new(classify);
        self
    }
}

/// Wraps a service in [`Retry`].
///
/// ```
/// use tower::ServiceBuilder;
/// use wk_retry::{RetryConfig, RetryLayer};
///
/// let svc = ServiceBuilder::new()
///     .layer(RetryLayer::new(RetryConfig::default().max_retries(2)))
///     .service_fn(|_req: http::Request<bytes::Bytes>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(()))
///     });
/// # let _ = svc;
/// ```
#[derive(Clone, Debug)]
pub struct RetryLayer {
    shared: Arc<Shared>,
}

struct Shared {
    config: RetryConfig,
    budget: Option<TpsBudget>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RetryLayer {
    /// A layer with these settings. Every service it wraps shares one budget.
    #[must_use]
    pub fn new(config: RetryConfig) -> Self {
        let budget = config.budget.map(BudgetConfig::build);
        Self {
            shared: Arc::new(Shared { config, budget }),
        }
    }
}

impl Default for RetryLayer {
    fn default() -> Self {
        Self::new(RetryConfig::default())
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;

    fn layer(&self, inner: S) -> Retry<S> {
        Retry {
            inner,
            shared: self.shared.clone(),
        }
    }
}

/// Retries replayable requests whose attempts fail with a retryable status or error.
#[derive(Clone, Debug)]
pub struct Retry<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Retry<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

/// The future of [`Retry`]: the final attempt's response or error.
pub type ResponseFuture<R> = Pin<Box<dyn Future<Output = Result<R, BoxError>> + Send>>;

impl<S, B, ResB> Service<Request<B>> for Retry<S>
where
    S: Service<Request<B>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
    B: ReplayBody + Send + 'static,
    ResB: Send + 'static,
{
    type Response = Response<ResB>;
    type Error = BoxError;
    type Future = ResponseFuture<Response<ResB>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        // Use the service that was driven to readiness; leave a fresh clone in its place.
        let fresh = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, fresh);
        Box::pin(run(inner, self.shared.clone(), req))
    }
}

async fn run<S, B, ResB>(
    mut inner: S,
    shared: Arc<Shared>,
    req: Request<B>,
) -> Result<Response<ResB>, BoxError>
where
    S: Service<Request<B>, Response = Response<ResB>>,
    S::Error: Into<BoxError>,
    B: ReplayBody,
{
    let config = &shared.config;
    let mode = req
        .extensions()
        .get::<RetryMode>()
        .copied()
        .unwrap_or_default();
    let template = if mode.allows(req.method()) {
        try_clone_request(&req)
    } else {
        None
    };
    if let Some(budget) = &shared.budget {
        budget.deposit();
    }
    let mut backoff = Backoff::new(config.backoff.clone());
    let mut current = req;
    let mut attempt: u32 = 1;
    loop {
        let span = tracing::debug_span!(
            "attempt",
            attempt,
            retry.reason = tracing::field::Empty,
            retry.delay_ms = tracing::field::Empty,
        );
        let result = inner
            .call(current)
            .instrument(span.clone())
            .await
            .map_err(Into::into);
        let verdict = match &result {
            Ok(resp) => classify_response(resp.status(), resp.headers(), SystemTime::now()),
            Err(e) if (config.retry_error)(e) => Verdict::Backoff(RetryReason::Transport),
            Err(_) => Verdict::Done,
        };
        let (reason, server_delay) = match verdict {
            Verdict::Done => return result,
            Verdict::Backoff(reason) => (reason, None),
            Verdict::After(reason, delay) => (reason, Some(delay)),
        };
        span.record("retry.reason", tracing::field::display(reason));
        let Some(next) = template.as_ref().and_then(try_clone_request) else {
            tracing::debug!(parent: &span, %reason, "not retried: request cannot be replayed");
            return result;
        };
        if attempt > config.max_retries {
            tracing::warn!(parent: &span, %reason, attempts = attempt, "giving up: retries exhausted");
            return result;
        }
        if shared.budget.as_ref().is_some_and(|b| !b.withdraw()) {
            tracing::warn!(parent: &span, %reason, "giving up: retry budget exhausted");
            return result;
        }
        let delay = match server_delay {
            Some(d) => d.min(config.max_retry_after),
            None => backoff.next_delay(),
        };
        let delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        span.record("retry.delay_ms", delay_ms);
        tracing::debug!(parent: &span, %reason, delay_ms, "retrying");
        drop(result);
        tokio::time::sleep(delay).await;
        inner.ready().await.map_err(Into::into)?;
        current = next;
        attempt += 1;
    }
}
