//! Connection errors by phase, for the WebSocket and the SSE client, each against a real peer on
//! 127.0.0.1: the testkit (refusals, resets, a certificate nobody trusts) or a bare TCP listener
//! that answers garbage or nothing.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use wk_realtime::{ConnectPhase, Error, Filter};
use wk_testkit::{Fault, Profile, TestServer};

use crate::support::{WAIT, client, start};

const JITA: wk_types::SystemId = wk_types::SystemId::new(30_000_142);

/// The connection error inside `err`, which must be one.
fn connect_error(err: &Error) -> &wk_realtime::ConnectError {
    err.connect_error()
        .unwrap_or_else(|| panic!("not a connection error: {err:?}"))
}

/// The first error of each client against `base`: the WebSocket's, then the SSE stream's.
async fn first_errors(base: &str) -> [Error; 2] {
    [
        ws_first_error(base.to_owned()).await,
        sse_first_error(base.to_owned()).await,
    ]
}

/// Every error is a connection error of `phase`, retryable or not.
fn assert_phase(errors: &[Error], phase: ConnectPhase, retryable: bool) {
    for err in errors {
        assert_eq!(connect_error(err).phase(), phase, "{err:?}");
        assert_eq!(err.is_retryable(), retryable, "{err:?}");
    }
}

/// The last item of a stream that must end within [`WAIT`].
async fn last_item<S: futures_util::Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
    tokio::time::timeout(WAIT, async {
        let mut last = None;
        while let Some(item) = stream.next().await {
            last = Some(item);
        }
        last
    })
    .await
    .expect("the stream ends")
}

/// A peer that reads each request head and answers `reply` (then closes), or, with `None`,
/// holds the connection open and says nothing.
async fn raw_peer(reply: Option<&'static [u8]>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tcp.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                match reply {
                    Some(bytes) => {
                        let _ = tcp.write_all(bytes).await;
                        let _ = tcp.shutdown().await;
                    }
                    None => {
                        // Silent until the client gives up and closes.
                        let _ = tcp.read(&mut buf).await;
                    }
                }
            });
        }
    });
    addr
}

const GARBAGE: &[u8] = b"this is not HTTP at all\r\n\r\n";
const HTML_200: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 13\r\n\r\n<p>portal</p>";

async fn ws_first_error(base: String) -> Error {
    wk_realtime::ws::Client::builder(base)
        .connect_timeout(Duration::from_millis(300))
        .connect()
        .await
        .expect_err("the first attempt fails")
}

async fn sse_first_error(base: String) -> Error {
    wk_realtime::sse::Client::builder(base)
        .connect_timeout(Duration::from_millis(300))
        .build()
        .unwrap()
        .subscribe(Filter::everything())
        .await
        .expect_err("the first request fails")
}

fn assert_refused(err: &Error, status: StatusCode) {
    let e = connect_error(err);
    assert_eq!(e.phase(), ConnectPhase::Status, "{err:?}");
    assert_eq!(e.status(), Some(status));
    assert_eq!(err.status(), Some(status));
    assert!(!err.is_retryable(), "{status} is not retryable");
    assert!(
        e.body().contains("error"),
        "the body excerpt: {:?}",
        e.body()
    );
    assert!(e.headers().contains_key(http::header::CONTENT_TYPE));
    let shown = wk_realtime_chain(err);
    assert!(shown.contains(status.as_str()), "{shown}");
}

