//! Server-Sent Events (§8): byte-exact basic stream, filters per profile, enhanced stream per profile.

use std::time::Duration;

use serde_json::Value;
use wk_testkit::{Profile, TestServer};
use wk_types::Killmail;

use crate::support::{Stream, capsule_kill, count, data, example_kill, get};

fn original_example() -> Killmail {
    serde_json::from_str(&data("killmail.json")).unwrap()
}

/// The example stream as a server that sends each kill `copies` times writes it: the example
/// itself is the v1.5.8 stream, each kill twice in a row.
fn example_stream(copies: usize) -> String {
    let mut out = String::new();
    let mut last = "";
    for block in data("sse_stream.txt").split_inclusive("\n\n") {
        let repeat = block.starts_with("data: ") && block == last;
        last = block;
        if repeat {
            continue;
        }
        let n = if block.starts_with("data: ") {
            copies
        } else {
            1
        };
        for _ in 0..n {
            out.push_str(block);
        }
    }
    out
}

#[tokio::test]
async fn basic_stream_matches_the_example_bytes() {
    for profile in [Profile::Legacy, Profile::Faithful] {
        let copies = profile.sse_copies();
        let s = TestServer::builder()
            .profile(profile)
            .sse_ping_interval(Duration::from_millis(600))
            .start()
            .await
            .unwrap();
        let mut st = Stream::open(
            s.addr(),
            "/api/v1/kills/stream?system_ids=30002813,30000142",
        )
        .await;
        assert_eq!(st.status, 200);
        assert_eq!(
            st.header("content-type"),
            Some("text/event-stream; charset=utf-8")
        );
        assert_eq!(st.header("cache-control"), Some("no-cache"));
        assert_eq!(st.header("transfer-encoding"), Some("chunked"));
        st.read_until("retry: 2000\n\n", 1).await;
        s.wait_for(Duration::from_secs(5), |st| st.sse_open == 1)
            .await
            .unwrap();
        s.inject(original_example());
        st.read_until("data: ", copies).await;
        st.read_until(": ping\n\n", 2).await;
        s.inject(capsule_kill());
        st.read_until("data: ", 2 * copies).await;
        st.read_until(": ping\n\n", 3).await;
        let want = example_stream(copies);
        let got = st.text();
        assert!(
            got.starts_with(&want),
            "{profile}\ngot:\n{got}\nwant:\n{want}"
        );
    }
    assert_eq!(
        example_stream(2),
        data("sse_stream.txt"),
        "the example is v1.5.8's"
    );
}

/// The `data:` events a basic stream with `query` receives for `kills`, and its text. A sentinel
/// kill every query matches comes last, `sentinel_copies` times, to know the others were handled.
async fn kills_on(
    profile: Profile,
    query: &str,
    kills: Vec<Killmail>,
    sentinel_copies: usize,
) -> (usize, String) {
    let s = TestServer::builder()
        .profile(profile)
        .start()
        .await
        .unwrap();
    let mut st = Stream::open(s.addr(), &format!("/api/v1/kills/stream?{query}")).await;
    st.read_until("retry: 2000", 1).await;
    s.wait_for(Duration::from_secs(5), |st| st.sse_open == 1)
        .await
        .unwrap();
    for k in kills {
        s.inject(k);
    }
    let mut sentinel = capsule_kill();
    sentinel.killmail_id = 1.into();
    sentinel.system_id = Some(30002813.into());
    sentinel.zkb.as_mut().unwrap().total_value = Some(1e12);
    sentinel.victim.as_mut().unwrap().character_id = Some(95465499.into());
    s.inject(sentinel);
    st.read_until("\"killmail_id\":1,", sentinel_copies).await;
    let text = st.text();
    (count(text.as_bytes(), "data: "), text)
}

#[tokio::test]
async fn real_servers_filter_only_by_system() {
    for profile in [Profile::Faithful, Profile::Legacy] {
        let c = profile.sse_copies();
        // system_ids: Jita kill filtered out; sentinel (Tama) ×c.
        let (n, _) = kills_on(profile, "system_ids=30002813", vec![capsule_kill()], c).await;
        assert_eq!(n, c, "{profile}");
        // A repeated system id multiplies the copies.
        let (n, _) = kills_on(profile, "system_ids=30002813,30002813", vec![], 2 * c).await;
        assert_eq!(n, 2 * c, "{profile}");
        // character_ids alone: every kill, ×c. min_value ignored.
        let (n, _) = kills_on(
            profile,
            "character_ids=1234567890&min_value=1e15",
            vec![capsule_kill()],
            c,
        )
        .await;
        assert_eq!(n, 2 * c, "{profile}");
    }
}

