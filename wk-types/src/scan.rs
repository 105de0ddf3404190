//! A hand-written reader for the documents the SDK decodes most often: killmails and the
//! `killmail_update` payload that carries them.
//!
//! serde_json reaches these types through its generic visitor machinery: an `Option` wrapper, a
//! field-identifier visitor and a `MapAccess` round trip per key. This module reads the same JSON
//! straight into the same types. It only handles the common case: strings without escapes,
//! numbers of the expected kind, no duplicate keys and no nesting deeper than [`MAX_DEPTH`].
//! Anything else makes it give up (`None`), and the caller decodes with serde, which gives the
//! same value or the exact error.
//!
//! So this module never decides what is valid: for any input, it either returns exactly what the
//! serde derive of the target type returns, or steps aside. The differential tests in
//! `tests/it/fast_decode.rs`, the proptests below and the `json_decode` and `phoenix_frame` fuzz
//! targets hold it to that.

use jiff::Timestamp;
use serde::Deserialize;

use crate::ids::{
    AllianceId, CharacterId, CorporationId, FactionId, KillmailId, LocationId, SystemId, TypeId,
};
use crate::killmail_ref::{AttackerRef, KillmailRef, VictimRef, ZkbRef};
use crate::phoenix::{FrameRef, KillmailUpdate};
use crate::{Attacker, Killmail, Position, Victim, Zkb};

/// Nesting deeper than this is left to serde (whose own limit is 128).
const MAX_DEPTH: u32 = 32;

/// A killmail, its strings borrowed from `text`, or `None` to ask serde.
pub(crate) fn killmail_ref(text: &str) -> Option<KillmailRef<'_>> {
    whole(text, Scan::killmail)
}

/// An owned killmail, read directly (no view built and converted), or `None` to ask serde.
pub(crate) fn killmail(text: &str) -> Option<Killmail> {
    whole(text, Scan::killmail_owned)
}

/// A `killmail_update` payload with owned killmails, or `None` to ask serde.
pub(crate) fn killmail_update(text: &str) -> Option<KillmailUpdate> {
    whole(text, Scan::killmail_update)
}

/// `text` read by `read`, with nothing but whitespace after it.
fn whole<'a, T>(text: &'a str, read: impl FnOnce(&mut Scan<'a>) -> Option<T>) -> Option<T> {
    let mut scan = Scan::new(text);
    let value = read(&mut scan)?;
    scan.end()?;
    Some(value)
}

/// A V2 frame of exactly five elements split into its parts, its payload read by `payload`
/// (given the event name), or `None` to ask serde.
pub(crate) fn frame<'a, P>(
    text: &'a str,
    payload: impl FnOnce(&mut Scan<'a>, &'a str) -> Option<P>,
) -> Option<FrameRef<'a, P>> {
    let mut scan = Scan::new(text);
    scan.eat(b'[')?;
    let join_ref = scan.opt(Scan::str)?;
    scan.eat(b',')?;
    let msg_ref = scan.opt(Scan::str)?;
    scan.eat(b',')?;
    let topic = scan.str()?;
    scan.eat(b',')?;
    let event = scan.str()?;
    scan.eat(b',')?;
    let payload = payload(&mut scan, event)?;
    scan.eat(b']')?;
    scan.end()?;
    Some(FrameRef {
        join_ref,
        msg_ref,
        topic,
        event,
        payload,
    })
}

/// Reads a field that victims and attackers both have (ids, names and ESI records) into `$party`,
/// with duplicate bits from [`PARTY_BITS`] up; skips any other key. The readers match their own
/// fields first, on bits below it.
macro_rules! party_field {
    ($s:ident, $key:ident, $seen:ident, $party:ident) => {
        match $key {
            "character_id" => {
                $seen.once(PARTY_BITS)?;
                $party.character_id = $s.opt(Self::i64)?.map(CharacterId::new);
            }
            "corporation_id" => {
                $seen.once(PARTY_BITS + 1)?;
                $party.corporation_id = $s.opt(Self::i64)?.map(CorporationId::new);
            }
            "alliance_id" => {
                $seen.once(PARTY_BITS + 2)?;
                $party.alliance_id = $s.opt(Self::i64)?.map(AllianceId::new);
            }
            "faction_id" => {
                $seen.once(PARTY_BITS + 3)?;
                $party.faction_id = $s.opt(Self::i64)?.map(FactionId::new);
            }
            "ship_type_id" => {
                $seen.once(PARTY_BITS + 4)?;
                $party.ship_type_id = $s.opt(Self::i64)?.map(TypeId::new);
            }
            "character_name" => {
                $seen.once(PARTY_BITS + 5)?;
                $party.character_name = $s.opt(Self::text)?;
            }
            "ship_name" => {
                $seen.once(PARTY_BITS + 6)?;
                $party.ship_name = $s.opt(Self::text)?;
            }
            "corporation_name" => {
                $seen.once(PARTY_BITS + 7)?;
                $party.corporation_name = $s.opt(Self::text)?;
            }
            "corporation_ticker" => {
                $seen.once(PARTY_BITS + 8)?;
                $party.corporation_ticker = $s.opt(Self::text)?;
            }
            "alliance_name" => {
                $seen.once(PARTY_BITS + 9)?;
                $party.alliance_name = $s.opt(Self::text)?;
            }
            "alliance_ticker" => {
                $seen.once(PARTY_BITS + 10)?;
                $party.alliance_ticker = $s.opt(Self::text)?;
            }
            "character" => {
                $seen.once(PARTY_BITS + 11)?;
                $party.character = $s.serde()?;
            }
            "corporation" => {
                $seen.once(PARTY_BITS + 12)?;
                $party.corporation = $s.serde()?;
            }
            "alliance" => {
                $seen.once(PARTY_BITS + 13)?;
                $party.alliance = $s.serde()?;
            }
            _ => $s.unknown($key)?,
        }
    };
}

