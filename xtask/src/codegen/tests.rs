//! Tests of codegen: freshness, determinism, every example against its schema, and the OpenAPI
//! document's structure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::*;
use crate::schemas::{GENERATED, collect_refs};

/// Which generated schemas each example file in `spec/protocol/examples/` must satisfy.
const EXAMPLES: &[(&str, &[&str])] = &[
    ("bulk_systems_kills.json", &["Envelope_BulkSystemsKills"]),
    ("bulk_systems_kills_request.json", &["BulkSystemsRequest"]),
    ("cached_kills.json", &["Envelope_KillList"]),
    (
        "error_debug_forbidden.json",
        &["ForbiddenError", "ErrorBody"],
    ),
    ("error_fetch_error.json", &["ApiError", "ErrorBody"]),
    (
        "error_health_check_failed.json",
        &["StructuredError", "ErrorBody"],
    ),
    ("error_invalid_killmail_id.json", &["ApiError", "ErrorBody"]),
    ("error_invalid_parameters.json", &["ApiError", "ErrorBody"]),
    ("error_invalid_system_id.json", &["ApiError", "ErrorBody"]),
    ("error_invalid_system_ids.json", &["ApiError", "ErrorBody"]),
    ("error_killmail_not_found.json", &["ApiError", "ErrorBody"]),
    ("error_not_found.json", &["ApiError", "ErrorBody"]),
    (
        "error_phoenix_fallback.json",
        &["FallbackError", "ErrorBody"],
    ),
    (
        "error_sse_connection_limit.json",
        &["StructuredError", "ErrorBody"],
    ),
    (
        "error_sse_validation.json",
        &["StructuredError", "ErrorBody"],
    ),
    (
        "error_subscription_validation.json",
        &["SubscriptionError", "ErrorBody"],
    ),
    ("kill_count.json", &["Envelope_KillCount"]),
    ("killmail.json", &["Killmail"]),
    (
        "killmail_response_from_store.json",
        &["Envelope_KillmailLookup"],
    ),
    (
        "killmail_response_from_zkb.json",
        &["Envelope_KillmailLookup"],
    ),
    (
        "killmail_response_unenriched_fallback.json",
        &["Envelope_KillmailLookup"],
    ),
    ("killmail_solo_capsule.json", &["Killmail"]),
    ("killmail_stored.json", &["Killmail"]),
    ("killmail_zkb_reference.json", &["Killmail"]),
    ("sse_basic_killmail_data.json", &["Killmail"]),
    ("sse_enhanced_batch.json", &["Batch"]),
    ("sse_enhanced_connected.json", &["Connected"]),
    ("sse_enhanced_heartbeat.json", &["Heartbeat"]),
    ("sse_enhanced_transition.json", &["Transition"]),
    (
        "subscription_create.json",
        &["Envelope_SubscriptionCreated"],
    ),
    ("subscription_create_request.json", &["CreateSubscription"]),
    (
        "subscription_delete.json",
        &["Envelope_SubscriptionDeleted"],
    ),
    ("subscription_stats.json", &["Envelope_SubscriptionStats"]),
    ("subscriptions_list.json", &["Envelope_SubscriptionList"]),
    ("system_kills.json", &["Envelope_KillList"]),
    ("webhook_body.json", &["WebhookBody"]),
    ("webhook_count_body.json", &["WebhookBody"]),
    ("ws_get_status_reply.json", &["Reply_StatusReply"]),
    ("ws_heartbeat_reply.json", &["Reply"]),
    ("ws_join_crashed_reply.json", &["Reply_ErrorReply"]),
    ("ws_join_error_reply.json", &["Reply_ErrorReply"]),
    ("ws_join_params.json", &["JoinParams"]),
    ("ws_join_reply.json", &["Reply_JoinReply"]),
    ("ws_kill_count_update.json", &["KillCountUpdate"]),
    ("ws_killmail_update.json", &["KillmailUpdate"]),
    ("ws_killmail_update_preload.json", &["KillmailUpdate"]),
    (
        "ws_subscribe_characters_noop_reply.json",
        &["Reply_CharactersReply"],
    ),
    (
        "ws_subscribe_characters_reply.json",
        &["Reply_CharactersReply"],
    ),
    (
        "ws_subscribe_systems_noop_reply.json",
        &["Reply_SystemsReply"],
    ),
    ("ws_subscribe_systems_reply.json", &["Reply_SystemsReply"]),
    ("ws_unmatched_topic_reply.json", &["Reply_ErrorReply"]),
    (
        "ws_unsubscribe_characters_noop_reply.json",
        &["Reply_CharactersReply"],
    ),
    (
        "ws_unsubscribe_characters_reply.json",
        &["Reply_CharactersReply"],
    ),
    (
        "ws_unsubscribe_systems_noop_reply.json",
        &["Reply_SystemsReply"],
    ),
    ("ws_unsubscribe_systems_reply.json", &["Reply_SystemsReply"]),
];

