//! The IO-free session core of the WebSocket client: everything between the socket and the
//! subscriptions that is not decoding or routing kills.
//!
//! It owns the protocol [`Machine`], the connection's life (when to dial, attempt numbering,
//! reconnect and rejoin backoff), the union of the local subscriptions' ids against what the server
//! acknowledged, the calls of the handles (queued, in flight, waiting for an acknowledgement, each
//! with its deadline), and when to recover a gap. Time comes in as a plain [`Instant`]; frames
//! come in as text; out come frames to write ([`Session::poll_transmit`]), [`Event`]s, and the next
//! deadline ([`Session::poll_timeout`]). The driver only reads, writes and sleeps.
//!
//! Rules it keeps, each from the real server (PROTOCOL.md §7, §13, §18):
//!
//! - a socket joins `killmails:lobby` only once something needs the channel, and every join
//!   carries the full current set, so nothing redundant follows it;
//! - one call in flight at a time, each with a reply timeout; a push answered by silence (what
//!   Phoenix 1.8 does with a stale join_ref) rejoins with the full set;
//! - a lost channel (`phx_error`, `phx_close`, a join without a reply) rejoins after the same
//!   jittered backoff as a lost connection, reset only once the channel stayed joined for the
//!   stable period, so a server that crashes every join sees a few joins a minute, not a storm;
//! - a connection or channel lost while joined is recovered once it is back, at most once per
//!   recovery interval;
//! - the backoff resets when a connection (or channel) has stayed up for `stable_after`; a
//!   shorter one counts as a failed attempt, and attempts are numbered from 1 since that reset.
//!
//! The handles' calls are in `calls.rs`, the id bookkeeping in `interest.rs`. What stays here
//! (about 650 lines) is one state machine, the socket's and the join's life, kept together
//! because every transition touches both.

mod calls;
mod interest;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::value::RawValue;
use wk_retry::{BackoffConfig, ReconnectBackoff};
use wk_types::phoenix::{CharactersReply, JoinParams, JoinReply, StatusReply, SystemsReply, event};
use wk_types::{CharacterId, SystemId};

pub(crate) use interest::CHUNK;
use interest::{Acked, Interest};

use super::machine::{BorrowedPush, Machine, MachineConfig, NoReply, Output, PushRef};
use super::stats::Shared;
use crate::error::{AfterFailure, Error, MAX_SERVER_DELAY, Result, after_failure};
use crate::filter::Filter;

/// Where the connection stands.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionState {
    /// Opening the socket: attempt `attempt` since the backoff last reset (1 for the first).
    Connecting {
        /// 1 for the first try.
        attempt: u32,
    },
    /// The socket is open; the channel is not joined (joining, or nothing needs it yet).
    Connected,
    /// The channel is joined; kills flow.
    Joined,
    /// The socket was lost or an attempt failed: waiting before attempt `attempt`.
    Reconnecting {
        /// The attempt it waits for, numbered as in `Connecting`: 1 after a stable connection
        /// was lost, one more after each failed attempt or short-lived connection.
        attempt: u32,
        /// How long until the next one.
        delay: Duration,
    },
    /// The channel was lost (a crash, a close, a join without a reply) while the socket stays
    /// open: waiting before rejoin `attempt`.
    Rejoining {
        /// Rejoins since the channel was last stable.
        attempt: u32,
        /// How long until the rejoin.
        delay: Duration,
    },
    /// The client was shut down.
    Closed,
}

/// A channel call of a handle.
#[derive(Clone, Debug, PartialEq, Eq)]
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

/// The answer to an [`Op`].
#[derive(Debug)]
pub(crate) enum OpReply {
    Systems(SystemsReply),
    Characters(CharactersReply),
    Status(StatusReply),
}

/// What a finished call answers.
#[derive(Debug)]
pub(crate) enum Answer {
    /// The server acknowledged every id of a subscription.
    Subscribed,
    /// The reply to an explicit call.
    Op(OpReply),
}

/// Whoever waits on a call: the driver's reply channel, or a number in tests.
pub(crate) trait Token {
    /// Whether nobody waits any more (an explicit call that is still queued is then skipped).
    fn cancelled(&self) -> bool;
}

