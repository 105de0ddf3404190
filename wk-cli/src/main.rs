//! `wk`: the command-line tool for WandererKills (live kills, kill listings, killmails, webhook
//! subscriptions, health, and a local fake server).

#![forbid(unsafe_code)]

mod cli;
mod commands;
mod error;
mod feed;
mod render;
mod serve;
mod tail;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::error::Failure;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A bad value (an id out of range, say) is one line, as every other bad input is.
        Err(e) if e.kind() == clap::error::ErrorKind::ValueValidation => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            eprintln!("wk: {}", first.strip_prefix("error: ").unwrap_or(first));
            return ExitCode::from(2);
        }
        Err(e) => e.exit(),
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wk: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    // Background connection tasks must not hold the exit up.
    runtime.shutdown_background();
    match result {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("wk: {}", failure.message());
            failure.exit_code()
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Failure> {
    let format = cli.format;
    match cli.command {
        Command::Tail(args) => tail::run(cli.url, format, args).await,
        Command::Serve(args) => serve::run(format, args).await,
        Command::Completions { shell } => {
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut Cli::command(), "wk", &mut out);
            Ok(ExitCode::SUCCESS)
        }
        Command::Kills(cmd) => commands::kills(&context(cli.url, format)?, cmd).await,
        Command::Killmail { id } => commands::killmail(&context(cli.url, format)?, id).await,
        Command::Subscriptions(cmd) => {
            commands::subscriptions(&context(cli.url, format)?, cmd).await
        }
        Command::Health => commands::health(&context(cli.url, format)?).await,
        Command::Status => commands::status(&context(cli.url, format)?).await,
    }
}

/// The HTTP client for `--url` / `WK_URL`, which the request commands require.
fn context(url: Option<String>, format: cli::Format) -> Result<commands::Ctx, Failure> {
    let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
        return Err(Failure::usage(
            "no server given: pass --url URL or set WK_URL (`wk tail` without one runs a demo)",
        ));
    };
    let client = wk::Client::builder()
        .base_url(url.clone())
        .client_id("wk-cli")
        .build()
        .map_err(|e| Failure::sdk(&e, &url))?;
    Ok(commands::Ctx {
        http: client.http().clone(),
        url,
        format,
    })
}