fn root() -> PathBuf {
    crate::workspace_root()
}

fn data_dir() -> PathBuf {
    root().join("spec/protocol/examples")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compiles every generated standalone schema, with format assertions on.
struct Validator {
    schemas: boon::Schemas,
    index: BTreeMap<String, boon::SchemaIndex>,
}

impl Validator {
    fn new() -> Self {
        let mut compiler = boon::Compiler::new();
        compiler.set_default_draft(boon::Draft::V2020_12);
        compiler.enable_format_assertions();
        let mut schemas = boon::Schemas::new();
        let mut index = BTreeMap::new();
        for (name, schema) in openapi::build().schemas {
            let url = format!("urn:wk:{name}");
            compiler.add_resource(&url, schema).unwrap();
            let i = compiler
                .compile(&url, &mut schemas)
                .unwrap_or_else(|e| panic!("schema {name} does not compile: {e:#}"));
            index.insert(name, i);
        }
        Self { schemas, index }
    }

    fn check(&self, name: &str, value: &Value) -> std::result::Result<(), String> {
        let i = self
            .index
            .get(name)
            .unwrap_or_else(|| panic!("no generated schema {name}"));
        self.schemas
            .validate(value, *i)
            .map_err(|e| format!("{e:#}"))
    }
}

#[test]
fn codegen_is_fresh() {
    if let Err(e) = run(&root(), true) {
        panic!("{e}");
    }
}

#[test]
fn output_is_deterministic_and_marked() {
    let first = generate();
    assert_eq!(first, generate());
    for (path, text) in &first {
        assert!(
            text.ends_with("}\n"),
            "{} lacks a trailing newline",
            path.display()
        );
        assert!(
            text.contains(GENERATED),
            "{} lacks the do-not-edit marker",
            path.display()
        );
    }
}

#[test]
fn render_sorts_keys_at_every_level() {
    let value = json!({ "b": 1, "a": { "d": [ { "z": 1, "y": 2 } ], "c": null } });
    let text = render(&value);
    assert_eq!(
        text,
        "{\n  \"a\": {\n    \"c\": null,\n    \"d\": [\n      {\n        \"y\": 2,\n        \"z\": 1\n      }\n    ]\n  },\n  \"b\": 1\n}\n"
    );
}

#[test]
fn check_mode_reports_stale_missing_and_extra_files() {
    let dir = std::env::temp_dir().join(format!("xtask-codegen-{}", std::process::id()));
    std::fs::create_dir_all(dir.join(SCHEMAS_DIR)).unwrap();
    let fresh = Path::new(SCHEMAS_DIR).join("A.json");
    let changed = Path::new(SCHEMAS_DIR).join("B.json");
    let missing = Path::new(SCHEMAS_DIR).join("C.json");
    let extra = Path::new(SCHEMAS_DIR).join("Old.json");
    std::fs::write(dir.join(&fresh), "{}\n").unwrap();
    std::fs::write(dir.join(&changed), "{ }\n").unwrap();
    std::fs::write(dir.join(&extra), "{}\n").unwrap();
    let files: BTreeMap<PathBuf, String> = [&fresh, &changed, &missing]
        .into_iter()
        .map(|p| (p.clone(), "{}\n".to_owned()))
        .collect();
    let stale = stale_files(&dir, &files).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let got: Vec<(PathBuf, &str)> = stale.into_iter().map(|s| (s.path, s.reason)).collect();
    assert_eq!(
        got,
        vec![
            (changed, "stale"),
            (missing, "missing"),
            (extra, "no longer generated")
        ]
    );
}

#[test]
fn the_protocol_reference_is_not_codegens() {
    let dir = std::env::temp_dir().join(format!("xtask-codegen-protocol-{}", std::process::id()));
    let example = Path::new(SPEC_DIR).join("protocol/examples/killmail.json");
    std::fs::create_dir_all(dir.join(example.parent().unwrap())).unwrap();
    std::fs::create_dir_all(dir.join(SCHEMAS_DIR)).unwrap();
    std::fs::write(dir.join(&example), "{}\n").unwrap();
    let files = generate();
    let stale = stale_files(&dir, &files).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let protocol = Path::new(SPEC_DIR).join("protocol");
    assert!(files.keys().all(|p| !p.starts_with(&protocol)));
    let touched: Vec<&Stale> = stale
        .iter()
        .filter(|s| s.path.starts_with(&protocol))
        .collect();
    assert!(touched.is_empty(), "{touched:?}");
}

#[test]
fn every_example_matches_its_schema() {
    let table: BTreeMap<&str, &[&str]> = EXAMPLES.iter().copied().collect();
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(data_dir()).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if name.ends_with(".json") {
            on_disk.insert(name);
        }
    }
    let unmapped: Vec<&String> = on_disk
        .iter()
        .filter(|n| !table.contains_key(n.as_str()))
        .collect();
    assert!(
        unmapped.is_empty(),
        "example files without a schema in EXAMPLES: {unmapped:?}"
    );
    let gone: Vec<&&str> = table.keys().filter(|n| !on_disk.contains(**n)).collect();
    assert!(
        gone.is_empty(),
        "EXAMPLES names files that do not exist: {gone:?}"
    );

    let validator = Validator::new();
    let mut failures = Vec::new();
    for (file, names) in &table {
        let value = read_json(&data_dir().join(file));
        for name in *names {
            if let Err(e) = validator.check(name, &value) {
                failures.push(format!("{file} against {name}:\n{e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn stream_and_frame_transcripts_match_their_schemas() {
    let validator = Validator::new();
    let mut checked = 0;
    let mut check = |name: &str, json: &str, origin: &str| {
        let value: Value = serde_json::from_str(json).unwrap_or_else(|e| panic!("{origin}: {e}"));
        if let Err(e) = validator.check(name, &value) {
            panic!("{origin} against {name}:\n{e}");
        }
        checked += 1;
    };
    for file in [
        "sse_stream.txt",
        "sse_enhanced_stream.txt",
        "sse_enhanced_stream_realtime_only.txt",
    ] {
        let text = std::fs::read_to_string(data_dir().join(file)).unwrap();
        let mut event = "message";
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("event: ") {
                event = name;
            } else if let Some(data) = line.strip_prefix("data: ") {
                let schema = match event {
                    "message" | "killmail" => "Killmail",
                    "connected" => "Connected",
                    "batch" => "Batch",
                    "transition" => "Transition",
                    "heartbeat" => "Heartbeat",
                    other => panic!("{file}: unknown event {other}"),
                };
                check(schema, data, file);
            } else if line.is_empty() {
                event = "message";
            }
        }
    }
    let text = std::fs::read_to_string(data_dir().join("phoenix_frames.txt")).unwrap();
    for line in text.lines() {
        let Some(frame) = line
            .strip_prefix(">> ")
            .or_else(|| line.strip_prefix("<< "))
        else {
            continue;
        };
        let frame: Value = serde_json::from_str(frame).unwrap();
        let schema = match frame[3].as_str().unwrap() {
            "phx_join" => "JoinParams",
            "subscribe_systems" | "unsubscribe_systems" => "SystemsPayload",
            "subscribe_characters" | "unsubscribe_characters" => "CharactersPayload",
            "killmail_update" => "KillmailUpdate",
            "phx_reply" => "Reply",
            _ => continue,
        };
        check(schema, &frame[4].to_string(), "phoenix_frames.txt");
    }
    assert!(checked > 20, "only {checked} transcript payloads checked");
}

#[test]
fn schemas_reject_wrong_shapes() {
    let validator = Validator::new();
    let bad = [
        ("Killmail", json!({ "killmail_id": "131588274" })),
        (
            "Killmail",
            json!({ "killmail_id": 1, "kill_time": "yesterday" }),
        ),
        (
            "Envelope_BulkSystemsKills",
            json!({ "data": { "systems_kills": { "jita": [] } } }),
        ),
        (
            "Reply_SystemsReply",
            json!({ "status": "ok", "response": { "subscribed_systems": "30000142" } }),
        ),
        (
            "WebhookBody",
            json!({ "type": "killmail_update", "kills": [] }),
        ),
        ("ApiError", json!({ "error": "x" })),
    ];
    for (name, value) in bad {
        assert!(
            validator.check(name, &value).is_err(),
            "{name} accepted {value}"
        );
    }
}

#[test]
fn schemas_accept_documented_edge_cases() {
    let validator = Validator::new();
    let good = [
        (
            "Envelope_KillmailLookup",
            json!({ "data": "kill_older", "timestamp": "2025-12-03T14:25:02.417735Z" }),
        ),
        (
            "Killmail",
            json!({ "killmail_id": 1, "zkb": { "points": 7.0, "totalValue": 10000 } }),
        ),
        (
            "Envelope_BulkSystemsKills",
            json!({ "data": { "systems_kills": { "31000005": [] } } }),
        ),
        (
            "Envelope_SubscriptionCreated",
            json!({ "data": { "subscription_id": "q3VxN2dLr8pKzT0aWm5bYg" } }),
        ),
        ("Reply", json!({ "status": "ok", "response": {} })),
    ];
    for (name, value) in good {
        if let Err(e) = validator.check(name, &value) {
            panic!("{name} rejected {value}:\n{e}");
        }
    }
}

/// Resolves a local `#/…` JSON pointer.
fn resolve<'a>(doc: &'a Value, reference: &str) -> Option<&'a Value> {
    doc.pointer(reference.strip_prefix('#')?)
}

#[test]
fn openapi_document_is_sane() {
    let doc = openapi::build().openapi;
    assert_eq!(doc["openapi"], "3.1.0");

    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 50);
    let broken: Vec<&&str> = refs.iter().filter(|r| resolve(&doc, r).is_none()).collect();
    assert!(broken.is_empty(), "unresolved $refs: {broken:?}");

    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        assert!(path.starts_with('/'), "{path}");
        let declared: BTreeSet<String> = path
            .split('{')
            .skip(1)
            .map(|s| s.split('}').next().unwrap().to_owned())
            .collect();
        for (method, op) in item.as_object().unwrap() {
            assert!(
                ["get", "post", "delete"].contains(&method.as_str()),
                "{method} {path}"
            );
            let id = op["operationId"].as_str().unwrap();
            assert!(ids.insert(id.to_owned()), "duplicate operationId {id}");
            let params = op["parameters"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default();
            let in_path: BTreeSet<String> = params
                .iter()
                .filter(|p| p["in"] == "path")
                .inspect(|p| assert_eq!(p["required"], true, "{id}: path parameters are required"))
                .map(|p| p["name"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(
                declared, in_path,
                "{id}: path template and parameters differ"
            );
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{id} has no responses");
            for (status, response) in responses {
                assert!(
                    status.len() == 3 && status.parse::<u16>().is_ok(),
                    "{id}: status {status}"
                );
                assert!(
                    response["description"].is_string(),
                    "{id} {status}: no description"
                );
            }
        }
    }
    for (path, method, status) in [
        ("/api/v1/subscriptions", "post", "201"),
        ("/api/v1/kills/system/{system_id}", "get", "500"),
        ("/api/v1/kills/stream/enhanced", "get", "503"),
        ("/api/v1/kills/system/{system_id}", "get", "406"),
        ("/health", "get", "503"),
        ("/ping", "get", "200"),
    ] {
        assert!(
            doc["paths"][path][method]["responses"][status].is_object(),
            "{method} {path} {status}"
        );
    }
    let sse = &doc["paths"]["/api/v1/kills/stream"]["get"]["responses"]["200"]["content"];
    assert!(sse["text/event-stream"].is_object());
}

#[test]
fn examples_also_match_the_openapi_components() {
    let doc = openapi::build().openapi;
    let mut compiler = boon::Compiler::new();
    compiler.set_default_draft(boon::Draft::V2020_12);
    compiler.add_resource("urn:wk:openapi", doc).unwrap();
    let mut schemas = boon::Schemas::new();
    for (file, names) in EXAMPLES {
        let value = read_json(&data_dir().join(file));
        let loc = format!("urn:wk:openapi#/components/schemas/{}", names[0]);
        let i = compiler
            .compile(&loc, &mut schemas)
            .unwrap_or_else(|e| panic!("{loc}: {e:#}"));
        if let Err(e) = schemas.validate(&value, i) {
            panic!("{file} against {loc}:\n{e:#}");
        }
    }
}
