//! The Phoenix Channels (V2 serializer) client for `killmails:lobby`.
//!
//! An IO-free protocol core (the frame machine and the session above it, both private) decides
//! what to send and when; with the `ws` feature, a tokio task owns the socket and does the IO,
//! and [`Client`] / [`Subscription`] are the handles users hold.

// The IO-free protocol core: private, its API is the session's (tested there from transcripts).
#[cfg(feature = "ws")]
mod machine;

#[cfg(feature = "ws")]
mod burst;
#[cfg(feature = "ws")]
mod client;
#[cfg(feature = "ws")]
mod config;
#[cfg(feature = "ws")]
mod connect;
#[cfg(feature = "ws")]
mod driver;
#[cfg(feature = "ws")]
mod session;
#[cfg(feature = "ws")]
mod stats;
#[cfg(feature = "ws")]
mod url;

#[cfg(feature = "ws")]
pub use client::{Client, ClientBuilder, Subscription, Update, UpdateReply};
#[cfg(feature = "ws")]
pub use config::Config;
#[cfg(feature = "ws")]
pub use session::ConnectionState;
#[cfg(feature = "ws")]
pub use stats::Stats;
