//! Serde helpers shared by the wire types: `null` as default, lenient integers, strings borrowed
//! from the input, schema snippets.

use std::borrow::Cow;

use serde::{Deserialize, Deserializer};

/// Deserializes a value where JSON `null` means the type's default, as an absent key does.
pub(crate) fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// A JSON string kept as a slice of the input when it has no escapes, else unescaped into a copy.
///
/// serde's own `Cow<str>` impl always copies (it cannot know the input outlives the value), so the
/// borrowed killmail view decodes its strings through this.
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(
                self,
                v: &'de str,
            ) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// An optional string, borrowed from the input where it can be (see [`Text`]).
pub(crate) fn opt_text<'de: 'a, 'a, D>(deserializer: D) -> Result<Option<Cow<'a, str>>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<Text<'a>>::deserialize(deserializer)?.map(|t| t.0))
}

/// A list of strings (`null` for none), each borrowed from the input where it can be.
pub(crate) fn text_list<'de: 'a, 'a, D>(deserializer: D) -> Result<Vec<Cow<'a, str>>, D::Error>
where
    D: Deserializer<'de>,
{
    let list = Option::<Vec<Text<'a>>>::deserialize(deserializer)?.unwrap_or_default();
    Ok(list.into_iter().map(|t| t.0).collect())
}

/// Deserializes an optional integer that upstream (zKillboard) may write as a whole float (`7.0`).
pub(crate) fn lenient_opt_i64<'de, D>(deserializer: D) -> Result<Option<i64>, D::Error>
where
    D: Deserializer<'de>,
{
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an integer, a whole number or null")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v)
                .map(Some)
                .map_err(|_| E::custom("integer out of range"))
        }
        fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
            whole(v)
                .map(Some)
                .ok_or_else(|| E::custom(format!("expected a whole number, got {v}")))
        }
    }
    deserializer.deserialize_option(Visitor)
}

/// `v` as an integer if it is a whole number in the range where that is exact (`7.0` is 7).
pub(crate) fn whole(v: f64) -> Option<i64> {
    // The range check keeps the cast exact: every whole f64 in it is an i64.
    (v.fract() == 0.0 && v.abs() < 9.0e15).then_some(v as i64)
}

/// JSON Schema snippets for types whose schema schemars cannot derive.
#[cfg(feature = "schema")]
pub(crate) mod schema {
    use schemars::{Schema, SchemaGenerator, json_schema};

    /// An optional RFC 3339 timestamp string.
    pub(crate) fn opt_timestamp(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "null"], "format": "date-time" })
    }

    /// Any JSON value.
    pub(crate) fn any(_: &mut SchemaGenerator) -> Schema {
        json_schema!(true)
    }
}

/// Serializes a server-generated time as the server writes it: RFC 3339 UTC with exactly six
/// fractional digits, e.g. `2025-12-03T14:25:02.417735Z` (PROTOCOL.md §2.2).
pub(crate) fn server_time<S>(
    time: &Option<jiff::Timestamp>,
    serializer: S,
) -> Result<S::Ok, S::Error>
where
    S: serde::Serializer,
{
    match time {
        Some(t) => serializer.collect_str(&format_args!("{t:.6}")),
        None => serializer.serialize_none(),
    }
}
