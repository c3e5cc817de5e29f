//! Replays the requests captured from a real Aerospike CE 8.1.2.0 server
//! against embedded nodes and compares the replies with the recorded ones.
//!
//! Every request frame of every fixture file is replayed, in file order on
//! its own connection, after loading the data set each file's header
//! describes; a replay fails when any request is left out. Covered: info
//! requests (UDF module commands included), single-record messages (those
//! with a digest field), compressed frames, a bad proto version, and, by
//! shape, scans, queries, background-job starts and the job and index info
//! commands (`query-*`, `sindex-*`). The tests of those features
//! (`embedded_jobs.rs`) check their values in depth.
//!
//! Values that differ from run to run (node ids, ports, generations, void
//! times, cluster keys, job progress) are compared by shape; everything else
//! exactly.

#[path = "../../../tests/support/mod.rs"]
mod support;

#[path = "../../../tests/support/jobs_fixtures.rs"]
mod fx;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{SystemTime, UNIX_EPOCH};

use aerospike_embedded::EmbeddedCluster;
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
    /// Info requests with job or index commands (`query-*`, `sindex-*`).
    JobInfo,
    Record,
    /// Batch-index requests (field 41): one reply message per key.
    Batch,
    /// Scans, queries and background-job starts: messages without a digest.
    Stream,
    Compressed,
    BadVersion,
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
                Kind::JobInfo
            } else {
                Kind::Info
            }
        }
        4 => Kind::Compressed,
        wire::TYPE_MESSAGE => {
            let m = Msg::decode_all(f.body());
            assert_eq!(m.len(), 1, "line {}: one message per request", f.line);
            if m[0].fields.iter().any(|(t, _)| *t == 4) {
                Kind::Record
            } else if m[0].fields.iter().any(|(t, _)| *t == FIELD_BATCH_INDEX) {
                Kind::Batch
            } else {
                Kind::Stream
            }
        }
        t => panic!("line {}: request of proto type {t}", f.line),
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
        // Every set of the namespace: the real server also listed other
        // runs' sets, so each of ours must have the fields theirs have.
        n if (n == "sets" || n.starts_with("sets/")) && n.matches('/').count() < 2 => {
            let fields = |v: &str| -> Vec<Vec<String>> {
                v.split(';')
                    .filter(|s| !s.is_empty())
                    .map(|s| keys_of(s, ':').into_iter().map(str::to_owned).collect())
                    .collect()
            };
            let theirs = fields(exp);
            let ours = fields(got);
            assert!(!ours.is_empty(), "{ctx}: no set listed");
            for set in &ours {
                assert!(theirs.contains(set), "{ctx}: {set:?}");
            }
        }
        // One set: the same fields; the counts of the same data.
        n if n.starts_with("sets/") => {
            let fields = |v: &str| -> Vec<(String, String)> {
                v.trim_end_matches(';')
                    .split(':')
                    .filter(|s| !s.is_empty())
                    .map(|kv| {
                        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                        (k.to_owned(), v.to_owned())
                    })
                    .collect()
            };
            let (e, g) = (fields(exp), fields(got));
            let keys = |f: &[(String, String)]| f.iter().map(|p| p.0.clone()).collect::<Vec<_>>();
            assert_eq!(keys(&g), keys(&e), "{ctx}: fields");
            for ((k, a), (_, b)) in e.iter().zip(&g) {
                if !matches!(k.as_str(), "truncate_lut" | "data_used_bytes") {
                    assert_eq!(b, a, "{ctx}: value of {k}");
                }
            }
        }
        "get-config" => pairs_equal(exp, got, &ctx, false),
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
        if hooked(k) {
            check_job_value(k, ev, gv, ctx);
        } else {
            check_info_value(k, ev, gv, ctx);
        }
    }
    assert_eq!(exp.is_empty(), got.is_empty(), "{ctx}: empty body");
}

/// The keys of a `key=value` list split on `sep`, in order.
fn keys_of(v: &str, sep: char) -> Vec<&str> {
    v.split(sep)
        .map(|kv| kv.split_once('=').map_or(kv, |(k, _)| k))
        .collect()
}

