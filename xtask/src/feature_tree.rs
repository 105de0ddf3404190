//! The `feature-tree` CI step: for each facade feature set that matters (and the WebSocket client
//! alone), the crates `cargo tree`
//! resolves for a user's build are checked against what that set promises. The `features` step
//! builds each feature alone but cannot see that a feature drags in a stack it should not (a TLS
//! library, a transport); this step can.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::Result;

/// One promise: with `features` (and no defaults, unless `defaults`), the facade's normal
/// dependency graph holds every crate of `present` and none of `absent`.
struct Promise {
    /// The package whose graph is checked.
    package: &'static str,
    features: &'static str,
    defaults: bool,
    present: &'static [&'static str],
    absent: &'static [&'static str],
    /// `crate/feature` pairs the graph must not turn on.
    no_features: &'static [&'static str],
    why: &'static str,
}

/// What a library build never needs: a multi-threaded runtime, signals, an HTTP server (tokio's
/// `macros` is allowed: `select!` lives there).
const NO_APP_FEATURES: &[&str] = &["tokio/rt-multi-thread", "tokio/signal", "hyper/server"];

const PROMISES: &[Promise] = &[
    Promise {
        package: "wk-facade",
        features: "",
        defaults: true,
        present: &["wk-http", "rustls"],
        absent: &[
            "native-tls",
            "openssl",
            "openssl-sys",
            "hyper-tls",
            "tokio-tungstenite",
        ],
        no_features: NO_APP_FEATURES,
        why: "the default build is the HTTP client on rustls alone",
    },
    Promise {
        package: "wk-facade",
        features: "http,native-tls",
        defaults: false,
        present: &["wk-http", "hyper-tls"],
        absent: &["rustls", "hyper-rustls", "webpki-roots"],
        no_features: NO_APP_FEATURES,
        why: "native-tls without rustls must not build rustls",
    },
    Promise {
        package: "wk-facade",
        features: "ws",
        defaults: false,
        present: &["tokio-tungstenite", "rustls"],
        absent: &["openssl-sys"],
        no_features: NO_APP_FEATURES,
        why: "the WebSocket client speaks rustls",
    },
    Promise {
        package: "wk-facade",
        features: "sse",
        defaults: false,
        present: &["wk-http"],
        absent: &["tokio-tungstenite"],
        no_features: NO_APP_FEATURES,
        why: "SSE needs no WebSocket stack",
    },
    Promise {
        package: "wk-facade",
        features: "hub",
        defaults: false,
        present: &["wk-realtime"],
        absent: &["tokio-tungstenite", "wk-http", "hyper", "rustls"],
        no_features: NO_APP_FEATURES,
        why: "the hub is in-process: no transport, no HTTP, no TLS",
    },
    Promise {
        package: "wk-facade",
        features: "webhook",
        defaults: false,
        present: &["wk-realtime", "tower"],
        absent: &["tokio-tungstenite", "wk-http", "rustls"],
        no_features: NO_APP_FEATURES,
        why: "the webhook receiver is a tower Service: no client stack",
    },
    Promise {
        package: "wk-facade",
        features: "full",
        defaults: false,
        present: &[
            "wk-http",
            "wk-realtime",
            "tokio-tungstenite",
            "rustls",
            "wk-testkit",
        ],
        absent: &["openssl-sys"],
        // The testkit is in it: a server, so a multi-threaded runtime and hyper's server side.
        no_features: &[],
        why: "everything, on rustls",
    },
    Promise {
        package: "wk-facade",
        features: "http",
        defaults: false,
        present: &["wk-http"],
        absent: &["wk-realtime", "tokio-tungstenite", "rustls", "native-tls"],
        no_features: NO_APP_FEATURES,
        why: "the HTTP client alone, and without a TLS feature no TLS at all",
    },
    Promise {
        package: "wk-facade",
        features: "cache",
        defaults: false,
        present: &["wk-cache", "quick_cache"],
        absent: &["wk-http", "wk-realtime", "hyper", "rustls"],
        no_features: NO_APP_FEATURES,
        why: "the cache alone needs no network stack",
    },
    Promise {
        package: "wk-facade",
        features: "retry",
        defaults: false,
        present: &["wk-retry", "tower"],
        absent: &["wk-http", "wk-realtime", "hyper", "rustls"],
        no_features: NO_APP_FEATURES,
        why: "the retry middleware alone needs no network stack",
    },
    Promise {
        package: "wk-realtime",
        features: "ws",
        defaults: false,
        present: &["tokio-tungstenite"],
        absent: &["wk-http", "hyper", "hyper-util"],
        no_features: NO_APP_FEATURES,
        why: "the WebSocket alone needs no HTTP stack: gap recovery goes through a Backfill",
    },
];

