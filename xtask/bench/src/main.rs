//! `wk-bench`: one benchmark per invocation, one JSON object on stdout; `cargo xtask bench` runs them.
//!
//! ```text
//! wk-bench serve                                   the fake server (wk-testkit) in its own process
//! wk-bench ws-ingest  --base URL --ws URL --frames N [--raw]
//! wk-bench ws-conns   --base URL --ws URL --conns N [--raw]
//! wk-bench http-rps   --base URL --secs S
//! wk-bench sse-ingest --base URL --events N [--raw]
//! wk-bench decode | cache | filter | sse-long-line [--quick]
//! ```
//!
//! Every measurement and its baseline that can share a process run in the same process, interleaved;
//! those that cannot (memory, one socket per client) are separate invocations the harness alternates.

#![forbid(unsafe_code)]

mod conns;
mod http;
mod ingest;
mod micro;
mod server;
mod skeleton;
mod sse;
mod sys;

use std::collections::HashMap;
use std::process::ExitCode;

/// Command-line options: `--name value` pairs and bare `--flag`s.
#[derive(Debug, Default)]
pub(crate) struct Args {
    values: HashMap<String, String>,
}

impl Args {
    fn parse(args: &[String]) -> Self {
        let mut values = HashMap::new();
        let mut it = args.iter().peekable();
        while let Some(arg) = it.next() {
            let Some(name) = arg.strip_prefix("--") else {
                continue;
            };
            let value = match it.peek() {
                Some(v) if !v.starts_with("--") => it.next().cloned().unwrap_or_default(),
                _ => String::new(),
            };
            values.insert(name.to_owned(), value);
        }
        Self { values }
    }

    /// A required option.
    pub(crate) fn get(&self, name: &str) -> Result<&str, String> {
        self.values
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required"))
    }

    /// A numeric option with a default.
    pub(crate) fn num(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.values.get(name) {
            Some(v) => v
                .parse()
                .map_err(|_| format!("--{name}: not a number: {v}")),
            None => Ok(default),
        }
    }

    /// Whether a bare flag is present.
    pub(crate) fn flag(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = argv.split_first() else {
        eprintln!(
            "usage: wk-bench <serve|ws-ingest|ws-conns|http-rps|sse-ingest|decode|cache|filter|sse-long-line> [options]"
        );
        return ExitCode::from(2);
    };
    let args = Args::parse(rest);
    let result = match command.as_str() {
        "serve" => server::run(&args),
        "ws-ingest" => ingest::run(&args),
        "ws-conns" => conns::run(&args),
        "http-rps" => http::run(&args),
        "sse-ingest" => sse::ingest(&args),
        "decode" => micro::decode(&args),
        "decode-loop" => micro::decode_loop(&args),
        "cache" => micro::cache(&args),
        "filter" => micro::filter(&args),
        "sse-long-line" => sse::long_line(&args),
        other => Err(format!("unknown command {other}")),
    };
    match result {
        Ok(Some(json)) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Ok(None) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wk-bench {command}: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What a benchmark command returns: one JSON object to print, or nothing (`serve`).
pub(crate) type Outcome = Result<Option<serde_json::Value>, String>;

/// The median of a non-empty sample.
pub(crate) fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}
