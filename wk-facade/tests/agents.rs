//! Every request the facade makes names wk, and the application when one is set: HTTP calls,
//! the WebSocket upgrade, the SSE request and gap recovery, against wk-testkit on 127.0.0.1.

#![cfg(all(feature = "ws", feature = "sse"))]

use std::time::Duration;

use wk_testkit::{Profile, TestServer};

const WAIT: Duration = Duration::from_secs(20);

async fn requests_from(application: Option<&str>) -> (TestServer, String) {
    let server = TestServer::start(Profile::Faithful).await.unwrap();
    let mut builder = wk::Client::builder().base_url(server.base_url());
    if let Some(token) = application {
        builder = builder.application(token);
    }
    let client = builder.build().unwrap();
    client.http().health().await.unwrap();
    let _ws = tokio::time::timeout(
        WAIT,
        client.subscribe(wk::Filter::new().systems([wk::SystemId::new(30_000_142)])),
    )
    .await
    .unwrap()
    .unwrap();
    let _sse = tokio::time::timeout(WAIT, client.sse().subscribe(wk::Filter::everything()))
        .await
        .unwrap()
        .unwrap();
    let agent = wk::types::user_agent(application);
    (server, agent)
}

/// Every request the server saw carried `agent`: health, the upgrade and the SSE request at least.
fn assert_all_carried(server: &TestServer, agent: &str) {
    let st = server.state();
    assert_eq!(st.user_agents.keys().collect::<Vec<_>>(), [agent], "{st:?}");
    assert!(st.user_agents[agent] >= 3, "{:?}", st.user_agents);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_carries_the_wk_user_agent() {
    let (server, agent) = requests_from(None).await;
    assert_eq!(agent, wk::USER_AGENT);
    assert!(agent.starts_with("wk/"));
    assert_all_carried(&server, &agent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_application_token_comes_first() {
    let (server, agent) = requests_from(Some("intel-bot/1.2 (ops@example.org)")).await;
    assert_eq!(
        agent,
        format!("intel-bot/1.2 (ops@example.org) {}", wk::USER_AGENT)
    );
    assert_all_carried(&server, &agent);
}
