//! Raw clients for the integration tests: an HTTP/1.1 client over a bare TCP socket (byte-level
//! checks), a WebSocket client on tokio-tungstenite, and fixtures.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use wk_types::Killmail;

pub(crate) const T: Duration = Duration::from_secs(5);

/// The text of the protocol example `spec/protocol/examples/<name>`.
pub(crate) fn data(name: &str) -> String {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/protocol/examples");
    std::fs::read_to_string(format!("{dir}/{name}")).unwrap()
}

/// The example killmail (Tama), with its kill time moved to now so preload windows include it.
pub(crate) fn example_kill() -> Killmail {
    let mut km: Killmail = serde_json::from_str(&data("killmail.json")).unwrap();
    km.kill_time = Some(jiff::Timestamp::now());
    km
}

/// The solo capsule example (Jita).
pub(crate) fn capsule_kill() -> Killmail {
    serde_json::from_str(&data("killmail_solo_capsule.json")).unwrap()
}

#[derive(Debug)]
pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl HttpResponse {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
}

fn decode_chunked(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..pos]).unwrap().trim(), 16)
            .unwrap_or(0);
        raw = &raw[pos + 2..];
        if size == 0 || raw.len() < size {
            break;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[(size + 2).min(raw.len())..];
    }
    out
}

/// Sends one request (with `Connection: close`) and reads the whole response.
pub(crate) async fn request(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> HttpResponse {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(T, s.read_to_end(&mut raw))
        .await
        .expect("response in time")
        .unwrap();
    parse_response(&raw)
}

pub(crate) fn parse_response(raw: &[u8]) -> HttpResponse {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let body_raw = &raw[end + 4..];
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        decode_chunked(body_raw)
    } else {
        body_raw.to_vec()
    };
    HttpResponse {
        status,
        headers,
        body,
    }
}

pub(crate) async fn get(addr: std::net::SocketAddr, path: &str) -> HttpResponse {
    request(addr, "GET", path, &[], "").await
}

pub(crate) async fn post_json(addr: std::net::SocketAddr, path: &str, body: &str) -> HttpResponse {
    request(
        addr,
        "POST",
        path,
        &[("content-type", "application/json")],
        body,
    )
    .await
}

/// An open streaming response (SSE): headers parsed, body bytes read on demand (chunked decoded).
pub(crate) struct Stream {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    sock: TcpStream,
    buf: Vec<u8>,
    pub(crate) body: Vec<u8>,
}

