//! Help, completions, and usage errors.

use crate::support::{server, wk, wk_at};

#[tokio::test]
async fn help_everywhere_has_examples() {
    for args in [
        &["--help"][..],
        &["tail", "--help"],
        &["kills", "--help"],
        &["killmail", "--help"],
        &["subscriptions", "--help"],
        &["health", "--help"],
        &["status", "--help"],
        &["serve", "--help"],
        &["completions", "--help"],
    ] {
        let run = wk(args).await;
        let out = run.ok();
        assert!(out.contains("Examples:"), "{args:?}: {out}");
        assert!(out.contains("wk "), "{args:?}: {out}");
    }
    let top = wk(&["--help"]).await;
    for needle in [
        "--url",
        "WK_URL",
        "--format",
        "tail",
        "serve",
        "Exit status",
    ] {
        assert!(top.stdout.contains(needle), "{needle}: {}", top.stdout);
    }
}

#[tokio::test]
async fn completions_are_generated_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let run = wk(&["completions", shell]).await;
        let out = run.ok();
        assert!(out.contains("wk"), "{shell}");
        assert!(out.contains("subscriptions"), "{shell}");
        assert!(out.len() > 500, "{shell}: {out}");
    }
    assert_eq!(wk(&["completions", "tcsh"]).await.code, Some(2));
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let run = wk(&["health"]).await;
    assert!(run.failed(2).contains("--url"), "{run:?}");
    assert_eq!(wk(&["kills", "system", "abc"]).await.code, Some(2));
    assert_eq!(wk(&["tail", "--count", "0"]).await.code, Some(2));
    assert_eq!(wk(&["tail", "--min-value", "lots"]).await.code, Some(2));
    assert_eq!(wk(&["--format", "xml", "status"]).await.code, Some(2));
    let run = wk(&["--url", "not a url", "health"]).await;
    assert!(run.failed(2).contains("not a url"), "{run:?}");
}

#[tokio::test]
async fn wk_url_comes_from_the_environment() {
    let server = server().await;
    let mut cmd = crate::support::command(&["health"]);
    cmd.env("WK_URL", server.base_url());
    let run = crate::support::run(cmd).await;
    assert!(run.ok().contains("healthy"), "{run:?}");
    // `--url` wins over the environment.
    let mut cmd = crate::support::command(&["--url", &server.base_url(), "status"]);
    cmd.env("WK_URL", "http://127.0.0.1:9");
    crate::support::run(cmd).await.ok();
    let _ = wk_at(&server, &["status"]).await.ok();
}
