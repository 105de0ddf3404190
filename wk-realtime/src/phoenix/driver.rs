//! The connection task: owns the socket, the [`Machine`], the timers and every local subscription.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use wk_retry::{Backoff, BackoffConfig, ReconnectBackoff};
use wk_types::phoenix::{
    CharactersPayload, CharactersReply, ErrorReply, KillCountUpdate, KillmailUpdate, PreloadBatch,
    PreloadComplete, ReplyStatus, StatusReply, SystemsPayload, SystemsReply, event,
};
use wk_types::{CharacterId, Killmail, SystemId, Timestamp};

use super::client::{Config, ConnectionState};
use super::machine::{Machine, NoReply, Output, Payload, PushRef};
use super::session::{Acked, Interest, Step, next_step};
use super::stats::Shared;
use crate::dedup::Dedup;
use crate::error::{ConnectError, Error, Result};
use crate::event::{Kill, KillEvent, Origin, Progress};
use crate::filter::Filter;
use crate::repeat::{Fingerprint, Repeats};

/// Most frames read without waiting before a due timer is handled: enough for the replies a late
/// timer could be waiting on, few enough that a flood cannot hold timers off.
const READY_FRAMES: usize = 256;

/// A local subscription's id.
pub(crate) type SubId = u64;

/// An explicit channel operation from a handle.
#[derive(Debug)]
pub(crate) enum Op {
    Systems {
        subscribe: bool,
        ids: Vec<SystemId>,
    },
    Characters {
        subscribe: bool,
        ids: Vec<CharacterId>,
    },
    Status,
}

/// The reply to an [`Op`].
#[derive(Debug)]
pub(crate) enum OpReply {
    Systems(SystemsReply),
    Characters(CharactersReply),
    Status(StatusReply),
}

/// Messages from handles to the task.
#[derive(Debug)]
pub(crate) enum Command {
    Subscribe {
        id: SubId,
        // Boxed to keep `Command` small: the channel allocates its slots in blocks of 32 up
        // front, for every connection.
        filter: Box<Filter>,
        events: mpsc::Sender<Result<KillEvent>>,
        lagged: Arc<std::sync::atomic::AtomicU64>,
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

struct SubEntry {
    filter: Filter,
    events: mpsc::Sender<Result<KillEvent>>,
    lagged: Arc<std::sync::atomic::AtomicU64>,
}

/// What is being asked of the server, one frame at a time.
struct Pending {
    op: Op,
    done: Option<oneshot::Sender<Result<OpReply>>>,
    deadline: Option<Instant>,
}

struct InFlight {
    push_ref: PushRef,
    op: Op,
    done: Option<oneshot::Sender<Result<OpReply>>>,
}

struct AckWaiter {
    id: SubId,
    done: oneshot::Sender<Result<()>>,
    deadline: Option<Instant>,
}

/// How a connection ended.
enum Ended {
    Lost,
    Shutdown,
}

pub(crate) struct Driver {
    config: Arc<Config>,
    shared: Arc<Shared>,
    url: String,
    machine: Machine,
    commands: mpsc::UnboundedReceiver<Command>,
    state: watch::Sender<ConnectionState>,
    ready: Option<oneshot::Sender<Result<()>>>,
    subs: HashMap<SubId, SubEntry>,
    /// A subscription's queue is [filling](crate::queue::filling): the task yields after the
    /// current frame.
    give_way: bool,
    interest: Interest,
    acked: Acked,
    join_params: Option<wk_types::phoenix::JoinParams>,
    queue: VecDeque<Pending>,
    in_flight: Option<InFlight>,
    waiters: Vec<AckWaiter>,
    dedup: Dedup,
    /// The last pushes that decoded, so the server's copies of them are dropped unread.
    repeats: Repeats,
    reconnect: ReconnectBackoff,
    rejoin: Backoff,
    rejoin_at: Option<Instant>,
    was_joined: bool,
    needs_recovery: bool,
    last_live: Option<Timestamp>,
    lost_at: Option<Timestamp>,
    recovered_tx: mpsc::UnboundedSender<Vec<Killmail>>,
    recovered_rx: mpsc::UnboundedReceiver<Vec<Killmail>>,
    dead: bool,
    closed: bool,
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
            machine: Machine::new(wk_types::phoenix::LOBBY_TOPIC, config.machine.clone()),
            dedup: Dedup::new(config.dedup_capacity),
            repeats: Repeats::default(),
            reconnect: ReconnectBackoff::new(config.reconnect.clone(), config.stable_after),
            rejoin: Backoff::new(
                BackoffConfig::default()
                    .base(Duration::from_millis(500))
                    .max(Duration::from_secs(10))
                    .min(Duration::from_millis(50)),
            ),
            config,
            shared,
            url,
            commands,
            state,
            ready: Some(ready),
            subs: HashMap::new(),
            give_way: false,
            interest: Interest::default(),
            acked: Acked::default(),
            join_params: None,
            queue: VecDeque::new(),
            in_flight: None,
            waiters: Vec::new(),
            rejoin_at: None,
            was_joined: false,
            needs_recovery: false,
            last_live: None,
            lost_at: None,
            recovered_tx,
            recovered_rx,
            dead: false,
            closed: false,
        }
    }

