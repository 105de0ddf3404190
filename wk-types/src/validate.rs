//! Client-side validation of ids and requests, as the server checks them.
//!
//! The server crashes the WebSocket channel on any invalid id (PROTOCOL.md §7.6), so the SDK checks
//! before sending and returns a [`ValidationError`] without touching the connection.
//!
//! ```
//! use wk_types::{validate, SystemId, CharacterId};
//! assert!(validate::channel_systems(&[SystemId::new(30000142)]).is_ok());
//! let err = validate::channel_characters(&[CharacterId::new(11111111)]).unwrap_err();
//! assert_eq!(err.to_string(), "character id 11111111 is outside 90000000..=3000000000");
//! ```

use std::ops::RangeInclusive;

use crate::http::{BulkSystemsRequest, CreateSubscription};
use crate::ids::{CharacterId, KillmailId, SystemId};
use crate::sse::SseFilter;

/// System ids the WebSocket channel accepts.
pub const CHANNEL_SYSTEM_RANGE: RangeInclusive<i64> = 1..=50_000_000;
/// Character ids the WebSocket channel accepts (player characters only).
pub const CHANNEL_CHARACTER_RANGE: RangeInclusive<i64> = 90_000_000..=3_000_000_000;
/// Most systems in one join or `subscribe_systems` message.
pub const MAX_CHANNEL_SYSTEMS: usize = 10_000;
/// Most characters in one join or `subscribe_characters` message.
pub const MAX_CHANNEL_CHARACTERS: usize = 50_000;
/// Most ids in one SSE query list.
pub const MAX_SSE_IDS: usize = 100;
/// Most systems on one webhook subscription.
pub const MAX_WEBHOOK_SYSTEMS: usize = 100;
/// Most characters on one webhook subscription.
pub const MAX_WEBHOOK_CHARACTERS: usize = 1000;
/// Largest `limit` the kills endpoints accept.
pub const MAX_LIMIT: u32 = 1000;
/// Largest inbound WebSocket frame the server accepts, in bytes.
pub const MAX_INBOUND_FRAME: usize = 131_072;

/// Which kind of id a [`ValidationError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IdKind {
    /// Solar system ids.
    System,
    /// Character ids.
    Character,
    /// Killmail ids.
    Killmail,
}

impl std::fmt::Display for IdKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::System => "system",
            Self::Character => "character",
            Self::Killmail => "killmail",
        })
    }
}

/// Input the server would reject (or crash on), found before sending.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValidationError {
    /// An id outside the range the endpoint accepts.
    #[error("{kind} id {id} is outside {min}..={max}")]
    OutOfRange {
        /// Which kind of id.
        kind: IdKind,
        /// The offending id.
        id: i64,
        /// The smallest accepted id.
        min: i64,
        /// The largest accepted id.
        max: i64,
    },
    /// More ids in one message than the server accepts.
    #[error("{count} {kind} ids exceed the maximum of {max}")]
    TooMany {
        /// Which kind of id.
        kind: IdKind,
        /// How many were given.
        count: usize,
        /// The maximum.
        max: usize,
    },
    /// A list that must not be empty was empty.
    #[error("at least one {kind} id is required")]
    Empty {
        /// Which kind of id.
        kind: IdKind,
    },
    /// Neither systems nor characters were given where one is required.
    #[error("at least one system or character id is required")]
    NoIds,
    /// `min_value` negative, NaN or infinite.
    #[error("min_value must be a finite, non-negative number")]
    InvalidMinValue,
    /// `limit` outside 1..=1000.
    #[error("limit {limit} is outside 1..=1000")]
    InvalidLimit {
        /// The offending limit.
        limit: u32,
    },
    /// `since_hours` of 0.
    #[error("since_hours must be positive")]
    InvalidSinceHours,
    /// A required string field was empty.
    #[error("{field} is required")]
    Missing {
        /// The field's wire name.
        field: &'static str,
    },
    /// `callback_url` is not an `http`/`https` URL with a host.
    #[error("callback_url must be an http or https URL with a host")]
    InvalidCallbackUrl,
}

fn range(
    kind: IdKind,
    ids: impl IntoIterator<Item = i64>,
    r: &RangeInclusive<i64>,
) -> Result<(), ValidationError> {
    match ids.into_iter().find(|id| !r.contains(id)) {
        Some(id) => Err(ValidationError::OutOfRange {
            kind,
            id,
            min: *r.start(),
            max: *r.end(),
        }),
        None => Ok(()),
    }
}

