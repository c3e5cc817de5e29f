//! Cluster changes only the embedded cluster can make: nodes joining,
//! leaving and coming back while the client keeps working.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aerospike_blocking::{Bin, Bins, Client, ClientPolicy, Key, ReadPolicy, WritePolicy};
use aerospike_embedded::EmbeddedCluster;

fn policy() -> ClientPolicy {
    ClientPolicy {
        tend_interval: Duration::from_millis(50),
        max_tend_failures: 2,
        ..ClientPolicy::default()
    }
}

fn names(c: &Client) -> BTreeSet<String> {
    c.nodes().into_iter().map(|n| n.name).collect()
}

fn running(ec: &EmbeddedCluster) -> BTreeSet<String> {
    ec.nodes().iter().map(|n| n.name()).collect()
}

/// Policies whose retries ride over a node that vanished before the next tend.
fn patient_policies() -> (WritePolicy, ReadPolicy) {
    let wp = WritePolicy {
        max_retries: 10,
        sleep_between_retries: Duration::from_millis(20),
        total_timeout: Duration::from_secs(5),
        ..WritePolicy::default()
    };
    let rp = ReadPolicy {
        max_retries: wp.max_retries,
        sleep_between_retries: wp.sleep_between_retries,
        total_timeout: wp.total_timeout,
        ..ReadPolicy::default()
    };
    (wp, rp)
}

/// Waits until the client sees exactly the cluster's running nodes.
fn converge(c: &Client, ec: &EmbeddedCluster) {
    let start = Instant::now();
    while names(c) != running(ec) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "client sees {:?}, cluster runs {:?}",
            names(c),
            running(ec)
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn one_seed_finds_one_or_three_nodes() {
    for n in [1, 3] {
        let ec = EmbeddedCluster::start(n).unwrap();
        let c = Client::connect(&[ec.seed()], &policy()).unwrap();
        assert_eq!(names(&c), running(&ec));
        assert_eq!(c.nodes().len(), n);
        for info in c.nodes() {
            assert_eq!(info.build, "8.1.2.0");
            assert!(ec.seeds().contains(&info.address.to_string()));
        }
    }
}

#[test]
fn nodes_join_leave_and_come_back() {
    let ec = EmbeddedCluster::start(3).unwrap();
    let c = Client::connect(&[ec.seed()], &policy()).unwrap();
    converge(&c, &ec);

    let added = ec.add_node().unwrap();
    converge(&c, &ec);
    assert!(names(&c).contains(&added.name()));
    assert_eq!(c.nodes().len(), 4);

    ec.remove_node(&added.name()).unwrap();
    converge(&c, &ec);
    assert_eq!(c.nodes().len(), 3);

    let victim = ec.nodes()[1].name();
    ec.stop_node(&victim).unwrap();
    converge(&c, &ec);
    assert!(!names(&c).contains(&victim));

    ec.restart_node(&victim).unwrap();
    converge(&c, &ec);
    assert!(names(&c).contains(&victim));
}

#[test]
fn seed_node_can_leave() {
    let ec = EmbeddedCluster::start(3).unwrap();
    let seed_name = ec.nodes()[0].name();
    let c = Client::connect(&[ec.seed()], &policy()).unwrap();
    ec.stop_node(&seed_name).unwrap();
    converge(&c, &ec);
    let key = Key::new("test", "seedgone", 1).unwrap();
    c.put(&WritePolicy::default(), &key, &[Bin::new("a", 1)])
        .unwrap();
    assert!(c.exists(&ReadPolicy::default(), &key).unwrap());
}

#[test]
fn client_keeps_working_through_node_churn() {
    let ec = EmbeddedCluster::start(3).unwrap();
    let c = Client::connect(&ec.seeds(), &policy()).unwrap();
    let (wp, rp) = patient_policies();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let done = std::thread::scope(|s| {
        let worker = s.spawn(|| {
            let mut n = 0i64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let key = Key::new("test", "churn", n % 500).unwrap();
                c.put(&wp, &key, &[Bin::new("n", n)]).unwrap();
                let r = c.get(&rp, &key, Bins::All).unwrap().expect("just written");
                assert_eq!(r.bin("n").and_then(|v| v.as_int()), Some(n));
                n += 1;
            }
            n
        });
        let victim = ec.nodes()[2].name();
        std::thread::sleep(Duration::from_millis(100));
        ec.remove_node(&victim).unwrap();
        converge(&c, &ec);
        let added = ec.add_node().unwrap();
        converge(&c, &ec);
        ec.stop_node(&added.name()).unwrap();
        converge(&c, &ec);
        ec.restart_node(&added.name()).unwrap();
        converge(&c, &ec);
        std::thread::sleep(Duration::from_millis(100));
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        worker.join().unwrap()
    });
    assert!(done > 10, "only {done} round trips during the churn");
}

