//! The stream task: one per [`Subscription`](super::Subscription). It owns the connection, the
//! parser, the reconnect schedule, the dedup window and gap recovery.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use http::StatusCode;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use wk_retry::ReconnectBackoff;
use wk_types::sse::EnhancedEvent;
use wk_types::{Killmail, SystemId, Timestamp};

use super::config::{ConnectionState, Shared, StreamKind};
use super::parser::{Event, Item, ParseError, Parser};
use crate::delivery::{Counters, Delivery, Sink};
use crate::error::{AfterFailure, Error, Result, after_failure};
use crate::event::{KillEvent, Origin, Progress};
use crate::filter::Filter;
use crate::repeat::Fingerprint;

/// How a connection ended.
enum Ended {
    /// End of body, a read error, or the watchdog: reconnect.
    Lost,
    /// The subscription was dropped.
    Shutdown,
}

pub(crate) struct Driver {
    shared: Arc<Shared>,
    kind: StreamKind,
    filter: Filter,
    /// The stream's path and query, relative to the HTTP client's base URL.
    path: String,
    events: mpsc::Sender<Result<KillEvent>>,
    state: watch::Sender<ConnectionState>,
    /// The shared delivery path, with this stream's one subscription.
    delivery: Delivery,
    reconnect: ReconnectBackoff,
    /// Attempts since the last stable stream, the one being made included.
    tries: u32,
    /// The server's `retry:` value, a floor on every later delay.
    server_retry: Option<Duration>,
    last_event_id: String,
    needs_recovery: bool,
    lost_at: Option<Timestamp>,
    recovered_tx: mpsc::UnboundedSender<Vec<Killmail>>,
    recovered_rx: mpsc::UnboundedReceiver<Vec<Killmail>>,
}

impl Driver {
    pub(crate) fn new(
        shared: Arc<Shared>,
        kind: StreamKind,
        filter: Filter,
        path: String,
        events: mpsc::Sender<Result<KillEvent>>,
        lagged: Arc<AtomicU64>,
        state: watch::Sender<ConnectionState>,
    ) -> Self {
        let config = &shared.config;
        let (recovered_tx, recovered_rx) = mpsc::unbounded_channel();
        Self {
            delivery: {
                let mut delivery =
                    Delivery::new(config.dedup_capacity, Arc::new(Counters::default()));
                delivery.add(0, Sink::new(filter.clone(), events.clone(), lagged));
                delivery
            },
            reconnect: ReconnectBackoff::new(config.reconnect.clone(), config.stable_after),
            tries: 0,
            shared,
            kind,
            filter,
            path,
            events,
            state,
            server_retry: None,
            last_event_id: String::new(),
            needs_recovery: false,
            lost_at: None,
            recovered_tx,
            recovered_rx,
        }
    }

    pub(crate) async fn run(self, ready: oneshot::Sender<Result<()>>) {
        use tracing::Instrument;
        let url = format!("{}{}", self.shared.http.base_url(), self.path);
        let span = tracing::info_span!("wk_realtime.sse", url = %wk_types::redact::Url(&url));
        self.run_inner(ready).instrument(span).await;
    }

