//! Helpers of the job tests on top of `support::{fixtures, wire}`: fixture
//! exchanges with their step titles, a raw connection to an embedded node
//! with scan, load and `query-show` helpers, and job start frames.

#![allow(dead_code)]

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::support::fixtures::{self, Fixture};
use crate::support::wire::{self};
pub(crate) use crate::support::wire::{frame, Msg, MsgOp};

/// Loads a fixture file.
pub(crate) fn read_fixture(name: &str) -> Fixture {
    fixtures::load(name)
}

/// Each request (whole frame) with its step title and the reply frames that
/// answered it on the same connection.
pub(crate) fn exchanges(f: &Fixture) -> Vec<(String, Vec<u8>, Vec<Vec<u8>>)> {
    f.exchanges()
        .into_iter()
        .map(|x| {
            (
                f.step_of(x.request.line).to_owned(),
                x.request.bytes,
                x.replies.into_iter().map(|r| r.bytes).collect(),
            )
        })
        .collect()
}

/// Decodes every message of a frame body.
pub(crate) fn decode_body(b: &[u8]) -> Vec<Msg> {
    Msg::decode_all(b)
}

/// Field and bin accessors of a decoded message.
pub(crate) trait MsgExt {
    /// The data of the first field of type `t`.
    fn field(&self, t: u8) -> Option<&[u8]>;
    /// The integer value of bin `name`.
    fn int_bin(&self, name: &str) -> Option<i64>;
    /// The string value of bin `name`.
    fn str_bin(&self, name: &str) -> Option<String>;
}

impl MsgExt for Msg {
    fn field(&self, t: u8) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(k, _)| *k == t)
            .map(|(_, v)| v.as_slice())
    }

    fn int_bin(&self, name: &str) -> Option<i64> {
        self.ops
            .iter()
            .find(|o| o.name == name && o.particle == 1)
            .map(|o| i64::from_be_bytes(o.data.clone().try_into().unwrap()))
    }

    fn str_bin(&self, name: &str) -> Option<String> {
        self.ops
            .iter()
            .find(|o| o.name == name && o.particle == 3)
            .map(|o| String::from_utf8(o.data.clone()).unwrap())
    }
}

/// An operation of a start frame or write.
pub(crate) fn op(kind: u8, particle: u8, name: &str, data: Vec<u8>) -> MsgOp {
    MsgOp {
        kind,
        particle,
        name: name.to_owned(),
        data,
    }
}

/// The key digest of an integer key.
pub(crate) fn digest(set: &str, key: i64) -> [u8; 20] {
    *aerospike_blocking::Key::new("test", set, key)
        .expect("a valid key")
        .digest()
}

/// The partition of a digest.
pub(crate) fn partition_of(d: &[u8; 20]) -> u16 {
    u16::from_le_bytes([d[0], d[1]]) & 0x0fff
}

/// A bin value for writes.
pub(crate) enum Bin<'a> {
    Int(i64),
    Str(&'a str),
    Bool(bool),
}

/// A raw connection to one node.
pub(crate) struct Conn {
    pub(crate) stream: TcpStream,
}

impl Conn {
    pub(crate) fn connect(addr: &str) -> Conn {
        let stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Conn { stream }
    }

    /// Sends `frame` and reads `n` whole reply frames (header included).
    pub(crate) fn exchange(&mut self, frame: &[u8], n: usize) -> Vec<Vec<u8>> {
        self.stream.write_all(frame).unwrap();
        (0..n)
            .map(|_| wire::read_frame(&mut self.stream).expect("reply frame"))
            .collect()
    }

    /// Sends a message frame and reads messages until one has LAST, or the
    /// first reply when it is an error without LAST.
    pub(crate) fn stream(&mut self, frame: &[u8]) -> Vec<Vec<Msg>> {
        self.stream.write_all(frame).unwrap();
        let mut frames = Vec::new();
        loop {
            let reply = wire::read_frame(&mut self.stream).expect("reply frame");
            let msgs = decode_body(&reply[8..]);
            let done = msgs.iter().any(|m| m.info3 & 1 != 0)
                || (msgs.len() == 1 && msgs[0].rc != 0 && msgs[0].info3 == 0);
            frames.push(msgs);
            if done {
                return frames;
            }
        }
    }

    /// One info command; returns its value.
    pub(crate) fn info(&mut self, cmd: &str) -> String {
        let f = frame(1, format!("{cmd}\n").as_bytes());
        let reply = self.exchange(&f, 1).remove(0);
        let text = String::from_utf8(reply[8..].to_vec()).unwrap();
        let line = text.strip_suffix('\n').unwrap_or(&text);
        line.split_once('\t')
            .map(|(_, v)| v.to_owned())
            .unwrap_or_default()
    }