/// What the session tells the driver, in order.
#[derive(Debug)]
pub(crate) enum Event<T> {
    /// A call is done.
    Done { token: T, result: Result<Answer> },
    /// The answer to `connect()`: the first connection opened, or the first attempt failed (the
    /// session is then closed).
    Ready(Result<()>),
    /// The connection state changed.
    State(ConnectionState),
    /// A join succeeded, with the server's reply when it decoded.
    Joined(Option<JoinReply>),
    /// A push on the current join that was not handed back borrowed.
    Push {
        event: String,
        payload: Box<RawValue>,
    },
    /// The session ended on `Error`, a refusal no retry can fix: every subscription gets it as
    /// its last item.
    Ended(Error),
    /// Fetch what the server holds for `systems` since the channel was lost at `lost_at`.
    Recover {
        systems: Vec<SystemId>,
        lost_at: Instant,
    },
}

/// The settings the session keeps.
#[derive(Clone, Debug)]
pub(crate) struct SessionConfig {
    pub(crate) machine: MachineConfig,
    /// Reconnects and rejoins alike.
    pub(crate) backoff: BackoffConfig,
    pub(crate) stable_after: Duration,
    /// How long a call waits for a connection or an acknowledgement; `None` fails fast.
    pub(crate) call_wait: Option<Duration>,
    pub(crate) gap_recovery: bool,
    /// At most one gap recovery per this interval.
    pub(crate) recovery_interval: Duration,
    /// `None`: a refusal no retry can fix ends the session; else the least delay before a retry.
    pub(crate) retry_refused: Option<Duration>,
}

/// The socket's side of the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// No socket; the next attempt is due at `dial_at`.
    Down { dial_at: Instant },
    /// An attempt is under way.
    Dialing,
    /// The socket is open.
    Up,
    /// Shut down.
    Closed,
}

/// An explicit call waiting for its turn.
struct Pending<T> {
    op: Op,
    token: T,
    /// When it fails if the channel is still not joined by then.
    deadline: Option<Instant>,
    /// The join count when it was queued: a join sent later carried its ids already.
    joins: u64,
}

struct InFlight<T> {
    push_ref: PushRef,
    op: Op,
    /// `None` for a reconcile push.
    token: Option<T>,
}

/// A subscription waiting for the server to acknowledge its ids.
struct Waiter<T> {
    token: T,
    filter: Filter,
    deadline: Option<Instant>,
}

/// See the module docs.
pub(crate) struct Session<T> {
    config: SessionConfig,
    machine: Machine,
    stats: Arc<Shared>,
    link: Link,
    reconnect: ReconnectBackoff,
    /// Connection attempts since the last stable connection, the one being made included.
    tries: u32,
    /// When the open socket opened.
    up_since: Option<Instant>,
    rejoin: ReconnectBackoff,
    /// A rejoin waits for this moment.
    join_at: Option<Instant>,
    interest: Interest,
    acked: Acked,
    /// The params of the join in flight or joined.
    join_params: Option<JoinParams>,
    joins: u64,
    queue: VecDeque<Pending<T>>,
    in_flight: Option<InFlight<T>>,
    waiters: Vec<Waiter<T>>,
    ready: bool,
    was_joined: bool,
    /// When the channel was lost, if that gap is still to be recovered.
    lost_at: Option<Instant>,
    recover_at: Option<Instant>,
    last_recovery: Option<Instant>,
    dead: bool,
    transmit: VecDeque<String>,
    events: VecDeque<Event<T>>,
}

impl<T> std::fmt::Debug for Session<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("link", &self.link)
            .field("joined", &self.machine.is_joined())
            .field("queued", &self.queue.len())
            .field("waiters", &self.waiters.len())
            .finish_non_exhaustive()
    }
}

