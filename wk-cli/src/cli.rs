//! The command line: global options, subcommands and their help texts (clap derive).

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};

const EXAMPLES: &str = "\
Examples:
  wk tail                                     # demo: a local fake server with synthetic kills
  wk --url http://127.0.0.1:4004 tail --systems 30000142,30002813
  WK_URL=http://127.0.0.1:4004 wk --format json tail --systems 30000142 | jq .killmail_id
  wk --url http://127.0.0.1:4004 killmail 131600123
  wk --url http://127.0.0.1:4004 kills cached 30000142
  wk serve --addr 127.0.0.1:4004 --rate 5
  wk completions bash > ~/.local/share/bash-completion/completions/wk

Exit status: 0 success, 1 server or transport error, 2 usage or validation error.";

/// The `wk` command line for WandererKills, the service that streams EVE Online killmails.
#[derive(Debug, Parser)]
#[command(name = "wk", version, after_help = EXAMPLES)]
pub(crate) struct Cli {
    /// The server's base URL, e.g. `http://host:4004` (the WebSocket and SSE URLs are derived from
    /// it). Without it, `wk tail` runs a local demo server.
    #[arg(long, global = true, env = "WK_URL", value_name = "URL")]
    pub(crate) url: Option<String>,

    /// Output for people (`pretty`) or for programs (`json`: the server's data, one JSON document per
    /// line).
    #[arg(long, global = true, value_enum, default_value_t = Format::Pretty)]
    pub(crate) format: Format,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// How results are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Readable lines and aligned tables.
    Pretty,
    /// JSON: one killmail per line for `tail`, the response data otherwise.
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Follow live kills (WebSocket by default); without --url, against a local demo server.
    #[command(after_help = TAIL_EXAMPLES)]
    Tail(TailArgs),
    /// Kill listings: recent kills of systems, the server's cached kills, kill counts.
    #[command(subcommand, after_help = KILLS_EXAMPLES)]
    Kills(KillsCommand),
    /// One killmail by id.
    #[command(
        after_help = "Examples:\n  wk killmail 131600123\n  wk --format json killmail 131600123 | jq .zkb.totalValue"
    )]
    Killmail {
        /// The killmail id (a positive integer).
        #[arg(value_name = "ID", allow_negative_numbers = true)]
        id: i64,
    },
    /// Webhook subscriptions: create, list, stats, delete.
    #[command(subcommand, after_help = SUBSCRIPTIONS_EXAMPLES)]
    Subscriptions(SubscriptionsCommand),
    /// The server's health (exits 1 when it reports itself unhealthy).
    #[command(after_help = "Examples:\n  wk health\n  wk --format json health")]
    Health,
    /// The server's status summary.
    #[command(after_help = "Examples:\n  wk status\n  wk --format json status | jq .summary")]
    Status,
    /// Run the fake WandererKills server (wk-testkit) until Ctrl-C.
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(ServeArgs),
    /// Print a shell completion script.
    #[command(after_help = COMPLETIONS_EXAMPLES)]
    Completions {
        /// The shell to generate for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

const TAIL_EXAMPLES: &str = "\
Examples:
  wk tail                                       # demo server, synthetic kills, Ctrl-C to stop
  wk tail --count 5                             # demo, stop after 5 kills
  wk tail --no-history --count 1                # demo, wait for the next live kill
  wk --url http://127.0.0.1:4004 tail --systems 30000142,30002813 --min-value 100M
  wk --url http://127.0.0.1:4004 tail --characters 95465499
  wk --format json tail --count 10 > kills.jsonl

The WebSocket cannot subscribe to every kill: with --url, give --systems or --characters.
Reconnects, lag and the demo notice go to stderr; kills go to stdout.";

const KILLS_EXAMPLES: &str = "\
Examples:
  wk kills system 30000142 --limit 10
  wk kills systems 30000142,30002813
  wk kills cached 30000142
  wk kills count 30000142";

const SUBSCRIPTIONS_EXAMPLES: &str = "\
Examples:
  wk subscriptions create --subscriber my-bot --callback-url https://example.org/hook --systems 30000142
  wk subscriptions list
  wk subscriptions stats
  wk subscriptions delete my-bot";

const SERVE_EXAMPLES: &str = "\
Examples:
  wk serve                                       # http://127.0.0.1:4004, 5 synthetic kills per second
  wk serve --addr 127.0.0.1:0 --profile designed --rate 0
  wk --url http://127.0.0.1:4004 tail --systems 30000142   # in another terminal";

const COMPLETIONS_EXAMPLES: &str = "\
Examples:
  wk completions bash > ~/.local/share/bash-completion/completions/wk
  wk completions zsh > ~/.zfunc/_wk
  wk completions fish > ~/.config/fish/completions/wk.fish";

/// Which realtime transport `tail` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Transport {
    /// Phoenix Channels WebSocket (`/socket/websocket`).
    Ws,
    /// Server-Sent Events (`/api/v1/kills/stream`).
    Sse,
}

