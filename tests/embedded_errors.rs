//! Timeouts, broken connections, bad bytes and server error codes, injected
//! by embedded-node faults: the client returns the right error, marks writes
//! in doubt, retries what may be retried and never panics.

use std::time::{Duration, Instant};

use aerospike_blocking::{
    Bin, Bins, Client, ClientPolicy, Error, Key, ReadPolicy, Replica, ResultCode, TimeoutPhase,
    WritePolicy,
};
use aerospike_embedded::{EmbeddedCluster, Fault, FaultScope};

fn setup() -> (EmbeddedCluster, Client, Key) {
    let ec = EmbeddedCluster::start(1).unwrap();
    let c = Client::connect(&ec.seeds(), &ClientPolicy::default()).unwrap();
    let key = Key::new("test", "errors", "k").unwrap();
    c.put(&WritePolicy::default(), &key, &[Bin::new("a", 1)])
        .unwrap();
    (ec, c, key)
}

fn no_retry_read() -> ReadPolicy {
    ReadPolicy {
        max_retries: 0,
        ..ReadPolicy::default()
    }
}

#[test]
fn slow_reply_is_a_timeout_in_doubt_only_for_writes() {
    let (ec, c, key) = setup();
    ec.nodes()[0].set_fault(Fault::Delay(Duration::from_millis(400)));
    let wp = WritePolicy {
        total_timeout: Duration::from_millis(100),
        ..WritePolicy::default()
    };
    let start = Instant::now();
    match c.put(&wp, &key, &[Bin::new("a", 2)]) {
        Err(Error::Timeout {
            phase, in_doubt, ..
        }) => {
            assert_eq!(phase, TimeoutPhase::Receive);
            assert!(in_doubt, "a sent write that timed out is in doubt");
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        start.elapsed() < Duration::from_millis(350),
        "the total timeout bounds the call"
    );
    let rp = ReadPolicy {
        total_timeout: Duration::from_millis(100),
        ..ReadPolicy::default()
    };
    match c.get(&rp, &key, Bins::All) {
        Err(e @ Error::Timeout { .. }) => assert!(!e.in_doubt()),
        other => panic!("expected a timeout, got {other:?}"),
    }
    ec.nodes()[0].clear_faults();
    // The timed-out connections were dropped; fresh ones work.
    assert!(c.exists(&ReadPolicy::default(), &key).unwrap());
}

#[test]
fn socket_timeout_fires_per_attempt_and_retries_are_bounded() {
    let (ec, c, key) = setup();
    ec.nodes()[0].set_fault(Fault::Stall);
    let rp = ReadPolicy {
        total_timeout: Duration::from_secs(5),
        socket_timeout: Duration::from_millis(50),
        max_retries: 2,
        ..ReadPolicy::default()
    };
    let start = Instant::now();
    let e = c.get(&rp, &key, Bins::All).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Timeout {
                phase: TimeoutPhase::Receive,
                ..
            }
        ),
        "{e:?}"
    );
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(150),
        "three attempts of 50 ms, took {took:?}"
    );
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

#[test]
fn dropped_connections_are_retried_for_reads_and_in_doubt_for_writes() {
    let (ec, c, key) = setup();
    let node = &ec.nodes()[0];
    node.set_fault_for(FaultScope::Messages, Fault::DropConnection, Some(1));
    let r = c
        .get(&ReadPolicy::default(), &key, Bins::All)
        .unwrap()
        .unwrap();
    assert_eq!(r.bin("a").and_then(|v| v.as_int()), Some(1));

    node.set_fault_for(FaultScope::Messages, Fault::CloseMidFrame, Some(1));
    assert!(c.exists(&ReadPolicy::default(), &key).unwrap());

    node.set_fault_for(FaultScope::Messages, Fault::DropConnection, Some(1));
    let e = c
        .put(&WritePolicy::default(), &key, &[Bin::new("a", 3)])
        .unwrap_err();
    assert!(matches!(e, Error::Io { in_doubt: true, .. }), "{e:?}");

    node.set_fault_for(FaultScope::Messages, Fault::CloseMidFrame, Some(1));
    let e = c.get(&no_retry_read(), &key, Bins::All).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Io {
                in_doubt: false,
                ..
            }
        ),
        "{e:?}"
    );

    let wp = WritePolicy {
        max_retries: 1,
        ..WritePolicy::default()
    };
    node.set_fault_for(FaultScope::Messages, Fault::DropConnection, Some(1));
    c.put(&wp, &key, &[Bin::new("a", 4)]).unwrap();
    let r = c
        .get(&ReadPolicy::default(), &key, Bins::All)
        .unwrap()
        .unwrap();
    assert_eq!(r.bin("a").and_then(|v| v.as_int()), Some(4));
}

