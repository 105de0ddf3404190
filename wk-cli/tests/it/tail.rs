//! `wk tail`: both formats, --count, --min-value, history, the demo, reconnects, refusals.

use std::collections::HashSet;

use tokio::io::{AsyncBufReadExt, BufReader};
use wk::testkit::{Fault, Profile, TestServer};
use wk::types::Killmail;

use crate::support::{JITA, LIMIT, command, generator_systems, seeded, wk, wk_at};

async fn live_server(rate: f64) -> TestServer {
    live_server_of(Profile::Faithful, rate).await
}

async fn live_server_of(profile: Profile, rate: f64) -> TestServer {
    TestServer::builder()
        .profile(profile)
        .rate(rate)
        .start()
        .await
        .expect("the test server starts")
}

fn known_systems() -> HashSet<i64> {
    wk::testkit::generator::SYSTEMS
        .iter()
        .map(|(id, _, _)| *id)
        .collect()
}

fn killmails(out: &str) -> Vec<Killmail> {
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a killmail ({e}): {l}")))
        .collect()
}

#[tokio::test]
async fn json_lines_are_unique_killmails() {
    for profile in Profile::ALL {
        unique_json_lines(profile).await;
    }
}

async fn unique_json_lines(profile: Profile) {
    let server = live_server_of(profile, 20.0).await;
    let systems = generator_systems();
    let run = wk_at(
        &server,
        &[
            "--format",
            "json",
            "tail",
            "--systems",
            &systems,
            "--count",
            "4",
        ],
    )
    .await;
    let kills = killmails(run.ok());
    assert_eq!(kills.len(), 4, "{run:?}");
    let ids: HashSet<i64> = kills.iter().map(|k| k.killmail_id.get()).collect();
    assert_eq!(
        ids.len(),
        4,
        "{profile}: unique although the server pushes each kill {} times",
        profile.ws_system_copies()
    );
    let known = known_systems();
    assert!(
        kills
            .iter()
            .all(|k| k.system_id.is_some_and(|s| known.contains(&s.get())))
    );
}

#[tokio::test]
async fn pretty_lines_show_system_ship_value_and_final_blow() {
    let server = live_server(20.0).await;
    let systems = generator_systems();
    let run = wk_at(&server, &["tail", "--systems", &systems, "--count", "3"]).await;
    let out = run.ok();
    assert_eq!(out.lines().count(), 3, "{run:?}");
    let names: Vec<&str> = wk::testkit::generator::SYSTEMS
        .iter()
        .map(|(_, n, _)| *n)
        .collect();
    for line in out.lines() {
        let time = &line[..8];
        assert!(time.chars().filter(|c| *c == ':').count() == 2, "{line}");
        assert!(
            names.iter().any(|n| line.contains(&format!("  {n} ("))),
            "{line}"
        );
        assert!(line.contains(" ISK  "), "{line}");
        assert!(line.contains("attacker"), "{line}");
        assert!(line.contains("  final blow: "), "{line}");
    }
}

#[tokio::test]
async fn history_and_min_value() {
    let (server, kills) = seeded().await;
    let mut jita: Vec<f64> = kills
        .iter()
        .filter(|k| k.system_id.map(|s| s.get()) == Some(JITA))
        .filter_map(Killmail::total_value)
        .collect();
    jita.sort_by(f64::total_cmp);
    // Preload delivers Jita's three stored kills; only the two dearest pass the minimum.
    let min = jita[1].to_string();
    let run = wk_at(
        &server,
        &[
            "--format",
            "json",
            "tail",
            "--systems",
            "30000142",
            "--min-value",
            &min,
            "--count",
            "2",
        ],
    )
    .await;
    let printed = killmails(run.ok());
    assert_eq!(printed.len(), 2, "{run:?}");
    assert!(
        printed
            .iter()
            .all(|k| k.total_value().is_some_and(|v| v >= jita[1]))
    );

    let run = wk_at(&server, &["tail", "--systems", "30000142", "--count", "3"]).await;
    let out = run.ok();
    assert_eq!(
        out.lines().filter(|l| l.ends_with("[history]")).count(),
        3,
        "{out}"
    );
    assert!(out.contains("Jita (30000142)"), "{out}");
}

