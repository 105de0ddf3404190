//! Process facts from `/proc` (resident memory, CPU time), a tiny blocking HTTP POST, and the
//! hand-written WebSocket join the baselines use.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Resident set size of this process in KiB (`VmRSS`).
pub(crate) fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time of every thread of this process so far, in seconds (the first field of each thread's
/// `schedstat`, in nanoseconds; threads that already exited are not counted, so take both readings
/// while the runtime's threads are alive).
pub(crate) fn cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let mut ns: u64 = 0;
    for task in tasks.flatten() {
        let stat = std::fs::read_to_string(task.path().join("schedstat")).unwrap_or_default();
        ns += stat
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    ns as f64 / 1e9
}

/// Asks the testkit's firehose for `frames` kills, each in `copies` identical frames or events in
/// a row; returns the response body.
pub(crate) fn firehose(base: &str, frames: u64, copies: u64) -> Result<String, String> {
    post(
        base,
        "/_testkit/firehose",
        &format!("{{\"frames\":{frames},\"copies\":{copies}}}"),
    )
}

/// `POST {base}{path}` with a JSON body; returns the status line and body.
pub(crate) fn post(base: &str, path: &str, body: &str) -> Result<String, String> {
    let host = base
        .strip_prefix("http://")
        .ok_or("only http:// base URLs")?
        .trim_end_matches('/');
    let mut stream = TcpStream::connect(host).map_err(|e| format!("connect {host}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    if !response.starts_with("HTTP/1.1 2") {
        return Err(format!("POST {path}: {response}"));
    }
    Ok(response)
}

/// The system of the firehose's killmail: wk-testkit picks the first killmail of seed 42 whose
/// canonical JSON is 1,900–2,300 bytes long.
pub(crate) fn firehose_system() -> wk_types::SystemId {
    let mut generator = wk_testkit::Generator::new(42);
    let mut km = generator.killmail();
    for _ in 0..1000 {
        let len = wk_testkit::json::encode(&wk_testkit::forms::canonical(&km)).len();
        if (1900..=2300).contains(&len) {
            break;
        }
        km = generator.killmail();
    }
    km.system_id.expect("generated killmails have a system")
}

/// A tokio-tungstenite connection with default settings, joined to `killmails:lobby` by hand (no
/// subscriptions), as a user of the bare library would: the baseline side of the WebSocket metrics.
pub(crate) async fn raw_join(
    ws_url: &str,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    String,
> {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let url = format!("{ws_url}?vsn=2.0.0");
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .map_err(|e| e.to_string())?;
    socket
        .send(Message::Text(
            r#"["1","1","killmails:lobby","phx_join",{}]"#.into(),
        ))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(t))) if t.contains("phx_reply") => return Ok(socket),
            Some(Ok(_)) => {}
            other => return Err(format!("join failed: {other:?}")),
        }
    }
}
