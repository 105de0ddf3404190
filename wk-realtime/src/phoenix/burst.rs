//! A read buffer under the WebSocket that exists only while data is arriving.
//!
//! tungstenite reads from the socket into its frame buffer, at most `read_buffer_size` bytes (4
//! KiB here, so thousands of idle connections stay cheap) and often only what the next frame
//! needs: about one `recv` system call per 2 KB killmail frame, some 16% of a busy connection's
//! CPU. [`BurstRead`] puts a [`BURST`]-byte buffer under it while the socket has data: one `recv`
//! then serves dozens of frames from memory. 128 KiB is what tungstenite's own default buffer
//! reads; 32 KiB made 3.5 times the `recv` calls of a plain tokio-tungstenite reader (strace,
//! 200,000 frames). The buffer is released as soon as the socket has nothing more to give (its
//! read is pending), so an idle connection holds none.
//!
//! A released buffer goes to a small per-thread spare list, and the next burst on that thread
//! takes it back: under a steady stream the socket drains between bursts many times a second,
//! and zeroing a fresh buffer each time was 36 M of the 266 M instructions the SDK spent outside
//! the decoder (callgrind, 20,000 frames). Spares are bounded per thread, not per connection.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The size of the buffer while data is arriving.
pub(crate) const BURST: usize = 128 * 1024;

/// Released buffers kept per thread for the next burst.
const SPARES: usize = 4;

thread_local! {
    static SPARE: RefCell<Vec<Vec<u8>>> = const { RefCell::new(Vec::new()) };
}

/// A `BURST`-byte buffer: a spare one (its old bytes are overwritten before they are read), or a
/// new one.
fn take_buffer() -> Vec<u8> {
    SPARE
        .with_borrow_mut(Vec::pop)
        .unwrap_or_else(|| vec![0; BURST])
}

/// Keeps `buf` for the next burst on this thread, or frees it when enough are kept.
fn give_back(buf: Vec<u8>) {
    SPARE.with_borrow_mut(|spare| {
        if spare.len() < SPARES {
            spare.push(buf);
        }
    });
}

/// A stream whose reads go through a buffer that is only held while data is arriving.
#[derive(Debug)]
pub(crate) struct BurstRead<S> {
    inner: S,
    /// Empty (no allocation) when idle, else `BURST` bytes, of which `start..end` are unread.
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl<S> BurstRead<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            buf: Vec::new(),
            start: 0,
            end: 0,
        }
    }

    /// The bytes of buffer held now: 0 when idle.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.buf.capacity()
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for BurstRead<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.start == this.end {
            // A read as large as the buffer gains nothing from it.
            if dst.remaining() >= BURST {
                return Pin::new(&mut this.inner).poll_read(cx, dst);
            }
            if this.buf.is_empty() {
                this.buf = take_buffer();
            }
            let mut fill = ReadBuf::new(&mut this.buf);
            match Pin::new(&mut this.inner).poll_read(cx, &mut fill) {
                Poll::Ready(result) => {
                    result?;
                    (this.start, this.end) = (0, fill.filled().len());
                }
                Poll::Pending => {
                    // Nothing to read: idle, so give the buffer back.
                    give_back(std::mem::take(&mut this.buf));
                    return Poll::Pending;
                }
            }
        }
        let n = dst.remaining().min(this.end - this.start);
        dst.put_slice(&this.buf[this.start..this.start + n]);
        this.start += n;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for BurstRead<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    use super::*;

    async fn pair() -> (BurstRead<TcpStream>, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap());
        let (client, accepted) = tokio::join!(client, listener.accept());
        (BurstRead::new(client.unwrap()), accepted.unwrap().0)
    }

    /// Reads once; `None` when the read would wait.
    async fn try_read(reader: &mut BurstRead<TcpStream>, dst: &mut [u8]) -> Option<usize> {
        std::future::poll_fn(|cx| {
            let mut buf = ReadBuf::new(dst);
            Poll::Ready(match Pin::new(&mut *reader).poll_read(cx, &mut buf) {
                Poll::Ready(r) => Some(r.map(|()| buf.filled().len()).unwrap()),
                Poll::Pending => None,
            })
        })
        .await
    }

    #[tokio::test]
    async fn small_reads_see_every_byte_in_order_and_idle_holds_nothing() {
        let (mut reader, mut peer) = pair().await;
        let sent: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let writer = tokio::spawn(async move {
            peer.write_all(&sent).await.unwrap();
            peer
        });
        let mut got = Vec::new();
        let mut chunk = [0u8; 3_000];
        while got.len() < 200_000 {
            let n = reader.read(&mut chunk).await.unwrap();
            assert!(n > 0);
            got.extend_from_slice(&chunk[..n]);
        }
        assert!(got.iter().enumerate().all(|(i, &b)| b == (i % 251) as u8));
        let _peer = writer.await.unwrap();
        // Drained: the next read waits, and the buffer is given back.
        assert_eq!(try_read(&mut reader, &mut chunk).await, None);
        assert_eq!(reader.held(), 0);
    }

    #[tokio::test]
    async fn one_receive_serves_many_small_reads() {
        let (mut reader, mut peer) = pair().await;
        peer.write_all(&[7u8; 10_000]).await.unwrap();
        peer.flush().await.unwrap();
        let mut first = [0u8; 100];
        reader.read_exact(&mut first).await.unwrap();
        // The rest of what arrived is held, so further reads need not wait for the socket.
        assert_eq!(reader.held(), BURST);
        let mut total = 100;
        let mut chunk = [0u8; 100];
        while total < 10_000 {
            total += match try_read(&mut reader, &mut chunk).await {
                Some(n) => n,
                // Loopback normally delivers it all at once; if not, wait for the rest.
                None => reader.read(&mut chunk).await.unwrap(),
            };
        }
        assert_eq!(total, 10_000);
    }

    #[tokio::test]
    async fn large_reads_bypass_the_buffer_and_end_of_stream_is_seen() {
        let (mut reader, mut peer) = pair().await;
        peer.write_all(b"hello").await.unwrap();
        drop(peer);
        let mut big = vec![0u8; BURST];
        let n = reader.read(&mut big).await.unwrap();
        assert_eq!(&big[..n], b"hello");
        assert_eq!(reader.held(), 0);
        assert_eq!(reader.read(&mut big).await.unwrap(), 0);
        let mut small = [0u8; 10];
        assert_eq!(reader.read(&mut small).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn writes_pass_through() {
        let (mut reader, mut peer) = pair().await;
        reader.write_all(b"ping").await.unwrap();
        reader.flush().await.unwrap();
        let mut got = [0u8; 4];
        peer.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
        reader.shutdown().await.unwrap();
        assert_eq!(peer.read(&mut got).await.unwrap(), 0);
    }
}
