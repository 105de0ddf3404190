//! `cargo xtask tidy`: repository lints that rustc and clippy do not cover (STYLE.md §10).
//!
//! Checks, printed as `path:line: message`:
//! - every `.rs` file under a `src/` folder opens with a `//!` line;
//! - every `pub enum …Error` is `#[non_exhaustive]`;
//! - no ignored or should-panic tests, and no `ignore` doc blocks;
//! - no trailing whitespace in `.rs`, `.toml` and `.md` files;
//! - no text file outside `spec/protocol/` names a path out of the repository to the protocol
//!   reference's old home (users of the repository never see it): point at `spec/protocol/`;
//! - every workspace member takes its dependencies with `workspace = true` and sets
//!   `[lints] workspace = true`.

use std::path::{Component, Path, PathBuf};

use crate::Result;

/// Folders never searched.
const SKIP_DIRS: &[&str] = &["target", "node_modules", ".git"];

// The patterns are split so that this file does not match itself.
const IGNORE_ATTR: &str = concat!("#[", "ignore");
const SHOULD_PANIC_ATTR: &str = concat!("#[", "should_panic");
const IGNORE_FENCE: &str = concat!("``", "`ignore");
/// Paths that lead out of the repository, to the folder the protocol reference used to live in.
const OUTSIDE_PATHS: &[&str] = &[
    concat!("shared", "/protocol"),
    concat!("..", "/shared/"),
    concat!("/work", "/shared/"),
];

/// Real-time sleeps in test files (`tests/` folders); split like the patterns above.
const SLEEPS: &[&str] = &[concat!("thread::", "sleep("), concat!("time::", "sleep(")];
/// The test files allowed real-time sleeps, and how many: the count of 2026-12-06 (20 in 9 files), which
/// may only go down. Prove "nothing else arrives" with a marker or paused tokio time instead (issue 19);
/// a sleep stays only where a real OS timer or a busy thread is the thing under test.
const SLEEPS_ALLOWED: &[(&str, usize)] = &[
    ("wk-realtime/tests/it/bad_input.rs", 2),
    ("wk-realtime/tests/it/secrets.rs", 1),
    ("wk-realtime/tests/it/sse_enhanced.rs", 2),
    ("wk-realtime/tests/it/sse_resilience.rs", 1),
    ("wk-realtime/tests/it/webhook.rs", 1),
    ("wk-realtime/tests/it/ws_basic.rs", 1),
    ("wk-realtime/tests/it/ws_resilience.rs", 6),
    ("wk-testkit/tests/it/control.rs", 1),
    ("wk-testkit/tests/it/phoenix.rs", 1),
];

/// The files that get every line check; other text files get only the [`OUTSIDE_PATHS`] check.
const LINTED_EXTENSIONS: &[&str] = &["rs", "toml", "md"];
/// The protocol reference, kept as written: the one folder allowed to name [`OUTSIDE_PATHS`].
const PROTOCOL_DIR: &str = "spec/protocol";

/// One broken rule at one place.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Violation {
    /// Relative to the workspace root.
    pub(crate) path: PathBuf,
    /// 1-based.
    pub(crate) line: usize,
    /// The rule.
    pub(crate) message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path.display(), self.line, self.message)
    }
}

/// Runs every check and fails when one is broken.
pub(crate) fn run(root: &Path) -> Result {
    let (files, violations) = check(root)?;
    if violations.is_empty() {
        println!("tidy: {files} files clean");
        return Ok(());
    }
    for v in &violations {
        eprintln!("{v}");
    }
    Err(format!("tidy: {} violations", violations.len()).into())
}

/// Every violation in the workspace at `root`, and how many files were read.
pub(crate) fn check(root: &Path) -> Result<(usize, Vec<Violation>)> {
    let mut violations = Vec::new();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    for member in workspace_members(&manifest) {
        let path = Path::new(&member).join("Cargo.toml");
        let text = std::fs::read_to_string(root.join(&path))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        violations.extend(check_manifest(&path, &text));
    }
    let mut files = Vec::new();
    walk(root, Path::new(""), &mut files)?;
    let mut read = 0;
    for path in &files {
        let bytes = std::fs::read(root.join(path))
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        // Binary files (not UTF-8) have no lines to check.
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        read += 1;
        violations.extend(check_text(path, &text));
    }
    Ok((read, violations))
}

