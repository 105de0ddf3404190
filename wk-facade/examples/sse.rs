//! The basic SSE stream: the server sends each kill twice and ignores character and value filters;
//! the client filters and de-duplicates, so this reads exactly what it asked for.

mod support;

use futures_util::StreamExt;
use wk::types::CharacterId;
use wk::{Filter, KillEvent};

#[tokio::main]
async fn main() -> Result<(), wk::Error> {
    let (url, _demo) = support::server(20.0).await;
    let client = wk::Client::builder().base_url(url).build()?;

    // Everything worth at least 100M ISK, plus anything involving one character.
    let filter = Filter::everything().min_value(100e6);
    let mut big = client.sse().subscribe(filter).await?;
    let _watched = client
        .sse()
        .subscribe(Filter::new().characters([CharacterId::new(95465499)]))
        .await?;

    let mut seen = 0;
    let deadline = tokio::time::sleep(support::PATIENCE);
    tokio::pin!(deadline);
    while seen < 5 {
        tokio::select! {
            event = big.next() => match event {
                Some(Ok(KillEvent::Kill(kill))) => {
                    seen += 1;
                    let value = kill.killmail.total_value().unwrap_or(0.0);
                    assert!(value >= 100e6, "filtered on the client");
                    println!("{} {:.0}M ISK", kill.killmail.killmail_id, value / 1e6);
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => eprintln!("stream: {e}"),
                None => break,
            },
            () = &mut deadline => break,
        }
    }
    println!("{seen} kills over 100M ISK");
    Ok(())
}
