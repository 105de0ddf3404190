//! The webhook receiver: every refusal, and end to end with the designed testkit delivering.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderName, Request, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper_util::rt::TokioIo;
use tower::ServiceExt;
use wk_realtime::webhook::{self, Config, ReceiverService, WebhookStream};
use wk_realtime::{KillEvent, Origin};
use wk_testkit::{Generator, Profile};
use wk_types::SystemId;
use wk_types::http::CreateSubscription;

use crate::support::{WAIT, start};

const JITA: SystemId = SystemId::new(30000142);

fn post(body: impl Into<Bytes>) -> Request<Full<Bytes>> {
    Request::post("/hook")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(body.into()))
        .unwrap()
}

async fn status<B>(svc: &ReceiverService, req: Request<B>) -> StatusCode
where
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    svc.clone().oneshot(req).await.unwrap().status()
}

fn kills_body(kills: &[wk_types::Killmail]) -> String {
    let body = wk_types::webhook::WebhookBody::KillmailUpdate(
        wk_types::webhook::WebhookKills::new(JITA, kills.to_vec(), None),
    );
    serde_json::to_string(&body).unwrap()
}

async fn next(events: &mut WebhookStream) -> KillEvent {
    tokio::time::timeout(WAIT, events.next())
        .await
        .expect("an event in time")
        .expect("stream open")
        .expect("never an error")
}

#[tokio::test]
async fn accepts_kills_and_counts_once_each() {
    let (svc, mut events) = webhook::receiver(Config::default());
    let mut generator = Generator::new(51);
    let (a, b) = (generator.killmail_in(JITA), generator.killmail_in(JITA));
    assert_eq!(
        status(&svc, post(kills_body(&[a.clone(), b.clone()]))).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        status(&svc, post(kills_body(std::slice::from_ref(&a)))).await,
        StatusCode::NO_CONTENT
    );
    let count = r#"{"type":"killmail_count_update","system_id":30000142,"count":4,"timestamp":"2025-12-03T14:25:02.417735Z"}"#;
    assert_eq!(status(&svc, post(count)).await, StatusCode::NO_CONTENT);
    for want in [&a, &b] {
        let KillEvent::Kill(kill) = next(&mut events).await else {
            panic!("a kill")
        };
        assert_eq!(
            (kill.killmail.killmail_id, kill.origin),
            (want.killmail_id, Origin::Live)
        );
    }
    let KillEvent::KillCount(update) = next(&mut events).await else {
        panic!("a count")
    };
    assert_eq!((update.system_id, update.count), (JITA, 4));
}

#[tokio::test]
async fn refuses_what_it_must() {
    let config = Config::default()
        .max_body(1024)
        .secret(HeaderName::from_static("x-wk-secret"), "s3cret");
    let (svc, _events) = webhook::receiver(config);
    let ok = || {
        let mut req = post(r#"{"type":"killmail_count_update","system_id":1,"count":1}"#);
        req.headers_mut()
            .insert("x-wk-secret", "s3cret".parse().unwrap());
        req
    };
    assert_eq!(status(&svc, ok()).await, StatusCode::NO_CONTENT);
    let mut no_secret = ok();
    no_secret.headers_mut().remove("x-wk-secret");
    assert_eq!(status(&svc, no_secret).await, StatusCode::UNAUTHORIZED);
    let mut wrong = ok();
    wrong
        .headers_mut()
        .insert("x-wk-secret", "s3creT".parse().unwrap());
    assert_eq!(status(&svc, wrong).await, StatusCode::UNAUTHORIZED);
    let mut get = ok();
    *get.method_mut() = http::Method::GET;
    assert_eq!(status(&svc, get).await, StatusCode::METHOD_NOT_ALLOWED);
    let mut text = ok();
    text.headers_mut()
        .insert(header::CONTENT_TYPE, "text/plain".parse().unwrap());
    assert_eq!(status(&svc, text).await, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let mut bad = ok();
    *bad.body_mut() = Full::new(Bytes::from_static(b"{\"type\":\"nope\"}"));
    let resp = svc.clone().oneshot(bad).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let text = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(&text[..], b"not a webhook body");
    let mut declared = ok();
    declared
        .headers_mut()
        .insert(header::CONTENT_LENGTH, "4096".parse().unwrap());
    assert_eq!(status(&svc, declared).await, StatusCode::PAYLOAD_TOO_LARGE);
    // Streamed without a length: cut off at the limit, never collected whole.
    let chunks = (0..64).map(|_| Ok::<_, Infallible>(Frame::data(Bytes::from(vec![b' '; 64]))));
    let streamed = Request::post("/hook")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-wk-secret", "s3cret")
        .body(StreamBody::new(futures_util::stream::iter(chunks)))
        .unwrap();
    assert_eq!(status(&svc, streamed).await, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn answers_503_when_nobody_listens() {
    let (svc, events) = webhook::receiver(Config::default());
    drop(events);
    let body = r#"{"type":"killmail_count_update","system_id":1,"count":1}"#;
    assert_eq!(
        status(&svc, post(body)).await,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[cfg(feature = "hub")]
#[tokio::test]
async fn also_feeds_a_hub() {
    use wk_realtime::hub::{Hub, Topic};
    let hub = Hub::new();
    let mut jita = hub.subscribe(Topic::System(JITA));
    let (svc, _events) = webhook::receiver(Config::default().hub(hub.clone()));
    let km = Generator::new(52).killmail_in(JITA);
    assert_eq!(
        status(&svc, post(kills_body(std::slice::from_ref(&km)))).await,
        StatusCode::NO_CONTENT
    );
    let got = tokio::time::timeout(WAIT, jita.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.killmail().unwrap().killmail_id, km.killmail_id);
}

/// Serves `svc` with bare hyper on `127.0.0.1:0`.
async fn serve(svc: ReceiverService) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let svc = svc.clone();
            tokio::spawn(async move {
                let hyper_svc = hyper::service::service_fn(move |req| svc.clone().oneshot(req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), hyper_svc)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_designed_server_delivers_end_to_end() {
    let server = start(Profile::Designed).await;
    let (svc, mut events) = webhook::receiver(Config::default());
    let addr = serve(svc).await;
    let http = wk_http::Client::new(&server.base_url()).unwrap();
    http.create_subscription(
        &CreateSubscription::new("wk-realtime-tests", format!("http://{addr}/hooks/wk"))
            .systems([JITA]),
    )
    .await
    .unwrap();
    let kill = Generator::new(53).killmail_in(JITA);
    server.inject(kill.clone());
    let KillEvent::Kill(got) = next(&mut events).await else {
        panic!("a kill")
    };
    assert_eq!(
        (got.killmail.killmail_id, got.origin),
        (kill.killmail_id, Origin::Live)
    );
    let state = server
        .wait_for(WAIT, |s| s.webhook_deliveries == 1)
        .await
        .expect("the server saw a 2xx");
    assert_eq!(state.webhook_failures, 0);
    tokio::time::sleep(Duration::from_millis(10)).await;
}
