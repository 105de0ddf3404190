//! The unified entry point: one base URL, the HTTP client, and a shared realtime connection.

use std::sync::Arc;

use crate::Error;

/// One server, every transport: [`Client::http`] for the HTTP API and, with the `ws` feature,
/// [`Client::ws`] for one shared WebSocket connection that every [`Client::subscribe`] joins.
///
/// Cheap to clone; clones share the connection pool and the WebSocket.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    base_url: String,
    http: wk_http::Client,
    #[cfg(feature = "ws")]
    client_id: Option<String>,
    #[cfg(feature = "ws")]
    application: Option<String>,
    #[cfg(feature = "ws")]
    ws: tokio::sync::OnceCell<wk_realtime::ws::Client>,
    #[cfg(feature = "sse")]
    sse: wk_realtime::sse::Client,
    #[cfg(feature = "hub")]
    hub: wk_realtime::hub::Hub,
}

impl Client {
    /// A builder; set at least [`ClientBuilder::base_url`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The server's base URL.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The HTTP client (every `/api/v1` endpoint, health and info).
    #[must_use]
    pub fn http(&self) -> &wk_http::Client {
        &self.inner.http
    }

    /// The shared WebSocket connection, opened on first use (URL derived from the base URL, gap
    /// recovery through [`Client::http`]).
    ///
    /// # Errors
    /// [`Error::Realtime`] when the first connection attempt fails.
    ///
    /// # Cancel safety
    /// Safe to drop; another caller completes the connection.
    #[cfg(feature = "ws")]
    pub async fn ws(&self) -> Result<wk_realtime::ws::Client, Error> {
        let ws = self
            .inner
            .ws
            .get_or_try_init(|| async {
                let mut builder = wk_realtime::ws::Client::builder(self.inner.base_url.clone())
                    .backfill(self.inner.http.clone());
                if let Some(id) = &self.inner.client_id {
                    builder = builder.client_id(id.clone());
                }
                if let Some(token) = &self.inner.application {
                    builder = builder.application(token);
                }
                builder.connect().await
            })
            .await?;
        Ok(ws.clone())
    }

    /// The SSE client for this server (its gap recovery uses [`Client::http`]).
    #[cfg(feature = "sse")]
    #[must_use]
    pub fn sse(&self) -> &wk_realtime::sse::Client {
        &self.inner.sse
    }

    /// The in-process PubSub hub: feed it with [`wk_realtime::hub::Hub::attach`] from any transport,
    /// subscribe per system, per character or to everything.
    #[cfg(feature = "hub")]
    #[must_use]
    pub fn hub(&self) -> &wk_realtime::hub::Hub {
        &self.inner.hub
    }

    /// Subscribes to live kills over the shared WebSocket (see [`wk_realtime::ws::Client::subscribe`]).
    ///
    /// # Errors
    /// [`Error::Realtime`]: invalid ids (nothing sent), or no connection or acknowledgement.
    ///
    /// # Cancel safety
    /// Dropping the future drops the subscription.
    #[cfg(feature = "ws")]
    pub async fn subscribe(
        &self,
        filter: wk_realtime::Filter,
    ) -> Result<wk_realtime::ws::Subscription, Error> {
        Ok(self.ws().await?.subscribe(filter).await?)
    }
}

/// Builds a [`Client`].
#[derive(Debug, Default)]
#[must_use]
pub struct ClientBuilder {
    base_url: Option<String>,
    http: Option<wk_http::ClientBuilder>,
    client_id: Option<String>,
    application: Option<String>,
    #[cfg(feature = "cache")]
    cache: Option<wk_cache::Cache>,
}

impl ClientBuilder {
    /// The server's base URL, e.g. `http://127.0.0.1:4004`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Settings for the HTTP client (retries, timeouts, pool); its base URL is set from here.
    pub fn http(mut self, http: wk_http::ClientBuilder) -> Self {
        self.http = Some(http);
        self
    }

    /// The client id the server shows for the WebSocket connection (cosmetic).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// Names your application in the `User-Agent` of every HTTP request, WebSocket upgrade and
    /// SSE request: `<token> wk/<version>` (default `wk/<version>`). Upstream feeds ask clients to
    /// identify themselves; a token such as `my-intel-bot/1.2 (ops@example.org)` lets the
    /// server's operators reach you.
    pub fn application(mut self, token: impl Into<String>) -> Self {
        self.application = Some(token.into());
        self
    }

    /// A read-through cache for the HTTP client.
    #[cfg(feature = "cache")]
    pub fn cache(mut self, cache: wk_cache::Cache) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Builds the client; no connection is opened yet.
    ///
    /// # Errors
    /// [`Error::Http`] when the base URL is missing or not an `http`/`https` URL (or
    /// [`Error::Realtime`] from the SSE client's TLS set-up).
    pub fn build(self) -> Result<Client, Error> {
        let base_url = self.base_url.unwrap_or_default();
        let http = self.http.unwrap_or_default().base_url(base_url.clone());
        #[cfg(feature = "cache")]
        let http = match self.cache {
            Some(cache) => http.cache(cache),
            None => http,
        };
        let http = match &self.application {
            Some(token) => http.application(token.clone()),
            None => http,
        };
        #[cfg(not(feature = "ws"))]
        let _ = self.client_id;
        let http = http.build()?;
        #[cfg(feature = "sse")]
        let sse = {
            let builder =
                wk_realtime::sse::Client::builder(base_url.clone()).backfill(http.clone());
            match &self.application {
                Some(token) => builder.application(token),
                None => builder,
            }
            .build()?
        };
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                #[cfg(feature = "sse")]
                sse,
                #[cfg(feature = "hub")]
                hub: wk_realtime::hub::Hub::new(),
                base_url,
                #[cfg(feature = "ws")]
                client_id: self.client_id,
                #[cfg(feature = "ws")]
                application: self.application,
                #[cfg(feature = "ws")]
                ws: tokio::sync::OnceCell::new(),
            }),
        })
    }
}
