//! The connection task: IO only. It dials, reads and writes the socket, sleeps until the session's
//! next deadline, and hands decoded pushes to the shared [`Delivery`]. Every decision (when to
//! dial, join, rejoin, time out, recover) is the [`Session`]'s.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use wk_types::phoenix::{KillCountUpdate, KillmailUpdate, PreloadBatch, PreloadComplete, event};
use wk_types::{Killmail, Timestamp};

use super::config::Config;
use super::machine::Payload;
use super::session::{Answer, ConnectionState, Event, Op, OpReply, Session, Token};
use super::stats::Shared;
use crate::delivery::{Delivery, Sink, SubId};
use crate::error::{Error, Result};
use crate::event::{KillEvent, Origin, Progress};
use crate::filter::Filter;
use crate::repeat::Fingerprint;

/// Most frames read without waiting before a due timer is handled: enough for the replies a late
/// timer could be waiting on, few enough that a flood cannot hold timers off.
const READY_FRAMES: usize = 256;

/// Most frames read in one burst, without waiting, before timers and writes get their turn.
const BURST_FRAMES: usize = 64;

/// Messages from handles to the task.
#[derive(Debug)]
pub(crate) enum Command {
    Subscribe {
        id: SubId,
        // Boxed to keep `Command` small: the channel allocates its slots in blocks of 32 up
        // front, for every connection.
        filter: Box<Filter>,
        events: mpsc::Sender<Result<KillEvent>>,
        lagged: Arc<AtomicU64>,
        done: oneshot::Sender<Result<()>>,
    },
    Drop {
        id: SubId,
    },
    Op {
        id: SubId,
        op: Op,
        done: oneshot::Sender<Result<OpReply>>,
    },
}

/// Who waits on a session call.
#[derive(Debug)]
pub(crate) enum Reply {
    /// `subscribe()`: acknowledged, or the subscription is dropped.
    Ack {
        id: SubId,
        done: oneshot::Sender<Result<()>>,
    },
    /// An explicit call.
    Op(oneshot::Sender<Result<OpReply>>),
}

impl Token for Reply {
    fn cancelled(&self) -> bool {
        match self {
            Self::Ack { done, .. } => done.is_closed(),
            Self::Op(done) => done.is_closed(),
        }
    }
}

/// The clock the session reads: tokio's, so paused test time drives it.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// The session's next deadline as one tokio timer, re-armed only when the deadline moves (arming
/// a fresh timer for every frame would cost more than the frame's routing).
struct Timer {
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    at: Option<Instant>,
}

impl Default for Timer {
    fn default() -> Self {
        Self {
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            at: None,
        }
    }
}

impl Timer {
    fn set(&mut self, at: Option<Instant>) {
        if at != self.at {
            self.at = at;
            if let Some(at) = at {
                self.sleep
                    .as_mut()
                    .reset(tokio::time::Instant::from_std(at));
            }
        }
    }

