//! The four-namespace TTL cache, on its own and as a read-through cache in the HTTP client.

mod support;

use std::time::Duration;

use wk::cache::{Cache, Lookup};
use wk::types::SystemId;

#[tokio::main]
async fn main() -> Result<(), wk::Error> {
    let (url, _demo) = support::server(0.0).await;
    let cache = Cache::default();
    let client = wk::Client::builder()
        .base_url(url)
        .cache(cache.clone())
        .build()?;

    let jita = SystemId::new(30000142);
    let first = client.http().cached_kills(jita).await?; // a miss: fetched and cached for 1 h
    let again = client.http().cached_kills(jita).await?; // a hit: no request
    assert_eq!(first, again);
    let fresh = client
        .http()
        .cached_kills(jita)
        .lookup(Lookup::Refresh)
        .await?; // forced reload
    println!("{} kills in Jita's cached list", fresh.kills.len());

    // The esi_data namespace holds any JSON, e.g. an ESI lookup, for 24 h (or a TTL of your choice).
    cache.esi_data().insert_with_ttl(
        "universe/systems/30000142".into(),
        serde_json::json!({"name": "Jita"}),
        Duration::from_secs(3600),
    );
    let name = cache
        .esi_data()
        .get("universe/systems/30000142")
        .map(|v| v["name"].clone());
    println!("ESI cache: {name:?}");

    let stats = cache.stats();
    println!(
        "systems: {} hits, {} misses; esi_data: {} entries",
        stats.systems.hits, stats.systems.misses, stats.esi_data.entries
    );
    Ok(())
}
