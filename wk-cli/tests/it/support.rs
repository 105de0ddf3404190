//! Running the `wk` binary with bounded waits, and seeded test servers.

use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;
use wk::testkit::{Generator, Profile, TestServer};
use wk::types::{Killmail, SystemId};

/// Every run of the binary is bounded by this.
pub(crate) const LIMIT: Duration = Duration::from_secs(60);

/// The outcome of one run.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Asserts exit 0 and returns stdout.
    #[track_caller]
    pub(crate) fn ok(&self) -> &str {
        assert_eq!(self.code, Some(0), "{self:#?}");
        &self.stdout
    }

    /// Asserts the exit code and a single-line stderr; returns that line.
    #[track_caller]
    pub(crate) fn failed(&self, code: i32) -> &str {
        assert_eq!(self.code, Some(code), "{self:#?}");
        assert_eq!(
            self.stderr.lines().count(),
            1,
            "one line expected: {self:#?}"
        );
        assert!(self.stderr.starts_with("wk: "), "{self:#?}");
        self.stderr.trim_end()
    }

    /// Parses stdout as one JSON document.
    #[track_caller]
    pub(crate) fn json(&self) -> serde_json::Value {
        let out = self.ok();
        assert_eq!(out.lines().count(), 1, "one JSON line expected: {out}");
        serde_json::from_str(out).expect("stdout is JSON")
    }
}

/// A `wk` command with a clean environment (no `WK_URL`).
pub(crate) fn command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wk"));
    cmd.args(args)
        .env_remove("WK_URL")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Runs `wk ARGS` to completion (at most [`LIMIT`]).
pub(crate) async fn wk(args: &[&str]) -> Run {
    run(command(args)).await
}

/// Runs `wk --url SERVER ARGS`.
pub(crate) async fn wk_at(server: &TestServer, args: &[&str]) -> Run {
    let base = server.base_url();
    let mut all = vec!["--url", base.as_str()];
    all.extend_from_slice(args);
    wk(&all).await
}

/// Runs a prepared command to completion (at most [`LIMIT`]); the child is killed on timeout.
pub(crate) async fn run(mut cmd: Command) -> Run {
    let child = cmd.spawn().expect("the wk binary starts");
    let output = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .expect("wk finished within the limit")
        .expect("wk's output was read");
    Run {
        code: output.status.code(),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

/// Jita, where [`seeded`] puts three kills.
pub(crate) const JITA: i64 = 30_000_142;
/// Tama, where [`seeded`] puts two kills.
pub(crate) const TAMA: i64 = 30_002_813;

/// A faithful server with no generator.
pub(crate) async fn server() -> TestServer {
    TestServer::builder()
        .profile(Profile::Faithful)
        .start()
        .await
        .expect("the test server starts")
}

/// A faithful server whose store holds three kills in Jita and two in Tama (stored form, recent).
pub(crate) async fn seeded() -> (TestServer, Vec<Killmail>) {
    let server = server().await;
    let mut generator = Generator::new(42);
    let kills: Vec<Killmail> = [JITA, JITA, JITA, TAMA, TAMA]
        .into_iter()
        .map(|s| {
            let canonical = generator.killmail_in(SystemId::new(s));
            generator.stored(&canonical)
        })
        .collect();
    server.seed_store(kills.clone());
    (server, kills)
}

/// Every system the testkit generator uses, comma-separated.
pub(crate) fn generator_systems() -> String {
    wk::testkit::generator::SYSTEMS
        .iter()
        .map(|(id, _, _)| id.to_string())
        .collect::<Vec<_>>()
        .join(",")
}
