//! Batch commands against the cluster under test (3 embedded nodes, or the
//! cluster named by `AEROSPIKE_HOSTS`): one result per key, in order, with
//! found / not found / filtered out / written outcomes.

mod common;

use aerospike_blocking::batch::{BatchPolicy, BatchResult, MAX_KEYS};
use aerospike_blocking::{operations, Bin, Bins, Error, Key, ReadPolicy, Value, WritePolicy};
use common::{unique_set, TestEnv, NAMESPACE};

/// Writes keys `0..n` of `set` with bins `a = i`, `b = "v<i>"`.
fn load(env: &TestEnv, set: &str, n: i64) -> Vec<Key> {
    (0..n)
        .map(|i| {
            let key = Key::new(NAMESPACE, set, i).unwrap();
            let bins = [Bin::new("a", i), Bin::new("b", format!("v{i}"))];
            env.client
                .put(&WritePolicy::default(), &key, &bins)
                .unwrap();
            key
        })
        .collect()
}

fn int(r: &BatchResult, bin: &str) -> Option<i64> {
    match r {
        BatchResult::Found(rec) => rec.bin(bin).and_then(Value::as_int),
        _ => None,
    }
}

#[test]
fn get_keeps_the_callers_order_across_nodes() {
    let env = TestEnv::new();
    let set = unique_set("batch_get");
    load(&env, &set, 50);
    // Present keys interleaved with missing ones (100..).
    let keys: Vec<Key> = (0..60)
        .map(|i| Key::new(NAMESPACE, &set, if i % 6 == 5 { 100 + i } else { i }).unwrap())
        .collect();
    // Every node at once (the default), one node after the other, two at once.
    for concurrent_nodes in [0, 1, 2] {
        let policy = BatchPolicy {
            concurrent_nodes,
            ..BatchPolicy::default()
        };
        let got = env.client.batch_get(&policy, &keys, Bins::All).unwrap();
        assert_eq!(got.len(), keys.len());
        for (i, r) in got.iter().enumerate() {
            assert_eq!(r.key, keys[i]);
            if i % 6 == 5 || i >= 50 {
                assert_eq!(r.result, BatchResult::NotFound, "key {i}");
            } else {
                assert_eq!(int(&r.result, "a"), Some(i as i64), "key {i}");
                let rec = r.record().unwrap();
                assert_eq!(rec.bin("b"), Some(&Value::from(format!("v{i}"))));
                assert_eq!(rec.generation, 1);
            }
        }
    }
}

#[test]
fn selected_bins_and_header_only() {
    let env = TestEnv::new();
    let set = unique_set("batch_bins");
    let mut keys = load(&env, &set, 10);
    keys.push(Key::new(NAMESPACE, &set, "missing").unwrap());
    let p = BatchPolicy::default();
    let only = env.client.batch_get(&p, &keys, Bins::only(&["a"])).unwrap();
    for r in &only[..10] {
        let rec = r.record().unwrap();
        assert_eq!(rec.bins.len(), 1);
        assert!(rec.bin("a").is_some());
    }
    assert_eq!(only[10].result, BatchResult::NotFound);
    let exists = env.client.batch_exists(&p, &keys).unwrap();
    let found: Vec<bool> = exists.iter().map(|r| r.result.found()).collect();
    assert_eq!(found, [vec![true; 10], vec![false]].concat());
    assert!(exists[0].record().unwrap().bins.is_empty());
    assert_eq!(exists[0].record().unwrap().generation, 1);
}

#[test]
fn operate_reads_writes_and_creates_per_key() {
    let env = TestEnv::new();
    let set = unique_set("batch_ops");
    let keys = load(&env, &set, 3);
    let new_key = Key::new(NAMESPACE, &set, 8).unwrap();
    let done = env
        .client
        .batch_operate(
            &BatchPolicy::default(),
            &[
                (keys[0].clone(), vec![operations::get_bin("a")]),
                (
                    keys[1].clone(),
                    vec![operations::add("a", 10), operations::get_bin("a")],
                ),
                (new_key.clone(), vec![operations::put("a", 80)]),
            ],
        )
        .unwrap();
    assert_eq!(int(&done[0].result, "a"), Some(0));
    assert_eq!(int(&done[1].result, "a"), Some(11));
    assert!(done[2].result.found());
    let read = |k: &Key| {
        env.client
            .get(&ReadPolicy::default(), k, Bins::All)
            .unwrap()
    };
    assert_eq!(read(&keys[1]).unwrap().bin("a"), Some(&Value::from(11)));
    assert_eq!(read(&new_key).unwrap().bin("a"), Some(&Value::from(80)));
    // A key without operations is refused before anything is sent.
    let e = env
        .client
        .batch_operate(&BatchPolicy::default(), &[(keys[2].clone(), vec![])])
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
}

#[test]
fn delete_and_filtered_keys() {
    let env = TestEnv::new();
    let set = unique_set("batch_del");
    let keys = load(&env, &set, 6);
    let p = BatchPolicy::default().where_ael("$.a >= 3").unwrap();
    let got = env.client.batch_get(&p, &keys, Bins::All).unwrap();
    for (i, r) in got.iter().enumerate() {
        if i < 3 {
            assert_eq!(r.result, BatchResult::FilteredOut, "key {i}");
        } else {
            assert_eq!(int(&r.result, "a"), Some(i as i64));
        }
    }
    let missing = Key::new(NAMESPACE, &set, "missing").unwrap();
    let gone = env
        .client
        .batch_delete(
            &BatchPolicy::default(),
            &[keys[0].clone(), missing, keys[1].clone()],
        )
        .unwrap();
    let outcome: Vec<bool> = gone.iter().map(|r| r.result.found()).collect();
    assert_eq!(outcome, [true, false, true]);
    assert_eq!(gone[1].result, BatchResult::NotFound);
    let left = env
        .client
        .batch_exists(&BatchPolicy::default(), &keys)
        .unwrap();
    let present: Vec<bool> = left.iter().map(|r| r.result.found()).collect();
    assert_eq!(present, [false, false, true, true, true, true]);
}

#[test]
fn empty_and_oversized_batches() {
    let env = TestEnv::new();
    let p = BatchPolicy::default();
    assert!(env.client.batch_get(&p, &[], Bins::All).unwrap().is_empty());
    let key = Key::new(NAMESPACE, "batch_big", 1).unwrap();
    let too_many = vec![key; MAX_KEYS + 1];
    let e = env.client.batch_get(&p, &too_many, Bins::All).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
}
