//! A stream dropped part-way stops reading: its threads end and its
//! connections close. Alone in its test binary, so that no other test's
//! streams change the count of threads.

mod common;

use aerospike_blocking::background::DataSet;
use aerospike_blocking::{Bin, Key, WritePolicy};
use common::{unique_set, TestEnv, NAMESPACE as NS};

/// Threads of this process whose name starts with `prefix` (Linux).
#[cfg(target_os = "linux")]
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

#[cfg(target_os = "linux")]
#[test]
fn a_stream_dropped_early_stops_its_threads() {
    let env = TestEnv::new();
    let set = unique_set("q_drop");
    let wp = WritePolicy::default();
    for i in 0..3000i64 {
        let key = Key::new(NS, &set, i).unwrap();
        env.client.put(&wp, &key, &[Bin::new("i", i)]).unwrap();
    }
    let ds = DataSet::of(NS, &set);
    let before = threads_named("aerospike-quer");
    let mut stream = env.client.query(&ds).buffer(4).stream().unwrap();
    assert_eq!(stream.by_ref().take(5).filter(|r| r.is_ok()).count(), 5);
    std::thread::sleep(std::time::Duration::from_millis(200));
    // With a buffer of 4, the readers wait: they have not read the set.
    assert!(threads_named("aerospike-quer") > before);
    drop(stream);
    let t = std::time::Instant::now();
    while threads_named("aerospike-quer") > before {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "threads left running"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The client goes on working.
    assert_eq!(env.client.query(&ds).records().unwrap().len(), 3000);
}
