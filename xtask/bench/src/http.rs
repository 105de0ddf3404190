//! `http_rps`: sequential keep-alive `GET /api/v1/killmail/{id}` per second against the testkit,
//! `wk_http::Client` against a default `reqwest::Client` decoding the same typed envelope.
//!
//! One request in flight at a time on a current-thread runtime, rounds interleaved.

use std::time::{Duration, Instant};

use serde_json::json;
use wk_types::http::{Envelope, KillmailLookup};

use crate::sys::post;
use crate::{Args, Outcome, median};

/// Seeds one stored killmail and measures both clients.
pub(crate) fn run(args: &Args) -> Outcome {
    let base = args.get("base")?.to_owned();
    let quick = args.flag("quick");
    // Many short rounds, alternating: a burst of load from elsewhere (this VM loses about a
    // quarter of its time to others) then lands on both clients alike, and the medians drop it.
    let (rounds, budget) = if quick {
        (9, Duration::from_millis(250))
    } else {
        (21, Duration::from_millis(500))
    };
    let km = wk_testkit::Generator::new(3).killmail();
    let id = km.killmail_id;
    let body = serde_json::to_string(&km).map_err(|e| e.to_string())?;
    post(&base, "/_testkit/killmails?mode=store", &body)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        let ours = wk_http::Client::new(&base).map_err(|e| e.to_string())?;
        let theirs = reqwest::Client::new();
        let url = format!("{base}/api/v1/killmail/{id}");
        let wk_once = || async {
            match ours.killmail(id).await {
                Ok(KillmailLookup::Found(k)) if k.killmail_id == id => Ok(()),
                other => Err(format!("wk-http: unexpected {other:?}")),
            }
        };
        let reqwest_once = || async {
            let bytes = theirs
                .get(&url)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(|e| e.to_string())?
                .bytes()
                .await
                .map_err(|e| e.to_string())?;
            match serde_json::from_slice::<Envelope<KillmailLookup>>(&bytes) {
                Ok(e) if matches!(&e.data, KillmailLookup::Found(k) if k.killmail_id == id) => {
                    Ok(())
                }
                other => Err(format!("reqwest: unexpected {other:?}")),
            }
        };
        // Warm both pools.
        wk_once().await?;
        reqwest_once().await?;
        let (mut wk, mut rq) = (Vec::new(), Vec::new());
        for _ in 0..rounds {
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed() < budget {
                wk_once().await?;
                n += 1;
            }
            wk.push(n as f64 / start.elapsed().as_secs_f64());
            let start = Instant::now();
            let mut n = 0u64;
            while start.elapsed() < budget {
                reqwest_once().await?;
                n += 1;
            }
            rq.push(n as f64 / start.elapsed().as_secs_f64());
        }
        Ok(Some(json!({
            "value": median(wk),
            "baseline": median(rq),
            "response_bytes": body.len(),
        })))
    })
}
