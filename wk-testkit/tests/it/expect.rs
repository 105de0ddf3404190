//! Expectations over real sockets: counts, scripted answers, what never counts, the drop check.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wk_testkit::{Answer, Fault, Profile, Route, TestServer};

use crate::support::{capsule_kill, get, post_json, request};

const JITA: &str = "/api/v1/kills/system/30000142";

async fn server() -> TestServer {
    TestServer::start(Profile::Faithful).await.unwrap()
}

/// Runs `f` on a thread of its own with a current-thread runtime, and returns its panic message.
fn panic_message(f: impl FnOnce() + Send + 'static) -> Option<String> {
    let payload = std::thread::spawn(f).join().err()?;
    Some(match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => (*payload.downcast::<&str>().expect("a string panic")).to_owned(),
    })
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[tokio::test]
async fn exactly_n_met_then_unmet() {
    let s = server().await;
    let jita = s.expect(Route::get(JITA)).times(1);
    assert_eq!(
        s.try_verify().unwrap_err().to_string(),
        format!("expected GET {JITA} to be called exactly 1 time, it was called 0 times")
    );
    assert_eq!(get(s.addr(), JITA).await.status, 200);
    assert_eq!(jita.calls(), 1);
    s.try_verify().unwrap();
    s.verify();

    // The trailing slash and the query string do not change the route.
    get(s.addr(), &format!("{JITA}/?limit=5")).await;
    assert_eq!(jita.calls(), 2);
    let err = s.try_verify().unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("expected GET {JITA} to be called exactly 1 time, it was called 2 times")
    );
    let [unmet] = err.unmet() else {
        panic!("one unmet expectation: {err:?}")
    };
    assert_eq!(
        (unmet.route(), unmet.min(), unmet.max(), unmet.calls()),
        (&Route::get(JITA), 1, Some(1), 2)
    );
    // Reported, so dropping the server does not panic.
}

#[tokio::test]
async fn at_least_at_most_and_the_default() {
    let s = server().await;
    let _count = s
        .expect(Route::get("/api/v1/kills/count/30000142"))
        .at_least(2);
    let _cached = s.expect(Route::get("/api/v1/kills/cached/30000142"));
    let _ping = s.expect(Route::any("/ping")).at_most(1);
    get(s.addr(), "/api/v1/kills/count/30000142").await;
    get(s.addr(), "/ping").await;
    get(s.addr(), "/ping").await;
    assert_eq!(
        s.try_verify().unwrap_err().to_string(),
        [
            "expected GET /api/v1/kills/count/30000142 to be called at least 2 times, it was called 1 time",
            "expected GET /api/v1/kills/cached/30000142 to be called at least 1 time, it was called 0 times",
            "expected ANY /ping to be called at most 1 time, it was called 2 times",
        ]
        .join("\n")
    );

    let s = server().await;
    let count = s
        .expect(Route::get("/api/v1/kills/count/30000142"))
        .at_least(2);
    let _between = s.expect(Route::any("/ping")).at_least(1).at_most(2);
    for _ in 0..3 {
        get(s.addr(), "/api/v1/kills/count/30000142").await;
    }
    get(s.addr(), "/ping").await;
    assert_eq!(count.calls(), 3);
    s.verify();
}

