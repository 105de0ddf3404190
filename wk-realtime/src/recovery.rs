//! Gap recovery shared by the transports: after a reconnect, fetch what the server holds for the
//! subscribed systems and keep what is newer than the last kill seen, minus a margin.
//!
//! The caller de-duplicates: with its window of delivered ids, every kill reaches a user once.
//! Character-only subscriptions cannot be recovered: the server has no per-character endpoint.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use wk_types::{Backfill, Killmail, SystemId, Timestamp};

/// The oldest `kill_time` worth recovering: `anchor - margin`.
#[must_use]
pub(crate) fn cutoff(anchor: Timestamp, margin: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(margin)
        .ok()
        .and_then(|m| anchor.checked_sub(m).ok())
        .unwrap_or(anchor)
}

/// Asks `backfill` for each system in the background and sends every kill with
/// `kill_time >= cutoff`, one batch per system, on `tx`. Failures are logged and skipped.
pub(crate) fn spawn(
    backfill: Arc<dyn Backfill>,
    systems: Vec<SystemId>,
    cutoff: Timestamp,
    tx: mpsc::UnboundedSender<Vec<Killmail>>,
) {
    if systems.is_empty() {
        return;
    }
    tokio::spawn(async move {
        for system in systems {
            match backfill.system_kills(system).await {
                Ok(kills) => {
                    let fresh: Vec<Killmail> = kills
                        .into_iter()
                        .filter(|k| k.kill_time.is_some_and(|t| t >= cutoff))
                        .collect();
                    if !fresh.is_empty() && tx.send(fresh).is_err() {
                        return;
                    }
                }
                Err(e) => tracing::warn!(
                    %system,
                    error = %crate::error::Chain(&*e),
                    "gap recovery failed for a system"
                ),
            }
        }
    });
}