#[test]
fn garbage_is_a_protocol_error_not_a_panic() {
    let (ec, c, key) = setup();
    ec.nodes()[0].set_fault_for(FaultScope::Messages, Fault::Garbage, Some(1));
    let e = c.get(&no_retry_read(), &key, Bins::All).unwrap_err();
    assert!(matches!(e, Error::Protocol { .. }), "{e:?}");
    ec.nodes()[0].set_fault_for(FaultScope::Messages, Fault::Garbage, Some(1));
    assert!(
        c.exists(&ReadPolicy::default(), &key).unwrap(),
        "a retry recovers"
    );
}

#[test]
fn server_codes_become_server_errors() {
    let (ec, c, key) = setup();
    let node = &ec.nodes()[0];
    node.set_fault(Fault::ResultCode(ResultCode::DEVICE_OVERLOAD));
    let e = c
        .put(&WritePolicy::default(), &key, &[Bin::new("a", 1)])
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Server {
                code: ResultCode::DEVICE_OVERLOAD,
                in_doubt: false
            }
        ),
        "{e:?}"
    );
    node.set_fault(Fault::ResultCode(ResultCode::TIMEOUT));
    let e = c
        .put(&WritePolicy::default(), &key, &[Bin::new("a", 1)])
        .unwrap_err();
    assert!(e.in_doubt() && e.is_timeout(), "{e:?}");
    let e = c.get(&ReadPolicy::default(), &key, Bins::All).unwrap_err();
    assert!(!e.in_doubt() && e.is_timeout(), "{e:?}");
    node.set_fault(Fault::ResultCode(ResultCode(250)));
    let e = c.get(&ReadPolicy::default(), &key, Bins::All).unwrap_err();
    assert_eq!(
        e.result_code(),
        Some(ResultCode(250)),
        "unknown codes are kept"
    );
    node.clear_faults();
    node.set_fault_for(
        FaultScope::Messages,
        Fault::ResultCode(ResultCode::PARTITION_UNAVAILABLE),
        Some(1),
    );
    assert!(
        c.exists(&ReadPolicy::default(), &key).unwrap(),
        "retried after code 11"
    );
}

#[test]
fn node_failing_tend_is_dropped_and_comes_back() {
    let ec = EmbeddedCluster::start(3).unwrap();
    let p = ClientPolicy {
        tend_interval: Duration::from_millis(30),
        max_tend_failures: 2,
        info_timeout: Duration::from_millis(200),
        ..ClientPolicy::default()
    };
    let c = Client::connect(&ec.seeds(), &p).unwrap();
    let sick = ec.nodes()[1].clone();
    sick.set_fault_for(FaultScope::Info, Fault::DropConnection, None);
    let start = Instant::now();
    while c.nodes().iter().any(|n| n.name == sick.name()) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "failing node never dropped"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    sick.clear_faults();
    // Its peers still list it, so the next tends add it back.
    while !c.nodes().iter().any(|n| n.name == sick.name()) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "node never re-added"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(c.nodes().len(), 3);
}

fn phase_of(e: &Error) -> Option<TimeoutPhase> {
    match e {
        Error::Timeout { phase, .. } => Some(*phase),
        _ => None,
    }
}

#[test]
fn total_timeout_is_reported_when_the_budget_runs_out_between_attempts() {
    let (ec, c, key) = setup();
    ec.nodes()[0].set_fault_for(FaultScope::Messages, Fault::Stall, None);
    // Attempt 1 fails at 50 ms (socket), the pause would end at 150 ms but the
    // total budget ends at 120 ms: the total phase ran out.
    let rp = ReadPolicy {
        total_timeout: Duration::from_millis(120),
        socket_timeout: Duration::from_millis(50),
        max_retries: 10,
        sleep_between_retries: Duration::from_millis(100),
        ..ReadPolicy::default()
    };
    let start = Instant::now();
    let e = c.get(&rp, &key, Bins::All).unwrap_err();
    assert_eq!(phase_of(&e), Some(TimeoutPhase::Total), "{e:?}");
    assert!(e.to_string().starts_with("total timeout"), "{e}");
    assert!(!e.in_doubt());
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(120) && took < Duration::from_secs(1),
        "{took:?}"
    );
    // The same budget on a write that was sent is in doubt.
    let wp = WritePolicy {
        total_timeout: Duration::from_millis(120),
        socket_timeout: Duration::from_millis(50),
        max_retries: 10,
        sleep_between_retries: Duration::from_millis(100),
        ..WritePolicy::default()
    };
    let e = c.put(&wp, &key, &[Bin::new("a", 9)]).unwrap_err();
    assert_eq!(phase_of(&e), Some(TimeoutPhase::Total), "{e:?}");
    assert!(e.in_doubt(), "{e:?}");
    assert!(e.to_string().contains("write in doubt"), "{e}");
}

