//! One typed method per endpoint (PROTOCOL.md §6 and §10).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::time::Duration;

use http::StatusCode;
use wk_types::http::{
    BulkSystemsKills, BulkSystemsRequest, CreateSubscription, Health, KillCount, KillList,
    KillmailLookup, ServiceStatus, SubscriptionCreated, SubscriptionDeleted, SubscriptionList,
    SubscriptionStats, WebsocketInfo, WebsocketStatus,
};
use wk_types::{KillmailId, SystemId};

use crate::client::{Client, decode, success};
use crate::error::{DecodeError, Error, Result};
use crate::request;

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl Client {
    /// `GET /api/v1/kills/system/{id}`: recent kills for one system, with optional `since_hours`
    /// and `limit` (the seed guide's `get_system_kills(system, since_hours:, limit:)`).
    ///
    /// On the real server the kills are zKillboard references (`killmail_id` and `zkb` only) and
    /// `since_hours` has no effect (PROTOCOL.md §6.2); fetch full kills with [`Client::killmail`].
    pub fn system_kills(&self, system: SystemId) -> SystemKills {
        SystemKills {
            client: self.clone(),
            system,
            since_hours: None,
            limit: None,
            timeout: None,
        }
    }

    /// `POST /api/v1/kills/systems`: the same for several systems at once (the seed guide's
    /// `get_systems_kills`).
    pub fn systems_kills(&self, systems: impl IntoIterator<Item = SystemId>) -> SystemsKills {
        SystemsKills {
            client: self.clone(),
            request: BulkSystemsRequest::new(systems.into_iter().collect()),
            timeout: None,
        }
    }

    /// `GET /api/v1/kills/cached/{id}`: every kill the server holds in memory for a system, in the
    /// stored shape, most recently ingested first. `.await` it, or set `.lookup(..)` first when a
    /// cache is configured.
    pub fn cached_kills(&self, system: SystemId) -> CachedKills {
        CachedKills {
            client: self.clone(),
            system,
            #[cfg(feature = "cache")]
            lookup: wk_cache::Lookup::ReadThrough,
        }
    }

    /// `GET /api/v1/killmail/{id}`: one killmail (the seed guide's `get_killmail`). The result says
    /// which shape arrived ([`wk_types::Killmail::shape`]), or [`KillmailLookup::KillOlder`] for kills
    /// over 365 days old. `.await` it, or set `.lookup(..)` first when a cache is configured.
    pub fn killmail(&self, id: KillmailId) -> KillmailRequest {
        KillmailRequest {
            client: self.clone(),
            id,
            #[cfg(feature = "cache")]
            lookup: wk_cache::Lookup::ReadThrough,
        }
    }

    /// `GET /api/v1/kills/count/{id}`. Always 0 on the real server (PROTOCOL.md §6.6); count
    /// [`Client::cached_kills`] instead.
    ///
    /// # Errors
    /// [`Error::Build`] for a system id ≤ 0; otherwise as for any call.
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn kill_count(&self, system: SystemId) -> Result<KillCount> {
        self.data(&request::kill_count(system).map_err(Error::Build)?)
            .await
    }

    /// `POST /api/v1/subscriptions`: registers a webhook (the seed guide's `create_subscription`).
    /// Never retried, since a replay would create a second subscription.
    ///
    /// # Errors
    /// [`Error::Build`] when the request breaks a server rule (checked locally first);
    /// [`Error::Status`] 400 with the subscription error shape otherwise.
    ///
    /// # Cancel safety
    /// Dropping the future after the request was sent may still create the subscription.
    pub async fn create_subscription(
        &self,
        subscription: &CreateSubscription,
    ) -> Result<SubscriptionCreated> {
        self.data(&request::create_subscription(subscription).map_err(Error::Build)?)
            .await
    }

    /// `GET /api/v1/subscriptions`: every webhook and WebSocket subscription on the server.
    ///
    /// # Errors
    /// As for any call.
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn subscriptions(&self) -> Result<SubscriptionList> {
        self.data(&request::subscriptions()).await
    }

    /// `GET /api/v1/subscriptions/stats`.
    ///
    /// # Errors
    /// As for any call.
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn subscription_stats(&self) -> Result<SubscriptionStats> {
        self.data(&request::subscription_stats()).await
    }

    /// `DELETE /api/v1/subscriptions/{subscriber_id}`: removes every subscription of that subscriber.
    /// The server answers 200 even when nothing matched.
    ///
    /// # Errors
    /// [`Error::Build`] for an empty subscriber id; otherwise as for any call.
    ///
    /// # Cancel safety
    /// Safe to drop (deleting is idempotent).
    pub async fn delete_subscription(&self, subscriber_id: &str) -> Result<SubscriptionDeleted> {
        self.data(&request::delete_subscription(subscriber_id).map_err(Error::Build)?)
            .await
    }

    /// `GET /ping`: the text `pong` when the server is up.
    ///
    /// # Errors
    /// As for any call; [`Error::Decode`] if the body is not text.
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn ping(&self) -> Result<String> {
        let resp = success(self.execute(&request::info("ping", "/ping")).await?)?;
        let status = resp.status();
        String::from_utf8(resp.into_body().to_vec())
            .map_err(|_| Error::Decode(DecodeError::not_text(status)))
    }

    /// `GET /health`. A 503 with the health shape is an unhealthy [`Health`], not an error.
    ///
    /// # Errors
    /// [`Error::Status`] when the health check itself failed (503 with the structured error shape).
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn health(&self) -> Result<Health> {
        let resp = self.execute(&request::info("health", "/health")).await?;
        if resp.status() == StatusCode::SERVICE_UNAVAILABLE
            && let Ok(health) = decode::<Health>(&resp)
        {
            return Ok(health);
        }
        decode(&success(resp)?)
    }

    /// `GET /health` as the server sent it: the status and the body's bytes untouched, for tools
    /// that print or forward the whole document (every key, numbers as written). A `503` with the
    /// health shape is an answer here too.
    ///
    /// # Errors
    /// As for [`Client::health`].
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn health_raw(&self) -> Result<(StatusCode, bytes::Bytes)> {
        let resp = self.execute(&request::info("health", "/health")).await?;
        if resp.status() == StatusCode::SERVICE_UNAVAILABLE && decode::<Health>(&resp).is_ok() {
            return Ok((resp.status(), resp.into_body()));
        }
        let resp = success(resp)?;
        Ok((resp.status(), resp.into_body()))
    }

    /// `GET /status` as the server sent it: the body's bytes untouched (see
    /// [`Client::health_raw`]).
    ///
    /// # Errors
    /// As for any call.
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn status_raw(&self) -> Result<bytes::Bytes> {
        Ok(success(self.execute(&request::info("status", "/status")).await?)?.into_body())
    }

    /// `GET /status`: the summary numbers and `metrics.processing`, under either server
    /// generation's key names ([`ServiceStatus::key_set`]); every other key is kept as sent.
    ///
    /// # Errors
    /// As for any call.
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn status(&self) -> Result<ServiceStatus> {
        decode(&success(
            self.execute(&request::info("status", "/status")).await?,
        )?)
    }

    /// `GET /websocket`: service discovery. Do not build URLs from its `websocket_url`
    /// (PROTOCOL.md §10.5).
    ///
    /// # Errors
    /// As for any call.
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn websocket_info(&self) -> Result<WebsocketInfo> {
        decode(&success(
            self.execute(&request::info("websocket_info", "/websocket"))
                .await?,
        )?)
    }

    /// `GET /websocket/status`.
    ///
    /// # Errors
    /// As for any call.
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn websocket_status(&self) -> Result<WebsocketStatus> {
        let call = request::info("websocket_status", "/websocket/status");
        decode(&success(self.execute(&call).await?)?)
    }

    /// `GET /api/openapi`: the server's own (inaccurate, PROTOCOL.md §10.6) OpenAPI document as JSON.
    ///
    /// # Errors
    /// As for any call.
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn openapi(&self) -> Result<serde_json::Value> {
        decode(&success(
            self.execute(&request::info("openapi", "/api/openapi"))
                .await?,
        )?)
    }
}

