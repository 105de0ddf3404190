//! Fuzz target `json_decode`: see `wk_fuzz::json_decode` for what it checks.

#![forbid(unsafe_code)]

#[cfg(feature = "afl")]
fn main() {
    afl::fuzz!(|data: &[u8]| wk_fuzz::json_decode(data));
}

#[cfg(not(feature = "afl"))]
fn main() -> std::process::ExitCode {
    wk_fuzz::driver::main("json_decode", wk_fuzz::json_decode)
}
