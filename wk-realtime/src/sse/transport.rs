//! The streaming request path: hyper-util's pooled client (rustls with the ring provider and the
//! webpki roots for `https://`), one GET per connection attempt, the body left open for reading.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::error::{ConnectError, Error};

/// The server answered something other than an event stream.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the server answered {status} instead of an event stream")]
pub struct StatusError {
    status: StatusCode,
    body: String,
}

impl StatusError {
    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The start of the response body (at most 4 KiB), for diagnostics.
    #[must_use]
    pub fn body(&self) -> &str {
        &self.body
    }
}

/// A rustls config trusting the webpki roots and `extra` DER certificates.
fn client_config(
    provider: Arc<rustls::crypto::CryptoProvider>,
    extra: &[Vec<u8>],
) -> Result<rustls::ClientConfig, Error> {
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in extra {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| Error::Connect(ConnectError::new(e)))?;
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Connect(ConnectError::new(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Why an attempt produced no stream.
#[derive(Debug)]
pub(crate) enum Failure {
    /// `429` or `503`: the server asks the client to come back later, maybe saying when.
    Busy {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
    /// Anything else: transport errors, timeouts, other statuses.
    Failed(Error),
}

#[derive(Clone, Debug)]
pub(crate) struct Transport {
    client: HyperClient<HttpsConnector<HttpConnector>, Empty<Bytes>>,
}

impl Transport {
    pub(crate) fn new(
        tls: Option<Arc<rustls::ClientConfig>>,
        extra_roots: &[Vec<u8>],
        connect_timeout: Duration,
    ) -> Result<Self, Error> {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(connect_timeout));
        http.set_nodelay(true);
        http.enforce_http(false);
        let builder = hyper_rustls::HttpsConnectorBuilder::new();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = match tls {
            Some(config) => builder.with_tls_config(Arc::unwrap_or_clone(config)),
            None if extra_roots.is_empty() => builder
                .with_provider_and_webpki_roots(provider)
                .map_err(|e| Error::Connect(ConnectError::new(e)))?,
            None => builder.with_tls_config(client_config(provider, extra_roots)?),
        };
        let https = builder.https_or_http().enable_http1().wrap_connector(http);
        let client = HyperClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(https);
        Ok(Self { client })
    }

    /// Sends the GET and waits (at most `timeout`) for the response head. A `200` with an
    /// event-stream content type gives the body to read.
    pub(crate) async fn open(
        &self,
        uri: &Uri,
        last_event_id: &str,
        timeout: Duration,
    ) -> Result<Incoming, Failure> {
        let mut req = Request::get(uri.clone())
            .header(header::ACCEPT, "text/event-stream")
            .header(header::CACHE_CONTROL, "no-cache");
        if !last_event_id.is_empty() {
            req = req.header("last-event-id", last_event_id);
        }
        let req = req
            .body(Empty::new())
            .map_err(|e| Failure::Failed(Error::Connect(ConnectError::new(e))))?;
        let resp = match tokio::time::timeout(timeout, self.client.request(req)).await {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => return Err(Failure::Failed(Error::Connect(ConnectError::new(e)))),
            Err(_) => {
                return Err(Failure::Failed(Error::Connect(ConnectError::new(
                    std::io::Error::new(std::io::ErrorKind::TimedOut, "no response in time"),
                ))));
            }
        };
        let status = resp.status();
        let is_stream = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("text/event-stream")
            });
        if status == StatusCode::OK && is_stream {
            return Ok(resp.into_body());
        }
        if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
            let retry_after = wk_retry::retry_after(resp.headers(), SystemTime::now());
            return Err(Failure::Busy {
                status,
                retry_after,
            });
        }
        let body = match tokio::time::timeout(
            Duration::from_secs(2),
            Limited::new(resp.into_body(), 4096).collect(),
        )
        .await
        {
            Ok(Ok(collected)) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
            _ => String::new(),
        };
        Err(Failure::Failed(Error::Connect(ConnectError::new(
            StatusError { status, body },
        ))))
    }
}
