//! Keeping credentials out of logs and `Debug` output.
//!
//! The WandererKills server takes no credentials, but a URL given to the SDK may carry some (a
//! proxy's `user:password@`, a `?token=` for a gateway). Every URL the SDK logs, prints in `Debug`
//! or puts in an error goes through [`Url`] first.

use std::fmt;

/// Query keys whose values are masked: any key containing one of these, ignoring case.
const SECRET_KEYS: &[&str] = &[
    "token",
    "key",
    "secret",
    "password",
    "passwd",
    "pwd",
    "auth",
    "sig",
    "session",
    "credential",
];

/// A URL shown with its userinfo and secret-looking query values replaced by `***`.
///
/// ```
/// use wk_types::redact::Url;
///
/// let shown = Url("wss://bot:hunter2@kills.example/socket?vsn=2.0.0&api_key=abc").to_string();
/// assert_eq!(shown, "wss://***@kills.example/socket?vsn=2.0.0&api_key=***");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Url<'a>(pub &'a str);

impl fmt::Display for Url<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (scheme, authority, rest) = split_authority(self.0);
        let (rest, fragment) = match rest.split_once('#') {
            Some((rest, fragment)) => (rest, Some(fragment)),
            None => (rest, None),
        };
        let (path, query) = match rest.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (rest, None),
        };
        if let Some(scheme) = scheme {
            write!(f, "{scheme}://")?;
        }
        match authority.rsplit_once('@') {
            Some((_, host)) => write!(f, "***@{host}")?,
            None => f.write_str(authority)?,
        }
        f.write_str(path)?;
        if let Some(query) = query {
            f.write_str("?")?;
            for (i, pair) in query.split('&').enumerate() {
                if i > 0 {
                    f.write_str("&")?;
                }
                match pair.split_once('=') {
                    Some((key, _)) if is_secret(key) => write!(f, "{key}=***")?,
                    _ => f.write_str(pair)?,
                }
            }
        }
        if let Some(fragment) = fragment {
            write!(f, "#{fragment}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Url<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// [`Url`] as an owned `String`, for storing in errors.
#[must_use]
pub fn url(url: &str) -> String {
    Url(url).to_string()
}

/// Whether `url` carries userinfo (`user[:password]@`). The SDK refuses such URLs: it never sends
/// them as credentials, and HTTP libraries below it would log them.
///
/// ```
/// assert!(wk_types::redact::has_userinfo("https://bot:pw@h.example/"));
/// assert!(!wk_types::redact::has_userinfo("https://h.example/a@b?c=d@e"));
/// ```
#[must_use]
pub fn has_userinfo(url: &str) -> bool {
    split_authority(url).1.contains('@')
}

/// `url` as its scheme (if any), its authority (userinfo and host, between `scheme://` and the
/// first `/`, `?` or `#`) and the rest.
fn split_authority(url: &str) -> (Option<&str>, &str, &str) {
    let (scheme, after_scheme) = match url.split_once("://") {
        Some((scheme, after)) => (Some(scheme), after),
        None => (None, url),
    };
    let end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    let (authority, rest) = after_scheme.split_at(end);
    (scheme, authority, rest)
}

fn is_secret(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| key.contains(s))
}

#[cfg(test)]
mod tests {
    use super::{has_userinfo, url};

    #[test]
    fn credentials_are_masked_and_the_rest_kept() {
        let cases = [
            ("http://127.0.0.1:4004", "http://127.0.0.1:4004"),
            (
                "https://user:pw@h.example:8443/api?x=1",
                "https://***@h.example:8443/api?x=1",
            ),
            ("https://user@h/", "https://***@h/"),
            (
                "ws://h/socket/websocket?vsn=2.0.0&client_id=bot&token=abc&Api-Key=k&sig",
                "ws://h/socket/websocket?vsn=2.0.0&client_id=bot&token=***&Api-Key=***&sig",
            ),
            (
                "http://h/p?access_token=a#frag",
                "http://h/p?access_token=***#frag",
            ),
            ("http://h/path@not-userinfo", "http://h/path@not-userinfo"),
            ("not a url", "not a url"),
            ("", ""),
        ];
        for (input, shown) in cases {
            assert_eq!(url(input), shown, "{input}");
            assert_eq!(
                has_userinfo(input),
                input.contains("***@") || shown.contains("***@")
            );
        }
    }
}