    /// Runs the connection until every handle is dropped, inside one span for the connection.
    pub(crate) async fn run(self) {
        use tracing::Instrument;
        let span = tracing::info_span!("wk_realtime.ws", topic = wk_types::phoenix::LOBBY_TOPIC, url = %wk_types::redact::Url(&self.url));
        self.run_inner().instrument(span).await;
    }

    async fn run_inner(mut self) {
        let mut attempt: u32 = 0;
        while !self.closed {
            attempt += 1;
            self.set_state(ConnectionState::Connecting { attempt });
            // Boxed: the handshake's state is large and only needed while connecting, so it must
            // not stay in this task's future for the life of the connection.
            match Box::pin(super::connect::connect(&self.url, &self.config)).await {
                Ok(ws) => {
                    attempt = 0;
                    Shared::bump(&self.shared.connections);
                    self.reconnect.connected(Instant::now().into_std());
                    if let Ended::Shutdown = self.connection(ws).await {
                        break;
                    }
                    self.reconnect.disconnected(Instant::now().into_std());
                }
                Err(e) => {
                    if let Some(ready) = self.ready.take() {
                        let _ = ready.send(Err(e));
                        return;
                    }
                    tracing::warn!(error = %e, "connection attempt failed");
                }
            }
            if self.closed {
                break;
            }
            let delay = self.reconnect.next_delay();
            tracing::info!(?delay, attempt, "reconnecting");
            self.set_state(ConnectionState::Reconnecting { attempt, delay });
            self.idle(Instant::now() + delay).await;
        }
        self.set_state(ConnectionState::Closed);
        self.fail_everything(&Error::Closed);
    }

