//! Fuzz target `webhook_body`: see `wk_fuzz::webhook_body` for what it checks.

#![forbid(unsafe_code)]

#[cfg(feature = "afl")]
fn main() {
    afl::fuzz!(|data: &[u8]| wk_fuzz::webhook_body(data));
}

#[cfg(not(feature = "afl"))]
fn main() -> std::process::ExitCode {
    wk_fuzz::driver::main("webhook_body", wk_fuzz::webhook_body)
}
