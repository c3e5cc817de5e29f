//! Cluster control (start, stop, restart, add, remove, move partitions),
//! fault injection and connection-level behaviour of the embedded cluster,
//! driven over raw sockets.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::collections::HashSet;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use aerospike_blocking::{Error, ResultCode};
use aerospike_embedded::{EmbeddedCluster, Fault, FaultScope, NodeHandle};
use support::wire::{self, Msg};

fn info1(addr: SocketAddr, command: &str) -> String {
    let mut s = wire::connect(addr);
    let reply = wire::info(&mut s, &[command]);
    assert_eq!(reply.len(), 1, "{command}: {reply:?}");
    reply[0].1.clone()
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("bad base64 {c}"),
    };
    let clean: Vec<u8> = s.bytes().filter(|c| *c != b'=').collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= u32::from(val(*c)) << (18 - 6 * i);
        }
        for i in 0..chunk.len() - 1 {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// Partitions of `test` a node holds as copy `copy` (0 = master), from its
/// `replicas` reply.
fn owned(node: &NodeHandle, copy: usize) -> HashSet<usize> {
    let v = info1(node.address(), "replicas");
    let parts: Vec<&str> = v.strip_prefix("test:").unwrap().split(',').collect();
    assert_eq!(parts[0], "0", "regime");
    let bits = base64_decode(parts[2 + copy]);
    assert_eq!(bits.len(), 512);
    (0..4096)
        .filter(|p| bits[p >> 3] & (0x80 >> (p & 7)) != 0)
        .collect()
}

/// Every partition has exactly one master among `nodes`.
fn assert_masters_partition_the_space(nodes: &[NodeHandle]) {
    let mut seen = vec![0u8; 4096];
    for n in nodes {
        for p in owned(n, 0) {
            seen[p] += 1;
        }
    }
    assert!(
        seen.iter().all(|c| *c == 1),
        "masters overlap or leave gaps"
    );
}

fn peer_ids(node: &NodeHandle) -> Vec<String> {
    let v = info1(node.address(), "peers-clear-std");
    let list = v.splitn(3, ',').nth(2).unwrap();
    list.split("[[")
        .chain(list.split("],["))
        .filter_map(|p| p.trim_start_matches('[').split(",,").next())
        .filter(|id| id.len() == 15)
        .map(str::to_owned)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect()
}

fn generation(node: &NodeHandle, what: &str) -> u64 {
    info1(node.address(), what).parse().unwrap()
}

fn put(addr: SocketAddr, n: u32, value: i64) -> Msg {
    let mut s = wire::connect(addr);
    let f = wire::exchange(
        &mut s,
        &wire::put_ints("test", "ctl", &wire::digest_for(n), &[("v", value)]).encode(),
    );
    Msg::from_frame(&f.unwrap())
}

fn get(addr: SocketAddr, n: u32) -> Msg {
    let mut s = wire::connect(addr);
    let f = wire::exchange(
        &mut s,
        &wire::get_all("test", "ctl", &wire::digest_for(n)).encode(),
    );
    Msg::from_frame(&f.unwrap())
}

fn value_of(m: &Msg) -> i64 {
    assert_eq!(m.rc, 0);
    i64::from_be_bytes(m.ops[0].data.clone().try_into().unwrap())
}

#[test]
fn three_nodes_share_data_and_split_partitions() {
    let cluster = EmbeddedCluster::start(3).unwrap();
    let nodes = cluster.nodes();
    assert_eq!(nodes.len(), 3);
    let names: HashSet<String> = nodes.iter().map(NodeHandle::name).collect();
    assert_eq!(names.len(), 3);
    for n in &nodes {
        assert_eq!(info1(n.address(), "node"), n.name());
        assert_eq!(
            info1(n.address(), "service-clear-std"),
            n.address().to_string()
        );
        let mut peers = peer_ids(n);
        peers.sort();
        let mut others: Vec<String> = names.iter().filter(|x| **x != n.name()).cloned().collect();
        others.sort();
        assert_eq!(peers, others);
        // Two copies: the replica bitmap never overlaps the master one.
        assert!(owned(n, 0).is_disjoint(&owned(n, 1)));
    }
    assert_masters_partition_the_space(&nodes);
    assert_eq!(cluster.seeds().len(), 3);
    assert_eq!(cluster.seed(), cluster.seeds()[0]);

    assert_eq!(put(nodes[0].address(), 1, 41).rc, 0);
    assert_eq!(value_of(&get(nodes[2].address(), 1)), 41);
    let stats = info1(nodes[1].address(), "namespace/test");
    assert!(stats.starts_with("ns_cluster_size=3;effective_replication_factor=2;objects="));
}

#[test]
fn add_stop_restart_remove() {
    let cluster = EmbeddedCluster::start(2).unwrap();
    let first = cluster.nodes()[0].clone();
    let pgen = generation(&first, "partition-generation");
    let peers_gen = generation(&first, "peers-generation");

    let added = cluster.add_node().unwrap();
    assert_eq!(cluster.nodes().len(), 3);
    assert_eq!(info1(added.address(), "node"), added.name());
    assert!(generation(&first, "partition-generation") > pgen);
    assert!(generation(&first, "peers-generation") > peers_gen);
    assert_eq!(peer_ids(&first).len(), 2);
    assert_masters_partition_the_space(&cluster.nodes());
    assert_eq!(put(added.address(), 7, 70).rc, 0);

    // Stop: the port refuses connections and the others forget the node.
    let stopped = cluster.nodes()[1].clone();
    cluster.stop_node(&stopped.name()).unwrap();
    assert!(TcpStream::connect(stopped.address()).is_err());
    assert_eq!(cluster.nodes().len(), 2);
    assert!(!peer_ids(&first).contains(&stopped.name()));
    assert_masters_partition_the_space(&cluster.nodes());
    assert!(matches!(
        cluster.stop_node(&stopped.name()),
        Err(Error::InvalidArgument(_))
    ));

    // Restart: same name and port, data still there (shared store).
    let back = cluster.restart_node(&stopped.name()).unwrap();
    assert_eq!(
        (back.name(), back.address()),
        (stopped.name(), stopped.address())
    );
    assert_eq!(info1(back.address(), "node"), stopped.name());
    assert_eq!(value_of(&get(back.address(), 7)), 70);
    assert!(peer_ids(&first).contains(&stopped.name()));
    assert_masters_partition_the_space(&cluster.nodes());

    // Remove: gone for good.
    cluster.remove_node(&added.name()).unwrap();
    assert!(TcpStream::connect(added.address()).is_err());
    assert_eq!(cluster.nodes().len(), 2);
    assert!(cluster.restart_node(&added.name()).is_err());
    assert!(cluster.remove_node("NOSUCHNODE00000").is_err());
    assert_masters_partition_the_space(&cluster.nodes());

    // A node added later gets a new id.
    let newer = cluster.add_node().unwrap();
    assert!(![first.name(), stopped.name(), added.name()].contains(&newer.name()));
}

#[test]
fn restart_of_a_running_node_keeps_port() {
    // Port 0: the node takes any free port (no race with parallel tests), and
    // a restart must come back on that same port.
    let cluster = EmbeddedCluster::builder()
        .nodes(1)
        .ports(vec![0])
        .start()
        .unwrap();
    let node = cluster.nodes()[0].clone();
    let port = node.address().port();
    assert_ne!(port, 0);
    let mut open = wire::connect(node.address());
    let again = cluster.restart_node(&node.name()).unwrap();
    assert_eq!(again.address().port(), port);
    // The old connection was closed by the restart.
    let mut buf = [0u8; 8];
    assert!(matches!(open.read(&mut buf), Ok(0) | Err(_)));
    assert_eq!(info1(again.address(), "node"), node.name());
}

#[test]
fn move_partition_changes_the_master() {
    let cluster = EmbeddedCluster::start(3).unwrap();
    let nodes = cluster.nodes();
    let pid = (0..4096usize)
        .find(|p| !owned(&nodes[2], 0).contains(p))
        .unwrap();
    let before = generation(&nodes[0], "partition-generation");
    cluster
        .move_partition("test", pid as u16, &nodes[2].name())
        .unwrap();
    assert!(owned(&nodes[2], 0).contains(&pid));
    assert!(generation(&nodes[0], "partition-generation") > before);
    assert_masters_partition_the_space(&nodes);
    // The new master serves writes of that partition; the old one proxies.
    let old = (0..2)
        .find(|i| owned(&nodes[*i], 1).contains(&pid))
        .unwrap();
    assert_eq!(put(nodes[2].address(), pid as u32, 1).rc, 0);
    assert_eq!(stat(&nodes[2], "client_write_success"), 1);
    assert_eq!(put(nodes[old].address(), pid as u32, 2).rc, 0);
    assert_eq!(stat(&nodes[old], "client_proxy_complete"), 1);
    assert!(cluster.move_partition("nope", 1, &nodes[0].name()).is_err());
    assert!(cluster
        .move_partition("test", 4096, &nodes[0].name())
        .is_err());
    assert!(cluster
        .move_partition("test", 1, "NOSUCHNODE00000")
        .is_err());
}

#[test]
fn builder_settings_and_errors() {
    let cluster = EmbeddedCluster::builder()
        .nodes(2)
        .namespace("a", 1)
        .namespace("b", 3)
        .cluster_name("ctl")
        .build("8.1.2.0")
        .default_ttl(100)
        .start()
        .unwrap();
    let addr = cluster.nodes()[0].address();
    assert_eq!(info1(addr, "namespaces"), "a;b");
    assert_eq!(info1(addr, "cluster-name"), "ctl");
    let replicas = info1(addr, "replicas");
    let per_ns: Vec<&str> = replicas.split(';').collect();
    assert!(
        per_ns[0].starts_with("a:0,1,") && per_ns[1].starts_with("b:0,2,"),
        "{replicas}"
    );
    let ns_b = info1(addr, "namespace/b");
    assert!(ns_b.contains(";default-ttl=100;") && ns_b.contains(";replication-factor=3;"));

    assert!(matches!(
        EmbeddedCluster::builder().nodes(0).start(),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        EmbeddedCluster::builder()
            .namespace("x", 1)
            .namespace("x", 2)
            .start(),
        Err(Error::InvalidArgument(_))
    ));
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    assert!(matches!(
        EmbeddedCluster::builder().ports(vec![port]).start(),
        Err(Error::Io { .. })
    ));
}

#[test]
fn expired_records_are_gone() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let addr = cluster.seed().parse().unwrap();
    let mut w = wire::put_ints("test", "ctl", &wire::digest_for(3), &[("v", 1)]);
    w.ttl = 1;
    let mut s = wire::connect(addr);
    let reply = Msg::from_frame(&wire::exchange(&mut s, &w.encode()).unwrap());
    assert_eq!(reply.rc, 0);
    assert!(reply.ttl > 0);
    assert_eq!(get(addr, 3).rc, 0);
    std::thread::sleep(Duration::from_millis(2100));
    assert_eq!(get(addr, 3).rc, ResultCode::KEY_NOT_FOUND.code());
}

