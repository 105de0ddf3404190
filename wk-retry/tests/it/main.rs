//! The retry middleware driven one step at a time with `tower_test::mock` and paused tokio time.

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use tokio::time::Instant;
use tower::{Layer, Service, ServiceExt};
use tower_test::mock::{self, Handle, SendResponse};
use wk_retry::{Backoff, BackoffConfig, BudgetConfig, RetryConfig, RetryLayer, RetryMode};

type Req = Request<Bytes>;
type Res = Response<()>;

fn config() -> RetryConfig {
    RetryConfig::default()
        .backoff(
            BackoffConfig::default()
                .base(Duration::from_millis(100))
                .seed(9),
        )
        .budget(None)
}

fn get() -> Req {
    Request::get("http://127.0.0.1/api/v1/killmail/1")
        .body(Bytes::new())
        .unwrap()
}

fn status(code: u16) -> Res {
    Response::builder().status(code).body(()).unwrap()
}

fn status_after(code: u16, retry_after: &str) -> Res {
    Response::builder()
        .status(code)
        .header("retry-after", retry_after)
        .body(())
        .unwrap()
}

/// Starts one call through a retry layer over a mock; returns the call's task and the mock handle.
fn start(
    config: RetryConfig,
    req: Req,
) -> (
    tokio::task::JoinHandle<Result<Res, wk_retry::BoxError>>,
    Handle<Req, Res>,
) {
    let (mock, handle) = mock::pair::<Req, Res>();
    let mut svc = RetryLayer::new(config).layer(mock);
    let task = tokio::spawn(async move { svc.ready().await?.call(req).await });
    (task, handle)
}

async fn next(handle: &mut Handle<Req, Res>) -> (Req, SendResponse<Res>) {
    handle.next_request().await.expect("a request")
}

/// Asserts that no further request reaches the mock (paused time makes the timeout instant).
async fn assert_no_more(handle: &mut Handle<Req, Res>) {
    // Either nothing arrives, or the service was dropped (the channel closes with `None`).
    let more = tokio::time::timeout(Duration::from_secs(3600), handle.next_request()).await;
    assert!(!matches!(more, Ok(Some(_))), "an unexpected retry was sent");
}

/// Tokio's timer ticks in whole milliseconds, so a sleep lands within 1 ms after its deadline.
fn assert_waited(waited: Duration, expected: Duration) {
    assert!(
        waited >= expected && waited <= expected + Duration::from_millis(1),
        "waited {waited:?}, expected {expected:?}"
    );
}

/// Answers the pending attempt with `resp` and measures how long until the retry arrives.
async fn answer_then_time(
    handle: &mut Handle<Req, Res>,
    send: SendResponse<Res>,
    resp: Res,
) -> (Duration, Req, SendResponse<Res>) {
    send.send_response(resp);
    let t0 = Instant::now();
    let (req, send) = next(handle).await;
    (t0.elapsed(), req, send)
}

#[tokio::test(start_paused = true)]
async fn backoff_delays_follow_the_seeded_schedule() {
    let cfg = config().max_retries(3);
    let mut expected = Backoff::new(cfg.backoff.clone());
    let (task, mut handle) = start(cfg, get());
    let (_, mut send) = next(&mut handle).await;
    for _ in 0..3 {
        let (waited, req, next_send) = answer_then_time(&mut handle, send, status(503)).await;
        assert_waited(waited, expected.next_delay());
        assert_eq!(req.uri(), "http://127.0.0.1/api/v1/killmail/1");
        send = next_send;
    }
    // The fourth attempt is the last: its answer is returned as it is.
    send.send_response(status(502));
    let resp = task.await.unwrap().unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_GATEWAY);
    assert_no_more(&mut handle).await;
}

