//! The user's handle: [`Client`], its [`ClientBuilder`], and [`Subscription`] streams. About 600
//! lines, mostly the builder's documented settings.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::Stream;
use tokio::sync::{mpsc, oneshot, watch};
use wk_retry::BackoffConfig;
use wk_types::phoenix::{CharactersReply, JoinReply, StatusReply, SystemsReply};
use wk_types::{CharacterId, SystemId, validate};

use super::config::Config;
use super::driver::{Command, Driver};
use super::session::{ConnectionState, Op, OpReply};
use super::stats::{Shared, Stats};
use super::url;
use crate::delivery::SubId;
use crate::error::{Error, Result};
use crate::event::KillEvent;
use crate::filter::Filter;

/// A Phoenix Channels client for `killmails:lobby`: one socket, one join, any number of local
/// [`Subscription`]s sharing it. Cheap to clone; the connection ends when every clone and every
/// subscription is dropped.
///
/// ```no_run
/// # async fn run() -> Result<(), wk_realtime::Error> {
/// use futures_util::StreamExt;
/// use wk_realtime::{Filter, KillEvent, ws::Client};
/// use wk_types::SystemId;
///
/// let client = Client::connect("http://127.0.0.1:4004").await?;
/// let mut jita = client.subscribe(Filter::new().systems([SystemId::new(30000142)])).await?;
/// while let Some(event) = jita.next().await {
///     if let KillEvent::Kill(kill) = event? {
///         println!("{} ({:?})", kill.killmail.killmail_id, kill.origin);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    commands: mpsc::UnboundedSender<Command>,
    state: watch::Receiver<ConnectionState>,
    config: Arc<Config>,
    shared: Arc<Shared>,
    next_id: Arc<AtomicU64>,
}

impl Client {
    /// A builder for `url`: the server's base URL (`http://host:4004`), or a Phoenix socket URL
    /// (`ws://host:4004/socket`, to which `/websocket` is appended as Phoenix clients do).
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            client_id: None,
            config: Config::default(),
            #[cfg(feature = "http")]
            http: None,
        }
    }

    /// Connects with the defaults and waits for the first join.
    ///
    /// # Errors
    /// [`Error::Url`] or [`Error::Connect`] when the first attempt fails (later drops reconnect on
    /// their own).
    ///
    /// # Cancel safety
    /// Dropping the future closes the half-open connection.
    pub async fn connect(url: impl Into<String>) -> Result<Self> {
        Self::builder(url).connect().await
    }

    /// Subscribes to `filter`: its ids join the connection's union (validated first, split to fit
    /// the server's frame limit), and matching kills arrive on the returned stream, each once.
    /// Resolves when the server has acknowledged every id.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an id the server would reject (nothing is sent); [`Error::NotConnected`]
    /// or [`Error::Timeout`] when the acknowledgement does not come within the call wait.
    ///
    /// # Cancel safety
    /// Dropping the future drops the subscription.
    pub async fn subscribe(&self, filter: Filter) -> Result<Subscription> {
        filter.validate()?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (events, rx) = mpsc::channel(self.config.queue_capacity);
        let (done, ack) = oneshot::channel();
        let lagged = Arc::new(AtomicU64::new(0));
        let subscription = Subscription {
            id,
            events: rx,
            lagged: lagged.clone(),
            client: self.clone(),
        };
        self.send(Command::Subscribe {
            id,
            filter: Box::new(filter),
            events,
            lagged,
            done,
        })?;
        ack.await.map_err(|_| self.shared.gone())??;
        Ok(subscription)
    }

    /// The server's view of this connection (`get_status`).
    ///
    /// # Errors
    /// As for any call: [`Error::Timeout`], [`Error::ChannelLost`], [`Error::NotConnected`].
    ///
    /// # Cancel safety
    /// Safe to drop; the reply is discarded.
    pub async fn status(&self) -> Result<StatusReply> {
        match self.op(SubId::MAX, Op::Status).await? {
            OpReply::Status(s) => Ok(s),
            _ => Err(Error::Closed),
        }
    }

    /// Watches the connection state.
    #[must_use]
    pub fn state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// The reply to the latest successful join: the server's `subscription_id` for this join and the
    /// lists it accepted.
    #[must_use]
    pub fn join_reply(&self) -> Option<JoinReply> {
        self.shared
            .join_reply
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The connection's counters: frames, kills, duplicates and stale frames dropped, reconnects.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.shared.snapshot()
    }

    fn send(&self, cmd: Command) -> Result<()> {
        self.commands.send(cmd).map_err(|_| self.shared.gone())
    }

    async fn op(&self, id: SubId, op: Op) -> Result<OpReply> {
        let (done, reply) = oneshot::channel();
        self.send(Command::Op { id, op, done })?;
        reply.await.map_err(|_| self.shared.gone())?
    }
}

