//! Test-side helpers for the job tests: a fixture-file reader, a small
//! message codec (the crate's wire codec is private), and a raw connection to
//! an embedded node.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use ripemd::{Digest, Ripemd160};

/// The fixture directory.
pub(crate) fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/aerospike-8.1.2.0")
}

/// One line of a fixture file.
#[derive(Debug, Clone)]
pub(crate) enum Line {
    /// `# STEP ...`
    Step(String),
    /// `C>S <hex>`
    Request(Vec<u8>),
    /// `S>C <hex>`
    Reply(Vec<u8>),
}

/// Decodes lowercase hex.
pub(crate) fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// Reads a fixture file into its steps and frames.
pub(crate) fn read_fixture(name: &str) -> Vec<Line> {
    let text = std::fs::read_to_string(fixture_dir().join(name)).expect("fixture file");
    text.lines()
        .filter_map(|l| {
            if let Some(s) = l.strip_prefix("# STEP ") {
                Some(Line::Step(s.to_owned()))
            } else if let Some(h) = l.strip_prefix("C>S ") {
                Some(Line::Request(unhex(h.trim())))
            } else {
                l.strip_prefix("S>C ").map(|h| Line::Reply(unhex(h.trim())))
            }
        })
        .collect()
}

/// Each request frame with the reply frames that follow it, and the step it
/// belongs to.
pub(crate) fn exchanges(lines: &[Line]) -> Vec<(String, Vec<u8>, Vec<Vec<u8>>)> {
    let mut out: Vec<(String, Vec<u8>, Vec<Vec<u8>>)> = Vec::new();
    let mut step = String::new();
    for l in lines {
        match l {
            Line::Step(s) => step = s.clone(),
            Line::Request(f) => out.push((step.clone(), f.clone(), Vec::new())),
            Line::Reply(f) => {
                if let Some(last) = out.last_mut() {
                    last.2.push(f.clone());
                }
            }
        }
    }
    out
}

/// A decoded message.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Msg {
    pub(crate) info1: u8,
    pub(crate) info2: u8,
    pub(crate) info3: u8,
    pub(crate) rc: u8,
    pub(crate) generation: u32,
    pub(crate) ttl: u32,
    pub(crate) fields: Vec<(u8, Vec<u8>)>,
    /// (op, particle type, bin name, value bytes)
    pub(crate) ops: Vec<(u8, u8, String, Vec<u8>)>,
}

impl Msg {
    pub(crate) fn field(&self, t: u8) -> Option<&[u8]> {
        self.fields
            .iter()
            .find(|(k, _)| *k == t)
            .map(|(_, v)| v.as_slice())
    }

    /// The integer value of bin `name`.
    pub(crate) fn int_bin(&self, name: &str) -> Option<i64> {
        self.ops
            .iter()
            .find(|o| o.2 == name && o.1 == 1)
            .map(|o| i64::from_be_bytes(o.3.clone().try_into().unwrap()))
    }

    /// The string value of bin `name`.
    pub(crate) fn str_bin(&self, name: &str) -> Option<String> {
        self.ops
            .iter()
            .find(|o| o.2 == name && o.1 == 3)
            .map(|o| String::from_utf8(o.3.clone()).unwrap())
    }

    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut b = vec![22, self.info1, self.info2, self.info3, 0, self.rc];
        b.extend_from_slice(&self.generation.to_be_bytes());
        b.extend_from_slice(&self.ttl.to_be_bytes());
        b.extend_from_slice(&1000u32.to_be_bytes());
        b.extend_from_slice(&(self.fields.len() as u16).to_be_bytes());
        b.extend_from_slice(&(self.ops.len() as u16).to_be_bytes());
        for (k, v) in &self.fields {
            b.extend_from_slice(&((v.len() + 1) as u32).to_be_bytes());
            b.push(*k);
            b.extend_from_slice(v);
        }
        for (op, pt, name, v) in &self.ops {
            b.extend_from_slice(&((4 + name.len() + v.len()) as u32).to_be_bytes());
            b.extend_from_slice(&[*op, *pt, 0, name.len() as u8]);
            b.extend_from_slice(name.as_bytes());
            b.extend_from_slice(v);
        }
        frame(3, &b)
    }
}

