//! A complete application: an intel feed for a few systems and characters. Live kills over the
//! WebSocket go into the hub; one listener prints big kills, another keeps per-system counts;
//! killmails are cached; the connection's health is reported as it changes.

mod support;

use std::collections::BTreeMap;

use futures_util::StreamExt;
use wk::cache::Cache;
use wk::hub::Topic;
use wk::types::{CharacterId, SystemId};
use wk::ws::ConnectionState;
use wk::{Filter, KillEvent};

#[tokio::main]
async fn main() -> Result<(), wk::Error> {
    let (url, _demo) = support::server(20.0).await;
    let cache = Cache::default();
    let client = wk::Client::builder()
        .base_url(url)
        .client_id("intel-app")
        .cache(cache.clone())
        .build()?;

    let systems = [
        SystemId::new(30000142),
        SystemId::new(30002813),
        SystemId::new(30002187),
    ];
    let feed = client
        .subscribe(
            Filter::new()
                .systems(systems)
                .characters([CharacterId::new(95465499)]),
        )
        .await?;
    client.hub().attach(feed);

    // Connection health, as it changes.
    let mut state = client.ws().await?.state();
    tokio::spawn(async move {
        while state.changed().await.is_ok() {
            let now = state.borrow_and_update().clone();
            if !matches!(now, ConnectionState::Joined) {
                eprintln!("connection: {now:?}");
            }
        }
    });

    let mut big = client.hub().subscribe(Topic::All);
    let mut counts: BTreeMap<SystemId, u32> = BTreeMap::new();
    let deadline = tokio::time::sleep(support::PATIENCE);
    tokio::pin!(deadline);
    let mut seen = 0;
    while seen < 10 {
        tokio::select! {
            Some(event) = big.next() => {
                let KillEvent::Kill(kill) = event else { continue };
                seen += 1;
                let km = &kill.killmail;
                if let Some(system) = km.system_id {
                    *counts.entry(system).or_default() += 1;
                }
                if km.total_value().unwrap_or(0.0) > 500e6 {
                    // Look the killmail up through the cached HTTP client (a hit after the first time).
                    let full = client.http().killmail(km.killmail_id).await?;
                    println!("BIG: {} ({:?} shape)", km.killmail_id, full.killmail().map(|k| k.shape()));
                }
            }
            () = &mut deadline => break,
        }
    }
    println!("kills per system: {counts:?}");
    println!("cache: {:?}", cache.stats().killmails);
    Ok(())
}