/// Collects every file below `root/rel`, sorted, skipping [`SKIP_DIRS`].
fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(rel))?.collect::<std::io::Result<_>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let path = rel.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if !SKIP_DIRS.iter().any(|s| name == *s) {
                walk(root, &path, out)?;
            }
        } else if kind.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// The `members = [...]` of the root manifest.
fn workspace_members(manifest: &str) -> Vec<String> {
    let Some(start) = manifest.find("members") else {
        return Vec::new();
    };
    let rest = &manifest[start..];
    let (Some(open), Some(close)) = (rest.find('['), rest.find(']')) else {
        return Vec::new();
    };
    rest[open + 1..close]
        .split(',')
        .map(|m| m.trim().trim_matches('"').to_owned())
        .filter(|m| !m.is_empty())
        .collect()
}

/// The line-based checks of one file.
fn check_text(path: &Path, text: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut report = |line: usize, message: &str| {
        out.push(Violation {
            path: path.to_owned(),
            line,
            message: message.to_owned(),
        });
    };
    let is_rust = path.extension().is_some_and(|e| e == "rs");
    let linted = path
        .extension()
        .is_some_and(|e| LINTED_EXTENSIONS.iter().any(|l| e == *l));
    let outside_allowed = path.starts_with(PROTOCOL_DIR);
    let under_src = path
        .components()
        .any(|c| c == Component::Normal("src".as_ref()));
    if is_rust && under_src && !text.starts_with("//!") {
        report(1, "file must open with a `//!` doc line");
    }
    let lines: Vec<&str> = text.lines().collect();
    let in_tests = is_rust
        && path
            .components()
            .any(|c| c == Component::Normal("tests".as_ref()));
    let mut sleeps = 0;
    let allowed = SLEEPS_ALLOWED
        .iter()
        .find(|(p, _)| Path::new(p) == path)
        .map_or(0, |(_, n)| *n);
    for (i, line) in lines.iter().enumerate() {
        if in_tests && SLEEPS.iter().any(|p| line.contains(p)) {
            sleeps += 1;
            if sleeps > allowed {
                report(
                    i + 1,
                    "a real-time sleep in a test: prove it with a marker or paused tokio time \
                     (a sleep stays only where a real timer is the thing under test, listed in \
                     tidy's SLEEPS_ALLOWED with the reason)",
                );
            }
        }
    }
    for (i, line) in lines.iter().enumerate() {
        let n = i + 1;
        if !outside_allowed && let Some(found) = OUTSIDE_PATHS.iter().find(|p| line.contains(*p)) {
            report(
                n,
                &format!(
                    "`{found}` is outside the repository: point at `{PROTOCOL_DIR}/PROTOCOL.md` \
                     or `{PROTOCOL_DIR}/examples/`"
                ),
            );
        }
        if !linted {
            continue;
        }
        if line.ends_with(' ') || line.ends_with('\t') {
            report(n, "trailing whitespace");
        }
        let content = line.trim_start();
        let content = content
            .strip_prefix("///")
            .or_else(|| content.strip_prefix("//!"))
            .unwrap_or(content);
        if content.trim_start().starts_with(IGNORE_FENCE) {
            report(
                n,
                "`ignore` doc block: use `no_run`, or make the example run",
            );
        }
        if !is_rust {
            continue;
        }
        if line.contains(IGNORE_ATTR) {
            report(n, "ignored test: make it pass or delete it");
        }
        if line.contains(SHOULD_PANIC_ATTR) {
            report(n, "`should_panic` test: assert on the `Err` instead");
        }
        if let Some(name) = pub_enum_name(line)
            && name.ends_with("Error")
            && !attributes_above(&lines, i)
                .iter()
                .any(|a| a.contains("#[non_exhaustive]"))
        {
            report(n, &format!("`pub enum {name}` must be `#[non_exhaustive]`"));
        }
    }
    out
}

/// The name declared by a `pub enum Name` line.
fn pub_enum_name(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("pub enum ")?;
    let end = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The attribute and doc lines right above line `i`, back to the previous item.
fn attributes_above<'a>(lines: &[&'a str], i: usize) -> Vec<&'a str> {
    lines[..i]
        .iter()
        .rev()
        .map(|l| l.trim())
        .take_while(|l| {
            !l.is_empty() && !l.ends_with('}') && !l.ends_with(';') && !l.starts_with("//!")
        })
        .collect()
}