/// The readers of one family of killmail types. The borrowed view and the owned form have the
/// same fields and the same rules and differ only in how they hold strings, which [`Scan::text`]
/// converts to either; reading the owned form directly saves building the view and moving it.
macro_rules! killmail_readers {
    (
        $killmail:ident: $Killmail:ty,
        $victim:ident: $Victim:ty,
        $attacker:ident, $attacker_into:ident: $Attacker:ty,
        $zkb:ident: $Zkb:ty $(,)?
    ) => {
        fn $killmail(&mut self) -> Option<$Killmail> {
            let mut km = <$Killmail>::default();
            let mut id = None;
            let mut seen = Seen(0);
            self.object(|s, key| {
                match key {
                    "killmail_id" => {
                        seen.once(0)?;
                        id = Some(KillmailId::new(s.i64()?));
                    }
                    "kill_time" => {
                        seen.once(1)?;
                        km.kill_time = s.opt(Self::timestamp)?;
                    }
                    "system_id" => {
                        seen.once(2)?;
                        km.system_id = s.opt(Self::i64)?.map(SystemId::new);
                    }
                    "victim" => {
                        seen.once(3)?;
                        km.victim = s.opt(Self::$victim)?;
                    }
                    "attackers" => {
                        seen.once(4)?;
                        if !s.null()? {
                            // Sorted keys put `attacker_count` first: a good size hint.
                            let hint = km.attacker_count.unwrap_or(0).clamp(0, 64);
                            km.attackers.reserve(usize::try_from(hint).unwrap_or(0));
                            s.array(|s| {
                                // Read in place: an attacker is too big to move cheaply.
                                km.attackers.push(<$Attacker>::default());
                                s.$attacker_into(km.attackers.last_mut()?)
                            })?;
                        }
                    }
                    "zkb" => {
                        seen.once(5)?;
                        km.zkb = s.opt(Self::$zkb)?;
                    }
                    "attacker_count" => {
                        seen.once(6)?;
                        km.attacker_count = s.opt(Self::i64)?;
                    }
                    "solar_system_name" => {
                        seen.once(7)?;
                        km.solar_system_name = s.opt(Self::text)?;
                    }
                    "moon_id" => {
                        seen.once(8)?;
                        km.moon_id = s.opt(Self::i64)?;
                    }
                    "war_id" => {
                        seen.once(9)?;
                        km.war_id = s.opt(Self::i64)?;
                    }
                    "total_value" => {
                        seen.once(10)?;
                        km.total_value = s.opt(Self::f64)?;
                    }
                    "npc" => {
                        seen.once(11)?;
                        km.npc = s.opt(Self::bool)?;
                    }
                    "total_damage" => {
                        seen.once(12)?;
                        km.total_damage = s.opt(Self::i64)?;
                    }
                    "involved_parties" => {
                        seen.once(13)?;
                        km.involved_parties = s.opt(Self::i64)?;
                    }
                    "final_blow_attacker" => {
                        seen.once(14)?;
                        km.final_blow_attacker = s.opt(Self::$attacker)?.map(Box::new);
                    }
                    _ => s.unknown(key)?,
                }
                Some(())
            })?;
            km.killmail_id = id?;
            Some(km)
        }

        fn $victim(&mut self) -> Option<$Victim> {
            let mut v = <$Victim>::default();
            let mut seen = Seen(0);
            self.object(|s, key| {
                match key {
                    "damage_taken" => {
                        seen.once(0)?;
                        v.damage_taken = s.opt(Self::i64)?.unwrap_or_default();
                    }
                    "position" => {
                        seen.once(1)?;
                        v.position = s.opt(Self::position)?;
                    }
                    "items" => {
                        seen.once(2)?;
                        v.items = s.serde::<Option<_>>()?.unwrap_or_default();
                    }
                    _ => party_field!(s, key, seen, v),
                }
                Some(())
            })?;
            Some(v)
        }

        fn $attacker(&mut self) -> Option<$Attacker> {
            let mut a = <$Attacker>::default();
            self.$attacker_into(&mut a)?;
            Some(a)
        }

        /// An attacker read into `a`, which starts as the default.
        fn $attacker_into(&mut self, a: &mut $Attacker) -> Option<()> {
            let mut seen = Seen(0);
            self.object(|s, key| {
                match key {
                    "weapon_type_id" => {
                        seen.once(0)?;
                        a.weapon_type_id = s.opt(Self::i64)?.map(TypeId::new);
                    }
                    "damage_done" => {
                        seen.once(1)?;
                        a.damage_done = s.opt(Self::i64)?.unwrap_or_default();
                    }
                    "final_blow" => {
                        seen.once(2)?;
                        a.final_blow = s.opt(Self::bool)?.unwrap_or_default();
                    }
                    "security_status" => {
                        seen.once(3)?;
                        a.security_status = s.opt(Self::f64)?.unwrap_or_default();
                    }
                    _ => party_field!(s, key, seen, a),
                }
                Some(())
            })
        }

        fn $zkb(&mut self) -> Option<$Zkb> {
            let mut z = <$Zkb>::default();
            let mut seen = Seen(0);
            self.object(|s, key| {
                match key {
                    "hash" => {
                        seen.once(0)?;
                        z.hash = s.opt(Self::text)?;
                    }
                    "locationID" => {
                        seen.once(1)?;
                        z.location_id = s.opt(Self::i64)?.map(LocationId::new);
                    }
                    "fittedValue" => {
                        seen.once(2)?;
                        z.fitted_value = s.opt(Self::f64)?;
                    }
                    "droppedValue" => {
                        seen.once(3)?;
                        z.dropped_value = s.opt(Self::f64)?;
                    }
                    "destroyedValue" => {
                        seen.once(4)?;
                        z.destroyed_value = s.opt(Self::f64)?;
                    }
                    "totalValue" => {
                        seen.once(5)?;
                        z.total_value = s.opt(Self::f64)?;
                    }
                    "points" => {
                        seen.once(6)?;
                        z.points = s.opt(Self::lenient_i64)?;
                    }
                    "npc" => {
                        seen.once(7)?;
                        z.npc = s.opt(Self::bool)?.unwrap_or_default();
                    }
                    "solo" => {
                        seen.once(8)?;
                        z.solo = s.opt(Self::bool)?.unwrap_or_default();
                    }
                    "awox" => {
                        seen.once(9)?;
                        z.awox = s.opt(Self::bool)?.unwrap_or_default();
                    }
                    "labels" => {
                        seen.once(10)?;
                        if !s.null()? {
                            s.array(|s| {
                                z.labels.push(s.text()?);
                                Some(())
                            })?;
                        }
                    }
                    _ => s.unknown(key)?,
                }
                Some(())
            })?;
            Some(z)
        }
    };
}

