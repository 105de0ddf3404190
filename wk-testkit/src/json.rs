//! JSON encoding that matches the real server's encoder (Jason on the BEAM) byte for byte.
//!
//! Two details differ from `serde_json`'s defaults: object keys are written sorted (Jason sorts the
//! keys of small maps, and every map the server sends is small), and floats are written the way
//! Erlang's `io_lib_format:fwrite_g/1` writes them: the shortest round-trip digits, with an exponent
//! when that is shorter (`10000.0` → `1.0e4`, `100.0` stays `100.0`).

use serde_json::Value;

/// Encodes a JSON value as the real server would: compact, keys sorted, Erlang float format.
#[must_use]
pub fn encode(value: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_value(&mut out, value);
    out
}

/// Appends the server's encoding of `value` to `out`.
pub fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                out.push_str(&i.to_string());
            } else if let Some(u) = n.as_u64() {
                out.push_str(&u.to_string());
            } else if let Some(f) = n.as_f64() {
                out.push_str(&erlang_float(f));
            } else {
                out.push_str(&n.to_string());
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(out, k);
                out.push(':');
                write_value(out, v);
            }
            out.push('}');
        }
    }
}

fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Formats a float like Erlang's `io_lib_format:fwrite_g/1` (what Jason uses).
///
/// ```
/// use wk_testkit::json::erlang_float;
/// assert_eq!(erlang_float(10000.0), "1.0e4");
/// assert_eq!(erlang_float(100.0), "100.0");
/// assert_eq!(erlang_float(13645977.48), "13645977.48");
/// assert_eq!(erlang_float(-5.0), "-5.0");
/// assert_eq!(erlang_float(0.05), "0.05");
/// ```
#[must_use]
pub fn erlang_float(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    if !f.is_finite() {
        // JSON has no representation; Jason would refuse. Never produced by the testkit.
        return "null".into();
    }
    // Rust's `{:e}` prints the shortest round-trip digits, e.g. `1.364597748e7`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i64 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let len = i64::try_from(digits.len()).unwrap_or(1);
    // value = digits × 10^place
    let place = exp - len + 1;
    let body = insert_decimal(place, digits, f.abs());
    if f < 0.0 { format!("-{body}") } else { body }
}

fn insert_decimal(place: i64, s: &str, abs: f64) -> String {
    let len = i64::try_from(s.len()).unwrap_or(1);
    let exp = place + len - 1;
    let exp_l = exp.to_string();
    let exp_cost = i64::try_from(exp_l.len()).unwrap_or(1) + 2;
    let zeros = |n: i64| "0".repeat(usize::try_from(n).unwrap_or(0));
    if place < 0 {
        if exp >= 0 {
            let split = usize::try_from(len + place).unwrap_or(0);
            format!("{}.{}", &s[..split], &s[split..])
        } else if 2 - place - len <= exp_cost {
            format!("0.{}{s}", zeros(-place - len))
        } else {
            insert_exp(&exp_l, s)
        }
    } else {
        let dot = i64::from(len == 1);
        if exp_cost + dot >= place + 2 && abs < 9_007_199_254_740_992.0 {
            format!("{s}{}.0", zeros(place))
        } else {
            insert_exp(&exp_l, s)
        }
    }
}

fn insert_exp(exp_l: &str, s: &str) -> String {
    if s.len() == 1 {
        format!("{s}.0e{exp_l}")
    } else {
        format!("{}.{}e{exp_l}", &s[..1], &s[1..])
    }
}

/// The current time as the server writes it: RFC 3339 UTC with 6 fractional digits.
#[must_use]
pub fn now_timestamp() -> String {
    format_timestamp(jiff::Timestamp::now())
}

/// Formats a timestamp as the server does: `2025-12-03T14:25:02.417735Z`.
#[must_use]
pub fn format_timestamp(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Formats a kill time as ESI gives it: whole seconds, `Z`.
#[must_use]
pub fn format_kill_time(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_erlang() {
        let cases = [
            (10000.0, "1.0e4"),
            (100_000_000.0, "1.0e8"),
            (1000.0, "1.0e3"),
            (100.0, "100.0"),
            (12000.0, "1.2e4"),
            (13645977.48, "13645977.48"),
            (-5.0, "-5.0"),
            (0.0, "0.0"),
            (-1.2, "-1.2"),
            (0.1, "0.1"),
            (0.0001, "1.0e-4"),
            (0.001, "0.001"),
            (-107303362560.0, "-107303362560.0"),
            (2843210.88, "2843210.88"),
            (1.5, "1.5"),
            (10.0, "10.0"),
            (1.0e7, "1.0e7"),
            (9.007199254740992e15, "9.007199254740992e15"),
        ];
        for (f, want) in cases {
            assert_eq!(erlang_float(f), want, "{f}");
        }
    }

    #[test]
    fn timestamps_have_micros() {
        let ts: jiff::Timestamp = "2025-12-03T14:25:02.4177351Z".parse().unwrap();
        assert_eq!(format_timestamp(ts), "2025-12-03T14:25:02.417735Z");
        let ts: jiff::Timestamp = "2025-12-03T14:25:02Z".parse().unwrap();
        assert_eq!(format_timestamp(ts), "2025-12-03T14:25:02.000000Z");
        assert_eq!(format_kill_time(ts), "2025-12-03T14:25:02Z");
    }
}
