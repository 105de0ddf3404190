//! A tiny seeded PRNG (xorshift64*) and the server's random identifiers.

use std::sync::atomic::{AtomicU64, Ordering};

/// A small deterministic pseudo-random generator (xorshift64*). Not cryptographic.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed (any value; 0 is remapped).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        let mut r = Self(seed ^ 0x9E37_79B9_7F4A_7C15);
        if r.0 == 0 {
            r.0 = 0x2545_F491_4F6C_DD1D;
        }
        r.next_u64();
        r
    }

    /// A generator seeded from the clock and a process-wide counter.
    #[must_use]
    pub fn from_entropy() -> Self {
        static COUNTER: AtomicU64 = AtomicU64::new(1);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let bump = COUNTER.fetch_add(0x6A09_E667, Ordering::Relaxed);
        Self::new((nanos as u64) ^ bump.rotate_left(29))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = u64::try_from(hi - lo).unwrap_or(0).saturating_add(1);
        let off = if span == 0 {
            self.next_u64()
        } else {
            self.next_u64() % span
        };
        lo.wrapping_add(off as i64)
    }

    /// A float in `0.0..1.0`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Whether an event of probability `p` happened.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = self.next_u64() % items.len().max(1) as u64;
        &items[usize::try_from(i).unwrap_or(0)]
    }

    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next_u64() >> 32) as u8).collect()
    }
}

const B64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Unpadded base64url encoding.
#[must_use]
pub fn base64url(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            let idx = (n >> (18 - 6 * i)) & 63;
            out.push(char::from(B64URL[idx as usize]));
        }
    }
    out
}

/// A fresh subscription id: 16 random bytes, base64url, 22 characters.
#[must_use]
pub fn subscription_id(rng: &mut Rng) -> String {
    base64url(&rng.bytes(16))
}

/// 11 random base64url characters (the tail of a WebSocket `user_id`).
#[must_use]
pub fn short_token(rng: &mut Rng) -> String {
    let mut s = base64url(&rng.bytes(9));
    s.truncate(11);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_known_vectors() {
        assert_eq!(base64url(b""), "");
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn ids_have_server_format() {
        let mut rng = Rng::new(7);
        let id = subscription_id(&mut rng);
        assert!(
            wk_types::SubscriptionId::from(id.as_str()).is_well_formed(),
            "{id}"
        );
        assert_eq!(short_token(&mut rng).len(), 11);
    }

    #[test]
    fn range_is_inclusive() {
        let mut rng = Rng::new(1);
        for _ in 0..1000 {
            let v = rng.range(1, 3);
            assert!((1..=3).contains(&v));
        }
    }
}