    /// Fires at the deadline; never without one.
    async fn wait(&mut self) {
        match self.at {
            Some(_) => self.sleep.as_mut().await,
            None => std::future::pending().await,
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

pub(crate) struct Driver {
    config: Arc<Config>,
    shared: Arc<Shared>,
    url: String,
    session: Session<Reply>,
    delivery: Delivery,
    commands: mpsc::UnboundedReceiver<Command>,
    state: watch::Sender<ConnectionState>,
    ready: Option<oneshot::Sender<Result<()>>>,
    recovered_tx: mpsc::UnboundedSender<Vec<Killmail>>,
    recovered_rx: mpsc::UnboundedReceiver<Vec<Killmail>>,
}

impl Driver {
    pub(crate) fn new(
        config: Arc<Config>,
        shared: Arc<Shared>,
        url: String,
        commands: mpsc::UnboundedReceiver<Command>,
        state: watch::Sender<ConnectionState>,
        ready: oneshot::Sender<Result<()>>,
    ) -> Self {
        let (recovered_tx, recovered_rx) = mpsc::unbounded_channel();
        Self {
            session: Session::new(config.session(), shared.clone(), now()),
            delivery: Delivery::new(config.dedup_capacity, shared.delivery.clone()),
            config,
            shared,
            url,
            commands,
            state,
            ready: Some(ready),
            recovered_tx,
            recovered_rx,
        }
    }

    /// Runs the connection until every handle is dropped, inside one span for the connection.
    pub(crate) async fn run(self) {
        use tracing::Instrument;
        let span = tracing::info_span!("wk_realtime.ws", topic = wk_types::phoenix::LOBBY_TOPIC, url = %wk_types::redact::Url(&self.url));
        self.run_inner().instrument(span).await;
    }

    async fn run_inner(mut self) {
        loop {
            self.handle_events();
            let Some(dial_at) = self.session.dial_at() else {
                break;
            };
            if !self.idle(dial_at).await {
                break;
            }
            self.session.dialing();
            self.handle_events();
            // Boxed: the handshake's state is large and only needed while connecting, so it must
            // not stay in this task's future for the life of the connection.
            match Box::pin(super::connect::connect(&self.url, &self.config)).await {
                Ok(ws) => {
                    self.session.opened(now());
                    self.connection(ws).await;
                }
                Err(e) => self.session.dial_failed(e, now()),
            }
        }
        self.session.shutdown();
        self.handle_events();
    }

    /// Serves commands while there is no socket, until `until`; `false` once every handle is gone.
    async fn idle(&mut self, until: Instant) -> bool {
        loop {
            self.handle_events();
            if self.session.is_closed() {
                return false;
            }
            if now() >= until {
                return true;
            }
            tokio::select! {
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => {
                        self.session.shutdown();
                        return false;
                    }
                },
                Some(kills) = self.recovered_rx.recv() => self.on_recovered(kills),
                () = sleep_until(self.session.poll_timeout()) => self.session.handle_timeout(now()),
            }
        }
    }

    async fn connection(&mut self, ws: super::connect::Socket) {
        let (mut sink, mut stream) = ws.split();
        self.delivery.new_connection();
        let mut timer = Timer::default();
        loop {
            self.handle_events();
            if self.session.is_closed() {
                let _ = sink.send(Message::Close(None)).await;
                return;
            }
            if flush(&mut self.session, &mut sink).await.is_err() || self.session.is_dead() {
                break;
            }
            timer.set(self.session.poll_timeout());
            tokio::select! {
                msg = stream.next() => {
                    // A burst: what has already arrived is read before going round the loop
                    // again, so the select, the timer and the flush are paid once per burst.
                    if !self.on_message(msg) || !self.read_burst(&mut stream) {
                        break;
                    }
                    crate::queue::pace(self.delivery.take_give_way()).await;
                }
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => self.session.shutdown(),
                },
                Some(kills) = self.recovered_rx.recv() => self.on_recovered(kills),
                () = timer.wait() => {
                    // The timer may fire late (a busy runtime) and `select!` may pick it over a
                    // socket that is already readable: read what has arrived first, so a heartbeat
                    // or join reply sitting in the buffer is not taken for a missing one.
                    if !self.read_ready(&mut stream) {
                        break;
                    }
                    self.session.handle_timeout(now());
                }
            }
        }
        self.session.lost(now());
    }

    /// Handles one item read from the socket; `false` when the connection is over.
    fn on_message(
        &mut self,
        msg: Option<std::result::Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) -> bool {
        match msg {
            Some(Ok(Message::Text(text))) => self.on_text(text.as_str()),
            Some(Ok(Message::Close(frame))) => {
                tracing::info!(?frame, "server closed the connection");
                return false;
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                tracing::info!(error = %crate::error::Chain(&e), "connection broke");
                return false;
            }
            None => return false,
        }
        true
    }

    /// Handles the frames that arrived already, up to [`BURST_FRAMES`], stopping early when a
    /// subscription's queue fills (its consumer gets its turn) or the session has frames to
    /// send; `false` when the connection is over.
    fn read_burst<S>(&mut self, stream: &mut S) -> bool
    where
        S: futures_util::Stream<
                Item = std::result::Result<Message, tokio_tungstenite::tungstenite::Error>,
            > + Unpin,
    {
        for _ in 0..BURST_FRAMES {
            self.handle_events();
            if self.delivery.gives_way() || self.session.has_transmit() || self.session.is_closed()
            {
                return true;
            }
            let Some(msg) = stream.next().now_or_never() else {
                return true;
            };
            if !self.on_message(msg) {
                return false;
            }
        }
        true
    }

    /// Handles the frames that can be read without waiting (at most [`READY_FRAMES`]); `false`
    /// when the connection is over.
    fn read_ready<S>(&mut self, stream: &mut S) -> bool
    where
        S: futures_util::Stream<
                Item = std::result::Result<Message, tokio_tungstenite::tungstenite::Error>,
            > + Unpin,
    {
        for _ in 0..READY_FRAMES {
            let Some(msg) = stream.next().now_or_never() else {
                return true;
            };
            if !self.on_message(msg) {
                return false;
            }
        }
        true
    }

    fn on_text(&mut self, text: &str) {
        Shared::bump(&self.shared.frames);
        // The server's copies of a push are dropped before the costly decode (see `repeat`).
        let fingerprint = Fingerprint::of_killmail_update(text);
        if self.delivery.repeat(fingerprint) {
            return;
        }
        match self.session.handle_text(text, now()) {
            // A push borrowed from `text`, its payload decoded in the same pass.
            Ok(Some(push)) => match push.payload {
                Payload::Typed(update) => {
                    self.delivery.remember(fingerprint, update.killmails.len());
                    self.on_killmail_update(update);
                }
                Payload::Raw(payload) => self.on_push(push.event, payload.get()),
            },
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "ignoring a frame that is not a Phoenix V2 frame");
            }
        }
    }

    /// Carries out what the session decided.
    fn handle_events(&mut self) {
        while let Some(event) = self.session.poll_event() {
            match event {
                Event::Done { token, result } => match token {
                    Reply::Ack { id, done } => {
                        if result.is_err() {
                            self.delivery.remove(id);
                        }
                        let _ = done.send(result.map(|_| ()));
                    }
                    Reply::Op(done) => {
                        let _ = done.send(result.and_then(|answer| match answer {
                            Answer::Op(reply) => Ok(reply),
                            Answer::Subscribed => Err(Error::Closed),
                        }));
                    }
                },
                Event::Ready(result) => {
                    if let Some(ready) = self.ready.take() {
                        let _ = ready.send(result);
                    }
                }
                Event::State(state) => {
                    self.state.send_replace(state);
                }
                Event::Joined(reply) => {
                    if let Some(reply) = reply {
                        *self
                            .shared
                            .join_reply
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reply);
                    }
                }
                Event::Push { event, payload } => self.on_push(&event, payload.get()),
                Event::Recover { systems, lost_at } => self.recover(systems, lost_at),
                Event::Ended(error) => {
                    *self
                        .shared
                        .ended
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(error.clone());
                    self.delivery.end(&error);
                }
            }
        }
    }

    fn on_command(&mut self, cmd: Command) {
        match cmd {
            Command::Subscribe {
                id,
                filter,
                events,
                lagged,
                done,
            } => {
                self.delivery
                    .add(id, Sink::new((*filter).clone(), events, lagged));
                self.session
                    .subscribe(Reply::Ack { id, done }, *filter, now());
            }
            Command::Drop { id } => {
                if let Some(filter) = self.delivery.remove(id) {
                    self.session.unsubscribe(&filter, now());
                }
            }
            Command::Op { id, op, done } => {
                let before = self.delivery.filter(id).cloned();
                if let Some(filter) = self.delivery.filter_mut(id) {
                    match &op {
                        Op::Systems {
                            subscribe: true,
                            ids,
                        } => filter.add_systems(ids),
                        Op::Systems {
                            subscribe: false,
                            ids,
                        } => filter.remove_systems(ids),
                        Op::Characters {
                            subscribe: true,
                            ids,
                        } => filter.add_characters(ids),
                        Op::Characters {
                            subscribe: false,
                            ids,
                        } => filter.remove_characters(ids),
                        Op::Status => {}
                    }
                }
                let after = self.delivery.filter(id);
                let change = before.as_ref().zip(after);
                self.session.call(Reply::Op(done), op, change, now());
            }
        }
    }

    fn on_killmail_update(&mut self, update: KillmailUpdate) {
        let origin = if update.preload {
            Origin::Preload
        } else {
            Origin::Live
        };
        self.delivery
            .kills(update.killmails, Some(update.system_id), origin);
    }

    fn on_push(&mut self, event_name: &str, payload: &str) {
        match event_name {
            event::KILLMAIL_UPDATE => match wk_types::decode::killmail_update(payload) {
                Ok(update) => self.on_killmail_update(update),
                Err(e) => self.delivery.error(&Error::Decode(e)),
            },
            event::NEW_KILL => match wk_types::decode::killmail(payload) {
                Ok(km) => self.delivery.kill(km, None, Origin::Live),
                Err(e) => self.delivery.error(&Error::Decode(e)),
            },
            event::KILL_COUNT_UPDATE => {
                match wk_types::decode::from_str::<KillCountUpdate>(payload) {
                    Ok(update) => {
                        let system = update.system_id;
                        self.delivery
                            .route(|f| f.wants_system(system), &KillEvent::KillCount(update));
                    }
                    Err(e) => self.delivery.error(&Error::Decode(e)),
                }
            }
            event::PRELOAD_BATCH => match wk_types::decode::from_str::<PreloadBatch>(payload) {
                Ok(batch) => self.delivery.kills(batch.kills, None, Origin::Preload),
                Err(e) => self.delivery.error(&Error::Decode(e)),
            },
            event::PRELOAD_COMPLETE => match wk_types::decode::from_str::<PreloadComplete>(payload)
            {
                Ok(done) => self.delivery.route(
                    |_| true,
                    &KillEvent::Progress(Progress::Complete {
                        total: done.total_kills,
                    }),
                ),
                Err(e) => self.delivery.error(&Error::Decode(e)),
            },
            other => {
                let payload = serde_json::from_str(payload).unwrap_or(serde_json::Value::Null);
                let event = KillEvent::Other {
                    event: other.to_owned(),
                    payload,
                };
                self.delivery.route(|_| true, &event);
            }
        }
    }

    fn on_recovered(&mut self, kills: Vec<Killmail>) {
        tracing::debug!(count = kills.len(), "gap recovery fetched kills");
        self.delivery.kills(kills, None, Origin::Recovered);
    }

    /// Fetches what the server holds for `systems`, newer than the last live kill seen (or, when
    /// none was, than the moment the channel was lost), minus the margin.
    fn recover(&mut self, systems: Vec<wk_types::SystemId>, lost_at: Instant) {
        let Some(backfill) = self.config.backfill.clone() else {
            return;
        };
        let anchor = self.delivery.last_live().unwrap_or_else(|| {
            let ago = jiff::SignedDuration::try_from(now().saturating_duration_since(lost_at))
                .unwrap_or(jiff::SignedDuration::ZERO);
            Timestamp::now()
                .checked_sub(ago)
                .unwrap_or_else(|_| Timestamp::now())
        });
        let cutoff = crate::recovery::cutoff(anchor, self.config.recovery_margin);
        crate::recovery::spawn(backfill, systems, cutoff, self.recovered_tx.clone());
    }
}

/// Writes every frame the session has for the socket.
async fn flush<S>(session: &mut Session<Reply>, sink: &mut S) -> std::result::Result<(), ()>
where
    S: futures_util::Sink<Message> + Unpin,
{
    let mut wrote = false;
    while let Some(frame) = session.poll_transmit() {
        tracing::trace!(%frame, "send");
        sink.feed(Message::Text(frame.into()))
            .await
            .map_err(|_| ())?;
        wrote = true;
    }
    if wrote {
        sink.flush().await.map_err(|_| ())?;
    }
    Ok(())
}