#[tokio::test]
async fn the_demo_runs_without_a_url() {
    let run = wk(&["tail", "--count", "2"]).await;
    let out = run.ok();
    assert_eq!(out.lines().count(), 2, "{run:?}");
    assert!(run.stderr.contains("no --url or WK_URL given"), "{run:?}");
    assert!(
        run.stderr
            .contains("demo wk-testkit server on http://127.0.0.1:"),
        "{run:?}"
    );
    assert!(!out.contains("demo"), "the notice goes to stderr only");

    let run = wk(&[
        "--format",
        "json",
        "tail",
        "--count",
        "2",
        "--systems",
        "30002813",
    ])
    .await;
    let kills = killmails(run.ok());
    assert_eq!(kills.len(), 2, "{run:?}");
    assert!(
        kills
            .iter()
            .all(|k| k.system_id.map(|s| s.get()) == Some(30_002_813))
    );
}

#[tokio::test]
async fn reconnects_are_reported_on_stderr() {
    let server = live_server(20.0).await;
    let base = server.base_url();
    let systems = generator_systems();
    let mut child = command(&[
        "--url",
        &base,
        "tail",
        "--systems",
        &systems,
        "--count",
        "30",
    ])
    .spawn()
    .expect("wk starts");
    let stdout = child.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    for _ in 0..2 {
        tokio::time::timeout(LIMIT, lines.next_line())
            .await
            .expect("kills within the limit")
            .expect("readable")
            .expect("a kill line");
    }
    server.fault(Fault::DropConnections);
    let rest = tokio::spawn(async move {
        let mut n = 0;
        while let Ok(Some(_)) = lines.next_line().await {
            n += 1;
        }
        n
    });
    let output = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .expect("tail finished within the limit")
        .expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(rest.await.expect("reader"), 28);
    assert!(stderr.contains("connection lost; reconnecting"), "{stderr}");
    assert!(stderr.contains("reconnected"), "{stderr}");
}

#[tokio::test]
async fn refusals() {
    let server = live_server(0.0).await;
    let run = wk_at(&server, &["tail", "--transport", "ws"]).await;
    let line = run.failed(2);
    assert!(line.contains("--systems"), "{line}");

    let run = wk_at(&server, &["tail", "--systems", "0"]).await;
    assert!(run.failed(2).contains("system id 0"), "{run:?}");
    // A negative id is a value, not a flag: it reaches the range check.
    let run = wk_at(&server, &["tail", "--systems", "-1"]).await;
    assert!(
        run.failed(2).contains("system id -1 is out of range"),
        "{run:?}"
    );
    let run = wk_at(&server, &["tail", "--characters", "12"]).await;
    assert!(
        run.failed(2).contains("character id 12 is out of range"),
        "{run:?}"
    );

    let run = wk(&[
        "--url",
        "http://127.0.0.1:9",
        "tail",
        "--systems",
        "30000142",
    ])
    .await;
    assert!(run.failed(1).contains("cannot reach"), "{run:?}");
}

/// `--no-history`: the preload the server sends on join is neither printed nor counted, so
/// `--count` waits for live kills; by default history comes first.
#[tokio::test]
async fn no_history_waits_for_live_kills() {
    let server = live_server(20.0).await;
    server
        .wait_for(LIMIT, |s| s.stored_killmails >= 20)
        .await
        .expect("a store to preload from");
    let systems = generator_systems();
    let with = wk_at(&server, &["tail", "--systems", &systems, "--count", "3"]).await;
    assert!(with.ok().contains("[history]"), "{with:?}");
    let without = wk_at(
        &server,
        &[
            "tail",
            "--systems",
            &systems,
            "--count",
            "3",
            "--no-history",
        ],
    )
    .await;
    let out = without.ok();
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(!out.contains("[history]"), "{out}");
}