/// A `GET /api/v1/kills/system/{id}` request being built. Send it with [`SystemKills::send`] or
/// `.await` it directly.
#[derive(Debug)]
#[must_use = "a request does nothing until it is sent"]
pub struct SystemKills {
    client: Client,
    system: SystemId,
    since_hours: Option<u32>,
    limit: Option<u32>,
    timeout: Option<Duration>,
}

impl SystemKills {
    /// Hours of history (positive; ignored by the real server).
    pub fn since_hours(mut self, hours: u32) -> Self {
        self.since_hours = Some(hours);
        self
    }

    /// At most this many kills, 1..=1000 (default 50).
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = Some(limit);
        self
    }

    /// The per-attempt timeout (default 90 s: the server may wait up to a minute on zKillboard).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::Build`] for invalid parameters (checked locally); [`Error::Status`] 500
    /// `FETCH_ERROR` when the server's upstream fails (retryable).
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn send(self) -> Result<KillList> {
        let mut call = request::system_kills(self.system, self.since_hours, self.limit)
            .map_err(Error::Build)?;
        if let Some(t) = self.timeout {
            call.timeout = t;
            call.timeout_overridden = true;
        }
        self.client.data(&call).await
    }
}

impl IntoFuture for SystemKills {
    type Output = Result<KillList>;
    type IntoFuture = BoxFuture<'static, Result<KillList>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A `POST /api/v1/kills/systems` request being built. Send it with [`SystemsKills::send`] or
/// `.await` it directly.
#[derive(Debug)]
#[must_use = "a request does nothing until it is sent"]
pub struct SystemsKills {
    client: Client,
    request: BulkSystemsRequest,
    timeout: Option<Duration>,
}

impl SystemsKills {
    /// Hours of history (positive; ignored by the real server).
    pub fn since_hours(mut self, hours: u32) -> Self {
        self.request.since_hours = Some(hours);
        self
    }

