//! The Phoenix Channels (V2 serializer) client for `killmails:lobby`.
//!
//! [`machine`] is the IO-free protocol core. With the `ws` feature, a tokio task owns the socket and
//! the machine, and [`Client`] / [`Subscription`] are the handles users hold.

pub mod machine;

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
