//! The control surface: faults, restart on the same port, firehose, counters, `/_testkit/*`.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::{Value, json};
use wk_testkit::{Fault, Profile, TestServer};

use crate::support::{Ended, Stream, Ws, capsule_kill, data, get, post_json};

#[tokio::test]
async fn http_status_fault_with_retry_after() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let r = post_json(
        s.addr(),
        "/_testkit/faults",
        r#"{"http_status":503,"retry_after":2,"count":2}"#,
    )
    .await;
    assert_eq!(r.status, 200);
    for _ in 0..2 {
        let r = get(s.addr(), "/api/v1/kills/cached/1").await;
        assert_eq!(r.status, 503);
        assert_eq!(r.header("retry-after"), Some("2"));
        assert_eq!(
            r.json(),
            json!({"error": "Service Unavailable", "status": "503"})
        );
    }
    assert_eq!(get(s.addr(), "/api/v1/kills/cached/1").await.status, 200);
}

#[tokio::test]
async fn fetch_error_delay_and_body_faults() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    s.fault(Fault::FetchError { count: 1 });
    let r = get(s.addr(), "/api/v1/kills/system/30000142").await;
    assert_eq!(r.status, 500);
    let v = r.json();
    assert_eq!(v["code"], "FETCH_ERROR");
    assert_eq!(v["error"], "Failed to fetch system kills");
    assert!(v["details"]["reason"].is_string());
    assert_eq!(
        get(s.addr(), "/api/v1/kills/system/30000142").await.status,
        200
    );

    s.fault(Fault::TruncateBody { count: 1 });
    let r = get(s.addr(), "/api/v1/kills/cached/1").await;
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    s.fault(Fault::GarbageBody { count: 1 });
    let r = get(s.addr(), "/api/v1/kills/cached/1").await;
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());
    assert!(
        serde_json::from_slice::<Value>(&get(s.addr(), "/api/v1/kills/cached/1").await.body)
            .is_ok()
    );

    s.fault(Fault::Delay(Duration::from_millis(1000)));
    let t = std::time::Instant::now();
    get(s.addr(), "/ping").await;
    assert!(t.elapsed() >= Duration::from_millis(1000));
    s.fault(Fault::Clear);
    let t = std::time::Instant::now();
    get(s.addr(), "/ping").await;
    assert!(t.elapsed() < Duration::from_millis(1000));
}

