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

/// The `i` bins of the records a stream yields, in arrival order.
fn stream_ints(
    stream: impl Iterator<Item = aerospike_blocking::Result<aerospike_blocking::Record>>,
) -> Vec<i64> {
    stream
        .map(|r| r.unwrap().bin("i").and_then(Value::as_int).unwrap())
        .collect()
}

#[test]
fn a_stream_yields_every_record_once_and_its_cursor_ends_complete() {
    let env = TestEnv::new();
    let set = unique_set("q_stream");
    load(&env.client, &set, 600);
    let ds = DataSet::of(NS, &set);

    let mut stream = env.client.query(&ds).buffer(7).stream().unwrap();
    let mut got = stream_ints(stream.by_ref());
    got.sort_unstable();
    assert_eq!(got, (0..600).collect::<Vec<_>>());
    let cursor = stream.cursor();
    assert!(cursor.is_complete(), "{:?}", cursor.unfinished());
    assert_eq!(cursor.finished_count(), 4096);

    // A complete cursor resumes to nothing.
    let rest = env.client.query(&ds).resume(cursor).records().unwrap();
    assert!(rest.is_empty());
}

#[test]
fn a_stream_stopped_part_way_resumes_without_loss_or_repeat() {
    let env = TestEnv::new();
    let set = unique_set("q_resume");
    load(&env.client, &set, 500);
    let ds = DataSet::of(NS, &set);

    let mut stream = env.client.query(&ds).buffer(16).stream().unwrap();
    let first = stream_ints(stream.by_ref().take(123));
    assert_eq!(first.len(), 123);
    let cursor = stream.cursor();
    drop(stream);
    assert!(!cursor.is_complete());

    // Saved and read back, as between two runs of a program.
    let saved = cursor.to_bytes();
    let cursor = aerospike_blocking::query::PartitionCursor::from_bytes(&saved).unwrap();
    let rest = ints(&env.client.query(&ds).resume(cursor).records().unwrap());

    let mut all = first.clone();
    all.extend(&rest);
    all.sort_unstable();
    assert_eq!(
        all,
        (0..500).collect::<Vec<_>>(),
        "first {} + rest {}",
        first.len(),
        rest.len()
    );
}

#[test]
fn pages_of_max_records_cover_the_set_once() {
    let env = TestEnv::new();
    let set = unique_set("q_pages");
    load(&env.client, &set, 450);
    let ds = DataSet::of(NS, &set);

    let mut seen = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        pages += 1;
        assert!(pages < 100, "paging does not end");
        let mut q = env.client.query(&ds).max_records(100);
        if let Some(c) = cursor.take() {
            q = q.resume(c);
        }
        let mut page = q.stream().unwrap();
        let got = stream_ints(page.by_ref());
        assert!(got.len() <= 100, "a page of {}", got.len());
        seen.extend(got);
        let c = page.cursor();
        if c.is_complete() {
            break;
        }
        cursor = Some(c);
    }
    seen.sort_unstable();
    assert_eq!(seen, (0..450).collect::<Vec<_>>());
    assert!(pages >= 5, "{pages} pages");
}

#[test]
fn a_cursor_of_another_namespace_is_refused_before_sending() {
    let env = TestEnv::new();
    let cursor =
        aerospike_blocking::query::PartitionCursor::new("other", PartitionFilter::all()).unwrap();
    let err = env
        .client
        .query(&DataSet::of(NS, "any"))
        .resume(cursor)
        .stream()
        .unwrap_err();
    assert!(
        matches!(err, aerospike_blocking::Error::InvalidArgument(_)),
        "{err}"
    );
}