/// Compares the value of a job or index info command: errors and plain
/// answers exactly; job and index listings by their keys in order, since
/// progress, counts, times and ports change from run to run.
fn check_job_value(command: &str, exp: &str, got: &str, ctx: &str) {
    let name = command.split(':').next().unwrap();
    let ctx = format!("{ctx} [{command}]");
    if exp.starts_with("ERROR") || !exp.contains('=') {
        assert_eq!(got, exp, "{ctx}");
        return;
    }
    match name {
        // Index statistics: the same fields; the entries and the load of
        // the same data.
        "sindex-stat" => {
            assert_eq!(keys_of(got, ';'), keys_of(exp, ';'), "{ctx}: {got}");
            let value = |v: &str, k: &str| {
                v.split(';')
                    .find_map(|kv| kv.strip_prefix(k)?.strip_prefix('='))
                    .map(str::to_owned)
            };
            for k in ["entries", "entries_per_rec", "load_pct"] {
                assert_eq!(value(got, k), value(exp, k), "{ctx}: {k}");
            }
        }
        // One job: its fields in the server's order.
        "query-show" if exp.trim_end_matches(';').split(';').count() == 1 => {
            assert_eq!(keys_of(got, ':'), keys_of(exp, ':'), "{ctx}: {got}");
        }
        // Every retained job: the real server also listed another user's
        // jobs, so each of ours must have the fields of one of theirs.
        "query-show" => {
            let theirs: Vec<Vec<&str>> = exp
                .split(';')
                .filter(|j| !j.is_empty())
                .map(|j| keys_of(j, ':'))
                .collect();
            let ours: Vec<&str> = got.split(';').filter(|j| !j.is_empty()).collect();
            assert!(!ours.is_empty(), "{ctx}: no job listed");
            for job in ours {
                assert!(theirs.contains(&keys_of(job, ':')), "{ctx}: {job}");
            }
        }
        // Index listings: the same indexes and fields; only the state
        // (WO right after a create, then RW) may differ.
        _ => {
            let e: Vec<&str> = exp.split(';').filter(|i| !i.is_empty()).collect();
            let g: Vec<&str> = got.split(';').filter(|i| !i.is_empty()).collect();
            assert_eq!(g.len(), e.len(), "{ctx}: {got}");
            for (a, b) in e.iter().zip(&g) {
                let strip = |i: &str| {
                    i.split(':')
                        .filter(|kv| !kv.starts_with("state="))
                        .collect::<Vec<_>>()
                        .join(":")
                };
                assert_eq!(strip(b), strip(a), "{ctx}");
            }
        }
    }
}

/// The id of a lone `query-show:id=N` request when it is a server-assigned
/// one (1 to 99).
fn small_show_id(body: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(body).ok()?;
    let id: u64 = text
        .strip_prefix("query-show:id=")?
        .strip_suffix('\n')?
        .parse()
        .ok()?;
    (1..100).contains(&id).then_some(id)
}

/// The index a lone `sindex-stat:namespace=..;indexname=NAME` asks about.
fn stat_of_index(body: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(body).ok()?.strip_suffix('\n')?;
    let params = text.strip_prefix("sindex-stat:")?;
    params.split(';').find_map(|p| p.strip_prefix("indexname="))
}