/// The checks of a member's `Cargo.toml`: workspace dependencies and workspace lints.
fn check_manifest(path: &Path, text: &str) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut section = String::new();
    // A `[dependencies.name]` table: (its line, whether it has `workspace = true`).
    let mut dep_table: Option<(usize, bool)> = None;
    let mut lints_workspace = false;
    let finish_table = |table: &mut Option<(usize, bool)>, out: &mut Vec<Violation>| {
        if let Some((line, false)) = table.take() {
            out.push(Violation {
                path: path.to_owned(),
                line,
                message: "dependency must use `workspace = true`".into(),
            });
        }
    };
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            finish_table(&mut dep_table, &mut out);
            section = line
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
                .to_owned();
            if dependency_table(&section) {
                dep_table = Some((i + 1, false));
            }
            continue;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
        if let Some((_, found)) = &mut dep_table {
            *found |= key == "workspace" && value == "true";
        } else if dependency_section(&section) {
            let ok = (key.ends_with(".workspace") && value == "true")
                || compact.contains("workspace=true");
            if !ok {
                out.push(Violation {
                    path: path.to_owned(),
                    line: i + 1,
                    message: format!(
                        "dependency `{}` must use `workspace = true`",
                        key.trim_end_matches(".workspace")
                    ),
                });
            }
        } else if section == "lints" && key == "workspace" && value == "true" {
            lints_workspace = true;
        }
    }
    finish_table(&mut dep_table, &mut out);
    if !lints_workspace {
        out.push(Violation {
            path: path.to_owned(),
            line: 1,
            message: "missing `[lints] workspace = true`".into(),
        });
    }
    out
}

/// `[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, or a `target.….` variant.
fn dependency_section(section: &str) -> bool {
    let last = section.rsplit('.').next().unwrap_or(section);
    matches!(
        last,
        "dependencies" | "dev-dependencies" | "build-dependencies"
    )
}