/// Builds a [`Client`].
#[must_use]
pub struct ClientBuilder {
    url: String,
    client_id: Option<String>,
    config: Config,
    /// Given with `http_client`: recovery's client, and the TLS setup `wss://` shares.
    #[cfg(feature = "http")]
    http: Option<wk_http::Client>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry credentials: shown redacted.
        f.debug_struct("ClientBuilder")
            .field("url", &wk_types::redact::Url(&self.url))
            .field("client_id", &self.client_id)
            .field("config", &self.config)
            .finish()
    }
}

impl ClientBuilder {
    /// The client id the server puts in front of this connection's `user_id` (cosmetic).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Heartbeat interval (default 30 s; the server closes after 60 s of silence).
    pub fn heartbeat_interval(mut self, d: Duration) -> Self {
        self.config.machine.heartbeat_interval = d;
        self
    }

    /// How long a heartbeat may go unanswered before the connection is replaced (default 30 s).
    pub fn heartbeat_timeout(mut self, d: Duration) -> Self {
        self.config.machine.heartbeat_timeout = d;
        self
    }

    /// Reply timeout for joins and pushes (default 10 s).
    pub fn reply_timeout(mut self, d: Duration) -> Self {
        self.config.machine.reply_timeout = d;
        self
    }

    /// The reconnect backoff (default: 1 s base, ×2, 30 s cap, 100 ms floor, full jitter).
    pub fn reconnect_backoff(mut self, backoff: BackoffConfig) -> Self {
        self.config.reconnect = backoff;
        self
    }

