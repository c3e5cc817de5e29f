//! `close()` and dropping the last clone join every thread the client
//! started. Alone in its own test binary so no other test's threads are
//! counted.
#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use aerospike_blocking::{Bin, Client, ClientPolicy, Key, WritePolicy};
use aerospike_embedded::EmbeddedCluster;

fn thread_count() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// Waits until the count is back to `baseline` (the embedded server's
/// per-connection threads end shortly after the client closes its sockets).
fn back_to(baseline: usize) {
    let start = Instant::now();
    while thread_count() != baseline {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{} threads, baseline {baseline}",
            thread_count()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn close_and_drop_join_every_thread() {
    let ec = EmbeddedCluster::start(3).unwrap();
    let baseline = thread_count();
    let policy = ClientPolicy {
        workers_per_node: 2,
        ..ClientPolicy::default()
    };

    let c = Client::connect(&ec.seeds(), &policy).unwrap();
    let key = Key::new("test", "threads", 1).unwrap();
    c.put(&WritePolicy::default(), &key, &[Bin::new("a", 1)])
        .unwrap();
    // tend + 3 nodes x 2 workers, plus the server's connection threads.
    assert!(thread_count() >= baseline + 7, "{} threads", thread_count());
    let clone = c.clone();
    c.close();
    back_to(baseline);
    drop(clone);

    let c = Client::connect(&ec.seeds(), &policy).unwrap();
    let clone = c.clone();
    drop(c);
    assert!(
        thread_count() >= baseline + 7,
        "a live clone keeps the threads"
    );
    drop(clone);
    back_to(baseline);
}
