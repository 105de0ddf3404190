//! An IO-free Server-Sent Events parser: bytes in, [`Item`]s out, linear in the input.
//!
//! It follows the WHATWG event-stream rules: `LF`, `CRLF` and `CR` line endings (also split across
//! chunks), a leading byte-order mark, `event`, `data` (several lines joined with `\n`), `id`,
//! `retry`, comments (`: ping`), and unknown fields ignored. Every byte is looked at a constant
//! number of times however the input is chunked, so one long `data:` line arriving in many small
//! chunks costs the same as in one.
//!
//! An event larger than the configured maximum is not buffered: the parser reports
//! [`ParseError::EventTooLarge`], drops the rest of that event, and carries on with the next one.
//!
//! ```
//! use wk_realtime::sse::parser::{Item, Parser};
//! let mut parser = Parser::new(1 << 20);
//! parser.feed(b"retry: 2000\n\nevent: killmail\nda");
//! parser.feed(b"ta: {\"killmail_id\":1}\n\n");
//! assert_eq!(parser.next_item(), Some(Ok(Item::Retry(std::time::Duration::from_millis(2000)))));
//! let Some(Ok(Item::Event(event))) = parser.next_item() else { panic!() };
//! assert_eq!((event.event(), event.data()), ("killmail", "{\"killmail_id\":1}"));
//! assert_eq!(parser.next_item(), None);
//! ```

use std::time::Duration;

/// One thing the stream said.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Item {
    /// A dispatched event.
    Event(Event),
    /// A `retry:` field: the reconnection time the server asks for.
    Retry(Duration),
    /// A comment line (`: ping` gives `"ping"`), without the colon and one leading space.
    Comment(String),
}

/// One dispatched event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    event: String,
    data: String,
    id: String,
}

impl Event {
    /// An event of type `event` carrying `data`.
    #[must_use]
    pub fn new(event: impl Into<String>, data: impl Into<String>) -> Self {
        Self {
            event: event.into(),
            data: data.into(),
            id: String::new(),
        }
    }

    /// The event type: the last `event:` field, or `"message"` when none was given.
    #[must_use]
    pub fn event(&self) -> &str {
        &self.event
    }

    /// The `data:` lines joined with `\n`.
    #[must_use]
    pub fn data(&self) -> &str {
        &self.data
    }

    /// Takes the data out of the event.
    #[must_use]
    pub fn into_data(self) -> String {
        self.data
    }

    /// The last event id in force when this event was dispatched (empty when none was ever set).
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// What the parser refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// An event grew past the maximum event size; it was dropped.
    #[error("an SSE event exceeded {limit} bytes")]
    EventTooLarge {
        /// The configured maximum, in bytes.
        limit: usize,
    },
}

/// Parser state. Feed it bytes with [`Parser::feed`], then drain [`Parser::next_item`] until
/// `None`.
#[derive(Clone, Debug)]
pub struct Parser {
    /// Unparsed input; `buf[start..]` is pending.
    buf: Vec<u8>,
    start: usize,
    /// How far past `start` the current line has been searched for an end without finding one.
    scanned: usize,
    /// The previous line ended with `CR`: an `LF` right after it belongs to the same ending.
    after_cr: bool,
    /// The leading byte-order mark has been dealt with.
    bom_checked: bool,
    /// The current line is too long: its bytes are dropped up to its end.
    skip_line: bool,
    /// The current event is too large: its fields are ignored until the blank line.
    skip_event: bool,
    /// Bytes of the current event's completed lines.
    event_bytes: usize,
    max_event_size: usize,
    event: String,
    data: Vec<u8>,
    has_data: bool,
    last_id: String,
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

impl Parser {
    /// A parser refusing events larger than `max_event_size` bytes (all their lines counted).
    #[must_use]
    pub fn new(max_event_size: usize) -> Self {
        Self {
            buf: Vec::new(),
            start: 0,
            scanned: 0,
            after_cr: false,
            bom_checked: false,
            skip_line: false,
            skip_event: false,
            event_bytes: 0,
            max_event_size,
            event: String::new(),
            data: Vec::new(),
            has_data: false,
            last_id: String::new(),
        }
    }

    /// The maximum event size.
    #[must_use]
    pub fn max_event_size(&self) -> usize {
        self.max_event_size
    }

    /// The last event id seen (for a `Last-Event-ID` header on reconnect).
    #[must_use]
    pub fn last_event_id(&self) -> &str {
        &self.last_id
    }

