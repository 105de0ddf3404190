//! `wk tail`: live kills from a server, or from an in-process demo server when no URL is given.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::time::Instant;
use wk::realtime::{Dedup, Progress};
use wk::testkit::{Profile, TestServer};
use wk::types::{CharacterId, SystemId};
use wk::{Filter, KillEvent, Origin};

use crate::cli::{Format, TailArgs, Transport};
use crate::error::{Failure, chain};
use crate::feed::{self, Notice};
use crate::render;

/// Synthetic kills per second of the demo server.
const DEMO_RATE: f64 = 5.0;

/// The history progress bar closes after this long without history.
const HISTORY_QUIET: Duration = Duration::from_secs(2);

/// What the tail loop does with each kill.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Options {
    pub(crate) format: Format,
    pub(crate) min_value: Option<f64>,
    pub(crate) count: Option<u64>,
    /// Skip preloaded and history kills.
    pub(crate) no_history: bool,
}

/// `wk tail`.
pub(crate) async fn run(
    url: Option<String>,
    format: Format,
    args: TailArgs,
) -> Result<ExitCode, Failure> {
    let mut filter = Filter::new()
        .systems(args.systems.iter().copied().map(SystemId::new))
        .characters(args.characters.iter().copied().map(CharacterId::new));
    let no_ids = args.systems.is_empty() && args.characters.is_empty();
    // The WebSocket needs ids; SSE can follow everything. The demo subscribes to its own systems.
    let transport = args.transport.unwrap_or(if no_ids && url.is_some() {
        Transport::Sse
    } else {
        Transport::Ws
    });
    // The demo server lives as long as this function.
    let (url, _demo) = match url {
        Some(url) => {
            if no_ids && transport == Transport::Sse {
                filter = Filter::everything();
            }
            if no_ids && transport == Transport::Ws {
                return Err(Failure::usage(
                    "the WebSocket cannot subscribe to every kill: give --systems IDS or \
                     --characters IDS (e.g. --systems 30000142,30002813)",
                ));
            }
            (url, None)
        }
        None => {
            let server = demo_server().await?;
            let url = server.base_url();
            eprintln!(
                "wk: no --url or WK_URL given; serving a demo wk-testkit server on {url} with \
                 synthetic kills ({DEMO_RATE} per second); press Ctrl-C to stop"
            );
            if no_ids {
                filter = filter.systems(
                    wk::testkit::generator::SYSTEMS
                        .iter()
                        .map(|(id, _, _)| SystemId::new(*id)),
                );
            }
            (url, Some(server))
        }
    };
    if let Err(e) = filter.validate() {
        return Err(Failure::invalid(&e));
    }
    let client = wk::Client::builder()
        .base_url(url.clone())
        .client_id("wk-cli")
        .build()
        .map_err(|e| Failure::sdk(&e, &url))?;
    let opts = Options {
        format,
        min_value: args.min_value,
        count: args.count,
        no_history: args.no_history,
    };
    let filter = match args.min_value {
        Some(isk) => filter.min_value(isk),
        None => filter,
    };
    let followed = match transport {
        Transport::Ws => {
            let (events, notices) = feed::websocket(&client, filter).await?;
            until_interrupted(follow(events, notices, opts, Sinks::stdio())).await
        }
        Transport::Sse => {
            let (events, notices) = feed::sse(&client, filter).await?;
            until_interrupted(follow(events, notices, opts, Sinks::stdio())).await
        }
    };
    followed.map(|()| ExitCode::SUCCESS)
}

async fn demo_server() -> Result<TestServer, Failure> {
    TestServer::builder()
        .profile(Profile::Faithful)
        .rate(DEMO_RATE)
        .start()
        .await
        .map_err(|e| Failure::server(format!("cannot start the demo server: {e}")))
}

/// Runs `work` until it ends or Ctrl-C (which ends `tail` successfully).
async fn until_interrupted(work: impl Future<Output = Result<(), Failure>>) -> Result<(), Failure> {
    tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Ok(()),
    }
}

/// Where kills (stdout) and reports (stderr) go.
pub(crate) struct Sinks<O, R> {
    pub(crate) out: O,
    pub(crate) err: R,
    pub(crate) bar: Option<ProgressBar>,
}

