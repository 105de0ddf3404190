//! `wk-testkit`: run the fake WandererKills server from the command line.
//!
//! ```text
//! wk-testkit [--addr 127.0.0.1:4004] [--profile faithful|legacy|designed] [--rate KILLS_PER_S]
//!            [--idle-timeout-ms MS] [--sse-ping-ms MS] [--seed N]
//! ```
//! The first line on stdout is
//! `wk-testkit listening base_url=http://… ws_url=ws://…/socket/websocket profile=…`.

#![forbid(unsafe_code)]

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use wk_testkit::{Profile, TestServer};

const USAGE: &str = "usage: wk-testkit [--addr 127.0.0.1:4004] [--profile faithful|legacy|designed] [--rate KILLS_PER_S] \
[--idle-timeout-ms MS] [--sse-ping-ms MS] [--seed N]";

fn parse_args() -> Result<wk_testkit::TestServerBuilder, String> {
    let mut builder = TestServer::builder().addr(SocketAddr::from(([127, 0, 0, 1], 4004)));
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Err(USAGE.to_owned());
        }
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_owned(), Some(v.to_owned())),
            None => (flag.clone(), None),
        };
        let value = match inline {
            Some(v) => v,
            None => args
                .next()
                .ok_or_else(|| format!("{name} needs a value\n{USAGE}"))?,
        };
        let bad = |what: &str| format!("invalid {name} {value:?}: {what}\n{USAGE}");
        builder = match name.as_str() {
            "--addr" => builder.addr(value.parse().map_err(|_| bad("expected HOST:PORT"))?),
            "--profile" => builder.profile(value.parse::<Profile>().map_err(|e| bad(&e))?),
            "--rate" => {
                let rate: f64 = value.parse().map_err(|_| bad("expected a number"))?;
                if !rate.is_finite() || rate < 0.0 {
                    return Err(bad("expected a non-negative number"));
                }
                builder.rate(rate)
            }
            "--idle-timeout-ms" => builder.idle_timeout(Duration::from_millis(
                value.parse().map_err(|_| bad("expected ms"))?,
            )),
            "--sse-ping-ms" => builder.sse_ping_interval(Duration::from_millis(
                value.parse().map_err(|_| bad("expected ms"))?,
            )),
            "--seed" => builder.seed(value.parse().map_err(|_| bad("expected an integer"))?),
            _ => return Err(format!("unknown flag {name}\n{USAGE}")),
        };
    }
    Ok(builder)
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let builder = match parse_args() {
        Ok(b) => b,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let server = match builder.start().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("wk-testkit: cannot listen: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "wk-testkit listening base_url={} ws_url={} profile={}",
        server.base_url(),
        server.ws_url(),
        server.profile()
    );
    let _ = out.flush();
    drop(out);
    wait_for_signal().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}
