//! Bad input end to end: the WebSocket client behind a proxy that injects garbage, oversized,
//! deeply nested, wrongly typed and non-UTF-8 frames; the SSE client against a raw server that
//! truncates its streams and writes garbage events; huge and invalid id lists refused locally.
//! Each case is a typed error or tolerated, and the next real kill still arrives: never a panic,
//! never a stuck task.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::Message;
use wk_realtime::ws::{Client, Subscription};
use wk_realtime::{Error, Filter, KillEvent};
use wk_testkit::{Fault, Generator, Profile, TestServer};
use wk_types::{SystemId, ValidationError};

use crate::support::{WAIT, client, start, subscribed};

const JITA: SystemId = SystemId::new(30000142);

/// What the proxy writes to the client on top of the real server's frames.
#[derive(Clone, Debug)]
enum Inject {
    Message(Message),
    /// A raw server-to-client WebSocket text frame carrying these bytes, valid UTF-8 or not.
    RawText(Vec<u8>),
}

/// A WebSocket proxy in front of the testkit that can slip frames to the client.
struct Proxy {
    addr: SocketAddr,
    inject: broadcast::Sender<Inject>,
    connections: Arc<AtomicUsize>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (inject, _) = broadcast::channel(16);
        let connections = Arc::new(AtomicUsize::new(0));
        let (tx, count) = (inject.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(pump(tcp, upstream, tx.subscribe()));
            }
        });
        Self {
            addr,
            inject,
            connections,
        }
    }

    fn send(&self, what: Inject) {
        self.inject.send(what).expect("a client is connected");
    }
}

async fn pump(tcp: TcpStream, upstream: SocketAddr, mut inject: broadcast::Receiver<Inject>) {
    // Every client here asks for `/socket/websocket?vsn=2.0.0&…`; upstream gets the same.
    let Ok(mut down) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let upstream = format!("ws://{upstream}/socket/websocket?vsn=2.0.0");
    let Ok((mut up, _)) = tokio_tungstenite::connect_async(upstream).await else {
        return;
    };
    // The join_ref of the client's current join: injected pushes carry it, as real ones do.
    let mut join_ref = String::from("null");
    loop {
        tokio::select! {
            from_client = down.next() => match from_client {
                Some(Ok(m)) => {
                    if let Message::Text(text) = &m
                        && text.contains("\"phx_join\"")
                        && let Ok(serde_json::Value::Array(parts)) = serde_json::from_str(text)
                    {
                        join_ref = parts[0].to_string();
                    }
                    if up.send(m).await.is_err() { return }
                }
                _ => return,
            },
            from_server = up.next() => match from_server {
                Some(Ok(m)) => if down.send(m).await.is_err() { return },
                _ => return,
            },
            extra = inject.recv() => match extra {
                Ok(Inject::Message(m)) => {
                    let m = match m {
                        Message::Text(t) => Message::text(t.replace("\"JOIN_REF\"", &join_ref)),
                        other => other,
                    };
                    if down.send(m).await.is_err() { return }
                }
                Ok(Inject::RawText(bytes)) => {
                    let _ = down.flush().await;
                    let mut frame = vec![0x81];
                    match bytes.len() {
                        n @ 0..=125 => frame.push(n as u8),
                        n => {
                            frame.push(126);
                            frame.extend_from_slice(&u16::try_from(n).unwrap().to_be_bytes());
                        }
                    }
                    frame.extend_from_slice(&bytes);
                    if down.get_mut().write_all(&frame).await.is_err() { return }
                }
                Err(_) => return,
            },
        }
    }
}

