//! Foreground scans and queries: all records, partition ranges, bin
//! selection, max records, index filters, where-clauses, and partitions that
//! move while the client's map is stale.

mod common;

use aerospike_blocking::background::DataSet;
use aerospike_blocking::query::{Filter, PartitionFilter};
use aerospike_blocking::{Bin, Client, IndexType, Key, Value, WritePolicy};
use common::{unique_set, TestEnv, NAMESPACE as NS};

fn load(client: &Client, set: &str, n: i64) {
    let wp = WritePolicy::default();
    for i in 0..n {
        let key = Key::new(NS, set, i).unwrap();
        let bins = [
            Bin::new("i", i),
            Bin::new("g", i % 5),
            Bin::new("s", format!("v{}", i % 3)),
        ];
        client.put(&wp, &key, &bins).unwrap();
    }
}

fn ints(records: &[aerospike_blocking::Record]) -> Vec<i64> {
    let mut v: Vec<i64> = records
        .iter()
        .map(|r| r.bin("i").and_then(Value::as_int).unwrap())
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn scan_partitions_bins_and_limits() {
    let env = TestEnv::new();
    let set = unique_set("q_scan");
    load(&env.client, &set, 120);
    let ds = DataSet::of(NS, &set);

    let all = env.client.query(&ds).records().unwrap();
    assert_eq!(ints(&all), (0..120).collect::<Vec<_>>());
    for r in &all {
        let key = r.key.as_ref().unwrap();
        assert_eq!(key.set(), set);
        let want = Key::new(NS, &set, r.bin("i").and_then(Value::as_int).unwrap()).unwrap();
        assert_eq!(key.digest(), want.digest());
        assert_eq!(r.generation, 1);
    }

    // Two halves of the partition space make up the whole.
    let low = env
        .client
        .query(&ds)
        .partitions(PartitionFilter::range(0, 2048))
        .records()
        .unwrap();
    let high = env
        .client
        .query(&ds)
        .partitions(PartitionFilter::range(2048, 2048))
        .records()
        .unwrap();
    assert_eq!(low.len() + high.len(), 120);
    assert!(low
        .iter()
        .all(|r| r.key.as_ref().unwrap().partition() < 2048));
    assert!(high
        .iter()
        .all(|r| r.key.as_ref().unwrap().partition() >= 2048));
    let one = all[0].key.as_ref().unwrap().partition();
    let only = env
        .client
        .query(&ds)
        .partitions(PartitionFilter::id(one))
        .records()
        .unwrap();
    assert!(only.iter().any(|r| r.key == all[0].key));

    let some = env
        .client
        .query(&ds)
        .bins(&["g"])
        .max_records(7)
        .records()
        .unwrap();
    assert_eq!(some.len(), 7);
    assert!(some
        .iter()
        .all(|r| r.bins.len() == 1 && r.bin("g").is_some()));

    assert!(env
        .client
        .query(&ds)
        .partitions(PartitionFilter::range(4000, 200))
        .records()
        .is_err());
    let empty = env
        .client
        .query(&DataSet::of(NS, &unique_set("q_none")))
        .records()
        .unwrap();
    assert!(empty.is_empty());
}

#[test]
fn index_filters_and_where_clauses() {
    let env = TestEnv::new();
    let set = unique_set("q_idx");
    load(&env.client, &set, 100);
    let ds = DataSet::of(NS, &set);
    let num = format!("{set}_g");
    let text = format!("{set}_s");
    env.client
        .create_index(NS, &set, &num, "g", IndexType::Numeric)
        .unwrap();
    env.client
        .create_index(NS, &set, &text, "s", IndexType::String)
        .unwrap();

    let eq = env
        .client
        .query(&ds)
        .filter(Filter::equal("g", 3))
        .records()
        .unwrap();
    assert_eq!(
        ints(&eq),
        (0..100).filter(|i| i % 5 == 3).collect::<Vec<_>>()
    );
    let range = env
        .client
        .query(&ds)
        .filter(Filter::range("g", 1, 2))
        .records()
        .unwrap();
    assert_eq!(range.len(), 40);
    let s = env
        .client
        .query(&ds)
        .filter(Filter::equal("s", "v1"))
        .records()
        .unwrap();
    assert_eq!(
        ints(&s),
        (0..100).filter(|i| i % 3 == 1).collect::<Vec<_>>()
    );
    let both = env
        .client
        .query(&ds)
        .filter(Filter::equal("g", 0))
        .where_ael("$.i >= 50")
        .records()
        .unwrap();
    assert_eq!(ints(&both), vec![50, 55, 60, 65, 70, 75, 80, 85, 90, 95]);
    assert!(env
        .client
        .query(&ds)
        .filter(Filter::equal("g", 1.5))
        .records()
        .is_err());

    env.client.drop_index(NS, &set, &num).unwrap();
    env.client.drop_index(NS, &set, &text).unwrap();
}