impl Sinks<std::io::Stdout, std::io::Stderr> {
    fn stdio() -> Self {
        Self {
            out: std::io::stdout(),
            err: std::io::stderr(),
            bar: None,
        }
    }
}

impl<O: Write, R: Write> Sinks<O, R> {
    /// A line on stderr, above any progress bar.
    fn report(&mut self, line: &str) {
        let err = &mut self.err;
        let mut write = || {
            let _ = writeln!(err, "wk: {line}");
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// A line on stdout, above any progress bar.
    fn emit(&mut self, line: &str) -> std::io::Result<()> {
        let out = &mut self.out;
        let mut write = || writeln!(out, "{line}").and_then(|()| out.flush());
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Counts a kill of history (preload, recovery, SSE batches) on the progress bar.
    fn history(&mut self, origin: Origin) {
        let bar = self.bar.get_or_insert_with(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} loading history: {pos} kills {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        bar.set_message(match origin {
            Origin::Recovered => "(recovering a gap)",
            _ => "",
        });
        bar.inc(1);
    }

    /// Shows SSE-style batch progress.
    fn progress(&mut self, progress: &Progress) {
        match progress {
            Progress::Batch { batch, total } => {
                let bar = self.bar.get_or_insert_with(|| {
                    ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
                });
                bar.set_style(
                    ProgressStyle::with_template("loading history {bar:30} batch {pos}/{len}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                bar.set_length(u64::try_from(*total).unwrap_or(0));
                bar.set_position(u64::try_from(*batch).unwrap_or(0));
            }
            Progress::Complete { .. } => self.done_loading(),
            _ => {}
        }
    }

    fn done_loading(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// The tail loop: prints each unique kill that passes `--min-value` until `--count` is reached or
/// the stream ends. Transport-agnostic: it sees only the event and notice streams.
pub(crate) async fn follow<S, E, N, O, R>(
    events: S,
    notices: N,
    opts: Options,
    mut sinks: Sinks<O, R>,
) -> Result<(), Failure>
where
    S: Stream<Item = Result<KillEvent, E>> + Unpin,
    E: std::error::Error,
    N: Stream<Item = Notice> + Unpin,
    O: Write,
    R: Write,
{
    let mut events = events;
    let mut notices = notices.fuse();
    let mut seen = Dedup::new(65_536);
    let mut printed: u64 = 0;
    let mut down = false;
    let mut last_error: Option<String> = None;
    if opts.count == Some(0) {
        return Ok(());
    }
    // The WebSocket preload has no end marker: history is over when it goes quiet.
    let quiet = tokio::time::sleep(HISTORY_QUIET);
    tokio::pin!(quiet);
    loop {
        tokio::select! {
            () = &mut quiet, if sinks.bar.is_some() => sinks.done_loading(),
            notice = notices.next(), if !notices.is_done() => match notice {
                // One line for the loss, then one per failed attempt, said as such.
                Some(Notice::Disconnected { attempt, retry_in }) => {
                    let what = if std::mem::replace(&mut down, true) {
                        "reconnect attempt failed"
                    } else {
                        "connection lost"
                    };
                    sinks.report(&format!(
                        "{what}; reconnecting in {:.1}s (attempt {attempt})",
                        retry_in.as_secs_f64()
                    ));
                }
                Some(Notice::Rejoining { attempt, retry_in }) => sinks.report(&format!(
                    "channel lost (crashed, closed or unanswered); rejoining in {:.1}s (rejoin {attempt})",
                    retry_in.as_secs_f64()
                )),
                Some(Notice::Connected) if down => {
                    down = false;
                    sinks.report("reconnected; missed kills are recovered where possible");
                }
                _ => {}
            },
            event = events.next() => match event.inspect(|item| if item.is_ok() { last_error = None; }) {
                None => {
                    sinks.done_loading();
                    // A stream whose last item is an error ended on it (a refusal no retry fixes).
                    if let Some(error) = last_error {
                        return Err(Failure::server(format!("the stream ended: {error}")));
                    }
                    return match opts.count {
                        Some(n) if printed < n => Err(Failure::server(format!(
                            "the stream ended after {printed} of {n} kills"
                        ))),
                        _ => {
                            sinks.report("the stream ended");
                            Ok(())
                        }
                    };
                }
                Some(Err(e)) => {
                    let error = chain(&e);
                    sinks.report(&format!("warning: {error}"));
                    last_error = Some(error);
                }
                Some(Ok(KillEvent::Kill(kill))) => {
                    if opts.no_history && matches!(kill.origin, Origin::Preload | Origin::History) {
                        continue;
                    }
                    let km = &kill.killmail;
                    if !seen.insert(km.killmail_id) {
                        continue;
                    }
                    if let Some(min) = opts.min_value
                        && !km.total_value().is_some_and(|v| v >= min)
                    {
                        continue;
                    }
                    if kill.origin == Origin::Live {
                        sinks.done_loading();
                    } else {
                        sinks.history(kill.origin);
                        quiet.as_mut().reset(Instant::now() + HISTORY_QUIET);
                    }
                    let line = match opts.format {
                        Format::Json => serde_json::to_string(&**km)
                            .map_err(|e| Failure::server(format!("cannot encode a killmail: {e}")))?,
                        Format::Pretty => match kill.origin {
                            Origin::Live => render::kill_line(km),
                            Origin::Preload | Origin::History => {
                                format!("{}  [history]", render::kill_line(km))
                            }
                            _ => format!("{}  [recovered]", render::kill_line(km)),
                        },
                    };
                    if let Err(e) = sinks.emit(&line) {
                        sinks.done_loading();
                        return crate::commands::ignore_broken_pipe(&e);
                    }
                    printed += 1;
                    if opts.count.is_some_and(|n| printed >= n) {
                        sinks.done_loading();
                        return Ok(());
                    }
                }
                Some(Ok(KillEvent::Progress(p))) => {
                    sinks.progress(&p);
                    quiet.as_mut().reset(Instant::now() + HISTORY_QUIET);
                }
                Some(Ok(KillEvent::Lagged(n))) => {
                    sinks.report(&format!("fell behind: {n} events were dropped"));
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use futures_util::stream;
    use wk::Kill;
    use wk::testkit::Generator;

    use super::*;

    fn kill(km: &wk::types::Killmail, origin: Origin) -> Result<KillEvent, wk::realtime::Error> {
        Ok(KillEvent::Kill(Kill::new(Arc::new(km.clone()), origin)))
    }

    async fn run(
        events: Vec<Result<KillEvent, wk::realtime::Error>>,
        opts: Options,
    ) -> (Result<(), Failure>, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let sinks = Sinks {
            out: &mut out,
            err: &mut err,
            bar: None,
        };
        let r = follow(
            stream::iter(events),
            stream::pending::<Notice>(),
            opts,
            sinks,
        )
        .await;
        let text = |b: Vec<u8>| String::from_utf8(b).expect("utf8");
        (r, text(out), text(err))
    }

    fn opts(format: Format, min_value: Option<f64>, count: Option<u64>) -> Options {
        Options {
            format,
            min_value,
            count,
            no_history: false,
        }
    }

    #[tokio::test]
    async fn no_history_skips_preload_and_counts_only_what_it_prints() {
        let mut g = Generator::new(14);
        let (old, older, live, recovered) =
            (g.killmail(), g.killmail(), g.killmail(), g.killmail());
        let events = vec![
            kill(&old, Origin::Preload),
            kill(&older, Origin::History),
            kill(&recovered, Origin::Recovered),
            kill(&live, Origin::Live),
        ];
        let skip = Options {
            no_history: true,
            ..opts(Format::Json, None, Some(2))
        };
        let (r, out, _) = run(events.clone(), skip).await;
        assert_eq!(r, Ok(()));
        let ids: Vec<i64> = out
            .lines()
            .map(|l| {
                serde_json::from_str::<wk::types::Killmail>(l)
                    .unwrap()
                    .killmail_id
                    .get()
            })
            .collect();
        assert_eq!(ids, [recovered.killmail_id.get(), live.killmail_id.get()]);
        // By default history counts: two lines, both history.
        let (r, out, _) = run(events, opts(Format::Pretty, None, Some(2))).await;
        assert_eq!(r, Ok(()));
        assert_eq!(out.matches("[history]").count(), 2, "{out}");
    }

    #[tokio::test]
    async fn duplicates_and_cheap_kills_are_skipped_and_count_stops() {
        let mut g = Generator::new(11);
        let a = g.killmail();
        let b = g.killmail();
        let c = g.killmail();
        let events = vec![
            kill(&a, Origin::Live),
            kill(&a, Origin::Live),
            Ok(KillEvent::Lagged(3)),
            kill(&b, Origin::Live),
            kill(&c, Origin::Live),
        ];
        let (r, out, err) = run(events, opts(Format::Json, None, Some(2))).await;
        assert_eq!(r, Ok(()));
        let ids: Vec<i64> = out
            .lines()
            .map(|l| {
                serde_json::from_str::<wk::types::Killmail>(l)
                    .expect("a killmail per line")
                    .killmail_id
                    .get()
            })
            .collect();
        assert_eq!(ids, vec![a.killmail_id.get(), b.killmail_id.get()]);
        assert!(err.contains("fell behind: 3"), "{err}");

        let min = a
            .total_value()
            .expect("valued")
            .max(b.total_value().expect("valued"));
        let (r, out, _) = run(
            vec![kill(&a, Origin::Live), kill(&b, Origin::Live)],
            opts(Format::Pretty, Some(min), None),
        )
        .await;
        assert_eq!(r, Ok(()));
        assert_eq!(out.lines().count(), 1, "{out}");
    }

    #[tokio::test]
    async fn an_early_end_fails_a_count() {
        let mut g = Generator::new(12);
        let a = g.killmail();
        let (r, out, _) = run(
            vec![kill(&a, Origin::Preload)],
            opts(Format::Pretty, None, Some(2)),
        )
        .await;
        assert!(matches!(r, Err(Failure::Server(_))), "{r:?}");
        assert!(out.contains("[history]"), "{out}");
    }

    #[tokio::test]
    async fn a_loss_is_said_once_then_each_attempt_and_each_crash() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<KillEvent, wk::realtime::Error>>(1);
        let secs = Duration::from_secs;
        let said = vec![
            Notice::Disconnected {
                attempt: 1,
                retry_in: secs(1),
            },
            Notice::Disconnected {
                attempt: 2,
                retry_in: secs(2),
            },
            Notice::Disconnected {
                attempt: 3,
                retry_in: secs(4),
            },
            Notice::Connected,
            Notice::Rejoining {
                attempt: 1,
                retry_in: secs(1),
            },
            Notice::Rejoining {
                attempt: 2,
                retry_in: secs(2),
            },
            Notice::Connected,
        ];
        // The events end only after every notice was handled.
        let notices = stream::iter(said).chain(stream::once(async move {
            drop(tx);
            Notice::Closed
        }));
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let sinks = Sinks {
            out: &mut out,
            err: &mut err,
            bar: None,
        };
        let events = tokio_stream_of(rx);
        let r = follow(
            events,
            Box::pin(notices),
            opts(Format::Pretty, None, None),
            sinks,
        )
        .await;
        assert_eq!(r, Ok(()));
        let err = String::from_utf8(err).unwrap();
        let count = |needle: &str| err.matches(needle).count();
        assert_eq!(count("connection lost"), 1, "{err}");
        assert_eq!(count("reconnect attempt failed"), 2, "{err}");
        assert!(err.contains("(attempt 3)"), "{err}");
        assert_eq!(count("reconnected"), 1, "{err}");
        assert_eq!(count("rejoining in"), 2, "{err}");
        assert!(err.contains("(rejoin 2)"), "{err}");
    }

    fn tokio_stream_of<T>(rx: tokio::sync::mpsc::Receiver<T>) -> impl Stream<Item = T> + Unpin {
        Box::pin(stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        }))
    }

    #[tokio::test]
    async fn a_stream_that_ends_on_an_error_fails() {
        let mut g = Generator::new(13);
        let a = g.killmail();
        let (r, _, _) = run(
            vec![kill(&a, Origin::Live), Err(wk::realtime::Error::Closed)],
            opts(Format::Pretty, None, None),
        )
        .await;
        assert!(
            matches!(&r, Err(Failure::Server(m)) if m.contains("closed")),
            "{r:?}"
        );
        // An error the stream got past is only a warning.
        let (r, _, err) = run(
            vec![Err(wk::realtime::Error::Closed), kill(&a, Origin::Live)],
            opts(Format::Pretty, None, None),
        )
        .await;
        assert_eq!(r, Ok(()));
        assert!(err.contains("warning"), "{err}");
    }
}