#[test]
fn protocol_errors() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let addr = cluster.nodes()[0].address();
    let mut s = wire::connect(addr);
    // Truncated message body: PARAMETER_ERROR, connection still usable.
    let bad = wire::frame(wire::TYPE_MESSAGE, &[22, 1, 2, 3]);
    let reply = Msg::from_frame(&wire::exchange(&mut s, &bad).unwrap());
    assert_eq!(reply.rc, ResultCode::PARAMETER_ERROR.code());
    assert_eq!(
        wire::info(&mut s, &["node"])[0].1,
        cluster.nodes()[0].name()
    );
    // Unknown namespace, short digest.
    let unknown = wire::get_all("nope", "s", &wire::digest_for(1));
    let reply = Msg::from_frame(&wire::exchange(&mut s, &unknown.encode()).unwrap());
    assert_eq!(reply.rc, ResultCode::INVALID_NAMESPACE.code());
    let short = wire::get_all("test", "s", &[1, 2, 3]);
    let reply = Msg::from_frame(&wire::exchange(&mut s, &short.encode()).unwrap());
    assert_eq!(reply.rc, ResultCode::PARAMETER_ERROR.code());
    // Compressed frames are an Enterprise feature.
    let compressed = wire::frame(4, &[0, 0, 0, 0, 0, 0, 0, 1, 0x78]);
    let reply = Msg::from_frame(&wire::exchange(&mut s, &compressed).unwrap());
    assert_eq!(reply.rc, ResultCode::ENTERPRISE_ONLY.code());
    // A batch of no keys: one LAST message with a parameter error, as the
    // server's batch.c answers it.
    let batch = Msg {
        info1: 1 | 8,
        fields: vec![(41, vec![0, 0, 0, 0, 0])],
        ..Msg::default()
    };
    let reply = Msg::from_frame(&wire::exchange(&mut s, &batch.encode()).unwrap());
    assert_eq!(
        (reply.rc, reply.info3),
        (ResultCode::PARAMETER_ERROR.code(), 1)
    );
    // Two requests in one write are answered in order.
    let mut two = wire::info_request(&["node"]);
    two.extend(wire::info_request(&["build"]));
    s.write_all(&two).unwrap();
    assert_eq!(
        wire::parse_info(&wire::read_frame(&mut s).unwrap()[8..])[0].0,
        "node"
    );
    assert_eq!(
        wire::parse_info(&wire::read_frame(&mut s).unwrap()[8..])[0].0,
        "build"
    );
    // A wrong proto version closes the connection.
    let mut v3 = wire::info_request(&["node"]);
    v3[0] = 3;
    s.write_all(&v3).unwrap();
    let mut buf = [0u8; 8];
    assert!(matches!(s.read(&mut buf), Ok(0) | Err(_)));
}