#[test]
fn cluster_name_is_checked_when_asked() {
    let ec = EmbeddedCluster::builder()
        .nodes(2)
        .cluster_name("blue")
        .start()
        .unwrap();
    let with = |name: &str| ClientPolicy {
        cluster_name: Some(name.to_owned()),
        connect_timeout: Duration::from_millis(500),
        ..policy()
    };
    let c = Client::connect(&ec.seeds(), &with("blue")).unwrap();
    assert_eq!(c.nodes().len(), 2);
    assert!(matches!(
        Client::connect(&ec.seeds(), &with("green")),
        Err(aerospike_blocking::Error::NoNode(_))
    ));
}

#[test]
fn a_failed_command_wakes_the_tend_thread() {
    let ec = EmbeddedCluster::start(3).unwrap();
    let slow_tend = ClientPolicy {
        tend_interval: Duration::from_secs(3600),
        ..ClientPolicy::default()
    };
    let c = Client::connect(&ec.seeds(), &slow_tend).unwrap();
    // 30 keys: all but certainly some are mastered by the stopped nodes.
    let keys: Vec<Key> = (0..30)
        .map(|i| Key::new("test", "wake", i).unwrap())
        .collect();
    let rp = ReadPolicy {
        max_retries: 20,
        sleep_between_retries: Duration::from_millis(10),
        total_timeout: Duration::from_secs(5),
        ..ReadPolicy::default()
    };
    // Stop every node but one, one by one: without a woken tend the client
    // would keep routing to the stopped nodes for an hour.
    for n in &ec.nodes()[1..] {
        ec.stop_node(&n.name()).unwrap();
    }
    let start = Instant::now();
    for key in &keys {
        assert!(!c.exists(&rp, key).unwrap());
    }
    assert!(start.elapsed() < Duration::from_secs(5));
    let wp = WritePolicy {
        max_retries: 20,
        sleep_between_retries: Duration::from_millis(10),
        total_timeout: Duration::from_secs(5),
        ..WritePolicy::default()
    };
    for key in &keys {
        c.put(&wp, key, &[Bin::new("a", 1)]).unwrap();
    }
}

#[test]
fn namespace_default_ttl_applies() {
    let ec = EmbeddedCluster::builder()
        .nodes(1)
        .default_ttl(100)
        .start()
        .unwrap();
    let c = Client::connect(&ec.seeds(), &policy()).unwrap();
    let key = Key::new("test", "defttl", 1).unwrap();
    c.put(&WritePolicy::default(), &key, &[Bin::new("a", 1)])
        .unwrap();
    let rec = c
        .get(&ReadPolicy::default(), &key, Bins::None)
        .unwrap()
        .unwrap();
    let ttl = rec.ttl().expect("the namespace default applies");
    assert!((95..=100).contains(&ttl), "ttl {ttl}");
    let never = WritePolicy {
        expiration: aerospike_blocking::Expiration::NeverExpire,
        ..WritePolicy::default()
    };
    c.put(&never, &key, &[Bin::new("a", 2)]).unwrap();
    let rec = c
        .get(&ReadPolicy::default(), &key, Bins::None)
        .unwrap()
        .unwrap();
    assert_eq!(rec.ttl(), None);
}

#[test]
fn connections_closed_by_a_restart_are_not_reused() {
    let ec = EmbeddedCluster::start(3).unwrap();
    let no_tend = ClientPolicy {
        tend_interval: Duration::from_secs(3600),
        ..ClientPolicy::default()
    };
    let c = Client::connect(&ec.seeds(), &no_tend).unwrap();
    let keys: Vec<Key> = (0..30)
        .map(|i| Key::new("test", "restart", i).unwrap())
        .collect();
    let once = WritePolicy::default(); // max_retries 0: a dead connection would fail the write
    for k in &keys {
        c.put(&once, k, &[Bin::new("a", 1)]).unwrap();
    }
    for n in ec.nodes() {
        ec.restart_node(&n.name()).unwrap();
    }
    std::thread::sleep(Duration::from_millis(100));
    for k in &keys {
        c.put(&once, k, &[Bin::new("a", 2)]).unwrap();
    }
}

