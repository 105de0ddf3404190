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