    /// Appends input. Nothing is parsed until [`Parser::next_item`].
    pub fn feed(&mut self, mut bytes: &[u8]) {
        if self.skip_line {
            // Drop the rest of an oversized line without buffering it.
            match memchr::memchr2(b'\n', b'\r', bytes) {
                Some(end) => {
                    self.skip_line = false;
                    self.after_cr = bytes[end] == b'\r';
                    bytes = &bytes[end + 1..];
                }
                None => return,
            }
        }
        if self.start > 0 && self.start >= self.buf.len() / 2 {
            // Each byte moves at most once per halving, so compaction stays linear overall.
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// The next item, or `None` when more input is needed.
    ///
    /// # Errors
    /// [`ParseError::EventTooLarge`] once for each event that outgrows the maximum; parsing goes on
    /// with the next event.
    pub fn next_item(&mut self) -> Option<Result<Item, ParseError>> {
        loop {
            if !self.bom_checked {
                let pending = &self.buf[self.start..];
                let n = pending.len().min(BOM.len());
                if pending[..n] != BOM[..n] {
                    self.bom_checked = true;
                } else if n == BOM.len() {
                    self.start += BOM.len();
                    self.bom_checked = true;
                } else {
                    return None;
                }
            }
            if self.after_cr && self.start < self.buf.len() {
                self.after_cr = false;
                if self.buf[self.start] == b'\n' {
                    self.start += 1;
                    continue;
                }
            }
            let pending = &self.buf[self.start + self.scanned..];
            let Some(offset) = memchr::memchr2(b'\n', b'\r', pending) else {
                self.scanned = self.buf.len() - self.start;
                if self.event_bytes + self.scanned > self.max_event_size {
                    let already = self.skip_event;
                    let error = self.overflow_line();
                    // One error per event, however many of its lines are oversized.
                    return if already { None } else { Some(Err(error)) };
                }
                return None;
            };
            let end = self.start + self.scanned + offset;
            self.after_cr = self.buf[end] == b'\r';
            let line_start = self.start;
            self.start = end + 1;
            self.scanned = 0;
            let len = end - line_start;
            if let Some(item) = self.line(line_start, end, len) {
                return Some(item);
            }
        }
    }

    /// Drops the buffered part of an oversized line and the event it belongs to.
    fn overflow_line(&mut self) -> ParseError {
        self.buf.clear();
        self.start = 0;
        self.scanned = 0;
        self.skip_line = true;
        self.begin_skip()
    }

    fn begin_skip(&mut self) -> ParseError {
        self.skip_event = true;
        self.event_bytes = 0;
        self.event.clear();
        self.data = Vec::new();
        self.has_data = false;
        ParseError::EventTooLarge {
            limit: self.max_event_size,
        }
    }

    /// Handles one complete line `buf[from..to]`.
    fn line(&mut self, from: usize, to: usize, len: usize) -> Option<Result<Item, ParseError>> {
        if len == 0 {
            return self.dispatch().map(Ok);
        }
        if self.skip_event {
            return None;
        }
        self.event_bytes += len + 1;
        if self.event_bytes > self.max_event_size {
            return Some(Err(self.begin_skip()));
        }
        let line = &self.buf[from..to];
        let (field, value) = match memchr::memchr(b':', line) {
            Some(0) => {
                let text = line[1..].strip_prefix(b" ").unwrap_or(&line[1..]);
                // A comment is not part of any event's size.
                self.event_bytes -= len + 1;
                return Some(Ok(Item::Comment(
                    String::from_utf8_lossy(text).into_owned(),
                )));
            }
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match field {
            b"data" => {
                if self.has_data {
                    self.data.push(b'\n');
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
            }
            b"event" => self.event = String::from_utf8_lossy(value).into_owned(),
            b"id" if !value.contains(&0) => {
                self.last_id = String::from_utf8_lossy(value).into_owned();
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                // Digits only, so the only failure is overflow: saturate.
                let ms = std::str::from_utf8(value)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                    .unwrap_or(u64::MAX);
                return Some(Ok(Item::Retry(Duration::from_millis(ms))));
            }
            _ => {}
        }
        None
    }

    /// A blank line: the event so far is dispatched (when it has data) and the buffers reset.
    fn dispatch(&mut self) -> Option<Item> {
        self.event_bytes = 0;
        if std::mem::take(&mut self.skip_event) {
            return None;
        }
        let event = std::mem::take(&mut self.event);
        if !std::mem::take(&mut self.has_data) {
            self.data.clear();
            return None;
        }
        let data = std::mem::take(&mut self.data);
        let data = match String::from_utf8(data) {
            Ok(s) => s,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        };
        Some(Item::Event(Event {
            event: if event.is_empty() {
                "message".to_owned()
            } else {
                event
            },
            data,
            id: self.last_id.clone(),
        }))
    }
}

#[cfg(test)]
mod tests;
