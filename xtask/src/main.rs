//! Repository automation for wanderer-kills-rs.

fn main() {}
