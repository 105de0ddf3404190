//! Every HTTP endpoint, the way the seed guide uses them: recent kills for a system, several
//! systems at once, one killmail, the server's cache, and webhook subscriptions.

mod support;

use wk::types::http::CreateSubscription;
use wk::types::{CharacterId, KillmailShape, SystemId};

#[tokio::main]
async fn main() -> Result<(), wk::Error> {
    let (url, _demo) = support::server(0.0).await;
    let client = wk::Client::builder().base_url(url).build()?;
    let http = client.http();

    // get_system_kills(system, since_hours: 24, limit: 10)
    let jita = SystemId::new(30000142);
    let page = http
        .system_kills(jita)
        .since_hours(24)
        .limit(10)
        .send()
        .await?;
    println!("/kills/system: {} entries", page.kills.len());

    // The real server answers with zKillboard references; fetch full kills one by one.
    for reference in page.kills.iter().take(3) {
        let full = http.killmail(reference.killmail_id).await?;
        if let Some(km) = full.killmail() {
            println!(
                "  killmail {} ({:?} shape, {:?} ISK)",
                km.killmail_id,
                km.shape(),
                km.total_value()
            );
            assert_ne!(km.shape(), KillmailShape::Reference);
        }
    }

    // get_systems_kills([...])
    let bulk = http
        .systems_kills([jita, SystemId::new(30002813)])
        .limit(5)
        .send()
        .await?;
    for (system, kills) in &bulk.systems_kills {
        println!("/kills/systems: {system} has {} entries", kills.len());
    }

    // The server's in-memory store, stored shape, newest ingested first.
    let cached = http.cached_kills(jita).await?;
    println!("/kills/cached: {} kills", cached.kills.len());

    // create_subscription(...): registered, though the real server never delivers (PROTOCOL.md §9).
    let created = http
        .create_subscription(
            &CreateSubscription::new("example-bot", "https://hooks.example.org/wk")
                .systems([jita])
                .characters([CharacterId::new(95465499)]),
        )
        .await?;
    println!("subscription {}", created.subscription_id);
    println!(
        "{} subscriptions on the server",
        http.subscriptions().await?.count
    );
    http.delete_subscription("example-bot").await?;

    println!("health: {}", http.health().await?.healthy);
    Ok(())
}
