//! Integration tests for wk-types: every protocol example decodes, round-trips and loses nothing.

mod bad_input;
mod examples;
mod fast_decode;
mod killmail_ref;
mod malformed;
mod roundtrip;
mod status;
mod support;
