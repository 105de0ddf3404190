//! The built-in driver used when afl is not available: replay `corpus/<target>/`, then mutate it
//! for `--runs N` executions with a seeded PRNG (`--seed S`). No coverage feedback: this is a
//! bounded, reproducible random search, not a replacement for a coverage-guided fuzzer.
//!
//! A panic is a finding: the input is written to `artifacts/<target>/crash-<hash>` and the run
//! stops with exit code 1. The last line printed is `execs=N` for the record.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

/// Byte strings worth splicing into JSON and SSE inputs.
const TOKENS: &[&[u8]] = &[
    b"[",
    b"]",
    b"{",
    b"}",
    b"\"",
    b",",
    b":",
    b"null",
    b"true",
    b"-0",
    b"1e999",
    b"-1",
    b"9223372036854775808",
    b"\\u0000",
    b"\\ud800",
    b"\xff",
    b"\xef\xbb\xbf",
    b"\r\n",
    b"\n\n",
    b"\r",
    b"data:",
    b"data: ",
    b"event:",
    b"id:",
    b"retry:",
    b": ",
    b"\"killmail_id\":",
    b"\"system_id\":",
    b"\"type\":\"killmail_update\"",
    b"\"killmails\":[",
    b"phx_reply",
    b"killmail_update",
    b"{\"a\":",
    b"[[[[[[[[",
    b"]]]]]]]]",
];

/// Runs `target` as the command line asks; see the module docs.
pub fn main(name: &str, target: fn(&[u8])) -> ExitCode {
    let mut runs: u64 = 100_000;
    let mut seed: u64 = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().and_then(|v| v.parse().ok());
        match (arg.as_str(), value) {
            ("--runs", Some(v)) => runs = v,
            ("--seed", Some(v)) => seed = v,
            _ => {
                eprintln!("usage: {name} [--runs N] [--seed S]");
                return ExitCode::from(2);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = read_corpus(&root.join("corpus").join(name));
    if corpus.is_empty() {
        eprintln!("{name}: corpus/{name}/ is empty");
        return ExitCode::from(2);
    }
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let mut execs = 0u64;
    let artifacts = root.join("artifacts").join(name);
    for input in &corpus {
        execs += 1;
        if let Some(code) = check(target, input, &artifacts) {
            return code;
        }
    }
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    let mut input = Vec::new();
    for _ in 0..runs {
        input.clear();
        input.extend_from_slice(&corpus[rng.below(corpus.len())]);
        for _ in 0..=rng.below(4) {
            mutate(&mut input, &corpus, &mut rng);
        }
        execs += 1;
        if let Some(code) = check(target, &input, &artifacts) {
            return code;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{name}: corpus {} files, seed {seed}, no findings, {:.0} execs/s",
        corpus.len(),
        execs as f64 / secs.max(1e-9)
    );
    println!("execs={execs}");
    ExitCode::SUCCESS
}

/// Runs one input; on a panic, saves it and returns the exit code.
fn check(target: fn(&[u8]), input: &[u8], artifacts: &Path) -> Option<ExitCode> {
    let outcome = catch_unwind(AssertUnwindSafe(|| target(input)));
    if outcome.is_ok() {
        return None;
    }
    let hash = input.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    });
    let path = artifacts.join(format!("crash-{hash:016x}"));
    let _ = std::fs::create_dir_all(artifacts);
    let _ = std::fs::write(&path, input);
    let _ = std::panic::take_hook();
    // Run it again with the default hook, so the message and location are printed.
    let _ = catch_unwind(AssertUnwindSafe(|| target(input)));
    eprintln!("finding: input saved to {}", path.display());
    Some(ExitCode::FAILURE)
}

fn read_corpus(dir: &Path) -> Vec<Vec<u8>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// One random edit of `input`.
fn mutate(input: &mut Vec<u8>, corpus: &[Vec<u8>], rng: &mut Rng) {
    let len = input.len();
    match rng.below(8) {
        0 if len > 0 => {
            let i = rng.below(len);
            input[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            input[i] = [0, 0x7f, 0x80, 0xff, b'"', b'\\', b'\n', b'0'][rng.below(8)];
        }
        2 if len > 0 => {
            let start = rng.below(len);
            let end = (start + 1 + rng.below(64)).min(len);
            input.drain(start..end);
        }
        3 if len > 0 => {
            let start = rng.below(len);
            let end = (start + 1 + rng.below(64)).min(len);
            let copy = input[start..end].to_vec();
            let at = rng.below(len + 1);
            input.splice(at..at, copy);
        }
        4 => {
            let other = &corpus[rng.below(corpus.len())];
            if !other.is_empty() {
                let start = rng.below(other.len());
                let end = (start + 1 + rng.below(256)).min(other.len());
                let at = rng.below(len + 1);
                input.splice(at..at, other[start..end].iter().copied());
            }
        }
        5 if len > 0 => {
            input.truncate(rng.below(len));
        }
        6 => {
            let digits = rng.next().to_string();
            let at = rng.below(len + 1);
            input.splice(at..at, digits.bytes());
        }
        _ => {
            let token = TOKENS[rng.below(TOKENS.len())];
            let at = rng.below(len + 1);
            input.splice(at..at, token.iter().copied());
        }
    }
}

/// xorshift64*: small, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}
