//! The message (type 3) codec: header, fields and operations.

use super::{proto, DecodeError};

/// Size of the message header.
pub(crate) const MSG_HEADER_SIZE: usize = 22;

/// Bits of `info1`.
pub(crate) mod info1 {
    pub(crate) const READ: u8 = 1;
    pub(crate) const GET_ALL: u8 = 1 << 1;
    pub(crate) const SHORT_QUERY: u8 = 1 << 2;
    pub(crate) const BATCH: u8 = 1 << 3;
    pub(crate) const NOBINDATA: u8 = 1 << 5;
}

/// Bits of `info2`.
pub(crate) mod info2 {
    pub(crate) const WRITE: u8 = 1;
    pub(crate) const DELETE: u8 = 1 << 1;
    pub(crate) const GENERATION: u8 = 1 << 2;
    pub(crate) const GENERATION_GT: u8 = 1 << 3;
    pub(crate) const DURABLE_DELETE: u8 = 1 << 4;
    pub(crate) const CREATE_ONLY: u8 = 1 << 5;
    pub(crate) const RESPOND_ALL_OPS: u8 = 1 << 7;
}

/// Bits of `info3`.
pub(crate) mod info3 {
    pub(crate) const LAST: u8 = 1;
    pub(crate) const PARTITION_DONE: u8 = 1 << 2;
    pub(crate) const UPDATE_ONLY: u8 = 1 << 3;
    pub(crate) const CREATE_OR_REPLACE: u8 = 1 << 4;
    pub(crate) const REPLACE_ONLY: u8 = 1 << 5;
}

/// Field type codes.
pub(crate) mod field {
    pub(crate) const NAMESPACE: u8 = 0;
    pub(crate) const SET: u8 = 1;
    pub(crate) const KEY: u8 = 2;
    pub(crate) const DIGEST: u8 = 4;
    pub(crate) const TRID: u8 = 7;
    pub(crate) const SOCKET_TIMEOUT: u8 = 9;
    pub(crate) const RECORDS_PER_SECOND: u8 = 10;
    pub(crate) const PID_ARRAY: u8 = 11;
    pub(crate) const DIGEST_ARRAY: u8 = 12;
    pub(crate) const MAX_RECORDS: u8 = 13;
    pub(crate) const BVAL_ARRAY: u8 = 15;
    pub(crate) const INDEX_RANGE: u8 = 22;
    pub(crate) const INDEX_TYPE: u8 = 26;
    pub(crate) const UDF_PACKAGE_NAME: u8 = 30;
    pub(crate) const UDF_FUNCTION: u8 = 31;
    pub(crate) const UDF_ARGLIST: u8 = 32;
    pub(crate) const UDF_OP: u8 = 33;
    pub(crate) const QUERY_BINLIST: u8 = 40;
    pub(crate) const FILTER_EXP: u8 = 43;
}

/// Operation type codes.
pub(crate) mod op {
    pub(crate) const READ: u8 = 1;
    pub(crate) const WRITE: u8 = 2;
    pub(crate) const CDT_READ: u8 = 3;
    pub(crate) const CDT_MODIFY: u8 = 4;
    pub(crate) const INCR: u8 = 5;
    pub(crate) const EXP_READ: u8 = 7;
    pub(crate) const APPEND: u8 = 9;
    pub(crate) const PREPEND: u8 = 10;
    pub(crate) const TOUCH: u8 = 11;
    pub(crate) const BIT_READ: u8 = 12;
    pub(crate) const DELETE: u8 = 14;
    pub(crate) const HLL_READ: u8 = 15;

    /// True for operation types that only read.
    pub(crate) fn is_read(t: u8) -> bool {
        matches!(t, READ | CDT_READ | EXP_READ | BIT_READ | HLL_READ)
    }
}

/// The 22-byte message header (without the leading size byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Header {
    pub(crate) info1: u8,
    pub(crate) info2: u8,
    pub(crate) info3: u8,
    pub(crate) info4: u8,
    pub(crate) result_code: u8,
    pub(crate) generation: u32,
    pub(crate) record_ttl: u32,
    pub(crate) transaction_ttl: u32,
}

/// One field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) kind: u8,
    pub(crate) data: Vec<u8>,
}

impl Field {
    pub(crate) fn new(kind: u8, data: impl Into<Vec<u8>>) -> Self {
        Field {
            kind,
            data: data.into(),
        }
    }

    /// The data as a UTF-8 string, if it is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.data).ok()
    }

    /// The data as a big-endian unsigned integer of up to 8 bytes.
    pub(crate) fn as_u64(&self) -> Option<u64> {
        (self.data.len() <= 8).then(|| self.data.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)))
    }
}

/// One operation, with its value still in particle form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Op {
    pub(crate) kind: u8,
    pub(crate) particle: u8,
    pub(crate) name: String,
    pub(crate) data: Vec<u8>,
}

/// A whole message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Message {
    pub(crate) header: Header,
    pub(crate) fields: Vec<Field>,
    pub(crate) ops: Vec<Op>,
}

impl Message {
    /// The first field of type `kind`.
    pub(crate) fn field(&self, kind: u8) -> Option<&Field> {
        self.fields.iter().find(|f| f.kind == kind)
    }

