//! Bad answers from a raw HTTP server on `127.0.0.1:0`: invalid UTF-8, deep nesting, oversized and
//! truncated bodies, garbage `Retry-After`, plus huge id lists refused before sending. Each is a
//! typed error within a bounded time; never a panic, never a hang.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wk_http::Error;
use wk_types::http::CreateSubscription;
use wk_types::{KillmailId, SystemId, ValidationError};

/// Every call must end within this.
const BOUND: Duration = Duration::from_secs(10);

/// A server answering every connection with `response`, counting requests.
async fn raw_server(response: Vec<u8>) -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let count = requests.clone();
    let response = Arc::new(response);
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let (count, response) = (count.clone(), response.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                count.fetch_add(1, Ordering::SeqCst);
                let _ = tcp.write_all(&response).await;
                let _ = tcp.shutdown().await;
            });
        }
    });
    (addr, requests)
}

fn response(status: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn client(addr: SocketAddr) -> wk_http::Client {
    wk_http::Client::builder()
        .base_url(format!("http://{addr}"))
        .no_retry()
        .timeout(Duration::from_secs(5))
        .max_response_body(1 << 20)
        .build()
        .unwrap()
}

async fn killmail_error(raw: Vec<u8>) -> Error {
    let (addr, _) = raw_server(raw).await;
    tokio::time::timeout(BOUND, client(addr).killmail(KillmailId::new(1)))
        .await
        .expect("bounded")
        .expect_err("a bad answer is an error")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bodies_are_typed_errors() {
    let deep = format!(
        "{{\"data\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let huge = format!("{{\"data\":\"{}\"}}", "x".repeat(2 << 20));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "invalid UTF-8",
            response(
                "200 OK",
                "",
                b"{\"data\":{\"killmail_id\":1,\"victim\":{\"character_name\":\"\xff\xfe\"}}}",
            ),
        ),
        (
            "lone surrogate",
            response(
                "200 OK",
                "",
                br#"{"data":{"killmail_id":1,"zkb":{"hash":"\udc00"}}}"#,
            ),
        ),
        ("HTML", response("200 OK", "", b"<html>maintenance</html>")),
        ("empty", response("200 OK", "", b"")),
        ("deep nesting", response("200 OK", "", deep.as_bytes())),
        (
            "wrong types",
            response("200 OK", "", br#"{"data":{"killmail_id":{"a":1}}}"#),
        ),
        (
            "over max_response_body",
            response("200 OK", "", huge.as_bytes()),
        ),
        (
            "error status, invalid UTF-8 body",
            response("500 Internal Server Error", "", b"\xff\xff"),
        ),
    ];
    for (name, raw) in cases {
        let e = killmail_error(raw).await;
        match name {
            "over max_response_body" => {
                let Error::Decode(d) = &e else {
                    panic!("{name}: {e:?}")
                };
                assert!(d.is_too_large(), "{name}: {d:?}");
            }
            "error status, invalid UTF-8 body" => {
                assert_eq!(e.status().map(|s| s.as_u16()), Some(500), "{name}");
                assert!(e.body().is_none(), "{name}");
            }
            _ => assert!(matches!(e, Error::Decode(_)), "{name}: {e:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_answers_are_typed_errors() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "content-length larger than the body",
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{\"data\":{\"kill".to_vec(),
        ),
        (
            "chunked, cut mid-chunk",
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n40\r\n{\"data\":".to_vec(),
        ),
        ("bad chunk size", b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n".to_vec()),
        ("cut in the headers", b"HTTP/1.1 200 OK\r\ncontent-ty".to_vec()),
        ("not HTTP", b"SSH-2.0-OpenSSH_9.6\r\n".to_vec()),
        (
            "control byte in a header",
            b"HTTP/1.1 503 Service Unavailable\r\nretry-after: \x7f\r\ncontent-length: 0\r\n\r\n".to_vec(),
        ),
        ("nothing", Vec::new()),
    ];
    for (name, raw) in cases {
        let e = killmail_error(raw).await;
        assert!(
            matches!(e, Error::Transport(_) | Error::Decode(_)),
            "{name}: {e:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_retry_after_is_ignored_and_huge_values_are_capped() {
    for value in [
        "soon",
        "-1",
        "1.5",
        "",
        "0x10",
        "Wed, 32 Oct 2015 25:61:00 GMT",
    ] {
        let raw = response(
            "503 Service Unavailable",
            &format!("retry-after: {value}\r\n"),
            br#"{"error":"busy"}"#,
        );
        let e = killmail_error(raw).await;
        assert_eq!(e.status().map(|s| s.as_u16()), Some(503), "{value:?}");
        assert_eq!(e.retry_after(), None, "{value:?}");
    }
    // With retries on, a far-future date or an enormous delay is capped: the call stays bounded.
    // (An overflowing number saturates: `retry_after()` reports it, the retry layer caps it.)
    for value in [
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "4294967296",
        "99999999999999999999999999",
    ] {
        let raw = response(
            "503 Service Unavailable",
            &format!("retry-after: {value}\r\n"),
            br#"{"error":"busy"}"#,
        );
        let (addr, requests) = raw_server(raw).await;
        let client = wk_http::Client::builder()
            .base_url(format!("http://{addr}"))
            .retry(
                wk_retry::RetryConfig::default()
                    .max_retries(2)
                    .max_retry_after(Duration::from_millis(50))
                    .budget(None),
            )
            .build()
            .unwrap();
        let started = Instant::now();
        let e = tokio::time::timeout(BOUND, client.killmail(KillmailId::new(1)))
            .await
            .expect("bounded")
            .unwrap_err();
        assert_eq!(e.status().map(|s| s.as_u16()), Some(503));
        assert_eq!(requests.load(Ordering::SeqCst), 3, "{value}");
        assert!(started.elapsed() < Duration::from_secs(5), "{value}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_and_invalid_id_lists_are_refused_before_sending() {
    let (addr, requests) = raw_server(response("200 OK", "", b"{}")).await;
    let client = client(addr);
    let many: Vec<SystemId> = (1..=1_000).map(SystemId::new).collect();
    let e = client
        .create_subscription(
            &CreateSubscription::new("bot", "http://127.0.0.1:9/hook").systems(many.clone()),
        )
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Build(_)), "{e:?}");
    let e = client
        .create_subscription(
            &CreateSubscription::new("bot", "http://127.0.0.1:9/hook")
                .systems([SystemId::new(1), SystemId::new(-1)]),
        )
        .await
        .unwrap_err();
    let Error::Build(b) = &e else { panic!("{e:?}") };
    assert!(
        matches!(b.validation(), Some(ValidationError::OutOfRange { .. })),
        "{b:?}"
    );
    let e = client.systems_kills(Vec::new()).send().await.unwrap_err();
    assert!(matches!(e, Error::Build(_)), "{e:?}");
    let e = client
        .system_kills(SystemId::new(0))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Build(_)), "{e:?}");
    let e = client
        .system_kills(SystemId::new(1))
        .limit(1_000_000)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Build(_)), "{e:?}");
    assert_eq!(requests.load(Ordering::SeqCst), 0, "nothing was sent");
}
