//! Which server the fake imitates: [`Profile`], and the one table that says what each profile does
//! differently (PROTOCOL.md §13, §18). Every behaviour that differs between profiles is a field of
//! [`Behaviour`]; the server reads the table and never asks which profile it is.

use wk_types::http::StatusKeys;

/// Which server to imitate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// The current server, v1.6.2 on Phoenix 1.8, defects included (PROTOCOL.md §18): each live kill
    /// twice to a system subscriber (one identical pair), once to a characters-only one and once on
    /// SSE; `{"reason":"channel_crash"}` on a crash; a push with a stale or `null` join_ref dropped
    /// without a reply; the renamed `/status` keys.
    #[default]
    Faithful,
    /// v1.5.8 on Phoenix 1.7.21, still deployed in places (PROTOCOL.md §1–§17): each live kill four
    /// times (two pairs), twice on SSE; `{}` on a crash; a push is dispatched on its topic alone, so
    /// one with a stale join_ref is still answered; the `redisq_*` `/status` keys.
    Legacy,
    /// The documented intent: each kill once, `kill_count_update`, error replies, working enhanced
    /// SSE, webhook delivery, server-side SSE filters.
    Designed,
}

impl Profile {
    /// Every profile, the default first.
    pub const ALL: [Profile; 3] = [Self::Faithful, Self::Legacy, Self::Designed];

    /// `"faithful"`, `"legacy"` or `"designed"`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Faithful => "faithful",
            Self::Legacy => "legacy",
            Self::Designed => "designed",
        }
    }

    /// The server version imitated: `"1.6.2"`, `"1.5.8"`, or `"designed"`.
    #[must_use]
    pub fn server_version(self) -> &'static str {
        self.behaviour().server
    }

    /// The Phoenix version whose channel rules apply: `"1.8"`, `"1.7.21"`, or `"designed"`.
    #[must_use]
    pub fn phoenix_version(self) -> &'static str {
        self.behaviour().phoenix
    }

    /// `killmail_update` pushes per live kill to a socket that holds at least one system of it
    /// (4 legacy, 2 faithful, 1 designed).
    #[must_use]
    pub fn ws_system_copies(self) -> usize {
        match self.behaviour().delivery {
            Delivery::Topics { system, .. } => system.len(),
            Delivery::Filter => 1,
        }
    }

    /// `killmail_update` pushes per live kill to a characters-only socket that joined with its
    /// characters and added none since (2 legacy, 1 faithful, 1 designed).
    #[must_use]
    pub fn ws_character_copies(self) -> usize {
        match self.behaviour().delivery {
            Delivery::Topics { listener, .. } => listener[0].len(),
            Delivery::Filter => 1,
        }
    }

    /// `data:` events per live kill on a basic SSE stream without filters (2 legacy, 1 otherwise).
    #[must_use]
    pub fn sse_copies(self) -> usize {
        match self.behaviour().sse {
            SseDelivery::SystemIdsOnly { copies } => copies,
            SseDelivery::Filtered => 1,
        }
    }

    /// The payload of the `phx_error` a crashed channel sends (`{"reason":"channel_crash"}` on
    /// Phoenix 1.8, `{}` on 1.7 and designed).
    #[must_use]
    pub fn crash_payload(self) -> &'static str {
        self.behaviour().crash_payload
    }

    /// Whether a push whose join_ref is not the current join's is still handled and answered
    /// (Phoenix 1.7) rather than dropped without a reply (Phoenix 1.8).
    #[must_use]
    pub fn answers_stale_join_ref(self) -> bool {
        self.behaviour().stale_pushes == StalePushes::Handled
    }

    /// Whether a rejected channel request (bad ids, unknown event) crashes the channel instead of
    /// getting an error reply.
    #[must_use]
    pub fn crashes_on_rejected_request(self) -> bool {
        self.behaviour().rejected == Rejected::Crash
    }

    /// The table of this profile.
    pub(crate) fn behaviour(self) -> &'static Behaviour {
        match self {
            Self::Faithful => &FAITHFUL,
            Self::Legacy => &LEGACY,
            Self::Designed => &DESIGNED,
        }
    }
}

impl std::str::FromStr for Profile {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown profile {s:?} (expected faithful, legacy or designed)"))
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One of the two server timestamps of a live kill's broadcasts. The real server published each
/// kill twice (≤ v1.6.1), and the copies of one publish carry the same `timestamp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stamp {
    A,
    B,
}

/// How live kills reach a joined socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// The real server: a socket with systems listens on their topics and gets `system` copies per
    /// kill in them; a socket with characters only has all-kills listeners (one per join or
    /// `subscribe_characters` that added ids) and listener `i` gets `listener[i % len]` for each
    /// kill of its characters. No `kill_count_update`.
    Topics {
        system: &'static [Stamp],
        listener: &'static [&'static [Stamp]],
    },
    /// One push per kill that matches the socket's systems or characters, and a
    /// `kill_count_update` per kill in a subscribed system.
    Filter,
}

/// How live kills reach a basic SSE stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SseDelivery {
    /// Only `system_ids` filters: `copies` per kill, times each repeat of its system in the query.
    SystemIdsOnly { copies: usize },
    /// Every filter applied, each kill once.
    Filtered,
}

/// What a rejected channel request (bad ids, unknown event) does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// No reply; `phx_error`; the channel and its subscriptions are gone (§7.6).
    Crash,
    /// `{"status":"error","response":{"reason":…}}`.
    ErrorReply,
}

