//! Integration tests for wk-testkit: every behaviour over real sockets on 127.0.0.1:0, per profile.

mod control;
mod encoding;
mod errors;
mod expect;
mod http;
mod phoenix;
mod sse;
mod support;
mod webhooks;
