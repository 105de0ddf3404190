//! The WandererKills SDK facade: re-exports every layer behind feature flags.
//!
//! Today it re-exports the wire model as [`types`]; the transports join as they land.

#![forbid(unsafe_code)]

pub use wk_types as types;
