//! `cargo xtask chaos [--quick] [--release]`: a live feed under forced faults, for both transports.
//!
//! A wk-testkit server (`faithful` profile, store kept across restarts) receives kills at a steady
//! rate in three subscribed systems while the harness forces faults in a loop: a restart on the same
//! port, dropped TCP connections after a 503 burst with `Retry-After` (which also hits gap recovery
//! and SSE reconnects), stalled heartbeat replies, `phx_error`, a malformed frame, ended streams.
//! It then compares what was injected with what the client yielded and reports `lost`,
//! `duplicates`, `reconnects`, the longest reconnect, the process's peak RSS, and the spread of 100
//! WebSocket clients reconnecting at once after a restart. The report goes to stdout and
//! `target/wk-chaos/report.json`; the command fails when a kill was lost or yielded twice.
//!
//! The clients run on their own tokio runtime, as in an application, and the fake server, the kill
//! injector and the fault loop on another, as a remote server would. On one shared runtime the
//! testkit's synchronous handling of `/kills/cached` (the whole store of a system, built and
//! encoded in one poll: seconds in a debug build late in a run, three requests per
//! reconnect) held both worker threads, so client timers fired seconds late (12 s measured), late
//! heartbeat timers replaced live connections, each of those cost another gap recovery, and a
//! client could look stuck in `Reconnecting` for the whole reconnect bound. The client runtime's
//! worst timer lateness is reported, so a starved run shows as such.
//!
//! The xtask binary used by `ci` stays light: without the `chaos` feature this command re-runs
//! itself through `cargo run -p xtask --features chaos`, which pulls in tokio and the SDK.

use std::path::Path;

use crate::Result;

/// Runs the harness (with the `chaos` feature) or re-runs xtask with it.
#[cfg(not(feature = "chaos"))]
pub(crate) fn run(root: &Path, quick: bool, release: bool) -> Result {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = std::process::Command::new(cargo);
    cmd.args([
        "run",
        "--locked",
        "--quiet",
        "-p",
        "xtask",
        "--features",
        "chaos",
    ]);
    if release {
        cmd.arg("--release");
    }
    cmd.args(["--", "chaos"]);
    if quick {
        cmd.arg("--quick");
    }
    if release {
        cmd.arg("--release");
    }
    let status = cmd.current_dir(root).status()?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("chaos failed ({status})").into())
    }
}

/// Runs the harness (with the `chaos` feature) or re-runs xtask with it.
#[cfg(feature = "chaos")]
pub(crate) fn run(root: &Path, quick: bool, release: bool) -> Result {
    harness::run(root, quick, release)
}

#[cfg(feature = "chaos")]
mod harness {
    use std::collections::HashMap;
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use futures_util::StreamExt;
    use serde_json::{Value, json};
    use tokio::runtime::Handle;
    use tokio::task::JoinHandle;
    use wk_realtime::{Filter, KillEvent, sse, ws};
    use wk_retry::BackoffConfig;
    use wk_testkit::{Fault, Generator, Profile, State, TestServer};
    use wk_types::SystemId;

    use crate::Result;

    /// Jita, Amarr and Dodixie: the subscribed systems every kill is injected into.
    const SYSTEMS: [SystemId; 3] = [
        SystemId::new(30000142),
        SystemId::new(30002187),
        SystemId::new(30002659),
    ];
    /// One kill every this often (20 per second).
    const INJECT_EVERY: Duration = Duration::from_millis(50);
    /// The bound on waiting for any reconnect; a longer outage fails the run.
    const RECONNECT_BOUND: Duration = Duration::from_secs(30);
    /// How long the harness waits, after injection stops, for the last kills to arrive.
    const SETTLE: Duration = Duration::from_secs(20);
    /// Clients in the reconnect-spread scenario.
    const SPREAD_CLIENTS: usize = 100;

