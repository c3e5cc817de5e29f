//! List and map operations end to end: raw operate messages carrying the CDT
//! operation bytes the official clients send (aerospike-client-java
//! `cdt/ListOperation.java`, `cdt/MapOperation.java`, `util/Pack.java`), sent
//! over TCP to an embedded node, or to the first of `AEROSPIKE_HOSTS` when set.
//! The same bytes are checked against this crate's builders in the unit tests
//! of `operations::list` and `operations::map`.
#![cfg(feature = "embedded")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aerospike_blocking::embedded::EmbeddedCluster;

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
            (first, None)
        }
        Err(_) => {
            let c = EmbeddedCluster::start(1).expect("embedded cluster");
            (c.seed(), Some(c))
        }
    };
    let stream = TcpStream::connect(&addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    Conn {
        stream,
        _cluster: cluster,
    }
}

/// A digest no other test (or earlier run) uses.
fn fresh_digest() -> [u8; 20] {
    static N: AtomicU8 = AtomicU8::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let mut d = [0u8; 20];
    d[..16].copy_from_slice(&nanos.to_be_bytes());
    d[16] = N.fetch_add(1, Ordering::Relaxed);
    d[17..].copy_from_slice(b"cdt");
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

/// One operation: kind, bin, particle type, value bytes.
struct Op<'a>(u8, &'a str, u8, Vec<u8>);

/// A reply: result code and (bin, particle type, hex of the value) per op.
#[derive(Debug, PartialEq)]
struct Reply {
    rc: u8,
    ops: Vec<(String, u8, String)>,
}

impl Conn {
    fn operate(&mut self, digest: &[u8; 20], ops: &[Op<'_>]) -> Reply {
        let writes = ops.iter().any(|o| o.0 == WRITE || o.0 == CDT_MODIFY);
        let reads = ops.iter().any(|o| o.0 == READ || o.0 == CDT_READ);
        let mut body = vec![22u8];
        body.push(if reads { 1 } else { 0 }); // info1 READ
        body.push(if writes { 0x81 } else { 0 }); // info2 WRITE | RESPOND_ALL_OPS
        body.extend_from_slice(&[0, 0, 0]); // info3, info4, result code
        body.extend_from_slice(&[0; 8]); // generation, record ttl
        body.extend_from_slice(&1000u32.to_be_bytes()); // transaction ttl
        body.extend_from_slice(&3u16.to_be_bytes());
        body.extend_from_slice(&(ops.len() as u16).to_be_bytes());
        for (kind, data) in [(0u8, &b"test"[..]), (1, b"cdt"), (4, &digest[..])] {
            body.extend_from_slice(&(data.len() as u32 + 1).to_be_bytes());
            body.push(kind);
            body.extend_from_slice(data);
        }
        for Op(kind, name, particle, data) in ops {
            body.extend_from_slice(&((4 + name.len() + data.len()) as u32).to_be_bytes());
            body.extend_from_slice(&[*kind, *particle, 0, name.len() as u8]);
            body.extend_from_slice(name.as_bytes());
            body.extend_from_slice(data);
        }
        let mut frame = vec![2u8, 3];
        frame.extend_from_slice(&(body.len() as u64).to_be_bytes()[2..]);
        frame.extend_from_slice(&body);
        self.stream.write_all(&frame).unwrap();
        let mut header = [0u8; 8];
        self.stream.read_exact(&mut header).unwrap();
        let len = header[2..]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        let mut msg = vec![0u8; len];
        self.stream.read_exact(&mut msg).unwrap();
        parse_reply(&msg)
    }
}

fn parse_reply(msg: &[u8]) -> Reply {
    let rc = msg[5];
    let n_fields = u16::from_be_bytes([msg[18], msg[19]]);
    let n_ops = u16::from_be_bytes([msg[20], msg[21]]);
    let mut pos = 22;
    for _ in 0..n_fields {
        let size = u32::from_be_bytes(msg[pos..pos + 4].try_into().unwrap()) as usize;
        pos += 4 + size;
    }
    let mut ops = Vec::new();
    for _ in 0..n_ops {
        let size = u32::from_be_bytes(msg[pos..pos + 4].try_into().unwrap()) as usize;
        let particle = msg[pos + 5];
        let name_len = usize::from(msg[pos + 7]);
        let name = String::from_utf8(msg[pos + 8..pos + 8 + name_len].to_vec()).unwrap();
        let data = &msg[pos + 8 + name_len..pos + 4 + size];
        ops.push((name, particle, hex(data)));
        pos += 4 + size;
    }
    Reply { rc, ops }
}

fn modify<'a>(bin: &'a str, bytes: &str) -> Op<'a> {
    Op(CDT_MODIFY, bin, BLOB, unhex(bytes))
}

fn read<'a>(bin: &'a str, bytes: &str) -> Op<'a> {
    Op(CDT_READ, bin, BLOB, unhex(bytes))
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
    let r = c.operate(&d, &[modify("l", "932305a20361"), Op(READ, "l", 0, vec![])]);
    assert_eq!(r, ok(&[("l", int(1)), ("l", (20, "93010203".into()))]));
    // get_by_value_relative_rank_range_count(2, -1, 2, VALUE) on [1, 2, 3].
    let r = c.operate(&d, &[read("l", "951b0702ff02")]);
    assert_eq!(r, ok(&[("l", (20, "920102".into()))]));
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