impl<T: Token> Session<T> {
    /// A session that dials at once.
    pub(crate) fn new(config: SessionConfig, stats: Arc<Shared>, now: Instant) -> Self {
        let backoff = || ReconnectBackoff::new(config.backoff.clone(), config.stable_after);
        Self {
            machine: Machine::new(wk_types::phoenix::LOBBY_TOPIC, config.machine.clone()),
            reconnect: backoff(),
            tries: 0,
            up_since: None,
            rejoin: backoff(),
            config,
            stats,
            link: Link::Down { dial_at: now },
            join_at: None,
            interest: Interest::default(),
            acked: Acked::default(),
            join_params: None,
            joins: 0,
            queue: VecDeque::new(),
            in_flight: None,
            waiters: Vec::new(),
            ready: false,
            was_joined: false,
            lost_at: None,
            recover_at: None,
            last_recovery: None,
            dead: false,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    // ---- The socket ----

    /// When the next connection attempt is due, while there is no socket.
    pub(crate) fn dial_at(&self) -> Option<Instant> {
        match self.link {
            Link::Down { dial_at } => Some(dial_at),
            _ => None,
        }
    }

    /// An attempt starts.
    pub(crate) fn dialing(&mut self) {
        self.link = Link::Dialing;
        self.tries += 1;
        let attempt = self.tries;
        self.state(ConnectionState::Connecting { attempt });
    }

    /// The attempt failed with `error`. The first attempt's failure is `connect()`'s answer and
    /// ends the session; so does, later, a refusal no retry can fix (unless `retry_refused` is
    /// set), which every subscription gets as its last item. A server's `Retry-After` is a floor
    /// on the delay.
    pub(crate) fn dial_failed(&mut self, error: Error, now: Instant) {
        if !self.ready {
            self.ready = true;
            self.events.push_back(Event::Ready(Err(error)));
            self.shutdown();
            return;
        }
        match after_failure(
            &error,
            self.tries,
            self.config.retry_refused,
            MAX_SERVER_DELAY,
        ) {
            AfterFailure::Retry { floor } => {
                let delay = self.reconnect.next_delay_at_least(floor);
                self.wait_to_dial(delay, now);
            }
            AfterFailure::End => {
                self.link = Link::Closed;
                self.fail_everything(&error);
                self.events.push_back(Event::Ended(error));
                self.state(ConnectionState::Closed);
            }
        }
    }

    /// The socket is open.
    pub(crate) fn opened(&mut self, now: Instant) {
        self.link = Link::Up;
        self.dead = false;
        Shared::bump(&self.stats.connections);
        self.reconnect.connected(now);
        self.up_since = Some(now);
        self.machine.connected(now);
        self.state(ConnectionState::Connected);
        if !self.ready {
            self.ready = true;
            self.events.push_back(Event::Ready(Ok(())));
        }
        self.join_at = Some(now);
        self.step(now);
    }

    /// The socket is gone (closed by the server, broken, or replaced after a dead heartbeat).
    pub(crate) fn lost(&mut self, now: Instant) {
        if self.link != Link::Up {
            return;
        }
        tracing::info!("connection lost");
        self.reconnect.disconnected(now);
        if self
            .up_since
            .take()
            .is_some_and(|up| now.saturating_duration_since(up) >= self.config.stable_after)
        {
            // It had been stable: the backoff starts over (`ReconnectBackoff`), and so does the count.
            self.tries = 0;
        }
        self.lose_join(now);
        self.machine.disconnected();
        self.drain(now);
        self.join_at = None;
        let delay = self.reconnect.next_delay();
        self.wait_to_dial(delay, now);
    }

    fn wait_to_dial(&mut self, delay: Duration, now: Instant) {
        self.link = Link::Down {
            dial_at: now + delay,
        };
        let attempt = self.tries + 1;
        tracing::info!(attempt, ?delay, "reconnecting");
        self.state(ConnectionState::Reconnecting { attempt, delay });
    }

    /// Every handle is gone, or the first attempt failed: every call fails with `Closed`.
    pub(crate) fn shutdown(&mut self) {
        if self.link == Link::Closed {
            return;
        }
        self.link = Link::Closed;
        self.fail_everything(&Error::Closed);
        self.state(ConnectionState::Closed);
    }

    /// Whether the session is over.
    pub(crate) fn is_closed(&self) -> bool {
        self.link == Link::Closed
    }

    /// Whether the connection went silent (a heartbeat unanswered) and must be replaced.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead
    }

    // ---- Calls: see `calls.rs` ----

    // ---- Input ----

    /// Handles one text frame. A `killmail_update` push on the current join is handed back
    /// borrowed from `text` with its payload decoded (see [`Machine::handle_text_fast`]); every
    /// other push comes out as [`Event::Push`].
    ///
    /// # Errors
    /// A frame that is not a Phoenix V2 frame; nothing changed.
    pub(crate) fn handle_text<'t>(
        &mut self,
        text: &'t str,
        now: Instant,
    ) -> std::result::Result<
        Option<BorrowedPush<'t, wk_types::phoenix::KillmailUpdate>>,
        wk_types::DecodeError,
    > {
        let stale = self.machine.stale_dropped();
        let handled = self.machine.handle_text_fast(
            text,
            event::KILLMAIL_UPDATE,
            wk_types::phoenix::FrameRef::killmail_update,
        );
        if self.machine.stale_dropped() > stale {
            Shared::bump(&self.stats.stale_frames);
        }
        let push = handled?;
        if push.is_none() {
            self.drain(now);
            self.step(now);
        }
        Ok(push)
    }

