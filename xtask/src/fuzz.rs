//! `cargo xtask fuzz <target> [--runs N]`: runs one target of the `fuzz/` crate (its own workspace).
//!
//! The target is built in release with debug assertions (`fuzz/Cargo.toml`) into
//! `target/wk-fuzz/`, replays its checked-in corpus `fuzz/corpus/<target>/`, then runs N seeded
//! mutations (default 100,000). A finding is saved under `fuzz/artifacts/<target>/` and fails the
//! command. `cargo xtask fuzz all --runs N` runs every target; `cargo xtask fuzz list` names them.
//! With afl.rs installed, `cargo afl build --features afl` in `fuzz/` builds the same targets for
//! `cargo afl fuzz` (see RELIABILITY.md).

use std::path::Path;
use std::process::Command;

use crate::Result;

/// The targets of `fuzz/Cargo.toml`.
pub(crate) const TARGETS: &[&str] = &["phoenix_frame", "sse_parser", "json_decode", "webhook_body"];

/// Runs `target` (or every target for `all`) for `runs` mutations.
pub(crate) fn run(root: &Path, target: &str, runs: Option<u64>) -> Result {
    let chosen: Vec<&str> = match target {
        "list" => {
            for t in TARGETS {
                println!("{t}");
            }
            return Ok(());
        }
        "all" => TARGETS.to_vec(),
        t if TARGETS.contains(&t) => vec![t],
        other => {
            return Err(
                format!("unknown fuzz target `{other}`; one of {TARGETS:?} or `all`").into(),
            );
        }
    };
    let runs = runs.unwrap_or(100_000).to_string();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = root.join("target/wk-fuzz");
    for t in chosen {
        println!("==> fuzz: {t} ({runs} runs)");
        let status = Command::new(&cargo)
            .args(["run", "--locked", "--release", "--quiet", "--manifest-path"])
            .arg(root.join("fuzz/Cargo.toml"))
            .arg("--target-dir")
            .arg(&target_dir)
            .args(["--bin", t, "--", "--runs", &runs])
            .current_dir(root)
            .status()?;
        if !status.success() {
            return Err(
                format!("fuzz target `{t}` failed ({status}); see fuzz/artifacts/{t}/").into(),
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_a_binary_and_a_corpus() {
        let root = crate::workspace_root();
        let manifest = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).unwrap();
        for t in TARGETS {
            assert!(manifest.contains(&format!("name = \"{t}\"")), "{t}");
            assert!(
                root.join(format!("fuzz/fuzz_targets/{t}.rs")).is_file(),
                "{t}"
            );
            let corpus = std::fs::read_dir(root.join("fuzz/corpus").join(t)).unwrap();
            assert!(corpus.count() > 0, "{t}: empty corpus");
        }
    }

    #[test]
    fn unknown_targets_are_refused() {
        assert!(run(Path::new("."), "nope", Some(1)).is_err());
    }
}
