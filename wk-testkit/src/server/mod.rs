//! The server itself: [`TestServer`], its builder, the accept loop and the outer HTTP layer
//! (path normalisation, Accept negotiation, request ids and HTTP faults).

mod channel;
mod control;
mod http;
pub(crate) mod hub;
mod info;
mod outer;
mod phoenix;
mod sse;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use wk_types::{Killmail, KillmailId};

use crate::expect::{Expectation, Registry, Route, UnmetExpectations};
use crate::fault::Fault;
use crate::generator::Generator;
use crate::profile::Profile;
use crate::state::State;
use hub::Shared;

/// Server settings; every timing is configurable so tests stay fast.
#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) profile: Profile,
    pub(crate) addr: SocketAddr,
    pub(crate) idle_timeout: Duration,
    pub(crate) sse_ping_interval: Duration,
    pub(crate) heartbeat_interval: Duration,
    pub(crate) batch_delay: Duration,
    pub(crate) batch_size: usize,
    pub(crate) enhanced_cap: u64,
    pub(crate) preload_delay: Duration,
    pub(crate) preload_window: Duration,
    pub(crate) webhook_timeout: Duration,
    pub(crate) keep_store_on_restart: bool,
    pub(crate) tls: Option<Arc<Tls>>,
    pub(crate) rate: f64,
    pub(crate) seed: Option<u64>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            profile: Profile::Faithful,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            idle_timeout: Duration::from_secs(60),
            sse_ping_interval: Duration::from_secs(10),
            heartbeat_interval: Duration::from_secs(30),
            batch_delay: Duration::from_millis(100),
            batch_size: 50,
            enhanced_cap: 100,
            preload_delay: Duration::ZERO,
            preload_window: Duration::from_secs(24 * 3600),
            webhook_timeout: Duration::from_secs(10),
            keep_store_on_restart: false,
            tls: None,
            rate: 0.0,
            seed: None,
        }
    }
}

/// Builds a [`TestServer`]. Every setter has the real server's value as its default.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use std::time::Duration;
/// use wk_testkit::{Profile, TestServer};
/// let server = TestServer::builder()
///     .profile(Profile::Designed)
///     .idle_timeout(Duration::from_millis(500))
///     .start()
///     .await?;
/// println!("{}", server.base_url());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct TestServerBuilder {
    cfg: Config,
}

impl TestServerBuilder {
    /// The profile (default [`Profile::Faithful`]).
    pub fn profile(mut self, profile: Profile) -> Self {
        self.cfg.profile = profile;
        self
    }

