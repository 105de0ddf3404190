//! Live kills over the WebSocket, with subscriptions changed at runtime: the seed guide's
//! `update_subscriptions` maps onto the real events (the server has no such event).

mod support;

use futures_util::StreamExt;
use wk::types::{CharacterId, SystemId};
use wk::ws::Update;
use wk::{Filter, KillEvent};

#[tokio::main]
async fn main() -> Result<(), wk::Error> {
    let (url, _demo) = support::server(20.0).await;
    let client = wk::Client::builder()
        .base_url(url)
        .client_id("example")
        .build()?;

    // The generator's busiest systems; a real server would use any systems you care about.
    let jita = SystemId::new(30000142);
    let mut kills = client.subscribe(Filter::new().systems([jita])).await?;

    let reply = kills
        .update_subscriptions(
            Update::new()
                .add_systems([
                    SystemId::new(30002813),
                    SystemId::new(30002187),
                    SystemId::new(30002510),
                ])
                .add_characters([CharacterId::new(95465499)]),
        )
        .await?;
    println!("now subscribed: {:?}", reply.systems);

    let mut seen = 0;
    let deadline = tokio::time::sleep(support::PATIENCE);
    tokio::pin!(deadline);
    while seen < 5 {
        tokio::select! {
            event = kills.next() => match event {
                Some(Ok(KillEvent::Kill(kill))) => {
                    seen += 1;
                    println!("{:?} kill {} in {:?}", kill.origin, kill.killmail.killmail_id, kill.killmail.system_id);
                }
                Some(Ok(other)) => println!("event: {other:?}"),
                Some(Err(e)) => eprintln!("error: {e}"),
                None => break,
            },
            () = &mut deadline => break,
        }
    }
    let stats = client.ws().await?.stats();
    println!(
        "{seen} kills; {} duplicate pushes dropped",
        stats.duplicates
    );
    Ok(())
}