fn count(kind: IdKind, count: usize, max: usize) -> Result<(), ValidationError> {
    if count > max {
        Err(ValidationError::TooMany { kind, count, max })
    } else {
        Ok(())
    }
}

/// Systems for a channel join or `subscribe_systems`/`unsubscribe_systems` message.
///
/// # Errors
/// More than 10,000 ids, or an id outside 1..=50,000,000.
pub fn channel_systems(ids: &[SystemId]) -> Result<(), ValidationError> {
    count(IdKind::System, ids.len(), MAX_CHANNEL_SYSTEMS)?;
    range(
        IdKind::System,
        ids.iter().map(|i| i.get()),
        &CHANNEL_SYSTEM_RANGE,
    )
}

/// Characters for a channel join or `subscribe_characters`/`unsubscribe_characters` message.
///
/// # Errors
/// More than 50,000 ids, or an id outside 90,000,000..=3,000,000,000.
pub fn channel_characters(ids: &[CharacterId]) -> Result<(), ValidationError> {
    count(IdKind::Character, ids.len(), MAX_CHANNEL_CHARACTERS)?;
    range(
        IdKind::Character,
        ids.iter().map(|i| i.get()),
        &CHANNEL_CHARACTER_RANGE,
    )
}

/// A path system id for the HTTP kills endpoints: a positive integer, no upper bound.
///
/// # Errors
/// A system id ≤ 0.
pub fn http_system_id(id: SystemId) -> Result<(), ValidationError> {
    range(IdKind::System, [id.get()], &(1..=i64::MAX))
}

/// A path killmail id: a positive integer.
///
/// # Errors
/// A killmail id ≤ 0.
pub fn killmail_id(id: KillmailId) -> Result<(), ValidationError> {
    range(IdKind::Killmail, [id.get()], &(1..=i64::MAX))
}

/// `since_hours` and `limit` of the kills endpoints.
///
/// # Errors
/// `since_hours` of 0, or `limit` outside 1..=1000.
pub fn window(since_hours: Option<u32>, limit: Option<u32>) -> Result<(), ValidationError> {
    if since_hours == Some(0) {
        return Err(ValidationError::InvalidSinceHours);
    }
    match limit {
        Some(l) if l == 0 || l > MAX_LIMIT => Err(ValidationError::InvalidLimit { limit: l }),
        _ => Ok(()),
    }
}

/// A `POST /kills/systems` body.
///
/// # Errors
/// No system ids, or a bad `since_hours`/`limit`. (The server accepts any integer ids here; ids
/// ≤ 0 simply map to `[]`.)
pub fn bulk_systems(request: &BulkSystemsRequest) -> Result<(), ValidationError> {
    if request.system_ids.is_empty() {
        return Err(ValidationError::Empty {
            kind: IdKind::System,
        });
    }
    window(request.since_hours, request.limit)
}

/// An SSE filter.
///
/// # Errors
/// More than 100 ids in a list, or a negative or non-finite `min_value`.
pub fn sse_filter(filter: &SseFilter) -> Result<(), ValidationError> {
    count(IdKind::System, filter.system_ids.len(), MAX_SSE_IDS)?;
    count(IdKind::Character, filter.character_ids.len(), MAX_SSE_IDS)?;
    match filter.min_value {
        Some(v) if !v.is_finite() || v < 0.0 => Err(ValidationError::InvalidMinValue),
        _ => Ok(()),
    }
}

/// A webhook subscription, in the order the server checks (PROTOCOL.md §6.7). Duplicates count once.
///
/// # Errors
/// The first rule broken: subscriber id, callback URL, non-positive ids, no ids, too many ids.
pub fn subscription(request: &CreateSubscription) -> Result<(), ValidationError> {
    if request.subscriber_id.is_empty() {
        return Err(ValidationError::Missing {
            field: "subscriber_id",
        });
    }
    if request.callback_url.is_empty() {
        return Err(ValidationError::Missing {
            field: "callback_url",
        });
    }
    if !is_http_url(&request.callback_url) {
        return Err(ValidationError::InvalidCallbackUrl);
    }
    let positive = 1..=i64::MAX;
    range(
        IdKind::System,
        request.system_ids.iter().map(|i| i.get()),
        &positive,
    )?;
    range(
        IdKind::Character,
        request.character_ids.iter().map(|i| i.get()),
        &positive,
    )?;
    let systems = distinct(request.system_ids.iter().map(|i| i.get()));
    let characters = distinct(request.character_ids.iter().map(|i| i.get()));
    if systems == 0 && characters == 0 {
        return Err(ValidationError::NoIds);
    }
    count(IdKind::System, systems, MAX_WEBHOOK_SYSTEMS)?;
    count(IdKind::Character, characters, MAX_WEBHOOK_CHARACTERS)
}