/// Waits, as the official clients do after a create, until `index` is
/// listed readable (`state=RW`), so what follows does not depend on timing.
fn wait_until_readable(stream: &mut TcpStream, index: &str) {
    let needle = format!("indexname={index}:");
    for _ in 0..100 {
        let list = wire::info(stream, &["sindex-list"]);
        let ready = list[0]
            .1
            .split(';')
            .any(|i| i.contains(&needle) && i.contains("state=RW"));
        if ready {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("index {index} never became readable");
}

const INFO3_LAST: u8 = 0x01;
const FIELD_BATCH_INDEX: u8 = 41;
const INFO3_PARTITION_DONE: u8 = 0x04;

/// Reads reply frames until a message with LAST, or one frame when the
/// first message is a start error (30 bytes, no LAST).
fn read_stream(stream: &mut TcpStream, ctx: &str) -> Vec<Msg> {
    let mut all = Vec::new();
    loop {
        let frame = wire::read_frame(stream).unwrap_or_else(|e| panic!("{ctx}: {e}"));
        let msgs = Msg::decode_all(&frame[8..]);
        let error = msgs.len() == 1 && msgs[0].rc != 0 && msgs[0].info3 & INFO3_LAST == 0;
        let last = msgs.iter().any(|m| m.info3 & INFO3_LAST != 0);
        all.extend(msgs);
        if last || error {
            return all;
        }
    }
}

/// What a scan, query or job-start reply consists of.
#[derive(Debug, PartialEq)]
struct StreamShape {
    records: usize,
    /// `(partition id, result code)` of each partition-done marker.
    markers: Vec<(u32, u8)>,
    /// `(result code, info3)` of the closing message.
    closing: (u8, u8),
}

fn stream_shape(msgs: &[Msg], ctx: &str) -> StreamShape {
    let (last, body) = msgs
        .split_last()
        .unwrap_or_else(|| panic!("{ctx}: no reply"));
    let mut shape = StreamShape {
        records: 0,
        markers: Vec::new(),
        closing: (last.rc, last.info3),
    };
    for m in body {
        if m.info3 & INFO3_PARTITION_DONE != 0 {
            shape.markers.push((m.generation, m.rc));
        } else {
            assert_eq!(m.info3 & INFO3_LAST, 0, "{ctx}: LAST before the end");
            shape.records += 1;
        }
    }
    shape
}

/// Compares a scan, query or start reply. Start replies are one 30-byte
/// message, compared byte for byte. Streams: the same records when the
/// data set is the same and the node holds what the real one held (one
/// node); on a cluster, where ownership differs, markers must be
/// UNAVAILABLE for requested partitions the node has no copy of.
fn check_stream(req: &Msg, exp: &[Vec<u8>], got: &[Msg], single: bool, ctx: &str) {
    let theirs: Vec<Msg> = exp.iter().flat_map(|f| Msg::decode_all(&f[8..])).collect();
    let e = stream_shape(&theirs, ctx);
    let g = stream_shape(got, ctx);
    assert_eq!(g.closing, e.closing, "{ctx}: closing message");
    if theirs.len() == 1 {
        assert_eq!(got.len(), 1, "{ctx}: one message");
        let header = |m: &Msg| {
            (
                (m.info1, m.info2, m.info3, m.rc),
                (m.generation, m.ttl, m.fields.len(), m.ops.len()),
            )
        };
        assert_eq!(header(&got[0]), header(&theirs[0]), "{ctx}: start reply");
        return;
    }
    if single {
        assert_eq!(g, e, "{ctx}");
        return;
    }
    let requested: Vec<u32> = req
        .fields
        .iter()
        .find(|(t, _)| *t == 11)
        .map(|(_, d)| {
            d.chunks_exact(2)
                .map(|c| u32::from(u16::from_le_bytes([c[0], c[1]])))
                .collect()
        })
        .unwrap_or_default();
    assert!(!g.markers.is_empty(), "{ctx}: no partition-done marker");
    for (pid, rc) in &g.markers {
        assert!(requested.contains(pid), "{ctx}: marker for {pid}");
        assert_eq!(*rc, 11, "{ctx}: marker result code");
    }
    assert!(
        e.markers.iter().all(|(_, rc)| *rc == 11),
        "{ctx}: the server's markers"
    );
}

/// The data sets the fixture headers describe (loaded beforehand on the
/// real server, not in the files): `(set, records)`. `bgstatus` had 200000
/// records; a tenth keeps the long jobs running through the replay.
fn data_sets(name: &str) -> &'static [(&'static str, i64)] {
    match name {
        "scan-single.txt" => &[("scan", 20)],
        "scan-partition-done-cluster.txt" | "bg-ops-cluster.txt" => &[("bgcluster", 3000)],
        "sindex-single.txt" | "bg-ops-single.txt" => &[("bgops", 500)],
        "bg-udf-single.txt" => &[("bgudf", 500)],
        "bg-errors-single.txt" => &[("bgerr", 500)],
        "bg-status-single.txt" => &[("bgstatus", 20_000), ("bgshort", 100)],
        _ => &[],
    }
}

