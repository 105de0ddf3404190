//! Pure request building: every endpoint becomes an `http::Request<Bytes>` without IO.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, header};
use wk_retry::RetryMode;
use wk_types::http::{BulkSystemsRequest, CreateSubscription};
use wk_types::{KillmailId, SystemId, validate};

use crate::error::BuildError;

/// Timeout for endpoints the server answers from zKillboard or ESI (PROTOCOL.md §6.2, §6.5: ≥ 75–90 s).
pub const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(90);
/// Timeout for endpoints the server answers from memory.
pub const LOCAL_TIMEOUT: Duration = Duration::from_secs(30);
/// Timeout for health and info endpoints.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// The per-attempt timeout a request carries as an extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AttemptTimeout(pub(crate) Duration);

/// A validated base URL: `http(s)://host[:port][/prefix]` without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BaseUrl(String);

impl BaseUrl {
    pub(crate) fn parse(url: &str) -> Result<Self, BuildError> {
        let uri: http::Uri = url.parse().map_err(|_| BuildError::base_url(url))?;
        let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
        // Userinfo is refused: never sent as credentials, and logged by the HTTP stack below.
        if !scheme_ok
            || uri.authority().is_none()
            || uri.query().is_some()
            || wk_types::redact::has_userinfo(url)
        {
            return Err(BuildError::base_url(url));
        }
        Ok(Self(url.trim_end_matches('/').to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// One call, before it becomes a request.
#[derive(Clone, Debug)]
pub(crate) struct Call {
    /// The operation name for tracing (`otel.name`).
    pub(crate) op: &'static str,
    pub(crate) method: Method,
    /// Path from the server root, starting with `/`, already percent-encoded.
    pub(crate) path: String,
    pub(crate) query: Vec<(&'static str, String)>,
    pub(crate) body: Option<Bytes>,
    pub(crate) timeout: Duration,
    /// Set when the caller chose this call's timeout; a client-wide timeout then does not apply.
    pub(crate) timeout_overridden: bool,
    pub(crate) retry: RetryMode,
}

impl Call {
    fn get(op: &'static str, path: String, timeout: Duration) -> Self {
        Self {
            op,
            method: Method::GET,
            path,
            query: Vec::new(),
            body: None,
            timeout,
            timeout_overridden: false,
            retry: RetryMode::Idempotent,
        }
    }

    /// Builds the request: URL, method, JSON headers, body, retry mode and timeout extensions.
    pub(crate) fn build(&self, base: &BaseUrl) -> Result<Request<Bytes>, BuildError> {
        let mut url = format!("{}{}", base.as_str(), self.path);
        for (i, (key, value)) in self.query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(key);
            url.push('=');
            url.push_str(&encode_component(value));
        }
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(url)
            .header(header::ACCEPT, HeaderValue::from_static("application/json"));
        if self.body.is_some() {
            builder = builder.header(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        let mut req = builder
            .body(self.body.clone().unwrap_or_default())
            .map_err(BuildError::http)?;
        req.extensions_mut().insert(self.retry);
        req.extensions_mut().insert(AttemptTimeout(self.timeout));
        Ok(req)
    }
}

/// `GET /api/v1/kills/system/{id}?since_hours&limit`.
pub(crate) fn system_kills(
    system: SystemId,
    since_hours: Option<u32>,
    limit: Option<u32>,
) -> Result<Call, BuildError> {
    validate::http_system_id(system).map_err(BuildError::invalid)?;
    validate::window(since_hours, limit).map_err(BuildError::invalid)?;
    let mut call = Call::get(
        "system_kills",
        format!("/api/v1/kills/system/{system}"),
        UPSTREAM_TIMEOUT,
    );
    if let Some(h) = since_hours {
        call.query.push(("since_hours", h.to_string()));
    }
    if let Some(l) = limit {
        call.query.push(("limit", l.to_string()));
    }
    Ok(call)
}

/// `POST /api/v1/kills/systems`. It only reads, so it is marked safe to retry.
pub(crate) fn systems_kills(request: &BulkSystemsRequest) -> Result<Call, BuildError> {
    validate::bulk_systems(request).map_err(BuildError::invalid)?;
    let body = serde_json::to_vec(request).map_err(BuildError::encode)?;
    Ok(Call {
        op: "systems_kills",
        method: Method::POST,
        path: "/api/v1/kills/systems".to_owned(),
        query: Vec::new(),
        body: Some(body.into()),
        timeout: UPSTREAM_TIMEOUT,
        timeout_overridden: false,
        retry: RetryMode::Always,
    })
}

/// `GET /api/v1/kills/cached/{id}`.
pub(crate) fn cached_kills(system: SystemId) -> Result<Call, BuildError> {
    validate::http_system_id(system).map_err(BuildError::invalid)?;
    Ok(Call::get(
        "cached_kills",
        format!("/api/v1/kills/cached/{system}"),
        LOCAL_TIMEOUT,
    ))
}

/// `GET /api/v1/killmail/{id}`.
pub(crate) fn killmail(id: KillmailId) -> Result<Call, BuildError> {
    validate::killmail_id(id).map_err(BuildError::invalid)?;
    Ok(Call::get(
        "killmail",
        format!("/api/v1/killmail/{id}"),
        UPSTREAM_TIMEOUT,
    ))
}

/// `GET /api/v1/kills/count/{id}`.
pub(crate) fn kill_count(system: SystemId) -> Result<Call, BuildError> {
    validate::http_system_id(system).map_err(BuildError::invalid)?;
    Ok(Call::get(
        "kill_count",
        format!("/api/v1/kills/count/{system}"),
        LOCAL_TIMEOUT,
    ))
}

/// `POST /api/v1/subscriptions`. Never retried: a replay would create a second subscription.
pub(crate) fn create_subscription(request: &CreateSubscription) -> Result<Call, BuildError> {
    validate::subscription(request).map_err(BuildError::invalid)?;
    let body = serde_json::to_vec(request).map_err(BuildError::encode)?;
    Ok(Call {
        op: "create_subscription",
        method: Method::POST,
        path: "/api/v1/subscriptions".to_owned(),
        query: Vec::new(),
        body: Some(body.into()),
        timeout: LOCAL_TIMEOUT,
        timeout_overridden: false,
        retry: RetryMode::Never,
    })
}

/// `GET /api/v1/subscriptions`.
pub(crate) fn subscriptions() -> Call {
    Call::get(
        "list_subscriptions",
        "/api/v1/subscriptions".to_owned(),
        LOCAL_TIMEOUT,
    )
}

/// `GET /api/v1/subscriptions/stats`.
pub(crate) fn subscription_stats() -> Call {
    Call::get(
        "subscription_stats",
        "/api/v1/subscriptions/stats".to_owned(),
        LOCAL_TIMEOUT,
    )
}

/// `DELETE /api/v1/subscriptions/{subscriber_id}` (idempotent: deleting twice is harmless).
pub(crate) fn delete_subscription(subscriber_id: &str) -> Result<Call, BuildError> {
    if subscriber_id.is_empty() {
        return Err(BuildError::invalid(wk_types::ValidationError::Missing {
            field: "subscriber_id",
        }));
    }
    let mut call = Call::get(
        "delete_subscription",
        format!("/api/v1/subscriptions/{}", encode_component(subscriber_id)),
        LOCAL_TIMEOUT,
    );
    call.method = Method::DELETE;
    Ok(call)
}

/// One of the root-level info endpoints (`/ping`, `/health`, …) or `/api/openapi`.
pub(crate) fn info(op: &'static str, path: &'static str) -> Call {
    let timeout = if path == "/api/openapi" {
        LOCAL_TIMEOUT
    } else {
        HEALTH_TIMEOUT
    };
    Call::get(op, path.to_owned(), timeout)
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn encode_component(s: &str) -> std::borrow::Cow<'_, str> {
    let unreserved = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    if s.bytes().all(unreserved) {
        return s.into();
    }
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wk_types::{CharacterId, ValidationError};

    fn base() -> BaseUrl {
        BaseUrl::parse("http://127.0.0.1:4004/").unwrap()
    }

    #[test]
    fn base_urls() {
        assert_eq!(base().as_str(), "http://127.0.0.1:4004");
        assert_eq!(
            BaseUrl::parse("https://kills.example.org/wk")
                .unwrap()
                .as_str(),
            "https://kills.example.org/wk"
        );
        for bad in [
            "",
            "127.0.0.1:4004",
            "ftp://x",
            "http://",
            "http://h/?q=1",
            "not a url",
        ] {
            assert!(BaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn system_kills_request() {
        let req = system_kills(SystemId::new(30000142), Some(24), Some(50))
            .unwrap()
            .build(&base())
            .unwrap();
        assert_eq!(req.method(), Method::GET);
        assert_eq!(
            req.uri(),
            "http://127.0.0.1:4004/api/v1/kills/system/30000142?since_hours=24&limit=50"
        );
        assert_eq!(req.headers()[header::ACCEPT], "application/json");
        assert!(req.headers().get(header::CONTENT_TYPE).is_none());
        assert_eq!(
            req.extensions().get::<AttemptTimeout>(),
            Some(&AttemptTimeout(UPSTREAM_TIMEOUT))
        );
        assert_eq!(
            req.extensions().get::<RetryMode>(),
            Some(&RetryMode::Idempotent)
        );
        let bare = system_kills(SystemId::new(1), None, None)
            .unwrap()
            .build(&base())
            .unwrap();
        assert_eq!(bare.uri(), "http://127.0.0.1:4004/api/v1/kills/system/1");
    }

    #[test]
    fn invalid_input_is_refused_before_building() {
        let e = system_kills(SystemId::new(0), None, None).unwrap_err();
        assert!(matches!(
            e.validation(),
            Some(ValidationError::OutOfRange { id: 0, .. })
        ));
        assert!(system_kills(SystemId::new(1), None, Some(1001)).is_err());
        assert!(system_kills(SystemId::new(1), Some(0), None).is_err());
        assert!(killmail(KillmailId::new(-5)).is_err());
        assert!(cached_kills(SystemId::new(0)).is_err());
        assert!(kill_count(SystemId::new(-1)).is_err());
        assert!(systems_kills(&BulkSystemsRequest::new(vec![])).is_err());
        assert!(delete_subscription("").is_err());
        let no_ids = CreateSubscription::new("bot", "https://example.org/hook");
        assert_eq!(
            create_subscription(&no_ids).unwrap_err().validation(),
            Some(&ValidationError::NoIds)
        );
    }

    #[test]
    fn http_ids_have_no_upper_bound() {
        // Unlike the WebSocket, the HTTP endpoints accept any positive system id.
        assert!(cached_kills(SystemId::new(60_000_000)).is_ok());
    }

    #[test]
    fn bulk_request_is_a_retryable_json_post() {
        let mut body =
            BulkSystemsRequest::new(vec![SystemId::new(30000142), SystemId::new(30000144)]);
        body.limit = Some(10);
        let req = systems_kills(&body).unwrap().build(&base()).unwrap();
        assert_eq!(req.method(), Method::POST);
        assert_eq!(req.uri(), "http://127.0.0.1:4004/api/v1/kills/systems");
        assert_eq!(req.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(
            req.body().as_ref(),
            br#"{"system_ids":[30000142,30000144],"limit":10}"#
        );
        assert_eq!(
            req.extensions().get::<RetryMode>(),
            Some(&RetryMode::Always)
        );
    }

    #[test]
    fn subscription_create_is_never_retried() {
        let body = CreateSubscription::new("bot", "https://example.org/hook")
            .characters([CharacterId::new(95465499)]);
        let req = create_subscription(&body).unwrap().build(&base()).unwrap();
        assert_eq!(req.extensions().get::<RetryMode>(), Some(&RetryMode::Never));
        let json: serde_json::Value = serde_json::from_slice(req.body()).unwrap();
        assert_eq!(json["character_ids"][0], 95465499);
        assert_eq!(json["subscriber_id"], "bot");
    }

    #[test]
    fn subscriber_ids_are_percent_encoded() {
        let req = delete_subscription("tama bot/1")
            .unwrap()
            .build(&base())
            .unwrap();
        assert_eq!(req.method(), Method::DELETE);
        assert_eq!(
            req.uri(),
            "http://127.0.0.1:4004/api/v1/subscriptions/tama%20bot%2F1"
        );
    }

    #[test]
    fn info_endpoints_have_short_timeouts() {
        let req = info("health", "/health").build(&base()).unwrap();
        assert_eq!(req.uri(), "http://127.0.0.1:4004/health");
        assert_eq!(
            req.extensions().get::<AttemptTimeout>(),
            Some(&AttemptTimeout(HEALTH_TIMEOUT))
        );
    }

    #[test]
    fn prefixed_base_urls_keep_their_prefix() {
        let base = BaseUrl::parse("https://proxy.example.org/wk/").unwrap();
        let req = killmail(KillmailId::new(7)).unwrap().build(&base).unwrap();
        assert_eq!(req.uri(), "https://proxy.example.org/wk/api/v1/killmail/7");
    }
}