/// A list created ordered and a map created key-ordered stay so through
/// later writes that carry no order, and the client reads them back (the
/// node sends the server's order header first).
#[test]
fn ordered_containers_survive_plain_writes() {
    use aerospike_blocking::operations::list::{self, ListOrder, ListPolicy, ListWriteFlags};
    use aerospike_blocking::operations::map::{self, MapOrder, MapPolicy, MapWriteFlags};
    use aerospike_blocking::Value;
    let ec = EmbeddedCluster::start(3).unwrap();
    let c = Client::connect(&[ec.seed()], &policy()).unwrap();
    let key = Key::new("test", "ordered", 1).unwrap();
    let wp = WritePolicy::default();
    let ordered = ListPolicy::new(ListOrder::Ordered, ListWriteFlags::DEFAULT);
    let ko = MapPolicy::new(MapOrder::KeyOrdered, MapWriteFlags::DEFAULT);
    c.operate(
        &wp,
        &key,
        &[
            list::append_with_policy(&ordered, "l", 5),
            map::put(&ko, "m", "m", 1),
        ],
    )
    .unwrap();
    c.operate(
        &wp,
        &key,
        &[
            list::append("l", 1),
            list::append_items("l", vec![Value::from(9), Value::from(3)]),
            map::put(&MapPolicy::default(), "m", "z", 2),
            map::put(&MapPolicy::default(), "m", "a", 3),
        ],
    )
    .unwrap();
    let rec = c
        .get(&ReadPolicy::default(), &key, Bins::All)
        .unwrap()
        .unwrap();
    let ints = |v: &[i64]| Value::List(v.iter().map(|i| Value::Int(*i)).collect());
    assert_eq!(rec.bin("l"), Some(&ints(&[1, 3, 5, 9])));
    let keys: Vec<Value> = match rec.bin("m") {
        Some(Value::Map(e)) => e.iter().map(|(k, _)| k.clone()).collect(),
        other => panic!("{other:?}"),
    };
    assert_eq!(keys, ["a", "m", "z"].map(Value::from));
    c.close();
}

/// `client_proxy_complete` and `client_read_success` of namespace `test`,
/// summed over the running nodes, as the nodes themselves report them.
fn served(c: &Client) -> (u64, u64) {
    let mut proxied = 0;
    let mut reads = 0;
    for n in c.nodes() {
        let stats = c.info_on(&n.name, &["namespace/test"]).unwrap();
        for pair in stats[0].1.split(';') {
            match pair.split_once('=') {
                Some(("client_proxy_complete", v)) => proxied += v.parse::<u64>().unwrap(),
                Some(("client_read_success", v)) => reads += v.parse::<u64>().unwrap(),
                _ => {}
            }
        }
    }
    (proxied, reads)
}