fn timed_get(addr: SocketAddr) -> (std::io::Result<Vec<u8>>, Duration) {
    let mut s = wire::connect(addr);
    s.set_read_timeout(Some(Duration::from_millis(400)))
        .unwrap();
    let start = Instant::now();
    let r = wire::exchange(
        &mut s,
        &wire::get_all("test", "ctl", &wire::digest_for(9)).encode(),
    );
    (r, start.elapsed())
}

#[test]
fn faults_do_what_they_say() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let node = cluster.nodes()[0].clone();
    let addr = node.address();
    assert_eq!(put(addr, 9, 1).rc, 0);

    node.set_fault(Fault::Delay(Duration::from_millis(150)));
    let (r, took) = timed_get(addr);
    assert_eq!(Msg::from_frame(&r.unwrap()).rc, 0);
    assert!(took >= Duration::from_millis(150), "{took:?}");
    // Message faults leave info alone.
    let start = Instant::now();
    assert_eq!(info1(addr, "node"), node.name());
    assert!(start.elapsed() < Duration::from_millis(150));

    node.set_fault(Fault::ResultCode(ResultCode::DEVICE_OVERLOAD));
    let reply = Msg::from_frame(&timed_get(addr).0.unwrap());
    assert_eq!(reply.rc, ResultCode::DEVICE_OVERLOAD.code());
    assert!(reply.ops.is_empty());

    node.set_fault(Fault::Stall);
    let err = timed_get(addr).0.unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{err}"
    );

    node.set_fault(Fault::DropConnection);
    let err = timed_get(addr).0.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof, "{err}");

    node.set_fault(Fault::CloseMidFrame);
    let mut s = wire::connect(addr);
    s.write_all(&wire::get_all("test", "ctl", &wire::digest_for(9)).encode())
        .unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(!got.is_empty(), "part of the frame arrives");
    let mut len = [0u8; 8];
    if got.len() >= 8 {
        len[2..].copy_from_slice(&got[2..8]);
    }
    assert!(got.len() < 8 || (got.len() as u64) < 8 + u64::from_be_bytes(len));

    node.set_fault(Fault::Garbage);
    let mut s = wire::connect(addr);
    s.write_all(&wire::get_all("test", "ctl", &wire::digest_for(9)).encode())
        .unwrap();
    let mut first = [0u8; 1];
    s.read_exact(&mut first).unwrap();
    assert_ne!(first[0], 2, "not a proto version 2 frame");

    // Counted faults, scoped to info.
    node.clear_faults();
    node.set_fault_for(
        FaultScope::Info,
        Fault::ResultCode(ResultCode::TIMEOUT),
        Some(1),
    );
    assert_eq!(info1(addr, "node"), "ERROR:9:injected fault");
    assert_eq!(info1(addr, "node"), node.name());
    assert_eq!(Msg::from_frame(&timed_get(addr).0.unwrap()).rc, 0);

    node.set_fault_for(FaultScope::All, Fault::DropConnection, Some(2));
    assert!(timed_get(addr).0.is_err());
    let mut s = wire::connect(addr);
    assert!(wire::exchange(&mut s, &wire::info_request(&["node"])).is_err());
    assert_eq!(info1(addr, "node"), node.name());

    node.set_fault(Fault::Stall);
    node.clear_faults();
    assert_eq!(value_of(&Msg::from_frame(&timed_get(addr).0.unwrap())), 1);
}