/// Writes the records of the files captured through the official client
/// (their `# NOTE` lines; user keys are not stored, as there).
fn load_client_data(name: &str, seed: &str) {
    use aerospike_blocking::{Bin, Client, ClientPolicy, Key, Value, WritePolicy};
    let rows: Vec<(&str, i64, Vec<Bin>)> = match name {
        "batch-single.txt" => (0..5)
            .map(|i| {
                let bins = vec![
                    Bin::new("a", i),
                    Bin::new("b", format!("v{i}")),
                    Bin::new("l", Value::List(vec![i.into(), (i + 1).into()])),
                ];
                ("cfx_batch", i, bins)
            })
            .collect(),
        "info-extra-single.txt" => (0..10)
            .map(|i| ("cfx_info", i, vec![Bin::new("i", i)]))
            .collect(),
        "cdt-single.txt" => {
            let list = Value::List(vec![1.into(), 2.into(), 3.into()]);
            let map = Value::Map(
                [("a", 1), ("b", 2), ("c", 3)]
                    .iter()
                    .map(|(k, v)| (Value::from(*k), Value::from(*v)))
                    .collect(),
            );
            vec![("cfx_cdt", 1, vec![Bin::new("l", list), Bin::new("m", map)])]
        }
        "sindex-client-single.txt" => (0..20)
            .map(|i| {
                let point = format!(
                    r#"{{"type":"Point","coordinates":[{},37.5]}}"#,
                    -122.0 + 0.01 * i as f64
                );
                let bins = vec![
                    Bin::new("n", i),
                    Bin::new("str", format!("k{}", i % 3)),
                    Bin::new("lst", Value::List(vec![i.into(), (10 * i).into()])),
                    Bin::new("loc", Value::GeoJson(point)),
                ];
                ("cfx_sindex", i, bins)
            })
            .collect(),
        _ => return,
    };
    let client = Client::connect(&[seed], &ClientPolicy::default()).unwrap();
    for (set, key, bins) in rows {
        let key = Key::new("test", set, key).unwrap();
        client.put(&WritePolicy::default(), &key, &bins).unwrap();
    }
    client.close();
}

/// Compares a batch reply message by message: each key's result code,
/// generation, batch index and bins, and the closing message.
fn check_batch(exp: &[Vec<u8>], got: &[Msg], ctx: &str) {
    let theirs: Vec<Msg> = exp.iter().flat_map(|f| Msg::decode_all(&f[8..])).collect();
    assert_eq!(got.len(), theirs.len(), "{ctx}: messages {got:?}");
    for (g, e) in got.iter().zip(&theirs) {
        let ctx = format!("{ctx}: batch index {}", e.timeout);
        let head = |m: &Msg| (m.info1, m.info2, m.info3, m.rc, m.generation, m.timeout);
        assert_eq!(head(g), head(e), "{ctx}: header");
        assert_eq!(g.ttl == 0, e.ttl == 0, "{ctx}: void time");
        assert_eq!(g.fields, e.fields, "{ctx}: fields");
        let ops = |m: &Msg| {
            m.ops
                .iter()
                .map(|o| (o.kind, o.particle, o.name.clone(), o.data.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(ops(g), ops(e), "{ctx}: bins");
    }
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
    job_info: usize,
    batches: usize,
    streams: usize,
    /// Request lines whose reply differs from the capture.
    gaps: Vec<usize>,
}

impl Replayed {
    /// The same counts with batch requests.
    fn batches(mut self, n: usize) -> Replayed {
        self.batches = n;
        self
    }
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
    {
        let mut loader = fx::Conn::connect(&nodes[0].address().to_string());
        for (set, n) in data_sets(name) {
            loader.load("test", set, *n);
        }
    }
    load_client_data(name, &nodes[0].address().to_string());

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
    let exchanges = fixture.exchanges();
    // Jobs started without a task id get small ids from the node's own
    // count (1, 2, ... here; 7, 8 on the captured server, which had run jobs
    // before): their `query-show` requests are renumbered.
    let small_ids: Vec<u64> = exchanges
        .iter()
        .filter_map(|x| small_show_id(x.request.body()))
        .collect();
    let id_shift = small_ids.iter().min().map_or(0, |m| m - 1);
    for x in &exchanges {
        let kind = classify(x);
        let ctx = format!(
            "{name}:{} ({})",
            x.request.line,
            fixture.step_of(x.request.line)
        );
        let addr = nodes[node_of(&x.request.conn)].address();
        let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let stream = conns
                .entry(x.request.conn.clone())
                .or_insert_with(|| wire::connect(addr));
            replay_one(x, &kind, stream, id_shift, cluster_file, &mut clock, &ctx)
        }));
        match checked {
            Ok(open) => {
                if !open {
                    conns.remove(&x.request.conn);
                }
            }
            Err(_) => {
                // What the embedded cluster cannot answer yet: recorded by
                // line, on a fresh connection from here on.
                done.gaps.push(x.request.line);
                conns.remove(&x.request.conn);
            }
        }
        match kind {
            Kind::BadVersion | Kind::Compressed => done.framing += 1,
            Kind::Info => done.info += 1,
            Kind::JobInfo => done.job_info += 1,
            Kind::Record => done.records += 1,
            Kind::Batch => done.batches += 1,
            Kind::Stream => done.streams += 1,
        }
    }
    let total =
        done.info + done.records + done.framing + done.job_info + done.batches + done.streams;
    assert_eq!(total, exchanges.len(), "{name}: every request is replayed");
    done
}