/// The "done when": 10,000 records written and read back on a
/// 3-node cluster while one node is taken out and brought back DURING the
/// traffic; outside the churn no request is proxied (each went to the node
/// that owns its partition), and the final read-back is served entirely by
/// owners.
#[test]
fn ten_thousand_records_survive_a_node_leaving_and_returning_mid_traffic() {
    use std::sync::atomic::{AtomicI64, Ordering};
    const N: i64 = 10_000;
    let ec = EmbeddedCluster::start(3).unwrap();
    let c = Client::connect(&ec.seeds(), &policy()).unwrap();
    converge(&c, &ec);
    let (wp, rp) = patient_policies();
    let key = |i: i64| Key::new("test", "done_when", i).unwrap();
    let (proxied_at_start, _) = served(&c);
    let progress = AtomicI64::new(0);
    let wait_for = |n: i64| {
        let start = Instant::now();
        while progress.load(Ordering::Relaxed) < n {
            assert!(start.elapsed() < Duration::from_secs(60), "traffic stalled");
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    let victim = ec.nodes()[1].name();
    let mut churn_window = (0, 0);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for i in 0..N {
                c.put(
                    &wp,
                    &key(i),
                    &[Bin::new("i", i), Bin::new("s", format!("v{i}"))],
                )
                .unwrap();
                let r = c
                    .get(&rp, &key(i), Bins::All)
                    .unwrap()
                    .expect("just written");
                assert_eq!(r.bin("i").and_then(|v| v.as_int()), Some(i));
                progress.store(i + 1, Ordering::Relaxed);
            }
        });
        wait_for(2_000);
        let (p, _) = served(&c);
        assert_eq!(p, proxied_at_start, "a stable cluster proxies nothing");
        churn_window.0 = progress.load(Ordering::Relaxed);
        ec.stop_node(&victim).unwrap();
        converge(&c, &ec);
        assert_eq!(c.nodes().len(), 2);
        let during = progress.load(Ordering::Relaxed);
        wait_for(during + 500);
        ec.restart_node(&victim).unwrap();
        converge(&c, &ec);
        assert_eq!(c.nodes().len(), 3);
        churn_window.1 = progress.load(Ordering::Relaxed);
        writer.join().unwrap();
    });
    assert!(
        churn_window.0 < churn_window.1 && churn_window.1 < N,
        "the node left and came back while records were being written: {churn_window:?}"
    );
    // Read everything back once the map has settled: only owners answer.
    let (proxied_before, reads_before) = served(&c);
    for i in 0..N {
        let r = c.get(&rp, &key(i), Bins::All).unwrap().expect("written");
        assert_eq!(r.bin("i").and_then(|v| v.as_int()), Some(i));
        assert_eq!(
            r.bin("s").and_then(|v| v.as_str()),
            Some(format!("v{i}").as_str())
        );
    }
    let (proxied_after, reads_after) = served(&c);
    assert_eq!(proxied_after, proxied_before, "no read was proxied");
    assert_eq!(
        reads_after - reads_before,
        N as u64,
        "every read reached an owner"
    );
}

