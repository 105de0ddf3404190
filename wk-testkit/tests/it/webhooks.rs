//! Webhooks (§9): the designed profile POSTs per §9.3; the faithful one never does.

use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use axum::routing::post;
use tokio::sync::mpsc;
use wk_testkit::{Profile, TestServer};

use crate::support::{example_kill, post_json};

async fn receiver() -> (String, mpsc::UnboundedReceiver<(HeaderMap, String)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let tx = Arc::new(tx);
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let tx = Arc::clone(&tx);
            async move {
                let _ = tx.send((headers, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

async fn subscribe(s: &TestServer, url: &str) {
    let body =
        serde_json::json!({"subscriber_id": "bot", "callback_url": url, "system_ids": [30002813]});
    assert_eq!(
        post_json(s.addr(), "/api/v1/subscriptions", &body.to_string())
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn designed_delivers_per_9_3() {
    let s = TestServer::start(Profile::Designed).await.unwrap();
    let (url, mut rx) = receiver().await;
    subscribe(&s, &url).await;
    s.inject(example_kill());
    let (headers, body) = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["user-agent"], "WandererKills/1.0");
    assert_eq!(headers["accept"], "application/json");
    match wk_types::webhook::parse(body.as_bytes()).unwrap() {
        wk_types::webhook::WebhookBody::KillmailUpdate(k) => {
            assert_eq!(k.system_id.get(), 30002813);
            assert_eq!(k.kills[0].killmail_id.get(), 131588274);
        }
        other => panic!("unexpected body {other:?}"),
    }
    assert!(
        body.starts_with(r#"{"kills":[{"attacker_count":3,"#),
        "{body}"
    );
    s.wait_for(Duration::from_secs(5), |st| st.webhook_deliveries == 1)
        .await
        .unwrap();
}

#[tokio::test]
async fn designed_counts_failed_deliveries() {
    let s = TestServer::start(Profile::Designed).await.unwrap();
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", closed.local_addr().unwrap());
    drop(closed);
    subscribe(&s, &url).await;
    s.inject(example_kill());
    s.wait_for(Duration::from_secs(5), |st| st.webhook_failures == 1)
        .await
        .unwrap();
}

#[tokio::test]
async fn faithful_never_delivers() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let (url, mut rx) = receiver().await;
    subscribe(&s, &url).await;
    s.inject(example_kill());
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err()
    );
    assert_eq!(s.state().webhook_deliveries + s.state().webhook_failures, 0);
}
