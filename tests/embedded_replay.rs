//! Replays the requests captured from a real Aerospike CE 8.1.2.0 server
//! against embedded nodes and compares the replies with the recorded ones.
//!
//! Covered here: info requests (UDF module commands included), single-record
//! messages (those with a digest field), compressed frames and a bad proto
//! version. Scans, queries and background-job starts, and the info commands
//! of jobs and secondary indexes (`query-*`, `sindex-*`), belong to the tests
//! of those features and are skipped.
//!
//! Values that differ from run to run (node ids, ports, generations, void
//! times, cluster keys) are compared by shape; everything else exactly.
#![cfg(feature = "embedded")]

mod support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{SystemTime, UNIX_EPOCH};

use aerospike_blocking::embedded::EmbeddedCluster;
use support::fixtures::{self, Exchange, Fixture};
use support::wire::{self, Msg};

/// Seconds between the Unix epoch and 2010-01-01, the epoch of void times.
const CITRUSLEAF_EPOCH: u64 = 1_262_304_000;

fn now_citrusleaf() -> i64 {
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    (unix - CITRUSLEAF_EPOCH) as i64
}

/// True for info commands another feature's tests replay.
fn hooked(command: &str) -> bool {
    command.starts_with("query-") || command.starts_with("sindex-")
}

/// What this file covers of a request.
#[derive(Debug, PartialEq)]
enum Kind {
    Info,
    Record,
    Compressed,
    BadVersion,
    Skip,
}

fn classify(x: &Exchange) -> Kind {
    let f = &x.request;
    if f.version() != 2 {
        return Kind::BadVersion;
    }
    match f.kind() {
        wire::TYPE_INFO => {
            let text = String::from_utf8_lossy(f.body());
            if text.split('\n').any(hooked) {
                Kind::Skip
            } else {
                Kind::Info
            }
        }
        4 => Kind::Compressed,
        wire::TYPE_MESSAGE => {
            let m = Msg::decode_all(f.body());
            if m.len() == 1 && m[0].fields.iter().any(|(t, _)| *t == 4) {
                Kind::Record
            } else {
                Kind::Skip
            }
        }
        _ => Kind::Skip,
    }
}

fn is_node_id(s: &str) -> bool {
    s.len() == 15
        && s.chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
}

fn is_cluster_key(s: &str) -> bool {
    s.len() == 12
        && s.chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c))
}

/// `gen,port,[[ID,,[127.0.0.1:PORT]],...]` → number of peers.
fn peers_shape(v: &str, ctx: &str) -> usize {
    let mut parts = v.splitn(3, ',');
    let generation = parts.next().unwrap();
    assert!(
        generation.parse::<u64>().is_ok(),
        "{ctx}: generation in {v}"
    );
    assert_eq!(parts.next(), Some("3000"), "{ctx}: default port in {v}");
    let list = parts.next().unwrap();
    let inner = list
        .strip_prefix('[')
        .and_then(|l| l.strip_suffix(']'))
        .unwrap_or_else(|| panic!("{ctx}: peer list {list}"));
    if inner.is_empty() {
        return 0;
    }
    let peers: Vec<&str> = inner.split("],[").collect();
    for p in &peers {
        let p = p.trim_start_matches('[').trim_end_matches(']');
        let (id, rest) = p
            .split_once(",,[")
            .unwrap_or_else(|| panic!("{ctx}: peer {p}"));
        assert!(is_node_id(id), "{ctx}: peer id {id}");
        let (host, port) = rest.split_once(':').unwrap();
        assert_eq!(host, "127.0.0.1", "{ctx}");
        assert!(port.parse::<u16>().is_ok(), "{ctx}: port {port}");
    }
    peers.len()
}

