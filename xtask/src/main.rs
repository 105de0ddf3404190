//! Repository automation for wanderer-kills-rs, run as `cargo xtask <command>`.
//!
//! - `cargo xtask codegen [--check]` writes `spec/openapi.json` and `spec/schemas/*.json` from the
//!   wk-types wire model; `--check` fails when a checked-in file is stale.
//! - `cargo xtask tidy` runs the repository lints (file headers, `#[non_exhaustive]` errors,
//!   workspace dependencies, trailing whitespace, no ignored tests).
//! - `cargo xtask ci [--skip STEP]...` runs exactly what CI runs (`.ci/run` calls it).
//! - `cargo xtask bench [--quick]` runs the performance suite against its baselines and writes
//!   `target/wk-bench/report.json` (a full run also updates `BENCHMARKS.md`).
//! - `cargo xtask chaos [--quick] [--release]` runs both transports under forced faults and writes
//!   `target/wk-chaos/report.json` (see `chaos.rs`).
//! - `cargo xtask fuzz <target> [--runs N]` runs a fuzz target of `fuzz/` (see `fuzz.rs`).
//! - `cargo xtask deny` runs `cargo deny check bans licenses sources` (installing it if missing).

#![forbid(unsafe_code)]

mod bench;
mod chaos;
mod ci;
mod codegen;
mod deny;
mod feature_tree;
mod fuzz;
mod openapi;
mod routes;
mod schemas;
mod tidy;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The error type of every xtask command: a message for the terminal.
pub(crate) type Error = Box<dyn std::error::Error>;