    /// How long one connection attempt may take: TCP, TLS and the upgrade (default 10 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.config.connect_timeout = d;
        self
    }

    /// How long a connection must stay up before the backoff resets (default 30 s).
    pub fn stable_after(mut self, d: Duration) -> Self {
        self.config.stable_after = d;
        self
    }

    /// What a refusal that no retry can fix does once the client is running: a `4xx` other than
    /// `408`/`429` on the upgrade, or a rejected TLS certificate. By default (`None`) the
    /// client (every subscription stream) ends with that [`Error::Connect`]; `Some(delay)` keeps retrying, at most once per
    /// `delay`, and logs each refusal at `error` level. The first attempt's failure is always
    /// `connect()`'s answer.
    pub fn retry_refused(mut self, delay: Option<Duration>) -> Self {
        self.config.retry_refused = delay;
        self
    }

    /// How long calls made while disconnected wait for the connection (default 10 s); `None`
    /// makes them fail fast with [`Error::NotConnected`].
    pub fn call_wait(mut self, wait: Option<Duration>) -> Self {
        self.config.call_wait = wait;
        self
    }

    /// Events buffered per subscription before it lags (default 1024).
    pub fn queue_capacity(mut self, n: usize) -> Self {
        self.config.queue_capacity = n.max(1);
        self
    }

    /// Killmail ids remembered for de-duplication (default 65,536).
    pub fn dedup_capacity(mut self, n: usize) -> Self {
        self.config.dedup_capacity = n;
        self
    }

    /// Whether to fetch `/kills/cached` for subscribed systems after a reconnect (default on).
    pub fn gap_recovery(mut self, on: bool) -> Self {
        self.config.gap_recovery = on;
        self
    }

    /// How far before the last kill seen gap recovery looks (default 65 min: the server accepts
    /// kills up to an hour old).
    pub fn recovery_margin(mut self, d: Duration) -> Self {
        self.config.recovery_margin = d;
        self
    }

    /// Names your application in the `User-Agent` of the upgrade request: `<token> wk/<version>`
    /// (default: `wk/<version>`). Upstream feeds ask clients to identify themselves; a token such
    /// as `my-intel-bot/1.2 (ops@example.org)` lets the server's operators reach you.
    pub fn application(mut self, token: impl AsRef<str>) -> Self {
        self.config.application = Some(token.as_ref().to_owned());
        self
    }

    /// The shortest time between two gap recoveries (default 5 s): a channel lost again sooner is
    /// recovered once that time has passed, so a flapping server is not asked for its cache on
    /// every rejoin.
    pub fn recovery_interval(mut self, d: Duration) -> Self {
        self.config.recovery_interval = d;
        self
    }

    /// Where gap recovery gets the kills missed while the connection or channel was away:
    /// any [`Backfill`](wk_types::Backfill), usually a `wk_http::Client` for the same server.
    /// With the `http` feature the default is such a client; without it, and without a
    /// backfill, gaps are not recovered.
    pub fn backfill(mut self, backfill: impl wk_types::Backfill) -> Self {
        self.config.backfill = Some(Arc::new(backfill));
        self
    }

    /// The HTTP client gap recovery uses (default: one for the same server); the same as
    /// [`backfill`](Self::backfill) with it.
    #[cfg(feature = "http")]
    pub fn http_client(mut self, http: wk_http::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Gives gap recovery its HTTP client (the one given, or one built from this builder's TLS
    /// and `User-Agent` settings), and lets `wss://` share that client's rustls config: one TLS
    /// setup for the server. A builder with TLS settings of its own keeps them for `wss://`.
    #[cfg(feature = "http")]
    fn share_http(&mut self, socket: &str) -> Result<()> {
        let own_tls = self.config.tls.is_some() || !self.config.extra_roots.is_empty();
        let (http, built) = match self.http.take() {
            Some(http) => (http, false),
            None if self.config.gap_recovery && self.config.backfill.is_none() => {
                let base = url::http_base(socket)?;
                let http = crate::http_client::build(&crate::http_client::Settings {
                    base: &base,
                    extra_roots: &self.config.extra_roots,
                    tls: self.config.tls.as_ref(),
                    application: self.config.application.as_deref(),
                    connect_timeout: self.config.connect_timeout,
                })?;
                (http, true)
            }
            None => return Ok(()),
        };
        // A client built from this builder's own settings has the same TLS either way.
        if (built || !own_tls)
            && let Some(shared) = http.rustls_config()
        {
            self.config.tls = Some(shared);
        }
        if self.config.backfill.is_none() {
            self.config.backfill = Some(Arc::new(http));
        }
        Ok(())
    }

    /// Trusts this DER-encoded certificate for `wss://` in addition to the webpki roots (a private
    /// CA, or wk-testkit's self-signed certificate). The HTTP client used for gap recovery should
    /// trust it too ([`ClientBuilder::http_client`]).
    pub fn add_root_certificate(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.config.extra_roots.push(der.into());
        self
    }

    /// A custom rustls configuration for `wss://` (e.g. client certificates).
    pub fn tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.config.tls = Some(config);
        self
    }

    /// Connects and waits for the first join.
    ///
    /// # Errors
    /// [`Error::Url`] for a URL that names no socket; [`Error::Connect`] or [`Error::Rejected`]
    /// when the first attempt fails.
    ///
    /// # Cancel safety
    /// Dropping the future closes the connection.
    #[cfg_attr(not(feature = "http"), allow(unused_mut))]
    pub async fn connect(mut self) -> Result<Client> {
        let socket = url::socket_url(&self.url, self.client_id.as_deref())?;
        #[cfg(feature = "http")]
        self.share_http(&socket)?;
        let config = Arc::new(self.config);
        let (commands, rx) = mpsc::unbounded_channel();
        let (state_tx, state) = watch::channel(ConnectionState::Connecting { attempt: 1 });
        let (ready_tx, ready) = oneshot::channel();
        let shared = Arc::new(Shared::default());
        let driver = Driver::new(
            config.clone(),
            shared.clone(),
            socket,
            rx,
            state_tx,
            ready_tx,
        );
        tokio::spawn(driver.run());
        ready.await.map_err(|_| Error::Closed)??;
        Ok(Client {
            commands,
            state,
            config,
            shared,
            next_id: Arc::new(AtomicU64::new(1)),
        })
    }
}

