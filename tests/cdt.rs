//! List and map operations end to end: raw operate messages carrying the CDT
//! operation bytes the official clients send (aerospike-client-java
//! `cdt/ListOperation.java`, `cdt/MapOperation.java`, `util/Pack.java`), sent
//! over TCP to an embedded node, or to the first of `AEROSPIKE_HOSTS` when set.
//! The same bytes are checked against this crate's builders in the unit tests
//! of `operations::list` and `operations::map`.

mod support;

use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aerospike_embedded::EmbeddedCluster;
use support::wire::{self, Msg, MsgOp};

const CDT_READ: u8 = 3;
const CDT_MODIFY: u8 = 4;
const READ: u8 = 1;
const WRITE: u8 = 2;
const BLOB: u8 = 4;

/// A connection to one node and the cluster that serves it (kept alive).
struct Conn {
    stream: TcpStream,
    _cluster: Option<EmbeddedCluster>,
}

fn connect() -> Conn {
    let (addr, cluster) = match std::env::var("AEROSPIKE_HOSTS") {
        Ok(hosts) => {
            let first = hosts
                .split(',')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned();
            let addr = first.to_socket_addrs().expect("host:port").next().unwrap();
            (addr, None)
        }
        Err(_) => {
            let c = EmbeddedCluster::start(1).expect("embedded cluster");
            (c.nodes()[0].address(), Some(c))
        }
    };
    Conn {
        stream: wire::connect(addr),
        _cluster: cluster,
    }
}

