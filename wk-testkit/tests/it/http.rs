//! The HTTP API: envelopes, statuses, headers, routes (§5, §6, §10).

use serde_json::{Value, json};
use wk_testkit::{Profile, TestServer};
use wk_types::KillmailId;

use crate::support::{capsule_kill, data, example_kill, get, post_json, request};

#[tokio::test]
async fn infrastructure_routes() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let r = get(s.addr(), "/ping").await;
    assert_eq!((r.status, r.text().as_str()), (200, "pong"));
    assert_eq!(r.header("content-type"), Some("text/plain; charset=utf-8"));
    let r = get(s.addr(), "/health").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["healthy"], true);
    assert_eq!(
        r.header("content-type"),
        Some("application/json; charset=utf-8")
    );
    assert_eq!(
        r.header("cache-control"),
        Some("max-age=0, private, must-revalidate")
    );
    assert_eq!(r.header("x-request-id").map(str::len), Some(20));
    let r = get(s.addr(), "/websocket").await;
    assert_eq!(
        r.json()["websocket_url"],
        format!("ws://{}/socket", s.addr())
    );
    assert_eq!(
        get(s.addr(), "/websocket/status").await.json()["status"],
        "operational"
    );
    assert!(get(s.addr(), "/status").await.json()["summary"].is_object());
    assert!(get(s.addr(), "/metrics").await.json()["components"].is_object());
    assert_eq!(
        get(s.addr(), "/api/openapi").await.json()["openapi"],
        "3.0.0"
    );
    let rid = "abcdefghijklmnopqrstuvwxyz";
    let r = request(s.addr(), "GET", "/ping", &[("x-request-id", rid)], "").await;
    assert_eq!(r.header("x-request-id"), Some(rid));
}

#[tokio::test]
async fn kills_system_faithful_returns_references_and_ignores_since_hours() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let mut old = capsule_kill();
    old.kill_time = Some("2020-01-01T00:00:00Z".parse().unwrap());
    s.seed_store([old]);
    let r = get(
        s.addr(),
        "/api/v1/kills/system/30000142?since_hours=1&limit=5",
    )
    .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["data"]["cached"], false);
    let expected: Value = serde_json::from_str(&data("system_kills.json")).unwrap();
    assert_eq!(
        v["data"]["kills"][0], expected["data"]["kills"][0],
        "zKillboard reference form"
    );
    assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
    // The reference bytes match the example's bytes.
    let body = r.text();
    assert!(body.contains(r#"{"killmail_id":131588301,"zkb":{"awox":false,"destroyedValue":1.0e4,"droppedValue":0.0"#), "{body}");
}

#[tokio::test]
async fn kills_system_designed_returns_canonical_within_window() {
    let s = TestServer::start(Profile::Designed).await.unwrap();
    let mut old = capsule_kill();
    old.kill_time = Some("2020-01-01T00:00:00Z".parse().unwrap());
    s.seed_store([old, example_kill()]);
    let v = get(s.addr(), "/api/v1/kills/system/30002813?since_hours=1")
        .await
        .json();
    assert_eq!(v["data"]["kills"][0]["attacker_count"], 3);
    let v = get(s.addr(), "/api/v1/kills/system/30000142?since_hours=1")
        .await
        .json();
    assert_eq!(v["data"]["kills"], json!([]));
}

#[tokio::test]
async fn bulk_systems() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    s.seed_store([capsule_kill()]);
    let r = post_json(
        s.addr(),
        "/api/v1/kills/systems",
        r#"{"system_ids":[30000142,30000142,31000005,-1],"limit":"10"}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    let v = r.json();
    let sk = &v["data"]["systems_kills"];
    assert_eq!(sk["30000142"][0]["killmail_id"], 131588301);
    assert_eq!(sk["31000005"], json!([]));
    assert_eq!(sk["-1"], json!([]));
    assert_eq!(sk.as_object().unwrap().len(), 3);
}

#[tokio::test]
async fn cached_and_killmail_lookup() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let stored: wk_types::Killmail = serde_json::from_str(&data("killmail_stored.json")).unwrap();
    s.seed_store([capsule_kill(), stored]);
    let r = get(s.addr(), "/api/v1/kills/cached/30002813").await;
    let v = r.json();
    assert_eq!(v["data"]["cached"], true);
    let expected: Value = serde_json::from_str(&data("killmail_stored.json")).unwrap();
    assert_eq!(v["data"]["kills"][0], expected);
    assert_eq!(
        get(s.addr(), "/api/v1/kills/cached/30045349").await.json()["data"]["kills"],
        json!([])
    );

    assert_eq!(
        get(s.addr(), "/api/v1/killmail/131588274").await.json()["data"],
        expected
    );
    let mut up = capsule_kill();
    up.killmail_id = KillmailId::new(5);
    s.set_upstream(up);
    let v = get(s.addr(), "/api/v1/killmail/5").await.json();
    assert_eq!(v["data"]["attacker_count"], 1, "canonical from upstream");
    s.set_kill_older(KillmailId::new(6));
    assert_eq!(
        get(s.addr(), "/api/v1/killmail/6").await.json()["data"],
        "kill_older"
    );
    let r = get(s.addr(), "/api/v1/killmail/7").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"], "Killmail not found");
}