#[test]
fn sleep_between_retries_spaces_the_attempts() {
    let (ec, c, key) = setup();
    ec.nodes()[0].set_fault_for(FaultScope::Messages, Fault::Stall, None);
    let policy = |sleep: u64| ReadPolicy {
        total_timeout: Duration::ZERO,
        socket_timeout: Duration::from_millis(40),
        max_retries: 2,
        sleep_between_retries: Duration::from_millis(sleep),
        ..ReadPolicy::default()
    };
    let start = Instant::now();
    let e = c.get(&policy(0), &key, Bins::All).unwrap_err();
    let without = start.elapsed();
    assert_eq!(phase_of(&e), Some(TimeoutPhase::Receive), "{e:?}");
    let start = Instant::now();
    let e = c.get(&policy(150), &key, Bins::All).unwrap_err();
    let with = start.elapsed();
    assert_eq!(phase_of(&e), Some(TimeoutPhase::Receive), "{e:?}");
    // Three 40 ms attempts, plus two 150 ms pauses with the sleep.
    assert!(without >= Duration::from_millis(120), "{without:?}");
    assert!(without < Duration::from_millis(300), "{without:?}");
    assert!(with >= Duration::from_millis(420), "{with:?}");
}

#[test]
fn waiting_for_a_pooled_connection_is_the_queue_phase() {
    let ec = EmbeddedCluster::start(1).unwrap();
    let p = ClientPolicy {
        max_connections_per_node: 1,
        ..ClientPolicy::default()
    };
    let c = Client::connect(&ec.seeds(), &p).unwrap();
    let key = Key::new("test", "errors", "q").unwrap();
    ec.nodes()[0].set_fault_for(
        FaultScope::Messages,
        Fault::Delay(Duration::from_millis(600)),
        Some(1),
    );
    std::thread::scope(|s| {
        // Holds the node's only connection for 600 ms.
        let holder = s.spawn(|| c.exists(&ReadPolicy::default(), &key));
        std::thread::sleep(Duration::from_millis(150));
        let rp = ReadPolicy {
            total_timeout: Duration::from_millis(100),
            max_retries: 0,
            ..ReadPolicy::default()
        };
        let e = c.exists(&rp, &key).unwrap_err();
        assert_eq!(phase_of(&e), Some(TimeoutPhase::Queue), "{e:?}");
        assert!(!holder.join().unwrap().unwrap());
    });
}

#[test]
fn replica_sequence_reads_from_the_replica_when_the_master_is_silent() {
    let ec = EmbeddedCluster::start(3).unwrap();
    let c = Client::connect(&ec.seeds(), &ClientPolicy::default()).unwrap();
    let key = Key::new("test", "errors", "replica").unwrap();
    c.put(&WritePolicy::default(), &key, &[Bin::new("a", 7)])
        .unwrap();
    let read = |replica| ReadPolicy {
        total_timeout: Duration::from_secs(2),
        socket_timeout: Duration::from_millis(100),
        max_retries: 1,
        replica,
        ..ReadPolicy::default()
    };
    // Find the master: the one node whose silence fails a master-only read.
    let mut master = None;
    for n in ec.nodes() {
        n.set_fault_for(FaultScope::Messages, Fault::Stall, None);
        let r = c.get(&read(Replica::Master), &key, Bins::All);
        n.clear_faults();
        if r.is_err() {
            assert!(master.is_none(), "two masters");
            master = Some(n);
        }
    }
    let master = master.expect("one node is the master");
    master.set_fault_for(FaultScope::Messages, Fault::Stall, None);
    let e = c.get(&read(Replica::Master), &key, Bins::All).unwrap_err();
    assert_eq!(phase_of(&e), Some(TimeoutPhase::Receive), "{e:?}");
    let r = c
        .get(&read(Replica::Sequence), &key, Bins::All)
        .unwrap()
        .expect("the replica has the record");
    assert_eq!(r.bin("a").and_then(|v| v.as_int()), Some(7));
    master.clear_faults();
}