/// What happens to a channel event whose join_ref is not the current join's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StalePushes {
    /// Phoenix 1.7: dispatched on its topic alone and answered (`phx_leave` excepted).
    Handled,
    /// Phoenix 1.8: dropped without a reply, whether the join_ref is another string, a number
    /// (`===`) or `null` (1.8.3–1.8.11, the strictest 1.8.x).
    Dropped,
}

/// Which id a WebSocket join's subscription record has (§13 row 15).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WsRecords {
    /// The subscription manager's own id: the record never matches the channel's
    /// `subscription_id`, so `subscribe_*` never updates it and close, crash or leave never remove it.
    OwnId,
    /// The join reply's `subscription_id`: kept up to date and removed with the channel.
    ChannelId,
}

/// Everything a profile does differently.
#[derive(Debug)]
pub(crate) struct Behaviour {
    pub(crate) server: &'static str,
    pub(crate) phoenix: &'static str,
    pub(crate) delivery: Delivery,
    pub(crate) sse: SseDelivery,
    pub(crate) rejected: Rejected,
    /// The `phx_error` payload.
    pub(crate) crash_payload: &'static str,
    pub(crate) stale_pushes: StalePushes,
    /// The key names of `/status` `metrics.processing` (§18.3); `None`: an empty object.
    pub(crate) status_keys: Option<StatusKeys>,
    pub(crate) ws_records: WsRecords,
    /// Preload pushes go out with the join_ref of their join even after it died (§7.10).
    pub(crate) stale_preload: bool,
    /// The enhanced SSE stream works; otherwise it ends at once and leaks its slot (§8.3.2).
    pub(crate) enhanced_sse: bool,
    /// Webhooks are POSTed (§9.3); otherwise never.
    pub(crate) webhooks: bool,
    /// `/kills/system` and `/kills/systems` list zKillboard references and ignore `since_hours`
    /// (§6.2); otherwise canonical kills within `since_hours`.
    pub(crate) zkb_references: bool,
    /// `/kills/count` counts the store; otherwise it is always 0 (§6.6).
    pub(crate) kill_count: bool,
    /// A `vsn` given as a list (`vsn[]=…`) is refused with 403 (Phoenix ≥ 1.8.6); otherwise the
    /// parameter is not seen and the socket speaks V1.
    pub(crate) vsn_list_forbidden: bool,
    /// `/api/openapi` puts its schemas under `components` with `$ref`s (v1.6, §18.3).
    pub(crate) openapi_components: bool,
}

const PAIR_OF_PAIRS: &[Stamp] = &[Stamp::A, Stamp::A, Stamp::B, Stamp::B];

static FAITHFUL: Behaviour = Behaviour {
    server: "1.6.2",
    phoenix: "1.8",
    delivery: Delivery::Topics {
        system: &[Stamp::A, Stamp::A],
        listener: &[&[Stamp::A]],
    },
    sse: SseDelivery::SystemIdsOnly { copies: 1 },
    rejected: Rejected::Crash,
    crash_payload: r#"{"reason":"channel_crash"}"#,
    stale_pushes: StalePushes::Dropped,
    status_keys: Some(StatusKeys::R2z2),
    ws_records: WsRecords::OwnId,
    stale_preload: true,
    enhanced_sse: false,
    webhooks: false,
    zkb_references: true,
    kill_count: false,
    vsn_list_forbidden: true,
    openapi_components: true,
};

static LEGACY: Behaviour = Behaviour {
    server: "1.5.8",
    phoenix: "1.7.21",
    delivery: Delivery::Topics {
        system: PAIR_OF_PAIRS,
        listener: &[&[Stamp::A, Stamp::A], &[Stamp::B, Stamp::B]],
    },
    sse: SseDelivery::SystemIdsOnly { copies: 2 },
    rejected: Rejected::Crash,
    crash_payload: "{}",
    stale_pushes: StalePushes::Handled,
    status_keys: Some(StatusKeys::RedisQ),
    ws_records: WsRecords::OwnId,
    stale_preload: true,
    enhanced_sse: false,
    webhooks: false,
    zkb_references: true,
    kill_count: false,
    vsn_list_forbidden: false,
    openapi_components: false,
};

static DESIGNED: Behaviour = Behaviour {
    server: "designed",
    phoenix: "designed",
    delivery: Delivery::Filter,
    sse: SseDelivery::Filtered,
    rejected: Rejected::ErrorReply,
    crash_payload: "{}",
    stale_pushes: StalePushes::Dropped,
    status_keys: None,
    ws_records: WsRecords::ChannelId,
    stale_preload: false,
    enhanced_sse: true,
    webhooks: true,
    zkb_references: false,
    kill_count: true,
    vsn_list_forbidden: false,
    openapi_components: false,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Profile::ALL {
            assert_eq!(p.as_str().parse::<Profile>(), Ok(p));
            assert_eq!(p.to_string(), p.as_str());
        }
        assert!("v1.6".parse::<Profile>().is_err());
        assert_eq!(Profile::default(), Profile::Faithful);
    }

    #[test]
    fn copy_counts_follow_the_versions() {
        let copies = |p: Profile| {
            (
                p.ws_system_copies(),
                p.ws_character_copies(),
                p.sse_copies(),
            )
        };
        assert_eq!(copies(Profile::Faithful), (2, 1, 1));
        assert_eq!(copies(Profile::Legacy), (4, 2, 2));
        assert_eq!(copies(Profile::Designed), (1, 1, 1));
    }
}