    async fn run_inner(mut self, ready: oneshot::Sender<Result<()>>) {
        let mut ready = Some(ready);
        let events = self.events.clone();
        loop {
            self.tries += 1;
            let attempt = self.tries;
            self.state
                .send_replace(ConnectionState::Connecting { attempt });
            let timeout = self.shared.config.connect_timeout;
            let opened = tokio::select! {
                opened = super::transport::open(&self.shared.http, &self.path, &self.last_event_id, timeout) => opened,
                () = events.closed() => break,
            };
            let mut floor = self.server_retry.unwrap_or_default();
            match opened {
                Ok(body) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(Ok(()));
                    }
                    let up = Instant::now();
                    self.reconnect.connected(up.into_std());
                    self.state.send_replace(ConnectionState::Connected);
                    if std::mem::take(&mut self.needs_recovery) {
                        self.start_recovery();
                    }
                    let ended = self.read(body).await;
                    self.reconnect.disconnected(Instant::now().into_std());
                    // The same rule as the backoff's: a stable stream starts the count over.
                    if up.elapsed() >= self.shared.config.stable_after {
                        self.tries = 0;
                    }
                    if let Ended::Shutdown = ended {
                        break;
                    }
                    if self.shared.config.gap_recovery {
                        self.needs_recovery = true;
                        self.lost_at.get_or_insert_with(Timestamp::now);
                    }
                    floor = self.server_retry.unwrap_or_default();
                }
                Err(error) => {
                    let error = Error::Connect(error);
                    // A busy server at the first attempt still makes a stream: it comes later.
                    let busy = error.status().is_some_and(|s| {
                        s == StatusCode::SERVICE_UNAVAILABLE || s == StatusCode::TOO_MANY_REQUESTS
                    });
                    if let Some(ready) = ready.take() {
                        if !busy {
                            let _ = ready.send(Err(error));
                            return;
                        }
                        let _ = ready.send(Ok(()));
                    }
                    let config = &self.shared.config;
                    match after_failure(
                        &error,
                        attempt,
                        config.retry_refused,
                        config.max_server_delay,
                    ) {
                        AfterFailure::Retry { floor: asked } => floor = floor.max(asked),
                        AfterFailure::End => {
                            self.delivery.end(&error);
                            break;
                        }
                    }
                }
            }
            let delay = self.reconnect.next_delay_at_least(floor);
            let attempt = self.tries + 1;
            tracing::info!(?delay, attempt, "reconnecting");
            self.state
                .send_replace(ConnectionState::Reconnecting { attempt, delay });
            if !self.wait(Instant::now() + delay, &events).await {
                break;
            }
        }
        self.state.send_replace(ConnectionState::Closed);
    }

    /// Sleeps until `until`, delivering recovered kills meanwhile. `false` when the subscription
    /// was dropped.
    async fn wait(&mut self, until: Instant, events: &mpsc::Sender<Result<KillEvent>>) -> bool {
        loop {
            tokio::select! {
                () = tokio::time::sleep_until(until) => return true,
                () = events.closed() => return false,
                Some(kills) = self.recovered_rx.recv() => self.on_recovered(kills),
            }
        }
    }

    /// Reads one response body until it ends, fails, goes silent or the subscription is dropped.
    async fn read(&mut self, mut body: wk_http::Streaming) -> Ended {
        let config = &self.shared.config;
        let mut parser = Parser::new(config.max_event_size);
        self.delivery.new_connection();
        let idle = 2 * match self.kind {
            StreamKind::Basic => config.ping_interval,
            StreamKind::Enhanced { .. } => config.heartbeat_interval,
        };
        let events = self.events.clone();
        let watchdog = tokio::time::sleep(idle);
        tokio::pin!(watchdog);
        loop {
            tokio::select! {
                chunk = body.chunk() => match chunk {
                    Some(Ok(data)) => {
                        watchdog.as_mut().reset(Instant::now() + idle);
                        parser.feed(&data);
                        while let Some(item) = parser.next_item() {
                            self.on_item(item);
                            // Per event, not per chunk: one chunk can hold dozens.
                            crate::queue::pace(self.delivery.take_give_way()).await;
                        }
                        if !parser.last_event_id().is_empty() {
                            parser.last_event_id().clone_into(&mut self.last_event_id);
                        }
                    }
                    Some(Err(e)) => {
                        tracing::info!(error = %crate::error::Chain(&e), "stream broke");
                        return Ended::Lost;
                    }
                    None => {
                        tracing::info!("stream ended");
                        return Ended::Lost;
                    }
                },
                () = &mut watchdog => {
                    tracing::info!(?idle, "stream silent; replacing the connection");
                    return Ended::Lost;
                }
                () = events.closed() => return Ended::Shutdown,
                Some(kills) = self.recovered_rx.recv() => self.on_recovered(kills),
            }
        }
    }

    fn on_item(&mut self, item: std::result::Result<Item, ParseError>) {
        match item {
            Ok(Item::Event(event)) => self.on_event(&event),
            Ok(Item::Retry(delay)) => {
                self.server_retry = Some(delay.min(self.shared.config.max_server_delay));
            }
            Ok(Item::Comment(text)) => tracing::trace!(%text, "comment"),
            Err(ParseError::EventTooLarge { limit }) => {
                tracing::warn!(limit, "dropped an event over the size limit");
                self.offer(Err(Error::EventTooLarge { limit }));
            }
        }
    }

    fn on_event(&mut self, event: &Event) {
        tracing::trace!(event = event.event(), bytes = event.data().len(), "event");
        // The server writes each live kill twice, byte for byte (see `repeat`): the copy is
        // dropped before the costly decode.
        let killmail = match self.kind {
            StreamKind::Basic => event.event() == "message",
            StreamKind::Enhanced { .. } => event.event() == "killmail",
        };
        let fingerprint = killmail.then(|| Fingerprint::of_data(event.data()));
        if self.delivery.repeat(fingerprint) {
            return;
        }
        match self.kind {
            StreamKind::Basic if killmail => match wk_types::decode::killmail(event.data()) {
                Ok(km) => {
                    self.delivery.remember(fingerprint, 1);
                    self.delivery.kill(km, None, Origin::Live);
                }
                Err(e) => self.offer(Err(Error::Decode(e))),
            },
            StreamKind::Basic => self.other(event.event(), event.data()),
            StreamKind::Enhanced { .. } => {
                match EnhancedEvent::decode(event.event(), event.data()) {
                    Ok(decoded) => {
                        if let EnhancedEvent::Killmail(_) = decoded {
                            self.delivery.remember(fingerprint, 1);
                        }
                        self.on_enhanced(decoded);
                    }
                    Err(e) => self.offer(Err(Error::Decode(e))),
                }
            }
        }
    }

    fn on_enhanced(&mut self, event: EnhancedEvent) {
        match event {
            EnhancedEvent::Connected(c) => tracing::debug!(filters = ?c.filters, "connected"),
            EnhancedEvent::Batch(batch) => {
                self.delivery.kills(batch.kills, None, Origin::History);
                self.offer(Ok(KillEvent::Progress(Progress::Batch {
                    batch: batch.batch_number,
                    total: batch.total_batches,
                })));
            }
            EnhancedEvent::Transition(t) => {
                self.offer(Ok(KillEvent::Progress(Progress::Complete {
                    total: t.total_historical,
                })));
            }
            EnhancedEvent::Killmail(km) => self.delivery.kill(*km, None, Origin::Live),
            EnhancedEvent::Heartbeat(_) => {}
            EnhancedEvent::Error(e) => {
                let payload = serde_json::to_value(&e).unwrap_or(serde_json::Value::Null);
                self.offer(Ok(KillEvent::Other {
                    event: "error".to_owned(),
                    payload,
                }));
            }
            EnhancedEvent::Unknown { event, data } => self.other(&event, &data),
            _ => {}
        }
    }

    fn other(&mut self, event: &str, data: &str) {
        let payload = serde_json::from_str(data)
            .unwrap_or_else(|_| serde_json::Value::String(data.to_owned()));
        self.offer(Ok(KillEvent::Other {
            event: event.to_owned(),
            payload,
        }));
    }

    fn on_recovered(&mut self, kills: Vec<Killmail>) {
        tracing::debug!(count = kills.len(), "gap recovery fetched kills");
        self.delivery.kills(kills, None, Origin::Recovered);
    }

    fn start_recovery(&mut self) {
        let Some(backfill) = self.shared.config.backfill.clone() else {
            return;
        };
        if self.filter.is_everything() {
            return;
        }
        let systems: Vec<SystemId> = self.filter.system_ids().collect();
        let anchor = match (self.delivery.last_live(), self.lost_at.take()) {
            (Some(seen), _) => seen,
            (None, Some(lost)) => lost,
            (None, None) => return,
        };
        let cutoff = crate::recovery::cutoff(anchor, self.shared.config.recovery_margin);
        crate::recovery::spawn(backfill, systems, cutoff, self.recovered_tx.clone());
    }

    /// Offers an event or an error to the stream without ever waiting: a full queue counts as
    /// lag, reported in order before the next item that fits.
    fn offer(&mut self, item: Result<KillEvent>) {
        match item {
            Ok(event) => self.delivery.route(|_| true, &event),
            Err(error) => self.delivery.error(&error),
        }
    }
}