/// A stream of the kills matching one [`Filter`]. Drop it to leave: its ids leave the server's
/// subscription unless another subscription still wants them.
#[derive(Debug)]
pub struct Subscription {
    id: SubId,
    events: mpsc::Receiver<Result<KillEvent>>,
    lagged: Arc<AtomicU64>,
    client: Client,
}

impl Subscription {
    /// Adds systems: sends `subscribe_systems` and returns the server's reply (the full list, or
    /// the "Already subscribed…" message).
    ///
    /// # Errors
    /// [`Error::Invalid`] for an id out of range (nothing is sent); otherwise as for any call.
    ///
    /// # Cancel safety
    /// The change applies locally even if the future is dropped.
    pub async fn subscribe_systems(
        &self,
        ids: impl IntoIterator<Item = SystemId>,
    ) -> Result<SystemsReply> {
        let ids: Vec<SystemId> = ids.into_iter().collect();
        validate_systems(&ids)?;
        self.systems(true, ids).await
    }

    /// Removes systems. Ids another subscription still wants stay on the server; the reply then
    /// lists what the server still holds.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an id out of range; otherwise as for any call.
    ///
    /// # Cancel safety
    /// The change applies locally even if the future is dropped.
    pub async fn unsubscribe_systems(
        &self,
        ids: impl IntoIterator<Item = SystemId>,
    ) -> Result<SystemsReply> {
        let ids: Vec<SystemId> = ids.into_iter().collect();
        validate_systems(&ids)?;
        self.systems(false, ids).await
    }

    /// Adds characters (see [`Subscription::subscribe_systems`]).
    ///
    /// # Errors
    /// [`Error::Invalid`] for an id out of range; otherwise as for any call.
    ///
    /// # Cancel safety
    /// The change applies locally even if the future is dropped.
    pub async fn subscribe_characters(
        &self,
        ids: impl IntoIterator<Item = CharacterId>,
    ) -> Result<CharactersReply> {
        let ids: Vec<CharacterId> = ids.into_iter().collect();
        validate_characters(&ids)?;
        self.characters(true, ids).await
    }

    /// Removes characters (see [`Subscription::unsubscribe_systems`]).
    ///
    /// # Errors
    /// [`Error::Invalid`] for an id out of range; otherwise as for any call.
    ///
    /// # Cancel safety
    /// The change applies locally even if the future is dropped.
    pub async fn unsubscribe_characters(
        &self,
        ids: impl IntoIterator<Item = CharacterId>,
    ) -> Result<CharactersReply> {
        let ids: Vec<CharacterId> = ids.into_iter().collect();
        validate_characters(&ids)?;
        self.characters(false, ids).await
    }

    /// The seed guide's `update_subscriptions`: the server has no such event (sending it crashes
    /// the channel), so this validates all four lists, then sends the real events, additions first.
    ///
    /// # Errors
    /// [`Error::Invalid`] before anything is sent; otherwise the first failing call's error.
    ///
    /// # Cancel safety
    /// Changes already sent stay applied if the future is dropped.
    pub async fn update_subscriptions(&self, update: Update) -> Result<UpdateReply> {
        validate_systems(&update.add_systems)?;
        validate_systems(&update.remove_systems)?;
        validate_characters(&update.add_characters)?;
        validate_characters(&update.remove_characters)?;
        let mut reply = UpdateReply::default();
        if !update.add_systems.is_empty() {
            reply.systems = Some(self.systems(true, update.add_systems).await?);
        }
        if !update.add_characters.is_empty() {
            reply.characters = Some(self.characters(true, update.add_characters).await?);
        }
        if !update.remove_systems.is_empty() {
            reply.systems = Some(self.systems(false, update.remove_systems).await?);
        }
        if !update.remove_characters.is_empty() {
            reply.characters = Some(self.characters(false, update.remove_characters).await?);
        }
        Ok(reply)
    }

