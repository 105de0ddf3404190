//! Retries, timeouts and bad bodies against injected faults.

use std::time::Duration;

use wk_http::Error;
use wk_testkit::{Fault, Profile};

use super::{client, start};

#[tokio::test]
async fn a_503_burst_with_retry_after_is_recovered() {
    let server = start(Profile::Faithful).await;
    server.fault(Fault::HttpStatus {
        status: 503,
        retry_after: Some(0),
        count: 2,
    });
    assert_eq!(client(&server).ping().await.unwrap(), "pong");
    assert_eq!(server.state().http_requests, 3);
}

#[tokio::test]
async fn retry_after_is_reported_when_retries_run_out() {
    let server = start(Profile::Faithful).await;
    server.fault(Fault::HttpStatus {
        status: 429,
        retry_after: Some(0),
        count: 100,
    });
    let http = wk_http::Client::builder()
        .base_url(server.base_url())
        .no_retry()
        .build()
        .unwrap();
    let err = http.ping().await.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(429));
    assert_eq!(err.retry_after(), Some(Duration::ZERO));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn bad_json_names_the_path() {
    let server = start(Profile::Faithful).await;
    server.fault(Fault::GarbageBody { count: 1 });
    let err = client(&server).subscriptions().await.unwrap_err();
    let Error::Decode(decode) = &err else {
        panic!("{err:?}")
    };
    assert!(decode.path().is_some());
    assert_eq!(decode.status().map(|s| s.as_u16()), Some(200));
    server.fault(Fault::TruncateBody { count: 1 });
    let err = client(&server).subscription_stats().await.unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
}

#[tokio::test]
async fn slow_responses_time_out_per_attempt() {
    let server = start(Profile::Faithful).await;
    server.fault(Fault::Delay(Duration::from_millis(300)));
    let http = wk_http::Client::builder()
        .base_url(server.base_url())
        .timeout(Duration::from_millis(100))
        .retry(
            wk_retry::RetryConfig::default()
                .max_retries(1)
                .backoff(wk_retry::BackoffConfig::default().base(Duration::from_millis(1))),
        )
        .build()
        .unwrap();
    let err = http.health().await.unwrap_err();
    let Error::Timeout(t) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(t.after(), Duration::from_millis(100));
    assert!(err.is_retryable());
    assert_eq!(
        server.state().http_requests,
        2,
        "the timed-out attempt was retried once"
    );
    // A per-request timeout wins over the client-wide one.
    let page = http
        .system_kills(wk_types::SystemId::new(30000142))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(page.is_ok(), "{page:?}");
}

#[tokio::test]
async fn connection_refused_is_a_transport_error_not_sent() {
    let server = start(Profile::Faithful).await;
    let url = server.base_url();
    server.shutdown().await;
    let http = wk_http::Client::builder()
        .base_url(url)
        .no_retry()
        .build()
        .unwrap();
    let err = http.ping().await.unwrap_err();
    let Error::Transport(t) = &err else {
        panic!("{err:?}")
    };
    assert!(t.is_connect());
    assert!(!err.was_sent());
}

#[tokio::test]
async fn a_connection_dropped_mid_response_is_retried() {
    let server = start(Profile::Faithful).await;
    server.fault(Fault::CutBody { count: 2 });
    let list = client(&server).subscriptions().await.unwrap();
    assert_eq!(list.count, 0);
    assert_eq!(
        server.state().http_requests,
        3,
        "two cut responses, then a whole one"
    );

    server.fault(Fault::CutBody { count: 1 });
    let http = wk_http::Client::builder()
        .base_url(server.base_url())
        .no_retry()
        .build()
        .unwrap();
    let err = http.subscriptions().await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(err.was_sent());
}

#[tokio::test]
async fn a_reset_before_any_response_is_retried() {
    let server = start(Profile::Faithful).await;
    server.fault(Fault::ResetHttp { count: 1 });
    assert_eq!(client(&server).ping().await.unwrap(), "pong");
    assert_eq!(server.state().http_requests, 2);
}
