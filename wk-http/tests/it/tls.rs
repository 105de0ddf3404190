//! HTTPS with rustls against wk-testkit serving TLS with a self-signed certificate.

use wk_http::Error;
use wk_testkit::{Profile, TestServer};

#[tokio::test]
async fn https_works_with_a_trusted_certificate_and_fails_without() {
    let server = TestServer::builder()
        .profile(Profile::Faithful)
        .tls(true)
        .start()
        .await
        .unwrap();
    assert!(server.base_url().starts_with("https://127.0.0.1:"));
    let der = server.tls_certificate_der().unwrap().to_vec();
    let trusted = wk_http::Client::builder()
        .base_url(server.base_url())
        .add_root_certificate(der)
        .build()
        .unwrap();
    assert_eq!(trusted.ping().await.unwrap(), "pong");
    assert!(trusted.health().await.unwrap().healthy);

    let untrusted = wk_http::Client::builder()
        .base_url(server.base_url())
        .no_retry()
        .build()
        .unwrap();
    let err = untrusted.ping().await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert!(!err.was_sent(), "the handshake failed before the request");
}
