//! Errors by phase, retry facts as methods, and the retry policy: what the seed guide's
//! `handle 429 … retry-after` advice becomes against a server that never sends 429.

mod support;

use std::time::Duration;

use wk::http::Error;
use wk::retry::{BackoffConfig, RetryConfig};
use wk::types::{ErrorCode, KillmailId, SystemId};

#[tokio::main]
async fn main() -> Result<(), wk::Error> {
    let (url, demo) = support::server(0.0).await;
    let http = wk::http::Client::builder()
        .base_url(url)
        .retry(
            RetryConfig::default().max_retries(3).backoff(
                BackoffConfig::default()
                    .base(Duration::from_millis(200))
                    .max(Duration::from_secs(5)),
            ),
        )
        .build()?;

    // Refused locally: the id is invalid, nothing is sent.
    match http.killmail(KillmailId::new(0)).await {
        Err(Error::Build(e)) => println!("refused before sending: {:?}", e.validation()),
        other => println!("unexpected: {other:?}"),
    }

    // The server's own error body, in whichever of its five shapes, with retry facts.
    match http.killmail(KillmailId::new(1)).await {
        Err(e) => {
            let code = e.body().and_then(|b| b.code()).map(ErrorCode::as_str);
            println!(
                "status {:?}, code {code:?}, retryable: {}",
                e.status(),
                e.is_retryable()
            );
        }
        Ok(found) => println!("found: {found:?}"),
    }

    // With the demo server, inject an outage: two 503s with Retry-After, which the client rides out.
    if let Some(server) = &demo {
        server.fault(wk::testkit::Fault::HttpStatus {
            status: 503,
            retry_after: Some(1),
            count: 2,
        });
        let page = http.system_kills(SystemId::new(30000142)).send().await?;
        println!(
            "after the outage: {} kills ({} requests)",
            page.kills.len(),
            server.state().http_requests
        );
    }
    Ok(())
}