    /// The listen address (default `127.0.0.1:0`).
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.cfg.addr = addr;
        self
    }

    /// WebSocket idle timeout: close 1000 after this long without an inbound frame (default 60 s).
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.cfg.idle_timeout = d;
        self
    }

    /// Basic SSE keep-alive: `: ping` after this long with nothing written (default 10 s).
    pub fn sse_ping_interval(mut self, d: Duration) -> Self {
        self.cfg.sse_ping_interval = d;
        self
    }

    /// Enhanced SSE `heartbeat` interval in the designed profile (default 30 s).
    pub fn heartbeat_interval(mut self, d: Duration) -> Self {
        self.cfg.heartbeat_interval = d;
        self
    }

    /// Delay between enhanced SSE `batch` events in the designed profile (default 100 ms).
    pub fn batch_delay(mut self, d: Duration) -> Self {
        self.cfg.batch_delay = d;
        self
    }

    /// Kills per enhanced SSE `batch` (default 50).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.cfg.batch_size = n.max(1);
        self
    }

    /// Enhanced SSE connection cap before `503 connection_limit_reached` (default 100).
    pub fn enhanced_cap(mut self, n: u64) -> Self {
        self.cfg.enhanced_cap = n;
        self
    }

    /// Delay before a join's preload pushes are sent (default 0). With a delay, a crash or leave in
    /// the meantime shows the stale-preload defect of §7.10 in the faithful and legacy profiles.
    pub fn preload_delay(mut self, d: Duration) -> Self {
        self.cfg.preload_delay = d;
        self
    }

    /// How far back preload looks (default 24 h).
    pub fn preload_window(mut self, d: Duration) -> Self {
        self.cfg.preload_window = d;
        self
    }

    /// Webhook delivery timeout (default 10 s).
    pub fn webhook_timeout(mut self, d: Duration) -> Self {
        self.cfg.webhook_timeout = d;
        self
    }

    /// Keep the killmail store across [`TestServer::restart`] (default: emptied, as on the real server).
    pub fn keep_store_on_restart(mut self, keep: bool) -> Self {
        self.cfg.keep_store_on_restart = keep;
        self
    }

    /// Generate and ingest this many synthetic live kills per second (default 0 = none).
    pub fn rate(mut self, per_second: f64) -> Self {
        self.cfg.rate = per_second;
        self
    }

    /// Seed for ids and generated kills (default: from the clock).
    pub fn seed(mut self, seed: u64) -> Self {
        self.cfg.seed = Some(seed);
        self
    }

    /// Serves HTTPS and WSS with a fresh self-signed certificate for `localhost` and `127.0.0.1`
    /// (see [`TestServer::tls_certificate_der`] to trust it). `false` (the default) serves plain HTTP.
    ///
    /// # Panics
    /// If the certificate cannot be generated, which does not happen with the bundled crypto.
    pub fn tls(mut self, on: bool) -> Self {
        self.cfg.tls = on.then(|| Arc::new(Tls::self_signed().expect("a self-signed certificate")));
        self
    }

    /// Binds the listener and starts serving.
    ///
    /// # Errors
    /// When the address cannot be bound.
    ///
    /// # Cancel safety
    /// Cancelling before it resolves leaves nothing running.
    pub async fn start(self) -> std::io::Result<TestServer> {
        let listener = TcpListener::bind(self.cfg.addr).await?;
        let addr = listener.local_addr()?;
        tracing::debug!(%addr, profile = %self.cfg.profile, "wk-testkit listening");
        let shared = Arc::new(Shared::new(self.cfg));
        let expectations = Arc::new(Registry::default());
        let accept = tokio::spawn(accept_loop(
            listener,
            Arc::clone(&shared),
            Arc::clone(&expectations),
        ));
        let rate_task =
            (shared.cfg.rate > 0.0).then(|| tokio::spawn(rate_loop(Arc::clone(&shared))));
        Ok(TestServer {
            shared,
            addr,
            accept: Mutex::new(Some(accept)),
            rate_task,
            expectations,
        })
    }
}

/// A running fake WandererKills server on a real socket.
///
/// Dropping it stops the server and drops every connection, then checks the expectations that no
/// verification has reported yet ([`TestServer::expect`]).
///
/// # Panics
/// On drop, when an expectation is unmet and the thread is not already panicking.
#[derive(Debug)]
pub struct TestServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    accept: Mutex<Option<JoinHandle<()>>>,
    rate_task: Option<JoinHandle<()>>,
    expectations: Arc<Registry>,
}

