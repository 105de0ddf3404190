//! Unit and property tests of the SSE parser.

use std::time::Duration;

use proptest::prelude::*;

use super::{Event, Item, ParseError, Parser};

const MAX: usize = 1 << 20;

fn parse_chunks(chunks: &[&[u8]], max: usize) -> Vec<Result<Item, ParseError>> {
    let mut parser = Parser::new(max);
    let mut out = Vec::new();
    for chunk in chunks {
        parser.feed(chunk);
        while let Some(item) = parser.next_item() {
            out.push(item);
        }
    }
    out
}

fn parse(input: &[u8]) -> Vec<Result<Item, ParseError>> {
    parse_chunks(&[input], MAX)
}

fn event(name: &str, data: &str) -> Result<Item, ParseError> {
    Ok(Item::Event(Event::new(name, data)))
}

#[test]
fn the_basic_stream_as_the_server_writes_it() {
    let input =
        b"retry: 2000\n\ndata: {\"killmail_id\":1}\n\ndata: {\"killmail_id\":1}\n\n: ping\n\n";
    assert_eq!(
        parse(input),
        [
            Ok(Item::Retry(Duration::from_millis(2000))),
            event("message", "{\"killmail_id\":1}"),
            event("message", "{\"killmail_id\":1}"),
            Ok(Item::Comment("ping".into())),
        ]
    );
}

#[test]
fn named_events_multi_line_data_and_ids() {
    let input = b"event: batch\ndata: a\ndata:b\ndata\nid: 7\n\nevent: x\n\n";
    let mut e = Event::new("batch", "a\nb\n");
    e.id = "7".into();
    // `event: x` without data dispatches nothing.
    assert_eq!(parse(input), [Ok(Item::Event(e))]);
}

#[test]
fn every_line_ending_and_a_bom() {
    let input = b"\xEF\xBB\xBFdata: 1\r\n\r\ndata: 2\r\rdata: 3\n\n";
    assert_eq!(
        parse(input),
        [
            event("message", "1"),
            event("message", "2"),
            event("message", "3")
        ]
    );
}

#[test]
fn crlf_split_across_chunks_is_one_ending() {
    let items = parse_chunks(&[b"data: 1\r", b"\n\r", b"\ndata: 2\r", b"\r"], MAX);
    assert_eq!(items, [event("message", "1"), event("message", "2")]);
}

#[test]
fn fields_per_the_spec() {
    // Only one leading space is removed; unknown fields and bad retries are ignored; an id with
    // NUL is ignored; the id persists across events; an empty `event:` means `message`.
    let input =
        b"data:  two spaces\nfoo: bar\nretry: 12x\nid: a\n\nid: b\0c\nevent:\ndata: z\n\nretry:0\n";
    let mut first = Event::new("message", " two spaces");
    first.id = "a".into();
    let mut second = Event::new("message", "z");
    second.id = "a".into();
    assert_eq!(
        parse(input),
        [
            Ok(Item::Event(first)),
            Ok(Item::Event(second)),
            Ok(Item::Retry(Duration::ZERO))
        ]
    );
}

#[test]
fn an_unfinished_event_is_not_dispatched() {
    assert_eq!(parse(b"data: 1\n"), []);
    assert_eq!(parse(b"data: 1"), []);
}

#[test]
fn an_oversized_event_is_refused_once_and_parsing_goes_on() {
    let big = "x".repeat(100);
    let input = format!("data: {big}\ndata: {big}\n\ndata: ok\n\n");
    let items = parse_chunks(&[input.as_bytes()], 150);
    assert_eq!(
        items,
        [
            Err(ParseError::EventTooLarge { limit: 150 }),
            event("message", "ok")
        ]
    );
}

#[test]
fn an_oversized_line_is_never_buffered() {
    let mut parser = Parser::new(64);
    parser.feed(b"event: big\ndata: ");
    assert_eq!(parser.next_item(), None);
    let chunk = [b'x'; 1000];
    parser.feed(&chunk);
    assert_eq!(
        parser.next_item(),
        Some(Err(ParseError::EventTooLarge { limit: 64 }))
    );
    for _ in 0..100 {
        parser.feed(&chunk);
        assert_eq!(parser.next_item(), None);
        assert!(parser.buf.len() < 64, "the dropped line is not kept");
    }
    parser.feed(b"xx\r");
    parser.feed(b"\ndata: more of the same event\n\nevent: next\ndata: fine\n\n");
    assert_eq!(
        parser.next_item(),
        Some(Ok(Item::Event(Event::new("next", "fine"))))
    );
    assert_eq!(parser.next_item(), None);
}

