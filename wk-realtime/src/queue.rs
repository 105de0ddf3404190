//! The bounded event queue every stream uses: the producer never waits, a full queue counts as lag,
//! and the count reaches the consumer in order as `KillEvent::Lagged(n)`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::sync::mpsc::{self, error::TrySendError};

use crate::event::KillEvent;

/// An item type that can carry a lag report.
pub(crate) trait LagReport {
    /// The item saying `n` events were dropped.
    fn lagged(n: u64) -> Self;
}

impl LagReport for KillEvent {
    fn lagged(n: u64) -> Self {
        KillEvent::Lagged(n)
    }
}

impl<E> LagReport for Result<KillEvent, E> {
    fn lagged(n: u64) -> Self {
        Ok(KillEvent::Lagged(n))
    }
}

/// What became of an offered item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Offered {
    /// Queued.
    Sent,
    /// Dropped and counted as lag.
    Lagged,
    /// The consumer is gone.
    Closed,
}

/// Offers `item` without waiting: a missed count is reported first, before the next item that
/// fits; the stream itself reports it once the consumer has drained its queue ([`poll_next`]).
pub(crate) fn offer<T: LagReport>(tx: &mpsc::Sender<T>, lagged: &AtomicU64, item: T) -> Offered {
    let missed = lagged.swap(0, Ordering::AcqRel);
    if missed > 0 {
        match tx.try_send(T::lagged(missed)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                lagged.fetch_add(missed + 1, Ordering::AcqRel);
                return Offered::Lagged;
            }
            Err(TrySendError::Closed(_)) => return Offered::Closed,
        }
    }
    match tx.try_send(item) {
        Ok(()) => Offered::Sent,
        Err(TrySendError::Full(_)) => {
            lagged.fetch_add(1, Ordering::AcqRel);
            Offered::Lagged
        }
        Err(TrySendError::Closed(_)) => Offered::Closed,
    }
}

#[cfg(any(feature = "ws", feature = "sse"))]
/// Whether the producer should give way to `tx`'s consumer: its queue is past half full.
pub(crate) fn filling<T>(tx: &mpsc::Sender<T>) -> bool {
    tx.capacity() < tx.max_capacity() / 2
}

#[cfg(any(feature = "ws", feature = "sse"))]
/// What a producer awaits after each item it read without touching the socket (a frame or event
/// already buffered). A producer that only counts against tokio's budget lets other tasks run,
/// but on a current-thread runtime the `block_on` future is polled only between rounds of task
/// polls, so a consumer there would fall behind a burst and lag. So once a queue is
/// [`filling`], the producer yields, which lets even that consumer drain it; otherwise it just
/// counts the item against the task's budget.
pub(crate) async fn pace(give_way: bool) {
    if give_way {
        tokio::task::yield_now().await;
    } else {
        tokio::task::consume_budget().await;
    }
}

/// The consumer side: the next queued item, or, once the queue is drained, what overflowed since.
pub(crate) fn poll_next<T: LagReport>(
    rx: &mut mpsc::Receiver<T>,
    lagged: &Arc<AtomicU64>,
    cx: &mut Context<'_>,
) -> Poll<Option<T>> {
    match rx.poll_recv(cx) {
        Poll::Pending => match lagged.swap(0, Ordering::AcqRel) {
            0 => Poll::Pending,
            missed => Poll::Ready(Some(T::lagged(missed))),
        },
        ready => ready,
    }
}