impl TestServer {
    /// A builder with the real server's defaults.
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder::default()
    }

    /// Starts a server with this profile on `127.0.0.1:0` and default timings.
    ///
    /// # Errors
    /// When the listener cannot be bound.
    ///
    /// # Cancel safety
    /// Cancelling before it resolves leaves nothing running.
    pub async fn start(profile: Profile) -> std::io::Result<Self> {
        Self::builder().profile(profile).start().await
    }

    /// The bound address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (`https://` with [`TestServerBuilder::tls`]).
    #[must_use]
    pub fn base_url(&self) -> String {
        let scheme = if self.shared.cfg.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The DER certificate the server presents with [`TestServerBuilder::tls`]: add it to a client's
    /// trusted roots.
    #[must_use]
    pub fn tls_certificate_der(&self) -> Option<&[u8]> {
        self.shared
            .cfg
            .tls
            .as_ref()
            .map(|t| t.certificate_der.as_slice())
    }

    /// `ws://127.0.0.1:PORT/socket/websocket` (add `?vsn=2.0.0` for V2 frames).
    #[must_use]
    pub fn ws_url(&self) -> String {
        let scheme = if self.shared.cfg.tls.is_some() {
            "wss"
        } else {
            "ws"
        };
        format!("{scheme}://{}/socket/websocket", self.addr)
    }

    /// The profile being served.
    #[must_use]
    pub fn profile(&self) -> Profile {
        self.shared.cfg.profile
    }

    /// Ingests a live killmail: stored, then broadcast per profile (WebSocket, SSE, webhooks).
    pub fn inject(&self, killmail: Killmail) {
        self.shared.ingest(killmail);
    }

    /// Ingests several live killmails in order.
    pub fn inject_many(&self, killmails: impl IntoIterator<Item = Killmail>) {
        for km in killmails {
            self.shared.ingest(km);
        }
    }

    /// Puts killmails in the store without broadcasting (for `/kills/cached` and preload).
    pub fn seed_store(&self, killmails: impl IntoIterator<Item = Killmail>) {
        self.shared.seed(killmails);
    }

    /// Makes `GET /killmail/{id}` find this killmail "upstream" (answered in canonical form, or as a
    /// reference when it has reference shape) without storing it.
    pub fn set_upstream(&self, killmail: Killmail) {
        self.shared
            .lock()
            .upstream
            .insert(killmail.killmail_id.get(), killmail);
    }

    /// Makes `GET /killmail/{id}` answer `"kill_older"` for this id.
    pub fn set_kill_older(&self, id: KillmailId) {
        self.shared.lock().kill_older.insert(id.get());
    }

    /// Injects a fault.
    pub fn fault(&self, fault: Fault) {
        self.shared.apply_fault(fault);
    }

    /// Registers an expectation on `route` at once: until a count is set on the returned handle,
    /// the route must be called at least once. Every matching request counts, including those
    /// answered by a scripted [`crate::Answer`] or a [`Fault`]; `/_testkit/` routes never do.
    /// Checked by [`TestServer::verify`], [`TestServer::try_verify`] and on drop; kept, with their
    /// counts, across [`TestServer::restart`].
    pub fn expect(&self, route: Route) -> Expectation {
        self.expectations.add(route)
    }

    /// Checks every expectation.
    ///
    /// # Panics
    /// When one is unmet, with a message naming each unmet route with its expected and actual
    /// counts ([`UnmetExpectations`]). Those are not checked again on drop.
    pub fn verify(&self) {
        if let Err(unmet) = self.try_verify() {
            panic!("{unmet}");
        }
    }

    /// Checks every expectation, without panicking.
    ///
    /// # Errors
    /// The unmet ones, each with its route and its expected and actual counts. They are not
    /// checked again on drop.
    pub fn try_verify(&self) -> Result<(), UnmetExpectations> {
        self.expectations.check(false)
    }

    /// A snapshot of the counters.
    #[must_use]
    pub fn state(&self) -> State {
        self.shared.state()
    }

    /// Waits until `pred` holds for the counters, or `timeout` passes.
    ///
    /// # Errors
    /// The last snapshot, when the timeout passed first.
    ///
    /// # Cancel safety
    /// Cancel-safe: it only reads counters.
    pub async fn wait_for(
        &self,
        timeout: Duration,
        pred: impl Fn(&State) -> bool,
    ) -> Result<State, State> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let s = self.state();
            if pred(&s) {
                return Ok(s);
            }
            // Wake at least every 50 ms in case a change was not notified.
            let step = deadline.min(tokio::time::Instant::now() + Duration::from_millis(50));
            if tokio::time::timeout_at(step, notified).await.is_err()
                && tokio::time::Instant::now() >= deadline
            {
                let s = self.state();
                return if pred(&s) { Ok(s) } else { Err(s) };
            }
        }
    }

    /// Sends `frames` pre-encoded `killmail_update` frames (distinct killmail ids) to every joined
    /// socket, as fast as each socket accepts them. Returns how many sockets were targeted.
    pub fn firehose(&self, frames: u64) -> usize {
        control::firehose(&self.shared, frames, 1)
    }

    /// Sends `events` distinct killmails as `data:` events to every basic SSE stream (each once,
    /// whatever the profile), 64 events to a chunk, as fast as each stream accepts them. Returns
    /// how many streams were targeted.
    pub fn firehose_sse(&self, events: u64) -> usize {
        control::firehose_sse(&self.shared, events, 1)
    }

    /// Restarts on the same port: every connection is dropped, subscriptions vanish and, unless
    /// [`TestServerBuilder::keep_store_on_restart`] was set, the store is emptied.
    ///
    /// # Errors
    /// When the port cannot be bound again.
    ///
    /// # Cancel safety
    /// Not cancel-safe: cancelled midway, the server may stay stopped; call it again.
    pub async fn restart(&self) -> std::io::Result<()> {
        self.restart_with(self.shared.cfg.keep_store_on_restart)
            .await
    }

    /// [`TestServer::restart`], choosing whether the store survives.
    ///
    /// # Errors
    /// When the port cannot be bound again.
    ///
    /// # Cancel safety
    /// Not cancel-safe, as [`TestServer::restart`].
    pub async fn restart_with(&self, keep_store: bool) -> std::io::Result<()> {
        tracing::debug!(addr = %self.addr, keep_store, "wk-testkit restarting");
        self.stop_accepting().await;
        self.shared.kill_all.send_modify(|v| *v += 1);
        self.shared.reset_for_restart(keep_store);
        let mut last_err = None;
        for _ in 0..50 {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => {
                    let task = tokio::spawn(accept_loop(
                        listener,
                        Arc::clone(&self.shared),
                        Arc::clone(&self.expectations),
                    ));
                    *self
                        .accept
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(task);
                    self.shared.changed.notify_waiters();
                    return Ok(());
                }
                Err(e) => {
                    last_err = Some(e);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        Err(last_err.unwrap_or_else(|| std::io::Error::other("rebind failed")))
    }

    /// Stops the server and drops every connection.
    ///
    /// # Cancel safety
    /// Cancel-safe: dropping the server has the same effect.
    pub async fn shutdown(self) {
        self.stop_accepting().await;
        self.shared.kill_all.send_modify(|v| *v += 1);
    }

    async fn stop_accepting(&self) {
        let task = self
            .accept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = self
            .accept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
        if let Some(task) = &self.rate_task {
            task.abort();
        }
        self.shared.kill_all.send_modify(|v| *v += 1);
        if !std::thread::panicking()
            && let Err(unmet) = self.expectations.check(true)
        {
            panic!("{unmet}\n(checked when the TestServer was dropped)");
        }
    }
}

async fn rate_loop(shared: Arc<Shared>) {
    let seed = shared
        .cfg
        .seed
        .unwrap_or_else(|| crate::rng::Rng::from_entropy().next_u64());
    let mut generator = Generator::new(seed);
    let period = Duration::from_secs_f64(1.0 / shared.cfg.rate.max(0.001));
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let canonical = generator.killmail();
        shared.ingest(generator.stored(&canonical));
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, expectations: Arc<Registry>) {
    let router = app(Arc::clone(&shared));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let shared = Arc::clone(&shared);
        let router = router.clone();
        let expectations = Arc::clone(&expectations);
        let mut kill = shared.kill_all.subscribe();
        tokio::spawn(async move {
            let tls = shared.cfg.tls.clone();
            tokio::select! {
                () = async {
                    match tls {
                        Some(tls) => {
                            if let Ok(stream) = tls.acceptor.accept(stream).await {
                                serve(stream, shared, expectations, router).await;
                            }
                        }
                        None => serve(stream, shared, expectations, router).await,
                    }
                } => {}
                _ = kill.changed() => {}
            }
        });
    }
}

/// Serves HTTP/1.1 (with upgrades for the WebSocket) on one connection.
async fn serve<S>(stream: S, shared: Arc<Shared>, expectations: Arc<Registry>, router: Router)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let svc = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let shared = Arc::clone(&shared);
        let expectations = Arc::clone(&expectations);
        let router = router.clone();
        async move { outer::outer(shared, expectations, router, req.map(Body::new)).await }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), svc)
        .with_upgrades()
        .await;
}

/// A self-signed certificate and the acceptor that presents it.
pub(crate) struct Tls {
    acceptor: tokio_rustls::TlsAcceptor,
    certificate_der: Vec<u8>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

impl Tls {
    fn self_signed() -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let certified = rcgen::generate_simple_self_signed(names)?;
        let certificate_der = certified.cert.der().to_vec();
        let key =
            rustls::pki_types::PrivatePkcs8KeyDer::from(certified.signing_key.serialize_der());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key.into())?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            certificate_der,
        })
    }
}

fn app(shared: Arc<Shared>) -> Router {
    http::routes()
        .merge(info::routes())
        .merge(sse::routes())
        .merge(phoenix::routes())
        .merge(control::routes())
        .fallback(http::fallback)
        .with_state(shared)
}