/// The first duplicate bit of the fields [`party_field!`] reads.
const PARTY_BITS: u32 = 8;

/// Which of a struct's fields have been read, to step aside on a duplicate (serde's error).
struct Seen(u32);

impl Seen {
    #[inline]
    fn once(&mut self, field: u32) -> Option<()> {
        let bit = 1 << field;
        if self.0 & bit != 0 {
            return None;
        }
        self.0 |= bit;
        Some(())
    }
}

/// A JSON number as serde_json classifies it before a visitor sees it.
enum Number {
    /// A non-negative integer that fits `u64`.
    Unsigned(u64),
    /// A negative integer that fits `i64`.
    Signed(i64),
    /// Anything with a fraction or an exponent, `-0`, and negative integers below `i64::MIN`.
    Float(f64),
}

/// The integer part of a number: its sign, digits and where it ends.
struct Integer {
    negative: bool,
    /// The digits' value, wrapped past 19 digits.
    magnitude: u64,
    /// How many digits there are.
    digits: usize,
    /// The index after the last digit.
    end: usize,
    /// A fraction or an exponent follows: the number is a float.
    more: bool,
}

impl Integer {
    /// The magnitude, if it is exact: up to 19 digits cannot overflow. serde_json reads longer
    /// integers as floats, rare enough to leave to it.
    #[inline]
    fn exact(&self) -> Option<u64> {
        (self.digits <= 19).then_some(self.magnitude)
    }

    /// Minus the magnitude, if serde_json reads it as a negative `i64`: to it, `-0` and
    /// magnitudes past `i64::MIN` are floats.
    #[inline]
    fn negated(&self) -> Option<i64> {
        let value = self.magnitude.cast_signed().wrapping_neg();
        (value < 0).then_some(value)
    }
}

/// A cursor over JSON text.
pub(crate) struct Scan<'a> {
    text: &'a str,
    pos: usize,
    depth: u32,
}