#[tokio::test]
async fn designed_applies_filters_once() {
    let (n, _) = kills_on(
        Profile::Designed,
        "system_ids=30002813",
        vec![capsule_kill()],
        1,
    )
    .await;
    assert_eq!(n, 1);
    let (n, text) = kills_on(
        Profile::Designed,
        "character_ids=93265215,95465499",
        vec![capsule_kill(), example_kill()],
        1,
    )
    .await;
    assert_eq!(n, 3, "{text}");
    let (n, _) = kills_on(
        Profile::Designed,
        "min_value=1e6",
        vec![capsule_kill(), example_kill()],
        1,
    )
    .await;
    assert_eq!(n, 2, "capsule (1e4) filtered out");
}

#[tokio::test]
async fn faithful_enhanced_is_empty_and_the_cap_leaks() {
    let s = TestServer::builder().enhanced_cap(2).start().await.unwrap();
    for _ in 0..2 {
        let mut st = Stream::open(
            s.addr(),
            "/api/v1/kills/stream/enhanced?system_ids=30000142",
        )
        .await;
        assert_eq!(st.status, 200);
        assert_eq!(st.header("content-type"), Some("text/event-stream"));
        assert_eq!(st.header("x-accel-buffering"), Some("no"));
        assert!(st.read_to_end().await, "clean end of a chunked body");
        assert!(st.body.is_empty());
    }
    let r = get(s.addr(), "/api/v1/kills/stream/enhanced").await;
    assert_eq!(r.status, 503);
    assert_eq!(
        r.json(),
        serde_json::json!({"error": {"type": "connection_limit_reached", "message": "Too many active SSE connections"}})
    );
}

fn events(text: &str) -> Vec<(String, Value)> {
    text.split("\n\n")
        .filter(|b| !b.is_empty())
        .map(|b| {
            let name = b
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .unwrap()
                .to_owned();
            let data = b.lines().find_map(|l| l.strip_prefix("data: ")).unwrap();
            (name, serde_json::from_str(data).unwrap())
        })
        .collect()
}

#[tokio::test]
async fn designed_enhanced_stream_sequence() {
    let s = TestServer::builder()
        .profile(Profile::Designed)
        .batch_size(2)
        .batch_delay(Duration::from_millis(10))
        .heartbeat_interval(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let mut g = wk_testkit::Generator::new(5);
    let kills: Vec<_> = (0..3).map(|_| g.killmail_in(30002813.into())).collect();
    s.seed_store(kills);
    let mut st = Stream::open(
        s.addr(),
        "/api/v1/kills/stream/enhanced?system_ids=30002813&min_value=100000000&preload_days=7",
    )
    .await;
    st.read_until("event: transition", 1).await;
    s.wait_for(Duration::from_secs(5), |st| st.sse_open == 1)
        .await
        .unwrap();
    let mut big = example_kill();
    big.zkb.as_mut().unwrap().total_value = Some(2e8);
    s.inject(big);
    st.read_until("event: killmail", 1).await;
    st.read_until("event: heartbeat", 1).await;
    let evs = events(&st.text());
    // Heartbeats may come at any point after the transition; the rest is in order.
    let evs: Vec<_> = evs.into_iter().filter(|(n, _)| n != "heartbeat").collect();
    let names: Vec<&str> = evs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["connected", "batch", "batch", "transition", "killmail"]
    );
    let connected = &evs[0].1;
    assert_eq!(connected["filters"]["min_value"], 1e8);
    assert!(st.text().contains(r#""min_value":1.0e8"#));
    assert_eq!(evs[1].1["batch_number"], 1);
    assert_eq!(evs[1].1["total_batches"], 2);
    assert_eq!(evs[2].1["count"], 1);
    assert_eq!(evs[3].1["total_historical"], 3);
    assert_eq!(evs[4].1["attacker_count"], 3, "canonical live kill");
    assert!(
        st.text()
            .contains("event: heartbeat\ndata: {\"mode\":\"realtime\",\"timestamp\":\"")
    );
}
