//! The complete WandererKills wire model, as the real server puts it on the wire.
//!
//! This crate has no IO. It gives every other crate of the SDK (and your own code) one set of types for:
//!
//! - [`Killmail`] in all three server shapes (canonical, stored, zKillboard reference), with
//!   [`Killmail::shape`] to tell which arrived, and [`KillmailRef`], the same killmail with its
//!   strings borrowed from the input (no copy per name);
//! - typed ids ([`KillmailId`], [`SystemId`], [`CharacterId`], …) and [`SubscriptionId`];
//! - HTTP envelopes and payloads in [`http`], and every error body shape behind [`ErrorBody`];
//! - Phoenix Channels frames, join params, replies and pushes in [`phoenix`];
//! - SSE filters and enhanced-stream events in [`sse`];
//! - webhook bodies and their pure parser in [`webhook`];
//! - client-side [`validate`] functions that refuse what the server would reject or crash on;
//! - [`redact`], which masks credentials in URLs before they reach logs, `Debug` or errors.
//!
//! Decoding follows PROTOCOL.md §2: absent keys and `null` are the same, unknown keys are ignored,
//! money and coordinates are `f64` (so `1.0e4` parses), and ids are `i64`. Use [`decode`] for errors
//! that name the JSON path of the bad value; its [`decode::killmail_ref`], [`decode::killmail`] and
//! [`decode::killmail_update`] read killmails with a hand-written reader, several times faster than
//! serde alone, with the same results and errors.
//!
//! ```
//! use wk_types::{decode, http::Envelope, http::KillList, KillmailShape};
//!
//! let body = r#"{"data":{"kills":[{"killmail_id":131588301,"zkb":{"hash":"4b1e","totalValue":1.0e4}}],
//!                "timestamp":"2025-12-03T14:25:02.417735Z","cached":false},
//!                "timestamp":"2025-12-03T14:25:02.417735Z"}"#;
//! let page: Envelope<KillList> = decode::from_str(body)?;
//! let kill = &page.data.kills[0];
//! assert_eq!(kill.shape(), KillmailShape::Reference);
//! assert_eq!(kill.total_value(), Some(10_000.0));
//! # Ok::<(), wk_types::DecodeError>(())
//! ```
//!
//! ## Features
//!
//! | Name | Description | Default |
//! |---|---|---|
//! | `schema` | derives `schemars::JsonSchema` for every wire type (used by `cargo xtask codegen`) | no |

#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
mod macros;

mod backfill;
mod de;
pub mod decode;
mod error;
mod ids;
mod killmail;
mod killmail_ref;
mod scan;

pub mod http;
pub mod phoenix;
pub mod redact;
pub mod sse;
pub mod validate;
pub mod webhook;

pub use backfill::{Backfill, BackfillError, BackfillFuture};
pub use error::{
    ApiError, DecodeError, ErrorBody, ErrorCode, ErrorType, FallbackError, ForbiddenError,
    StructuredError, StructuredErrorDetail, SubscriptionError, SubscriptionErrorDetail,
};
pub use ids::{
    AllianceId, CharacterId, CorporationId, FactionId, KillmailId, LocationId, SubscriptionId,
    SystemId, TypeId,
};
pub use killmail::{
    AllianceInfo, Attacker, CharacterInfo, CorporationInfo, Item, Killmail, KillmailShape,
    Position, Victim, Zkb,
};
pub use killmail_ref::{AttackerRef, KillmailRef, VictimRef, ZkbRef};
pub use validate::ValidationError;

/// Re-exported so users can name timestamps without adding `jiff` themselves.
pub use jiff::Timestamp;

/// The `User-Agent` every wk request carries by default: `wk/<version>`.
pub const USER_AGENT: &str = concat!("wk/", env!("CARGO_PKG_VERSION"));

/// The `User-Agent` for an application `token` (`<token> wk/<version>`), or [`USER_AGENT`] when
/// the token is absent or blank. Upstream feeds ask clients to identify themselves; every wk
/// builder takes the token through its `application(..)` method.
///
/// ```
/// assert_eq!(wk_types::user_agent(None), wk_types::USER_AGENT);
/// assert_eq!(
///     wk_types::user_agent(Some("intel-bot/1.2")),
///     format!("intel-bot/1.2 {}", wk_types::USER_AGENT)
/// );
/// ```
#[must_use]
pub fn user_agent(application: Option<&str>) -> String {
    match application.map(str::trim).filter(|t| !t.is_empty()) {
        Some(token) => format!("{token} {USER_AGENT}"),
        None => USER_AGENT.to_owned(),
    }
}