impl<'a> Scan<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text,
            pos: 0,
            depth: 0,
        }
    }

    /// The next byte that is not whitespace, not consumed.
    #[inline]
    fn peek(&mut self) -> Option<u8> {
        // Every JSON whitespace byte is below `!`: compact text costs one comparison.
        match self.text.as_bytes().get(self.pos) {
            Some(&b) if b > b' ' => Some(b),
            _ => self.peek_past_whitespace(),
        }
    }

    #[cold]
    fn peek_past_whitespace(&mut self) -> Option<u8> {
        let bytes = self.text.as_bytes();
        while let Some(&b) = bytes.get(self.pos) {
            match b {
                b' ' | b'\n' | b'\r' | b'\t' => self.pos += 1,
                _ => return Some(b),
            }
        }
        None
    }

    #[inline]
    fn eat(&mut self, want: u8) -> Option<()> {
        if self.peek()? == want {
            self.pos += 1;
            Some(())
        } else {
            None
        }
    }

    /// Only whitespace is left.
    fn end(&mut self) -> Option<()> {
        match self.peek() {
            None => Some(()),
            Some(_) => None,
        }
    }

    /// Consumes `null` and says `true`, or says `false` when the next value is something else.
    #[inline]
    fn null(&mut self) -> Option<bool> {
        if self.peek()? != b'n' {
            return Some(false);
        }
        self.literal(b"null")?;
        Some(true)
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        if self.text.as_bytes().get(self.pos..end)? != word {
            return None;
        }
        self.pos = end;
        Some(())
    }

    /// `null` as `None`, anything else read by `read`: serde's `Option<T>`.
    #[inline]
    fn opt<T>(&mut self, read: impl FnOnce(&mut Self) -> Option<T>) -> Option<Option<T>> {
        if self.null()? {
            Some(None)
        } else {
            read(self).map(Some)
        }
    }

    fn bool(&mut self) -> Option<bool> {
        match self.peek()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => None,
        }
    }

    /// A string with no escapes and no control characters, borrowed from the text.
    #[inline]
    fn str(&mut self) -> Option<&'a str> {
        self.string_to(special_bytes, |b| b == b'"' || b == b'\\' || b < 0x20)
    }

    /// An object key: the text up to the next `"`. Only looking for the quote makes this quicker
    /// than [`Self::str`], and it is enough for the keys a reader knows: field names have no
    /// escapes or control characters, so text equal to one is that key exactly. Any other key may
    /// hide an escape (even an escaped quote, which makes the text a cut-off prefix), and must go
    /// through [`Self::unknown`].
    #[inline(always)]
    fn key(&mut self) -> Option<&'a str> {
        self.string_to(|word| zero_bytes(word ^ splat(b'"')), |b| b == b'"')
    }

    /// A string's text up to the first byte that `stop` says ends it, which must be its closing
    /// quote. Eight bytes at a time while eight are left: `stops` flags the high bit of each
    /// byte of a word that `stop` would (only the lowest flag need be exact).
    #[inline(always)]
    fn string_to(
        &mut self,
        stops: impl Fn(u64) -> u64,
        stop: impl Fn(u8) -> bool,
    ) -> Option<&'a str> {
        self.eat(b'"')?;
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut i = start;
        while let Some(chunk) = bytes.get(i..i + 8) {
            let hits = stops(u64::from_le_bytes(chunk.try_into().ok()?));
            if hits != 0 {
                i += (hits.trailing_zeros() / 8) as usize;
                return self.close_str(start, i);
            }
            i += 8;
        }
        i += bytes.get(i..)?.iter().position(|&b| stop(b))?;
        self.close_str(start, i)
    }

    /// Skips the value of a key the reader does not know, once the key is checked to be the
    /// whole key: with an escape or a control character in it, serde must read it.
    #[inline]
    fn unknown(&mut self, key: &str) -> Option<()> {
        if key.bytes().any(|b| b == b'\\' || b < 0x20) {
            return None;
        }
        self.skip()
    }

    /// Ends the string that started at `start` if the byte at `end` is its closing quote.
    #[inline]
    fn close_str(&mut self, start: usize, end: usize) -> Option<&'a str> {
        if *self.text.as_bytes().get(end)? != b'"' {
            return None;
        }
        self.pos = end + 1;
        self.text.get(start..end)
    }

    /// The integer part of the number at the cursor, its grammar checked; not consumed. Always
    /// inlined: as a call (its result returned through memory) it made a killmail decode 7% dearer.
    #[inline(always)]
    fn integer(&mut self) -> Option<Integer> {
        self.peek()?;
        let bytes = self.text.as_bytes();
        let negative = bytes.get(self.pos) == Some(&b'-');
        let first = self.pos + usize::from(negative);
        let (magnitude, end) = match bytes.get(first)? {
            b'0' => (0, first + 1),
            b'1'..=b'9' => digit_run(bytes, first, 0),
            _ => return None,
        };
        let more = matches!(bytes.get(end), Some(b'.' | b'e' | b'E'));
        Some(Integer {
            negative,
            magnitude,
            digits: end - first,
            end,
            more,
        })
    }

    /// A number checked against JSON's grammar, classified as serde_json does.
    #[inline]
    fn number(&mut self) -> Option<Number> {
        let int = self.integer()?;
        if int.more {
            return self.float(self.pos, int.negative, int.magnitude, int.digits, int.end);
        }
        let magnitude = int.exact()?;
        self.pos = int.end;
        Some(match (int.negative, int.negated()) {
            (false, _) => Number::Unsigned(magnitude),
            (true, Some(value)) => Number::Signed(value),
            (true, None) => Number::Float(-(magnitude as f64)),
        })
    }

    /// The rest of a number with a fraction or an exponent, from `i`, the end of its integer part
    /// (`digits` digits, read as `mantissa`, wrapped if there are more than 19).
    fn float(
        &mut self,
        start: usize,
        negative: bool,
        mut mantissa: u64,
        mut digits: usize,
        mut i: usize,
    ) -> Option<Number> {
        let bytes = self.text.as_bytes();
        let mut scale = 0;
        if bytes.get(i) == Some(&b'.') {
            let fraction = i + 1;
            (mantissa, i) = digit_run(bytes, fraction, mantissa);
            if i == fraction {
                return None;
            }
            digits += i - fraction;
            scale = i - fraction;
        }
        let mut exponent: i64 = 0;
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            let sign = match bytes.get(i) {
                Some(b'-') => -1,
                Some(b'+') => 1,
                _ => 0,
            };
            i += usize::from(sign != 0);
            let first = i;
            while let Some(&d) = bytes.get(i).filter(|d| d.is_ascii_digit()) {
                exponent = (exponent * 10 + i64::from(d - b'0')).min(1 << 32);
                i += 1;
            }
            if i == first {
                return None;
            }
            if sign < 0 {
                exponent = -exponent;
            }
        }
        self.pos = i;
        // Clinger's fast path: an exact mantissa times or over an exact power of ten is one
        // correctly rounded operation, the same value a full parse gives.
        let power = exponent - i64::try_from(scale).ok()?;
        if digits <= 19 && mantissa <= 1 << 53 && power.abs() <= 22 {
            let m = mantissa as f64;
            let p = POWERS_OF_TEN[power.unsigned_abs() as usize];
            let value = if power < 0 { m / p } else { m * p };
            return Some(Number::Float(if negative { -value } else { value }));
        }
        let value: f64 = self.text.get(start..i)?.parse().ok()?;
        // serde_json refuses what overflows to infinity.
        value.is_finite().then_some(Number::Float(value))
    }

    /// An `i64`: an integer in range (serde refuses floats here). The same classification as
    /// [`Self::number`], without building a [`Number`]: this is most numbers a killmail has.
    #[inline]
    fn i64(&mut self) -> Option<i64> {
        let int = self.integer()?;
        if int.more {
            return None;
        }
        let magnitude = int.exact()?;
        self.pos = int.end;
        if int.negative {
            int.negated()
        } else {
            i64::try_from(magnitude).ok()
        }
    }

    /// An `f64`: any number, integers converted as serde's `f64` visitor converts them.
    #[inline]
    fn f64(&mut self) -> Option<f64> {
        Some(match self.number()? {
            Number::Unsigned(n) => n as f64,
            Number::Signed(n) => n as f64,
            Number::Float(n) => n,
        })
    }

    /// An integer that may be written as a whole float, as `de::lenient_opt_i64` reads it.
    fn lenient_i64(&mut self) -> Option<i64> {
        match self.number()? {
            Number::Unsigned(n) => i64::try_from(n).ok(),
            Number::Signed(n) => Some(n),
            Number::Float(v) => crate::de::whole(v),
        }
    }

    fn timestamp(&mut self) -> Option<Timestamp> {
        self.str()?.parse().ok()
    }

    /// A string as the target type holds it: borrowed (`Cow`) or copied (`String`).
    fn text<T: From<&'a str>>(&mut self) -> Option<T> {
        self.str().map(T::from)
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// An object, handing each key (see [`Self::key`]) to `field`, which must read the value and
    /// pass any key it does not know to [`Self::unknown`].
    #[inline]
    fn object(&mut self, mut field: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        self.enter()?;
        if self.peek()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                let key = self.key()?;
                self.eat(b':')?;
                field(self, key)?;
                match self.peek()? {
                    b',' => self.pos += 1,
                    b'}' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// An array, calling `item` to read each element.
    #[inline]
    fn array(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        self.enter()?;
        if self.peek()? == b']' {
            self.pos += 1;
        } else {
            loop {
                item(self)?;
                match self.peek()? {
                    b',' => self.pos += 1,
                    b']' => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    /// Reads past any value, checking its grammar as serde's `IgnoredAny` does.
    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.str().map(drop),
            b'{' => self.object(Self::unknown),
            b'[' => self.array(Self::skip),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            _ => self.number().map(drop),
        }
    }

    /// A value of a type this module does not read itself, decoded by serde from its own text.
    fn serde<T: Deserialize<'a>>(&mut self) -> Option<T> {
        serde_json::from_str(self.raw()?).ok()
    }

    /// The text of the next value, its grammar checked.
    pub(crate) fn raw(&mut self) -> Option<&'a str> {
        self.peek()?;
        let start = self.pos;
        self.skip()?;
        self.text.get(start..self.pos)
    }

    pub(crate) fn killmail_update(&mut self) -> Option<KillmailUpdate> {
        let mut system_id = None;
        let mut killmails = Vec::new();
        let mut timestamp = None;
        let mut preload = false;
        let mut seen = Seen(0);
        self.object(|s, key| {
            match key {
                "system_id" => {
                    seen.once(0)?;
                    system_id = Some(SystemId::new(s.i64()?));
                }
                "killmails" => {
                    seen.once(1)?;
                    if !s.null()? {
                        s.array(|s| {
                            killmails.push(s.killmail_owned()?);
                            Some(())
                        })?;
                    }
                }
                "timestamp" => {
                    seen.once(2)?;
                    timestamp = s.opt(Self::timestamp)?;
                }
                "preload" => {
                    seen.once(3)?;
                    preload = s.opt(Self::bool)?.unwrap_or_default();
                }
                _ => s.unknown(key)?,
            }
            Some(())
        })?;
        Some(KillmailUpdate::new(
            system_id?, killmails, timestamp, preload,
        ))
    }

    killmail_readers!(
        killmail: KillmailRef<'a>,
        victim: VictimRef<'a>,
        attacker, attacker_into: AttackerRef<'a>,
        zkb: ZkbRef<'a>,
    );

    killmail_readers!(
        killmail_owned: Killmail,
        victim_owned: Victim,
        attacker_owned, attacker_owned_into: Attacker,
        zkb_owned: Zkb,
    );

    fn position(&mut self) -> Option<Position> {
        let [mut x, mut y, mut z] = [None; 3];
        self.object(|s, key| {
            let slot = match key {
                "x" => &mut x,
                "y" => &mut y,
                "z" => &mut z,
                _ => return s.unknown(key),
            };
            if slot.is_some() {
                return None;
            }
            *slot = Some(s.f64()?);
            Some(())
        })?;
        Some(Position {
            x: x?,
            y: y?,
            z: z?,
        })
    }
}

/// The run of ASCII digits at `i` appended to `value` (wrapping past `u64`), and the index after
/// it. Eight digits at a time while eight bytes are left.
#[inline]
fn digit_run(bytes: &[u8], mut i: usize, mut value: u64) -> (u64, usize) {
    while let Some(chunk) = bytes.get(i..i + 8) {
        let (n, run) = eight_digits(u64::from_le_bytes(chunk.try_into().unwrap_or_default()));
        value = value.wrapping_mul(POWERS_OF_TEN_U64[n]).wrapping_add(run);
        i += n;
        if n < 8 {
            return (value, i);
        }
    }
    while let Some(&d) = bytes.get(i).filter(|d| d.is_ascii_digit()) {
        value = value.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
        i += 1;
    }
    (value, i)
}

/// How many of `word`'s bytes, from the lowest (the first in the text), are ASCII digits, and
/// the number they spell.
#[inline]
fn eight_digits(word: u64) -> (usize, u64) {
    // Digits become 0..=9; a byte is anything else when its low seven bits plus 0x76 reach the
    // high bit (no carry leaves a byte) or its own high bit is set.
    let values = word ^ splat(b'0');
    let other = (((values & !HIGHS).wrapping_add(splat(0x76))) | values) & HIGHS;
    let n = (other.trailing_zeros() / 8) as usize;
    if n == 0 {
        return (0, 0);
    }
    // The `n` digits moved to the high bytes, zeros below them: the same number in eight digits,
    // the first in the lowest byte. Then pairs, fours and the eight are combined in place.
    let v = values << (64 - 8 * n);
    let v = (v.wrapping_mul(10 << 8 | 1) >> 8) & 0x00FF_00FF_00FF_00FF;
    let v = (v.wrapping_mul(100 << 16 | 1) >> 16) & 0x0000_FFFF_0000_FFFF;
    (n, v.wrapping_mul(10_000 << 32 | 1) >> 32)
}

/// `10^n` for the digit counts [`eight_digits`] returns.
const POWERS_OF_TEN_U64: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// The powers of ten that `f64` holds exactly.
const POWERS_OF_TEN: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// A mask with the high bit set in every byte of `word` that ends a plain string run: `"`, `\`
/// or a control character. Bytes above the first such byte may be flagged falsely (borrows
/// propagate upwards), so only the lowest flag is exact, which is the one the caller uses.
#[inline]
fn special_bytes(word: u64) -> u64 {
    let control = word.wrapping_sub(splat(0x20)) & !word & HIGHS;
    zero_bytes(word ^ splat(b'"')) | zero_bytes(word ^ splat(b'\\')) | control
}

/// The high bit of each zero byte of `v`, exact up to the lowest (borrows propagate upwards).
#[inline]
fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(ONES) & !v & HIGHS
}