    /// At most this many kills per system, 1..=1000 (default 50).
    pub fn limit(mut self, limit: u32) -> Self {
        self.request.limit = Some(limit);
        self
    }

    /// The per-attempt timeout (default 90 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the request.
    ///
    /// # Errors
    /// [`Error::Build`] for no systems or invalid parameters; [`Error::Status`] 500 (fallback shape)
    /// when the server overruns its 30 s window.
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn send(self) -> Result<BulkSystemsKills> {
        let mut call = request::systems_kills(&self.request).map_err(Error::Build)?;
        if let Some(t) = self.timeout {
            call.timeout = t;
            call.timeout_overridden = true;
        }
        self.client.data(&call).await
    }
}

impl IntoFuture for SystemsKills {
    type Output = Result<BulkSystemsKills>;
    type IntoFuture = BoxFuture<'static, Result<BulkSystemsKills>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A `GET /api/v1/killmail/{id}` request. `.await` it or call [`KillmailRequest::send`].
#[derive(Debug)]
#[must_use = "a request does nothing until it is sent"]
pub struct KillmailRequest {
    client: Client,
    id: KillmailId,
    #[cfg(feature = "cache")]
    lookup: wk_cache::Lookup,
}

impl KillmailRequest {
    /// How to use the client's cache for this request (default: read through).
    #[cfg(feature = "cache")]
    pub fn lookup(mut self, lookup: wk_cache::Lookup) -> Self {
        self.lookup = lookup;
        self
    }

    /// Sends the request (or answers from the cache).
    ///
    /// # Errors
    /// [`Error::Build`] for an id ≤ 0; [`Error::Status`] 404 `NOT_FOUND` when the server cannot find
    /// the kill.
    ///
    /// # Cancel safety
    /// Safe to drop; a coalesced load is handed to another waiter.
    pub async fn send(self) -> Result<KillmailLookup> {
        let call = request::killmail(self.id).map_err(Error::Build)?;
        #[cfg(feature = "cache")]
        if let Some(cache) = self.client.cache() {
            // Only found killmails are cached; `kill_older` and errors pass through uncached.
            enum Miss {
                Other(KillmailLookup),
                Http(Error),
            }
            let loaded = cache
                .killmails()
                .load(&self.id, self.lookup, || async {
                    match self.client.data::<KillmailLookup>(&call).await {
                        Ok(KillmailLookup::Found(km)) => Ok(*km),
                        Ok(other) => Err(Miss::Other(other)),
                        Err(e) => Err(Miss::Http(e)),
                    }
                })
                .await;
            return match loaded {
                Ok(km) => Ok(KillmailLookup::Found(Box::new(
                    std::sync::Arc::unwrap_or_clone(km),
                ))),
                Err(Miss::Other(other)) => Ok(other),
                Err(Miss::Http(e)) => Err(e),
            };
        }
        self.client.data(&call).await
    }
}

impl IntoFuture for KillmailRequest {
    type Output = Result<KillmailLookup>;
    type IntoFuture = BoxFuture<'static, Result<KillmailLookup>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A `GET /api/v1/kills/cached/{id}` request. `.await` it or call [`CachedKills::send`].
#[derive(Debug)]
#[must_use = "a request does nothing until it is sent"]
pub struct CachedKills {
    client: Client,
    system: SystemId,
    #[cfg(feature = "cache")]
    lookup: wk_cache::Lookup,
}

impl CachedKills {
    /// How to use the client's cache for this request (default: read through).
    #[cfg(feature = "cache")]
    pub fn lookup(mut self, lookup: wk_cache::Lookup) -> Self {
        self.lookup = lookup;
        self
    }

    /// Sends the request (or answers from the cache).
    ///
    /// # Errors
    /// [`Error::Build`] for a system id ≤ 0; otherwise as for any call.
    ///
    /// # Cancel safety
    /// Safe to drop.
    pub async fn send(self) -> Result<KillList> {
        let call = request::cached_kills(self.system).map_err(Error::Build)?;
        #[cfg(feature = "cache")]
        if let Some(cache) = self.client.cache() {
            let list = cache
                .systems()
                .load(&self.system, self.lookup, || {
                    self.client.data::<KillList>(&call)
                })
                .await?;
            return Ok(std::sync::Arc::unwrap_or_clone(list));
        }
        self.client.data(&call).await
    }
}

impl IntoFuture for CachedKills {
    type Output = Result<KillList>;
    type IntoFuture = BoxFuture<'static, Result<KillList>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// Gap recovery for the realtime clients: `GET /api/v1/kills/cached/{system_id}` (through the
/// cache, when one is configured), so `wk-realtime` needs no HTTP stack of its own.
impl wk_types::Backfill for Client {
    fn system_kills(&self, system: SystemId) -> wk_types::BackfillFuture<'_> {
        Box::pin(async move {
            self.cached_kills(system)
                .await
                .map(|list| list.kills)
                .map_err(Into::into)
        })
    }
}
