//! The request/response commands: `kills`, `killmail`, `subscriptions`, `health`, `status`.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;
use wk::http::Client;
use wk::types::http::{KillmailLookup, ServiceStatus, StatusProcessing, Subscription};
use wk::types::{CharacterId, KillmailId, SystemId};

use crate::cli::{Format, KillsCommand, SubscriptionsCommand};
use crate::error::Failure;
use crate::render::{self, Table, write_fields};

/// What the request commands need: the client, its URL and the output format.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) http: Client,
    pub(crate) url: String,
    pub(crate) format: Format,
}

impl Ctx {
    fn fail(&self, e: &wk::http::Error) -> Failure {
        Failure::http(e, &self.url)
    }

    /// Prints `data` as one line of JSON, or runs `pretty` on stdout.
    fn print<T: Serialize>(
        &self,
        data: &T,
        pretty: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> Result<(), Failure> {
        let mut out = std::io::stdout().lock();
        let written = match self.format {
            Format::Json => serde_json::to_string(data)
                .map_err(std::io::Error::other)
                .and_then(|text| writeln!(out, "{text}")),
            Format::Pretty => pretty(&mut out),
        };
        written
            .and_then(|()| out.flush())
            .or_else(|e| ignore_broken_pipe(&e))
    }
}

impl Ctx {
    /// Prints a server document as it came, on one line.
    fn raw(&self, body: &[u8]) -> Result<(), Failure> {
        let mut out = std::io::stdout().lock();
        let text = String::from_utf8_lossy(body);
        let text = text.trim_end();
        // One document per line: a server that pretty-prints gets its JSON compacted.
        let line = match serde_json::from_str::<serde_json::Value>(text) {
            Ok(value) if text.contains('\n') => value.to_string(),
            _ => text.to_owned(),
        };
        writeln!(out, "{line}")
            .and_then(|()| out.flush())
            .or_else(|e| ignore_broken_pipe(&e))
    }
}

/// A closed stdout (`wk ... | head`) ends the output quietly; other write errors fail.
pub(crate) fn ignore_broken_pipe(e: &std::io::Error) -> Result<(), Failure> {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        Ok(())
    } else {
        Err(Failure::server(format!("cannot write output: {e}")))
    }
}

