//! Injectable faults: what a test can make the server do wrong on purpose.
//!
//! Apply one with [`crate::TestServer::fault`], or over HTTP with `POST /_testkit/faults` and a JSON
//! object such as `{"http_status":503,"retry_after":2,"count":3}` (see [`Fault::from_json`]).

use std::time::Duration;

use serde_json::Value;

/// One fault to inject.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// The next `count` HTTP responses (outside `/_testkit/`) get `status` with the fallback error
    /// body (§3.4) and, when set, a `Retry-After` header in delta-seconds.
    HttpStatus {
        /// The status code to answer with.
        status: u16,
        /// `Retry-After` seconds, if any.
        retry_after: Option<u64>,
        /// How many responses to affect.
        count: u32,
    },
    /// The next `count` calls to `GET /kills/system/{id}` fail with `500 FETCH_ERROR`.
    FetchError {
        /// How many responses to affect.
        count: u32,
    },
    /// Every HTTP response (outside `/_testkit/`) is delayed by this much until set to zero.
    Delay(Duration),
    /// Every WebSocket and SSE connection is dropped at once (TCP close, no close frame).
    DropConnections,
    /// Heartbeat replies stop until this is set back to `false`.
    StallHeartbeats(bool),
    /// Each open WebSocket receives one malformed (non-JSON) text frame.
    MalformedFrame,
    /// Every open WebSocket gets a close frame with this code (e.g. 1012, as a draining server sends).
    CloseSockets(u16),
    /// Every SSE stream ends cleanly (terminating chunk), as if the server finished the response.
    EndStreams,
    /// Every joined channel crashes: `phx_error` for its join_ref, subscriptions forgotten (§7.6).
    CrashChannels,
    /// The next `count` pushes on a joined channel (any event but `phx_join` and `phx_leave`) get
    /// no reply and change nothing, as Phoenix 1.8 treats a push whose join_ref is stale
    /// (PROTOCOL.md §18.2). Counted in [`crate::State::silenced_pushes`].
    DropPushes {
        /// How many pushes to drop.
        count: u32,
    },
    /// The next `count` joins of `killmails:lobby` succeed and then crash at once: the `ok`
    /// reply, then `phx_error` for that join_ref, the subscription forgotten and no preload, as a
    /// channel process that dies on every join (the rejoin storm seen against Phoenix 1.8).
    CrashJoins {
        /// How many joins to crash.
        count: u32,
    },
    /// The next `count` JSON responses have their body cut in half (invalid JSON).
    TruncateBody {
        /// How many responses to affect.
        count: u32,
    },
    /// The next `count` JSON responses carry garbage instead of JSON.
    GarbageBody {
        /// How many responses to affect.
        count: u32,
    },
    /// The next `count` HTTP requests (outside `/_testkit/`) get their connection closed without
    /// any response, as a connection reset.
    ResetHttp {
        /// How many requests to affect.
        count: u32,
    },
    /// The next `count` JSON responses send their headers and half their body, then the connection
    /// drops (a reset mid-response).
    CutBody {
        /// How many responses to affect.
        count: u32,
    },
    /// Removes every pending or ongoing fault.
    Clear,
}