impl Stream {
    pub(crate) async fn open(addr: std::net::SocketAddr, path: &str) -> Stream {
        let mut sock = TcpStream::connect(addr).await.unwrap();
        let req =
            format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\naccept: text/event-stream\r\n\r\n");
        sock.write_all(req.as_bytes()).await.unwrap();
        let mut buf = Vec::new();
        let end = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break end;
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(T, sock.read(&mut chunk))
                .await
                .expect("headers in time")
                .unwrap();
            assert!(n > 0, "closed before headers");
            buf.extend_from_slice(&chunk[..n]);
        };
        let parsed = parse_response(&buf[..end + 4]);
        let rest = buf[end + 4..].to_vec();
        Stream {
            status: parsed.status,
            headers: parsed.headers,
            sock,
            buf: rest,
            body: Vec::new(),
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Decodes complete chunks from the buffer; returns `true` at the terminating chunk.
    fn decode(&mut self) -> bool {
        loop {
            let Some(pos) = self.buf.windows(2).position(|w| w == b"\r\n") else {
                return false;
            };
            let size =
                usize::from_str_radix(std::str::from_utf8(&self.buf[..pos]).unwrap().trim(), 16)
                    .unwrap();
            if size == 0 {
                return true;
            }
            if self.buf.len() < pos + 2 + size + 2 {
                return false;
            }
            self.body
                .extend_from_slice(&self.buf[pos + 2..pos + 2 + size]);
            self.buf.drain(..pos + 2 + size + 2);
        }
    }

    /// Reads until the body contains `needle` `times` times. Panics on timeout.
    pub(crate) async fn read_until(&mut self, needle: &str, times: usize) {
        let deadline = tokio::time::Instant::now() + T;
        loop {
            let ended = self.decode();
            if count(&self.body, needle) >= times {
                return;
            }
            assert!(
                !ended,
                "stream ended; body so far: {:?}",
                String::from_utf8_lossy(&self.body)
            );
            let mut chunk = [0u8; 8192];
            let n = tokio::time::timeout_at(deadline, self.sock.read(&mut chunk))
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "timeout waiting for {needle:?}; body: {:?}",
                        String::from_utf8_lossy(&self.body)
                    )
                })
                .unwrap();
            assert!(
                n > 0,
                "connection closed; body: {:?}",
                String::from_utf8_lossy(&self.body)
            );
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Reads to the end of the response. `Ok(true)` if it ended with the terminating chunk,
    /// `Ok(false)` if the connection was cut without it.
    pub(crate) async fn read_to_end(&mut self) -> bool {
        loop {
            if self.decode() {
                return true;
            }
            let mut chunk = [0u8; 8192];
            let n = match tokio::time::timeout(T, self.sock.read(&mut chunk))
                .await
                .expect("end in time")
            {
                Ok(n) => n,
                Err(_) => return false,
            };
            if n == 0 {
                return false;
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub(crate) fn count(hay: &[u8], needle: &str) -> usize {
    let n = needle.as_bytes();
    if n.is_empty() || hay.len() < n.len() {
        return 0;
    }
    hay.windows(n.len()).filter(|w| *w == n).count()
}

type WsStream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

/// A raw Phoenix client.
pub(crate) struct Ws {
    pub(crate) ws: WsStream,
    syncs: u32,
}

/// How a read ended when it did not return a text frame.
#[derive(Debug, PartialEq)]
pub(crate) enum Ended {
    Close(Option<u16>),
    Dropped,
    Timeout,
}

impl Ws {
    pub(crate) async fn connect(url: &str) -> Ws {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Ws { ws, syncs: 0 }
    }

    pub(crate) async fn v2(server: &wk_testkit::TestServer) -> Ws {
        Ws::connect(&format!(
            "{}?vsn=2.0.0&client_id=rust-client",
            server.ws_url()
        ))
        .await
    }

    pub(crate) async fn send(&mut self, text: &str) {
        self.ws.send(Message::Text(text.into())).await.unwrap();
    }

    pub(crate) async fn send_json(&mut self, v: Value) {
        self.send(&v.to_string()).await;
    }

    /// The next text frame, or how the connection ended.
    pub(crate) async fn next_within(&mut self, d: Duration) -> Result<String, Ended> {
        loop {
            match tokio::time::timeout(d, self.ws.next()).await {
                Err(_) => return Err(Ended::Timeout),
                Ok(None) | Ok(Some(Err(_))) => return Err(Ended::Dropped),
                Ok(Some(Ok(Message::Text(t)))) => return Ok(t.to_string()),
                Ok(Some(Ok(Message::Close(f)))) => {
                    return Err(Ended::Close(f.map(|f| u16::from(f.code))));
                }
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    pub(crate) async fn text(&mut self) -> String {
        self.next_within(T)
            .await
            .unwrap_or_else(|e| panic!("expected a frame, got {e:?}"))
    }

    pub(crate) async fn frame(&mut self) -> Value {
        let t = self.text().await;
        serde_json::from_str(&t).unwrap()
    }

    /// Frames until one matches `pred` (others are returned in order).
    pub(crate) async fn until(&mut self, pred: impl Fn(&Value) -> bool) -> (Value, Vec<Value>) {
        let mut skipped = Vec::new();
        loop {
            let f = self.frame().await;
            if pred(&f) {
                return (f, skipped);
            }
            skipped.push(f);
        }
    }

    /// Sends a V2 frame and returns the reply with that ref (skipping pushes).
    pub(crate) async fn call(&mut self, jr: &str, r: &str, event: &str, payload: Value) -> Value {
        self.send_json(serde_json::json!([
            jr,
            r,
            "killmails:lobby",
            event,
            payload
        ]))
        .await;
        let (f, _) = self.until(|f| f[1] == r && f[3] == "phx_reply").await;
        f
    }

    pub(crate) async fn join(&mut self, jr: &str, params: Value) -> Value {
        self.send_json(serde_json::json!([
            jr,
            jr,
            "killmails:lobby",
            "phx_join",
            params
        ]))
        .await;
        let (f, _) = self.until(|f| f[1] == jr && f[3] == "phx_reply").await;
        f
    }

    /// Every frame the server queued before it read this call's heartbeat, in order: the server
    /// handles a socket's frames one at a time and writes in order, so anything it sent earlier
    /// (an injected kill's pushes, a reply, or nothing for a dropped push) comes before the
    /// heartbeat's reply. Proves "nothing else arrived" without waiting on the clock (preload,
    /// sent from a task of its own, is not ordered by this).
    pub(crate) async fn sync(&mut self) -> Vec<Value> {
        self.syncs += 1;
        let r = format!("sync-{}", self.syncs);
        self.send_json(serde_json::json!([null, r, "phoenix", "heartbeat", {}]))
            .await;
        let (_, before) = self
            .until(|f| f[1] == r.as_str() && f[2] == "phoenix")
            .await;
        before
    }

    /// Collects frames until none arrives for `quiet`.
    pub(crate) async fn drain(&mut self, quiet: Duration) -> Vec<Value> {
        let mut out = Vec::new();
        while let Ok(t) = self.next_within(quiet).await {
            out.push(serde_json::from_str(&t).unwrap());
        }
        out
    }
}