/// Compares a `replicas`-style value: namespaces, numbers and bitmap count
/// and sizes equal; bitmaps equal when the expected ones are all ones or
/// all zeros (a single node), otherwise only valid base64 of 4096 bits.
fn replicas_shape(exp: &str, got: &str, ctx: &str) {
    let e: Vec<&str> = exp.split(';').collect();
    let g: Vec<&str> = got.split(';').collect();
    assert_eq!(e.len(), g.len(), "{ctx}: namespaces {exp} / {got}");
    for (e, g) in e.iter().zip(&g) {
        let (en, ev) = e.split_once(':').unwrap();
        let (gn, gv) = g.split_once(':').unwrap();
        assert_eq!(en, gn, "{ctx}");
        let ep: Vec<&str> = ev.split(',').collect();
        let gp: Vec<&str> = gv.split(',').collect();
        assert_eq!(ep.len(), gp.len(), "{ctx}: parts");
        for (a, b) in ep.iter().zip(&gp) {
            if a.len() < 100 {
                assert_eq!(a, b, "{ctx}: number");
            } else {
                assert_eq!(a.len(), b.len(), "{ctx}: bitmap size");
                let uniform = a.trim_end_matches('=').chars().skip(1).all(|c| c == '/')
                    || a.trim_end_matches('=').chars().all(|c| c == 'A');
                if uniform {
                    assert_eq!(a, b, "{ctx}: bitmap");
                }
            }
        }
    }
}

/// Keys whose values change between runs or machines.
const VARYING: &[&str] = &[
    "current_time",
    "cluster_key",
    "cluster_generation",
    "cluster_principal",
    "paxos_principal",
    "uptime",
    "time_since_rebalance",
];

fn pairs_equal(exp: &str, got: &str, ctx: &str, compare_values: bool) {
    let e: Vec<(&str, &str)> = exp
        .split(';')
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    let g: Vec<(&str, &str)> = got
        .split(';')
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    let ek: Vec<&str> = e.iter().map(|p| p.0).collect();
    let gk: Vec<&str> = g.iter().map(|p| p.0).collect();
    assert_eq!(ek, gk, "{ctx}: keys");
    if compare_values {
        for ((k, a), (_, b)) in e.iter().zip(&g) {
            if !VARYING.contains(k) {
                assert_eq!(a, b, "{ctx}: value of {k}");
            }
        }
    }
}

fn check_info_value(command: &str, exp: &str, got: &str, ctx: &str) {
    let name = command.split(':').next().unwrap();
    let ctx = format!("{ctx} [{command}]");
    match name {
        "node" => assert!(is_node_id(got), "{ctx}: {got}"),
        "partition-generation" | "peers-generation" | "rebalance-generation" => {
            assert!(got.parse::<u64>().is_ok(), "{ctx}: {got}");
        }
        "peers-clear-std" => assert_eq!(
            peers_shape(exp, &ctx),
            peers_shape(got, &ctx),
            "{ctx}: peer count"
        ),
        "service-clear-std" | "services" | "services-alumni" => {
            let addrs = |v: &str| -> usize {
                v.split(';')
                    .filter(|a| !a.is_empty())
                    .inspect(|a| {
                        let port = a.strip_prefix("127.0.0.1:");
                        assert!(port.is_some_and(|p| p.parse::<u16>().is_ok()), "{ctx}: {a}");
                    })
                    .count()
            };
            assert_eq!(addrs(exp), addrs(got), "{ctx}: {got}");
        }
        "replicas" | "replicas-all" | "replicas-master" => replicas_shape(exp, got, &ctx),
        "cluster-name" => assert!(!got.is_empty(), "{ctx}"),
        "cluster-stable" => assert!(is_cluster_key(got), "{ctx}: {got}"),
        "statistics" => {
            pairs_equal(exp, got, &ctx, false);
            let size = |v: &str| {
                v.split(';')
                    .find_map(|p| p.strip_prefix("cluster_size="))
                    .map(str::to_owned)
            };
            assert_eq!(size(exp), size(got), "{ctx}: cluster_size");
        }
        n if n.starts_with("namespace/") => pairs_equal(exp, got, &ctx, true),
        _ => assert_eq!(exp, got, "{ctx}"),
    }
}