    /// The next moment [`Session::handle_timeout`] must run (or the next dial, while down).
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        let up = self.link == Link::Up;
        let joining_or_joined = self.machine.join_ref().is_some();
        let calls = self
            .queue
            .iter()
            .filter_map(|p| p.deadline)
            .chain(self.waiters.iter().filter_map(|w| w.deadline));
        [
            up.then(|| self.machine.poll_timeout()).flatten(),
            self.dial_at(),
            self.join_at
                .filter(|_| up && !joining_or_joined && self.wants_join()),
            self.recover_at,
        ]
        .into_iter()
        .flatten()
        .chain(calls)
        .min()
    }

    /// Time passed: heartbeats, reply timeouts, call deadlines, rejoins and recoveries due.
    pub(crate) fn handle_timeout(&mut self, now: Instant) {
        if self.link == Link::Up {
            self.machine.handle_timeout(now);
            self.drain(now);
        }
        self.expire_calls(now);
        if self.recover_at.is_some_and(|at| now >= at) && self.machine.is_joined() {
            self.recover_at = None;
            self.recover(now);
        }
        self.step(now);
    }

    // ---- Output ----

    /// The next frame to write.
    pub(crate) fn poll_transmit(&mut self) -> Option<String> {
        self.transmit.pop_front()
    }

    /// Whether frames wait to be written.
    pub(crate) fn has_transmit(&self) -> bool {
        !self.transmit.is_empty()
    }

    /// The next event.
    pub(crate) fn poll_event(&mut self) -> Option<Event<T>> {
        self.events.pop_front()
    }

    /// The systems the local subscriptions want.
    pub(crate) fn systems(&self) -> Vec<SystemId> {
        self.interest.systems().collect()
    }

    // ---- Internals ----

    fn state(&mut self, state: ConnectionState) {
        self.events.push_back(Event::State(state));
    }

    fn done(&mut self, token: T, result: Result<Answer>) {
        self.events.push_back(Event::Done { token, result });
    }

    fn wants_join(&self) -> bool {
        !self.interest.is_empty() || !self.queue.is_empty() || !self.waiters.is_empty()
    }

    /// Sends what is due: the join, then the next explicit call or reconcile push.
    fn step(&mut self, now: Instant) {
        if self.link != Link::Up {
            return;
        }
        if self.machine.join_ref().is_none()
            && self.wants_join()
            && self.join_at.is_some_and(|at| now >= at)
        {
            self.send_join(now);
        }
        self.pump(now);
        self.drain(now);
    }

    fn send_join(&mut self, now: Instant) {
        let params = self.interest.join_params();
        let payload = serde_json::to_string(&params).expect("join params serialize");
        self.machine.join(&payload, now);
        self.join_params = Some(params);
        self.joins += 1;
        self.join_at = None;
        Shared::bump(&self.stats.joins);
    }

    /// Handles what the machine produced.
    fn drain(&mut self, now: Instant) {
        while let Some(output) = self.machine.poll_output() {
            match output {
                Output::Send(frame) => self.transmit.push_back(frame),
                Output::Joined { join_ref, response } => {
                    tracing::debug!(?join_ref, "joined");
                    self.on_joined(&response, now);
                }
                Output::JoinRejected { join_ref, reason } => {
                    tracing::warn!(?join_ref, %reason, "join refused");
                    for w in std::mem::take(&mut self.waiters) {
                        self.fail_waiter(w, Error::Rejected(reason.clone()));
                    }
                    self.channel_lost("the join was refused", now);
                }
                Output::JoinFailed { join_ref, why } => {
                    tracing::debug!(?join_ref, ?why, "the join failed");
                    if why != NoReply::Disconnected {
                        self.channel_lost("the join got no reply", now);
                    }
                }
                Output::ChannelClosed { join_ref, crashed } => {
                    tracing::debug!(?join_ref, crashed, "the channel is gone");
                    self.lose_join(now);
                    let why = if crashed {
                        "the channel crashed"
                    } else {
                        "the server closed the channel"
                    };
                    self.channel_lost(why, now);
                }
                Output::Reply {
                    push_ref,
                    status,
                    response,
                } => self.on_reply(push_ref, &status, response.get()),
                Output::NoReply { push_ref, why } => self.on_no_reply(push_ref, why, now),
                Output::Push { event, payload } => {
                    self.events.push_back(Event::Push { event, payload });
                }
                Output::Dead => {
                    tracing::info!("heartbeat unanswered; replacing the connection");
                    self.dead = true;
                }
            }
        }
    }

    fn on_joined(&mut self, response: &RawValue, now: Instant) {
        let reply = match wk_types::decode::from_str::<JoinReply>(response.get()) {
            Ok(reply) => Some(reply),
            Err(e) => {
                tracing::warn!(error = %e, "join reply did not decode");
                None
            }
        };
        self.acked = self
            .join_params
            .as_ref()
            .map(Acked::from_join)
            .unwrap_or_default();
        self.was_joined = true;
        self.rejoin.connected(now);
        tracing::debug!(
            systems = self.acked.systems.len(),
            characters = self.acked.characters.len(),
            "joined"
        );
        self.events.push_back(Event::Joined(reply));
        self.state(ConnectionState::Joined);
        if self.lost_at.is_some() {
            let due = self
                .last_recovery
                .map(|t| t + self.config.recovery_interval)
                .filter(|due| *due > now);
            match due {
                Some(due) => self.recover_at = Some(due),
                None => self.recover(now),
            }
        }
        self.resolve_waiters();
    }

    /// Asks for the gap since the channel was lost to be recovered.
    fn recover(&mut self, now: Instant) {
        let Some(lost_at) = self.lost_at.take() else {
            return;
        };
        let systems = self.systems();
        if systems.is_empty() {
            return;
        }
        self.last_recovery = Some(now);
        self.events.push_back(Event::Recover { systems, lost_at });
    }

    /// The channel is gone while the socket stays: rejoin after the backoff.
    fn channel_lost(&mut self, why: &str, now: Instant) {
        self.rejoin.disconnected(now);
        let attempt = self.rejoin.attempt() + 1;
        let delay = self.rejoin.next_delay();
        self.join_at = Some(now + delay);
        tracing::warn!(
            attempt,
            ?delay,
            "{why}; rejoining with the current subscriptions"
        );
        self.state(ConnectionState::Rejoining { attempt, delay });
    }

    /// The current join is gone: nothing is acknowledged any more, and the gap is to be recovered.
    fn lose_join(&mut self, now: Instant) {
        if self.was_joined && self.config.gap_recovery {
            self.lost_at.get_or_insert(now);
        }
        self.acked = Acked::default();
        self.recover_at = None;
        if let Some(flight) = self.in_flight.take()
            && let Some(token) = flight.token
        {
            self.done(token, Err(Error::ChannelLost));
        }
    }
}
