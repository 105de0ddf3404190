//! A protocol-faithful fake WandererKills server for tests, benchmarks and demos.
//!
//! [`TestServer`] serves, on one real listener (`127.0.0.1:0` by default), everything the real
//! server does (PROTOCOL.md): the HTTP JSON API with its five error shapes, the Phoenix Channels
//! WebSocket at `/socket/websocket`, both SSE streams, and the webhook subscription registry. It
//! speaks byte for byte like the real server: sorted keys, Erlang float format (`1.0e4`), 6-digit
//! timestamps, explicit `null`s of the stored killmail form.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use wk_testkit::{Generator, Profile, TestServer};
//!
//! let server = TestServer::start(Profile::Faithful).await?;
//! println!("HTTP at {}, WebSocket at {}", server.base_url(), server.ws_url());
//! // ... connect a client and join killmails:lobby ...
//! server.inject(Generator::new(7).killmail());
//! let state = server.wait_for(Duration::from_secs(5), |s| s.killmails_ingested == 1).await;
//! assert!(state.is_ok());
//! # Ok(()) }
//! ```
//!
//! ## Profiles
//!
//! | | [`Profile::Faithful`] (default): commit 9cf988e, defects included | [`Profile::Designed`]: the documented intent |
//! |---|---|---|
//! | live `killmail_update` | ×4 per kill for system subscriptions (two pairs), ×2 per all-kills listener for characters only | once |
//! | `kill_count_update` | never | pushed to system subscribers |
//! | bad or unknown channel request | no reply, `phx_error`, subscriptions lost | `{"status":"error","response":{"reason":…}}` |
//! | basic SSE | `retry: 2000`, each kill ×2, only `system_ids` filters | each kill once, every filter applied |
//! | enhanced SSE | 200 with an empty body; slots leak into 503 | `connected`, `batch`, `transition`, `killmail`, `heartbeat` |
//! | webhooks | never delivered | POSTed per §9.3 |
//! | `/kills/count` | always 0 | the stored count |
//! | `/kills/system`, `/kills/systems` | zKillboard references, `since_hours` ignored | canonical kills within `since_hours` |
//! | preload after `phx_error`/leave | still sent, with the old join_ref | dropped |
//!
//! ## Control surface
//!
//! From Rust: [`TestServer::inject`], [`TestServer::seed_store`], [`TestServer::set_upstream`],
//! [`TestServer::set_kill_older`], [`TestServer::fault`] (see [`Fault`]), [`TestServer::state`] and
//! [`TestServer::wait_for`] (see [`State`]), [`TestServer::firehose`], [`TestServer::restart`].
//!
//! Over HTTP, under `/_testkit/` (never a real route, never faulted):
//!
//! | Route | Body | Answer |
//! |---|---|---|
//! | `POST /_testkit/killmails[?mode=store]` | a killmail object or an array | `202 {"accepted": n}`; live kills, or stored only |
//! | `POST /_testkit/faults` | e.g. `{"http_status":503,"retry_after":2,"count":3}` ([`Fault::from_json`]) | `200 {"applied": n}` |
//! | `GET /_testkit/state` | — | the [`State`] counters as JSON |
//! | `POST /_testkit/firehose` | `{"frames": N}`, optionally `"copies": C` | `202 {"frames": N, "sockets": k, "streams": m}`: N kills to every joined socket and basic SSE stream, each in C identical frames or events in a row (default 1: N distinct kills) |
//!
//! ## Modules
//!
//! - [`json`]: the Jason-compatible encoder (sorted keys, Erlang floats) and timestamp formats;
//! - [`forms`]: the canonical, stored and reference killmail shapes as JSON values;
//! - [`generator`]: realistic synthetic killmails and their consistent stored form;
//! - [`fault`], [`state`]: what tests inject and what they assert on;
//! - [`rng`]: the seeded PRNG and the server's 22-character ids.
//!
//! The `wk-testkit` binary serves the same server from the command line
//! (`cargo run -p wk-testkit -- --addr 127.0.0.1:4004 --profile faithful --rate 5`).

#![forbid(unsafe_code)]

pub mod fault;
pub mod forms;
pub mod generator;
pub mod json;
pub mod rng;
mod server;
pub mod state;
mod webhook;

pub use fault::Fault;
pub use generator::Generator;
pub use server::{Profile, TestServer, TestServerBuilder};
pub use state::State;
