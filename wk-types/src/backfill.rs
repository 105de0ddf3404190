//! [`Backfill`]: where a realtime client gets the kills it missed while it was away.
//!
//! The WebSocket and SSE clients recover a gap after a reconnect or a rejoin by asking the server
//! what it holds for each subscribed system. They ask through this trait, so a realtime client
//! does not need an HTTP stack of its own: `wk_http::Client` implements it (`GET
//! /api/v1/kills/cached/{system_id}`), the `wk` facade wires the two together, and a test or an
//! application with its own store can supply anything else.

use std::future::Future;
use std::pin::Pin;

use crate::{Killmail, SystemId};

/// The future a [`Backfill`] returns.
pub type BackfillFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Killmail>, BackfillError>> + Send + 'a>>;

/// Why a backfill failed; the client logs it (with its source chain) and skips that system.
pub type BackfillError = Box<dyn std::error::Error + Send + Sync>;

/// A source of the kills the server holds for a system, for gap recovery.
///
/// The client keeps only kills newer than the last one it saw (minus a margin) and drops any it
/// already delivered, so an implementation may return more than the gap.
///
/// ```
/// use wk_types::{Backfill, BackfillFuture, Killmail, SystemId};
///
/// /// Answers from kills the application stored itself.
/// struct Stored(Vec<Killmail>);
///
/// impl Backfill for Stored {
///     fn system_kills(&self, system: SystemId) -> BackfillFuture<'_> {
///         let kills = self.0.iter().filter(|k| k.system_id == Some(system)).cloned().collect();
///         Box::pin(async move { Ok(kills) })
///     }
/// }
/// ```
pub trait Backfill: Send + Sync + 'static {
    /// The kills the server holds for `system`, in any order.
    fn system_kills(&self, system: SystemId) -> BackfillFuture<'_>;
}

/// A shared backfill, so the application can keep a handle on it.
impl<T: Backfill + ?Sized> Backfill for std::sync::Arc<T> {
    fn system_kills(&self, system: SystemId) -> BackfillFuture<'_> {
        (**self).system_kills(system)
    }
}
