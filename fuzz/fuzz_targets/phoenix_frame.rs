//! Fuzz target `phoenix_frame`: see `wk_fuzz::phoenix_frame` for what it checks.

#![forbid(unsafe_code)]

#[cfg(feature = "afl")]
fn main() {
    afl::fuzz!(|data: &[u8]| wk_fuzz::phoenix_frame(data));
}

#[cfg(not(feature = "afl"))]
fn main() -> std::process::ExitCode {
    wk_fuzz::driver::main("phoenix_frame", wk_fuzz::phoenix_frame)
}
