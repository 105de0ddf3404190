//! `cargo xtask codegen [--check]`: writes `spec/openapi.json` and `spec/schemas/*.json`.
//!
//! Output is deterministic: keys sorted at every level, two-space indent, trailing newline. Check
//! mode compares instead of writing and fails on any stale, missing or extra file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::Result;
use crate::openapi;

/// The folder, relative to the workspace root, that holds every generated file.
pub(crate) const SPEC_DIR: &str = "spec";
/// The folder, relative to the workspace root, of the standalone schemas.
pub(crate) const SCHEMAS_DIR: &str = "spec/schemas";

/// Regenerates the spec files, or with `check` fails when they are not up to date.
pub(crate) fn run(root: &Path, check: bool) -> Result {
    let files = generate();
    let stale = stale_files(root, &files)?;
    if check {
        if stale.is_empty() {
            println!("codegen: {} files up to date", files.len());
            return Ok(());
        }
        let list: Vec<String> = stale.iter().map(|s| format!("  {s}")).collect();
        return Err(format!(
            "generated files are out of date:\n{}\nrun `cargo xtask codegen` and commit",
            list.join("\n")
        )
        .into());
    }
    std::fs::create_dir_all(root.join(SCHEMAS_DIR))?;
    for stale in &stale {
        let path = root.join(&stale.path);
        match files.get(&stale.path) {
            Some(text) => std::fs::write(&path, text)?,
            None => std::fs::remove_file(&path)?,
        }
        println!("codegen: {stale}");
    }
    println!(
        "codegen: {} files checked, {} updated",
        files.len(),
        stale.len()
    );
    Ok(())
}

/// Every generated file: relative path → contents.
pub(crate) fn generate() -> BTreeMap<PathBuf, String> {
    let spec = openapi::build();
    let mut files = BTreeMap::new();
    files.insert(
        Path::new(SPEC_DIR).join("openapi.json"),
        render(&spec.openapi),
    );
    for (name, schema) in &spec.schemas {
        files.insert(
            Path::new(SCHEMAS_DIR).join(format!("{name}.json")),
            render(schema),
        );
    }
    files
}

/// A file that differs from what codegen would write.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Stale {
    /// Relative to the workspace root.
    pub(crate) path: PathBuf,
    /// What is wrong with it.
    pub(crate) reason: &'static str,
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.path.display(), self.reason)
    }
}

/// Compares `files` with the disk: changed, missing, and extra `*.json` in `spec/schemas/`.
pub(crate) fn stale_files(root: &Path, files: &BTreeMap<PathBuf, String>) -> Result<Vec<Stale>> {
    let mut stale = Vec::new();
    for (path, text) in files {
        match std::fs::read_to_string(root.join(path)) {
            Ok(on_disk) if on_disk == *text => {}
            Ok(_) => stale.push(Stale {
                path: path.clone(),
                reason: "stale",
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                stale.push(Stale {
                    path: path.clone(),
                    reason: "missing",
                });
            }
            Err(e) => return Err(format!("cannot read {}: {e}", path.display()).into()),
        }
    }
    let dir = root.join(SCHEMAS_DIR);
    if dir.is_dir() {
        let mut extra = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let name = entry?.file_name();
            let path = Path::new(SCHEMAS_DIR).join(&name);
            if path.extension().is_some_and(|e| e == "json") && !files.contains_key(&path) {
                extra.push(Stale {
                    path,
                    reason: "no longer generated",
                });
            }
        }
        extra.sort_by(|a, b| a.path.cmp(&b.path));
        stale.extend(extra);
    }
    Ok(stale)
}

/// Pretty-prints with sorted keys and a trailing newline, whatever `serde_json`'s map order.
pub(crate) fn render(value: &Value) -> String {
    let mut text =
        serde_json::to_string_pretty(&sorted(value)).expect("JSON values always serialize");
    text.push('\n');
    text
}

/// A copy of `value` with every object's keys in sorted order.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), sorted(v)))
                    .collect::<Map<_, _>>(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests;