#[tokio::test]
async fn drop_connections_cuts_ws_and_sse_without_close() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let mut ws = Ws::v2(&s).await;
    ws.join("1", json!({})).await;
    let mut st = Stream::open(s.addr(), "/api/v1/kills/stream").await;
    st.read_until("retry", 1).await;
    s.wait_for(Duration::from_secs(5), |x| {
        x.sse_open == 1 && x.ws_open == 1
    })
    .await
    .unwrap();
    let r = post_json(s.addr(), "/_testkit/faults", r#"{"drop_connections":true}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        ws.next_within(Duration::from_secs(3)).await,
        Err(Ended::Dropped)
    );
    assert!(!st.read_to_end().await, "no terminating chunk");
    s.wait_for(Duration::from_secs(5), |x| {
        x.sse_open == 0 && x.ws_open == 0
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn stall_heartbeats_malformed_frame_and_crash() {
    for profile in Profile::ALL {
        let s = TestServer::start(profile).await.unwrap();
        let mut ws = Ws::v2(&s).await;
        ws.join("1", json!({"systems": [30000142]})).await;
        s.fault(Fault::StallHeartbeats(true));
        ws.send(r#"[null,"h1","phoenix","heartbeat",{}]"#).await;
        assert_eq!(
            ws.next_within(Duration::from_millis(200)).await,
            Err(Ended::Timeout)
        );
        s.fault(Fault::StallHeartbeats(false));
        ws.send(r#"[null,"h2","phoenix","heartbeat",{}]"#).await;
        assert_eq!(ws.frame().await[1], "h2");
        s.fault(Fault::MalformedFrame);
        assert!(serde_json::from_str::<Value>(&ws.text().await).is_err());
        let r = post_json(s.addr(), "/_testkit/faults", r#"{"crash_channels":true}"#).await;
        assert_eq!(r.status, 200);
        let want = match profile {
            Profile::Faithful => {
                r#"["1","1","killmails:lobby","phx_error",{"reason":"channel_crash"}]"#
            }
            _ => r#"["1","1","killmails:lobby","phx_error",{}]"#,
        };
        assert_eq!(ws.text().await, want, "{profile}");
        assert_eq!(s.state().joined_channels, 0);
    }
}

#[tokio::test]
async fn restart_on_the_same_port() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let addr = s.addr();
    s.inject(capsule_kill());
    let mut ws = Ws::v2(&s).await;
    ws.join("1", json!({"systems": [30000142]})).await;
    s.restart().await.unwrap();
    assert_eq!(s.addr(), addr);
    assert_eq!(
        ws.next_within(Duration::from_secs(3)).await,
        Err(Ended::Dropped)
    );
    let mut ws = Ws::v2(&s).await;
    let r = ws.join("1", json!({"systems": [30000142]})).await;
    assert_eq!(r[4]["status"], "ok");
    assert!(
        ws.drain(Duration::from_millis(200)).await.is_empty(),
        "store emptied: no preload"
    );
    let st = s.state();
    assert_eq!(
        (st.restarts, st.stored_killmails, st.ws_connections),
        (1, 0, 2)
    );
    // With the store kept.
    s.inject(capsule_kill());
    s.restart_with(true).await.unwrap();
    assert_eq!(
        get(addr, "/api/v1/kills/cached/30000142").await.json()["data"]["kills"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn firehose_sends_distinct_frames() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let mut ws = Ws::v2(&s).await;
    ws.join("7", json!({})).await;
    let r = post_json(s.addr(), "/_testkit/firehose", r#"{"frames":500}"#).await;
    assert_eq!(r.json(), json!({"frames": 500, "sockets": 1, "streams": 0}));
    let mut ids = HashSet::new();
    for _ in 0..500 {
        let f = ws.frame().await;
        assert_eq!(f[0], "7");
        assert_eq!(f[3], "killmail_update");
        ids.insert(f[4]["killmails"][0]["killmail_id"].as_i64().unwrap());
    }
    assert_eq!(ids.len(), 500);
    s.wait_for(Duration::from_secs(5), |st| st.firehose_frames == 500)
        .await
        .unwrap();
}

#[tokio::test]
async fn firehose_copies_repeat_each_frame_in_a_row() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let mut ws = Ws::v2(&s).await;
    ws.join("7", json!({})).await;
    for bad in [r#"{"frames":8,"copies":0}"#, r#"{"frames":8,"copies":"4"}"#] {
        assert_eq!(
            post_json(s.addr(), "/_testkit/firehose", bad).await.status,
            400
        );
    }
    let r = post_json(
        s.addr(),
        "/_testkit/firehose",
        r#"{"frames":10,"copies":4}"#,
    )
    .await;
    assert_eq!(r.json(), json!({"frames": 10, "sockets": 1, "streams": 0}));
    let mut frames = Vec::new();
    for _ in 0..10 {
        frames.push(ws.frame().await);
    }
    let ids: Vec<i64> = frames
        .iter()
        .map(|f| f[4]["killmails"][0]["killmail_id"].as_i64().unwrap())
        .collect();
    let first = ids[0];
    let want: Vec<i64> = (0..10).map(|i| first + i / 4).collect();
    assert_eq!(ids, want);
    assert!(
        frames[..4].iter().all(|f| *f == frames[0]),
        "copies are identical"
    );
}

#[tokio::test]
async fn testkit_killmails_and_state_endpoints() {
    let s = TestServer::start(Profile::Designed).await.unwrap();
    let mut ws = Ws::v2(&s).await;
    ws.join("1", json!({"systems": [30002813, 30000142]})).await;
    let body = format!(
        "[{},{}]",
        data("killmail.json"),
        data("killmail_solo_capsule.json")
    );
    let r = post_json(s.addr(), "/_testkit/killmails", &body).await;
    assert_eq!((r.status, r.json()), (202, json!({"accepted": 2})));
    let r = post_json(
        s.addr(),
        "/_testkit/killmails?mode=store",
        &data("killmail.json"),
    )
    .await;
    assert_eq!(r.json(), json!({"accepted": 1}));
    s.wait_for(Duration::from_secs(5), |st| {
        st.pushes_of("killmail_update") == 2
    })
    .await
    .unwrap();
    let v = get(s.addr(), "/_testkit/state").await.json();
    let st: wk_testkit::State = serde_json::from_value(v).unwrap();
    assert_eq!(st.killmails_ingested, 2);
    assert_eq!(st.stored_killmails, 3);
    assert_eq!(st.joins, 1);
    assert_eq!(st.profile, "designed");
    assert_eq!(
        post_json(s.addr(), "/_testkit/killmails", "{").await.status,
        400
    );
    assert_eq!(
        post_json(s.addr(), "/_testkit/faults", r#"{"nothing":1}"#)
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn rate_mode_generates_live_kills() {
    let s = TestServer::builder()
        .rate(50.0)
        .seed(1)
        .start()
        .await
        .unwrap();
    s.wait_for(Duration::from_secs(5), |st| st.killmails_ingested >= 3)
        .await
        .unwrap();
    let cached = get(s.addr(), "/_testkit/state").await.json();
    assert!(cached["stored_killmails"].as_u64().unwrap() >= 3);
}

#[tokio::test]
async fn the_binary_prints_its_urls_and_serves() {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_wk-testkit"))
        .args([
            "--addr",
            "127.0.0.1:0",
            "--profile",
            "designed",
            "--rate",
            "20",
            "--seed",
            "3",
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let rest = line
        .strip_prefix("wk-testkit listening base_url=http://")
        .unwrap();
    let (addr, rest) = rest.split_once(' ').unwrap();
    assert_eq!(
        rest,
        format!("ws_url=ws://{addr}/socket/websocket profile=designed")
    );
    let addr: std::net::SocketAddr = addr.parse().unwrap();
    assert_eq!(get(addr, "/ping").await.text(), "pong");
    // --rate 20 ingests generated kills.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let st = get(addr, "/_testkit/state").await.json();
        if st["killmails_ingested"].as_u64().unwrap() >= 2 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no generated kills: {st}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.start_kill().unwrap();
    let _ = child.wait().await;
}

#[tokio::test]
async fn bad_cli_arguments_exit_2() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_wk-testkit"))
        .args(["--profile", "weird"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage: wk-testkit"));
}

#[tokio::test]
async fn close_sockets_and_end_streams() {
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let mut ws = Ws::v2(&s).await;
    let mut st = Stream::open(s.addr(), "/api/v1/kills/stream").await;
    st.read_until("retry", 1).await;
    s.wait_for(Duration::from_secs(5), |x| {
        x.sse_open == 1 && x.ws_open == 1
    })
    .await
    .unwrap();
    let r = post_json(
        s.addr(),
        "/_testkit/faults",
        r#"{"close_sockets":1012,"end_streams":true}"#,
    )
    .await;
    assert_eq!(r.json(), json!({"applied": 2}));
    assert_eq!(
        ws.next_within(Duration::from_secs(3)).await,
        Err(Ended::Close(Some(1012)))
    );
    assert!(st.read_to_end().await, "terminating chunk");
    assert_eq!(st.text(), "retry: 2000\n\n");
}

#[tokio::test]
async fn reset_closes_the_connection_without_a_response() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let s = TestServer::start(Profile::Faithful).await.unwrap();
    let r = post_json(s.addr(), "/_testkit/faults", r#"{"reset":1}"#).await;
    assert_eq!(r.status, 200);
    let mut sock = tokio::net::TcpStream::connect(s.addr()).await.unwrap();
    sock.write_all(b"GET /ping HTTP/1.1\r\nhost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), sock.read_to_end(&mut buf))
        .await
        .unwrap();
    assert!(buf.is_empty(), "{}", String::from_utf8_lossy(&buf));
    assert_eq!(get(s.addr(), "/ping").await.text(), "pong");
}