/// `fail_if_not_connected: false`: a client made while nothing answers on
/// the seed has no nodes and fails commands with `NoNode`; once a node starts
/// on the seed's port the tend thread finds it and commands work.
#[test]
fn a_client_made_before_its_cluster_finds_it_when_it_starts() {
    let key = Key::new("test", "late", 1).unwrap();
    let rp = ReadPolicy {
        max_retries: 0,
        ..ReadPolicy::default()
    };
    // A free port can be taken by a parallel test between probing it and the
    // cluster binding it: then try again with another one.
    let (c, ec) = (0..20)
        .find_map(|_| {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = l.local_addr().unwrap().port();
            drop(l);
            let p = ClientPolicy {
                fail_if_not_connected: false,
                connect_timeout: Duration::from_millis(100),
                ..policy()
            };
            let c = Client::connect(&[format!("127.0.0.1:{port}")], &p).unwrap();
            assert!(c.nodes().is_empty());
            assert!(matches!(
                c.exists(&rp, &key),
                Err(aerospike_blocking::Error::NoNode(_))
            ));
            let ec = EmbeddedCluster::builder().ports(vec![port]).start().ok()?;
            Some((c, ec))
        })
        .expect("a free port for the cluster");
    converge(&c, &ec);
    // The node can be known one tend before its partition map: until then a
    // command has no node to go to.
    let start = Instant::now();
    while let Err(e) = c.put(&WritePolicy::default(), &key, &[Bin::new("a", 1)]) {
        assert!(matches!(e, aerospike_blocking::Error::NoNode(_)), "{e}");
        assert!(start.elapsed() < Duration::from_secs(10), "{e}");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(c.exists(&rp, &key).unwrap());
}

/// A query sent with a stale partition map (a partition moved away with
/// replication factor 1) gets a partition-done marker from the old node and
/// asks the new master again: no record is lost. Needs partition control, so
/// it runs on the embedded cluster only.
#[test]
fn moved_partitions_are_asked_again_of_their_new_master() {
    use aerospike_blocking::background::DataSet;
    use aerospike_blocking::Value;
    let cluster = EmbeddedCluster::builder()
        .nodes(3)
        .namespace("test", 1)
        .start()
        .unwrap();
    let client = Client::connect(&cluster.seeds(), &common::client_policy()).unwrap();
    let set = common::unique_set("q_move");
    for i in 0..60 {
        let key = Key::new("test", &set, i).unwrap();
        client
            .put(&WritePolicy::default(), &key, &[Bin::new("i", i)])
            .unwrap();
    }
    let moved: Vec<u16> = (0..10)
        .map(|i| Key::new("test", &set, i).unwrap().partition())
        .collect();
    let names: Vec<String> = cluster.nodes().iter().map(|n| n.name()).collect();
    // Put the partitions on node 0 and let the client learn it...
    for p in &moved {
        cluster.move_partition("test", *p, &names[0]).unwrap();
    }
    std::thread::sleep(Duration::from_millis(500));
    // ...then move them away and query at once, with the stale map.
    for p in &moved {
        cluster.move_partition("test", *p, &names[1]).unwrap();
    }
    let all = client.query(&DataSet::of("test", &set)).records().unwrap();
    let mut got: Vec<i64> = all
        .iter()
        .map(|r| r.bin("i").and_then(Value::as_int).unwrap())
        .collect();
    got.sort_unstable();
    assert_eq!(got, (0..60).collect::<Vec<_>>());
}

/// Every node down, then every node back: the same client finds them again
/// and works, without being rebuilt.
#[test]
fn all_nodes_down_then_back_the_client_recovers() {
    let ec = EmbeddedCluster::start(3).unwrap();
    let c = Client::connect(&ec.seeds(), &policy()).unwrap();
    converge(&c, &ec);
    let key = Key::new("test", "all_down", 1).unwrap();
    let (wp, rp) = patient_policies();
    c.put(&wp, &key, &[Bin::new("a", 1)]).unwrap();
    let names: Vec<String> = ec.nodes().iter().map(|n| n.name()).collect();
    for n in &names {
        ec.stop_node(n).unwrap();
    }
    let quick = ReadPolicy {
        max_retries: 0,
        total_timeout: Duration::from_millis(500),
        ..ReadPolicy::default()
    };
    assert!(c.get(&quick, &key, Bins::All).is_err(), "no node serves");
    // The client drops the dead nodes...
    converge(&c, &ec);
    assert!(c.nodes().is_empty());
    // ...and finds them again from its seeds.
    for n in &names {
        ec.restart_node(n).unwrap();
    }
    converge(&c, &ec);
    // The store outlives the nodes; the client reads and writes again.
    let rec = c.get(&rp, &key, Bins::All).unwrap().expect("the record");
    assert_eq!(
        rec.bin("a").and_then(aerospike_blocking::Value::as_int),
        Some(1)
    );
    c.put(&wp, &key, &[Bin::new("a", 2)]).unwrap();
}

#[test]
fn a_stream_goes_on_from_where_it_was_when_a_node_stops() {
    let ec = EmbeddedCluster::start(3).unwrap();
    let c = Client::connect(&ec.seeds(), &policy()).unwrap();
    let wp = WritePolicy::default();
    let pad = "x".repeat(1000);
    let n = 12_000i64;
    for i in 0..n {
        let key = Key::new("test", "streamstop", i).unwrap();
        c.put(
            &wp,
            &key,
            &[Bin::new("i", i), Bin::new("pad", pad.as_str())],
        )
        .unwrap();
    }
    let ds = aerospike_blocking::background::DataSet::of("test", "streamstop");
    let mut stream = c.query(&ds).buffer(1).stream().unwrap();
    let mut seen: Vec<i64> = Vec::new();
    let mut take = |stream: &mut aerospike_blocking::query::RecordStream, k: usize| {
        for r in stream.by_ref().take(k) {
            seen.push(
                r.unwrap()
                    .bin("i")
                    .and_then(aerospike_blocking::Value::as_int)
                    .unwrap(),
            );
        }
    };
    take(&mut stream, 300);
    // Every node's reader is part-way through a reply too large for the
    // socket buffers; stop one node (replication factor 2: its partitions
    // move to the others).
    ec.stop_node(&ec.nodes()[1].name()).unwrap();
    take(&mut stream, usize::MAX);
    assert!(stream.cursor().is_complete());
    let total = seen.len();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), total, "records repeated");
    let missing: Vec<i64> = (0..n).filter(|i| seen.binary_search(i).is_err()).collect();
    assert!(
        missing.is_empty(),
        "{} records missing, first {:?}",
        missing.len(),
        &missing[..missing.len().min(10)]
    );
}
