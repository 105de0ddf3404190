//! Opening the WebSocket: TCP, TLS with rustls (ring) for `wss`, and the upgrade.
//!
//! With the `http` feature the TLS config is the HTTP client's own (`ClientBuilder::share_http`):
//! one setup for the server. The config built here serves only the `ws` feature alone, which must
//! not need the HTTP stack, and builders that set TLS for the WebSocket only.

use std::sync::{Arc, OnceLock};

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::burst::BurstRead;
use super::config::Config;
use crate::error::{ConnectError, ConnectPhase, Error};

/// The socket type the driver owns.
pub(crate) type Socket = WebSocketStream<MaybeTlsStream<BurstRead<TcpStream>>>;

/// Small buffers: a killmail frame is a few KB, and thousands of idle connections should stay cheap.
fn ws_config(config: &Config) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(config.read_buffer_size)
        .write_buffer_size(0)
        .max_message_size(Some(config.max_message_size))
        .max_frame_size(Some(config.max_message_size))
}

/// A rustls config (ring provider) trusting the webpki roots and `extra` DER certificates.
fn client_config(extra: &[Vec<u8>]) -> Result<rustls::ClientConfig, Error> {
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in extra {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| Error::Connect(ConnectError::tls_config(e)))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Connect(ConnectError::tls_config(e)))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// The TLS connector: a shared default config, or one that also trusts `extra`.
fn tls(extra: &[Vec<u8>]) -> Result<Connector, Error> {
    static DEFAULT: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    if !extra.is_empty() {
        return Ok(Connector::Rustls(Arc::new(client_config(extra)?)));
    }
    if let Some(config) = DEFAULT.get() {
        return Ok(Connector::Rustls(config.clone()));
    }
    let config = Arc::new(client_config(&[])?);
    Ok(Connector::Rustls(DEFAULT.get_or_init(|| config).clone()))
}

/// Connects and upgrades. `ws://` is plain TCP; `wss://` uses rustls with the webpki roots, or the
/// TLS config the user supplied. Reads go through a [`BurstRead`] buffer.
pub(crate) async fn connect(url: &str, config: &Config) -> Result<Socket, Error> {
    let connector = match &config.tls {
        Some(custom) => Connector::Rustls(custom.clone()),
        None if url.starts_with("wss://") => tls(&config.extra_roots)?,
        None => Connector::Plain,
    };
    let connecting = async {
        let mut request = url.into_client_request()?;
        let agent =
            http::HeaderValue::from_str(&wk_types::user_agent(config.application.as_deref()))
                .unwrap_or(http::HeaderValue::from_static(wk_types::USER_AGENT));
        request
            .headers_mut()
            .insert(http::header::USER_AGENT, agent);
        let tcp = TcpStream::connect(address(request.uri())).await?;
        tcp.set_nodelay(true)?;
        tokio_tungstenite::client_async_tls_with_config(
            request,
            BurstRead::new(tcp),
            Some(ws_config(config)),
            Some(connector),
        )
        .await
    };
    match tokio::time::timeout(config.connect_timeout, connecting).await {
        Ok(Ok((socket, _response))) => Ok(socket),
        Ok(Err(e)) => Err(classify(e)),
        Err(_) => Err(Error::Connect(ConnectError::timeout(
            config.connect_timeout,
        ))),
    }
}

/// Sorts a failed handshake into its phase.
pub(crate) fn classify(e: WsError) -> Error {
    use tokio_tungstenite::tungstenite::error::{ProtocolError, TlsError};
    let error = match e {
        WsError::Http(response) => {
            let (parts, body) = (*response).into_parts();
            ConnectError::refused(
                parts.status,
                parts.headers,
                body.as_deref().unwrap_or_default(),
                None,
            )
        }
        WsError::Url(e) => return Error::Url(e.to_string()),
        WsError::Tls(TlsError::InvalidDnsName) => {
            ConnectError::tls_config(WsError::Tls(TlsError::InvalidDnsName))
        }
        WsError::Tls(TlsError::Rustls(e)) => ConnectError::classify(ConnectPhase::Tls, &*e),
        // The connection ended before the server's answer was complete.
        e @ (WsError::Io(_)
        | WsError::Tls(_)
        | WsError::ConnectionClosed
        | WsError::AlreadyClosed
        | WsError::Protocol(ProtocolError::HandshakeIncomplete)) => {
            ConnectError::classify(ConnectPhase::Connect, &e)
        }
        e => ConnectError::classify(ConnectPhase::Protocol, &e),
    };
    Error::Connect(error)
}

/// The host and port to dial for a `ws://` or `wss://` URI. An IPv6 literal comes bracketed in
/// the URI, and goes to the resolver without brackets.
fn address(uri: &http::Uri) -> (&str, u16) {
    let tls = uri.scheme_str() == Some("wss");
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let host = uri.host().unwrap_or_default();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    (host, port)
}

#[cfg(test)]
mod tests {
    use super::address;

    #[test]
    fn addresses_take_default_ports_and_lose_ipv6_brackets() {
        let cases = [
            ("ws://127.0.0.1:4000/socket/websocket", ("127.0.0.1", 4000)),
            ("ws://[::1]:4000/socket/websocket", ("::1", 4000)),
            ("wss://[::1]/socket/websocket", ("::1", 443)),
            (
                "wss://kills.example/socket/websocket?vsn=2.0.0",
                ("kills.example", 443),
            ),
            ("ws://kills.example/socket/websocket", ("kills.example", 80)),
        ];
        for (url, want) in cases {
            let uri: http::Uri = url.parse().unwrap();
            assert_eq!(address(&uri), want, "{url}");
        }
    }
}