#[tokio::test(start_paused = true)]
async fn success_after_a_retry_is_returned() {
    let (task, mut handle) = start(config(), get());
    let (_, send) = next(&mut handle).await;
    let (_, _, send) = answer_then_time(&mut handle, send, status(500)).await;
    send.send_response(status(200));
    assert_eq!(task.await.unwrap().unwrap().status(), StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn retry_after_delta_seconds_is_honoured() {
    let (task, mut handle) = start(config(), get());
    let (_, send) = next(&mut handle).await;
    let (waited, _, send) = answer_then_time(&mut handle, send, status_after(429, "2")).await;
    assert_waited(waited, Duration::from_secs(2));
    let (waited, _, send) = answer_then_time(&mut handle, send, status_after(503, "0")).await;
    assert_waited(waited, Duration::ZERO);
    send.send_response(status(200));
    assert_eq!(task.await.unwrap().unwrap().status(), StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn retry_after_http_date_is_honoured() {
    let (task, mut handle) = start(config(), get());
    let (_, send) = next(&mut handle).await;
    // HTTP dates have whole-second resolution, so the wait is within the last second before it.
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(5));
    let (waited, _, send) = answer_then_time(&mut handle, send, status_after(503, &at)).await;
    assert!(
        waited >= Duration::from_secs(3)
            && waited <= Duration::from_secs(5) + Duration::from_millis(1),
        "{waited:?}"
    );
    send.send_response(status(200));
    assert_eq!(task.await.unwrap().unwrap().status(), StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_capped() {
    let cfg = config().max_retry_after(Duration::from_secs(10));
    let (task, mut handle) = start(cfg, get());
    let (_, send) = next(&mut handle).await;
    let (waited, _, send) = answer_then_time(&mut handle, send, status_after(503, "3600")).await;
    assert_waited(waited, Duration::from_secs(10));
    send.send_response(status(204));
    assert_eq!(
        task.await.unwrap().unwrap().status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test(start_paused = true)]
async fn garbage_retry_after_falls_back_to_backoff() {
    let cfg = config();
    let mut expected = Backoff::new(cfg.backoff.clone());
    let (task, mut handle) = start(cfg, get());
    let (_, send) = next(&mut handle).await;
    let (waited, _, send) = answer_then_time(&mut handle, send, status_after(503, "soon")).await;
    assert_waited(waited, expected.next_delay());
    send.send_response(status(200));
    assert_eq!(task.await.unwrap().unwrap().status(), StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn client_errors_are_not_retried() {
    for code in [400, 401, 403, 404, 406, 413, 501] {
        let (task, mut handle) = start(config(), get());
        let (_, send) = next(&mut handle).await;
        send.send_response(status(code));
        assert_eq!(task.await.unwrap().unwrap().status().as_u16(), code);
        assert_no_more(&mut handle).await;
    }
}

#[tokio::test(start_paused = true)]
async fn request_timeout_status_is_retried() {
    let (task, mut handle) = start(config(), get());
    let (_, send) = next(&mut handle).await;
    let (_, _, send) = answer_then_time(&mut handle, send, status(408)).await;
    send.send_response(status(200));
    assert_eq!(task.await.unwrap().unwrap().status(), StatusCode::OK);
}

#[tokio::test(start_paused = true)]
async fn transport_errors_are_retried_and_the_last_one_returned() {
    let (task, mut handle) = start(config().max_retries(1), get());
    let (_, send) = next(&mut handle).await;
    send.send_error(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "reset",
    ));
    let (_, send) = next(&mut handle).await;
    send.send_error(std::io::Error::new(
        std::io::ErrorKind::ConnectionRefused,
        "refused",
    ));
    let err = task.await.unwrap().unwrap_err();
    assert_eq!(err.to_string(), "refused");
    assert_no_more(&mut handle).await;
}

#[tokio::test(start_paused = true)]
async fn error_classifier_can_refuse() {
    let cfg = config().retry_error(|e| !e.to_string().contains("fatal"));
    let (task, mut handle) = start(cfg, get());
    let (_, send) = next(&mut handle).await;
    send.send_error(std::io::Error::other("fatal"));
    assert!(task.await.unwrap().is_err());
    assert_no_more(&mut handle).await;
}

#[tokio::test(start_paused = true)]
async fn post_is_not_retried_unless_opted_in() {
    let post = || {
        Request::post("http://127.0.0.1/api/v1/subscriptions")
            .body(Bytes::from_static(b"{}"))
            .unwrap()
    };
    let (task, mut handle) = start(config(), post());
    let (_, send) = next(&mut handle).await;
    send.send_response(status(503));
    assert_eq!(
        task.await.unwrap().unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_no_more(&mut handle).await;

    let mut opted = post();
    opted.extensions_mut().insert(RetryMode::Always);
    let (task, mut handle) = start(config(), opted);
    let (_, send) = next(&mut handle).await;
    let (_, req, send) = answer_then_time(&mut handle, send, status(503)).await;
    assert_eq!(
        req.body(),
        &Bytes::from_static(b"{}"),
        "the body is replayed"
    );
    assert_eq!(req.method(), http::Method::POST);
    send.send_response(status(201));
    assert_eq!(task.await.unwrap().unwrap().status(), StatusCode::CREATED);
}

#[tokio::test(start_paused = true)]
async fn get_can_opt_out() {
    let mut req = get();
    req.extensions_mut().insert(RetryMode::Never);
    let (task, mut handle) = start(config(), req);
    let (_, send) = next(&mut handle).await;
    send.send_response(status(503));
    assert_eq!(
        task.await.unwrap().unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_no_more(&mut handle).await;
}

/// A request extension a layer below might read (a timeout, a tracing context).
#[derive(Clone, Debug, PartialEq)]
struct Marker(u32);

#[tokio::test(start_paused = true)]
async fn headers_are_replayed() {
    let mut req = get();
    req.headers_mut().insert(
        "x-request-id",
        "abcdefghijklmnopqrstuvwxyz".parse().unwrap(),
    );
    req.extensions_mut().insert(Marker(7));
    let (task, mut handle) = start(config(), req);
    let (_, send) = next(&mut handle).await;
    let (_, retried, send) = answer_then_time(&mut handle, send, status(500)).await;
    assert_eq!(
        retried.headers()["x-request-id"],
        "abcdefghijklmnopqrstuvwxyz"
    );
    assert_eq!(
        retried.extensions().get::<Marker>(),
        Some(&Marker(7)),
        "extensions are replayed"
    );
    send.send_response(status(200));
    task.await.unwrap().unwrap();
}

#[tokio::test(start_paused = true)]
async fn streaming_bodies_are_never_retried() {
    type Streaming = http_body_util::combinators::UnsyncBoxBody<Bytes, std::convert::Infallible>;
    let (mock, mut handle) = mock::pair::<Request<Streaming>, Res>();
    let mut svc = RetryLayer::new(config()).layer(mock);
    let body = Streaming::new(http_body_util::Full::new(Bytes::from_static(b"x")));
    let req = Request::get("http://127.0.0.1/").body(body).unwrap();
    let task = tokio::spawn(async move { svc.ready().await?.call(req).await });
    let (_, send) = handle.next_request().await.unwrap();
    send.send_response(status(503));
    assert_eq!(
        task.await.unwrap().unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    let more = tokio::time::timeout(Duration::from_secs(3600), handle.next_request()).await;
    assert!(!matches!(more, Ok(Some(_))), "a streaming body was retried");
}

#[tokio::test(start_paused = true)]
async fn an_empty_budget_allows_no_retries() {
    let cfg = config().budget(Some(
        BudgetConfig::default().min_per_sec(0).retry_percent(0.0),
    ));
    let (task, mut handle) = start(cfg, get());
    let (_, send) = next(&mut handle).await;
    send.send_response(status(503));
    assert_eq!(
        task.await.unwrap().unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_no_more(&mut handle).await;
}

#[tokio::test(start_paused = true)]
async fn the_budget_is_shared_and_runs_out() {
    // A budget of about 10 retries: one layer, many failing requests; retries stop once it is spent.
    let cfg = config().max_retries(1).budget(Some(
        BudgetConfig::default()
            .ttl(Duration::from_secs(1))
            .min_per_sec(10)
            .retry_percent(0.0),
    ));
    let (mock, mut handle) = mock::pair::<Req, Res>();
    let layer = RetryLayer::new(cfg);
    let mut tasks = Vec::new();
    for _ in 0..40 {
        let mut svc = layer.layer(mock.clone());
        tasks.push(tokio::spawn(
            async move { svc.ready().await?.call(get()).await },
        ));
    }
    let mut requests = 0;
    while let Ok(Some((_, send))) =
        tokio::time::timeout(Duration::from_secs(60), handle.next_request()).await
    {
        requests += 1;
        send.send_response(status(503));
    }
    for t in tasks {
        assert_eq!(
            t.await.unwrap().unwrap().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
    let retries = requests - 40;
    eprintln!("retries allowed by the budget: {retries}");
    assert!((8..=12).contains(&retries), "retries allowed: {retries}");
}
