//! proptest: random operation sequences against a plain map model; an expired entry is never returned.

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;
use wk_cache::{Capacity, Config};

use super::manual;

const TTL: u64 = 300;

#[derive(Clone, Debug)]
enum Op {
    Insert(u8, i64),
    InsertWithTtl(u8, i64, u64),
    Get(u8),
    GetOrInsert(u8, i64),
    Remove(u8),
    Advance(u64),
    Sweep,
}

fn op() -> impl Strategy<Value = Op> {
    let key = 0u8..6;
    prop_oneof![
        (key.clone(), any::<i64>()).prop_map(|(k, v)| Op::Insert(k, v)),
        (key.clone(), any::<i64>(), 0u64..2 * TTL).prop_map(|(k, v, t)| Op::InsertWithTtl(k, v, t)),
        key.clone().prop_map(Op::Get),
        (key.clone(), any::<i64>()).prop_map(|(k, v)| Op::GetOrInsert(k, v)),
        key.prop_map(Op::Remove),
        (0u64..TTL).prop_map(Op::Advance),
        Just(Op::Sweep),
    ]
}

/// The model: each key's value and expiry second; entries stay until read, removed or swept, as in
/// the cache.
#[derive(Default)]
struct Model {
    now: u64,
    map: HashMap<String, (i64, u64)>,
}

impl Model {
    fn fresh(&self, k: &str) -> Option<i64> {
        self.map
            .get(k)
            .filter(|(_, exp)| self.now < *exp)
            .map(|(v, _)| *v)
    }

    /// A read: the fresh value, dropping an expired entry as the cache does.
    fn read(&mut self, k: &str) -> Option<i64> {
        let fresh = self.fresh(k);
        if fresh.is_none() {
            self.map.remove(k);
        }
        fresh
    }
}

/// Runs `ops`; with `exact`, the cache never evicts and must match the model exactly, otherwise it
/// may have evicted anything but must never return a value the model does not hold fresh.
fn run(ops: &[Op], capacity: u64, exact: bool) -> Result<(), TestCaseError> {
    let config = Config::default().temp_data(
        Config::TEMP_DATA
            .capacity(Capacity::Entries(capacity))
            .ttl(Duration::from_secs(TTL)),
    );
    let (cache, clock) = manual(config);
    let ns = cache.temp_data();
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut model = Model::default();
    let as_i64 = |v: std::sync::Arc<serde_json::Value>| v.as_i64().expect("stored an i64");

    for op in ops {
        match *op {
            Op::Insert(k, v) => {
                ns.insert(k.to_string(), serde_json::json!(v));
                model.map.insert(k.to_string(), (v, model.now + TTL));
            }
            Op::InsertWithTtl(k, v, ttl) => {
                ns.insert_with_ttl(
                    k.to_string(),
                    serde_json::json!(v),
                    Duration::from_secs(ttl),
                );
                model.map.insert(k.to_string(), (v, model.now + ttl));
            }
            Op::Get(k) => {
                let got = ns.get(&*k.to_string()).map(as_i64);
                let want = model.read(&k.to_string());
                if exact || got.is_some() {
                    prop_assert_eq!(got, want, "get {}", k);
                } else {
                    model.map.remove(&k.to_string());
                }
            }
            Op::GetOrInsert(k, v) => {
                let key = k.to_string();
                let got = rt
                    .block_on(ns.get_or_insert_with(&*key, || async move {
                        Ok::<_, ()>(serde_json::json!(v))
                    }))
                    .map(as_i64)
                    .expect("loader never fails");
                match model.read(&key) {
                    Some(fresh) if exact || got == fresh => prop_assert_eq!(got, fresh),
                    _ => {
                        prop_assert_eq!(got, v, "loaded {}", k);
                        model.map.insert(key, (v, model.now + TTL));
                    }
                }
            }
            Op::Remove(k) => {
                let got = ns.remove(&*k.to_string()).map(as_i64);
                let want = model.fresh(&k.to_string());
                model.map.remove(&k.to_string());
                if exact || got.is_some() {
                    prop_assert_eq!(got, want, "remove {}", k);
                }
            }
            Op::Advance(secs) => {
                clock.advance(Duration::from_secs(secs));
                model.now += secs;
            }
            Op::Sweep => {
                let swept = cache.sweep();
                let now = model.now;
                let before = model.map.len();
                model.map.retain(|_, (_, exp)| now < *exp);
                if exact {
                    prop_assert_eq!(swept, (before - model.map.len()) as u64);
                }
            }
        }
        if exact {
            prop_assert_eq!(ns.len(), model.map.len() as u64, "after {:?}", op);
        }
    }
    let stats = ns.stats();
    if exact {
        prop_assert_eq!(stats.evictions, 0);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn matches_the_model_without_eviction(ops in proptest::collection::vec(op(), 1..80)) {
        run(&ops, 10_000, true)?;
    }

    #[test]
    fn never_returns_a_stale_value_under_eviction(ops in proptest::collection::vec(op(), 1..80)) {
        run(&ops, 2, false)?;
    }
}
