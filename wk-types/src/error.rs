//! The server's five error body shapes (PROTOCOL.md §3) behind one [`ErrorBody`], and [`DecodeError`].

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

string_enum! {
    /// A `code` string from the standard API error shape (UPPER_SNAKE_CASE) or the debug refusal.
    pub enum ErrorCode {
        /// `400`: a bad system id, or on `/kills/system` a bad `since_hours` or `limit` too.
        InvalidSystemId = "INVALID_SYSTEM_ID",
        /// `400`: bad `system_ids` in `POST /kills/systems`.
        InvalidSystemIds = "INVALID_SYSTEM_IDS",
        /// `400`: bad `since_hours` or `limit` in `POST /kills/systems`.
        InvalidParameters = "INVALID_PARAMETERS",
        /// `400`: a bad killmail id.
        InvalidKillmailId = "INVALID_KILLMAIL_ID",
        /// `404`: killmail not found, or an undefined `/api/v1` path.
        NotFound = "NOT_FOUND",
        /// `500`: upstream failure or an exhausted internal rate budget; retry with backoff.
        FetchError = "FETCH_ERROR",
        /// `403`: a debug endpoint in a production build.
        Forbidden = "forbidden",
    }
}

string_enum! {
    /// The `type` of a structured (SSE, health) error.
    pub enum ErrorType {
        /// An SSE query parameter failed validation.
        InvalidFormat = "invalid_format",
        /// The enhanced SSE stream is at its connection cap.
        ConnectionLimitReached = "connection_limit_reached",
        /// `/health` itself failed.
        HealthCheckFailed = "health_check_failed",
    }
}

/// Any error body the server sends, in one of its five shapes (PROTOCOL.md §3).
///
/// ```
/// use wk_types::{ErrorBody, ErrorCode};
/// let body: ErrorBody = serde_json::from_str(
///     r#"{"error":"Invalid system ID format","code":"INVALID_SYSTEM_ID","details":null,"timestamp":"2025-12-03T14:25:02.417735Z"}"#,
/// )?;
/// assert_eq!(body.code(), Some(&ErrorCode::InvalidSystemId));
/// assert_eq!(body.message(), "Invalid system ID format");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum ErrorBody {
    /// §3.1: `{"error", "code", "details", "timestamp"}` from the kills endpoints.
    Api(ApiError),
    /// §3.2: `{"error": {"message", "details"}}` from `POST /subscriptions`.
    Subscription(SubscriptionError),
    /// §3.3: `{"error": {"domain", "type", "message", "details", "retryable"}}` from SSE and `/health`.
    Structured(StructuredError),
    /// §3.4: `{"error": <reason phrase>, "status": "<code>"}` from the framework.
    Fallback(FallbackError),
    /// §3.5: `{"error": "Forbidden", "code": "forbidden", "message"}` from debug endpoints.
    Forbidden(ForbiddenError),
    /// A JSON body in none of the known shapes, kept whole.
    Other(
        #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema::any"))]
        serde_json::Value,
    ),
}

impl ErrorBody {
    /// The human-readable message, whichever shape carried it (empty for an unknown shape).
    #[must_use]
    pub fn message(&self) -> &str {
        match self {
            Self::Api(e) => &e.error,
            Self::Subscription(e) => &e.error.message,
            Self::Structured(e) => &e.error.message,
            Self::Fallback(e) => &e.error,
            Self::Forbidden(e) => &e.message,
            Self::Other(_) => "",
        }
    }

    /// The machine-readable code, for the shapes that carry one.
    #[must_use]
    pub fn code(&self) -> Option<&ErrorCode> {
        match self {
            Self::Api(e) => Some(&e.code),
            Self::Forbidden(e) => Some(&e.code),
            _ => None,
        }
    }

    /// The structured error's `type`, for the SSE and health shape.
    #[must_use]
    pub fn error_type(&self) -> Option<&ErrorType> {
        match self {
            Self::Structured(e) => Some(&e.error.kind),
            _ => None,
        }
    }

    /// Whether the body itself says retrying may help: `FETCH_ERROR`, a fallback 5xx, a connection
    /// limit, or a structured error marked `retryable`.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api(e) => e.code == ErrorCode::FetchError,
            Self::Structured(e) => {
                e.error.retryable == Some(true) || e.error.kind == ErrorType::ConnectionLimitReached
            }
            Self::Fallback(e) => e.status.starts_with('5'),
            _ => false,
        }
    }
}

