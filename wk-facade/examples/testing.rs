//! Testing your own code against wk-testkit: a real fake server on 127.0.0.1, both server
//! profiles, injected kills, faults and counters to assert on.

use futures_util::StreamExt;
use wk::testkit::{Fault, Generator, Profile, TestServer};
use wk::types::SystemId;
use wk::{Filter, KillEvent};

/// The code under test: of the next `take` kills on a stream, counts those worth `min` ISK or more.
async fn count_big_kills<E>(
    mut kills: impl futures_util::Stream<Item = Result<KillEvent, E>> + Unpin,
    min: f64,
    take: usize,
) -> usize {
    let (mut seen, mut big) = (0, 0);
    while seen < take {
        match kills.next().await {
            Some(Ok(KillEvent::Kill(k))) => {
                seen += 1;
                if k.killmail.total_value().unwrap_or(0.0) >= min {
                    big += 1;
                }
            }
            Some(_) => {}
            None => break,
        }
    }
    big
}

#[tokio::main]
async fn main() -> Result<(), wk::Error> {
    for profile in [Profile::Faithful, Profile::Designed] {
        let server = TestServer::start(profile).await.expect("testkit starts");
        let client = wk::Client::builder().base_url(server.base_url()).build()?;
        let jita = SystemId::new(30000142);
        let kills = client.subscribe(Filter::new().systems([jita])).await?;

        let mut generator = Generator::new(42);
        let batch: Vec<_> = (0..10).map(|_| generator.killmail_in(jita)).collect();
        let want = batch
            .iter()
            .filter(|k| k.total_value().unwrap_or(0.0) >= 100e6)
            .count();
        server.inject_many(batch);
        // A channel crash in the middle changes nothing for the code under test.
        server.fault(Fault::CrashChannels);

        let got = count_big_kills(kills, 100e6, 10).await;
        assert_eq!(got, want);
        println!(
            "{profile}: {got} big kills; server pushed {} killmail_update frames",
            server.state().pushes_of("killmail_update")
        );
    }
    Ok(())
}