/// A digest no other test (or earlier run against a real server) uses.
fn fresh_digest() -> Vec<u8> {
    static N: AtomicU8 = AtomicU8::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut d = nanos.to_be_bytes().to_vec();
    d.push(N.fetch_add(1, Ordering::Relaxed));
    d.extend_from_slice(b"cdt");
    d
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A reply: result code and (bin, particle type, hex of the value) per op.
#[derive(Debug, PartialEq)]
struct Reply {
    rc: u8,
    ops: Vec<(String, u8, String)>,
}

impl Conn {
    /// One operate message on record `digest` of `test`/`cdt`.
    fn operate(&mut self, digest: &[u8], ops: &[MsgOp]) -> Reply {
        let writes = ops.iter().any(|o| o.kind == WRITE || o.kind == CDT_MODIFY);
        let reads = ops.iter().any(|o| o.kind == READ || o.kind == CDT_READ);
        let msg = Msg {
            info1: u8::from(reads),               // READ
            info2: if writes { 0x81 } else { 0 }, // WRITE | RESPOND_ALL_OPS
            fields: vec![
                (0, b"test".to_vec()),
                (1, b"cdt".to_vec()),
                (4, digest.to_vec()),
            ],
            ops: ops.to_vec(),
            ..Msg::default()
        };
        let reply = wire::exchange(&mut self.stream, &msg.encode()).expect("reply");
        let m = Msg::from_frame(&reply);
        Reply {
            rc: m.rc,
            ops: m
                .ops
                .iter()
                .map(|o| (o.name.clone(), o.particle, hex(&o.data)))
                .collect(),
        }
    }
}

fn op(kind: u8, bin: &str, particle: u8, data: Vec<u8>) -> MsgOp {
    MsgOp {
        kind,
        particle,
        name: bin.into(),
        data,
    }
}

fn modify(bin: &str, bytes: &str) -> MsgOp {
    op(CDT_MODIFY, bin, BLOB, unhex(bytes))
}

fn read(bin: &str, bytes: &str) -> MsgOp {
    op(CDT_READ, bin, BLOB, unhex(bytes))
}

fn int(i: i64) -> (u8, String) {
    (1, hex(&i.to_be_bytes()))
}

fn ok(results: &[(&str, (u8, String))]) -> Reply {
    Reply {
        rc: 0,
        ops: results
            .iter()
            .map(|(b, (t, h))| (b.to_string(), *t, h.clone()))
            .collect(),
    }
}

#[test]
fn list_append_read_and_remove() {
    let mut c = connect();
    let d = fresh_digest();
    // append 1, append "a" (each returns the new size), append_items [2, 3].
    let r = c.operate(
        &d,
        &[
            modify("l", "920101"),
            modify("l", "9201a20361"),
            modify("l", "9202920203"),
        ],
    );
    assert_eq!(r, ok(&[("l", int(1)), ("l", int(2)), ("l", int(4))]));
    // get_by_index(-1, VALUE), size, get_by_index_range(0, 2, VALUE).
    let r = c.operate(
        &d,
        &[
            read("l", "931307ff"),
            read("l", "9110"),
            read("l", "9418070002"),
        ],
    );
    assert_eq!(
        r,
        ok(&[
            ("l", int(3)),
            ("l", int(4)),
            ("l", (20, "9201a20361".into()))
        ])
    );
    // remove_by_value("a", COUNT), then the whole bin through a plain read.
    let r = c.operate(&d, &[modify("l", "932305a20361"), op(READ, "l", 0, vec![])]);
    assert_eq!(r, ok(&[("l", int(1)), ("l", (20, "93010203".into()))]));
    // get_by_value_relative_rank_range_count(2, -1, 2, VALUE) on [1, 2, 3]:
    // a real 8.1 server answers [2, 1] (cdt-single.txt): an unordered
    // list's rank range comes back in the order of the server's heap.
    let r = c.operate(&d, &[read("l", "951b0702ff02")]);
    assert_eq!(r, ok(&[("l", (20, "920201".into()))]));
    // pop(0), clear, size.
    let r = c.operate(
        &d,
        &[
            modify("l", "920500"),
            modify("l", "910b"),
            read("l", "9110"),
        ],
    );
    assert_eq!(
        r,
        ok(&[("l", int(1)), ("l", (0, String::new())), ("l", int(0))])
    );
}

#[test]
fn map_put_increment_and_get() {
    let mut c = connect();
    let d = fresh_digest();
    // put("k", 1) with the default policy, put_items({"a": 1}), increment("c", 5).
    let r = c.operate(
        &d,
        &[
            modify("m", "9443a2036b0100"),
            modify("m", "934481a203610100"),
            modify("m", "9449a203630500"),
        ],
    );
    assert_eq!(r, ok(&[("m", int(1)), ("m", int(2)), ("m", int(5))]));
    // get_by_key("k", VALUE), get_by_index(0, KEY) (key order), size.
    let r = c.operate(
        &d,
        &[
            read("m", "936107a2036b"),
            read("m", "93620600"),
            read("m", "9160"),
        ],
    );
    assert_eq!(
        r,
        ok(&[("m", int(1)), ("m", (3, "61".into())), ("m", int(3))])
    );
    // remove_by_key("k", VALUE), then get_by_key("k", VALUE) finds nothing.
    let r = c.operate(
        &d,
        &[modify("m", "934c07a2036b"), read("m", "936107a2036b")],
    );
    assert_eq!(r, ok(&[("m", int(1)), ("m", (0, String::new()))]));
    // put with CREATE_ONLY on an existing key fails with ELEMENT_EXISTS (24).
    let r = c.operate(&d, &[modify("m", "9543a203610201 01")]);
    assert_eq!(r.rc, 24);
    // A list operation on a map bin fails with BIN_TYPE_ERROR (12).
    let r = c.operate(&d, &[modify("m", "920101")]);
    assert_eq!(r.rc, 12);
}

#[test]
fn nested_context_and_errors() {
    let mut c = connect();
    let d = fresh_digest();
    // map_key_create("in", unordered) then put("x", 7) inside it:
    // [0xff, [0x62, "in"], [67, "x", 7, 0]].
    let r = c.operate(&d, &[modify("m", "93ccff9262a303696e9443a203780700")]);
    assert_eq!(r, ok(&[("m", int(1))]));
    // size inside map_key("in"): [0xff, [0x22, "in"], [96]].
    let r = c.operate(&d, &[read("m", "93ccff9222a303696e9160")]);
    assert_eq!(r, ok(&[("m", int(1))]));
    // A missing context element is OP_NOT_APPLICABLE (26).
    let r = c.operate(&d, &[read("m", "93ccff9222a4037878789160")]);
    assert_eq!(r.rc, 26);
    // get_by_index out of bounds on a list is OP_NOT_APPLICABLE.
    let r = c.operate(&d, &[modify("l", "920101"), read("l", "93130705")]);
    assert_eq!(r.rc, 26);
    // Garbage op bytes are a PARAMETER_ERROR (4).
    let r = c.operate(&d, &[modify("l", "ff")]);
    assert_eq!(r.rc, 4);
}
