//! Fuzz target `sse_parser`: see `wk_fuzz::sse_parser` for what it checks.

#![forbid(unsafe_code)]

#[cfg(feature = "afl")]
fn main() {
    afl::fuzz!(|data: &[u8]| wk_fuzz::sse_parser(data));
}

#[cfg(not(feature = "afl"))]
fn main() -> std::process::ExitCode {
    wk_fuzz::driver::main("sse_parser", wk_fuzz::sse_parser)
}
