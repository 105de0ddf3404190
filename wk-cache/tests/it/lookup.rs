//! Per-request read-through modes: read through, refresh, bypass.

use std::time::Duration;

use wk_cache::{Config, Lookup};
use wk_types::KillmailId;

use super::{killmail, manual};

#[tokio::test]
async fn read_through_refresh_and_bypass() {
    let (cache, clock) = manual(Config::default());
    let ns = cache.killmails();
    let id = KillmailId::new(5);
    let load = |n: i64| move || async move { Ok::<_, ()>(killmail(n)) };

    let a = ns
        .load(&id, Lookup::ReadThrough, load(1))
        .await
        .expect("ok");
    let b = ns
        .load(&id, Lookup::ReadThrough, load(2))
        .await
        .expect("ok");
    assert_eq!(
        (a.killmail_id.get(), b.killmail_id.get()),
        (1, 1),
        "second call hit"
    );

    let c = ns.load(&id, Lookup::Bypass, load(3)).await.expect("ok");
    assert_eq!(c.killmail_id.get(), 3);
    assert_eq!(
        ns.get(&id).expect("kept").killmail_id.get(),
        1,
        "bypass left the cache alone"
    );

    clock.advance(Duration::from_secs(200));
    let d = ns.load(&id, Lookup::Refresh, load(4)).await.expect("ok");
    assert_eq!(d.killmail_id.get(), 4);
    clock.advance(Duration::from_secs(200));
    assert_eq!(
        ns.get(&id)
            .expect("refreshed, with a new TTL")
            .killmail_id
            .get(),
        4
    );
    assert_eq!(Lookup::default(), Lookup::ReadThrough);
}

#[tokio::test]
async fn errors_pass_through_every_mode() {
    let (cache, _clock) = manual(Config::default());
    for lookup in [Lookup::ReadThrough, Lookup::Refresh, Lookup::Bypass] {
        let got = cache
            .esi_data()
            .load("k", lookup, || async {
                Err::<serde_json::Value, _>("down")
            })
            .await;
        assert_eq!(got, Err("down"));
    }
    assert!(cache.esi_data().is_empty());
}