fn distinct(ids: impl Iterator<Item = i64>) -> usize {
    ids.collect::<std::collections::BTreeSet<_>>().len()
}

/// Whether `url` has scheme `http` or `https` and a non-empty host, as the server checks it.
#[must_use]
pub fn is_http_url(url: &str) -> bool {
    let rest = if let Some(r) = strip_prefix_ignore_case(url, "https://") {
        r
    } else if let Some(r) = strip_prefix_ignore_case(url, "http://") {
        r
    } else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if host_port.starts_with('[') {
        host_port
            .split(']')
            .next()
            .map(|h| h.trim_start_matches('['))
    } else {
        host_port.split(':').next()
    };
    host.is_some_and(|h| !h.is_empty())
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_ranges_are_inclusive() {
        assert!(channel_systems(&[SystemId::new(1), SystemId::new(50_000_000)]).is_ok());
        assert!(channel_systems(&[SystemId::new(0)]).is_err());
        assert!(channel_systems(&[SystemId::new(50_000_001)]).is_err());
        assert!(
            channel_characters(&[
                CharacterId::new(90_000_000),
                CharacterId::new(3_000_000_000)
            ])
            .is_ok()
        );
        assert!(channel_characters(&[CharacterId::new(89_999_999)]).is_err());
        assert!(channel_characters(&[CharacterId::new(3_000_000_001)]).is_err());
    }

    #[test]
    fn channel_counts_include_duplicates() {
        let ids = vec![SystemId::new(30_000_142); MAX_CHANNEL_SYSTEMS + 1];
        assert_eq!(
            channel_systems(&ids),
            Err(ValidationError::TooMany {
                kind: IdKind::System,
                count: 10_001,
                max: 10_000
            })
        );
    }

    #[test]
    fn subscription_rules_in_server_order() {
        let base = CreateSubscription::new("bot", "https://hooks.example.org/x");
        assert_eq!(subscription(&base), Err(ValidationError::NoIds));
        let ok = base.clone().systems([SystemId::new(30_000_142)]);
        assert!(subscription(&ok).is_ok());
        let bad_url = CreateSubscription::new("bot", "ftp://x").systems([SystemId::new(1)]);
        assert_eq!(
            subscription(&bad_url),
            Err(ValidationError::InvalidCallbackUrl)
        );
        let no_id = CreateSubscription::new("", "https://x");
        assert_eq!(
            subscription(&no_id),
            Err(ValidationError::Missing {
                field: "subscriber_id"
            })
        );
        let many = base.systems((1..=101).map(SystemId::new));
        assert!(matches!(
            subscription(&many),
            Err(ValidationError::TooMany { max: 100, .. })
        ));
    }

    #[test]
    fn urls() {
        assert!(is_http_url("http://127.0.0.1:9/x"));
        assert!(is_http_url("HTTPS://example.org"));
        assert!(is_http_url("http://[::1]:80/"));
        assert!(!is_http_url("http://"));
        assert!(!is_http_url("http:///path"));
        assert!(!is_http_url("mailto:x@y"));
    }

    #[test]
    fn window_rules() {
        assert!(window(Some(24), Some(1000)).is_ok());
        assert_eq!(
            window(Some(0), None),
            Err(ValidationError::InvalidSinceHours)
        );
        assert_eq!(
            window(None, Some(0)),
            Err(ValidationError::InvalidLimit { limit: 0 })
        );
    }

    #[test]
    fn sse_rules() {
        let f = SseFilter::default().min_value(-1.0);
        assert_eq!(f.validate(), Err(ValidationError::InvalidMinValue));
        let f = SseFilter::default().systems((1..=101).map(SystemId::new));
        assert!(f.to_query().is_err());
        assert_eq!(SseFilter::default().to_query().unwrap(), "");
    }
}