/// Waits for the kill `id`, skipping other events and counting typed errors.
async fn wait_for_kill(sub: &mut Subscription, id: i64) -> usize {
    let mut errors = 0;
    tokio::time::timeout(WAIT, async {
        loop {
            match sub.next().await.expect("the stream goes on") {
                Ok(KillEvent::Kill(k)) if k.killmail.killmail_id.get() == id => return,
                Ok(_) => {}
                Err(Error::Decode(_) | Error::EventTooLarge { .. }) => errors += 1,
                Err(e) => panic!("unexpected error {e:?}"),
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("kill {id} never arrived"));
    errors
}

fn push(payload: &str) -> Message {
    Message::text(format!(
        r#"["JOIN_REF",null,"killmails:lobby","killmail_update",{payload}]"#
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_websocket_client_survives_every_bad_frame() {
    let server = start(Profile::Faithful).await;
    let proxy = Proxy::start(server.addr()).await;
    let http = wk_http::Client::new(&server.base_url()).unwrap();
    let (_client, mut sub) = subscribed(
        Client::builder(format!("http://{}", proxy.addr))
            .client_id("wk-bad-input")
            .reconnect_backoff(
                wk_retry::BackoffConfig::default()
                    .base(Duration::from_millis(50))
                    .max(Duration::from_millis(200)),
            )
            .http_client(http),
        Filter::new().systems([JITA]),
    )
    .await;
    let deep = "[".repeat(200_000) + &"]".repeat(200_000);
    let deep_payload = format!(
        r#"{{"system_id":30000142,"killmails":[{}1{}]}}"#,
        r#"{"a":"#.repeat(5_000),
        "}".repeat(5_000)
    );
    let over_limit = format!(
        r#"{{"system_id":30000142,"killmails":[],"pad":"{}"}}"#,
        "x".repeat(17 << 20)
    );
    // (name, injection, whether the client must replace the connection)
    let cases: Vec<(&str, Inject, bool)> = vec![
        (
            "not json",
            Inject::Message(Message::text("not json")),
            false,
        ),
        ("empty", Inject::Message(Message::text("")), false),
        (
            "deeply nested frame",
            Inject::Message(Message::text(deep)),
            false,
        ),
        (
            "deeply nested payload",
            Inject::Message(push(&deep_payload)),
            false,
        ),
        (
            "wrong types",
            Inject::Message(push(r#"{"system_id":"x","killmails":5}"#)),
            false,
        ),
        (
            "wrong kill types",
            Inject::Message(push(
                r#"{"system_id":30000142,"killmails":[{"killmail_id":"1","victim":7}]}"#,
            )),
            false,
        ),
        (
            "payload not an object",
            Inject::Message(push(r#""text""#)),
            false,
        ),
        (
            "four elements",
            Inject::Message(Message::text(r#"[null,null,"killmails:lobby","x"]"#)),
            false,
        ),
        (
            "unknown event",
            Inject::Message(Message::text(
                r#"["JOIN_REF",null,"killmails:lobby","from_the_future",{"a":[1]}]"#,
            )),
            false,
        ),
        (
            "unknown topic",
            Inject::Message(Message::text(
                r#"[null,null,"elsewhere","killmail_update",{}]"#,
            )),
            false,
        ),
        (
            "reply to no request",
            Inject::Message(Message::text(
                r#"[null,"999999","killmails:lobby","phx_reply",{"status":"ok","response":{}}]"#,
            )),
            false,
        ),
        (
            "binary",
            Inject::Message(Message::binary(vec![0xff, 0x00, 0x81])),
            false,
        ),
        (
            "invalid UTF-8 text",
            Inject::RawText(b"[null,null,\"killmails:lobby\",\"\xff\xfe\",{}]".to_vec()),
            true,
        ),
        (
            "over the 16 MiB message limit",
            Inject::Message(push(&over_limit)),
            true,
        ),
    ];
    let mut generator = Generator::new(77);
    let mut typed_errors = 0;
    for (name, injection, replaces) in cases {
        let before = proxy.connections.load(Ordering::SeqCst);
        proxy.send(injection);
        if replaces {
            tokio::time::timeout(WAIT, async {
                while proxy.connections.load(Ordering::SeqCst) == before {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            })
            .await
            .unwrap_or_else(|_| panic!("{name}: the connection was not replaced"));
            server
                .wait_for(WAIT, |s| s.joined_channels == 1)
                .await
                .expect("rejoined");
        }
        let kill = generator.killmail_in(JITA);
        let id = kill.killmail_id.get();
        server.inject(kill);
        typed_errors += wait_for_kill(&mut sub, id).await;
        assert_eq!(
            proxy.connections.load(Ordering::SeqCst) > before,
            replaces,
            "{name}: connection replaced?"
        );
    }
    assert!(
        typed_errors >= 3,
        "bad known payloads surface as Decode errors: {typed_errors}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_testkit_malformed_frame_fault_is_ignored() {
    let server = start(Profile::Faithful).await;
    let client = client(&server).connect().await.unwrap();
    let mut sub = client
        .subscribe(Filter::new().systems([JITA]))
        .await
        .unwrap();
    for seed in 0..5 {
        server.fault(Fault::MalformedFrame);
        let kill = Generator::new(seed).killmail_in(JITA);
        let id = kill.killmail_id.get();
        server.inject(kill);
        wait_for_kill(&mut sub, id).await;
    }
    assert_eq!(client.stats().reconnects(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_id_lists_are_refused_locally_and_nothing_is_sent() {
    let server = start(Profile::Faithful).await;
    let client = client(&server).connect().await.unwrap();
    let sent = server.state().frames_received;
    let mut huge: Vec<SystemId> = (1..=200_000).map(SystemId::new).collect();
    huge.push(SystemId::new(0));
    for bad in [
        vec![SystemId::new(0)],
        vec![SystemId::new(-5)],
        vec![SystemId::new(50_000_001)],
        huge,
    ] {
        let started = std::time::Instant::now();
        let e = client
            .subscribe(Filter::new().systems(bad))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Invalid(_)), "{e:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
    let e = client
        .subscribe(Filter::new().min_value(f64::NAN).systems([JITA]))
        .await
        .unwrap_err();
    assert!(matches!(
        e,
        Error::Invalid(ValidationError::InvalidMinValue)
    ));
    // The client's own heartbeats may reach the server meanwhile; no subscribe frame did.
    let state = server.state();
    assert!(state.frames_received - sent <= 2, "{state:?}");
    assert_eq!(state.pushes_of("phx_error"), 0);
}

#[cfg(feature = "sse")]
mod sse {
    use super::*;

    /// A raw HTTP server writing one scripted response per connection, then holding the last open.
    async fn scripted(responses: Vec<Vec<u8>>) -> (SocketAddr, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = Arc::new(AtomicUsize::new(0));
        let count = served.clone();
        tokio::spawn(async move {
            let last = responses.len() - 1;
            let mut held = None;
            for (i, response) in responses.into_iter().enumerate() {
                let Ok((mut tcp, _)) = listener.accept().await else {
                    return;
                };
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                count.fetch_add(1, Ordering::SeqCst);
                let _ = tcp.write_all(&response).await;
                if i == last {
                    held = Some(tcp);
                } else {
                    // The script of an earlier connection ends with the connection.
                    let _ = tcp.shutdown().await;
                }
            }
            let _held = held;
            tokio::time::sleep(WAIT).await;
        });
        (addr, served)
    }

    fn kill(id: i64) -> String {
        format!(
            r#"data: {{"killmail_id":{id},"system_id":30000142,"kill_time":"2025-12-03T14:25:02Z"}}"#
        )
    }

    const HEAD: &str = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn truncated_and_garbage_streams_deliver_only_whole_events() {
        // 1: chunked, cut in the middle of a chunk. 2: read to EOF, cut in the middle of an event.
        // 3: garbage of every kind between good events, then held open.
        let chunk = format!("{}\n\n{}", kill(1), r#"data: {"killmail_id":2,"sys"#);
        let first = format!(
            "{HEAD}transfer-encoding: chunked\r\n\r\n{:x}\r\n{chunk}",
            chunk.len() + 40
        );
        let second = format!(
            "{HEAD}connection: close\r\n\r\nretry: 10\n\n{}\n\n{}",
            kill(3),
            r#"data: {"killmail_id":4,"system_id":30000142"#
        );
        let mut third = format!("{HEAD}connection: close\r\n\r\n").into_bytes();
        third.extend_from_slice(b"data: \xff\xfe\xfd\n\n");
        third.extend_from_slice(b"data: {\"killmail_id\":\"five\"}\n\n");
        third.extend_from_slice(format!("data: {}\n\n", "[".repeat(50_000)).as_bytes());
        third.extend_from_slice(format!("data: \"{}\"\n\n", "y".repeat(200_000)).as_bytes());
        third.extend_from_slice(b"event: from_the_future\ndata: {}\n\n");
        third.extend_from_slice(b": a comment\nid: 9\nretry: nonsense\nfield without colon\n\n");
        third.extend_from_slice(format!("{}\n\n", kill(6)).as_bytes());
        let (addr, served) = scripted(vec![first.into_bytes(), second.into_bytes(), third]).await;
        let client = wk_realtime::sse::Client::builder(format!("http://{addr}"))
            .gap_recovery(false)
            .max_event_size(64 * 1024)
            .max_server_delay(Duration::from_millis(50))
            .reconnect_backoff(
                wk_retry::BackoffConfig::default()
                    .base(Duration::from_millis(20))
                    .max(Duration::from_millis(50)),
            )
            .build()
            .unwrap();
        let mut sub = client
            .subscribe(Filter::new().systems([JITA]))
            .await
            .unwrap();
        let (mut kills, mut decode, mut too_large) = (Vec::new(), 0, 0);
        tokio::time::timeout(WAIT, async {
            while !kills.contains(&6) {
                match sub.next().await.expect("the stream goes on") {
                    Ok(KillEvent::Kill(k)) => kills.push(k.killmail.killmail_id.get()),
                    Ok(_) => {}
                    Err(Error::Decode(_)) => decode += 1,
                    Err(Error::EventTooLarge { limit }) => {
                        assert_eq!(limit, 64 * 1024);
                        too_large += 1;
                    }
                    Err(e) => panic!("unexpected error {e:?}"),
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("stuck after {kills:?}"));
        assert_eq!(kills, [1, 3, 6], "only whole events, each once");
        assert_eq!(too_large, 1);
        assert!(decode >= 2, "{decode} decode errors");
        assert_eq!(served.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn huge_id_lists_on_the_enhanced_stream_are_refused_locally() {
        let server = TestServer::start(Profile::Faithful).await.unwrap();
        let client = wk_realtime::sse::Client::new(server.base_url()).unwrap();
        let many: Vec<SystemId> = (1..=101).map(SystemId::new).collect();
        let e = client
            .subscribe_enhanced(Filter::new().systems(many), 0)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Invalid(_)), "{e:?}");
        let e = client
            .subscribe(Filter::new().systems([SystemId::new(0)]))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Invalid(_)), "{e:?}");
        assert_eq!(server.state().http_requests, 0);
    }
}
