//! wk-http against wk-testkit over real sockets: every endpoint, every error shape, faults.

mod bad_input;
#[cfg(feature = "cache")]
mod cache;
mod endpoints;
mod errors;
mod faults;
mod secrets;
#[cfg(feature = "rustls")]
mod tls;

use std::time::Duration;

use wk_testkit::{Profile, TestServer};

/// A client with fast retries, so fault tests finish quickly.
fn client(server: &TestServer) -> wk_http::Client {
    wk_http::Client::builder()
        .base_url(server.base_url())
        .retry(
            wk_retry::RetryConfig::default()
                .backoff(
                    wk_retry::BackoffConfig::default()
                        .base(Duration::from_millis(5))
                        .max(Duration::from_millis(20)),
                )
                .budget(None),
        )
        .build()
        .unwrap()
}

async fn start(profile: Profile) -> TestServer {
    TestServer::start(profile).await.unwrap()
}