/// Replays one exchange on `stream` and checks the reply; false when the
/// connection must not be used again.
fn replay_one(
    x: &Exchange,
    kind: &Kind,
    stream: &mut TcpStream,
    id_shift: u64,
    cluster_file: bool,
    clock: &mut Clock,
    ctx: &str,
) -> bool {
    match kind {
        Kind::BadVersion => {
            stream.write_all(&x.request.bytes).unwrap();
            let mut buf = [0u8; 64];
            let closed = matches!(stream.read(&mut buf), Ok(0) | Err(_));
            assert!(closed, "{ctx}: connection still open after a bad version");
            assert!(x.replies.is_empty(), "{ctx}: the server sent no reply");
            return false;
        }
        Kind::Compressed => {
            let got = wire::exchange(stream, &x.request.bytes).unwrap();
            assert_eq!(got, x.replies[0].bytes, "{ctx}: compressed-frame reply");
        }
        Kind::Info => {
            let got = wire::exchange(stream, &x.request.bytes).unwrap();
            assert_eq!(x.replies.len(), 1, "{ctx}");
            check_info(x.replies[0].body(), &got[8..], ctx);
        }
        Kind::JobInfo => {
            // The capture polled `sindex-list` until the new index was
            // readable, and took its time before asking about a job the
            // server had finished: wait the same way.
            let request = match small_show_id(x.request.body()) {
                Some(id) => wire::info_request(&[&format!("query-show:id={}", id - id_shift)]),
                None => x.request.bytes.clone(),
            };
            let theirs = String::from_utf8_lossy(x.replies[0].body());
            if let Some(index) = stat_of_index(x.request.body()) {
                if theirs.contains("load_pct=") {
                    wait_until_readable(stream, index);
                }
            }
            let mut got = wire::exchange(stream, &request).unwrap();
            for _ in 0..100 {
                let ours = String::from_utf8_lossy(&got[8..]);
                let index_pending = theirs.contains("state=RW") && ours.contains("state=WO");
                let job_pending = !theirs.contains(';')
                    && theirs.contains("status=done")
                    && ours.contains("status=active");
                if !index_pending && !job_pending {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
                got = wire::exchange(stream, &request).unwrap();
            }
            assert_eq!(x.replies.len(), 1, "{ctx}");
            // Name the renumbered command as the capture does.
            let body = String::from_utf8_lossy(&got[8..]).replacen(
                String::from_utf8_lossy(&request[8..]).trim_end(),
                String::from_utf8_lossy(x.request.body()).trim_end(),
                1,
            );
            check_info(x.replies[0].body(), body.as_bytes(), ctx);
        }
        Kind::Record => {
            let got = wire::exchange(stream, &x.request.bytes).unwrap();
            let req = Msg::from_frame(&x.request.bytes);
            let exp = Msg::from_frame(&x.replies[0].bytes);
            check_record(&req, &exp, &Msg::from_frame(&got), clock, ctx);
        }
        Kind::Batch => {
            stream.write_all(&x.request.bytes).unwrap();
            let got = read_stream(stream, ctx);
            let exp: Vec<Vec<u8>> = x.replies.iter().map(|r| r.bytes.clone()).collect();
            check_batch(&exp, &got, ctx);
        }
        Kind::Stream => {
            stream.write_all(&x.request.bytes).unwrap();
            let got = read_stream(stream, ctx);
            let req = Msg::from_frame(&x.request.bytes);
            let exp: Vec<Vec<u8>> = x.replies.iter().map(|r| r.bytes.clone()).collect();
            check_stream(&req, &exp, &got, !cluster_file, ctx);
        }
    }
    true
}

/// `(info, records, framing, job info, streams)` expected of a file.
fn counts(
    info: usize,
    records: usize,
    framing: usize,
    job_info: usize,
    streams: usize,
) -> Replayed {
    Replayed {
        info,
        records,
        framing,
        job_info,
        streams,
        ..Replayed::default()
    }
}

#[test]
fn info_tend_single() {
    assert_eq!(replay("info-tend-single.txt"), counts(26, 0, 0, 1, 0));
}

#[test]
fn info_tend_cluster() {
    assert_eq!(replay("info-tend-cluster.txt"), counts(32, 0, 0, 1, 0));
}

#[test]
fn client_connect_single() {
    assert_eq!(replay("client-connect-single.txt"), counts(8, 0, 0, 0, 0));
}

#[test]
fn kv_single() {
    assert_eq!(replay("kv-single.txt"), counts(5, 30, 0, 0, 0));
}

#[test]
fn bg_errors_single() {
    assert_eq!(replay("bg-errors-single.txt"), counts(22, 0, 2, 11, 25));
}

#[test]
fn bg_ops_single() {
    assert_eq!(replay("bg-ops-single.txt"), counts(17, 0, 0, 38, 5));
}

#[test]
fn bg_ops_cluster() {
    assert_eq!(replay("bg-ops-cluster.txt"), counts(0, 0, 0, 28, 4));
}

#[test]
fn bg_status_single() {
    assert_eq!(replay("bg-status-single.txt"), counts(0, 0, 0, 25, 3));
}

#[test]
fn bg_udf_single() {
    assert_eq!(replay("bg-udf-single.txt"), counts(18, 0, 0, 15, 2));
}

#[test]
fn scan_single() {
    assert_eq!(replay("scan-single.txt"), counts(5, 0, 0, 0, 4));
}

#[test]
fn scan_partition_done_cluster() {
    assert_eq!(
        replay("scan-partition-done-cluster.txt"),
        counts(0, 0, 0, 0, 1)
    );
}

#[test]
fn sindex_single() {
    assert_eq!(replay("sindex-single.txt"), counts(6, 0, 0, 13, 2));
}

// The files of 2026-12-03. Each `gaps` line is a request whose reply the
// embedded cluster does not give yet, with the reason; a fix makes the test
// fail until the line is taken off.

#[test]
fn batch_single() {
    // Every key's result code, generation, batch index and bins as captured.
    assert_eq!(replay("batch-single.txt"), counts(7, 0, 0, 0, 0).batches(6));
}

#[test]
fn cdt_single() {
    // Rank and relative-rank ranges in the server's order, the request's
    // op type echoed, KEY_VALUE maps with their order header.
    assert_eq!(replay("cdt-single.txt"), counts(7, 8, 0, 0, 0));
}

#[test]
fn info_extra_single() {
    assert_eq!(replay("info-extra-single.txt"), counts(15, 0, 0, 2, 0));
}

#[test]
fn sindex_client_single() {
    assert_eq!(replay("sindex-client-single.txt"), counts(16, 0, 0, 12, 5));
}

#[test]
fn every_fixture_file_is_replayed() {
    let covered = [
        "batch-single.txt",
        "cdt-single.txt",
        "info-extra-single.txt",
        "sindex-client-single.txt",
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
    let mut covered = covered.to_vec();
    covered.sort_unstable();
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
