//! Counters a test can assert on: [`State`], also served as JSON by `GET /_testkit/state`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A snapshot of the server's counters. Gauges (`*_open`, `joined_channels`, …) describe the moment
/// of the snapshot; every other number counts since [`crate::TestServer`] started (restarts included).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct State {
    /// `faithful`, `legacy` or `designed`.
    pub profile: String,
    /// How many times the server was restarted.
    pub restarts: u64,
    /// HTTP requests served outside `/_testkit/` (WebSocket upgrades and SSE included).
    pub http_requests: u64,
    /// Those requests by `User-Agent` (`""` for none), so a test can check what clients send.
    pub user_agents: BTreeMap<String, u64>,
    /// WebSocket connections open now.
    pub ws_open: u64,
    /// WebSocket connections accepted in total.
    pub ws_connections: u64,
    /// Successful `phx_join`s on `killmails:lobby`.
    pub joins: u64,
    /// Joins answered with an error reply (validation, `join crashed`).
    pub join_errors: u64,
    /// Channels joined now.
    pub joined_channels: u64,
    /// `phx_leave`s answered.
    pub leaves: u64,
    /// Channel crashes (`phx_error` sent).
    pub channel_crashes: u64,
    /// Heartbeats answered.
    pub heartbeats: u64,
    /// Inbound WebSocket text frames.
    pub frames_received: u64,
    /// Channel events (anything but `phx_join`) on the joined topic whose join_ref was not the
    /// current join's: another string, a number (Phoenix 1.8 compares with `===`) or `null`.
    /// Phoenix 1.8 (faithful, designed) drops them without a reply; Phoenix 1.7 (legacy) still
    /// handles them, `phx_leave` excepted.
    pub stale_pushes: u64,
    /// Inbound frames whose `ref` or `join_ref` was a JSON number instead of a string.
    pub numeric_refs: u64,
    /// Pushes on the current join dropped without a reply by [`crate::Fault::DropPushes`].
    pub silenced_pushes: u64,
    /// `phx_reply` frames sent.
    pub replies: u64,
    /// Server pushes sent, by event name (`killmail_update`, `kill_count_update`, `phx_error`, …).
    pub pushes: BTreeMap<String, u64>,
    /// SSE streams open now (basic and enhanced).
    pub sse_open: u64,
    /// SSE streams started in total (basic and enhanced, 200 answers only).
    pub sse_streams: u64,
    /// SSE events (`data:` blocks) written.
    pub sse_events: u64,
    /// Requests to the enhanced SSE endpoint that passed validation.
    pub enhanced_requests: u64,
    /// Webhook POSTs answered with 2xx.
    pub webhook_deliveries: u64,
    /// Webhook POSTs that failed (connect error, timeout, non-2xx).
    pub webhook_failures: u64,
    /// Live killmails ingested (injected, generated or posted to `/_testkit/killmails`).
    pub killmails_ingested: u64,
    /// Killmails in the store now.
    pub stored_killmails: u64,
    /// Subscription records (webhook and WebSocket) now.
    pub subscriptions: u64,
    /// Frames written by `/_testkit/firehose` (or [`crate::TestServer::firehose`]).
    pub firehose_frames: u64,
}

impl State {
    /// Pushes sent for one event name (0 when none).
    #[must_use]
    pub fn pushes_of(&self, event: &str) -> u64 {
        self.pushes.get(event).copied().unwrap_or(0)
    }
}
