//! Shared by the examples: the server to talk to, real or the embedded demo.

// Each example uses a subset of these helpers.
#![allow(dead_code)]

use std::time::Duration;

use wk::testkit::{Generator, Profile, TestServer};

/// The base URL from `WK_BASE_URL`, or a demo wk-testkit server (kept alive by the returned guard)
/// that generates `rate` kills per second and already holds some history.
pub(crate) async fn server(rate: f64) -> (String, Option<TestServer>) {
    server_with(Profile::Faithful, rate).await
}

/// [`server`] with a chosen demo profile (`Designed` shows what the real server cannot yet).
pub(crate) async fn server_with(profile: Profile, rate: f64) -> (String, Option<TestServer>) {
    if let Ok(url) = std::env::var("WK_BASE_URL") {
        return (url, None);
    }
    let server = TestServer::builder()
        .profile(profile)
        .rate(rate)
        .start()
        .await
        .expect("the demo server starts on 127.0.0.1");
    let mut generator = Generator::new(7);
    server.seed_store((0..20).map(|_| generator.killmail()));
    eprintln!(
        "(demo: wk-testkit at {}; set WK_BASE_URL to use a real server)",
        server.base_url()
    );
    (server.base_url(), Some(server))
}

/// How long an example waits for live kills before it stops.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);
