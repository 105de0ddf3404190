//! Fuzz targets for the SDK's untrusted-input paths, each a `fn(&[u8])` that panics on a bug.
//!
//! - [`phoenix_frame`]: Phoenix V2 frame decode (and the quick split against it), typed payloads,
//!   and encode/decode round trips;
//! - [`sse_parser`]: the SSE parser under arbitrary chunking (same items as one feed);
//! - [`json_decode`]: killmail and event JSON in every shape, with round trips, and the
//!   hand-written killmail decoders against serde;
//! - [`webhook_body`]: the webhook body parser, with a round trip.
//!
//! Each `fuzz_targets/*.rs` binary runs one of them under `cargo afl fuzz` (feature `afl`) or, by
//! default, under [`driver`]: replay the checked-in corpus, then a bounded, seeded mutation loop.

#![forbid(unsafe_code)]

pub mod driver;

use wk_realtime::sse::parser::{Item, Parser};
use wk_types::http::{Envelope, KillList, KillmailLookup};
use wk_types::phoenix::{Frame, FrameRef, JoinReply, KillmailUpdate, Push, Reply};
use wk_types::sse::EnhancedEvent;
use wk_types::{Killmail, KillmailRef, decode, webhook};

/// Known push and SSE event names, so payloads reach every typed decoder.
const EVENTS: &[&str] = &[
    "killmail_update",
    "kill_count_update",
    "preload_status",
    "preload_batch",
    "preload_complete",
    "new_kill",
    "connected",
    "batch",
    "transition",
    "killmail",
    "heartbeat",
    "error",
    "unknown",
];

/// Frame decode; a decoded frame re-encodes to text that decodes to the same frame.
pub fn phoenix_frame(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let split = FrameRef::split(text);
    let Ok(frame) = Frame::decode(text) else {
        assert!(split.is_none(), "split a frame that does not decode");
        return;
    };
    if let Some(split) = split {
        assert_eq!(
            (
                split.join_ref,
                split.msg_ref,
                split.topic,
                split.event,
                split.payload
            ),
            (
                frame.join_ref.as_deref(),
                frame.msg_ref.as_deref(),
                frame.topic.as_str(),
                frame.event.as_str(),
                frame.payload.get()
            ),
            "the quick split differs from the decode"
        );
    }
    if let Some(update) = FrameRef::killmail_update(text) {
        assert_eq!(
            (update.join_ref, update.msg_ref, update.topic, update.event),
            (
                frame.join_ref.as_deref(),
                frame.msg_ref.as_deref(),
                frame.topic.as_str(),
                frame.event.as_str()
            ),
            "the one-pass split differs from the decode"
        );
        same(
            Ok(update.payload),
            decode::from_str::<KillmailUpdate>(frame.payload.get()),
        );
    }
    same(
        decode::killmail_update(frame.payload.get()),
        decode::from_str::<KillmailUpdate>(frame.payload.get()),
    );
    let _ = frame.payload_as::<KillmailUpdate>();
    let _ = frame.payload_as::<Reply<JoinReply>>();
    let _ = Push::decode(&frame.event, frame.payload.get());
    let encoded = frame.encode().expect("a decoded frame encodes");
    let again = Frame::decode(&encoded).expect("an encoded frame decodes");
    assert_eq!(
        (
            &again.join_ref,
            &again.msg_ref,
            &again.topic,
            &again.event,
            again.payload.get()
        ),
        (
            &frame.join_ref,
            &frame.msg_ref,
            &frame.topic,
            &frame.event,
            frame.payload.get()
        ),
        "frame round trip"
    );
}