/// `byte` in each byte of a word.
const fn splat(byte: u8) -> u64 {
    u64::from_ne_bytes([byte; 8])
}

const ONES: u64 = splat(0x01);
const HIGHS: u64 = splat(0x80);

#[cfg(test)]
mod tests {
    use super::*;

    fn classify(text: &str) -> Option<Number> {
        let mut scan = Scan::new(text);
        let n = scan.number()?;
        scan.end()?;
        Some(n)
    }

    #[test]
    fn numbers_are_classified_as_serde_json_does() {
        assert!(matches!(classify("0"), Some(Number::Unsigned(0))));
        assert!(matches!(classify("-7"), Some(Number::Signed(-7))));
        assert!(
            matches!(classify("-0"), Some(Number::Float(v)) if v == 0.0 && v.is_sign_negative())
        );
        assert!(matches!(
            classify("-9223372036854775808"),
            Some(Number::Signed(i64::MIN))
        ));
        assert!(matches!(
            classify("-9223372036854775809"),
            Some(Number::Float(_))
        ));
        assert!(matches!(
            classify("9999999999999999999"),
            Some(Number::Unsigned(9_999_999_999_999_999_999))
        ));
        // Twenty digits and more are left to serde_json.
        assert!(classify("18446744073709551615").is_none());
        assert!(matches!(classify("1.5e3"), Some(Number::Float(v)) if v == 1500.0));
        assert!(matches!(classify("1E+2"), Some(Number::Float(v)) if v == 100.0));
        for bad in [
            "01", "1.", ".5", "1e", "1e+", "-", "+1", "1.5.5", "1e400", "Infinity", "NaN",
        ] {
            assert!(classify(bad).is_none(), "{bad}");
        }
    }

