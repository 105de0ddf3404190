//! Testing your own code against wk-testkit: a real fake server on 127.0.0.1, every server
//! profiles, injected kills, faults and counters to assert on, and the seed guide's two Bypass
//! tests as expectations (`server.expect(route).times(n)`, then `server.verify()`).

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use wk::testkit::{Answer, Fault, Generator, Profile, Route, TestServer};
use wk::types::{KillmailShape, SystemId};
use wk::{Filter, KillEvent};

const JITA_KILLS: &str = "/api/v1/kills/system/30000142";

/// The seed guide's "fetches system killmails": one call, answered from the store.
async fn fetches_system_killmails() -> Result<(), wk::Error> {
    let server = TestServer::start(Profile::Faithful)
        .await
        .expect("testkit starts");
    let jita = SystemId::new(30000142);
    let kill = Generator::new(7).killmail_in(jita);
    let id = kill.killmail_id;
    server.seed_store([kill]);
    let calls = server.expect(Route::get(JITA_KILLS)).times(1);

    let client = wk::Client::builder().base_url(server.base_url()).build()?;
    let list = client.http().system_kills(jita).await?;
    // The real server lists zKillboard references here: the id and `zkb` only.
    assert_eq!(list.kills.len(), 1);
    assert_eq!(list.kills[0].killmail_id, id);
    assert_eq!(list.kills[0].shape(), KillmailShape::Reference);
    server.verify();
    println!("fetches system killmails: {id} in {} call", calls.calls());
    Ok(())
}

/// The seed guide's "handles rate limiting with retry": a 429 with `Retry-After: 1` first, and the
/// client's built-in retry waits it out.
async fn handles_rate_limiting_with_retry() -> Result<(), wk::Error> {
    let server = TestServer::start(Profile::Faithful)
        .await
        .expect("testkit starts");
    let calls = server
        .expect(Route::get(JITA_KILLS))
        .times(2)
        .respond_first(Answer::status(429).retry_after(Duration::from_secs(1)));

    let client = wk::Client::builder().base_url(server.base_url()).build()?;
    let started = Instant::now();
    let list = client.http().system_kills(SystemId::new(30000142)).await?;
    assert!(list.kills.is_empty());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    server.verify();
    println!(
        "handles rate limiting with retry: {} calls in {:.1?}",
        calls.calls(),
        started.elapsed()
    );
    Ok(())
}

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
    fetches_system_killmails().await?;
    handles_rate_limiting_with_retry().await?;

    for profile in Profile::ALL {
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