#[tokio::test]
async fn scripted_429_with_retry_after_then_the_real_answer() {
    let s = server().await;
    s.seed_store([capsule_kill()]);
    let jita = s
        .expect(Route::get(JITA))
        .times(2)
        .respond_first(Answer::status(429).retry_after(Duration::from_secs(1)));

    let r = get(s.addr(), JITA).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.header("x-request-id").is_some());
    assert_eq!(
        r.json(),
        json!({"error": "Too Many Requests", "status": "429"})
    );

    let r = get(s.addr(), JITA).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("retry-after"), None);
    let v = r.json();
    assert_eq!(v["data"]["cached"], false);
    assert!(v["timestamp"].is_string(), "{v}");
    assert_eq!(v["data"]["kills"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(jita.calls(), 2);
    s.verify();
}

#[tokio::test]
async fn several_scripted_answers_in_order() {
    let s = server().await;
    let _systems = s
        .expect(Route::post("/api/v1/kills/systems"))
        .times(3)
        .respond_first(Answer::status(503).retry_after(Duration::from_millis(200)))
        .then(Answer::status(500).json(json!({"error": "scripted", "code": "X"})));
    let body = r#"{"system_ids":[30000142]}"#;
    let r = post_json(s.addr(), "/api/v1/kills/systems", body).await;
    assert_eq!((r.status, r.header("retry-after")), (503, Some("1")));
    assert_eq!(
        r.json(),
        json!({"error": "Service Unavailable", "status": "503"})
    );
    let r = post_json(s.addr(), "/api/v1/kills/systems", body).await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(r.json(), json!({"code": "X", "error": "scripted"}));
    let r = post_json(s.addr(), "/api/v1/kills/systems", body).await;
    assert_eq!(r.status, 200);
    assert!(
        r.json()["data"]["systems_kills"].is_object(),
        "{}",
        r.text()
    );
    s.verify();
}

#[tokio::test]
async fn testkit_routes_never_count() {
    let s = server().await;
    let state = s.expect(Route::get("/_testkit/state")).at_least(1);
    let faults = s.expect(Route::any("/_testkit/faults")).at_least(1);
    assert_eq!(get(s.addr(), "/_testkit/state").await.status, 200);
    assert_eq!(get(s.addr(), "/_testkit/state/").await.status, 200);
    post_json(s.addr(), "/_testkit/faults", r#"{"clear":true}"#).await;
    assert_eq!((state.calls(), faults.calls()), (0, 0));
    assert_eq!(
        s.try_verify().unwrap_err().to_string(),
        "expected GET /_testkit/state to be called at least 1 time, it was called 0 times\n\
         expected ANY /_testkit/faults to be called at least 1 time, it was called 0 times"
    );
}

#[tokio::test]
async fn method_mismatch_does_not_count() {
    let s = server().await;
    let get_systems = s.expect(Route::get("/api/v1/kills/systems")).times(1);
    let any_systems = s.expect(Route::any("/api/v1/kills/systems")).times(2);
    let delete_jita = s.expect(Route::delete(JITA)).times(0);
    post_json(s.addr(), "/api/v1/kills/systems", r#"{"system_ids":[1]}"#).await;
    request(s.addr(), "PUT", "/api/v1/kills/systems", &[], "").await;
    get(s.addr(), JITA).await;
    assert_eq!(
        (
            get_systems.calls(),
            any_systems.calls(),
            delete_jita.calls()
        ),
        (0, 2, 0)
    );
    assert_eq!(
        s.try_verify().unwrap_err().to_string(),
        "expected GET /api/v1/kills/systems to be called exactly 1 time, it was called 0 times"
    );
}

#[tokio::test]
async fn faulted_requests_count() {
    let s = server().await;
    let jita = s.expect(Route::get(JITA)).times(3);
    s.fault(Fault::HttpStatus {
        status: 503,
        retry_after: None,
        count: 1,
    });
    assert_eq!(get(s.addr(), JITA).await.status, 503);
    s.fault(Fault::FetchError { count: 1 });
    assert_eq!(get(s.addr(), JITA).await.status, 500);
    s.fault(Fault::ResetHttp { count: 1 });
    let mut sock = tokio::net::TcpStream::connect(s.addr()).await.unwrap();
    let req = format!("GET {JITA} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = sock.read_to_end(&mut raw).await;
    assert!(raw.is_empty(), "reset without a response");
    assert_eq!(jita.calls(), 3);
    s.verify();
}

#[test]
fn dropping_an_unmet_server_panics() {
    let msg = panic_message(|| {
        block_on(async {
            let s = server().await;
            let _jita = s.expect(Route::get(JITA)).times(1);
        });
    });
    assert_eq!(
        msg.as_deref(),
        Some(
            "expected GET /api/v1/kills/system/30000142 to be called exactly 1 time, it was called 0 times\n\
             (checked when the TestServer was dropped)"
        )
    );
}

#[test]
fn the_drop_check_skips_what_was_reported_or_met() {
    let msg = panic_message(|| {
        block_on(async {
            let s = server().await;
            let _unmet = s.expect(Route::get(JITA)).times(1);
            let _met = s.expect(Route::get("/ping")).times(1);
            assert!(s.try_verify().is_err());
            get(s.addr(), "/ping").await;
        });
    });
    assert_eq!(msg, None);
}

#[test]
fn the_drop_check_stays_quiet_while_panicking() {
    let msg = panic_message(|| {
        block_on(async {
            let s = server().await;
            let _jita = s.expect(Route::get(JITA)).times(1);
            panic!("the test failed first");
        });
    });
    assert_eq!(msg.as_deref(), Some("the test failed first"));
}

#[test]
fn verify_panics_with_every_unmet_route() {
    let msg = panic_message(|| {
        block_on(async {
            let s = server().await;
            let _a = s.expect(Route::get(JITA)).times(1);
            let _b = s.expect(Route::post("/api/v1/kills/systems")).at_least(1);
            s.verify();
        });
    });
    assert_eq!(
        msg.as_deref(),
        Some(
            "expected GET /api/v1/kills/system/30000142 to be called exactly 1 time, it was called 0 times\n\
             expected POST /api/v1/kills/systems to be called at least 1 time, it was called 0 times"
        )
    );
}

#[test]
fn routes_reject_what_they_cannot_match() {
    assert!(std::panic::catch_unwind(|| Route::get("api/v1/kills/count/1")).is_err());
    assert!(std::panic::catch_unwind(|| Route::get("/api/v1/kills/count/1?x=1")).is_err());
    assert!(std::panic::catch_unwind(|| Answer::status(42)).is_err());
}

/// A setter's handle may be dropped at once: the expectation stays registered and checked.
#[tokio::test]
async fn a_dropped_handle_keeps_its_expectation() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    s.expect(Route::get("/ping")).times(2);
    get(s.addr(), "/ping").await;
    let err = s.try_verify().unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected GET /ping to be called exactly 2 times, it was called 1 time"
    );
}
