//! Turning what users pass (a server base URL, or a Phoenix `/socket` URL) into the socket URL.

use crate::error::Error;

/// The WebSocket URL for `base`, with `vsn=2.0.0` and the client id.
///
/// Accepts `http(s)://host[:port][/prefix]` (the server's base URL), `ws(s)://host/socket` (what
/// Phoenix client libraries take; `/websocket` is appended as they do), or the full
/// `ws(s)://host/socket/websocket`. Any `vsn` already present is replaced.
pub(crate) fn socket_url(base: &str, client_id: Option<&str>) -> Result<String, Error> {
    let bad = || Error::Url(wk_types::redact::url(base));
    if wk_types::redact::has_userinfo(base) {
        return Err(bad());
    }
    let uri: http::Uri = base.parse().map_err(|_| bad())?;
    let scheme = match uri.scheme_str() {
        Some("ws" | "http") => "ws",
        Some("wss" | "https") => "wss",
        _ => return Err(bad()),
    };
    let authority = uri.authority().ok_or_else(bad)?;
    let path = uri.path().trim_end_matches('/');
    let path = if path.ends_with("/socket/websocket") {
        path.to_owned()
    } else if path.ends_with("/socket") {
        format!("{path}/websocket")
    } else {
        format!("{path}/socket/websocket")
    };
    let mut query: Vec<String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("vsn=") && !kv.starts_with("client_id="))
        .map(str::to_owned)
        .collect();
    query.insert(0, "vsn=2.0.0".to_owned());
    if let Some(id) = client_id {
        query.push(format!("client_id={}", sanitize_client_id(id)));
    }
    Ok(format!("{scheme}://{authority}{path}?{}", query.join("&")))
}

/// The HTTP base URL of the same server, for gap recovery: `ws://h/socket/websocket` → `http://h`.
#[cfg_attr(not(feature = "http"), allow(dead_code))] // The default gap-recovery client.
pub(crate) fn http_base(socket_url: &str) -> Result<String, Error> {
    let bad = || Error::Url(wk_types::redact::url(socket_url));
    let uri: http::Uri = socket_url.parse().map_err(|_| bad())?;
    let scheme = match uri.scheme_str() {
        Some("ws" | "http") => "http",
        Some("wss" | "https") => "https",
        _ => return Err(bad()),
    };
    let authority = uri.authority().ok_or_else(bad)?;
    let path = uri.path().trim_end_matches('/');
    let prefix = path
        .strip_suffix("/socket/websocket")
        .or_else(|| path.strip_suffix("/socket"))
        .unwrap_or(path);
    Ok(format!("{scheme}://{authority}{prefix}"))
}

/// What the server does to a client id (PROTOCOL.md §7.1), done here so the URL stays valid.
fn sanitize_client_id(id: &str) -> String {
    id.trim()
        .chars()
        .take(32)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_urls() {
        let cases = [
            (
                "http://127.0.0.1:4004",
                "ws://127.0.0.1:4004/socket/websocket?vsn=2.0.0",
            ),
            (
                "https://kills.example.org/",
                "wss://kills.example.org/socket/websocket?vsn=2.0.0",
            ),
            (
                "ws://localhost:4004/socket",
                "ws://localhost:4004/socket/websocket?vsn=2.0.0",
            ),
            (
                "ws://h/socket/websocket?vsn=1.0.0",
                "ws://h/socket/websocket?vsn=2.0.0",
            ),
            (
                "https://proxy.example.org/wk",
                "wss://proxy.example.org/wk/socket/websocket?vsn=2.0.0",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(socket_url(input, None).unwrap(), want, "{input}");
        }
        assert_eq!(
            socket_url("ws://h/socket", Some("my bot!")).unwrap(),
            "ws://h/socket/websocket?vsn=2.0.0&client_id=my_bot_"
        );
        for bad in ["", "h:4004", "ftp://h/socket", "not a url"] {
            assert!(socket_url(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn http_bases() {
        assert_eq!(
            http_base("ws://127.0.0.1:4004/socket/websocket?vsn=2.0.0").unwrap(),
            "http://127.0.0.1:4004"
        );
        assert_eq!(
            http_base("wss://p.example.org/wk/socket").unwrap(),
            "https://p.example.org/wk"
        );
    }
}