impl Fault {
    /// Parses the JSON accepted by `POST /_testkit/faults`. One object may name several faults.
    ///
    /// Keys: `http_status` (+ `retry_after`, `count`, default 1), `fetch_error` (count),
    /// `delay_ms`, `drop_connections`, `stall_heartbeats` (bool), `malformed_frame`,
    /// `crash_channels`, `crash_joins` (count), `drop_pushes` (count), `truncate_body` (count), `garbage_body` (count),
    /// `close_sockets` (close code), `end_streams`, `reset` (count), `cut_body` (count), `clear`.
    ///
    /// # Errors
    /// A message naming the problem when the value is not an object or names no fault.
    pub fn from_json(value: &Value) -> Result<Vec<Fault>, String> {
        let Value::Object(map) = value else {
            return Err("expected a JSON object".into());
        };
        let count = |key: &str, default: u32| -> u32 {
            match map.get(key) {
                Some(Value::Number(n)) => n
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(default),
                Some(Value::Bool(true)) => default,
                _ => default,
            }
        };
        let truthy = |key: &str| match map.get(key) {
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::Number(n)) => Some(n.as_u64().unwrap_or(0) > 0),
            _ => None,
        };
        let mut faults = Vec::new();
        if truthy("clear") == Some(true) {
            faults.push(Fault::Clear);
        }
        if let Some(status) = map.get("http_status").and_then(Value::as_u64) {
            let status = u16::try_from(status).map_err(|_| "http_status out of range")?;
            faults.push(Fault::HttpStatus {
                status,
                retry_after: map.get("retry_after").and_then(Value::as_u64),
                count: count("count", 1),
            });
        }
        if truthy("fetch_error") == Some(true) {
            faults.push(Fault::FetchError {
                count: count("fetch_error", 1),
            });
        }
        if let Some(ms) = map.get("delay_ms").and_then(Value::as_u64) {
            faults.push(Fault::Delay(Duration::from_millis(ms)));
        }
        if truthy("drop_connections") == Some(true) {
            faults.push(Fault::DropConnections);
        }
        if let Some(b) = truthy("stall_heartbeats") {
            faults.push(Fault::StallHeartbeats(b));
        }
        if truthy("malformed_frame") == Some(true) {
            faults.push(Fault::MalformedFrame);
        }
        if let Some(code) = map.get("close_sockets").and_then(Value::as_u64) {
            let code = u16::try_from(code).map_err(|_| "close_sockets out of range")?;
            faults.push(Fault::CloseSockets(code));
        }
        if truthy("reset") == Some(true) {
            faults.push(Fault::ResetHttp {
                count: count("reset", 1),
            });
        }
        if truthy("cut_body") == Some(true) {
            faults.push(Fault::CutBody {
                count: count("cut_body", 1),
            });
        }
        if truthy("end_streams") == Some(true) {
            faults.push(Fault::EndStreams);
        }
        if truthy("crash_channels") == Some(true) {
            faults.push(Fault::CrashChannels);
        }
        if truthy("crash_joins") == Some(true) {
            faults.push(Fault::CrashJoins {
                count: count("crash_joins", 1),
            });
        }
        if truthy("drop_pushes") == Some(true) {
            faults.push(Fault::DropPushes {
                count: count("drop_pushes", 1),
            });
        }
        if truthy("truncate_body") == Some(true) {
            faults.push(Fault::TruncateBody {
                count: count("truncate_body", 1),
            });
        }
        if truthy("garbage_body") == Some(true) {
            faults.push(Fault::GarbageBody {
                count: count("garbage_body", 1),
            });
        }
        if faults.is_empty() {
            return Err("no known fault named".into());
        }
        Ok(faults)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_status() {
        let v = serde_json::json!({"http_status":503,"retry_after":2,"count":3});
        assert_eq!(
            Fault::from_json(&v).unwrap(),
            vec![Fault::HttpStatus {
                status: 503,
                retry_after: Some(2),
                count: 3
            }]
        );
    }

    #[test]
    fn parses_flags() {
        let v = serde_json::json!({"drop_connections":true,"stall_heartbeats":false,"delay_ms":5,"garbage_body":2,"drop_pushes":3,"crash_joins":4});
        let f = Fault::from_json(&v).unwrap();
        assert!(f.contains(&Fault::DropPushes { count: 3 }));
        assert!(f.contains(&Fault::CrashJoins { count: 4 }));
        assert!(f.contains(&Fault::DropConnections));
        assert!(f.contains(&Fault::StallHeartbeats(false)));
        assert!(f.contains(&Fault::Delay(Duration::from_millis(5))));
        assert!(f.contains(&Fault::GarbageBody { count: 2 }));
        assert!(Fault::from_json(&serde_json::json!({})).is_err());
    }
}