    /// Writes a record with an integer key.
    pub(crate) fn put(&mut self, ns: &str, set: &str, key: i64, bins: &[(&str, Bin<'_>)]) {
        let ops = bins
            .iter()
            .map(|(n, v)| match v {
                Bin::Int(i) => op(2, 1, n, i.to_be_bytes().to_vec()),
                Bin::Str(s) => op(2, 3, n, s.as_bytes().to_vec()),
                Bin::Bool(b) => op(2, 17, n, vec![u8::from(*b)]),
            })
            .collect();
        let m = Msg {
            info2: 1,
            fields: vec![
                (0, ns.as_bytes().to_vec()),
                (1, set.as_bytes().to_vec()),
                (4, digest(set, key).to_vec()),
            ],
            ops,
            ..Msg::default()
        };
        let reply = decode_body(&self.exchange(&m.encode(), 1)[0][8..]);
        assert_eq!(reply[0].rc, 0, "put {set}/{key}");
    }

    /// Loads `n` records like the fixtures' data sets: bins i, age = i % 50,
    /// active = i even, name = "n<i>".
    pub(crate) fn load(&mut self, ns: &str, set: &str, n: i64) {
        for i in 0..n {
            let name = format!("n{i}");
            self.put(
                ns,
                set,
                i,
                &[
                    ("i", Bin::Int(i)),
                    ("age", Bin::Int(i % 50)),
                    ("active", Bin::Bool(i % 2 == 0)),
                    ("name", Bin::Str(&name)),
                ],
            );
        }
    }

    /// A foreground scan of `set` over the given partitions; returns every
    /// message (records, partition-done markers, the LAST message).
    pub(crate) fn scan(&mut self, ns: &str, set: &str, pids: &[u16]) -> Vec<Msg> {
        let pid_bytes: Vec<u8> = pids.iter().flat_map(|p| p.to_le_bytes()).collect();
        let m = Msg {
            info1: 1,
            info3: 4,
            ttl: u32::MAX,
            fields: vec![
                (0, ns.as_bytes().to_vec()),
                (1, set.as_bytes().to_vec()),
                (9, 30000u32.to_be_bytes().to_vec()),
                (11, pid_bytes),
            ],
            ..Msg::default()
        };
        self.stream(&m.encode()).into_iter().flatten().collect()
    }

    /// Polls `query-show:id=<trid>` until the job is done (or unknown);
    /// returns the answer.
    pub(crate) fn wait_done(&mut self, trid: u64, limit: Duration) -> String {
        let end = Instant::now() + limit;
        loop {
            let v = self.info(&format!("query-show:id={trid}"));
            if v.contains(":status=done(") || v.starts_with("ERROR") || Instant::now() > end {
                return v;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// The value of `key` in a `query-show` line.
pub(crate) fn show_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(':')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// The keys of a `query-show` line, in order.
pub(crate) fn show_keys(line: &str) -> Vec<String> {
    line.split(':')
        .map(|kv| kv.split('=').next().unwrap_or("").to_owned())
        .collect()
}

/// A background ops start frame in the Python client's layout.
pub(crate) fn ops_start(
    ns: &str,
    set: &str,
    trid: u64,
    rps: Option<u32>,
    ttl: u32,
    ops: Vec<MsgOp>,
) -> Vec<u8> {
    let mut fields = vec![(0, ns.as_bytes().to_vec()), (1, set.as_bytes().to_vec())];
    if let Some(r) = rps {
        fields.push((10, r.to_be_bytes().to_vec()));
    }
    fields.push((9, 30000u32.to_be_bytes().to_vec()));
    fields.push((7, trid.to_be_bytes().to_vec()));
    Msg {
        info2: 1,
        ttl,
        fields,
        ops,
        ..Msg::default()
    }
    .encode()
}

/// A write op of a string bin.
pub(crate) fn write_str(name: &str, v: &str) -> MsgOp {
    op(2, 3, name, v.as_bytes().to_vec())
}

/// A delete-record op.
pub(crate) fn delete_op() -> MsgOp {
    op(14, 0, "", Vec::new())
}

/// `frame` (one message) with field `kind` appended.
pub(crate) fn add_field(frame: &[u8], kind: u8, data: Vec<u8>) -> Vec<u8> {
    let mut m = Msg::from_frame(frame);
    m.fields.push((kind, data));
    m.encode()
}

/// The exact reply to a successful job start.
pub(crate) fn success_reply() -> Vec<u8> {
    unhex_str("020300000000001616000001000000000000000000000000000000000000")
}

fn unhex_str(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}