    /// Serves commands while disconnected, until `until`.
    async fn idle(&mut self, until: Instant) {
        loop {
            let deadline = self.call_deadline().map_or(until, |d| d.min(until));
            tokio::select! {
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => {
                        self.closed = true;
                        return;
                    }
                },
                () = tokio::time::sleep_until(deadline) => {
                    self.expire_calls(Instant::now());
                    if Instant::now() >= until {
                        return;
                    }
                }
            }
        }
    }

    async fn connection(&mut self, ws: super::connect::Socket) -> Ended {
        let (mut sink, mut stream) = ws.split();
        self.machine.connected(Instant::now());
        self.repeats.clear();
        self.dead = false;
        self.set_state(ConnectionState::Connected);
        self.send_join();
        let far = Instant::now() + Duration::from_secs(86_400 * 365);
        let sleep = tokio::time::sleep_until(far);
        tokio::pin!(sleep);
        let ended = loop {
            if self.flush(&mut sink).await.is_err() || self.dead {
                break Ended::Lost;
            }
            let deadline = [
                self.machine.poll_timeout(),
                self.call_deadline(),
                self.rejoin_at,
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(far);
            if sleep.deadline() != deadline {
                sleep.as_mut().reset(deadline);
            }
            tokio::select! {
                msg = stream.next() => {
                    if let Some(ended) = self.on_message(msg) {
                        break ended;
                    }
                    crate::queue::pace(std::mem::take(&mut self.give_way)).await;
                }
                cmd = self.commands.recv() => match cmd {
                    Some(cmd) => self.on_command(cmd),
                    None => {
                        self.closed = true;
                        let _ = sink.send(Message::Close(None)).await;
                        break Ended::Shutdown;
                    }
                },
                Some(kills) = self.recovered_rx.recv() => self.on_recovered(kills),
                () = &mut sleep => {
                    // The timer may fire late (a busy runtime) and `select!` may pick it over a
                    // socket that is already readable: read what has arrived first, so a heartbeat
                    // or join reply sitting in the buffer is not taken for a missing one.
                    if let Some(ended) = self.read_ready(&mut stream) {
                        break ended;
                    }
                    let now = Instant::now();
                    self.machine.handle_timeout(now);
                    self.expire_calls(now);
                    if self.rejoin_at.is_some_and(|at| now >= at) {
                        self.rejoin_at = None;
                        self.send_join();
                    }
                }
            }
        };
        if let Ended::Lost = ended {
            self.lose_join();
        }
        self.machine.disconnected();
        while let Some(output) = self.machine.poll_output() {
            self.on_output(output);
        }
        self.rejoin_at = None;
        ended
    }

    /// Handles one item read from the socket; `Some` when the connection is over.
    fn on_message(
        &mut self,
        msg: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
    ) -> Option<Ended> {
        match msg {
            Some(Ok(Message::Text(text))) => self.on_text(text.as_str()),
            Some(Ok(Message::Close(frame))) => {
                tracing::info!(?frame, "server closed the connection");
                return Some(Ended::Lost);
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                tracing::info!(error = %e, "connection lost");
                return Some(Ended::Lost);
            }
            None => return Some(Ended::Lost),
        }
        None
    }

    /// Handles the frames that can be read without waiting (at most [`READY_FRAMES`]); `Some`
    /// when the connection is over.
    fn read_ready<S>(&mut self, stream: &mut S) -> Option<Ended>
    where
        S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
            + Unpin,
    {
        for _ in 0..READY_FRAMES {
            let msg = stream.next().now_or_never()?;
            if let Some(ended) = self.on_message(msg) {
                return Some(ended);
            }
        }
        None
    }

    async fn flush<S>(&mut self, sink: &mut S) -> Result<(), ()>
    where
        S: futures_util::Sink<Message> + Unpin,
    {
        let mut wrote = false;
        loop {
            self.pump();
            let mut progressed = false;
            while let Some(output) = self.machine.poll_output() {
                progressed = true;
                match output {
                    Output::Send(frame) => {
                        tracing::trace!(%frame, "send");
                        sink.feed(Message::Text(frame.into()))
                            .await
                            .map_err(|_| ())?;
                        wrote = true;
                    }
                    other => self.on_output(other),
                }
            }
            if !progressed {
                break;
            }
        }
        if wrote {
            sink.flush().await.map_err(|_| ())?;
        }
        Ok(())
    }

    fn set_state(&self, state: ConnectionState) {
        self.state.send_replace(state);
    }

    fn send_join(&mut self) {
        let params = self.interest.join_params();
        let payload = serde_json::to_string(&params).expect("join params serialize");
        self.machine.join(&payload, Instant::now());
        self.join_params = Some(params);
        Shared::bump(&self.shared.joins);
    }

    /// The current join is gone (crash, close, or the connection): nothing is acknowledged any more.
    fn lose_join(&mut self) {
        if self.was_joined && self.config.gap_recovery {
            self.needs_recovery = true;
            if self.lost_at.is_none() {
                self.lost_at = Some(Timestamp::now());
            }
        }
        self.acked = Acked::default();
        if let Some(flight) = self.in_flight.take() {
            self.requeue_or_fail(flight.op, flight.done, Error::ChannelLost);
        }
        if self.closed {
            return;
        }
        self.set_state(ConnectionState::Connected);
    }

    /// An explicit op cut off by a lost join fails (its caller decides); a reconcile op is redone
    /// from the interest after the rejoin, so it is simply dropped.
    fn requeue_or_fail(
        &mut self,
        _op: Op,
        done: Option<oneshot::Sender<Result<OpReply>>>,
        error: Error,
    ) {
        if let Some(done) = done {
            let _ = done.send(Err(error));
        }
    }

    fn on_output(&mut self, output: Output) {
        match output {
            Output::Send(_) => unreachable!("sends are written by flush"),
            Output::Joined { response, .. } => {
                match wk_types::decode::from_str::<wk_types::phoenix::JoinReply>(response.get()) {
                    Ok(reply) => {
                        *self
                            .shared
                            .join_reply
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(reply);
                    }
                    Err(e) => tracing::warn!(error = %e, "join reply did not decode"),
                }
                self.acked = self
                    .join_params
                    .as_ref()
                    .map(Acked::from_join)
                    .unwrap_or_default();
                self.was_joined = true;
                self.rejoin.reset();
                self.set_state(ConnectionState::Joined);
                tracing::debug!(
                    systems = self.acked.systems.len(),
                    characters = self.acked.characters.len(),
                    "joined"
                );
                if let Some(ready) = self.ready.take() {
                    let _ = ready.send(Ok(()));
                }
                if std::mem::take(&mut self.needs_recovery) {
                    self.start_recovery();
                }
                self.resolve_waiters();
            }
            Output::JoinRejected { reason, .. } => {
                tracing::warn!(%reason, "join refused");
                let error = Error::Rejected(reason);
                if let Some(ready) = self.ready.take() {
                    let _ = ready.send(Err(error.clone()));
                }
                for w in std::mem::take(&mut self.waiters) {
                    let _ = w.done.send(Err(error.clone()));
                }
                self.schedule_rejoin();
            }
            Output::JoinFailed { why, .. } => {
                if why != NoReply::Disconnected {
                    tracing::warn!(?why, "join got no reply");
                    self.schedule_rejoin();
                }
            }
            Output::ChannelClosed { crashed, .. } => {
                tracing::info!(
                    crashed,
                    "channel lost; rejoining with the current subscriptions"
                );
                self.lose_join();
                self.schedule_rejoin();
            }
            Output::Reply {
                push_ref,
                status,
                response,
            } => self.on_reply(push_ref, &status, response.get()),
            Output::NoReply { push_ref, why } => {
                if let Some(flight) = self.in_flight.take_if(|f| f.push_ref == push_ref) {
                    let error = match why {
                        NoReply::Timeout => Error::Timeout,
                        _ => Error::ChannelLost,
                    };
                    self.requeue_or_fail(flight.op, flight.done, error);
                    if why == NoReply::Timeout {
                        self.rejoin_after_silence();
                    }
                }
            }
            Output::Push { event, payload } => self.on_push(&event, payload.get()),
            Output::Dead => {
                tracing::info!("heartbeat unanswered; replacing the connection");
                self.dead = true;
            }
        }
    }

    /// A push on the joined channel got no reply at all. Phoenix 1.8 answers a push whose join_ref
    /// is not the channel's current one with silence (PROTOCOL.md §18.2), so the server's channel
    /// and ours no longer agree, and nothing said on it can be trusted: join again, replacing the
    /// old join, with the full subscription set (the caller already has its `Timeout`). The
    /// replaced join counts as lost, so gap recovery fetches what it may have missed. At most one
    /// such rejoin per reply timeout, as only one push is in flight at a time.
    fn rejoin_after_silence(&mut self) {
        if self.closed || !self.machine.is_joined() {
            return;
        }
        tracing::warn!(
            timeout = ?self.config.machine.reply_timeout,
            "a push got no reply; rejoining with the current subscriptions"
        );
        self.lose_join();
        self.send_join();
    }

    fn schedule_rejoin(&mut self) {
        if !self.closed {
            self.rejoin_at = Some(Instant::now() + self.rejoin.next_delay());
        }
    }

    fn on_reply(&mut self, push_ref: PushRef, status: &ReplyStatus, response: &str) {
        let Some(flight) = self.in_flight.take_if(|f| f.push_ref == push_ref) else {
            return;
        };
        if *status != ReplyStatus::Ok {
            let reason = serde_json::from_str::<ErrorReply>(response)
                .map(|e| e.parsed())
                .unwrap_or_else(|_| {
                    wk_types::phoenix::ChannelErrorReason::Other(response.to_owned())
                });
            if let Some(done) = flight.done {
                let _ = done.send(Err(Error::Rejected(reason)));
            }
            return;
        }
        let decoded = match &flight.op {
            Op::Systems { subscribe, ids } => wk_types::decode::from_str::<SystemsReply>(response)
                .map(|r| {
                    self.acked.apply_systems(*subscribe, ids, &r);
                    OpReply::Systems(r)
                }),
            Op::Characters { subscribe, ids } => {
                wk_types::decode::from_str::<CharactersReply>(response).map(|r| {
                    self.acked.apply_characters(*subscribe, ids, &r);
                    OpReply::Characters(r)
                })
            }
            Op::Status => wk_types::decode::from_str::<StatusReply>(response).map(OpReply::Status),
        };
        if let Some(done) = flight.done {
            let _ = done.send(decoded.map_err(Error::Decode));
        }
        self.resolve_waiters();
    }

    /// Sends the next explicit op, or the next reconcile step, when joined and idle.
    fn pump(&mut self) {
        if self.in_flight.is_some() || !self.machine.is_joined() {
            return;
        }
        while let Some(p) = self.queue.pop_front() {
            if p.done.as_ref().is_some_and(oneshot::Sender::is_closed) {
                continue;
            }
            self.send_op(p.op, p.done);
            return;
        }
        match next_step(&self.interest, &self.acked) {
            Step::Idle => {}
            Step::Rejoin => self.send_join(),
            Step::Systems { subscribe, ids } => self.send_op(Op::Systems { subscribe, ids }, None),
            Step::Characters { subscribe, ids } => {
                self.send_op(Op::Characters { subscribe, ids }, None)
            }
        }
    }

    fn send_op(&mut self, op: Op, done: Option<oneshot::Sender<Result<OpReply>>>) {
        let (event_name, payload) = match &op {
            Op::Systems { subscribe, ids } => (
                if *subscribe {
                    event::SUBSCRIBE_SYSTEMS
                } else {
                    event::UNSUBSCRIBE_SYSTEMS
                },
                serde_json::to_string(&SystemsPayload::new(ids.clone())),
            ),
            Op::Characters { subscribe, ids } => (
                if *subscribe {
                    event::SUBSCRIBE_CHARACTERS
                } else {
                    event::UNSUBSCRIBE_CHARACTERS
                },
                serde_json::to_string(&CharactersPayload::new(ids.clone())),
            ),
            Op::Status => (event::GET_STATUS, Ok("{}".to_owned())),
        };
        let payload = payload.expect("payloads serialize");
        match self.machine.push(event_name, &payload, Instant::now()) {
            Ok(push_ref) => self.in_flight = Some(InFlight { push_ref, op, done }),
            Err(_) => self.queue.push_front(Pending {
                op,
                done,
                deadline: None,
            }),
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
                self.interest.add(&filter);
                self.subs.insert(
                    id,
                    SubEntry {
                        filter: *filter,
                        events,
                        lagged,
                    },
                );
                let deadline = self.call_wait_deadline();
                if !self.machine.is_joined() && deadline.is_none() {
                    self.drop_sub(id);
                    let _ = done.send(Err(Error::NotConnected));
                    return;
                }
                self.waiters.push(AckWaiter { id, done, deadline });
                self.resolve_waiters();
            }
            Command::Drop { id } => self.drop_sub(id),
            Command::Op { id, op, done } => self.on_op(id, op, done),
        }
    }

    fn drop_sub(&mut self, id: SubId) {
        if let Some(entry) = self.subs.remove(&id) {
            self.interest.remove(&entry.filter);
        }
    }

    fn on_op(&mut self, id: SubId, op: Op, done: oneshot::Sender<Result<OpReply>>) {
        let deadline = self.call_wait_deadline();
        if !self.machine.is_joined() && deadline.is_none() {
            let _ = done.send(Err(Error::NotConnected));
            return;
        }
        let op = match op {
            Op::Systems {
                subscribe: true,
                ids,
            } => {
                self.update_filter(id, |f, i| {
                    i.remove(f);
                    f.add_systems(&ids);
                    i.add(f);
                });
                Op::Systems {
                    subscribe: true,
                    ids,
                }
            }
            Op::Characters {
                subscribe: true,
                ids,
            } => {
                self.update_filter(id, |f, i| {
                    i.remove(f);
                    f.add_characters(&ids);
                    i.add(f);
                });
                Op::Characters {
                    subscribe: true,
                    ids,
                }
            }
            Op::Systems {
                subscribe: false,
                ids,
            } => {
                self.update_filter(id, |f, i| {
                    i.remove(f);
                    f.remove_systems(&ids);
                    i.add(f);
                });
                // Only ids no other local subscription still wants leave the server.
                let ids: Vec<SystemId> = ids
                    .into_iter()
                    .filter(|s| !self.interest.has_system(*s))
                    .collect();
                if ids.is_empty() {
                    let now = SystemsReply::Updated {
                        subscribed_systems: self.acked.systems.iter().copied().collect(),
                    };
                    let _ = done.send(Ok(OpReply::Systems(now)));
                    return;
                }
                Op::Systems {
                    subscribe: false,
                    ids,
                }
            }
            Op::Characters {
                subscribe: false,
                ids,
            } => {
                self.update_filter(id, |f, i| {
                    i.remove(f);
                    f.remove_characters(&ids);
                    i.add(f);
                });
                let ids: Vec<CharacterId> = ids
                    .into_iter()
                    .filter(|c| !self.interest.has_character(*c))
                    .collect();
                if ids.is_empty() {
                    let now = CharactersReply::Updated {
                        subscribed_characters: self.acked.characters.iter().copied().collect(),
                    };
                    let _ = done.send(Ok(OpReply::Characters(now)));
                    return;
                }
                Op::Characters {
                    subscribe: false,
                    ids,
                }
            }
            Op::Status => Op::Status,
        };
        self.queue.push_back(Pending {
            op,
            done: Some(done),
            deadline,
        });
    }

    fn update_filter(&mut self, id: SubId, f: impl FnOnce(&mut Filter, &mut Interest)) {
        if let Some(entry) = self.subs.get_mut(&id) {
            f(&mut entry.filter, &mut self.interest);
        }
    }

    fn call_wait_deadline(&self) -> Option<Instant> {
        self.config.call_wait.map(|wait| Instant::now() + wait)
    }

    fn call_deadline(&self) -> Option<Instant> {
        let queued = self.queue.iter().filter_map(|p| p.deadline);
        let waiting = self.waiters.iter().filter_map(|w| w.deadline);
        queued.chain(waiting).min()
    }

    fn expire_calls(&mut self, now: Instant) {
        let joined = self.machine.is_joined();
        let mut keep = VecDeque::with_capacity(self.queue.len());
        for p in self.queue.drain(..) {
            match p.deadline {
                Some(d) if now >= d && !joined => {
                    if let Some(done) = p.done {
                        let _ = done.send(Err(Error::NotConnected));
                    }
                }
                _ => keep.push_back(p),
            }
        }
        self.queue = keep;
        let (expired, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiters)
            .into_iter()
            .partition(|w| w.deadline.is_some_and(|d| now >= d));
        self.waiters = waiting;
        for w in expired {
            self.drop_sub(w.id);
            let error = if joined {
                Error::Timeout
            } else {
                Error::NotConnected
            };
            let _ = w.done.send(Err(error));
        }
    }

    fn resolve_waiters(&mut self) {
        if !self.machine.is_joined() {
            return;
        }
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.waiters)
            .into_iter()
            .partition(|w| {
                self.subs
                    .get(&w.id)
                    .is_none_or(|s| self.acked.covers(&s.filter))
            });
        self.waiters = waiting;
        for w in ready {
            let _ = w.done.send(Ok(()));
        }
    }

    fn fail_everything(&mut self, error: &Error) {
        for w in std::mem::take(&mut self.waiters) {
            let _ = w.done.send(Err(error.clone()));
        }
        for p in std::mem::take(&mut self.queue) {
            if let Some(done) = p.done {
                let _ = done.send(Err(error.clone()));
            }
        }
        if let Some(flight) = self.in_flight.take()
            && let Some(done) = flight.done
        {
            let _ = done.send(Err(error.clone()));
        }
        if let Some(ready) = self.ready.take() {
            let _ = ready.send(Err(error.clone()));
        }
    }

    fn on_text(&mut self, text: &str) {
        Shared::bump(&self.shared.frames);
        // The server's copies of a push are dropped before the costly decode (see `repeat`).
        let fingerprint = Fingerprint::of_killmail_update(text);
        if let Some(kills) = fingerprint.and_then(|f| self.repeats.seen(f)) {
            Shared::bump(&self.shared.repeats);
            Shared::add(&self.shared.duplicates, kills);
            return;
        }
        let stale = self.machine.stale_dropped();
        // `killmail_update` payloads are decoded in the same pass as the frame.
        let handled = self.machine.handle_text_fast(
            text,
            event::KILLMAIL_UPDATE,
            wk_types::phoenix::FrameRef::killmail_update,
        );
        if self.machine.stale_dropped() > stale {
            Shared::bump(&self.shared.stale_frames);
        }
        match handled {
            // A push borrowed from `text`, handled where its `Output::Push` would have been.
            Ok(Some(push)) => match push.payload {
                Payload::Typed(update) => {
                    if let Some(f) = fingerprint {
                        self.repeats.remember(f, update.killmails.len());
                    }
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

    fn on_killmail_update(&mut self, update: KillmailUpdate) {
        let origin = if update.preload {
            Origin::Preload
        } else {
            Origin::Live
        };
        for km in update.killmails {
            self.deliver_kill(km, Some(update.system_id), origin);
        }
    }

    fn on_push(&mut self, event_name: &str, payload: &str) {
        match event_name {
            event::KILLMAIL_UPDATE => match wk_types::decode::killmail_update(payload) {
                Ok(update) => self.on_killmail_update(update),
                Err(e) => self.broadcast_error(&Error::Decode(e)),
            },
            event::NEW_KILL => match wk_types::decode::killmail(payload) {
                Ok(km) => self.deliver_kill(km, None, Origin::Live),
                Err(e) => self.broadcast_error(&Error::Decode(e)),
            },
            event::KILL_COUNT_UPDATE => {
                match wk_types::decode::from_str::<KillCountUpdate>(payload) {
                    Ok(update) => {
                        let system = update.system_id;
                        self.route(|f| f.wants_system(system), &KillEvent::KillCount(update));
                    }
                    Err(e) => self.broadcast_error(&Error::Decode(e)),
                }
            }
            event::PRELOAD_BATCH => match wk_types::decode::from_str::<PreloadBatch>(payload) {
                Ok(batch) => {
                    for km in batch.kills {
                        self.deliver_kill(km, None, Origin::Preload);
                    }
                }
                Err(e) => self.broadcast_error(&Error::Decode(e)),
            },
            event::PRELOAD_COMPLETE => match wk_types::decode::from_str::<PreloadComplete>(payload)
            {
                Ok(done) => self.route(
                    |_| true,
                    &KillEvent::Progress(Progress::Complete {
                        total: done.total_kills,
                    }),
                ),
                Err(e) => self.broadcast_error(&Error::Decode(e)),
            },
            other => {
                let payload = serde_json::from_str(payload).unwrap_or(serde_json::Value::Null);
                let event = KillEvent::Other {
                    event: other.to_owned(),
                    payload,
                };
                self.route(|_| true, &event);
            }
        }
    }

    fn on_recovered(&mut self, kills: Vec<Killmail>) {
        let count = kills.len();
        for km in kills {
            self.deliver_kill(km, None, Origin::Recovered);
        }
        tracing::debug!(count, "gap recovery fetched kills");
    }

    fn deliver_kill(&mut self, km: Killmail, system: Option<SystemId>, origin: Origin) {
        if !self.dedup.insert(km.killmail_id) {
            Shared::bump(&self.shared.duplicates);
            return;
        }
        Shared::bump(&self.shared.kills);
        if origin == Origin::Recovered {
            Shared::bump(&self.shared.recovered);
        }
        if origin == Origin::Live
            && let Some(t) = km.kill_time
        {
            self.last_live = Some(self.last_live.map_or(t, |l| l.max(t)));
        }
        let km = Arc::new(km);
        let event = KillEvent::Kill(Kill::new(km.clone(), origin));
        self.route(|f| f.matches(&km, system), &event);
    }

    fn route(&mut self, wants: impl Fn(&Filter) -> bool, event: &KillEvent) {
        for entry in self.subs.values_mut() {
            if !wants(&entry.filter) {
                continue;
            }
            if !offer(entry, Ok(event.clone())) {
                Shared::bump(&self.shared.lagged);
            }
            self.give_way |= crate::queue::filling(&entry.events);
        }
    }

    fn broadcast_error(&mut self, error: &Error) {
        tracing::warn!(%error, "push did not decode");
        for entry in self.subs.values_mut() {
            let _ = offer(entry, Err(error.clone()));
        }
    }

    fn start_recovery(&mut self) {
        let Some(http) = self.config.http.clone() else {
            return;
        };
        let systems: Vec<SystemId> = self.interest.systems().collect();
        let anchor = match (self.last_live, self.lost_at.take()) {
            (Some(seen), _) => seen,
            (None, Some(lost)) => lost,
            (None, None) => return,
        };
        let cutoff = crate::recovery::cutoff(anchor, self.config.recovery_margin);
        crate::recovery::spawn(http, systems, cutoff, self.recovered_tx.clone());
    }
}

/// Offers an event to a subscription's bounded queue without ever waiting: a full queue counts as
/// lag. The count is reported in order, before the next event that fits, or by the stream itself
/// once the consumer has drained its queue.
fn offer(entry: &mut SubEntry, item: Result<KillEvent>) -> bool {
    crate::queue::offer(&entry.events, &entry.lagged, item) == crate::queue::Offered::Sent
}

impl From<tokio_tungstenite::tungstenite::Error> for Error {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        Self::Connect(ConnectError::new(e))
    }
}
