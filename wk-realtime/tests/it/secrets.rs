//! Credentials never reach `Debug` output, errors or logs: URLs with `user:password@` or a
//! `?token=`, and the webhook shared secret. Logs are captured with a minimal `tracing` subscriber
//! set for this thread (the tests run on a current-thread runtime, so every task logs here).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use wk_realtime::Filter;
use wk_testkit::{Generator, Profile};
use wk_types::SystemId;

use crate::support::{WAIT, start};

/// Every span field and event field ever recorded, as text.
#[derive(Clone, Default)]
struct Capture {
    text: Arc<Mutex<String>>,
    ids: Arc<AtomicU64>,
}

struct Fields<'a>(&'a mut String);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={value:?} ", field.name());
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, span: &Attributes<'_>) -> Id {
        span.record(&mut Fields(&mut self.text.lock().unwrap()));
        Id::from_u64(self.ids.fetch_add(1, Ordering::Relaxed) + 1)
    }
    fn record(&self, _: &Id, values: &Record<'_>) {
        values.record(&mut Fields(&mut self.text.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        event.record(&mut Fields(&mut self.text.lock().unwrap()));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn assert_clean(what: &str, text: &str) {
    for secret in ["hunter2", "hunter3", "hunter4"] {
        assert!(!text.contains(secret), "{what} shows `{secret}`: {text}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn websocket_urls_are_redacted_in_logs_debug_and_errors() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let server = start(Profile::Faithful).await;
    let url = format!("http://{}/?token=hunter3&vsn=1", server.addr());
    let builder = wk_realtime::ws::Client::builder(url.as_str()).client_id("bot");
    assert_clean("ClientBuilder Debug", &format!("{builder:?}"));
    let client = tokio::time::timeout(WAIT, builder.connect())
        .await
        .unwrap()
        .unwrap();
    let mut sub = client
        .subscribe(Filter::new().systems([SystemId::new(30000142)]))
        .await
        .unwrap();
    server.inject(Generator::new(3).killmail_in(SystemId::new(30000142)));
    crate::support::next_kill(&mut sub).await;
    assert_clean("Client Debug", &format!("{client:?} {sub:?}"));
    // URLs the client refuses: the errors and their Debug are redacted too.
    for bad in [
        "ftp://127.0.0.1/?api_key=hunter4".to_owned(),
        format!("http://bot:hunter2@{}/", server.addr()),
    ] {
        let e = wk_realtime::ws::Client::builder(bad)
            .connect()
            .await
            .unwrap_err();
        assert!(matches!(e, wk_realtime::Error::Url(_)), "{e:?}");
        assert_clean("Error", &format!("{e} {e:?}"));
    }
    let logs = capture.text.lock().unwrap().clone();
    assert!(logs.contains("token=***"), "the URL was logged: {logs}");
    assert_clean("logs", &logs);
}

#[cfg(feature = "sse")]
#[tokio::test(flavor = "current_thread")]
async fn sse_urls_are_redacted_in_logs_debug_and_errors() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let server = start(Profile::Faithful).await;
    let base = format!("http://bot:hunter2@{}", server.addr());
    let builder = wk_realtime::sse::Client::builder(base.as_str());
    assert_clean("ClientBuilder Debug", &format!("{builder:?}"));
    // Userinfo is refused (never sent, and the HTTP stack would log it), with a redacted error.
    let e = builder.build().unwrap_err();
    assert!(matches!(e, wk_realtime::Error::Url(_)), "{e:?}");
    assert_clean("Error", &format!("{e} {e:?}"));
    let client = wk_realtime::sse::Client::new(server.base_url()).unwrap();
    let outcome = tokio::time::timeout(
        Duration::from_secs(5),
        client.subscribe(Filter::new().systems([SystemId::new(30000142)])),
    )
    .await;
    assert!(matches!(outcome, Ok(Ok(_))), "{outcome:?}");
    let e = wk_realtime::sse::Client::new("gopher://bot:hunter2@h/?token=hunter3").unwrap_err();
    assert_clean("Error", &format!("{e} {e:?}"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_clean("logs", &capture.text.lock().unwrap());
}

#[cfg(feature = "webhook")]
#[tokio::test(flavor = "current_thread")]
async fn the_webhook_secret_never_shows() {
    use bytes::Bytes;
    use http_body_util::Full;
    use tower::ServiceExt;
    use wk_realtime::webhook::{self, Secret};

    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.clone());
    let header = http::HeaderName::from_static("x-wk-secret");
    let config = webhook::Config::default().secret(header.clone(), Secret::from("hunter2"));
    assert_clean("Config Debug", &format!("{config:?}"));
    let (service, stream) = webhook::receiver(config);
    assert_clean("service Debug", &format!("{service:?} {stream:?}"));
    for given in ["hunter4", "hunter2"] {
        let req = http::Request::post("/hook")
            .header(&header, given)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(b"{\"type\":\"nope\"}")))
            .unwrap();
        let resp = service.clone().oneshot(req).await.unwrap();
        let expected = if given == "hunter2" { 400 } else { 401 };
        assert_eq!(resp.status().as_u16(), expected);
        assert_clean("response", &format!("{resp:?}"));
    }
    assert_clean("logs", &capture.text.lock().unwrap());
}
