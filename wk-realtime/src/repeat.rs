//! Recognising the server's repeated pushes before they are decoded.
//!
//! The real server sends each live kill to a WebSocket subscriber up to four times, as
//! `killmail_update` frames that differ only in their `timestamp` (PROTOCOL.md §7.8), and to a basic
//! SSE stream twice, as identical `data:` events (§8.2). De-duplication by killmail id drops the
//! copies, but only after each has been decoded, and decoding is most of what a push costs. A
//! [`Repeats`] window remembers a fingerprint of the last few pushes that decoded, so a copy is
//! dropped unread; its kills still count as duplicates.
//!
//! A fingerprint is a 64-bit hash and the length of the text (for a frame, the text before its
//! top-level `timestamp` value). Two different pushes would have to agree on both to be confused,
//! and only pushes that decoded are remembered, so a push that failed to decode is never the reason
//! a good copy of it is dropped.

use std::hash::BuildHasher;

/// How many recent pushes are remembered; a kill's copies arrive back to back, and a few other
/// pushes may come in between on a busy connection.
const WINDOW: usize = 16;

/// How far into a frame its event name must appear: `["<join_ref>",null,"killmails:lobby",` first.
#[cfg(feature = "ws")]
const HEADER: usize = 96;

/// A fingerprint of one push: what it hashes to, and how long the hashed text is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    hash: u64,
    len: usize,
}

impl Fingerprint {
    /// The fingerprint of an SSE event's data, which the server repeats byte for byte.
    #[cfg(any(feature = "sse", test))]
    pub(crate) fn of_data(data: &str) -> Self {
        Self::of(data)
    }

    /// The fingerprint of a `killmail_update` frame, its top-level `timestamp` value left out; `None`
    /// for any other frame, or one not laid out as the server writes it (`…,"timestamp":"<time>"}]`
    /// at the end), which is then decoded as usual.
    #[cfg(feature = "ws")]
    pub(crate) fn of_killmail_update(frame: &str) -> Option<Self> {
        let header = &frame[..frame.floor_char_boundary(HEADER)];
        if !header.contains(",\"killmail_update\",{") {
            return None;
        }
        let body = frame.strip_suffix("\"}]")?;
        let open = body.rfind('"')?;
        let before = &body[..open];
        before
            .ends_with(",\"timestamp\":")
            .then(|| Self::of(before))
    }

    fn of(text: &str) -> Self {
        Self {
            hash: foldhash::fast::FixedState::with_seed(0x5eed).hash_one(text.as_bytes()),
            len: text.len(),
        }
    }
}

/// The fingerprints of the last [`WINDOW`] pushes that decoded, with the number of kills in each.
#[derive(Debug, Default)]
pub(crate) struct Repeats {
    recent: Vec<(Fingerprint, usize)>,
    next: usize,
}

impl Repeats {
    /// The number of kills in the push `fingerprint` repeats, if it repeats one.
    pub(crate) fn seen(&self, fingerprint: Fingerprint) -> Option<usize> {
        self.recent
            .iter()
            .find(|(f, _)| *f == fingerprint)
            .map(|&(_, kills)| kills)
    }

    /// Remembers a push that decoded, with the number of kills it carried; forgets the oldest.
    pub(crate) fn remember(&mut self, fingerprint: Fingerprint, kills: usize) {
        if self.recent.len() < WINDOW {
            self.recent.push((fingerprint, kills));
        } else {
            self.recent[self.next] = (fingerprint, kills);
            self.next = (self.next + 1) % WINDOW;
        }
    }

    /// Forgets everything (a new connection).
    pub(crate) fn clear(&mut self) {
        self.recent.clear();
        self.next = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(feature = "ws")]
    const FRAME: &str = r#"["3",null,"killmails:lobby","killmail_update",{"killmails":[{"killmail_id":1}],"preload":false,"system_id":30000142,"timestamp":"2025-12-03T14:25:02.417735Z"}]"#;

    #[test]
    #[cfg(feature = "ws")]
    fn frames_that_differ_only_in_their_timestamp_match() {
        let later = FRAME.replace("02.417735Z", "02.5Z");
        let a = Fingerprint::of_killmail_update(FRAME).unwrap();
        assert_eq!(Fingerprint::of_killmail_update(&later), Some(a));
    }

    #[test]
    #[cfg(feature = "ws")]
    fn the_real_servers_four_copies_of_a_live_push_match() {
        // The protocol example's session: one preload push, then one live kill pushed four times,
        // each copy with its own timestamp.
        let text = include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../spec/protocol/examples/phoenix_frames.txt"
        ));
        let pushes: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("<< "))
            .filter(|l| l.contains("\"killmail_update\""))
            .collect();
        assert_eq!(pushes.len(), 5);
        let prints: Vec<_> = pushes
            .iter()
            .map(|p| Fingerprint::of_killmail_update(p).expect("laid out as the server writes"))
            .collect();
        assert!(
            prints[1..].iter().all(|p| *p == prints[1]),
            "the live copies"
        );
        assert_ne!(prints[0], prints[1], "the preload push is another push");
        let mut repeats = Repeats::default();
        repeats.remember(prints[1], 1);
        assert_eq!(
            prints
                .iter()
                .filter(|p| repeats.seen(**p).is_some())
                .count(),
            4
        );
    }

    #[test]
    #[cfg(feature = "ws")]
    fn any_other_difference_does_not_match() {
        let a = Fingerprint::of_killmail_update(FRAME).unwrap();
        for other in [
            FRAME.replace("\"killmail_id\":1", "\"killmail_id\":2"),
            FRAME.replace("[\"3\"", "[\"4\""),
            FRAME.replace("false", "true"),
            FRAME.replace("30000142", "30000143"),
        ] {
            assert_ne!(Fingerprint::of_killmail_update(&other), Some(a), "{other}");
        }
    }

    #[test]
    #[cfg(feature = "ws")]
    fn only_killmail_updates_laid_out_as_the_server_writes_them_get_one() {
        for other in [
            FRAME.replace("killmail_update", "kill_count_update"),
            FRAME.replace("\"}]", "\"} ]"),
            FRAME.replace("\"timestamp\"", "\"other\""),
            // A `timestamp` key inside a killmail is not the payload's.
            r#"["3",null,"killmails:lobby","killmail_update",{"killmails":[{"timestamp":"x"}]}]"#
                .to_owned(),
            String::new(),
            "é".repeat(200),
        ] {
            assert_eq!(Fingerprint::of_killmail_update(&other), None, "{other}");
        }
    }

    #[test]
    fn the_window_forgets_the_oldest() {
        let mut r = Repeats::default();
        let data: Vec<String> = (0..=WINDOW)
            .map(|i| format!("{{\"killmail_id\":{i}}}"))
            .collect();
        for (i, d) in data.iter().enumerate() {
            r.remember(Fingerprint::of(d), i);
        }
        assert_eq!(r.seen(Fingerprint::of(&data[0])), None);
        assert_eq!(r.seen(Fingerprint::of(&data[1])), Some(1));
        assert_eq!(r.seen(Fingerprint::of(&data[WINDOW])), Some(WINDOW));
        r.clear();
        assert_eq!(r.seen(Fingerprint::of(&data[WINDOW])), None);
    }
}