fn check_info(exp: &[u8], got: &[u8], ctx: &str) {
    let e = wire::parse_info(exp);
    let g = wire::parse_info(got);
    let ek: Vec<&String> = e.iter().map(|p| &p.0).collect();
    let gk: Vec<&String> = g.iter().map(|p| &p.0).collect();
    assert_eq!(ek, gk, "{ctx}: commands");
    for ((k, ev), (_, gv)) in e.iter().zip(&g) {
        check_info_value(k, ev, gv, ctx);
    }
    assert_eq!(exp.is_empty(), got.is_empty(), "{ctx}: empty body");
}

/// Void-time bookkeeping: the capture's clock is estimated from the first
/// write that asked for a TTL, so later void times compare as time left.
#[derive(Default)]
struct Clock {
    capture_now: Option<i64>,
}

fn check_record(req: &Msg, exp: &Msg, got: &Msg, clock: &mut Clock, ctx: &str) {
    assert_eq!(got.rc, exp.rc, "{ctx}: result code");
    assert_eq!(
        (got.info1, got.info2, got.info3),
        (exp.info1, exp.info2, exp.info3),
        "{ctx}: info bits"
    );
    assert_eq!(got.generation, exp.generation, "{ctx}: generation");
    assert!(
        got.fields.is_empty() && exp.fields.is_empty(),
        "{ctx}: fields"
    );
    assert_eq!(
        got.ttl == 0,
        exp.ttl == 0,
        "{ctx}: void time {} / {}",
        got.ttl,
        exp.ttl
    );
    if exp.ttl != 0 {
        let our_left = i64::from(got.ttl) - now_citrusleaf();
        if clock.capture_now.is_none() && req.info2 & 1 != 0 && req.ttl != 0 {
            clock.capture_now = Some(i64::from(exp.ttl) - i64::from(req.ttl));
        }
        let capture_now = clock.capture_now.expect("a TTL write comes first");
        let their_left = i64::from(exp.ttl) - capture_now;
        assert!(
            (our_left - their_left).abs() <= 5,
            "{ctx}: time left {our_left} s, server had {their_left} s"
        );
    }
    assert_eq!(got.ops.len(), exp.ops.len(), "{ctx}: ops {:?}", got.ops);
    for (g, e) in got.ops.iter().zip(&exp.ops) {
        assert_eq!(
            (g.kind, g.particle, &g.name),
            (e.kind, e.particle, &e.name),
            "{ctx}"
        );
        assert_eq!(g.data, e.data, "{ctx}: value of {}", g.name);
    }
}

/// Counts of what a replay compared.
#[derive(Debug, Default, PartialEq)]
struct Replayed {
    info: usize,
    records: usize,
    framing: usize,
}

