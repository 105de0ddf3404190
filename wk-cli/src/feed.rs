//! Opening a live feed on a transport: a stream of [`wk::KillEvent`]s plus a stream of [`Notice`]s
//! about the connection. The tail loop only sees these two streams, so any transport plugs in.

use std::pin::Pin;
use std::time::Duration;

use futures_util::Stream;
use futures_util::stream::{self, StreamExt};
use wk::Filter;
use wk::ws::ConnectionState;

use crate::error::Failure;

/// What happened to the connection under a feed (reported on stderr).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Notice {
    /// The connection dropped or an attempt failed; attempt `attempt` is in `retry_in`.
    Disconnected {
        /// The attempt it waits for (1 after a stable connection was lost).
        attempt: u32,
        /// Delay before the next attempt.
        retry_in: Duration,
    },
    /// The channel was lost (crashed, closed, or a reply never came) while the socket stays;
    /// rejoin `attempt` is in `retry_in`.
    Rejoining {
        /// Rejoins since the channel was last stable.
        attempt: u32,
        /// Delay before the rejoin.
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
        ConnectionState::Rejoining { attempt, delay } => Some(Notice::Rejoining {
            attempt: *attempt,
            retry_in: *delay,
        }),
        ConnectionState::Joined => Some(Notice::Connected),
        ConnectionState::Closed => Some(Notice::Closed),
        _ => None,
    }
}

/// Opens the basic SSE stream (`/api/v1/kills/stream`) for `filter` and turns its connection
/// state into [`Notice`]s, like [`websocket`].
pub(crate) async fn sse(
    client: &wk::Client,
    filter: Filter,
) -> Result<(wk::sse::Subscription, Notices), Failure> {
    let url = client.base_url().to_owned();
    let subscription = client
        .sse()
        .subscribe(filter)
        .await
        .map_err(|e| Failure::sdk(&wk::Error::from(e), &url))?;
    let state = subscription.state();
    let notices = stream::unfold(state, |mut state| async move {
        state.changed().await.ok()?;
        let now = state.borrow_and_update().clone();
        Some((now, state))
    })
    .filter_map(|state| async move { sse_notice(&state) });
    Ok((subscription, Box::pin(notices)))
}

fn sse_notice(state: &wk::sse::ConnectionState) -> Option<Notice> {
    use wk::sse::ConnectionState as S;
    match state {
        S::Reconnecting { attempt, delay } => Some(Notice::Disconnected {
            attempt: *attempt,
            retry_in: *delay,
        }),
        S::Connected => Some(Notice::Connected),
        S::Closed => Some(Notice::Closed),
        _ => None,
    }
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
        assert_eq!(
            notice(&ConnectionState::Rejoining {
                attempt: 3,
                delay: Duration::from_millis(1500)
            }),
            Some(Notice::Rejoining {
                attempt: 3,
                retry_in: Duration::from_millis(1500)
            })
        );
        assert_eq!(notice(&ConnectionState::Joined), Some(Notice::Connected));
        assert_eq!(notice(&ConnectionState::Connected), None);
    }
}
