//! [`Failure`]: why a command failed, as one line and an exit code.

use std::process::ExitCode;

use wk::types::ValidationError;

/// A failed command: a one-line message for stderr and the exit code.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Bad input, found before anything was sent (exit 2).
    Usage(String),
    /// The server or the connection failed (exit 1).
    Server(String),
}

impl Failure {
    pub(crate) fn usage(msg: impl Into<String>) -> Self {
        Self::Usage(msg.into())
    }

    pub(crate) fn server(msg: impl Into<String>) -> Self {
        Self::Server(msg.into())
    }

    pub(crate) fn message(&self) -> &str {
        match self {
            Self::Usage(m) | Self::Server(m) => m,
        }
    }

    pub(crate) fn exit_code(&self) -> ExitCode {
        match self {
            Self::Usage(_) => ExitCode::from(2),
            Self::Server(_) => ExitCode::from(1),
        }
    }

    /// A local validation failure.
    pub(crate) fn invalid(e: &ValidationError) -> Self {
        Self::Usage(format!("invalid input: {}", validation_message(e)))
    }

    /// An HTTP call's failure: the server's code and message, or the local validation error.
    pub(crate) fn http(e: &wk::http::Error, url: &str) -> Self {
        use wk::http::Error as E;
        match e {
            E::Build(b) => match b.validation() {
                Some(v) => Self::invalid(v),
                None => Self::Usage(chain(e)),
            },
            E::Status(s) => {
                let status = s.status();
                let message = s.message();
                match s.body().and_then(|b| b.code()) {
                    Some(code) => {
                        Self::Server(format!("{code}: {message} (HTTP {})", status.as_u16()))
                    }
                    None => Self::Server(format!("{message} (HTTP {})", status.as_u16())),
                }
            }
            E::Timeout(_) | E::Transport(_) => {
                Self::Server(format!("cannot reach {url}: {}", chain(e)))
            }
            _ => Self::Server(chain(e)),
        }
    }

    /// A failure of the facade: building the client, connecting or subscribing.
    pub(crate) fn sdk(e: &wk::Error, url: &str) -> Self {
        match e {
            wk::Error::Http(h) => Self::http(h, url),
            wk::Error::Invalid(v) => Self::invalid(v),
            wk::Error::Realtime(r) => match r {
                wk::realtime::Error::Invalid(v) => Self::invalid(v),
                wk::realtime::Error::Url(_) => Self::Usage(chain(r)),
                wk::realtime::Error::Connect(c) if c.status().is_some() => {
                    Self::Server(format!("{url}: {}", chain(r)))
                }
                wk::realtime::Error::Connect(_) => {
                    Self::Server(format!("cannot reach {url}: {}", chain(r)))
                }
                _ => Self::Server(format!("{url}: {}", chain(r))),
            },
            other => Self::Server(chain(other)),
        }
    }
}

/// The message of a validation error, with the unbounded ranges said in words.
fn validation_message(e: &ValidationError) -> String {
    match e {
        ValidationError::OutOfRange { kind, id, max, .. } if *max == i64::MAX => {
            format!("{kind} id {id} must be a positive integer")
        }
        other => other.to_string(),
    }
}

/// An error and its sources on one line, `a: b: c`, skipping repeats.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ").replace('\n', " ")
}
