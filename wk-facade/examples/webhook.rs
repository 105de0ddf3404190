//! Receiving webhooks: a tower `Service` (here on bare hyper) that turns the server's POSTs into a
//! stream, optionally into the hub. The real server never delivers webhooks (PROTOCOL.md §9), so
//! the demo uses the `designed` profile, which does.

mod support;

use futures_util::StreamExt;
use hyper_util::rt::TokioIo;
use tower::ServiceExt;
use wk::hub::{Hub, Topic};
use wk::testkit::{Generator, Profile};
use wk::types::SystemId;
use wk::types::http::CreateSubscription;
use wk::webhook::{self, Config};

#[tokio::main]
async fn main() -> Result<(), wk::Error> {
    let (url, demo) = support::server_with(Profile::Designed, 0.0).await;
    let client = wk::Client::builder().base_url(url).build()?;

    // The receiver, served on 127.0.0.1, forwarding into a hub.
    let hub = Hub::new();
    let mut all = hub.subscribe(Topic::All);
    let (service, _events) = webhook::receiver(Config::default().hub(hub.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("bound");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let service = service.clone();
            tokio::spawn(async move {
                let hyper_service =
                    hyper::service::service_fn(move |req| service.clone().oneshot(req));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), hyper_service)
                    .await;
            });
        }
    });

    let jita = SystemId::new(30000142);
    let callback = format!("http://{addr}/wk/killmails");
    client
        .http()
        .create_subscription(&CreateSubscription::new("webhook-example", callback).systems([jita]))
        .await?;
    if let Some(server) = &demo {
        server.inject(Generator::new(3).killmail_in(jita));
    }
    match tokio::time::timeout(support::PATIENCE, all.next()).await {
        Ok(Some(event)) => println!(
            "webhook delivered: {:?}",
            event.killmail().map(|k| k.killmail_id)
        ),
        _ => println!("no webhook arrived (the real server never sends them)"),
    }
    client.http().delete_subscription("webhook-example").await?;
    Ok(())
}