/// The parser fed in chunks whose sizes come from the input gives the same items as one feed.
pub fn sse_parser(data: &[u8]) {
    let Some((&seed, body)) = data.split_first() else {
        return;
    };
    let limit = 1 << 12;
    let whole = parse_all(limit, std::iter::once(body));
    let mut chunks = Vec::new();
    let (mut rest, mut step) = (body, usize::from(seed % 17) + 1);
    while !rest.is_empty() {
        let n = step.min(rest.len());
        chunks.push(&rest[..n]);
        rest = &rest[n..];
        step = (step * 7 + 3) % 23 + 1;
    }
    let chunked = parse_all(limit, chunks.into_iter());
    assert_eq!(whole, chunked, "chunking changed the items");
}

fn parse_all<'a>(
    limit: usize,
    chunks: impl Iterator<Item = &'a [u8]>,
) -> Vec<Result<Item, String>> {
    let mut parser = Parser::new(limit);
    let mut items = Vec::new();
    for chunk in chunks {
        parser.feed(chunk);
        while let Some(item) = parser.next_item() {
            if let Ok(Item::Event(e)) = &item {
                assert!(e.data().len() <= limit, "an event over the limit came out");
                let _ = EnhancedEvent::decode(e.event(), e.data());
            }
            items.push(item.map_err(|e| e.to_string()));
        }
    }
    items
}

/// Every shape of killmail and event JSON; decoded killmails round-trip, and the borrowed view
/// decodes (or refuses, at the same path) exactly what the owned killmail does.
pub fn json_decode(data: &[u8]) {
    let owned = decode::from_slice::<Killmail>(data);
    let view = decode::from_slice::<KillmailRef<'_>>(data);
    match (&owned, view) {
        (Ok(km), Ok(view)) => assert_eq!(&view.into_owned(), km, "borrowed view differs"),
        (Err(a), Err(b)) => assert_eq!(a.path(), b.path(), "borrowed view fails elsewhere"),
        (a, b) => panic!("owned {:?} but borrowed {:?}", a.is_ok(), b.is_ok()),
    }
    if let Ok(text) = std::str::from_utf8(data) {
        same(
            decode::killmail_ref(text),
            decode::from_str::<KillmailRef<'_>>(text),
        );
        same(decode::killmail(text), decode::from_str::<Killmail>(text));
        same(
            decode::killmail_update(text),
            decode::from_str::<KillmailUpdate>(text),
        );
    }
    if let Ok(km) = owned {
        let encoded = serde_json::to_vec(&km).expect("a killmail encodes");
        let again: Killmail = decode::from_slice(&encoded).expect("an encoded killmail decodes");
        assert_eq!(again, km, "killmail round trip");
    }
    let _ = decode::from_slice::<Envelope<KillList>>(data);
    let _ = decode::from_slice::<Envelope<KillmailLookup>>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        for event in EVENTS {
            let _ = Push::decode(event, text);
            let _ = EnhancedEvent::decode(event, text);
        }
    }
}

/// The hand-written decoders give what serde gives: equal values, encoded alike (which tells
/// the sign of a zero), or the same error.
fn same<T: serde::Serialize + PartialEq + std::fmt::Debug>(
    fast: Result<T, wk_types::DecodeError>,
    serde: Result<T, wk_types::DecodeError>,
) {
    match (fast, serde) {
        (Ok(a), Ok(b)) => {
            let encoded = |v: &T| serde_json::to_string(v).expect("decoded values encode");
            assert_eq!(encoded(&a), encoded(&b), "the fast decode differs");
            assert_eq!(a, b, "the fast decode differs");
        }
        (Err(a), Err(b)) => assert_eq!(
            a.to_string(),
            b.to_string(),
            "the fast decode fails otherwise"
        ),
        (a, b) => panic!("fast decode {a:?}, serde {b:?}"),
    }
}

/// The webhook parser; a parsed body round-trips.
pub fn webhook_body(data: &[u8]) {
    if let Ok(body) = webhook::parse(data) {
        let encoded = serde_json::to_vec(&body).expect("a webhook body encodes");
        let again = webhook::parse(&encoded).expect("an encoded webhook body parses");
        assert_eq!(again, body, "webhook round trip");
    }
}
