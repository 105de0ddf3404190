//! The enhanced SSE stream with history: `batch` events with progress, a `transition`, then live
//! kills. The real server ends this stream at once (PROTOCOL.md §8.3.2), so the demo uses the
//! `designed` profile; against a real server the client keeps reconnecting with growing delays.

mod support;

use futures_util::StreamExt;
use wk::testkit::Profile;
use wk::types::SystemId;
use wk::{Filter, KillEvent, Origin, Progress};

#[tokio::main]
async fn main() -> Result<(), wk::Error> {
    let (url, _demo) = support::server_with(Profile::Designed, 5.0).await;
    let client = wk::Client::builder().base_url(url).build()?;
    let systems = [
        SystemId::new(30000142),
        SystemId::new(30002813),
        SystemId::new(30002187),
    ];
    let mut stream = client
        .sse()
        .subscribe_enhanced(Filter::new().systems(systems), 1)
        .await?;

    let (mut history, mut live) = (0, 0);
    let deadline = tokio::time::sleep(support::PATIENCE);
    tokio::pin!(deadline);
    while live < 3 {
        tokio::select! {
            event = stream.next() => match event {
                Some(Ok(KillEvent::Kill(kill))) if kill.origin == Origin::History => history += 1,
                Some(Ok(KillEvent::Kill(kill))) => {
                    live += 1;
                    println!("live kill {}", kill.killmail.killmail_id);
                }
                Some(Ok(KillEvent::Progress(Progress::Batch { batch, total }))) => println!("history: batch {batch}/{total}"),
                Some(Ok(KillEvent::Progress(Progress::Complete { total }))) => println!("history complete: {total} kills"),
                Some(Ok(_)) => {}
                Some(Err(e)) => eprintln!("stream: {e}"),
                None => break,
            },
            () = &mut deadline => break,
        }
    }
    println!("{history} historical and {live} live kills");
    Ok(())
}