/// A proto frame of `kind` around `body`.
pub(crate) fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut f = vec![2, kind];
    f.extend_from_slice(&(body.len() as u64).to_be_bytes()[2..]);
    f.extend_from_slice(body);
    f
}

fn be32(b: &[u8]) -> usize {
    u32::from_be_bytes(b[..4].try_into().unwrap()) as usize
}

/// Decodes every message of a frame body.
pub(crate) fn decode_body(mut b: &[u8]) -> Vec<Msg> {
    let mut out = Vec::new();
    while !b.is_empty() {
        let mut m = Msg {
            info1: b[1],
            info2: b[2],
            info3: b[3],
            rc: b[5],
            generation: be32(&b[6..]) as u32,
            ttl: be32(&b[10..]) as u32,
            ..Msg::default()
        };
        let nf = u16::from_be_bytes([b[18], b[19]]);
        let no = u16::from_be_bytes([b[20], b[21]]);
        let mut p = 22;
        for _ in 0..nf {
            let sz = be32(&b[p..]);
            m.fields.push((b[p + 4], b[p + 5..p + 4 + sz].to_vec()));
            p += 4 + sz;
        }
        for _ in 0..no {
            let sz = be32(&b[p..]);
            let nl = usize::from(b[p + 7]);
            let name = String::from_utf8(b[p + 8..p + 8 + nl].to_vec()).unwrap();
            m.ops
                .push((b[p + 4], b[p + 5], name, b[p + 8 + nl..p + 4 + sz].to_vec()));
            p += 4 + sz;
        }
        out.push(m);
        b = &b[p..];
    }
    out
}

/// The key digest of an integer key.
pub(crate) fn digest(set: &str, key: i64) -> [u8; 20] {
    let mut h = Ripemd160::new();
    h.update(set.as_bytes());
    h.update([1u8]);
    h.update(key.to_be_bytes());
    h.finalize().into()
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

    /// Reads one whole frame: (type, body).
    pub(crate) fn read_frame(&mut self) -> (u8, Vec<u8>) {
        let mut h = [0u8; 8];
        self.stream.read_exact(&mut h).expect("frame header");
        let mut l = [0u8; 8];
        l[2..].copy_from_slice(&h[2..]);
        let mut body = vec![0u8; u64::from_be_bytes(l) as usize];
        self.stream.read_exact(&mut body).expect("frame body");
        (h[1], body)
    }

    /// Sends `frame` and reads `n` whole reply frames (header included).
    pub(crate) fn exchange(&mut self, frame: &[u8], n: usize) -> Vec<Vec<u8>> {
        self.stream.write_all(frame).unwrap();
        (0..n)
            .map(|_| {
                let (kind, body) = self.read_frame();
                self::frame(kind, &body)
            })
            .collect()
    }

    /// Sends a message frame and reads messages until one has LAST, or the
    /// first reply when it is an error without LAST.
    pub(crate) fn stream(&mut self, frame: &[u8]) -> Vec<Vec<Msg>> {
        self.stream.write_all(frame).unwrap();
        let mut frames = Vec::new();
        loop {
            let msgs = decode_body(&self.read_frame().1);
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
                Bin::Int(i) => (2, 1, n.to_string(), i.to_be_bytes().to_vec()),
                Bin::Str(s) => (2, 3, n.to_string(), s.as_bytes().to_vec()),
                Bin::Bool(b) => (2, 17, n.to_string(), vec![u8::from(*b)]),
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

    /// Polls `query-show:id=<trid>` until the job is done; returns the line.
    pub(crate) fn wait_done(&mut self, trid: u64, limit: Duration) -> String {
        let end = Instant::now() + limit;
        loop {
            let v = self.info(&format!("query-show:id={trid}"));
            if v.contains(":status=done(") || Instant::now() > end {
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
    ops: Vec<(u8, u8, String, Vec<u8>)>,
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
pub(crate) fn write_str(name: &str, v: &str) -> (u8, u8, String, Vec<u8>) {
    (2, 3, name.to_owned(), v.as_bytes().to_vec())
}

/// An increment op of an integer bin.
pub(crate) fn incr(name: &str, by: i64) -> (u8, u8, String, Vec<u8>) {
    (5, 1, name.to_owned(), by.to_be_bytes().to_vec())
}