/// Threads of this process whose name starts with `prefix` (Linux only).
#[cfg(target_os = "linux")]
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("comm")).ok())
        .filter(|c| c.starts_with(prefix))
        .count()
}

#[test]
#[cfg(target_os = "linux")]
fn shutdown_joins_every_thread() {
    let cluster = EmbeddedCluster::start(2).unwrap();
    let ports: Vec<u16> = cluster.nodes().iter().map(|n| n.address().port()).collect();
    // One answered request on each held connection: its connection thread
    // is then running (a connection merely opened may not be accepted yet
    // on a loaded machine).
    let _held: Vec<TcpStream> = cluster
        .nodes()
        .iter()
        .map(|n| {
            let mut s = wire::connect(n.address());
            assert!(!wire::info(&mut s, &["node"]).is_empty());
            s
        })
        .collect();
    let count = |ports: &[u16]| -> usize {
        ports
            .iter()
            .map(|p| threads_named(&format!("emb{p}-")))
            .sum()
    };
    assert!(count(&ports) >= 4, "accept + connection threads run");
    let seed = cluster.seed();
    cluster.shutdown();
    assert_eq!(count(&ports), 0, "threads left after shutdown");
    assert!(TcpStream::connect(seed).is_err());
}

/// A counter of `namespace/test` on `node`.
fn stat(node: &NodeHandle, key: &str) -> u64 {
    let v = info1(node.address(), "namespace/test");
    v.split(';')
        .find_map(|p| p.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}"))
        .parse()
        .unwrap()
}

