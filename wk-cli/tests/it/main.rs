//! Integration tests: the real `wk` binary against a wk-testkit server on 127.0.0.1:0.

mod cli;
mod info;
mod killmail;
mod kills;
mod serve;
mod subscriptions;
mod support;
mod tail;
