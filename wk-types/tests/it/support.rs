//! The protocol examples, read the ways several test modules need them.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The protocol examples: `spec/protocol/examples/` at the workspace root.
pub(crate) fn examples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/protocol/examples")
}

/// The text of the example `<name>`.
pub(crate) fn data(name: &str) -> String {
    std::fs::read_to_string(examples_dir().join(name)).unwrap()
}

/// Every killmail object (one with a `killmail_id`) in the JSON examples, as compact text:
/// canonical, stored (with ESI records and items) and reference shapes.
pub(crate) fn example_killmails() -> Vec<String> {
    fn walk(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if map.contains_key("killmail_id") {
                    out.push(value.to_string());
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    for entry in std::fs::read_dir(examples_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            walk(
                &serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap(),
                &mut found,
            );
        }
    }
    found
}

/// The frames of the example session, both directions, byte for byte as sent.
pub(crate) fn example_frames() -> Vec<String> {
    data("phoenix_frames.txt")
        .lines()
        .filter_map(|l| l.strip_prefix("<< ").or_else(|| l.strip_prefix(">> ")))
        .map(str::to_owned)
        .collect()
}
