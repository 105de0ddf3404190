//! Macros that generate the id newtypes and the open string enums of the wire model.

/// Declares `Copy` integer id newtypes: `#[serde(transparent)]`, `Display`, `FromStr`, `From`, `get()`.
macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
        #[cfg_attr(feature = "schema", schemars(transparent))]
        pub struct $name(i64);

        impl $name {
            /// Wraps a raw id. No range check happens here; see [`crate::validate`].
            #[must_use]
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            /// The raw integer id.
            #[must_use]
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(raw: i64) -> Self {
                Self(raw)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map(Self)
            }
        }
    )+};
}

/// Declares an open enum over the server's string values: known variants plus `Unknown(String)`,
/// with `as_str()`, `Display`, `From<&str>` and string serde.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version of the SDK does not know, kept as the server sent it.
            Unknown(String),
        }

        impl $name {
            /// Every known wire value, in declaration order.
            pub const KNOWN: &'static [&'static str] = &[$($wire),+];

            /// The value as it appears on the wire.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)+
                    Self::Unknown(other) => other,
                }
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($wire => Self::$variant,)+
                    other => Self::Unknown(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match s.as_str() {
                    $($wire => Self::$variant,)+
                    _ => Self::Unknown(s),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl serde::de::Visitor<'_> for Visitor {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::from(v))
                    }
                    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<$name, E> {
                        Ok($name::from(v))
                    }
                }
                deserializer.deserialize_str(Visitor)
            }
        }

        #[cfg(feature = "schema")]
        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
                schemars::json_schema!({
                    "type": "string",
                    "description": concat!("Known values: ", $("`", $wire, "` "),+, "; others may appear."),
                    "examples": [$($wire),+]
                })
            }
        }
    };
}

/// The accessors [`Killmail`](crate::Killmail) and [`KillmailRef`](crate::KillmailRef) share, written
/// once over the field names both types have; `$attacker` is the type in `attackers`.
macro_rules! killmail_accessors {
    ($attacker:ty) => {
        /// Which server shape this killmail came in, judged from the keys only that shape carries.
        #[must_use]
        pub fn shape(&self) -> $crate::KillmailShape {
            if self.victim.is_none() && self.attackers.is_empty() && self.kill_time.is_none() {
                $crate::KillmailShape::Reference
            } else if self.involved_parties.is_some()
                || self.total_damage.is_some()
                || self.total_value.is_some()
                || self.final_blow_attacker.is_some()
            {
                $crate::KillmailShape::Stored
            } else {
                $crate::KillmailShape::Canonical
            }
        }

        /// The kill's total ISK value: `zkb.totalValue`, else the stored form's `total_value`.
        #[must_use]
        pub fn total_value(&self) -> Option<f64> {
            self.zkb
                .as_ref()
                .and_then(|z| z.total_value)
                .or(self.total_value)
        }

        /// The attacker that landed the final blow, if the killmail names one.
        #[must_use]
        pub fn final_blow(&self) -> Option<&$attacker> {
            self.attackers
                .iter()
                .find(|a| a.final_blow)
                .or(self.final_blow_attacker.as_deref())
        }

        /// The number of attackers: `attacker_count` when sent, else the length of `attackers`.
        #[must_use]
        pub fn attacker_count(&self) -> usize {
            self.attacker_count
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(self.attackers.len())
        }

        /// Every character on the kill: the victim first, then each attacker that has a character id.
        pub fn character_ids(&self) -> impl Iterator<Item = $crate::CharacterId> + '_ {
            self.victim
                .as_ref()
                .and_then(|v| v.character_id)
                .into_iter()
                .chain(self.attackers.iter().filter_map(|a| a.character_id))
        }

        /// Whether `character` is the victim or one of the attackers.
        #[must_use]
        pub fn involves_character(&self, character: $crate::CharacterId) -> bool {
            self.character_ids().any(|c| c == character)
        }
    };
}
