//! Streaming responses on the pooled connections: the SSE endpoints, whose body stays open.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use tower::ServiceExt;
use tower::util::BoxCloneSyncService;

use crate::BoxError;
use crate::client::Client;
use crate::error::{BuildError, Error, Result, TimeoutError, TransportError};

/// The pooled hyper client's streaming side: the same connections as the whole-body calls, the
/// body handed back unread.
pub(crate) type Streamer = BoxCloneSyncService<Request<Full<Bytes>>, Response<Incoming>, BoxError>;

/// A response whose body is read as it arrives ([`Client::get_stream`]).
#[derive(Debug)]
pub struct Streaming {
    head: http::response::Parts,
    body: Incoming,
}

impl Streaming {
    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.head.status
    }

    /// The response headers.
    #[must_use]
    pub fn headers(&self) -> &HeaderMap {
        &self.head.headers
    }

    /// The next chunk of the body; `None` at its end, [`Error::Transport`] when the connection
    /// broke.
    ///
    /// # Cancel safety
    /// Cancel-safe: a chunk is only taken from the connection when it is returned.
    pub async fn chunk(&mut self) -> Option<Result<Bytes>> {
        loop {
            match self.body.frame().await? {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => return Some(Ok(data)),
                    Err(_) => continue,
                },
                Err(e) => return Some(Err(Error::Transport(TransportError::new(Box::new(e))))),
            }
        }
    }

    /// The start of the body, at most `limit` bytes, waiting at most `within` for it: what a
    /// refusal says about itself. A body that breaks or comes slowly gives what had arrived.
    pub async fn excerpt(self, limit: usize, within: Duration) -> Bytes {
        match tokio::time::timeout(within, Limited::new(self.body, limit).collect()).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            _ => Bytes::new(),
        }
    }
}

impl Client {
    /// `GET`s a streaming endpoint (the SSE streams) on the pooled connections and resolves once
    /// the response head arrives, within `timeout`, whatever its status; read the body with
    /// [`Streaming::chunk`]. `path_and_query` is relative to the base URL. The request carries
    /// `headers` and the client's `User-Agent`. It is not retried and stays outside the
    /// concurrency limit: a stream may stay open for days, and its reader reconnects itself.
    ///
    /// # Errors
    /// [`Error::Timeout`] when no response head came in time; [`Error::Transport`] when the
    /// connection failed (DNS, TCP, TLS) or the answer broke HTTP; [`Error::Build`] for a path
    /// that makes no URL, or a client made with [`Client::from_service`], which has no
    /// connections of its own to stream on.
    ///
    /// # Cancel safety
    /// Dropping the future drops the request.
    pub async fn get_stream(
        &self,
        path_and_query: &str,
        headers: HeaderMap,
        timeout: Duration,
    ) -> Result<Streaming> {
        let Some(streamer) = self.streamer() else {
            return Err(Error::Build(BuildError::no_streaming()));
        };
        let mut req = Request::get(format!("{}{path_and_query}", self.base_url()))
            .body(Full::new(Bytes::new()))
            .map_err(|e| Error::Build(BuildError::http(e)))?;
        *req.headers_mut() = headers;
        req.headers_mut()
            .insert(http::header::USER_AGENT, self.user_agent().clone());
        let span = tracing::debug_span!(
            "wk_http.stream",
            url.full = %wk_types::redact::Url(&req.uri().to_string()),
        );
        let sent = tokio::time::timeout(timeout, streamer.clone().oneshot(req));
        match tracing::Instrument::instrument(sent, span).await {
            Ok(Ok(resp)) => {
                let (head, body) = resp.into_parts();
                Ok(Streaming { head, body })
            }
            Ok(Err(e)) => Err(Error::Transport(TransportError::new(e))),
            Err(_) => Err(Error::Timeout(TimeoutError::new(timeout))),
        }
    }
}