    pub(super) fn run(root: &Path, quick: bool, release: bool) -> Result {
        let cycles = if quick { 10 } else { 50 };
        let runtime = |name: &str| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name(name)
                .enable_all()
                .build()
        };
        // The server side (testkit, injector, fault loop) and the client side (the SDK and its
        // consumers) each get their own threads; see the module docs.
        let server_runtime = runtime("wk-chaos-server")?;
        let client_runtime = runtime("wk-chaos-client")?;
        let clients = client_runtime.handle().clone();
        let started = Instant::now();
        let report = server_runtime.block_on(async {
            let ws = transport(Transport::Ws, cycles, &clients).await?;
            print_transport("ws", &ws);
            let sse = transport(Transport::Sse, cycles, &clients).await?;
            print_transport("sse", &sse);
            let spread = spread(&clients).await?;
            print_spread(&spread);
            Ok::<_, crate::Error>(json!({
                "ws": ws,
                "sse": sse,
                "spread": spread,
                "peak_rss_kib": peak_rss_kib(),
                "cycles": cycles,
                "build": if release { "release" } else { "debug" },
                "seconds": started.elapsed().as_secs(),
            }))
        })?;
        println!(
            "chaos: peak RSS {} KiB (server and clients in one process), {} s",
            report["peak_rss_kib"], report["seconds"]
        );
        let dir = root.join("target/wk-chaos");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("report.json");
        std::fs::write(&path, serde_json::to_string_pretty(&report)? + "\n")?;
        println!("chaos: wrote {}", path.display());
        let bad: Vec<String> = ["ws", "sse"]
            .iter()
            .filter(|t| report[**t]["lost"] != 0 || report[**t]["duplicates"] != 0)
            .map(|t| (*t).to_owned())
            .collect();
        if bad.is_empty() {
            Ok(())
        } else {
            Err(format!("chaos: kills lost or duplicated over {}", bad.join(", ")).into())
        }
    }

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Transport {
        Ws,
        Sse,
    }

    /// What the consumer saw.
    #[derive(Debug, Default)]
    struct Seen {
        counts: HashMap<i64, u32>,
        lagged: u64,
        errors: u64,
        recovered: u64,
    }

    fn backoff() -> BackoffConfig {
        BackoffConfig::default()
            .base(Duration::from_millis(100))
            .max(Duration::from_secs(1))
            .min(Duration::from_millis(20))
    }

    /// One transport under `cycles` rounds of faults; the client and its consumer run on `clients`.
    async fn transport(kind: Transport, cycles: u32, clients: &Handle) -> Result<Value> {
        let server = TestServer::builder()
            .profile(Profile::Faithful)
            .keep_store_on_restart(true)
            .seed(10)
            .start()
            .await?;
        let filter = Filter::new().systems(SYSTEMS);
        let seen = Arc::new(Mutex::new(Seen::default()));
        let sse_connects = Arc::new(AtomicU64::new(0));
        let lag = LagProbe::spawn(clients);
        // The handles stay alive until the end of the run.
        let (ws_client, consumer) = match kind {
            Transport::Ws => {
                clients
                    .spawn(ws_client(server.base_url(), filter, seen.clone()))
                    .await??
            }
            Transport::Sse => {
                let url = server.base_url();
                let (seen, connects) = (seen.clone(), sse_connects.clone());
                clients
                    .spawn(async move {
                        let client = sse::Client::builder(url)
                            .reconnect_backoff(backoff())
                            .stable_after(Duration::from_secs(2))
                            .max_server_delay(Duration::from_secs(1))
                            .build()?;
                        let sub = client.subscribe(filter).await?;
                        let mut state = sub.state();
                        tokio::spawn(async move {
                            while state.changed().await.is_ok() {
                                if *state.borrow_and_update() == sse::ConnectionState::Connected {
                                    connects.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                        });
                        Ok::<_, wk_realtime::Error>((None, tokio::spawn(consume(sub, seen))))
                    })
                    .await??
            }
        };
        let injected = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let server = Arc::new(server);
        let injector = tokio::spawn(inject(server.clone(), injected.clone(), stop.clone()));
        let start = Instant::now();
        let mut delays = Vec::new();
        let mut faults: HashMap<&'static str, u64> = HashMap::new();
        for cycle in 0..cycles {
            for &fault in plan(kind) {
                let before = server.state();
                let t0 = Instant::now();
                apply(&server, fault).await?;
                *faults.entry(fault.name()).or_default() += 1;
                if fault.reconnects() {
                    if let Err(e) = wait_back(&server, kind, &before).await {
                        let client = ws_client
                            .as_ref()
                            .map(|c| format!("{:?} {:?}", *c.state().borrow(), c.stats()));
                        return Err(format!(
                            "{kind:?} cycle {cycle}: no reconnect after {fault:?}: {e}\n\
                             server before: {before:?}\nserver now: {:?}\nclient: {client:?}\n\
                             client timer lag so far: {:?}",
                            server.state(),
                            lag.worst(),
                        )
                        .into());
                    }
                    delays.push(t0.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
        }
        stop.store(true, Ordering::Relaxed);
        injector.await?;
        let injected: Vec<i64> = injected.lock().expect("injector done").clone();
        let deadline = Instant::now() + SETTLE;
        while Instant::now() < deadline {
            let done = {
                let seen = seen.lock().expect("consumer alive");
                injected.iter().all(|id| seen.counts.contains_key(id))
            };
            if done {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // A little more time for a late duplicate to show up.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let elapsed = start.elapsed();
        consumer.abort();
        let client_lag = lag.stop();
        let seen = seen.lock().expect("consumer stopped");
        let lost = injected
            .iter()
            .filter(|id| !seen.counts.contains_key(id))
            .count();
        let duplicates: u64 = seen
            .counts
            .values()
            .map(|n| u64::from(n.saturating_sub(1)))
            .sum();
        let reconnects = match (&ws_client, kind) {
            (Some(client), _) => client.stats().reconnects(),
            (None, _) => sse_connects.load(Ordering::Relaxed),
        };
        let ws_stats = ws_client.as_ref().map(|c| c.stats());
        let state = server.state();
        let max = delays.iter().max().copied().unwrap_or_default();
        let mean = delays.iter().sum::<Duration>() / u32::try_from(delays.len().max(1))?;
        Ok(json!({
            "cycles": cycles,
            "injected": injected.len(),
            "delivered": seen.counts.len(),
            "lost": lost,
            "duplicates": duplicates,
            "reconnects": reconnects,
            "max_reconnect_delay_ms": max.as_millis(),
            "mean_reconnect_delay_ms": mean.as_millis(),
            "recovered": seen.recovered,
            "lagged": seen.lagged,
            "stream_errors": seen.errors,
            "server_duplicates_absorbed": ws_stats.map(|s| s.duplicates),
            "stale_frames": ws_stats.map(|s| s.stale_frames),
            "client_runtime_max_lag_ms": client_lag.as_millis(),
            "faults": faults,
            "server": {
                "restarts": state.restarts,
                "ws_connections": state.ws_connections,
                "joins": state.joins,
                "channel_crashes": state.channel_crashes,
                "sse_streams": state.sse_streams,
                "http_requests": state.http_requests,
            },
            "seconds": elapsed.as_secs_f64(),
        }))
    }

    /// Connects the WebSocket client and starts its consumer (on the client runtime).
    async fn ws_client(
        url: String,
        filter: Filter,
        seen: Arc<Mutex<Seen>>,
    ) -> wk_realtime::Result<(Option<ws::Client>, JoinHandle<()>)> {
        let client = ws::Client::builder(url)
            .client_id("wk-chaos")
            .heartbeat_interval(Duration::from_millis(250))
            .heartbeat_timeout(Duration::from_millis(500))
            .reply_timeout(Duration::from_secs(5))
            .stable_after(Duration::from_secs(2))
            .reconnect_backoff(backoff())
            .connect()
            .await?;
        let sub = client.subscribe(filter).await?;
        Ok((Some(client), tokio::spawn(consume(sub, seen))))
    }

    /// Measures how late a 10 ms timer fires on a runtime: the worst case is how long the client's
    /// own timers (heartbeats, backoff, connect timeout) could have been held up.
    struct LagProbe {
        worst_us: Arc<AtomicU64>,
        task: JoinHandle<()>,
    }

    impl LagProbe {
        const TICK: Duration = Duration::from_millis(10);

        fn spawn(runtime: &Handle) -> Self {
            let worst_us = Arc::new(AtomicU64::new(0));
            let worst = worst_us.clone();
            let task = runtime.spawn(async move {
                loop {
                    let t = tokio::time::Instant::now();
                    tokio::time::sleep(Self::TICK).await;
                    let late = t.elapsed().saturating_sub(Self::TICK);
                    let late = u64::try_from(late.as_micros()).unwrap_or(u64::MAX);
                    worst.fetch_max(late, Ordering::Relaxed);
                }
            });
            Self { worst_us, task }
        }

        fn worst(&self) -> Duration {
            Duration::from_micros(self.worst_us.load(Ordering::Relaxed))
        }

        fn stop(self) -> Duration {
            self.task.abort();
            self.worst()
        }
    }

    /// Reads a subscription until aborted, counting each kill id.
    async fn consume<S>(mut sub: S, seen: Arc<Mutex<Seen>>)
    where
        S: futures_util::Stream<Item = wk_realtime::Result<KillEvent>> + Unpin,
    {
        while let Some(item) = sub.next().await {
            let mut seen = seen.lock().expect("harness alive");
            match item {
                Ok(KillEvent::Kill(kill)) => {
                    if kill.origin == wk_realtime::Origin::Recovered {
                        seen.recovered += 1;
                    }
                    *seen
                        .counts
                        .entry(kill.killmail.killmail_id.get())
                        .or_default() += 1;
                }
                Ok(KillEvent::Lagged(n)) => seen.lagged += n,
                Ok(_) => {}
                Err(_) => seen.errors += 1,
            }
        }
    }

    /// Injects one kill every [`INJECT_EVERY`], round robin over [`SYSTEMS`], until `stop`.
    async fn inject(server: Arc<TestServer>, ids: Arc<Mutex<Vec<i64>>>, stop: Arc<AtomicBool>) {
        let mut generator = Generator::new(42);
        let mut tick = tokio::time::interval(INJECT_EVERY);
        let mut n = 0usize;
        while !stop.load(Ordering::Relaxed) {
            tick.tick().await;
            let km = generator.killmail_in(SYSTEMS[n % SYSTEMS.len()]);
            n += 1;
            ids.lock()
                .expect("harness alive")
                .push(km.killmail_id.get());
            server.inject(km);
        }
    }

    #[derive(Clone, Copy, Debug)]
    enum Step {
        Restart,
        BurstThenDrop,
        StallHeartbeats,
        CrashChannel,
        MalformedFrame,
        EndStreams,
    }

    impl Step {
        fn name(self) -> &'static str {
            match self {
                Self::Restart => "restart",
                Self::BurstThenDrop => "503_burst_then_drop",
                Self::StallHeartbeats => "stall_heartbeats",
                Self::CrashChannel => "phx_error",
                Self::MalformedFrame => "malformed_frame",
                Self::EndStreams => "end_streams",
            }
        }

        fn reconnects(self) -> bool {
            !matches!(self, Self::MalformedFrame)
        }
    }

    fn plan(kind: Transport) -> &'static [Step] {
        match kind {
            Transport::Ws => &[
                Step::Restart,
                Step::BurstThenDrop,
                Step::StallHeartbeats,
                Step::CrashChannel,
                Step::MalformedFrame,
            ],
            Transport::Sse => &[Step::Restart, Step::BurstThenDrop, Step::EndStreams],
        }
    }

    async fn apply(server: &TestServer, step: Step) -> Result {
        match step {
            Step::Restart => server.restart().await?,
            Step::BurstThenDrop => {
                server.fault(Fault::HttpStatus {
                    status: 503,
                    retry_after: Some(1),
                    count: 3,
                });
                server.fault(Fault::DropConnections);
            }
            Step::StallHeartbeats => {
                let before = server.state().ws_connections;
                server.fault(Fault::StallHeartbeats(true));
                let replaced = server
                    .wait_for(RECONNECT_BOUND, |s| s.ws_connections > before)
                    .await;
                server.fault(Fault::StallHeartbeats(false));
                replaced.map_err(|_| "a stalled connection was never replaced")?;
            }
            Step::CrashChannel => server.fault(Fault::CrashChannels),
            Step::MalformedFrame => server.fault(Fault::MalformedFrame),
            Step::EndStreams => server.fault(Fault::EndStreams),
        }
        Ok(())
    }

    /// Waits until the client is back: a new join (WebSocket) or a new stream (SSE) is live.
    async fn wait_back(server: &TestServer, kind: Transport, before: &State) -> Result {
        let (joins, streams) = (before.joins, before.sse_streams);
        let ok = server
            .wait_for(RECONNECT_BOUND, |s| match kind {
                Transport::Ws => s.joins > joins && s.joined_channels >= 1,
                Transport::Sse => s.sse_streams > streams && s.sse_open >= 1,
            })
            .await;
        ok.map(|_| ())
            .map_err(|_| format!("not back within {RECONNECT_BOUND:?}").into())
    }

    /// 100 WebSocket clients with the default backoff, a restart, and when each one was back.
    /// The clients and the watchers timing them run on `clients`.
    async fn spread(clients_rt: &Handle) -> Result<Value> {
        let server = TestServer::builder()
            .profile(Profile::Faithful)
            .seed(11)
            .start()
            .await?;
        let url = server.base_url();
        let clients = clients_rt
            .spawn(async move {
                let mut clients = Vec::with_capacity(SPREAD_CLIENTS);
                for i in 0..SPREAD_CLIENTS {
                    let client = ws::Client::builder(url.clone())
                        .client_id(format!("wk-chaos-{i}"))
                        .connect()
                        .await?;
                    let sub = client
                        .subscribe(Filter::new().systems([SYSTEMS[i % SYSTEMS.len()]]))
                        .await?;
                    clients.push((client, sub));
                }
                Ok::<_, wk_realtime::Error>(clients)
            })
            .await??;
        server
            .wait_for(RECONNECT_BOUND, |s| {
                s.joined_channels == SPREAD_CLIENTS as u64
            })
            .await
            .map_err(|_| "not every spread client joined")?;
        let before = server.state();
        let t0 = Instant::now();
        let mut watchers = Vec::with_capacity(SPREAD_CLIENTS);
        for (client, _) in &clients {
            let mut state = client.state();
            watchers.push(clients_rt.spawn(async move {
                let back = async {
                    state
                        .wait_for(|s| *s != ws::ConnectionState::Joined)
                        .await
                        .ok()?;
                    state
                        .wait_for(|s| *s == ws::ConnectionState::Joined)
                        .await
                        .ok()?;
                    Some(t0.elapsed())
                };
                tokio::time::timeout(Duration::from_secs(60), back)
                    .await
                    .ok()
                    .flatten()
            }));
        }
        server.restart().await?;
        let mut delays = Vec::with_capacity(SPREAD_CLIENTS);
        let mut missing = 0;
        for w in watchers {
            match w.await? {
                Some(d) => delays.push(d.as_secs_f64() * 1000.0),
                None => missing += 1,
            }
        }
        let after = server.state();
        delays.sort_by(f64::total_cmp);
        let n = delays.len().max(1) as f64;
        let mean = delays.iter().sum::<f64>() / n;
        let stddev = (delays.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n).sqrt();
        let at = |q: f64| delays.get(((delays.len() as f64 - 1.0) * q).round() as usize);
        // Arrivals per 100 ms bucket after the restart: a storm shows as one tall bucket.
        let mut buckets: HashMap<u64, u64> = HashMap::new();
        for d in &delays {
            *buckets.entry((*d / 100.0) as u64).or_default() += 1;
        }
        let peak_bucket = buckets.values().max().copied().unwrap_or(0);
        drop(clients);
        Ok(json!({
            "clients": SPREAD_CLIENTS,
            "back": delays.len(),
            "not_back": missing,
            "min_ms": at(0.0).copied().unwrap_or(0.0).round(),
            "median_ms": at(0.5).copied().unwrap_or(0.0).round(),
            "p90_ms": at(0.9).copied().unwrap_or(0.0).round(),
            "max_ms": at(1.0).copied().unwrap_or(0.0).round(),
            "stddev_ms": stddev.round(),
            "peak_joins_per_100ms": peak_bucket,
            "connection_attempts": after.ws_connections - before.ws_connections,
        }))
    }

    fn print_transport(name: &str, r: &Value) {
        println!(
            "chaos {name}: cycles {} injected {} delivered {} lost {} duplicates {} reconnects {} \
             max reconnect {} ms (mean {} ms) recovered {} lagged {} client timer lag max {} ms \
             in {:.0} s",
            r["cycles"],
            r["injected"],
            r["delivered"],
            r["lost"],
            r["duplicates"],
            r["reconnects"],
            r["max_reconnect_delay_ms"],
            r["mean_reconnect_delay_ms"],
            r["recovered"],
            r["lagged"],
            r["client_runtime_max_lag_ms"],
            r["seconds"].as_f64().unwrap_or(0.0),
        );
    }

    fn print_spread(r: &Value) {
        println!(
            "chaos spread: {} clients, back {} (not back {}), delay min {} median {} p90 {} max {} \
             stddev {} ms, peak {} joins per 100 ms, {} connection attempts",
            r["clients"],
            r["back"],
            r["not_back"],
            r["min_ms"],
            r["median_ms"],
            r["p90_ms"],
            r["max_ms"],
            r["stddev_ms"],
            r["peak_joins_per_100ms"],
            r["connection_attempts"],
        );
    }

    /// The process's peak resident set (`VmHWM`), in KiB; 0 where `/proc` is missing.
    fn peak_rss_kib() -> u64 {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            })
            .unwrap_or(0)
    }
}