#[test]
fn node_counters_show_where_requests_went() {
    let cluster = EmbeddedCluster::start(3).unwrap();
    let nodes = cluster.nodes();
    let masters: Vec<HashSet<usize>> = nodes.iter().map(|n| owned(n, 0)).collect();
    let replicas: Vec<HashSet<usize>> = nodes.iter().map(|n| owned(n, 1)).collect();
    // digest_for(n) lands in partition n for n < 4096.
    for n in 0..300u32 {
        let m = masters
            .iter()
            .position(|s| s.contains(&(n as usize)))
            .unwrap();
        assert_eq!(put(nodes[m].address(), n, i64::from(n)).rc, 0);
    }
    let total = |key: &str| nodes.iter().map(|n| stat(n, key)).sum::<u64>();
    assert_eq!(total("client_write_success"), 300);
    assert_eq!(total("client_proxy_complete"), 0);
    for (i, n) in nodes.iter().enumerate() {
        let mine = (0..300).filter(|p| masters[i].contains(p)).count() as u64;
        assert_eq!(stat(n, "client_write_success"), mine);
    }

    // Reads may go to a replica; a node with no copy proxies.
    let pid = 5usize;
    let replica = replicas.iter().position(|s| s.contains(&pid)).unwrap();
    let outsider = (0..3)
        .find(|i| !masters[*i].contains(&pid) && !replicas[*i].contains(&pid))
        .unwrap();
    assert_eq!(value_of(&get(nodes[replica].address(), pid as u32)), 5);
    assert_eq!(stat(&nodes[replica], "client_read_success"), 1);
    assert_eq!(value_of(&get(nodes[outsider].address(), pid as u32)), 5);
    assert_eq!(stat(&nodes[outsider], "client_proxy_complete"), 1);
    let empty = (300..4096).find(|p| replicas[replica].contains(p)).unwrap();
    assert_eq!(get(nodes[replica].address(), empty as u32).rc, 2);
    assert_eq!(stat(&nodes[replica], "client_read_not_found"), 1);
    assert_eq!(total("objects"), 600, "300 records, 2 copies each");
    assert_eq!(total("master_objects"), 300);
}

