//! Cluster-level behaviour that holds on any cluster (embedded or real):
//! connecting, node listing, info, truncate, many records, close.

mod common;

use std::time::Duration;

use aerospike_blocking::{Bin, Bins, Client, ClientPolicy, Error, Key, ReadPolicy, WritePolicy};
use common::{unique_set, TestEnv, NAMESPACE};

#[test]
fn connect_lists_nodes_and_answers_info() {
    let env = TestEnv::new();
    let c = &env.client;
    let nodes = c.nodes();
    assert!(!nodes.is_empty());
    assert!(c.is_connected());
    for n in &nodes {
        assert!(!n.name.is_empty());
        assert!(n.build.split('.').count() >= 3, "build {}", n.build);
        let pairs = c.info_on(&n.name, &["node", "build"]).unwrap();
        assert_eq!(pairs[0], ("node".to_string(), n.name.clone()));
        assert_eq!(pairs[1].0, "build");
    }
    assert!(c
        .info("namespaces")
        .unwrap()
        .split(';')
        .any(|ns| ns == NAMESPACE));
    match c.info("no-such-command") {
        Err(Error::Info { code, .. }) => assert_eq!(code.code(), 4),
        other => panic!("expected an info error, got {other:?}"),
    }
    assert!(matches!(
        c.info_on("NO_SUCH_NODE", &["node"]),
        Err(Error::NoNode(_))
    ));
}

#[test]
fn unreachable_seed_fails_to_connect() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    let p = ClientPolicy {
        connect_timeout: Duration::from_millis(200),
        ..ClientPolicy::default()
    };
    assert!(matches!(
        Client::connect(&[addr], &p),
        Err(Error::NoNode(_))
    ));
    assert!(matches!(
        Client::connect(&[] as &[&str], &p),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn a_seed_that_never_answers_does_not_stop_the_others() {
    // Accepts connections (the kernel's backlog) but never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let env = TestEnv::new();
    let mut seeds = vec![silent.local_addr().unwrap().to_string()];
    seeds.extend(env.seeds.iter().cloned());
    let p = ClientPolicy {
        info_timeout: Duration::from_millis(300),
        ..ClientPolicy::default()
    };
    let start = std::time::Instant::now();
    let c = Client::connect(&seeds, &p).unwrap();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(c.nodes().len(), env.client.nodes().len());
    let key = Key::new(NAMESPACE, &unique_set("silent_seed"), 1).unwrap();
    c.put(&WritePolicy::default(), &key, &[Bin::new("a", 1)])
        .unwrap();
    assert!(c.exists(&ReadPolicy::default(), &key).unwrap());
}

#[test]
fn ten_thousand_records_round_trip() {
    let env = TestEnv::new();
    let c = &env.client;
    let set = unique_set("many");
    let wp = WritePolicy::default();
    let rp = ReadPolicy::default();
    for i in 0..10_000i64 {
        let key = Key::new(NAMESPACE, &set, i).unwrap();
        c.put(
            &wp,
            &key,
            &[Bin::new("i", i), Bin::new("s", format!("v{i}"))],
        )
        .unwrap();
    }
    for i in 0..10_000i64 {
        let key = Key::new(NAMESPACE, &set, i).unwrap();
        let r = c.get(&rp, &key, Bins::All).unwrap().expect("written");
        assert_eq!(r.bin("i").and_then(|v| v.as_int()), Some(i));
        assert_eq!(
            r.bin("s").and_then(|v| v.as_str()),
            Some(format!("v{i}").as_str())
        );
    }
    c.truncate(NAMESPACE, &set, None).unwrap();
    let key = Key::new(NAMESPACE, &set, 1).unwrap();
    let start = std::time::Instant::now();
    while c.exists(&rp, &key).unwrap() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "truncate never took effect"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn threads_share_one_client() {
    let env = TestEnv::new();
    let set = unique_set("threads");
    std::thread::scope(|s| {
        for t in 0..4i64 {
            let c = env.client.clone();
            let set = set.clone();
            s.spawn(move || {
                for i in 0..250i64 {
                    let key = Key::new(NAMESPACE, &set, t * 1000 + i).unwrap();
                    c.put(&WritePolicy::default(), &key, &[Bin::new("t", t)])
                        .unwrap();
                    let r = c
                        .get(&ReadPolicy::default(), &key, Bins::All)
                        .unwrap()
                        .unwrap();
                    assert_eq!(r.bin("t").and_then(|v| v.as_int()), Some(t));
                }
            });
        }
    });
}

#[test]
fn close_stops_the_client() {
    let env = TestEnv::new();
    let c = env.client.clone();
    env.client.close();
    let key = Key::new(NAMESPACE, "closed", 1).unwrap();
    assert!(matches!(
        c.exists(&ReadPolicy::default(), &key),
        Err(Error::Closed)
    ));
    assert!(c.nodes().is_empty());
    c.close(); // twice is fine
}

#[test]
fn secondary_index_create_and_drop() {
    use aerospike_blocking::IndexType;
    let env = TestEnv::new();
    let c = &env.client;
    let set = unique_set("sidx");
    let name = format!("idx_{set}");
    c.put(
        &WritePolicy::default(),
        &Key::new(NAMESPACE, &set, 1).unwrap(),
        &[Bin::new("age", 30)],
    )
    .unwrap();
    c.create_index(NAMESPACE, &set, &name, "age", IndexType::Numeric)
        .unwrap();
    // Every node lists it, readable.
    for n in c.nodes() {
        let list = c
            .info_on(&n.name, &[&format!("sindex-list:ns={NAMESPACE}")])
            .unwrap();
        assert!(
            list[0]
                .1
                .split(';')
                .any(|e| e.contains(&format!("indexname={name}:")) && e.contains("state=RW")),
            "{list:?}"
        );
    }
    let exists = format!("sindex-exists:ns={NAMESPACE};indexname={name}");
    assert_eq!(c.info(&exists).unwrap(), "true");
    c.drop_index(NAMESPACE, &set, &name).unwrap();
    assert_eq!(c.info(&exists).unwrap(), "false");
    // Dropping a missing index succeeds, as on the server.
    c.drop_index(NAMESPACE, &set, &name).unwrap();
    let sname = format!("sidx_{set}");
    c.create_index(NAMESPACE, &set, &sname, "name", IndexType::String)
        .unwrap();
    c.drop_index(NAMESPACE, &set, &sname).unwrap();
}
