//! `wk serve`: prints its URLs and serves until stopped (by pid).

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::{LIMIT, command, wk};

async fn first_line(child: &mut tokio::process::Child) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    tokio::time::timeout(LIMIT, lines.next_line())
        .await
        .expect("serve printed within the limit")
        .expect("stdout readable")
        .expect("a first line")
}

fn terminate(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

#[tokio::test]
async fn serve_prints_its_urls_and_answers() {
    let mut child = command(&["serve", "--addr", "127.0.0.1:0", "--rate", "0"])
        .spawn()
        .expect("wk serve starts");
    let pid = child.id().expect("running");
    let line = first_line(&mut child).await;
    let base = line
        .strip_prefix("base_url")
        .map(str::trim)
        .expect("the first line names the base URL")
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    let health = wk(&["--url", &base, "health"]).await;
    assert!(health.ok().contains("yes"), "{health:?}");
    terminate(pid);
    let status = tokio::time::timeout(LIMIT, child.wait())
        .await
        .expect("serve stopped within the limit")
        .expect("wait works");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn serve_json_names_every_url_and_streams_kills() {
    let mut child = command(&[
        "--format",
        "json",
        "serve",
        "--addr",
        "127.0.0.1:0",
        "--profile",
        "designed",
        "--rate",
        "20",
    ])
    .spawn()
    .expect("wk serve starts");
    let pid = child.id().expect("running");
    let line = first_line(&mut child).await;
    let info: serde_json::Value = serde_json::from_str(&line).expect("one JSON line");
    let base = info["base_url"].as_str().expect("base_url").to_owned();
    assert!(
        info["ws_url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/socket/websocket")),
        "{info}"
    );
    assert!(
        info["sse_url"]
            .as_str()
            .is_some_and(|u| u.starts_with(&base)),
        "{info}"
    );
    assert_eq!(info["profile"], "designed");
    let systems = crate::support::generator_systems();
    let tail = wk(&[
        "--url",
        &base,
        "--format",
        "json",
        "tail",
        "--systems",
        &systems,
        "--count",
        "2",
    ])
    .await;
    assert_eq!(tail.ok().lines().count(), 2, "{tail:?}");
    terminate(pid);
    let _ = tokio::time::timeout(Duration::from_secs(20), child.wait()).await;
    // If it did not stop on SIGTERM, end it by pid.
    let _ = child.start_kill();
}

#[tokio::test]
async fn serve_reports_a_taken_port() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let run = wk(&["serve", "--addr", &addr]).await;
    assert!(run.failed(1).contains("cannot listen"), "{run:?}");
}