#[test]
fn record_udf_over_the_wire() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let addr = cluster.nodes()[0].address();
    let source = "function add(rec, bin, n)\n  rec[bin] = (rec[bin] or 0) + n\n  \
                  if aerospike:exists(rec) then aerospike:update(rec) else aerospike:create(rec) end\n  \
                  return rec[bin]\nend\nfunction boom(rec)\n  error('boom')\nend\n";
    let content = wire::base64(source.as_bytes());
    let put = format!(
        "udf-put:filename=ctl.lua;content={content};content-len={};udf-type=LUA;",
        content.len()
    );
    assert_eq!(info1(addr, &put), "ok");
    let call = |function: &str, args: &[u8]| {
        let m = Msg {
            info2: 1,
            fields: vec![
                (0, b"test".to_vec()),
                (1, b"ctl".to_vec()),
                (4, wire::digest_for(77)),
                (30, b"ctl".to_vec()),
                (31, function.as_bytes().to_vec()),
                (32, args.to_vec()),
            ],
            ..Msg::default()
        };
        let mut s = wire::connect(addr);
        Msg::from_frame(&wire::exchange(&mut s, &m.encode()).unwrap())
    };
    // ["v", 5] in Aerospike msgpack (strings carry a type byte).
    let args = [0x92, 0xa2, 0x03, b'v', 0x05];
    for expected in [5i64, 10] {
        let r = call("add", &args);
        assert_eq!(r.rc, 0);
        assert_eq!((r.ops[0].name.as_str(), r.ops[0].particle), ("SUCCESS", 1));
        assert_eq!(r.ops[0].data, expected.to_be_bytes());
    }
    assert_eq!(value_of(&get_set(addr, "ctl", 77)), 10);
    let r = call("boom", &[0x90]);
    assert_eq!(r.rc, ResultCode::UDF_BAD_RESPONSE.code());
    assert_eq!(r.ops[0].name, "FAILURE");
    assert!(String::from_utf8_lossy(&r.ops[0].data).contains("boom"));
    let node = &cluster.nodes()[0];
    assert_eq!(stat(node, "client_udf_complete"), 2);
    assert_eq!(stat(node, "client_udf_error"), 1);
}

fn get_set(addr: SocketAddr, set: &str, n: u32) -> Msg {
    let mut s = wire::connect(addr);
    let f = wire::exchange(
        &mut s,
        &wire::get_all("test", set, &wire::digest_for(n)).encode(),
    );
    Msg::from_frame(&f.unwrap())
}

