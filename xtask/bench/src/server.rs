//! `wk-bench serve`: wk-testkit in a process of its own, so clients never share its runtime.
//!
//! Prints the same first line as the `wk-testkit` binary, then serves until stdin closes.

use std::io::{BufRead, Write};

use wk_testkit::{Profile, TestServer};

use crate::{Args, Outcome};

/// Serves until stdin reaches end of file (the harness closes it, or exits).
pub(crate) fn run(args: &Args) -> Outcome {
    let profile = match args.get("profile") {
        Ok(p) => p.parse::<Profile>().map_err(|e| e.to_string())?,
        Err(_) => Profile::Faithful,
    };
    let threads = args.num("threads", 2)? as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let server = TestServer::builder()
            .profile(profile)
            .idle_timeout(std::time::Duration::from_secs(600))
            .start()
            .await
            .map_err(|e| e.to_string())?;
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "wk-testkit listening base_url={} ws_url={} profile={}",
                server.base_url(),
                server.ws_url(),
                server.profile()
            );
            let _ = out.flush();
        }
        let _ = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let stdin = std::io::stdin();
            let mut lock = stdin.lock();
            while lock.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                line.clear();
            }
        })
        .await;
        server.shutdown().await;
        Ok::<_, String>(())
    })?;
    Ok(None)
}