#[test]
fn a_long_line_in_tiny_chunks_is_linear() {
    // 4 MiB in 4,096 chunks: a quadratic parser would rescan gigabytes here.
    let line = vec![b'y'; 4 << 20];
    let mut parser = Parser::new(8 << 20);
    parser.feed(b"data: ");
    for chunk in line.chunks(1024) {
        parser.feed(chunk);
        assert_eq!(parser.next_item(), None);
    }
    parser.feed(b"\n\n");
    let Some(Ok(Item::Event(e))) = parser.next_item() else {
        panic!("one event")
    };
    assert_eq!(e.data().len(), 4 << 20);
}

/// One field line of a generated stream.
#[derive(Clone, Debug)]
enum Line {
    Event(String),
    Data(String),
    Id(String),
    Retry(u32),
    Comment(String),
    Blank,
}

fn text() -> impl Strategy<Value = String> {
    // No line breaks, no NUL; includes multi-byte characters to split across chunks.
    proptest::string::string_regex("[a-z0-9 :{}\",é€😀]{0,12}").unwrap()
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        1 => text().prop_map(Line::Event),
        3 => text().prop_map(Line::Data),
        1 => text().prop_map(Line::Id),
        1 => any::<u32>().prop_map(Line::Retry),
        1 => text().prop_map(Line::Comment),
        3 => Just(Line::Blank),
    ]
}

fn ending() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\n"), Just("\r\n"), Just("\r")]
}

/// What a correct parser must yield for `lines` (the oracle).
fn expected(lines: &[Line]) -> Vec<Result<Item, ParseError>> {
    let mut out = Vec::new();
    let (mut event, mut data, mut id): (String, Option<String>, String) =
        (String::new(), None, String::new());
    for line in lines {
        match line {
            Line::Event(e) => event.clone_from(e),
            Line::Data(d) => {
                data = Some(match data {
                    Some(prev) => format!("{prev}\n{d}"),
                    None => d.clone(),
                });
            }
            Line::Id(i) => id.clone_from(i),
            Line::Retry(ms) => out.push(Ok(Item::Retry(Duration::from_millis(u64::from(*ms))))),
            Line::Comment(c) => out.push(Ok(Item::Comment(c.clone()))),
            Line::Blank => {
                if let Some(d) = data.take() {
                    let name = if event.is_empty() { "message" } else { &event };
                    let mut e = Event::new(name, d);
                    e.id.clone_from(&id);
                    out.push(Ok(Item::Event(e)));
                }
                event.clear();
            }
        }
    }
    out
}

fn render(lines: &[Line], endings: &[&str]) -> Vec<u8> {
    let mut s = String::new();
    for (i, line) in lines.iter().enumerate() {
        match line {
            Line::Event(e) => s.push_str(&format!("event: {e}")),
            Line::Data(d) => s.push_str(&format!("data: {d}")),
            Line::Id(i) => s.push_str(&format!("id: {i}")),
            Line::Retry(ms) => s.push_str(&format!("retry: {ms}")),
            Line::Comment(c) => s.push_str(&format!(": {c}")),
            Line::Blank => {}
        }
        let ending = endings[i % endings.len()];
        // A CR ending before a blank line written as LF would merge into CRLF: keep them apart.
        let next_is_blank = matches!(lines.get(i + 1), Some(Line::Blank));
        s.push_str(if ending == "\r" && next_is_blank {
            "\r\n"
        } else {
            ending
        });
    }
    s.into_bytes()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The same events for any chunking of a stream, and the events the oracle expects.
    #[test]
    fn any_chunking_gives_the_same_events(
        lines in proptest::collection::vec(line(), 0..40),
        endings in proptest::collection::vec(ending(), 1..4),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..20),
    ) {
        let bytes = render(&lines, &endings);
        let whole = parse(&bytes);
        prop_assert_eq!(&whole, &expected(&lines));
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks: Vec<&[u8]> = Vec::new();
        let mut at = 0;
        for p in points {
            chunks.push(&bytes[at..p]);
            at = p;
        }
        chunks.push(&bytes[at..]);
        prop_assert_eq!(parse_chunks(&chunks, MAX), whole);
    }

    /// Byte at a time, too.
    #[test]
    fn one_byte_chunks(lines in proptest::collection::vec(line(), 0..20)) {
        let bytes = render(&lines, &["\n"]);
        let chunks: Vec<&[u8]> = bytes.chunks(1).collect();
        prop_assert_eq!(parse_chunks(&chunks, MAX), expected(&lines));
    }
}