/// `[dependencies.name]` and its dev, build and target variants.
fn dependency_table(section: &str) -> bool {
    ["dependencies.", "dev-dependencies.", "build-dependencies."]
        .iter()
        .any(|p| {
            section.starts_with(p)
                || section.contains(&format!("'.{p}"))
                || section.contains(&format!("\".{p}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rust(path: &str, text: &str) -> Vec<String> {
        check_text(Path::new(path), text)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    fn manifest(text: &str) -> Vec<String> {
        check_manifest(Path::new("c/Cargo.toml"), text)
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn tidy_workspace_is_clean() {
        let (files, violations) = check(&crate::workspace_root()).unwrap();
        assert!(files > 10, "only {files} files found");
        let list: Vec<String> = violations.iter().map(ToString::to_string).collect();
        assert!(list.is_empty(), "tidy violations:\n{}", list.join("\n"));
    }

    #[test]
    fn new_sleeps_in_tests_are_refused() {
        let sleep = concat!(
            "    tokio::time::",
            "sleep(Duration::from_millis(5)).await;\n"
        );
        let got = rust("c/tests/it/new.rs", &format!("//! t\n{sleep}"));
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0].starts_with("c/tests/it/new.rs:2: a real-time sleep"),
            "{got:?}"
        );
        // Outside `tests/`, and within a file's allowance, nothing is said.
        assert!(rust("c/src/lib.rs", &format!("//! t\n{sleep}")).is_empty());
        let allowed = "wk-testkit/tests/it/control.rs";
        assert!(rust(allowed, &format!("//! t\n{sleep}")).is_empty());
        assert_eq!(rust(allowed, &format!("//! t\n{sleep}{sleep}")).len(), 1);
    }

    #[test]
    fn source_files_need_a_module_doc() {
        assert_eq!(
            rust("a/src/lib.rs", "fn f() {}\n"),
            ["a/src/lib.rs:1: file must open with a `//!` doc line"]
        );
        assert!(rust("a/src/x/y.rs", "//! Docs.\n").is_empty());
        assert!(rust("a/tests/it/main.rs", "fn f() {}\n").is_empty());
    }

    #[test]
    fn error_enums_must_be_non_exhaustive() {
        let open = "//! M.\n\n/// Doc.\n#[derive(Debug)]\npub enum FooError {\n    A,\n}\n";
        assert_eq!(
            rust("a/src/e.rs", open),
            ["a/src/e.rs:5: `pub enum FooError` must be `#[non_exhaustive]`"]
        );
        let closed = "//! M.\n\n/// Doc.\n#[derive(\n    Debug,\n)]\n#[non_exhaustive]\npub enum Error {\n    A,\n}\n";
        assert!(rust("a/src/e.rs", closed).is_empty());
        assert!(rust("a/src/e.rs", "//! M.\npub enum ErrorCode {}\n").is_empty());
    }

    #[test]
    fn forbidden_test_attributes_and_fences() {
        let text = format!("//! M.\n{IGNORE_ATTR}]\n{SHOULD_PANIC_ATTR}]\n/// {IGNORE_FENCE}\n");
        assert_eq!(
            rust("a/src/t.rs", &text),
            [
                "a/src/t.rs:2: ignored test: make it pass or delete it",
                "a/src/t.rs:3: `should_panic` test: assert on the `Err` instead",
                "a/src/t.rs:4: `ignore` doc block: use `no_run`, or make the example run",
            ]
        );
        assert_eq!(rust("README.md", &format!("{IGNORE_FENCE}\n")).len(), 1);
    }

    #[test]
    fn trailing_whitespace_is_reported() {
        assert_eq!(
            rust("Cargo.toml", "a = 1 \nb = 2\n\t\n"),
            [
                "Cargo.toml:1: trailing whitespace",
                "Cargo.toml:3: trailing whitespace"
            ]
        );
    }

    #[test]
    fn paths_outside_the_repository_are_reported() {
        let [protocol, up, absolute] = [OUTSIDE_PATHS[0], OUTSIDE_PATHS[1], OUTSIDE_PATHS[2]];
        let text = format!(
            "See `{protocol}/PROTOCOL.md`.\nFine: spec/protocol/.\n{up}STYLE.md \n{absolute}x\n"
        );
        let outside = |at: &str, found: &str| {
            format!(
                "{at}: `{found}` is outside the repository: point at `spec/protocol/PROTOCOL.md` \
                 or `spec/protocol/examples/`"
            )
        };
        assert_eq!(
            rust("README.md", &text),
            [
                outside("README.md:1", protocol),
                outside("README.md:3", up),
                "README.md:3: trailing whitespace".to_owned(),
                outside("README.md:4", absolute),
            ]
        );
        // Any text file gets this check, and only this one.
        assert_eq!(
            rust("a/run.sh", &text),
            [
                outside("a/run.sh:1", protocol),
                outside("a/run.sh:3", up),
                outside("a/run.sh:4", absolute),
            ]
        );
        // The protocol reference itself may name them.
        let named = format!("`{protocol}/`, `{up}`, `{absolute}`\n");
        assert!(rust("spec/protocol/PROTOCOL.md", &named).is_empty());
    }

    #[test]
    fn manifests_use_workspace_dependencies_and_lints() {
        let good = "[package]\nname = \"c\"\n\n[dependencies]\nserde.workspace = true\nwk-types = { workspace = true, features = [\"schema\"] }\n\n[dev-dependencies.proptest]\nworkspace = true\n\n[lints]\nworkspace = true\n";
        assert!(manifest(good).is_empty(), "{:?}", manifest(good));
        let bad = "[dependencies]\nserde = \"1\"\n\n[target.'cfg(unix)'.dev-dependencies]\nlibc = { version = \"0.2\" }\n\n[build-dependencies.cc]\nversion = \"1\"\n";
        assert_eq!(
            manifest(bad),
            [
                "c/Cargo.toml:2: dependency `serde` must use `workspace = true`",
                "c/Cargo.toml:5: dependency `libc` must use `workspace = true`",
                "c/Cargo.toml:7: dependency must use `workspace = true`",
                "c/Cargo.toml:1: missing `[lints] workspace = true`",
            ]
        );
    }

    #[test]
    fn members_are_read_from_the_root_manifest() {
        let text =
            "[workspace]\nresolver = \"3\"\nmembers = [\n    \"wk-types\",\n    \"xtask\",\n]\n";
        assert_eq!(workspace_members(text), ["wk-types", "xtask"]);
    }
}