/// A channel that crashes on every join for a while: one stderr line per crash, rejoins after a
/// backoff (three crashes, three rejoins, not a storm), and kills flow again after.
#[tokio::test]
async fn each_channel_crash_is_one_line_and_the_feed_goes_on() {
    let server = live_server(20.0).await;
    let systems = generator_systems();
    let mut child = command(&["--url", &server.base_url(), "tail", "--systems", &systems])
        .spawn()
        .expect("wk starts");
    let mut out = BufReader::new(child.stdout.take().expect("piped")).lines();
    let err = child.stderr.take().expect("piped");
    let said = tokio::spawn(async move {
        let mut lines = BufReader::new(err).lines();
        let mut all = Vec::new();
        while let Ok(Some(line)) = lines.next_line().await {
            all.push(line);
        }
        all
    });
    let mut next_kill = async || {
        tokio::time::timeout(LIMIT, out.next_line())
            .await
            .expect("a kill within the limit")
            .expect("readable")
            .expect("a kill line")
    };
    next_kill().await;
    let joins = server.state().joins;
    server.fault(Fault::CrashJoins { count: 2 });
    server.fault(Fault::CrashChannels);
    let st = server
        .wait_for(LIMIT, |s| s.joins == joins + 3 && s.joined_channels == 1)
        .await
        .expect("rejoined after three crashes");
    assert_eq!(st.channel_crashes, 3);
    // Kills flow again (live ones; the rejoins' history is already printed).
    for _ in 0..2 {
        next_kill().await;
    }
    assert_eq!(
        server.state().joins,
        joins + 3,
        "no rejoin beyond the crashes"
    );
    child.kill().await.expect("wk stops");
    let said = said.await.expect("stderr read");
    let crashes = said.iter().filter(|l| l.contains("rejoining in")).count();
    assert_eq!(crashes, 3, "{said:#?}");
    assert!(said.iter().any(|l| l.contains("(rejoin 3)")), "{said:#?}");
}

/// A server that refuses (403) the upgrade or the SSE request: exit 1 within 5 s, the status said.
#[tokio::test]
async fn a_refusing_server_ends_tail_with_its_status() {
    let server = live_server(0.0).await;
    for args in [&["tail", "--systems", "30000142"][..], &["tail"][..]] {
        server.fault(Fault::HttpStatus {
            status: 403,
            retry_after: None,
            count: 1,
        });
        let run = tokio::time::timeout(std::time::Duration::from_secs(5), wk_at(&server, args))
            .await
            .expect("tail gives up within 5 s");
        let line = run.failed(1);
        assert!(line.contains("403 Forbidden"), "{line}");
    }
}

/// A refusal after a lost connection also ends `tail` with exit 1, after one attempt.
#[tokio::test]
async fn a_refusal_after_a_lost_connection_ends_tail() {
    let server = live_server(20.0).await;
    let systems = generator_systems();
    let mut child = command(&["--url", &server.base_url(), "tail", "--systems", &systems])
        .spawn()
        .expect("wk starts");
    let stdout = child.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    tokio::time::timeout(LIMIT, lines.next_line())
        .await
        .expect("a kill within the limit")
        .expect("readable")
        .expect("a kill line");
    server.fault(Fault::HttpStatus {
        status: 401,
        retry_after: None,
        count: 1_000,
    });
    server.fault(Fault::DropConnections);
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let output = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .expect("tail ends within the limit")
        .expect("output");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("401 Unauthorized"), "{stderr}");
}

#[tokio::test]
async fn sse_follows_every_kill_without_ids_and_deduplicates() {
    for profile in Profile::ALL {
        sse_every_kill(profile).await;
    }
}

async fn sse_every_kill(profile: Profile) {
    let server = live_server_of(profile, 20.0).await;
    // No ids: SSE is chosen, and each kill prints once however often the server sends it.
    let run = wk_at(&server, &["--format", "json", "tail", "--count", "6"]).await;
    let kills = killmails(run.ok());
    assert_eq!(kills.len(), 6, "{profile}: {run:?}");
    let ids: HashSet<i64> = kills.iter().map(|k| k.killmail_id.get()).collect();
    assert_eq!(ids.len(), 6, "{profile}");
    assert!(server.state().sse_streams >= 1);
    assert_eq!(server.state().ws_connections, 0);

    // Explicitly over SSE with a system filter and a client-side value floor.
    let run = wk_at(
        &server,
        &[
            "--format",
            "json",
            "tail",
            "--transport",
            "sse",
            "--systems",
            &JITA.to_string(),
            "--min-value",
            "1",
            "--count",
            "2",
        ],
    )
    .await;
    let kills = killmails(run.ok());
    assert!(
        kills
            .iter()
            .all(|k| k.system_id.map(|s| s.get()) == Some(JITA)),
        "{run:?}"
    );
}
