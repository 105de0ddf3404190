//! `cargo xtask fuzz <target> [--runs N]`: runs one target of the `fuzz/` crate (its own workspace).
//!
//! The target is built in release with debug assertions (`fuzz/Cargo.toml`) into
//! `target/wk-fuzz/`, replays its checked-in corpus `fuzz/corpus/<target>/`, then runs N seeded
//! mutations (default 100,000). A finding is saved under `fuzz/artifacts/<target>/` and fails the
//! command. `cargo xtask fuzz all --runs N` runs every target; `cargo xtask fuzz list` names them.
//! With `--afl` (needs `cargo install --locked cargo-afl`), the targets are built with
//! `cargo afl build --features afl` into `target/wk-afl/` and run coverage-guided by
//! `cargo afl fuzz -E N` (N executions) from the same corpus; output in `target/wk-fuzz/afl/<target>/`.

use std::path::Path;
use std::process::Command;

use crate::Result;

/// The targets of `fuzz/Cargo.toml`.
pub(crate) const TARGETS: &[&str] = &["phoenix_frame", "sse_parser", "json_decode", "webhook_body"];

/// Runs `target` (or every target for `all`) for `runs` mutations.
pub(crate) fn run(root: &Path, target: &str, runs: Option<u64>, afl: bool) -> Result {
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
    if afl {
        return run_afl(root, &chosen, &runs);
    }
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

/// Builds the targets with afl instrumentation and runs `cargo afl fuzz -E runs` on each.
fn run_afl(root: &Path, targets: &[&str], runs: &str) -> Result {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let fuzz = root.join("fuzz");
    let build_dir = root.join("target/wk-afl");
    let status = Command::new(&cargo)
        .args([
            "afl",
            "build",
            "--release",
            "--features",
            "afl",
            "--target-dir",
        ])
        .arg(&build_dir)
        .current_dir(&fuzz)
        .status()?;
    if !status.success() {
        return Err("cargo afl build failed (is cargo-afl installed?)".into());
    }
    for t in targets {
        let out = root.join("target/wk-fuzz/afl").join(t);
        std::fs::create_dir_all(&out)?;
        println!("==> fuzz (afl): {t} ({runs} execs)");
        let status = Command::new(&cargo)
            .args(["afl", "fuzz", "-E", runs, "-i"])
            .arg(fuzz.join("corpus").join(t))
            .arg("-o")
            .arg(&out)
            .arg(build_dir.join("release").join(t))
            .env("AFL_NO_UI", "1")
            .env("AFL_AUTORESUME", "1")
            .env("AFL_SKIP_CPUFREQ", "1")
            .env("AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES", "1")
            .current_dir(&fuzz)
            .status()?;
        let stats = std::fs::read_to_string(out.join("default/fuzzer_stats")).unwrap_or_default();
        let field = |name: &str| {
            stats
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim_start_matches([' ', ':']).trim().to_owned())
                .unwrap_or_default()
        };
        println!(
            "{t}: execs={} crashes={} hangs={}",
            field("execs_done"),
            field("saved_crashes"),
            field("saved_hangs")
        );
        if !status.success() || field("saved_crashes") != "0" {
            return Err(format!("afl: {t} failed or found crashes; see {}", out.display()).into());
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
        assert!(run(Path::new("."), "nope", Some(1), false).is_err());
    }
}
