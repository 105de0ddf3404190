//! Decoding with the JSON path of the first bad value in the error.

use serde::Deserialize;

use crate::error::DecodeError;
use crate::phoenix::KillmailUpdate;
use crate::{Killmail, KillmailRef};

/// Decodes `bytes` as `T`, reporting the JSON path of the first value that does not fit.
///
/// `T` may borrow from `bytes`, as [`KillmailRef`] does; for killmails, [`killmail_ref`] is faster.
///
/// # Errors
/// A [`DecodeError`] naming the path, the reason and the position in the input.
pub fn from_slice<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, DecodeError> {
    // Checking the UTF-8 once up front is much cheaper than serde_json checking every string and
    // key; only invalid UTF-8 is decoded as bytes, to report where it is.
    if let Ok(text) = std::str::from_utf8(bytes) {
        return from_str(text);
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    finish(serde_path_to_error::deserialize(&mut de), &mut de)
}

/// Decodes `text` as `T`, reporting the JSON path of the first value that does not fit.
///
/// `T` may borrow from `text`, as [`KillmailRef`] does; for killmails, [`killmail_ref`] is faster.
///
/// # Errors
/// A [`DecodeError`] naming the path, the reason and the position in the input.
pub fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, DecodeError> {
    // Tracking the path costs an allocation per object key, so valid input (nearly all of it) is
    // decoded plainly; only a failure is decoded again, with the path, to report it.
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    finish(serde_path_to_error::deserialize(&mut de), &mut de)
}

/// Decodes one killmail, its strings borrowed from `text`: the same result as
/// [`from_str::<KillmailRef>`](from_str), several times faster.
///
/// A hand-written reader takes the common case (no escapes in strings, no duplicate keys, numbers
/// of the expected kinds); anything else goes through [`from_str`], so the value, or the error and
/// its path, are always exactly what `from_str` gives.
///
/// ```
/// use wk_types::decode;
///
/// let km = decode::killmail_ref(r#"{"killmail_id":7,"attackers":[{"character_id":90000001}]}"#)?;
/// assert_eq!(km.killmail_id.get(), 7);
/// let err = decode::killmail_ref(r#"{"killmail_id":7,"attackers":[{"character_id":"x"}]}"#)
///     .unwrap_err();
/// assert_eq!(err.path(), "attackers[0].character_id");
/// # Ok::<(), wk_types::DecodeError>(())
/// ```
///
/// # Errors
/// A [`DecodeError`] naming the path, the reason and the position in the input.
pub fn killmail_ref(text: &str) -> Result<KillmailRef<'_>, DecodeError> {
    match crate::scan::killmail_ref(text) {
        Some(killmail) => Ok(killmail),
        None => from_str(text),
    }
}

/// Decodes one owned killmail: the same result as [`from_str::<Killmail>`](from_str), faster (see
/// [`killmail_ref`]).
///
/// # Errors
/// A [`DecodeError`] naming the path, the reason and the position in the input.
pub fn killmail(text: &str) -> Result<Killmail, DecodeError> {
    match crate::scan::killmail(text) {
        Some(killmail) => Ok(killmail),
        None => from_str(text),
    }
}

/// Decodes a `killmail_update` push payload: the same result as
/// [`from_str::<KillmailUpdate>`](from_str), faster (see [`killmail_ref`]).
///
/// # Errors
/// A [`DecodeError`] naming the path, the reason and the position in the input.
pub fn killmail_update(text: &str) -> Result<KillmailUpdate, DecodeError> {
    match crate::scan::killmail_update(text) {
        Some(update) => Ok(update),
        None => from_str(text),
    }
}

fn finish<'de, T, R: serde_json::de::Read<'de>>(
    result: Result<T, serde_path_to_error::Error<serde_json::Error>>,
    de: &mut serde_json::Deserializer<R>,
) -> Result<T, DecodeError> {
    let value = result.map_err(|e| DecodeError::new(e.path().to_string(), e.inner()))?;
    de.end().map_err(|e| DecodeError::new(".".to_owned(), &e))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use crate::Killmail;

    #[test]
    fn error_names_the_nested_path() {
        let err = super::from_str::<Killmail>(
            r#"{"killmail_id":1,"attackers":[{},{"character_id":"nope"}]}"#,
        )
        .unwrap_err();
        assert_eq!(err.path(), "attackers[1].character_id");
        assert!(err.message().contains("invalid type"), "{err}");
        assert_eq!(err.line(), 1);
    }

    #[test]
    fn trailing_garbage_is_an_error() {
        let err = super::from_str::<Killmail>(r#"{"killmail_id":1} x"#).unwrap_err();
        assert_eq!(err.path(), ".");
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        assert!(super::from_str::<Killmail>(r#"{"killmail_id":1,"vic"#).is_err());
        assert!(super::from_slice::<Killmail>(b"\xff\xfe").is_err());
    }
}