    /// The client this subscription belongs to.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    async fn systems(&self, subscribe: bool, ids: Vec<SystemId>) -> Result<SystemsReply> {
        let mut last = None;
        for chunk in ids.chunks(super::session::CHUNK) {
            match self
                .client
                .op(
                    self.id,
                    Op::Systems {
                        subscribe,
                        ids: chunk.to_vec(),
                    },
                )
                .await?
            {
                OpReply::Systems(r) => last = Some(r),
                _ => return Err(Error::Closed),
            }
        }
        Ok(last.unwrap_or_else(|| SystemsReply::Unchanged {
            message: "No systems given".to_owned(),
        }))
    }

    async fn characters(&self, subscribe: bool, ids: Vec<CharacterId>) -> Result<CharactersReply> {
        let mut last = None;
        for chunk in ids.chunks(super::session::CHUNK) {
            match self
                .client
                .op(
                    self.id,
                    Op::Characters {
                        subscribe,
                        ids: chunk.to_vec(),
                    },
                )
                .await?
            {
                OpReply::Characters(r) => last = Some(r),
                _ => return Err(Error::Closed),
            }
        }
        Ok(last.unwrap_or_else(|| CharactersReply::Unchanged {
            message: "No characters given".to_owned(),
        }))
    }
}

impl Stream for Subscription {
    type Item = Result<KillEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        crate::queue::poll_next(&mut this.events, &this.lagged, cx)
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let _ = self.client.commands.send(Command::Drop { id: self.id });
    }
}

/// The four lists of the seed guide's `update_subscriptions`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Update {
    /// Systems to add.
    pub add_systems: Vec<SystemId>,
    /// Systems to remove.
    pub remove_systems: Vec<SystemId>,
    /// Characters to add.
    pub add_characters: Vec<CharacterId>,
    /// Characters to remove.
    pub remove_characters: Vec<CharacterId>,
}

impl Update {
    /// An empty update.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Systems to add.
    #[must_use]
    pub fn add_systems(mut self, ids: impl IntoIterator<Item = SystemId>) -> Self {
        self.add_systems.extend(ids);
        self
    }

    /// Systems to remove.
    #[must_use]
    pub fn remove_systems(mut self, ids: impl IntoIterator<Item = SystemId>) -> Self {
        self.remove_systems.extend(ids);
        self
    }

    /// Characters to add.
    #[must_use]
    pub fn add_characters(mut self, ids: impl IntoIterator<Item = CharacterId>) -> Self {
        self.add_characters.extend(ids);
        self
    }

    /// Characters to remove.
    #[must_use]
    pub fn remove_characters(mut self, ids: impl IntoIterator<Item = CharacterId>) -> Self {
        self.remove_characters.extend(ids);
        self
    }
}

/// The last server reply for systems and for characters of an [`Update`].
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct UpdateReply {
    /// The last systems reply, if systems changed.
    pub systems: Option<SystemsReply>,
    /// The last characters reply, if characters changed.
    pub characters: Option<CharactersReply>,
}

fn validate_systems(ids: &[SystemId]) -> Result<()> {
    for chunk in ids.chunks(validate::MAX_CHANNEL_SYSTEMS) {
        validate::channel_systems(chunk)?;
    }
    Ok(())
}

fn validate_characters(ids: &[CharacterId]) -> Result<()> {
    for chunk in ids.chunks(validate::MAX_CHANNEL_CHARACTERS) {
        validate::channel_characters(chunk)?;
    }
    Ok(())
}
