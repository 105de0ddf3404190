//! tower retry middleware for HTTP clients: exponential backoff with full jitter, `Retry-After`,
//! and a retry budget.
//!
//! [`RetryLayer`] works in any tower stack whose service takes `http::Request<B>` and returns
//! `http::Response<_>`, not only the WandererKills client:
//!
//! - **What is retried:** 429 and 503 after their `Retry-After` (delta-seconds or HTTP-date, capped by
//!   [`RetryConfig::max_retry_after`]; with backoff when absent); 408 and other 5xx (but 501 and 505)
//!   with backoff; inner-service errors (connect errors, timeouts, resets) with backoff. Other 4xx never.
//! - **Which requests:** idempotent methods by default; a request can opt in or out with a
//!   [`RetryMode`] extension. Only bodies that can be replayed ([`ReplayBody`]: `Bytes`, `Full`, …)
//!   are ever retried; a streaming body is sent once.
//! - **How much:** at most [`RetryConfig::max_retries`] retries per request, and a shared
//!   [`BudgetConfig`] budget so that retries stay a bounded fraction of traffic during an outage.
//! - **Observability:** one `tracing` span per attempt with `attempt`, `retry.reason` and
//!   `retry.delay_ms`.
//!
//! The realtime transports reuse the schedule as [`ReconnectBackoff`], which resets only after a
//! connection has stayed up for a stable period.
//!
//! ```
//! use std::time::Duration;
//! use tower::{Service, ServiceBuilder, ServiceExt};
//! use wk_retry::{BackoffConfig, RetryConfig, RetryLayer};
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
//! let seen = calls.clone();
//! let mut svc = ServiceBuilder::new()
//!     .layer(RetryLayer::new(
//!         RetryConfig::default().backoff(BackoffConfig::default().base(Duration::from_millis(10))),
//!     ))
//!     .service_fn(move |_req: http::Request<bytes::Bytes>| {
//!         let n = seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
//!         async move {
//!             let status = if n == 0 { 503 } else { 200 };
//!             Ok::<_, std::convert::Infallible>(http::Response::builder().status(status).body(()).unwrap())
//!         }
//!     });
//! let req = http::Request::get("http://127.0.0.1/ping").body(bytes::Bytes::new()).unwrap();
//! let resp = svc.ready().await.unwrap().call(req).await.unwrap();
//! assert_eq!(resp.status(), 200);
//! assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
//! # }
//! ```

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backoff;
mod layer;
mod policy;

pub use backoff::{Backoff, BackoffConfig, ReconnectBackoff};
pub use layer::{
    BoxError, BudgetConfig, ErrorClassifier, ResponseFuture, Retry, RetryConfig, RetryLayer,
};
pub use policy::{ReplayBody, RetryMode, RetryReason, Verdict, classify_response, retry_after};
