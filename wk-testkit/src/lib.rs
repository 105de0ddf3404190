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
//! Every difference between the profiles is one row of one table (`profile.rs`); [`Profile`]'s
//! methods (`ws_system_copies`, `crash_payload`, …) let a test ask what to expect.
//!
//! | | [`Profile::Faithful`] (default): v1.6.2, Phoenix 1.8 | [`Profile::Legacy`]: v1.5.8, Phoenix 1.7.21 | [`Profile::Designed`]: the documented intent |
//! |---|---|---|---|
//! | live `killmail_update`, system subscription | ×2 per kill (one identical pair) | ×4 per kill (two pairs) | once |
//! | live `killmail_update`, characters only | ×1 per all-kills listener | ×2 per listener | once |
//! | `kill_count_update` | never | never | pushed to system subscribers |
//! | bad or unknown channel request | no reply, `phx_error` `{"reason":"channel_crash"}`, subscriptions lost | no reply, `phx_error` `{}`, subscriptions lost | `{"status":"error","response":{"reason":…}}` |
//! | push with a stale or `null` join_ref | dropped, no reply | handled and answered (`phx_leave` excepted) | dropped, no reply |
//! | `GET /subscriptions` WebSocket records | own ids, never updated or removed (§13 row 15) | the same | the join's `subscription_id`, kept current |
//! | `/status` `metrics.processing` | `killmails_received`, `last_killmail_ago_seconds` | `redisq_received`, `redisq_last_killmail_ago_seconds` | empty |
//! | basic SSE | `retry: 2000`, each kill once, only `system_ids` filters | each kill ×2, only `system_ids` filters | each kill once, every filter applied |
//! | enhanced SSE | 200 with an empty body; slots leak into 503 | the same | `connected`, `batch`, `transition`, `killmail`, `heartbeat` |
//! | webhooks | never delivered | never delivered | POSTed per §9.3 |
//! | `/kills/count` | always 0 | always 0 | the stored count |
//! | `/kills/system`, `/kills/systems` | zKillboard references, `since_hours` ignored | the same | canonical kills within `since_hours` |
//! | preload after `phx_error`/leave | still sent, with the old join_ref | the same | dropped |
//! | `vsn[]=…` on the upgrade | 403 | not seen: V1 frames | not seen: V1 frames |
//!
//! Faithful follows the strictest Phoenix 1.8.x (1.8.10–1.8.11): from 1.8.12 on, a `null`
//! join_ref is accepted again. Phoenix 1.8's cap of 100 channels per socket cannot be reached:
//! `killmails:lobby` is the only topic that joins.
//!
//! ## Control surface
//!
//! From Rust: [`TestServer::inject`], [`TestServer::seed_store`], [`TestServer::set_upstream`],
//! [`TestServer::set_kill_older`], [`TestServer::fault`] (see [`Fault`]), [`TestServer::state`] and
//! [`TestServer::wait_for`] (see [`State`]), [`TestServer::firehose`], [`TestServer::restart`].
//!
//! Expectations, as Bypass's `expect_once` or wiremock's `Mock::expect`: [`TestServer::expect`]
//! registers an [`Expectation`] on a [`Route`] (method and exact path, after trailing-slash
//! normalisation) with a count ([`Expectation::times`], [`Expectation::at_least`],
//! [`Expectation::at_most`]) and scripted [`Answer`]s for its first calls
//! ([`Expectation::respond_first`], [`Expectation::then`]). [`TestServer::verify`] panics naming
//! each unmet route with its expected and actual counts, [`TestServer::try_verify`] returns them
//! as [`UnmetExpectations`], and dropping the server checks whatever they have not reported.
//!
//! ```
//! use std::time::Duration;
//! use wk_testkit::{Answer, Profile, Route, TestServer};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let server = TestServer::start(Profile::Faithful).await?;
//! let jita = server
//!     .expect(Route::get("/api/v1/kills/system/30000142"))
//!     .times(2)
//!     .respond_first(Answer::status(429).retry_after(Duration::from_secs(1)));
//! assert_eq!(status(&server, "/api/v1/kills/system/30000142").await?, 429);
//! assert_eq!(status(&server, "/api/v1/kills/system/30000142/").await?, 200);
//! assert_eq!(jita.calls(), 2);
//! server.verify(); // Also checked when `server` is dropped.
//! # Ok(()) }
//! # async fn status(server: &TestServer, path: &str) -> std::io::Result<u16> {
//! #     use tokio::io::{AsyncReadExt, AsyncWriteExt};
//! #     let mut socket = tokio::net::TcpStream::connect(server.addr()).await?;
//! #     let request = format!("GET {path} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
//! #     socket.write_all(request.as_bytes()).await?;
//! #     let mut response = String::new();
//! #     socket.read_to_string(&mut response).await?;
//! #     Ok(response[9..12].parse().expect("a status code"))
//! # }
//! ```
//!
//! Over HTTP, under `/_testkit/` (never a real route, never faulted, never counted by
//! expectations):
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
//! - [`fault`], [`expect`], [`state`]: what tests inject, expect and assert on;
//! - [`rng`]: the seeded PRNG and the server's 22-character ids.
//!
//! The `wk-testkit` binary serves the same server from the command line
//! (`cargo run -p wk-testkit -- --addr 127.0.0.1:4004 --profile faithful --rate 5`; `--profile`
//! takes `faithful`, `legacy` or `designed`).

#![forbid(unsafe_code)]

pub mod expect;
pub mod fault;
pub mod forms;
pub mod generator;
pub mod json;
mod profile;
pub mod rng;
mod server;
pub mod state;
mod webhook;

pub use expect::{Answer, Expectation, Route, UnmetExpectation, UnmetExpectations};
pub use fault::Fault;
pub use generator::Generator;
pub use profile::Profile;
pub use server::{TestServer, TestServerBuilder};
pub use state::State;
