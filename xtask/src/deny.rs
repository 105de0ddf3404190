//! `cargo xtask deny`: the supply-chain policy of `deny.toml`, offline.
//!
//! Runs `cargo deny check bans licenses sources` (installing cargo-deny [`VERSION`] with
//! `cargo install --locked` when no cargo-deny is on the `PATH`), then checks that the facade's
//! default features pull in no OpenSSL: HTTPS and WSS use rustls unless a user opts into
//! `native-tls`.
//!
//! A `ci` step. The check itself takes seconds; the one-time install compiles for about 7
//! CPU-minutes, which a fresh machine pays once (RELIABILITY.md has the figures).

use std::path::Path;
use std::process::{Command, Stdio};

use crate::Result;

/// The cargo-deny release installed when none is present: the one `deny.toml` was written for.
const VERSION: &str = "0.20.2";

/// Installs cargo-deny if needed and runs the offline checks.
pub(crate) fn run(root: &Path) -> Result {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let installed = Command::new(&cargo)
        .args(["deny", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        println!("deny: cargo-deny is missing; cargo install --locked cargo-deny@{VERSION}");
        let status = Command::new(&cargo)
            .args(["install", "--locked", &format!("cargo-deny@{VERSION}")])
            .status()?;
        if !status.success() {
            return Err(format!("cargo install cargo-deny failed ({status})").into());
        }
    }
    let status = Command::new(&cargo)
        .args(["deny", "check", "bans", "licenses", "sources"])
        .current_dir(root)
        .status()?;
    if !status.success() {
        return Err(format!("cargo deny check bans licenses sources failed ({status})").into());
    }
    let tree = Command::new(&cargo)
        .args([
            "tree",
            "--locked",
            "-p",
            "wk-facade",
            "-e",
            "normal",
            "--prefix",
            "none",
        ])
        .current_dir(root)
        .output()?;
    if !tree.status.success() {
        return Err("cargo tree -p wk-facade failed".into());
    }
    let listing = String::from_utf8_lossy(&tree.stdout);
    let offenders = openssl_crates(&listing);
    if !offenders.is_empty() {
        return Err(format!("default features pull in OpenSSL: {offenders:?}").into());
    }
    println!("deny: bans, licenses and sources ok; default TLS is rustls only");
    Ok(())
}

/// The OpenSSL crates in a `cargo tree --prefix none` listing.
fn openssl_crates(tree: &str) -> Vec<&str> {
    let mut found: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| matches!(*name, "openssl" | "openssl-sys" | "native-tls"))
        .collect();
    found.sort_unstable();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openssl_is_found_in_a_tree_listing() {
        let tree = "wk-facade v0.1.0\nrustls v0.23.31\nnative-tls v0.2.18\nopenssl v0.10.82 (*)\n";
        assert_eq!(openssl_crates(tree), ["native-tls", "openssl"]);
        assert!(openssl_crates("wk-facade v0.1.0\nrustls v0.23.31\n").is_empty());
    }

    #[test]
    fn the_policy_file_exists_and_names_the_checks() {
        let policy = std::fs::read_to_string(crate::workspace_root().join("deny.toml")).unwrap();
        for table in ["[licenses]", "[bans]", "[sources]"] {
            assert!(policy.contains(table), "{table}");
        }
        assert!(policy.contains("multiple-versions = \"warn\""));
    }
}