fn replay(name: &str) -> Replayed {
    let fixture: Fixture = fixtures::load(name);
    let cluster_file = name.contains("cluster");
    let cluster = if cluster_file {
        EmbeddedCluster::builder()
            .nodes(3)
            .namespace("test", 2)
            .start()
    } else {
        EmbeddedCluster::builder()
            .nodes(1)
            .namespace("test", 1)
            .start()
    }
    .unwrap();
    let nodes = cluster.nodes();

    // Raw cluster captures label connections by the node's port.
    let mut ports: Vec<u16> = fixture
        .exchanges()
        .iter()
        .filter_map(|x| x.request.conn.parse::<u16>().ok())
        .filter(|p| *p >= 3000)
        .collect();
    ports.sort();
    ports.dedup();
    let node_of = |conn: &str| {
        conn.parse::<u16>()
            .ok()
            .and_then(|p| ports.iter().position(|x| *x == p))
            .map_or(0, |i| i % nodes.len())
    };

    let mut conns: HashMap<String, TcpStream> = HashMap::new();
    let mut clock = Clock::default();
    let mut done = Replayed::default();
    for x in fixture.exchanges() {
        let kind = classify(&x);
        if kind == Kind::Skip {
            continue;
        }
        let ctx = format!(
            "{name}:{} ({})",
            x.request.line,
            fixture.step_of(x.request.line)
        );
        let addr = nodes[node_of(&x.request.conn)].address();
        let stream = conns
            .entry(x.request.conn.clone())
            .or_insert_with(|| wire::connect(addr));
        match kind {
            Kind::BadVersion => {
                stream.write_all(&x.request.bytes).unwrap();
                let mut buf = [0u8; 64];
                let closed = matches!(stream.read(&mut buf), Ok(0) | Err(_));
                assert!(closed, "{ctx}: connection still open after a bad version");
                assert!(x.replies.is_empty(), "{ctx}: the server sent no reply");
                conns.remove(&x.request.conn);
                done.framing += 1;
            }
            Kind::Compressed => {
                let got = wire::exchange(stream, &x.request.bytes).unwrap();
                assert_eq!(got, x.replies[0].bytes, "{ctx}: compressed-frame reply");
                done.framing += 1;
            }
            Kind::Info => {
                let got = wire::exchange(stream, &x.request.bytes).unwrap();
                assert_eq!(x.replies.len(), 1, "{ctx}");
                check_info(x.replies[0].body(), &got[8..], &ctx);
                done.info += 1;
            }
            Kind::Record => {
                let got = wire::exchange(stream, &x.request.bytes).unwrap();
                let req = Msg::from_frame(&x.request.bytes);
                let exp = Msg::from_frame(&x.replies[0].bytes);
                check_record(&req, &exp, &Msg::from_frame(&got), &mut clock, &ctx);
                done.records += 1;
            }
            Kind::Skip => unreachable!(),
        }
    }
    done
}

fn counts(info: usize, records: usize, framing: usize) -> Replayed {
    Replayed {
        info,
        records,
        framing,
    }
}

#[test]
fn info_tend_single() {
    assert_eq!(replay("info-tend-single.txt"), counts(26, 0, 0));
}

#[test]
fn info_tend_cluster() {
    assert_eq!(replay("info-tend-cluster.txt"), counts(32, 0, 0));
}

#[test]
fn client_connect_single() {
    assert_eq!(replay("client-connect-single.txt"), counts(8, 0, 0));
}

#[test]
fn kv_single() {
    assert_eq!(replay("kv-single.txt"), counts(5, 30, 0));
}

#[test]
fn bg_errors_single_framing_and_info() {
    let done = replay("bg-errors-single.txt");
    assert_eq!(done.framing, 2);
    assert!(done.info > 0);
}

#[test]
fn remaining_files_info_frames() {
    // Files whose messages belong to the jobs engine: their tend and other
    // non-hooked info frames must still match.
    for name in [
        "bg-ops-single.txt",
        "bg-ops-cluster.txt",
        "bg-status-single.txt",
        "bg-udf-single.txt",
        "scan-single.txt",
        "scan-partition-done-cluster.txt",
        "sindex-single.txt",
    ] {
        let done = replay(name);
        assert_eq!(done.records, 0, "{name}");
    }
}

#[test]
fn every_fixture_file_is_replayed() {
    let covered = [
        "bg-errors-single.txt",
        "bg-ops-cluster.txt",
        "bg-ops-single.txt",
        "bg-status-single.txt",
        "bg-udf-single.txt",
        "client-connect-single.txt",
        "info-tend-cluster.txt",
        "info-tend-single.txt",
        "kv-single.txt",
        "scan-partition-done-cluster.txt",
        "scan-single.txt",
        "sindex-single.txt",
    ];
    assert_eq!(
        fixtures::names(),
        covered,
        "a new fixture file needs a replay test"
    );
}

#[test]
fn parser_pairs_replies_across_steps() {
    let f = fixtures::load("client-connect-single.txt");
    let x = f.exchanges();
    assert_eq!(x.len(), 8);
    assert!(x
        .iter()
        .all(|x| x.replies.len() == 1 && x.request.conn == "1"));
    let scan = fixtures::load("scan-partition-done-cluster.txt");
    let x = scan.exchanges();
    assert_eq!(x.len(), 1);
    assert!(
        x[0].replies.len() > 1,
        "a scan is answered by several frames"
    );
    assert_eq!(x[0].request.conn, "3100");
}