    /// `i64` takes what serde reads as an `i64`, or steps aside; it never takes anything else.
    #[test]
    fn integers_are_taken_as_serde_takes_them() {
        for text in [
            "0",
            "7",
            "-7",
            "-0",
            "01",
            "-",
            "1.0",
            "1e2",
            "-1E2",
            "12345678",
            "-123456789",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "-9223372036854775809",
            "18446744073709551615",
            "99999999999999999999",
            "1.",
            "x",
        ] {
            let mut scan = Scan::new(text);
            let fast = scan.i64().filter(|_| scan.end().is_some());
            let serde = serde_json::from_str::<i64>(text).ok();
            match fast {
                Some(n) => assert_eq!(Some(n), serde, "{text}"),
                None => assert!(serde.is_none() || text.len() > 19, "{text}"),
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn integers_match_serde(text in "-?(0|[1-9][0-9]{0,21})([.][0-9]{1,3})?([eE][-+]?[0-9]{1,2})?") {
            let mut scan = Scan::new(&text);
            let fast = scan.i64().filter(|_| scan.end().is_some());
            let serde = serde_json::from_str::<i64>(&text).ok();
            match fast {
                Some(n) => proptest::prop_assert_eq!(Some(n), serde, "{}", text),
                None => proptest::prop_assert!(
                    serde.is_none() || text.trim_start_matches('-').len() > 19, "{}", text
                ),
            }
        }

        /// Decimals read on the fast path are bit for bit what a full parse gives, as are the
        /// ones past it (long mantissas, large exponents).
        #[test]
        fn decimals_read_as_a_full_parse_reads_them(
            negative in proptest::bool::ANY,
            integer in "(0|[1-9][0-9]{0,20})",
            fraction in proptest::option::of("[0-9]{1,20}"),
            exponent in proptest::option::of(-350i32..350),
            upper in proptest::bool::ANY,
        ) {
            let mut text = format!("{}{integer}", if negative { "-" } else { "" });
            if let Some(f) = &fraction {
                text = format!("{text}.{f}");
            }
            if let Some(e) = exponent {
                text = format!("{text}{}{e}", if upper { "E" } else { "e" });
            }
            let serde: Result<f64, _> = serde_json::from_str(&text);
            match classify(&text) {
                Some(Number::Float(v)) => {
                    proptest::prop_assert_eq!(v.to_bits(), serde.unwrap().to_bits(), "{}", text);
                }
                Some(Number::Unsigned(n)) => proptest::prop_assert_eq!(n as f64, serde.unwrap()),
                Some(Number::Signed(n)) => proptest::prop_assert_eq!(n as f64, serde.unwrap()),
                // Only what serde_json refuses, or integers of 20 digits and more.
                None => proptest::prop_assert!(serde.is_err() || integer.len() >= 20, "{}", text),
            }
        }
    }

    /// `digit_run` against a digit-at-a-time loop, for every run length the eight-byte steps
    /// and the tail can meet, and for every byte that can stop a run.
    #[test]
    fn digit_runs_read_as_one_digit_at_a_time_reads_them() {
        fn slow(bytes: &[u8], mut i: usize, mut value: u64) -> (u64, usize) {
            while let Some(&d) = bytes.get(i).filter(|d| d.is_ascii_digit()) {
                value = value.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                i += 1;
            }
            (value, i)
        }
        for len in 0..=25 {
            let digits: Vec<u8> = (0..len).map(|k| b"9876543210"[k % 10]).collect();
            for stop in (0..=255u8).filter(|b| !b.is_ascii_digit()) {
                for pad in 0..10 {
                    let mut text = b"-".to_vec();
                    text.extend_from_slice(&digits);
                    text.push(stop);
                    text.extend(std::iter::repeat_n(b'7', pad));
                    assert_eq!(
                        digit_run(&text, 1, 42),
                        slow(&text, 1, 42),
                        "{len} digits, stop {stop:#x}, {pad} after"
                    );
                }
            }
            // The run reaching the end of the text.
            assert_eq!(
                digit_run(&digits, 0, 0),
                slow(&digits, 0, 0),
                "{len} digits"
            );
        }
        assert_eq!(
            eight_digits(u64::from_le_bytes(*b"12345678")),
            (8, 12_345_678)
        );
        assert_eq!(eight_digits(u64::from_le_bytes(*b"00000009")), (8, 9));
        assert_eq!(eight_digits(u64::from_le_bytes(*b"907,\"12\"")), (3, 907));
        assert_eq!(eight_digits(u64::from_le_bytes(*b"x1234567")), (0, 0));
    }

    proptest::proptest! {
        #[test]
        fn digit_runs_match_the_slow_loop(bytes in proptest::collection::vec(
            proptest::prop_oneof![4 => b'0'..=b'9', 1 => proptest::num::u8::ANY], 0..40),
            start in 0usize..8,
        ) {
            let start = start.min(bytes.len());
            let mut i = start;
            let mut value = 0u64;
            while let Some(&d) = bytes.get(i).filter(|d| d.is_ascii_digit()) {
                value = value.wrapping_mul(10).wrapping_add(u64::from(d - b'0'));
                i += 1;
            }
            proptest::prop_assert_eq!(digit_run(&bytes, start, 0), (value, i));
        }
    }

    #[test]
    fn special_bytes_finds_the_first_stop() {
        for (i, stop) in [b'"', b'\\', 0x00, 0x1f].into_iter().enumerate() {
            let mut word = *b"abcdefgh";
            word[i + 2] = stop;
            let hits = special_bytes(u64::from_le_bytes(word));
            assert_eq!(hits.trailing_zeros() / 8, i as u32 + 2);
        }
        assert_eq!(
            special_bytes(u64::from_le_bytes(*b"\xc3\xa9 ~\x7f\xff !")),
            0
        );
    }

    #[test]
    fn strings_stop_at_escapes_and_control_characters() {
        assert_eq!(Scan::new(r#""plain é""#).str(), Some("plain é"));
        assert_eq!(
            Scan::new(r#""a longer plain string""#).str(),
            Some("a longer plain string")
        );
        assert_eq!(Scan::new(r#""with \" escape""#).str(), None);
        assert_eq!(Scan::new("\"tab\there\"").str(), None);
        assert_eq!(Scan::new(r#""unterminated"#).str(), None);
    }

    /// The reader takes every killmail and update of the protocol examples itself, without
    /// serde's help (none has an escaped string), so the speed-up applies to real traffic.
    #[test]
    fn the_examples_take_the_fast_path() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/protocol/examples");
        let frames = std::fs::read_to_string(dir.join("phoenix_frames.txt")).unwrap();
        let mut updates = 0;
        for frame in frames.lines().filter_map(|l| l.strip_prefix("<< ")) {
            if !frame.contains(r#","killmail_update","#) {
                continue;
            }
            let parts: Vec<&serde_json::value::RawValue> = serde_json::from_str(frame).unwrap();
            let payload = parts[4].get();
            let update = killmail_update(payload).expect("taken by the reader");
            let serde: KillmailUpdate = serde_json::from_str(payload).unwrap();
            assert_eq!(update, serde);
            for km in serde_json::from_str::<serde_json::Value>(payload).unwrap()["killmails"]
                .as_array()
                .unwrap()
            {
                let text = km.to_string();
                let fast = killmail_ref(&text).expect("taken by the reader");
                assert_eq!(
                    fast,
                    serde_json::from_str::<KillmailRef<'_>>(&text).unwrap()
                );
                let owned = killmail(&text).expect("taken by the reader");
                assert_eq!(owned, serde_json::from_str::<Killmail>(&text).unwrap());
            }
            updates += 1;
        }
        assert!(updates >= 4);
        for name in [
            "killmail.json",
            "killmail_stored.json",
            "killmail_zkb_reference.json",
        ] {
            let text = std::fs::read_to_string(dir.join(name)).unwrap();
            assert!(killmail_ref(&text).is_some(), "{name}");
            assert!(killmail(&text).is_some(), "{name}");
        }
    }

    #[test]
    fn deep_nesting_is_left_to_serde() {
        let deep = format!("{}{}", "[".repeat(40), "]".repeat(40));
        assert!(Scan::new(&deep).skip().is_none());
        let shallow = format!("{}{}", "[".repeat(20), "]".repeat(20));
        assert!(Scan::new(&shallow).skip().is_some());
    }
}