#[test]
fn stored_keys_and_sets() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let addr = cluster.nodes()[0].address();
    let mut s = wire::connect(addr);
    let with_key = |key: &[u8], set: &str| {
        let mut m = wire::put_ints("test", set, &wire::digest_for(55), &[("v", 1)]);
        m.fields.push((2, key.to_vec()));
        m
    };
    let mut send = |m: Msg| Msg::from_frame(&wire::exchange(&mut s, &m.encode()).unwrap());
    assert_eq!(send(with_key(b"\x03k1", "ks")).rc, 0);
    // The same key again, or no key: fine. Another key on the same digest: mismatch.
    assert_eq!(send(with_key(b"\x03k1", "ks")).rc, 0);
    assert_eq!(
        send(wire::put_ints(
            "test",
            "ks",
            &wire::digest_for(55),
            &[("v", 2)]
        ))
        .rc,
        0
    );
    assert_eq!(
        send(with_key(b"\x03k2", "ks")).rc,
        ResultCode::KEY_MISMATCH.code()
    );
    // Writing the record under another set name is refused.
    let other = wire::put_ints("test", "other", &wire::digest_for(55), &[("v", 3)]);
    assert_eq!(send(other).rc, ResultCode::PARAMETER_ERROR.code());
    let read = send(wire::get_all("test", "ks", &wire::digest_for(55)));
    assert_eq!((read.generation, value_of(&read)), (3, 2));
    assert!(
        read.fields.is_empty(),
        "the stored key is not sent back on reads"
    );
    // Reads check the key too, and failed reads report generation 0.
    let mut wrong = wire::get_all("test", "ks", &wire::digest_for(55));
    wrong.fields.push((2, b"\x03k2".to_vec()));
    let reply = send(wrong);
    assert_eq!(
        (reply.rc, reply.generation),
        (ResultCode::KEY_MISMATCH.code(), 0)
    );
}

#[test]
fn random_bytes_never_break_a_node() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let node = cluster.nodes()[0].clone();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..300 {
        let len = (next() % 96) as usize;
        let mut body: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 3 == 0 && body.len() >= 22 {
            // Mostly valid message header, random counts and contents.
            body[0] = 22;
        }
        let kind = [1u8, 3, 3, 4][round % 4];
        let mut s = wire::connect(node.address());
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s.write_all(&wire::frame(kind, &body)).unwrap();
        // Info and compressed requests are always answered; messages get an
        // answer or nothing, and a fresh connection is served either way.
        let reply = wire::read_frame(&mut s);
        if kind != 3 {
            assert!(reply.is_ok(), "round {round}: no reply to type {kind}");
        }
    }
    assert_eq!(info1(node.address(), "node"), node.name());
}

#[test]
fn handles_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<EmbeddedCluster>();
    send_sync::<NodeHandle>();
    send_sync::<Fault>();
    let cluster = std::sync::Arc::new(EmbeddedCluster::start(2).unwrap());
    let workers: Vec<_> = (0..4u32)
        .map(|t| {
            let cluster = cluster.clone();
            std::thread::spawn(move || {
                let nodes = cluster.nodes();
                for i in 0..50u32 {
                    let n = t * 1000 + i;
                    let addr = nodes[(i % 2) as usize].address();
                    assert_eq!(put(addr, n, i64::from(n)).rc, 0);
                    assert_eq!(value_of(&get(addr, n)), i64::from(n));
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

#[test]
fn statistics_count_connections() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let addr = cluster.nodes()[0].address();
    let stats = |s: &mut TcpStream| -> (u64, u64) {
        let v = wire::info(s, &["statistics"]).remove(0).1;
        let get = |k: &str| -> u64 {
            v.split(';')
                .find_map(|p| p.strip_prefix(&format!("{k}=")))
                .unwrap()
                .parse()
                .unwrap()
        };
        (get("client_connections"), get("client_connections_opened"))
    };
    let mut probe = wire::connect(addr);
    let (open_before, opened_before) = stats(&mut probe);
    assert!(open_before >= 1);
    let extra: Vec<TcpStream> = (0..3).map(|_| wire::connect(addr)).collect();
    // Each extra connection is served once it sends something.
    for mut s in extra.iter().map(|s| s.try_clone().unwrap()) {
        assert!(!wire::info(&mut s, &["node"]).is_empty());
    }
    assert_eq!(stats(&mut probe), (open_before + 3, opened_before + 3));
    drop(extra);
    let deadline = Instant::now() + Duration::from_secs(2);
    while stats(&mut probe).0 != open_before {
        assert!(
            Instant::now() < deadline,
            "closed connections still counted"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
