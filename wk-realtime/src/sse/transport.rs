//! The streaming request path: hyper-util's pooled client (rustls with the ring provider and the
//! webpki roots for `https://`), one GET per connection attempt, the body left open for reading.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use crate::error::{BODY_EXCERPT, ConnectError, ConnectPhase, Error};

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
            .map_err(|e| Error::Connect(ConnectError::tls_config(e)))?;
    }
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Connect(ConnectError::tls_config(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[derive(Clone, Debug)]
pub(crate) struct Transport {
    client: HyperClient<HttpsConnector<HttpConnector>, Empty<Bytes>>,
    user_agent: http::HeaderValue,
}

impl Transport {
    pub(crate) fn new(
        tls: Option<Arc<rustls::ClientConfig>>,
        extra_roots: &[Vec<u8>],
        connect_timeout: Duration,
        user_agent: &str,
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
                .map_err(|e| Error::Connect(ConnectError::tls_config(e)))?,
            None => builder.with_tls_config(client_config(provider, extra_roots)?),
        };
        let https = builder.https_or_http().enable_http1().wrap_connector(http);
        let client = HyperClient::builder(TokioExecutor::new())
            .pool_timer(TokioTimer::new())
            .timer(TokioTimer::new())
            .build(https);
        let user_agent = http::HeaderValue::from_str(user_agent)
            .unwrap_or(http::HeaderValue::from_static(wk_types::USER_AGENT));
        Ok(Self { client, user_agent })
    }

    /// Sends the GET and waits (at most `timeout`) for the response head. A `200` with an
    /// event-stream content type gives the body to read; anything else is a [`ConnectError`] of
    /// its phase.
    pub(crate) async fn open(
        &self,
        uri: &Uri,
        last_event_id: &str,
        timeout: Duration,
    ) -> Result<Incoming, ConnectError> {
        let mut req = Request::get(uri.clone())
            .header(header::ACCEPT, "text/event-stream")
            .header(header::CACHE_CONTROL, "no-cache")
            .header(header::USER_AGENT, self.user_agent.clone());
        if !last_event_id.is_empty() {
            req = req.header("last-event-id", last_event_id);
        }
        let req = req
            .body(Empty::new())
            .map_err(|e| ConnectError::classify(ConnectPhase::Protocol, &e))?;
        let resp = match tokio::time::timeout(timeout, self.client.request(req)).await {
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => return Err(classify(&e)),
            Err(_) => return Err(ConnectError::timeout(timeout)),
        };
        let status = resp.status();
        let content_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .trim_start()
            .to_ascii_lowercase();
        if status == StatusCode::OK && content_type.starts_with("text/event-stream") {
            return Ok(resp.into_body());
        }
        let detail = (status == StatusCode::OK)
            .then(|| format!("content type `{content_type}`, not an event stream"));
        let (parts, body) = resp.into_parts();
        // The body only explains; a server that sends it slowly does not hold the attempt up.
        let body = match tokio::time::timeout(
            Duration::from_secs(2),
            Limited::new(body, BODY_EXCERPT).collect(),
        )
        .await
        {
            Ok(Ok(collected)) => collected.to_bytes(),
            _ => Bytes::new(),
        };
        Err(ConnectError::refused(status, parts.headers, &body, detail))
    }
}

/// Sorts a failed request into its phase: connecting (DNS, TCP, TLS), or a broken answer.
fn classify(e: &hyper_util::client::legacy::Error) -> ConnectError {
    let mut phase = ConnectPhase::Connect;
    if !e.is_connect() {
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(cause) = next {
            if cause
                .downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_parse)
            {
                phase = ConnectPhase::Protocol;
                break;
            }
            next = cause.source();
        }
    }
    ConnectError::classify(phase, e)
}