/// Checks every promise; the first broken one fails the step with a readable message.
pub(crate) fn check(root: &Path) -> Result {
    for promise in PROMISES {
        let crates = resolved(root, promise)?;
        let shown = if promise.defaults {
            format!("default features{}", plus(promise.features))
        } else {
            format!("--no-default-features --features {}", promise.features)
        };
        println!(
            "feature-tree: {} with {shown}: {} crates",
            promise.package,
            crates.len()
        );
        let missing: Vec<_> = promise
            .present
            .iter()
            .filter(|c| !crates.contains(**c))
            .collect();
        let unwanted: Vec<_> = promise
            .absent
            .iter()
            .filter(|c| crates.contains(**c))
            .collect();
        let turned_on: Vec<_> = if promise.no_features.is_empty() {
            Vec::new()
        } else {
            let on = features_on(root, promise)?;
            promise
                .no_features
                .iter()
                .filter(|f| on.contains(**f))
                .collect()
        };
        if !turned_on.is_empty() {
            return Err(format!(
                "{} with {shown} turns on {turned_on:?} ({}); see `cargo tree -p {} \
                 -e normal,features -i <crate>` for who asks for them",
                promise.package, promise.why, promise.package
            )
            .into());
        }
        if !missing.is_empty() || !unwanted.is_empty() {
            return Err(format!(
                "{} with {shown} breaks its promise ({}): missing {missing:?}, present \
                 but must not be {unwanted:?}; see `cargo tree -p {} -e normal -i <crate>` \
                 for who pulls a crate in",
                promise.package, promise.why, promise.package
            )
            .into());
        }
    }
    Ok(())
}

fn plus(features: &str) -> String {
    if features.is_empty() {
        String::new()
    } else {
        format!(" + {features}")
    }
}

/// The `crate/feature` pairs the facade's normal dependency graph turns on.
fn features_on(root: &Path, promise: &Promise) -> Result<BTreeSet<String>> {
    let text = tree(root, promise, "normal,features", "{p}")?;
    Ok(text
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.split_once(" feature \"")?;
            let feature = rest.split('"').next()?;
            Some(format!("{}/{feature}", name.trim()))
        })
        .collect())
}

/// The package names in the facade's normal (non-dev, non-build) dependency graph.
fn resolved(root: &Path, promise: &Promise) -> Result<BTreeSet<String>> {
    Ok(names(&tree(root, promise, "normal", "{p}")?))
}

/// `cargo tree` of the facade for `promise`'s features, over the `edges` kinds.
fn tree(root: &Path, promise: &Promise, edges: &str, format: &str) -> Result<String> {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root).args([
        "tree",
        "--locked",
        "-p",
        promise.package,
        "-e",
        edges,
        "--prefix",
        "none",
        "--format",
        format,
    ]);
    if !promise.defaults {
        cmd.arg("--no-default-features");
    }
    if !promise.features.is_empty() {
        cmd.args(["--features", promise.features]);
    }
    let out = cmd
        .output()
        .map_err(|e| format!("`cargo tree` could not start: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo tree` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `name v1.2.3 (path)` lines, `(*)` repeats included, to their names.
fn names(tree: &str) -> BTreeSet<String> {
    tree.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn reads_package_names_from_cargo_tree() {
        let tree = "wk-facade v0.1.0 (/w/wk-facade)\nrustls v0.23.46\nrustls v0.23.46 (*)\n\n";
        let got = names(tree);
        assert_eq!(got.into_iter().collect::<Vec<_>>(), ["rustls", "wk-facade"]);
    }
}