/// A node that drops a batch's connection: its reads are asked again of the
/// replica and every key is found; its writes are reported failed and in
/// doubt, never resent and never dropped.
#[test]
fn a_batch_survives_a_node_dropping_its_share() {
    use aerospike_blocking::batch::{BatchPolicy, BatchResult};
    use aerospike_blocking::Value;
    let cluster = EmbeddedCluster::builder()
        .nodes(3)
        .namespace("test", 2)
        .start()
        .unwrap();
    let client = Client::connect(&cluster.seeds(), &ClientPolicy::default()).unwrap();
    let keys: Vec<Key> = (0..60)
        .map(|i| Key::new("test", "batch_fault", i).unwrap())
        .collect();
    for (i, k) in keys.iter().enumerate() {
        client
            .put(&WritePolicy::default(), k, &[Bin::new("i", i as i64)])
            .unwrap();
    }
    let bad = cluster.nodes()[0].clone();
    bad.set_fault_for(FaultScope::Messages, Fault::DropConnection, Some(1));
    let got = client
        .batch_get(&BatchPolicy::default(), &keys, Bins::All)
        .unwrap();
    for (i, r) in got.iter().enumerate() {
        let rec = r
            .record()
            .unwrap_or_else(|| panic!("key {i}: {:?}", r.result));
        assert_eq!(rec.bin("i").and_then(Value::as_int), Some(i as i64));
    }
    bad.set_fault_for(FaultScope::Messages, Fault::DropConnection, Some(1));
    let gone = client.batch_delete(&BatchPolicy::default(), &keys).unwrap();
    let doubtful = gone
        .iter()
        .filter(|r| matches!(r.result, BatchResult::Failed { in_doubt: true, .. }))
        .count();
    let deleted = gone.iter().filter(|r| r.result.found()).count();
    assert!(doubtful > 0, "the dropped node's keys are in doubt");
    assert_eq!(doubtful + deleted, keys.len(), "no key is dropped");
}

#[test]
fn every_server_code_on_every_single_record_path_is_in_doubt_only_for_write_timeouts() {
    let (ec, c, key) = setup();
    let node = &ec.nodes()[0];
    let no_retry_write = WritePolicy {
        max_retries: 0,
        ..WritePolicy::default()
    };
    let rp = no_retry_read();
    type Call<'a> = Box<dyn Fn() -> Result<(), Error> + 'a>;
    let writes: Vec<(&str, Call<'_>)> = vec![
        (
            "put",
            Box::new(|| c.put(&no_retry_write, &key, &[Bin::new("a", 1)])),
        ),
        (
            "append",
            Box::new(|| c.append(&no_retry_write, &key, &[Bin::new("s", "x")])),
        ),
        (
            "add",
            Box::new(|| c.add(&no_retry_write, &key, &[Bin::new("a", 1)])),
        ),
        (
            "delete",
            Box::new(|| c.delete(&no_retry_write, &key).map(|_| ())),
        ),
        ("touch", Box::new(|| c.touch(&no_retry_write, &key))),
        (
            "operate",
            Box::new(|| {
                c.operate(
                    &no_retry_write,
                    &key,
                    &[aerospike_blocking::operations::add("a", 1)],
                )
                .map(|_| ())
            }),
        ),
        (
            "execute_udf",
            Box::new(|| {
                c.execute_udf(&no_retry_write, &key, "m", "f", &[])
                    .map(|_| ())
            }),
        ),
    ];
    let reads: Vec<(&str, Call<'_>)> = vec![
        ("get", Box::new(|| c.get(&rp, &key, Bins::All).map(|_| ()))),
        ("exists", Box::new(|| c.exists(&rp, &key).map(|_| ()))),
    ];
    // Codes that are answers rather than failures on some paths (2 not found,
    // 27 filtered out, 100 a UDF's own error) are checked elsewhere.
    for code in (1..=255u8).filter(|c| ![2, 27, 100].contains(c)) {
        node.set_fault(Fault::ResultCode(ResultCode(code)));
        for (name, call) in writes.iter().chain(reads.iter()) {
            let is_write = writes.iter().any(|(w, _)| w == name);
            let e = call().expect_err(name);
            assert_eq!(
                e.result_code(),
                Some(ResultCode(code)),
                "{name} {code}: {e:?}"
            );
            let want = is_write && code == ResultCode::TIMEOUT.0;
            assert_eq!(e.in_doubt(), want, "{name} with code {code}: {e:?}");
        }
        node.clear_faults();
    }
}