/// The error and its sources, as a log line shows them.
fn wk_realtime_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut next = err.source();
    while let Some(e) = next {
        out.push_str(": ");
        out.push_str(&e.to_string());
        next = e.source();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_upgrade_is_a_refusal_that_is_not_retried() {
    let server = start(Profile::Faithful).await;
    server.fault(Fault::HttpStatus {
        status: 403,
        retry_after: None,
        count: 1,
    });
    let err = ws_first_error(server.base_url()).await;
    assert_refused(&err, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_404_sse_request_is_a_refusal_that_is_not_retried() {
    let server = start(Profile::Faithful).await;
    server.fault(Fault::HttpStatus {
        status: 404,
        retry_after: None,
        count: 1,
    });
    let err = sse_first_error(server.base_url()).await;
    assert_refused(&err, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_with_retry_after_is_retryable_and_says_when() {
    let server = start(Profile::Faithful).await;
    server.fault(Fault::HttpStatus {
        status: 503,
        retry_after: Some(7),
        count: 1,
    });
    let err = ws_first_error(server.base_url()).await;
    let e = connect_error(&err);
    assert_eq!(e.phase(), ConnectPhase::Status);
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_a_tls_error_that_is_not_retried() {
    let server = TestServer::builder()
        .profile(Profile::Faithful)
        .tls(true)
        .start()
        .await
        .unwrap();
    let errors = first_errors(&server.base_url()).await;
    assert_phase(&errors, ConnectPhase::Tls, false);
    for err in &errors {
        let e = connect_error(err);
        assert!(e.to_string().contains("certificate"), "{e}");
        // The cause reaches logs as text, with no foreign error type behind it.
        let chain = wk_realtime_chain(err);
        assert!(chain.to_lowercase().contains("certificate"), "{chain}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_before_the_answer_is_a_connect_error_that_is_retried() {
    let server = start(Profile::Faithful).await;
    server.fault(Fault::ResetHttp { count: 2 });
    assert_phase(
        &first_errors(&server.base_url()).await,
        ConnectPhase::Connect,
        true,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_tcp_connection_is_a_connect_error() {
    // Bound, then closed: nothing listens on the port.
    let addr = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let base = format!("http://{addr}");
    assert_phase(&first_errors(&base).await, ConnectPhase::Connect, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_instead_of_http_is_a_protocol_error() {
    let base = format!("http://{}", raw_peer(Some(GARBAGE)).await);
    assert_phase(&first_errors(&base).await, ConnectPhase::Protocol, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_is_a_timeout() {
    let base = format!("http://{}", raw_peer(None).await);
    assert_phase(&first_errors(&base).await, ConnectPhase::Timeout, true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_page_instead_of_an_upgrade_or_a_stream_is_refused() {
    let base = format!("http://{}", raw_peer(Some(HTML_200)).await);
    let errors = first_errors(&base).await;
    assert_phase(&errors, ConnectPhase::Status, false);
    for err in &errors {
        let e = connect_error(err);
        assert_eq!(e.status(), Some(StatusCode::OK));
        assert_eq!(e.body(), "<p>portal</p>");
    }
}

/// Once running, a refusal no retry can fix ends every stream with that error, once: no retry
/// loop; later calls get the same error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ws_refused_after_a_drop_ends_every_subscription_with_the_refusal() {
    let server = start(Profile::Faithful).await;
    let client = client(&server).connect().await.unwrap();
    let mut subs = Vec::new();
    for filter in [Filter::new().systems([JITA]), Filter::everything()] {
        subs.push(client.subscribe(filter).await.unwrap());
    }
    let upgrades = server.state().http_requests;
    server.fault(Fault::HttpStatus {
        status: 401,
        retry_after: None,
        count: 1_000,
    });
    server.fault(Fault::DropConnections);
    for sub in &mut subs {
        let err = last_item(sub)
            .await
            .expect("an item")
            .expect_err("the last item is the refusal");
        assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED), "{err:?}");
    }
    let err = client
        .subscribe(Filter::everything())
        .await
        .expect_err("the client is over");
    assert_eq!(err.status(), Some(StatusCode::UNAUTHORIZED), "{err:?}");
    assert_eq!(
        *client.state().borrow(),
        wk_realtime::ws::ConnectionState::Closed
    );
    // One refused attempt, no loop.
    assert_eq!(server.state().http_requests, upgrades + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_refused_after_a_drop_ends_the_stream_with_the_refusal() {
    let server = start(Profile::Faithful).await;
    let client = crate::sse_support::client(&server).build().unwrap();
    let mut sub = client.subscribe(Filter::everything()).await.unwrap();
    server.fault(Fault::HttpStatus {
        status: 403,
        retry_after: None,
        count: 1_000,
    });
    server.fault(Fault::DropConnections);
    let err = last_item(&mut sub)
        .await
        .expect("an item")
        .expect_err("the last item is the refusal");
    assert_eq!(err.status(), Some(StatusCode::FORBIDDEN), "{err:?}");
}

/// With `retry_refused`, the client keeps trying, no faster than the delay it was given.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_refused_retries_with_the_long_delay() {
    let server = start(Profile::Faithful).await;
    let client = client(&server)
        .retry_refused(Some(Duration::from_secs(3600)))
        .connect()
        .await
        .unwrap();
    let mut state = client.state();
    let requests = server.state().http_requests;
    server.fault(Fault::HttpStatus {
        status: 403,
        retry_after: None,
        count: 1_000,
    });
    server.fault(Fault::DropConnections);
    let waited = tokio::time::timeout(
        WAIT,
        state.wait_for(|s| {
            matches!(s, wk_realtime::ws::ConnectionState::Reconnecting { delay, .. }
                if *delay >= Duration::from_secs(3600))
        }),
    )
    .await;
    assert!(
        matches!(waited, Ok(Ok(_))),
        "no long wait after the refusal; state {:?}, server {:?}",
        *client.state().borrow(),
        server.state()
    );
    // One refused attempt, then the long wait: no second one.
    assert_eq!(server.state().http_requests, requests + 1);
}
