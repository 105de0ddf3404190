//! Gap recovery shared by the transports: after a reconnect, fetch what the server holds for the
//! subscribed systems and keep what is newer than the last kill seen, minus a margin.
//!
//! The caller de-duplicates: with its window of delivered ids, every kill reaches a user once.
//! Character-only subscriptions cannot be recovered: the server has no per-character endpoint.

use std::time::Duration;

use tokio::sync::mpsc;
use wk_types::{Killmail, SystemId, Timestamp};

/// The oldest `kill_time` worth recovering: `anchor - margin`.
#[must_use]
pub fn cutoff(anchor: Timestamp, margin: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(margin)
        .ok()
        .and_then(|m| anchor.checked_sub(m).ok())
        .unwrap_or(anchor)
}

/// Fetches `GET /kills/cached/{system}` for each system in the background and sends every kill
/// with `kill_time >= cutoff`, one batch per system, on `tx`. Failures are logged and skipped.
pub fn spawn(
    http: wk_http::Client,
    systems: Vec<SystemId>,
    cutoff: Timestamp,
    tx: mpsc::UnboundedSender<Vec<Killmail>>,
) {
    if systems.is_empty() {
        return;
    }
    tokio::spawn(async move {
        for system in systems {
            match http.cached_kills(system).await {
                Ok(list) => {
                    let fresh: Vec<Killmail> = list
                        .kills
                        .into_iter()
                        .filter(|k| k.kill_time.is_some_and(|t| t >= cutoff))
                        .collect();
                    if !fresh.is_empty() && tx.send(fresh).is_err() {
                        return;
                    }
                }
                Err(e) => tracing::warn!(%system, error = %e, "gap recovery failed for a system"),
            }
        }
    });
}