impl<'de> Deserialize<'de> for ErrorBody {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = serde_json::Value::deserialize(deserializer)?;
        let parse = |v: serde_json::Value| -> Result<Self, D::Error> {
            let shape = match v.get("error") {
                Some(serde_json::Value::Object(inner)) => {
                    if inner.contains_key("type") || inner.contains_key("domain") {
                        Shape::Structured
                    } else if inner.contains_key("message") {
                        Shape::Subscription
                    } else {
                        Shape::Other
                    }
                }
                Some(serde_json::Value::String(_)) => {
                    if v.get("status").is_some_and(serde_json::Value::is_string) {
                        Shape::Fallback
                    } else if v.get("message").is_some() {
                        Shape::Forbidden
                    } else if v.get("code").is_some() {
                        Shape::Api
                    } else {
                        Shape::Other
                    }
                }
                _ => Shape::Other,
            };
            Ok(match shape {
                Shape::Api => Self::Api(serde_json::from_value(v).map_err(D::Error::custom)?),
                Shape::Subscription => {
                    Self::Subscription(serde_json::from_value(v).map_err(D::Error::custom)?)
                }
                Shape::Structured => {
                    Self::Structured(serde_json::from_value(v).map_err(D::Error::custom)?)
                }
                Shape::Fallback => {
                    Self::Fallback(serde_json::from_value(v).map_err(D::Error::custom)?)
                }
                Shape::Forbidden => {
                    Self::Forbidden(serde_json::from_value(v).map_err(D::Error::custom)?)
                }
                Shape::Other => Self::Other(v),
            })
        };
        parse(value)
    }
}

enum Shape {
    Api,
    Subscription,
    Structured,
    Fallback,
    Forbidden,
    Other,
}

/// §3.1: the standard API error of the kills endpoints and the `/api/v1` catch-all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ApiError {
    /// The message, e.g. `"Invalid system ID format"`.
    pub error: String,
    /// The code, e.g. `INVALID_SYSTEM_ID`.
    pub code: ErrorCode,
    /// `null`, except `{"reason": <free text>}` for `FETCH_ERROR`.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema::any"))]
    pub details: Option<serde_json::Value>,
    /// When the server answered.
    #[serde(serialize_with = "crate::de::server_time", default)]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "crate::de::schema::opt_timestamp")
    )]
    pub timestamp: Option<Timestamp>,
}

/// §3.2: the subscription endpoint's error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SubscriptionError {
    /// The nested error object.
    pub error: SubscriptionErrorDetail,
}

/// The inner object of [`SubscriptionError`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SubscriptionErrorDetail {
    /// The validation message, e.g. `"subscriber_id is required"`.
    pub message: String,
    /// In practice the same string as `message`.
    #[serde(default)]
    pub details: Option<String>,
}

/// §3.3: the structured error of the SSE endpoints and `/health`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct StructuredError {
    /// The nested error object.
    pub error: StructuredErrorDetail,
}

/// The inner object of [`StructuredError`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct StructuredErrorDetail {
    /// `"validation"` or `"system"`; absent on the connection-limit 503.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// What went wrong.
    #[serde(rename = "type")]
    pub kind: ErrorType,
    /// The message.
    pub message: String,
    /// Extra detail (`null` for validation errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(schema_with = "crate::de::schema::any"))]
    pub details: Option<serde_json::Value>,
    /// Whether retrying can help (`false` for validation errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retryable: Option<bool>,
}

/// §3.4: the framework's fallback error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct FallbackError {
    /// The HTTP reason phrase, e.g. `"Not Found"`.
    pub error: String,
    /// The status code as a string, e.g. `"404"`.
    pub status: String,
}

/// §3.5: the debug-endpoint refusal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ForbiddenError {
    /// `"Forbidden"`.
    pub error: String,
    /// `forbidden`.
    pub code: ErrorCode,
    /// Why.
    pub message: String,
}

/// A body that did not decode into the expected type, with the JSON path of the bad value.
///
/// ```
/// let err = wk_types::decode::from_str::<wk_types::Killmail>(r#"{"killmail_id":1,"victim":{"damage_taken":"x"}}"#)
///     .unwrap_err();
/// assert_eq!(err.path(), "victim.damage_taken");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid JSON at `{path}`: {message}")]
pub struct DecodeError {
    path: String,
    message: String,
    line: usize,
    column: usize,
}

impl DecodeError {
    pub(crate) fn new(path: String, inner: &serde_json::Error) -> Self {
        // serde_json appends " at line L column C"; keep the message without it.
        let full = inner.to_string();
        let message = match full.rfind(" at line ") {
            Some(at) if inner.line() > 0 => full[..at].to_owned(),
            _ => full,
        };
        Self {
            path,
            message,
            line: inner.line(),
            column: inner.column(),
        }
    }

    /// The JSON path of the value that failed, e.g. `data.kills[3].victim.damage_taken` (`.` for the root).
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What was wrong with it.
    #[must_use]
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The 1-based line of the input where decoding stopped (0 when unknown).
    #[must_use]
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column of the input where decoding stopped (0 when unknown).
    #[must_use]
    pub fn column(&self) -> usize {
        self.column
    }
}
