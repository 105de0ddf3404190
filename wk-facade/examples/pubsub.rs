//! A PubSub-style listener: the in-process hub is the Rust counterpart of the server's
//! Phoenix.PubSub topics. Feed it from the WebSocket and SSE at once; listeners subscribe per
//! system, per character or to everything, and each kill reaches them once.

mod support;

use futures_util::StreamExt;
use wk::hub::Topic;
use wk::types::SystemId;
use wk::{Filter, KillEvent};

#[tokio::main]
async fn main() -> Result<(), wk::Error> {
    let (url, _demo) = support::server(20.0).await;
    let client = wk::Client::builder().base_url(url).build()?;
    let jita = SystemId::new(30000142);

    // Two transports feeding one hub: duplicates across them are dropped by the hub.
    let ws = client
        .subscribe(Filter::new().systems([jita, SystemId::new(30002813)]))
        .await?;
    let sse = client
        .sse()
        .subscribe(Filter::new().systems([jita]))
        .await?;
    let _feeds = [client.hub().attach(ws), client.hub().attach(sse)];

    let mut jita_listener = client.hub().subscribe(Topic::System(jita));
    let mut everything = client.hub().subscribe(Topic::All);

    let mut jita_kills = 0;
    let deadline = tokio::time::sleep(support::PATIENCE);
    tokio::pin!(deadline);
    while jita_kills < 3 {
        tokio::select! {
            Some(event) = jita_listener.next() => {
                if let KillEvent::Kill(kill) = event {
                    jita_kills += 1;
                    println!("system:{jita} got {}", kill.killmail.killmail_id);
                }
            }
            Some(KillEvent::Kill(kill)) = everything.next() => {
                println!("all got {} in {:?}", kill.killmail.killmail_id, kill.killmail.system_id);
            }
            () = &mut deadline => break,
        }
    }
    println!("{} listeners on the hub", client.hub().subscriber_count());
    Ok(())
}
