//! The HTTP client a realtime builder makes for itself when it is given none: the same server,
//! the builder's TLS roots or config, its `User-Agent` token and connect timeout, so gap recovery
//! and SSE streams speak to the server as the builder's own connections do.

use std::sync::Arc;
use std::time::Duration;

use crate::error::{ConnectError, Error, Result};

/// What the builder knows that the HTTP client needs.
pub(crate) struct Settings<'a> {
    pub(crate) base: &'a str,
    pub(crate) extra_roots: &'a [Vec<u8>],
    pub(crate) tls: Option<&'a Arc<rustls::ClientConfig>>,
    pub(crate) application: Option<&'a str>,
    pub(crate) connect_timeout: Duration,
}

/// Builds it; a TLS setup that cannot work is a TLS [`Error::Connect`], anything else a bad URL.
pub(crate) fn build(settings: &Settings<'_>) -> Result<wk_http::Client> {
    let mut http = wk_http::Client::builder()
        .base_url(settings.base)
        .connect_timeout(settings.connect_timeout);
    for der in settings.extra_roots {
        http = http.add_root_certificate(der.clone());
    }
    if let Some(tls) = settings.tls {
        http = http.tls_config(tls.clone());
    }
    if let Some(token) = settings.application {
        http = http.application(token);
    }
    http.build().map_err(|e| match e {
        wk_http::Error::Build(b) if b.is_tls() => Error::Connect(ConnectError::tls_config(b)),
        _ => Error::Url(wk_types::redact::url(settings.base)),
    })
}