#[derive(Debug, Args)]
pub(crate) struct TailArgs {
    /// The realtime transport [default: ws when ids are given, else sse, which can follow every
    /// kill].
    #[arg(long, value_enum)]
    pub(crate) transport: Option<Transport>,
    /// Systems to follow (comma-separated ids).
    #[arg(long, value_name = "IDS", value_delimiter = ',', allow_negative_numbers = true, value_parser = system_id)]
    pub(crate) systems: Vec<i64>,
    /// Characters to follow as victim or attacker (comma-separated ids).
    #[arg(long, value_name = "IDS", value_delimiter = ',', allow_negative_numbers = true, value_parser = character_id)]
    pub(crate) characters: Vec<i64>,
    /// Only kills worth at least this much ISK (`250000`, `1.5M`, `2B`, `500k`).
    #[arg(long, value_name = "ISK", value_parser = parse_isk)]
    pub(crate) min_value: Option<f64>,
    /// Exit 0 after printing this many kills: unique ones that pass --min-value, history
    /// (preloaded kills the server sends on join) included unless --no-history.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) count: Option<u64>,
    /// Skip history: kills the server sends as preload when the subscription starts (and the
    /// enhanced stream's batches) are neither printed nor counted; live kills, and kills
    /// recovered after a lost connection, still are.
    #[arg(long)]
    pub(crate) no_history: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum KillsCommand {
    /// Recent kills of one system (on the real server: zKillboard references).
    System {
        /// The system id.
        #[arg(value_name = "ID", allow_negative_numbers = true, value_parser = system_id)]
        id: i64,
        /// Hours of history (positive; the real server ignores it).
        #[arg(long, value_name = "H")]
        since_hours: Option<u32>,
        /// At most this many kills (1-1000).
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
    },
    /// Recent kills of several systems.
    Systems {
        /// The system ids (comma-separated).
        #[arg(
            value_name = "IDS",
            value_delimiter = ',',
            required = true,
            allow_negative_numbers = true,
            value_parser = system_id
        )]
        ids: Vec<i64>,
        /// Hours of history (positive; the real server ignores it).
        #[arg(long, value_name = "H")]
        since_hours: Option<u32>,
        /// At most this many kills per system (1-1000).
        #[arg(long, value_name = "N")]
        limit: Option<u32>,
    },
    /// Every kill the server holds in memory for a system.
    Cached {
        /// The system id.
        #[arg(value_name = "ID", allow_negative_numbers = true, value_parser = system_id)]
        id: i64,
    },
    /// The server's kill count for a system (always 0 on the real server).
    Count {
        /// The system id.
        #[arg(value_name = "ID", allow_negative_numbers = true, value_parser = system_id)]
        id: i64,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SubscriptionsCommand {
    /// Register a webhook subscription.
    Create {
        /// Who the subscription belongs to.
        #[arg(long, value_name = "NAME")]
        subscriber: String,
        /// Where the server should POST kills (http or https).
        #[arg(long, value_name = "URL")]
        callback_url: String,
        /// Systems to follow (comma-separated ids, at most 100).
        #[arg(long, value_name = "IDS", value_delimiter = ',', allow_negative_numbers = true, value_parser = system_id)]
        systems: Vec<i64>,
        /// Characters to follow (comma-separated ids, at most 1000).
        #[arg(long, value_name = "IDS", value_delimiter = ',', allow_negative_numbers = true, value_parser = character_id)]
        characters: Vec<i64>,
    },
    /// List every subscription on the server (webhooks and WebSocket joins).
    List,
    /// Subscription counters.
    Stats,
    /// Remove every subscription of a subscriber.
    Delete {
        /// The subscriber id.
        #[arg(value_name = "NAME")]
        subscriber: String,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on (`127.0.0.1:0` picks a free port).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4004")]
    pub(crate) addr: SocketAddr,
    /// Imitate the current server (v1.6.2) with its defects, the older v1.5.8, or the
    /// documented design.
    #[arg(long, value_enum, default_value_t = ProfileArg::Faithful)]
    pub(crate) profile: ProfileArg,
    /// Synthetic live kills per second (0 for none).
    #[arg(long, value_name = "R", default_value_t = 5.0, value_parser = parse_rate)]
    pub(crate) rate: f64,
}

/// The testkit's profiles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ProfileArg {
    /// The current server, v1.6.2 on Phoenix 1.8, defects included.
    Faithful,
    /// v1.5.8 on Phoenix 1.7.21, defects included.
    Legacy,
    /// The documented intent.
    Designed,
}

/// Parses an ISK amount with an optional `k`, `M` or `B` suffix.
pub(crate) fn parse_isk(s: &str) -> Result<f64, String> {
    let s = s.trim().replace('_', "");
    let (number, factor) = match s.chars().last().map(|c| c.to_ascii_lowercase()) {
        Some('k') => (&s[..s.len() - 1], 1e3),
        Some('m') => (&s[..s.len() - 1], 1e6),
        Some('b') => (&s[..s.len() - 1], 1e9),
        _ => (s.as_str(), 1.0),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("expected an ISK amount like 250000, 1.5M or 2B, got {s:?}"))?;
    let isk = value * factor;
    if isk.is_finite() && isk >= 0.0 {
        Ok(isk)
    } else {
        Err("the amount must be finite and not negative".to_owned())
    }
}

/// A system id by the one rule every command applies (the server's channel rule, which also
/// holds every real EVE system): 1 to 50,000,000.
pub(crate) fn system_id(s: &str) -> Result<i64, String> {
    id_in(s, "system", &wk::types::validate::CHANNEL_SYSTEM_RANGE)
}

/// A character id by the one rule every command applies: 90,000,000 to 3,000,000,000.
pub(crate) fn character_id(s: &str) -> Result<i64, String> {
    id_in(
        s,
        "character",
        &wk::types::validate::CHANNEL_CHARACTER_RANGE,
    )
}

fn id_in(s: &str, kind: &str, range: &std::ops::RangeInclusive<i64>) -> Result<i64, String> {
    let id: i64 = s
        .trim()
        .parse()
        .map_err(|_| format!("expected a {kind} id (an integer), got {s:?}"))?;
    if range.contains(&id) {
        Ok(id)
    } else {
        Err(format!(
            "{kind} id {id} is out of range ({} to {})",
            range.start(),
            range.end()
        ))
    }
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(r) if r.is_finite() && r >= 0.0 => Ok(r),
        _ => Err(format!("expected a non-negative number, got {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn ids_follow_one_rule() {
        assert_eq!(system_id("30000142"), Ok(30_000_142));
        assert_eq!(system_id("50000000"), Ok(50_000_000));
        for bad in ["0", "-1", "50000001", "x", "1.5"] {
            assert!(system_id(bad).is_err(), "{bad}");
        }
        assert_eq!(character_id("95465499"), Ok(95_465_499));
        assert!(character_id("12").is_err());
        assert!(character_id("3000000001").is_err());
    }

    #[test]
    fn isk_amounts_take_suffixes() {
        assert_eq!(parse_isk("250000"), Ok(250_000.0));
        assert_eq!(parse_isk("1.5M"), Ok(1_500_000.0));
        assert_eq!(parse_isk("2b"), Ok(2e9));
        assert_eq!(parse_isk("500k"), Ok(500_000.0));
        assert!(parse_isk("-1").is_err());
        assert!(parse_isk("lots").is_err());
    }

    #[test]
    fn ids_are_comma_separated() {
        let cli = Cli::try_parse_from(["wk", "tail", "--systems", "1,2", "--systems", "3"])
            .expect("parses");
        let Command::Tail(args) = cli.command else {
            panic!("not tail")
        };
        assert_eq!(args.systems, vec![1, 2, 3]);
    }
}