/// `wk kills …`.
pub(crate) async fn kills(ctx: &Ctx, cmd: KillsCommand) -> Result<ExitCode, Failure> {
    match cmd {
        KillsCommand::System {
            id,
            since_hours,
            limit,
        } => {
            let mut req = ctx.http.system_kills(SystemId::new(id));
            if let Some(h) = since_hours {
                req = req.since_hours(h);
            }
            if let Some(n) = limit {
                req = req.limit(n);
            }
            let list = req.send().await.map_err(|e| ctx.fail(&e))?;
            ctx.print(&list, |out| {
                if list.kills.is_empty() {
                    return writeln!(out, "no recent kills in {}", sys(id));
                }
                render::kill_table(&list.kills).write(out)?;
                references_hint(&list.kills);
                Ok(())
            })?;
        }
        KillsCommand::Systems {
            ids,
            since_hours,
            limit,
        } => {
            let mut req = ctx
                .http
                .systems_kills(ids.iter().copied().map(SystemId::new));
            if let Some(h) = since_hours {
                req = req.since_hours(h);
            }
            if let Some(n) = limit {
                req = req.limit(n);
            }
            let bulk = req.send().await.map_err(|e| ctx.fail(&e))?;
            ctx.print(&bulk, |out| {
                for (i, (system, kills)) in bulk.systems_kills.iter().enumerate() {
                    if i > 0 {
                        writeln!(out)?;
                    }
                    let label = render::system_label(*system, None);
                    match kills.len() {
                        0 => writeln!(out, "{label}: no recent kills")?,
                        1 => writeln!(out, "{label}: 1 kill")?,
                        n => writeln!(out, "{label}: {n} kills")?,
                    }
                    if !kills.is_empty() {
                        render::kill_table(kills).write(out)?;
                    }
                }
                let all: Vec<_> = bulk.systems_kills.values().flatten().cloned().collect();
                references_hint(&all);
                Ok(())
            })?;
        }
        KillsCommand::Cached { id } => {
            let list = ctx
                .http
                .cached_kills(SystemId::new(id))
                .send()
                .await
                .map_err(|e| ctx.fail(&e))?;
            ctx.print(&list, |out| {
                if list.kills.is_empty() {
                    return writeln!(out, "no cached kills in {}", sys(id));
                }
                render::kill_table(&list.kills).write(out)
            })?;
        }
        KillsCommand::Count { id } => {
            let count = ctx
                .http
                .kill_count(SystemId::new(id))
                .await
                .map_err(|e| ctx.fail(&e))?;
            ctx.print(&count, |out| {
                write_fields(
                    out,
                    &[
                        ("system", render::system_label(count.system_id, None)),
                        ("count", count.count.to_string()),
                        ("timestamp", opt_time(count.timestamp)),
                    ],
                )
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `wk killmail ID`.
pub(crate) async fn killmail(ctx: &Ctx, id: i64) -> Result<ExitCode, Failure> {
    let lookup = ctx
        .http
        .killmail(KillmailId::new(id))
        .send()
        .await
        .map_err(|e| ctx.fail(&e))?;
    ctx.print(&lookup, |out| match &lookup {
        KillmailLookup::Found(km) => {
            let mut fields = vec![
                ("killmail", km.killmail_id.to_string()),
                ("shape", format!("{:?}", km.shape()).to_lowercase()),
                ("time (UTC)", km.kill_time.map_or_else(dash, render::date_time)),
                ("system", render::kill_system(km)),
                ("victim", render::victim_name(km).unwrap_or_else(dash)),
                ("ship", render::victim_ship(km)),
                ("value", render::value(km)),
            ];
            if !km.attackers.is_empty() || km.attacker_count.is_some() {
                fields.push(("attackers", km.attacker_count().to_string()));
                fields.push(("final blow", render::final_blow(km)));
            }
            write_fields(out, &fields)?;
            if !km.attackers.is_empty() {
                writeln!(out)?;
                let mut table = Table::new(["ATTACKER", "SHIP", "DAMAGE", "FINAL BLOW"]);
                for a in &km.attackers {
                    table.row(vec![
                        a.character_name
                            .clone()
                            .or_else(|| a.character_id.map(|c| format!("character {c}")))
                            .unwrap_or_else(|| "NPC".to_owned()),
                        a.ship_name
                            .clone()
                            .or_else(|| a.ship_type_id.map(|t| format!("type {t}")))
                            .unwrap_or_else(dash),
                        a.damage_done.to_string(),
                        if a.final_blow { "yes" } else { "" }.to_owned(),
                    ]);
                }
                table.write(out)?;
            }
            Ok(())
        }
        KillmailLookup::KillOlder => writeln!(
            out,
            "killmail {id} is more than 365 days old; the server does not return it (\"kill_older\")"
        ),
        KillmailLookup::Unavailable(s) => writeln!(out, "killmail {id} is unavailable ({s:?})"),
        _ => writeln!(out, "killmail {id}: unexpected answer"),
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `wk subscriptions …`.
pub(crate) async fn subscriptions(
    ctx: &Ctx,
    cmd: SubscriptionsCommand,
) -> Result<ExitCode, Failure> {
    match cmd {
        SubscriptionsCommand::Create {
            subscriber,
            callback_url,
            systems,
            characters,
        } => {
            let request =
                wk::types::http::CreateSubscription::new(subscriber.clone(), callback_url)
                    .systems(systems.into_iter().map(SystemId::new))
                    .characters(characters.into_iter().map(CharacterId::new));
            let created = ctx
                .http
                .create_subscription(&request)
                .await
                .map_err(|e| ctx.fail(&e))?;
            ctx.print(&created, |out| {
                write_fields(
                    out,
                    &[
                        ("subscription", created.subscription_id.to_string()),
                        ("subscriber", subscriber.clone()),
                        (
                            "message",
                            created
                                .message
                                .clone()
                                .unwrap_or_else(|| "created".to_owned()),
                        ),
                    ],
                )
            })?;
        }
        SubscriptionsCommand::List => {
            let list = ctx.http.subscriptions().await.map_err(|e| ctx.fail(&e))?;
            ctx.print(&list, |out| {
                if list.subscriptions.is_empty() {
                    return writeln!(out, "no subscriptions");
                }
                subscription_table(&list.subscriptions).write(out)
            })?;
        }
        SubscriptionsCommand::Stats => {
            let s = ctx
                .http
                .subscription_stats()
                .await
                .map_err(|e| ctx.fail(&e))?;
            ctx.print(&s, |out| {
                write_fields(
                    out,
                    &[
                        ("total", s.total_subscriptions.to_string()),
                        ("websocket", s.websocket_subscriptions.to_string()),
                        ("webhook", s.webhook_subscriptions.to_string()),
                        ("sse", s.sse_subscriptions.to_string()),
                        ("systems", s.total_systems.to_string()),
                        ("characters", s.total_characters.to_string()),
                        ("memory", format!("{} bytes", s.memory_usage)),
                    ],
                )
            })?;
        }
        SubscriptionsCommand::Delete { subscriber } => {
            let deleted = ctx
                .http
                .delete_subscription(&subscriber)
                .await
                .map_err(|e| ctx.fail(&e))?;
            ctx.print(&deleted, |out| {
                writeln!(out, "{}: {}", deleted.subscriber_id, deleted.message)
            })?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `wk health`: exit 1 when the server says it is unhealthy.
pub(crate) async fn health(ctx: &Ctx) -> Result<ExitCode, Failure> {
    if ctx.format == Format::Json {
        // The server's whole document, as sent; the exit status still says healthy or not.
        let (_, body) = ctx.http.health_raw().await.map_err(|e| ctx.fail(&e))?;
        ctx.raw(&body)?;
        let healthy = wk::types::decode::from_slice::<wk::types::http::Health>(&body)
            .is_ok_and(|h| h.healthy);
        return Ok(if healthy {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let h = ctx.http.health().await.map_err(|e| ctx.fail(&e))?;
    ctx.print(&h, |out| {
        write_fields(
            out,
            &[
                ("healthy", if h.healthy { "yes" } else { "no" }.to_owned()),
                (
                    "status",
                    h.status
                        .as_ref()
                        .map_or_else(dash, |s| s.as_str().to_owned()),
                ),
                ("timestamp", opt_time(h.timestamp)),
            ],
        )
    })?;
    Ok(if h.healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `wk status`.
pub(crate) async fn status(ctx: &Ctx) -> Result<ExitCode, Failure> {
    if ctx.format == Format::Json {
        let body = ctx.http.status_raw().await.map_err(|e| ctx.fail(&e))?;
        ctx.raw(&body)?;
        return Ok(ExitCode::SUCCESS);
    }
    let st = ctx.http.status().await.map_err(|e| ctx.fail(&e))?;
    ctx.print(&st, |out| write_fields(out, &status_fields(&st)))?;
    Ok(ExitCode::SUCCESS)
}

/// The lines of `wk status`. Kills received and the last kill's age come from
/// `metrics.processing` under either generation's key names, else from `summary`, whose
/// `killmails_stored` and `processing_lag_seconds` carry the same two values (PROTOCOL.md §10.3).
fn status_fields(st: &ServiceStatus) -> Vec<(&'static str, String)> {
    let s = &st.summary;
    let p = st.processing();
    let received = p
        .and_then(|p| p.killmails_received)
        .unwrap_or(s.killmails_stored);
    let last_kill = p
        .and_then(|p| p.last_killmail_ago_seconds)
        .unwrap_or(s.processing_lag_seconds);
    let last_kill = if last_kill == StatusProcessing::NEVER_RECEIVED {
        "never".to_owned()
    } else {
        format!("{} s ago", num(last_kill))
    };
    let lag = p
        .and_then(|p| p.processing_lag_seconds)
        .map_or_else(dash, |lag| format!("{} s", num(lag)));
    let generation = match st.key_set() {
        Some(keys) => format!("{} ({keys} keys)", keys.server_versions()),
        None => "unknown".to_owned(),
    };
    vec![
        ("requests/min", num(s.api_requests_per_minute)),
        ("subscriptions", num(s.active_subscriptions)),
        ("kills received", num(received)),
        ("last kill", last_kill),
        ("cache hit rate", num(s.cache_hit_rate)),
        ("memory", format!("{} MB", num(s.memory_usage_mb))),
        ("uptime", format!("{} h", num(s.uptime_hours))),
        ("processing lag", lag),
        ("preload tasks", num(s.active_preload_tasks)),
        ("generation", generation),
        ("timestamp", opt_time(st.timestamp)),
    ]
}

/// Says on stderr how to see more than a zKillboard reference.
fn references_hint(kills: &[wk::types::Killmail]) {
    if !kills.is_empty() && render::all_references(kills) {
        eprintln!("wk: these are zKillboard references; `wk killmail ID` shows a full killmail");
    }
}

fn subscription_table(subs: &[Subscription]) -> Table {
    let mut table = Table::new([
        "ID",
        "SUBSCRIBER",
        "TYPE",
        "SYSTEMS",
        "CHARACTERS",
        "CREATED (UTC)",
        "CALLBACK",
    ]);
    for s in subs {
        table.row(vec![
            s.id.to_string(),
            s.subscriber_id.clone(),
            s.kind.as_str().to_owned(),
            id_list(s.system_ids.iter().map(|i| i.get())),
            id_list(s.character_ids.iter().map(|i| i.get())),
            opt_time(s.created_at),
            s.callback_url.clone().unwrap_or_else(dash),
        ]);
    }
    table
}

/// Up to three ids, then `+N`.
fn id_list(ids: impl ExactSizeIterator<Item = i64>) -> String {
    let total = ids.len();
    if total == 0 {
        return "-".to_owned();
    }
    let shown: Vec<String> = ids.take(3).map(|i| i.to_string()).collect();
    let mut text = shown.join(",");
    if total > 3 {
        text.push_str(&format!(" +{}", total - 3));
    }
    text
}

fn sys(id: i64) -> String {
    render::system_label(SystemId::new(id), None)
}

fn opt_time(ts: Option<wk::types::Timestamp>) -> String {
    ts.map_or_else(dash, render::date_time)
}

fn num(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn dash() -> String {
    "-".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str) -> Vec<(&'static str, String)> {
        status_fields(&wk::types::decode::from_str(body).unwrap())
    }

    fn field(fields: &[(&'static str, String)], key: &str) -> String {
        let found = fields.iter().find(|(k, _)| *k == key);
        found.unwrap_or_else(|| panic!("no {key}")).1.clone()
    }

    #[test]
    fn status_reads_either_generation() {
        let v158 = fields(
            r#"{"metrics":{"processing":{"redisq_received":1834,"redisq_older":12,
                "redisq_last_killmail_ago_seconds":41,"processing_lag_seconds":1.5}},
                "summary":{"killmails_stored":1834,"processing_lag_seconds":41},
                "timestamp":"2025-12-03T14:25:02.417735Z"}"#,
        );
        let v16 = fields(
            r#"{"metrics":{"processing":{"killmails_received":1834,"last_killmail_ago_seconds":41}},
                "summary":{"killmails_stored":1834,"processing_lag_seconds":41},
                "timestamp":"2025-12-03T14:25:02.417735Z"}"#,
        );
        for f in [&v158, &v16] {
            assert_eq!(field(f, "kills received"), "1834");
            assert_eq!(field(f, "last kill"), "41 s ago");
            assert_eq!(field(f, "timestamp"), "2025-12-03 14:25:02");
        }
        assert_eq!(
            field(&v158, "generation"),
            "v1.5.8 or earlier (redisq keys)"
        );
        assert_eq!(field(&v158, "processing lag"), "1.50 s");
        assert_eq!(field(&v16, "generation"), "v1.6 or later (r2z2 keys)");
        assert_eq!(field(&v16, "processing lag"), "-");
    }

    #[test]
    fn status_falls_back_to_the_summary() {
        let empty = fields(
            r#"{"metrics":{"processing":{}},"summary":{"killmails_stored":3,"processing_lag_seconds":7}}"#,
        );
        assert_eq!(field(&empty, "kills received"), "3");
        assert_eq!(field(&empty, "last kill"), "7 s ago");
        assert_eq!(field(&empty, "generation"), "unknown");
        assert_eq!(field(&empty, "timestamp"), "-");
        let minimal = fields(r#"{"summary":{},"timestamp":null}"#);
        assert_eq!(field(&minimal, "kills received"), "0");
        assert_eq!(field(&minimal, "processing lag"), "-");
        let never = fields(
            r#"{"metrics":{"processing":{"killmails_received":0,"last_killmail_ago_seconds":999999}},"summary":{}}"#,
        );
        assert_eq!(field(&never, "last kill"), "never");
    }
}
