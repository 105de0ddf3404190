//! Credentials in a base URL never reach `Debug` output or errors: userinfo is refused with a
//! redacted error (it would never be sent, and the HTTP stack below logs it).

use wk_http::Error;

#[test]
fn userinfo_is_refused_and_redacted() {
    let builder = wk_http::Client::builder().base_url("http://bot:hunter2@127.0.0.1:9");
    let shown = format!("{builder:?}");
    assert!(
        !shown.contains("hunter2") && shown.contains("***@"),
        "{shown}"
    );
    let e = builder.build().unwrap_err();
    assert!(matches!(e, Error::Build(_)), "{e:?}");
    let shown = format!("{e} {e:?} {:?}", std::error::Error::source(&e));
    assert!(!shown.contains("hunter2"), "{shown}");
    let e = wk_http::Client::new("https://user:hunter2@h.example/api?token=x").unwrap_err();
    assert!(!format!("{e:?}").contains("hunter2"));
}

#[test]
fn a_clean_base_url_still_builds_and_shows() {
    let client = wk_http::Client::new("http://127.0.0.1:9/prefix").unwrap();
    assert!(format!("{client:?}").contains("http://127.0.0.1:9/prefix"));
}
