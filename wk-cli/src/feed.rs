//! Opening a live feed on a transport: a stream of [`KillEvent`]s plus a stream of [`Notice`]s
//! about the connection. The tail loop only sees these two streams, so any transport plugs in.

use std::pin::Pin;
use std::time::Duration;

use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use wk::ws::ConnectionState;
use wk::{Filter, KillEvent};

use crate::error::Failure;

/// What happened to the connection under a feed (reported on stderr).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Notice {
    /// The connection dropped; the next attempt is in `retry_in`.
    Disconnected {
        /// Failed attempts so far.
        attempt: u32,
        /// Delay before the next attempt.
        retry_in: Duration,
    },
    /// Connected and subscribed (again).
    Connected,
    /// The client shut down.
    Closed,
}

/// Notices of a feed, boxed so every transport returns the same type.
pub(crate) type Notices = Pin<Box<dyn Stream<Item = Notice> + Send>>;

/// Subscribes over the WebSocket and turns the connection state into [`Notice`]s.
pub(crate) async fn websocket(
    client: &wk::Client,
    filter: Filter,
) -> Result<(wk::ws::Subscription, Notices), Failure> {
    let url = client.base_url().to_owned();
    let subscription = client
        .subscribe(filter)
        .await
        .map_err(|e| Failure::sdk(&e, &url))?;
    let state = subscription.client().state();
    let notices = stream::unfold(state, |mut state| async move {
        state.changed().await.ok()?;
        let now = state.borrow_and_update().clone();
        Some((now, state))
    })
    .filter_map(|state| async move { notice(&state) });
    Ok((subscription, Box::pin(notices)))
}

fn notice(state: &ConnectionState) -> Option<Notice> {
    match state {
        ConnectionState::Reconnecting { attempt, delay } => Some(Notice::Disconnected {
            attempt: *attempt,
            retry_in: *delay,
        }),
        ConnectionState::Joined => Some(Notice::Connected),
        ConnectionState::Closed => Some(Notice::Closed),
        _ => None,
    }
}

/// The events of the SSE transport: a stream of the same [`KillEvent`]s as the WebSocket.
pub(crate) type SseEvents = stream::Empty<Result<KillEvent, wk_realtime::Error>>;

/// Opens the basic SSE stream (`/api/v1/kills/stream`) for `filter`.
///
/// The SSE client is not part of this build yet; until it is wired in, this refuses with a clear
/// message. It returns the same pair of streams as [`websocket`], so the tail loop needs no change.
pub(crate) async fn sse(
    client: &wk::Client,
    filter: Filter,
) -> Result<(SseEvents, Notices), Failure> {
    let _ = (client, filter);
    Err(Failure::usage(
        "the SSE transport is not available in this build; use --transport ws",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnects_become_notices() {
        assert_eq!(
            notice(&ConnectionState::Reconnecting {
                attempt: 2,
                delay: Duration::from_secs(1)
            }),
            Some(Notice::Disconnected {
                attempt: 2,
                retry_in: Duration::from_secs(1)
            })
        );
        assert_eq!(notice(&ConnectionState::Joined), Some(Notice::Connected));
        assert_eq!(notice(&ConnectionState::Connected), None);
    }
}