    /// Appends the message body (no proto header).
    pub(crate) fn encode_body(&self, buf: &mut Vec<u8>) {
        let h = &self.header;
        buf.push(MSG_HEADER_SIZE as u8);
        buf.extend_from_slice(&[h.info1, h.info2, h.info3, h.info4, h.result_code]);
        buf.extend_from_slice(&h.generation.to_be_bytes());
        buf.extend_from_slice(&h.record_ttl.to_be_bytes());
        buf.extend_from_slice(&h.transaction_ttl.to_be_bytes());
        buf.extend_from_slice(&(self.fields.len() as u16).to_be_bytes());
        buf.extend_from_slice(&(self.ops.len() as u16).to_be_bytes());
        for f in &self.fields {
            buf.extend_from_slice(&((f.data.len() + 1) as u32).to_be_bytes());
            buf.push(f.kind);
            buf.extend_from_slice(&f.data);
        }
        for o in &self.ops {
            let size = 4 + o.name.len() + o.data.len();
            buf.extend_from_slice(&(size as u32).to_be_bytes());
            buf.extend_from_slice(&[o.kind, o.particle, 0, o.name.len() as u8]);
            buf.extend_from_slice(o.name.as_bytes());
            buf.extend_from_slice(&o.data);
        }
    }

    /// The whole frame, proto header included.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut buf = vec![0u8; proto::HEADER_SIZE];
        self.encode_body(&mut buf);
        let len = buf.len() - proto::HEADER_SIZE;
        let mut head = Vec::with_capacity(8);
        proto::write_header(&mut head, proto::TYPE_MESSAGE, len);
        buf[..8].copy_from_slice(&head);
        buf
    }

    /// Decodes one message from the front of `b`; returns it and its size.
    pub(crate) fn decode(b: &[u8]) -> Result<(Message, usize), DecodeError> {
        let mut c = Cursor { b, pos: 0 };
        let hsz = usize::from(c.u8()?);
        if hsz < MSG_HEADER_SIZE {
            return Err(DecodeError::new(format!("message header size {hsz}")));
        }
        let info1 = c.u8()?;
        let info2 = c.u8()?;
        let info3 = c.u8()?;
        let info4 = c.u8()?;
        let result_code = c.u8()?;
        let generation = c.u32()?;
        let record_ttl = c.u32()?;
        let transaction_ttl = c.u32()?;
        let n_fields = c.u16()?;
        let n_ops = c.u16()?;
        c.take(hsz - MSG_HEADER_SIZE)?;
        let mut m = Message {
            header: Header {
                info1,
                info2,
                info3,
                info4,
                result_code,
                generation,
                record_ttl,
                transaction_ttl,
            },
            fields: Vec::with_capacity(usize::from(n_fields).min(64)),
            ops: Vec::with_capacity(usize::from(n_ops).min(64)),
        };
        for _ in 0..n_fields {
            let size = c.u32()? as usize;
            if size == 0 {
                return Err(DecodeError::new("field of size 0"));
            }
            let kind = c.u8()?;
            let data = c.take(size - 1)?.to_vec();
            m.fields.push(Field { kind, data });
        }
        for _ in 0..n_ops {
            let size = c.u32()? as usize;
            if size < 4 {
                return Err(DecodeError::new(format!("operation of size {size}")));
            }
            let body = c.take(size)?;
            let name_len = usize::from(body[3]);
            if 4 + name_len > size {
                return Err(DecodeError::new("bin name runs past its operation"));
            }
            let name = std::str::from_utf8(&body[4..4 + name_len])
                .map_err(|_| DecodeError::new("bin name is not UTF-8"))?
                .to_owned();
            m.ops.push(Op {
                kind: body[0],
                particle: body[1],
                name,
                data: body[4 + name_len..].to_vec(),
            });
        }
        Ok((m, c.pos))
    }

    /// Decodes every message in a frame body (scan and query replies carry
    /// several).
    pub(crate) fn decode_all(mut b: &[u8]) -> Result<Vec<Message>, DecodeError> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let (m, n) = Message::decode(b)?;
            out.push(m);
            b = &b[n..];
        }
        Ok(out)
    }
}

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.b.len())
            .ok_or_else(|| DecodeError::new("message is truncated"))?;
        let s = &self.b[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        let s = self.take(2)?;
        Ok(u16::from_be_bytes([s[0], s[1]]))
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Message {
        Message {
            header: Header {
                info2: info2::WRITE,
                transaction_ttl: 1000,
                ..Header::default()
            },
            fields: vec![
                Field::new(field::NAMESPACE, "test"),
                Field::new(field::SET, "kv"),
            ],
            ops: vec![Op {
                kind: op::WRITE,
                particle: 1,
                name: "i".into(),
                data: 1i64.to_be_bytes().to_vec(),
            }],
        }
    }

    #[test]
    fn round_trip() {
        let m = sample();
        let f = m.encode();
        let (d, n) = Message::decode(&f[8..]).unwrap();
        assert_eq!(d, m);
        assert_eq!(n, f.len() - 8);
    }

    #[test]
    fn every_prefix_is_an_error() {
        let f = sample().encode();
        for n in 0..f.len() - 8 {
            assert!(Message::decode(&f[8..8 + n]).is_err());
        }
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Message::decode_all(&b);
        }
    }
}
