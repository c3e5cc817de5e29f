//! A deliberately small client-side codec for tests that talk to a node over
//! a raw `TcpStream` (the crate's own codec is crate-private).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Proto type of info frames.
pub const TYPE_INFO: u8 = 1;
/// Proto type of message frames.
pub const TYPE_MESSAGE: u8 = 3;

/// `body` behind an 8-byte proto header of type `kind`.
pub fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let len = (body.len() as u64).to_be_bytes();
    let mut out = vec![2, kind];
    out.extend_from_slice(&len[2..]);
    out.extend_from_slice(body);
    out
}

/// An info request frame for `commands`, each ended by `\n`.
pub fn info_request(commands: &[&str]) -> Vec<u8> {
    let body: String = commands.iter().map(|c| format!("{c}\n")).collect();
    frame(TYPE_INFO, body.as_bytes())
}

/// Reads one whole frame (header included).
pub fn read_frame(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    let mut header = [0u8; 8];
    stream.read_exact(&mut header)?;
    let mut len = [0u8; 8];
    len[2..].copy_from_slice(&header[2..]);
    let len = u64::from_be_bytes(len) as usize;
    let mut out = header.to_vec();
    out.resize(8 + len, 0);
    stream.read_exact(&mut out[8..])?;
    Ok(out)
}

/// A connection with a 5 s read timeout.
pub fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).expect("connect to embedded node");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s
}

/// Sends `request` and reads one reply frame.
pub fn exchange(stream: &mut TcpStream, request: &[u8]) -> io::Result<Vec<u8>> {
    stream.write_all(request)?;
    read_frame(stream)
}

/// Sends info `commands` and returns the `(command, value)` pairs.
pub fn info(stream: &mut TcpStream, commands: &[&str]) -> Vec<(String, String)> {
    let reply = exchange(stream, &info_request(commands)).expect("info reply");
    parse_info(&reply[8..])
}

/// Splits an info reply body into `(command, value)` pairs.
pub fn parse_info(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('\t') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (l.to_owned(), String::new()),
        })
        .collect()
}

/// One operation of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsgOp {
    pub kind: u8,
    pub particle: u8,
    pub name: String,
    pub data: Vec<u8>,
}

/// A decoded message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Msg {
    pub info1: u8,
    pub info2: u8,
    pub info3: u8,
    pub rc: u8,
    pub generation: u32,
    pub ttl: u32,
    /// The transaction timeout of a request; in a batch reply, the index of
    /// the key the message answers.
    pub timeout: u32,
    pub fields: Vec<(u8, Vec<u8>)>,
    pub ops: Vec<MsgOp>,
}

impl Msg {
    /// The whole frame of this message, transaction ttl 1000.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![22, self.info1, self.info2, self.info3, 0, self.rc];
        b.extend_from_slice(&self.generation.to_be_bytes());
        b.extend_from_slice(&self.ttl.to_be_bytes());
        b.extend_from_slice(&1000u32.to_be_bytes());
        b.extend_from_slice(&(self.fields.len() as u16).to_be_bytes());
        b.extend_from_slice(&(self.ops.len() as u16).to_be_bytes());
        for (t, d) in &self.fields {
            b.extend_from_slice(&(d.len() as u32 + 1).to_be_bytes());
            b.push(*t);
            b.extend_from_slice(d);
        }
        for o in &self.ops {
            b.extend_from_slice(&((4 + o.name.len() + o.data.len()) as u32).to_be_bytes());
            b.extend_from_slice(&[o.kind, o.particle, 0, o.name.len() as u8]);
            b.extend_from_slice(o.name.as_bytes());
            b.extend_from_slice(&o.data);
        }
        frame(TYPE_MESSAGE, &b)
    }

    /// Decodes every message of a frame body; panics on malformed input
    /// (the test fails).
    pub fn decode_all(mut b: &[u8]) -> Vec<Msg> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let be32 = |s: &[u8]| u32::from_be_bytes([s[0], s[1], s[2], s[3]]);
            let hsz = usize::from(b[0]);
            let mut m = Msg {
                info1: b[1],
                info2: b[2],
                info3: b[3],
                rc: b[5],
                generation: be32(&b[6..10]),
                ttl: be32(&b[10..14]),
                timeout: be32(&b[14..18]),
                ..Msg::default()
            };
            let n_fields = u16::from_be_bytes([b[18], b[19]]);
            let n_ops = u16::from_be_bytes([b[20], b[21]]);
            let mut p = hsz;
            for _ in 0..n_fields {
                let size = be32(&b[p..]) as usize;
                m.fields.push((b[p + 4], b[p + 5..p + 4 + size].to_vec()));
                p += 4 + size;
            }
            for _ in 0..n_ops {
                let size = be32(&b[p..]) as usize;
                let body = &b[p + 4..p + 4 + size];
                let nl = usize::from(body[3]);
                m.ops.push(MsgOp {
                    kind: body[0],
                    particle: body[1],
                    name: String::from_utf8(body[4..4 + nl].to_vec()).unwrap(),
                    data: body[4 + nl..].to_vec(),
                });
                p += 4 + size;
            }
            out.push(m);
            b = &b[p..];
        }
        out
    }

    /// Decodes a whole frame holding exactly one message.
    pub fn from_frame(frame: &[u8]) -> Msg {
        assert_eq!(frame[1], TYPE_MESSAGE, "not a message frame");
        let mut all = Msg::decode_all(&frame[8..]);
        assert_eq!(all.len(), 1, "expected one message");
        all.remove(0)
    }
}

/// A made-up digest for record number `n`: the server never recomputes a
/// digest from a key, so any 20 bytes name a record (and its partition).
pub fn digest_for(n: u32) -> Vec<u8> {
    let mut d = vec![0u8; 20];
    d[..4].copy_from_slice(&n.to_le_bytes());
    d[4..8].copy_from_slice(&n.wrapping_mul(2_654_435_761).to_be_bytes());
    d
}

/// A write of integer bins `bins` to record `digest` of `ns`/`set`.
pub fn put_ints(ns: &str, set: &str, digest: &[u8], bins: &[(&str, i64)]) -> Msg {
    Msg {
        info2: 1,
        fields: vec![
            (0, ns.as_bytes().to_vec()),
            (1, set.as_bytes().to_vec()),
            (4, digest.to_vec()),
        ],
        ops: bins
            .iter()
            .map(|(n, v)| MsgOp {
                kind: 2,
                particle: 1,
                name: (*n).into(),
                data: v.to_be_bytes().to_vec(),
            })
            .collect(),
        ..Msg::default()
    }
}

/// A read of all bins of record `digest`.
pub fn get_all(ns: &str, set: &str, digest: &[u8]) -> Msg {
    Msg {
        info1: 3,
        fields: vec![
            (0, ns.as_bytes().to_vec()),
            (1, set.as_bytes().to_vec()),
            (4, digest.to_vec()),
        ],
        ..Msg::default()
    }
}

/// Standard base64 with padding (for `udf-put` content).
pub fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(A[((n >> (18 - 6 * i)) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}