/// The result type of every xtask command.
pub(crate) type Result<T = (), E = Error> = std::result::Result<T, E>;

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  codegen [--check]      write spec/openapi.json and spec/schemas/*.json (--check: fail if stale)
  tidy                   run the repository lints
  ci [--skip STEP]...    run every CI step; STEP is one of: fmt clippy test doc codegen tidy
                         deny features feature-tree examples conformance satellites
  bench [--quick]        run the benchmarks against their baselines (target/wk-bench/report.json)
  chaos [--quick] [--release]  force faults on a live feed, both transports (target/wk-chaos/report.json)
  fuzz <target> [--runs N] [--afl]  run a fuzz target of fuzz/ (`cargo xtask fuzz list` names them)
  deny                         cargo deny check bans licenses sources (installs cargo-deny if missing)
  help                   show this text";

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Codegen {
        check: bool,
    },
    Tidy,
    Ci {
        skip: Vec<String>,
    },
    Bench {
        quick: bool,
    },
    Chaos {
        quick: bool,
        release: bool,
    },
    Fuzz {
        target: String,
        runs: Option<u64>,
        afl: bool,
    },
    Deny,
    Help,
}

/// Parses the command line and runs the command; exit code 2 for bad usage, 1 for failure.
fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match parse_args(&args) {
        Ok(command) => command,
        Err(e) => {
            eprintln!("xtask: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let root = workspace_root();
    let result = match command {
        Command::Codegen { check } => codegen::run(&root, check),
        Command::Tidy => tidy::run(&root),
        Command::Ci { skip } => ci::run(&root, &skip),
        Command::Bench { quick } => bench::run(&root, quick),
        Command::Chaos { quick, release } => chaos::run(&root, quick, release),
        Command::Fuzz { target, runs, afl } => fuzz::run(&root, &target, runs, afl),
        Command::Deny => deny::run(&root),
        Command::Help => {
            println!("{USAGE}");
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Parses the arguments after `cargo xtask`.
fn parse_args(args: &[String]) -> Result<Command> {
    let (first, rest) = match args.split_first() {
        Some((first, rest)) => (first.as_str(), rest),
        None => return Ok(Command::Help),
    };
    match first {
        "codegen" => match rest {
            [] => Ok(Command::Codegen { check: false }),
            [flag] if flag == "--check" => Ok(Command::Codegen { check: true }),
            _ => Err(format!("unexpected arguments for codegen: {rest:?}").into()),
        },
        "tidy" if rest.is_empty() => Ok(Command::Tidy),
        "tidy" => Err(format!("tidy takes no arguments, got {rest:?}").into()),
        "ci" => {
            let mut skip = Vec::new();
            let mut it = rest.iter();
            while let Some(arg) = it.next() {
                match arg.as_str() {
                    "--skip" => {
                        let step = it.next().ok_or("--skip needs a step name")?;
                        if !ci::STEPS.contains(&step.as_str()) {
                            return Err(format!("unknown CI step `{step}`").into());
                        }
                        skip.push(step.clone());
                    }
                    other => return Err(format!("unexpected argument for ci: `{other}`").into()),
                }
            }
            Ok(Command::Ci { skip })
        }
        "bench" => match rest {
            [] => Ok(Command::Bench { quick: false }),
            [flag] if flag == "--quick" => Ok(Command::Bench { quick: true }),
            _ => Err(format!("unexpected arguments for bench: {rest:?}").into()),
        },
        "deny" if rest.is_empty() => Ok(Command::Deny),
        "chaos" => {
            let (mut quick, mut release) = (false, false);
            for arg in rest {
                match arg.as_str() {
                    "--quick" => quick = true,
                    "--release" => release = true,
                    other => return Err(format!("unexpected argument for chaos: `{other}`").into()),
                }
            }
            Ok(Command::Chaos { quick, release })
        }
        "fuzz" => {
            let (target, mut runs, mut afl) = match rest.split_first() {
                Some((target, _)) if !target.starts_with('-') => (target.clone(), None, false),
                _ => return Err("usage: fuzz <target> [--runs N] [--afl]".into()),
            };
            let mut it = rest[1..].iter();
            while let Some(arg) = it.next() {
                match arg.as_str() {
                    "--afl" => afl = true,
                    "--runs" => {
                        let n = it.next().ok_or("--runs needs a number")?;
                        runs = Some(
                            n.parse()
                                .map_err(|_| format!("--runs needs a number, got `{n}`"))?,
                        );
                    }
                    other => return Err(format!("unexpected argument for fuzz: `{other}`").into()),
                }
            }
            Ok(Command::Fuzz { target, runs, afl })
        }
        "help" | "--help" | "-h" => Ok(Command::Help),
        other => Err(format!("unknown command `{other}`").into()),
    }
}

/// The workspace root: the parent of this crate's manifest directory.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command> {
        parse_args(&args.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
    }

    /// The usage text names every CI step `--skip` accepts.
    #[test]
    fn usage_names_every_ci_step() {
        let line = USAGE
            .split("STEP is one of:")
            .nth(1)
            .and_then(|rest| rest.split("\n  bench").next())
            .unwrap();
        let named: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(named, ci::STEPS);
    }

    #[test]
    fn parses_commands() {
        assert_eq!(parse(&[]).unwrap(), Command::Help);
        assert_eq!(
            parse(&["codegen"]).unwrap(),
            Command::Codegen { check: false }
        );
        assert_eq!(
            parse(&["codegen", "--check"]).unwrap(),
            Command::Codegen { check: true }
        );
        assert_eq!(parse(&["tidy"]).unwrap(), Command::Tidy);
        assert_eq!(
            parse(&["bench", "--quick"]).unwrap(),
            Command::Bench { quick: true }
        );
        assert_eq!(
            parse(&["ci", "--skip", "conformance", "--skip", "doc"]).unwrap(),
            Command::Ci {
                skip: vec!["conformance".to_owned(), "doc".to_owned()]
            }
        );
    }

    #[test]
    fn rejects_bad_arguments() {
        assert!(parse(&["codegen", "--force"]).is_err());
        assert!(parse(&["ci", "--skip"]).is_err());
        assert!(parse(&["ci", "--skip", "lint"]).is_err());
        assert!(parse(&["tidy", "x"]).is_err());
        assert!(parse(&["bench", "--fast"]).is_err());
        assert!(parse(&["frobnicate"]).is_err());
        assert!(parse(&["chaos", "--slow"]).is_err());
        assert!(parse(&["deny", "x"]).is_err());
        assert!(parse(&["fuzz"]).is_err());
        assert!(parse(&["fuzz", "frame", "--runs", "many"]).is_err());
    }

    #[test]
    fn parses_chaos_and_fuzz() {
        assert_eq!(
            parse(&["chaos", "--quick"]).unwrap(),
            Command::Chaos {
                quick: true,
                release: false
            }
        );
        assert_eq!(
            parse(&["fuzz", "sse_parser", "--runs", "1000"]).unwrap(),
            Command::Fuzz {
                target: "sse_parser".to_owned(),
                runs: Some(1000),
                afl: false
            }
        );
    }

    #[test]
    fn root_has_the_workspace_manifest() {
        assert!(workspace_root().join("Cargo.toml").is_file());
    }
}
