//! The `wk` command-line tool for WandererKills.
//!
//! This binary is a skeleton: its commands land with their own issue.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    eprintln!("wk: no commands yet; see the README");
    std::process::ExitCode::FAILURE
}
