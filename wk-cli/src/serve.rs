//! `wk serve`: the fake WandererKills server (wk-testkit) on a real port, until Ctrl-C.

use std::io::Write;
use std::process::ExitCode;

use wk::testkit::{Profile, TestServer};

use crate::cli::{Format, ProfileArg, ServeArgs};
use crate::commands::ignore_broken_pipe;
use crate::error::Failure;

/// `wk serve`: prints the server's URLs on stdout, then serves until Ctrl-C or SIGTERM.
pub(crate) async fn run(format: Format, args: ServeArgs) -> Result<ExitCode, Failure> {
    let profile = match args.profile {
        ProfileArg::Faithful => Profile::Faithful,
        ProfileArg::Legacy => Profile::Legacy,
        ProfileArg::Designed => Profile::Designed,
    };
    let server = TestServer::builder()
        .addr(args.addr)
        .profile(profile)
        .rate(args.rate)
        .start()
        .await
        .map_err(|e| Failure::server(format!("cannot listen on {}: {e}", args.addr)))?;
    let base = server.base_url();
    let ws = server.ws_url();
    let sse = format!("{base}/api/v1/kills/stream");
    let mut out = std::io::stdout().lock();
    let printed = match format {
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::json!({
                "base_url": base, "ws_url": ws, "sse_url": sse,
                "profile": profile.as_str(), "rate": args.rate,
            })
        ),
        Format::Pretty => writeln!(out, "base_url   {base}\nwebsocket  {ws}\nsse        {sse}"),
    };
    printed
        .and_then(|()| out.flush())
        .or_else(|e| ignore_broken_pipe(&e))?;
    drop(out);
    eprintln!(
        "wk: serving wk-testkit ({profile} profile, {} synthetic kills per second); Ctrl-C to stop\n\
         wk: try: wk --url {base} tail --systems 30000142,30002813",
        args.rate
    );
    shutdown_signal().await;
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