#[tokio::test]
async fn kill_count_per_profile() {
    for (profile, want) in [(Profile::Faithful, 0), (Profile::Designed, 1)] {
        let s = TestServer::start(profile).await.unwrap();
        s.inject(capsule_kill());
        let v = get(s.addr(), "/api/v1/kills/count/30000142").await.json();
        assert_eq!(v["data"]["count"], want, "{profile}");
        assert_eq!(v["data"]["system_id"], 30000142);
    }
}

#[tokio::test]
async fn subscriptions_lifecycle() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let body = r#"{"subscriber_id":"tama-intel-bot","callback_url":"https://hooks.example.org/wk","system_ids":[30002813,30000142,30000142,"x",1.5],"character_ids":[95465499]}"#;
    let r = post_json(s.addr(), "/api/v1/subscriptions", body).await;
    assert_eq!(r.status, 201);
    let id = r.json()["data"]["subscription_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(wk_types::SubscriptionId::from(id.as_str()).is_well_formed());
    assert_eq!(
        r.json()["data"]["message"],
        "Subscription created successfully"
    );
    assert!(r.json().get("timestamp").is_none());
    let list = get(s.addr(), "/api/v1/subscriptions").await.json();
    assert_eq!(list["data"]["count"], 1);
    let sub = &list["data"]["subscriptions"][0];
    assert_eq!(sub["system_ids"], json!([30000142, 30002813]));
    assert_eq!(sub["type"], "webhook");
    let stats = get(s.addr(), "/api/v1/subscriptions/stats").await.json();
    assert_eq!(stats["data"]["total_systems"], 2);
    assert_eq!(stats["data"]["sse_subscriptions"], 0);
    let r = request(
        s.addr(),
        "DELETE",
        "/api/v1/subscriptions/tama-intel-bot",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"data": {"message": "Successfully unsubscribed", "subscriber_id": "tama-intel-bot"}})
    );
    assert_eq!(
        get(s.addr(), "/api/v1/subscriptions").await.json()["data"]["count"],
        0
    );
    let r = request(s.addr(), "DELETE", "/api/v1/subscriptions/nobody", &[], "").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn trailing_slash_and_head() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    assert_eq!(
        get(s.addr(), "/api/v1/kills/cached/30000142/").await.status,
        200
    );
    let r = request(s.addr(), "HEAD", "/ping", &[], "").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn cached_kills_match_the_example_bytes() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let stored: wk_types::Killmail = serde_json::from_str(&data("killmail_stored.json")).unwrap();
    s.seed_store([stored]);
    let body = get(s.addr(), "/api/v1/kills/cached/30002813").await.text();
    let example: Value = serde_json::from_str(&data("cached_kills.json")).unwrap();
    let kills = wk_testkit::json::encode(&example["data"]["kills"]);
    assert!(
        body.starts_with(&format!(
            r#"{{"data":{{"cached":true,"kills":{kills},"timestamp":""#
        )),
        "{body}"
    );
}

#[tokio::test]
async fn status_keys_follow_the_server_version() {
    for profile in Profile::ALL {
        let s = TestServer::start(profile).await.unwrap();
        let processing = |v: &Value| v["metrics"]["processing"].clone();
        let before = get(s.addr(), "/status").await.json();
        s.inject(capsule_kill());
        let after = get(s.addr(), "/status").await.json();
        let (received, ago) = match profile {
            Profile::Faithful => ("killmails_received", "last_killmail_ago_seconds"),
            Profile::Legacy => ("redisq_received", "redisq_last_killmail_ago_seconds"),
            _ => {
                assert_eq!(processing(&after), json!({}), "{profile}");
                continue;
            }
        };
        assert_eq!(processing(&before)[received], 0, "{profile}");
        assert_eq!(processing(&before)[ago], 999_999, "never received a kill");
        assert_eq!(processing(&after)[received], 1, "{profile}");
        assert!(processing(&after)[ago].as_u64().unwrap() < 5, "{after}");
        // The summary's lag is the server's last-killmail age (§10.3).
        assert_eq!(
            after["summary"]["processing_lag_seconds"],
            processing(&after)[ago]
        );
        let other = if profile == Profile::Faithful {
            "redisq_received"
        } else {
            "killmails_received"
        };
        assert!(processing(&after).get(other).is_none(), "{profile}");
    }
}

#[tokio::test]
async fn openapi_components_on_v1_6() {
    for profile in Profile::ALL {
        let s = TestServer::start(profile).await.unwrap();
        let doc = get(s.addr(), "/api/openapi").await.json();
        assert_eq!(doc["openapi"], "3.0.0");
        let killmail = &doc["paths"]["/api/v1/killmail/{killmail_id}"]["get"];
        if profile == Profile::Faithful {
            assert_eq!(doc["info"]["version"], "1.0.0");
            let schema = &killmail["responses"]["200"]["content"]["application/json"]["schema"];
            let name = schema["$ref"].as_str().unwrap();
            let name = name.strip_prefix("#/components/schemas/").unwrap();
            assert!(doc["components"]["schemas"][name].is_object(), "{doc}");
        } else {
            assert!(doc.get("components").is_none(), "{profile}");
        }
    }
}
