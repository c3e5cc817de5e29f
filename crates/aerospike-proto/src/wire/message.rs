//! The message (type 3) codec: header, fields and operations.

use super::{proto, DecodeError};

/// Size of the message header.
pub const MSG_HEADER_SIZE: usize = 22;

/// Bits of `info1`.
pub mod info1 {
    /// `info1` bit: read (`1`).
    pub const READ: u8 = 1;
    /// `info1` bit: get all (`1 << 1`).
    pub const GET_ALL: u8 = 1 << 1;
    /// `info1` bit: short query (`1 << 2`).
    pub const SHORT_QUERY: u8 = 1 << 2;
    /// `info1` bit: batch (`1 << 3`).
    pub const BATCH: u8 = 1 << 3;
    /// `info1` bit: nobindata (`1 << 5`).
    pub const NOBINDATA: u8 = 1 << 5;
}

/// Bits of `info2`.
pub mod info2 {
    /// `info2` bit: write (`1`).
    pub const WRITE: u8 = 1;
    /// `info2` bit: delete (`1 << 1`).
    pub const DELETE: u8 = 1 << 1;
    /// `info2` bit: generation (`1 << 2`).
    pub const GENERATION: u8 = 1 << 2;
    /// `info2` bit: generation gt (`1 << 3`).
    pub const GENERATION_GT: u8 = 1 << 3;
    /// `info2` bit: durable delete (`1 << 4`).
    pub const DURABLE_DELETE: u8 = 1 << 4;
    /// `info2` bit: create only (`1 << 5`).
    pub const CREATE_ONLY: u8 = 1 << 5;
    /// `info2` bit: respond all ops (`1 << 7`).
    pub const RESPOND_ALL_OPS: u8 = 1 << 7;
}

/// Bits of `info3`.
pub mod info3 {
    /// `info3` bit: last (`1`).
    pub const LAST: u8 = 1;
    /// `info3` bit: partition done (`1 << 2`).
    pub const PARTITION_DONE: u8 = 1 << 2;
    /// `info3` bit: update only (`1 << 3`).
    pub const UPDATE_ONLY: u8 = 1 << 3;
    /// `info3` bit: create or replace (`1 << 4`).
    pub const CREATE_OR_REPLACE: u8 = 1 << 4;
    /// `info3` bit: replace only (`1 << 5`).
    pub const REPLACE_ONLY: u8 = 1 << 5;
}

/// Field type codes.
pub mod field {
    /// Field type: namespace (`0`).
    pub const NAMESPACE: u8 = 0;
    /// Field type: set (`1`).
    pub const SET: u8 = 1;
    /// Field type: key (`2`).
    pub const KEY: u8 = 2;
    /// Field type: digest (`4`).
    pub const DIGEST: u8 = 4;
    /// Field type: trid (`7`).
    pub const TRID: u8 = 7;
    /// Field type: socket timeout (`9`).
    pub const SOCKET_TIMEOUT: u8 = 9;
    /// Field type: records per second (`10`).
    pub const RECORDS_PER_SECOND: u8 = 10;
    /// Field type: pid array (`11`).
    pub const PID_ARRAY: u8 = 11;
    /// Field type: digest array (`12`).
    pub const DIGEST_ARRAY: u8 = 12;
    /// Field type: max records (`13`).
    pub const MAX_RECORDS: u8 = 13;
    /// Field type: bval array (`15`).
    pub const BVAL_ARRAY: u8 = 15;
    /// Field type: index range (`22`).
    pub const INDEX_RANGE: u8 = 22;
    /// Field type: index type (`26`).
    pub const INDEX_TYPE: u8 = 26;
    /// Field type: udf package name (`30`).
    pub const UDF_PACKAGE_NAME: u8 = 30;
    /// Field type: udf function (`31`).
    pub const UDF_FUNCTION: u8 = 31;
    /// Field type: udf arglist (`32`).
    pub const UDF_ARGLIST: u8 = 32;
    /// Field type: udf op (`33`).
    pub const UDF_OP: u8 = 33;
    /// Field type: batch index (`41`): the keys of a batch request.
    pub const BATCH_INDEX: u8 = 41;
    /// Field type: query binlist (`40`).
    pub const QUERY_BINLIST: u8 = 40;
    /// Field type: filter exp (`43`).
    pub const FILTER_EXP: u8 = 43;
}

/// Operation type codes.
pub mod op {
    /// Operation type: read (`1`).
    pub const READ: u8 = 1;
    /// Operation type: write (`2`).
    pub const WRITE: u8 = 2;
    /// Operation type: cdt read (`3`).
    pub const CDT_READ: u8 = 3;
    /// Operation type: cdt modify (`4`).
    pub const CDT_MODIFY: u8 = 4;
    /// Operation type: incr (`5`).
    pub const INCR: u8 = 5;
    /// Operation type: exp read (`7`).
    pub const EXP_READ: u8 = 7;
    /// Operation type: exp modify (`8`).
    pub const EXP_MODIFY: u8 = 8;
    /// Operation type: append (`9`).
    pub const APPEND: u8 = 9;
    /// Operation type: prepend (`10`).
    pub const PREPEND: u8 = 10;
    /// Operation type: touch (`11`).
    pub const TOUCH: u8 = 11;
    /// Operation type: bit read (`12`).
    pub const BIT_READ: u8 = 12;
    /// Operation type: delete (`14`).
    pub const DELETE: u8 = 14;
    /// Operation type: hll read (`15`).
    pub const HLL_READ: u8 = 15;

    /// True for operation types that only read.
    pub fn is_read(t: u8) -> bool {
        matches!(t, READ | CDT_READ | EXP_READ | BIT_READ | HLL_READ)
    }
}

/// The 22-byte message header (without the leading size byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// The `info1` of this Header.
    pub info1: u8,
    /// The `info2` of this Header.
    pub info2: u8,
    /// The `info3` of this Header.
    pub info3: u8,
    /// The `info4` of this Header.
    pub info4: u8,
    /// The `result_code` of this Header.
    pub result_code: u8,
    /// The `generation` of this Header.
    pub generation: u32,
    /// The `record_ttl` of this Header.
    pub record_ttl: u32,
    /// The `transaction_ttl` of this Header.
    pub transaction_ttl: u32,
}

/// One field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The `kind` of this Field.
    pub kind: u8,
    /// The `data` of this Field.
    pub data: Vec<u8>,
}

impl Field {
    /// A field of type `kind` holding `data`.
    pub fn new(kind: u8, data: impl Into<Vec<u8>>) -> Self {
        Field {
            kind,
            data: data.into(),
        }
    }

    /// The data as a UTF-8 string, if it is one.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.data).ok()
    }
    /// The data as a big-endian unsigned integer of up to 8 bytes.
    pub fn as_u64(&self) -> Option<u64> {
        (self.data.len() <= 8).then(|| self.data.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b)))
    }
}

/// One operation, with its value still in particle form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// The `kind` of this Op.
    pub kind: u8,
    /// The `particle` of this Op.
    pub particle: u8,
    /// The `name` of this Op.
    pub name: String,
    /// The `data` of this Op.
    pub data: Vec<u8>,
}

/// A whole message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    /// The `header` of this Message.
    pub header: Header,
    /// The `fields` of this Message.
    pub fields: Vec<Field>,
    /// The `ops` of this Message.
    pub ops: Vec<Op>,
}

impl Message {
    /// The first field of type `kind`.
    pub fn field(&self, kind: u8) -> Option<&Field> {
        self.fields.iter().find(|f| f.kind == kind)
    }

    /// Appends the message body (no proto header).
    pub fn encode_body(&self, buf: &mut Vec<u8>) {
        let mut w = MessageWriter::body(buf, &self.header);
        self.write_parts(&mut w);
        w.finish();
    }

    /// The whole frame, proto header included.
    pub fn encode(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        self.encode_into(&mut buf);
        buf
    }

    /// Replaces the contents of `buf` with the whole frame, reusing its
    /// allocation.
    ///
    /// ```
    /// use aerospike_proto::wire::message::Message;
    /// let mut buf = vec![9; 100];
    /// Message::default().encode_into(&mut buf);
    /// assert_eq!(buf, Message::default().encode());
    /// ```
    pub fn encode_into(&self, buf: &mut Vec<u8>) {
        let mut w = MessageWriter::frame(buf, &self.header);
        self.write_parts(&mut w);
        w.finish();
    }

    fn write_parts(&self, w: &mut MessageWriter<'_>) {
        for f in &self.fields {
            w.field(f.kind, &f.data);
        }
        for o in &self.ops {
            w.op(o.kind, o.particle, &o.name, &o.data);
        }
    }

    /// Decodes one message from the front of `b`; returns it and its size.
    pub fn decode(b: &[u8]) -> Result<(Message, usize), DecodeError> {
        let (view, used) = MessageView::parse(b)?;
        Ok((view.to_message(), used))
    }

    /// Decodes every message in a frame body (scan and query replies carry
    /// several).
    pub fn decode_all(mut b: &[u8]) -> Result<Vec<Message>, DecodeError> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let (m, n) = Message::decode(b)?;
            out.push(m);
            b = &b[n..];
        }
        Ok(out)
    }
}

/// Writes a message straight into a byte buffer: fields and operations are
/// copied from borrowed data (or written in place by a closure), with no
/// intermediate [`Message`]. The field and operation counts of the header,
/// and the proto header's length, are filled in by [`finish`](Self::finish).
///
/// ```
/// use aerospike_proto::wire::message::{Header, Message, MessageWriter};
/// let mut buf = Vec::new();
/// let mut w = MessageWriter::frame(&mut buf, &Header::default());
/// w.field(0, b"test");
/// w.op_with(2, "n", |data| {
///     data.extend_from_slice(&7i64.to_be_bytes());
///     1 // the particle type: integer
/// });
/// w.finish();
/// let (m, _) = Message::decode(&buf[8..]).unwrap();
/// assert_eq!(m.fields[0].as_str(), Some("test"));
/// assert_eq!((m.ops[0].name.as_str(), m.ops[0].particle), ("n", 1));
/// assert_eq!(m.encode(), buf);
/// ```
#[derive(Debug)]
pub struct MessageWriter<'a> {
    buf: &'a mut Vec<u8>,
    /// Where the message header starts.
    start: usize,
    /// Whether a proto header precedes it.
    framed: bool,
    n_fields: u16,
    n_ops: u16,
}

impl<'a> MessageWriter<'a> {
    /// Clears `buf` (keeping its allocation) and starts a whole frame.
    pub fn frame(buf: &'a mut Vec<u8>, header: &Header) -> Self {
        buf.clear();
        buf.resize(proto::HEADER_SIZE, 0);
        Self::start(buf, header, true)
    }

    /// Starts a message body (no proto header) at the end of `buf`.
    pub fn body(buf: &'a mut Vec<u8>, header: &Header) -> Self {
        Self::start(buf, header, false)
    }

    fn start(buf: &'a mut Vec<u8>, h: &Header, framed: bool) -> Self {
        let start = buf.len();
        buf.push(MSG_HEADER_SIZE as u8);
        buf.extend_from_slice(&[h.info1, h.info2, h.info3, h.info4, h.result_code]);
        buf.extend_from_slice(&h.generation.to_be_bytes());
        buf.extend_from_slice(&h.record_ttl.to_be_bytes());
        buf.extend_from_slice(&h.transaction_ttl.to_be_bytes());
        buf.extend_from_slice(&[0; 4]); // the counts, set by `finish`
        MessageWriter {
            buf,
            start,
            framed,
            n_fields: 0,
            n_ops: 0,
        }
    }

    /// Appends a field. Fields must all come before the first operation.
    pub fn field(&mut self, kind: u8, data: &[u8]) {
        self.field_with(kind, |b| b.extend_from_slice(data));
    }

    /// Appends a field whose data `write` appends to the buffer.
    pub fn field_with(&mut self, kind: u8, write: impl FnOnce(&mut Vec<u8>)) {
        debug_assert_eq!(self.n_ops, 0, "fields come before operations");
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        self.buf.push(kind);
        write(self.buf);
        let size = (self.buf.len() - at - 4) as u32;
        self.buf[at..at + 4].copy_from_slice(&size.to_be_bytes());
        self.n_fields += 1;
    }

    /// Appends an operation on bin `name` (at most 255 bytes).
    pub fn op(&mut self, kind: u8, particle: u8, name: &str, data: &[u8]) {
        self.op_with(kind, name, |b| {
            b.extend_from_slice(data);
            particle
        });
    }

    /// Appends an operation whose value `write` appends to the buffer,
    /// returning its particle type.
    pub fn op_with(&mut self, kind: u8, name: &str, write: impl FnOnce(&mut Vec<u8>) -> u8) {
        let at = self.buf.len();
        self.buf.extend_from_slice(&[0; 4]);
        self.buf.extend_from_slice(&[kind, 0, 0, name.len() as u8]);
        self.buf.extend_from_slice(name.as_bytes());
        let particle = write(self.buf);
        let size = (self.buf.len() - at - 4) as u32;
        self.buf[at..at + 4].copy_from_slice(&size.to_be_bytes());
        self.buf[at + 5] = particle;
        self.n_ops += 1;
    }

    /// Fills in the counts (and the proto header of a frame).
    pub fn finish(self) {
        let counts = self.start + MSG_HEADER_SIZE - 4;
        self.buf[counts..counts + 2].copy_from_slice(&self.n_fields.to_be_bytes());
        self.buf[counts + 2..counts + 4].copy_from_slice(&self.n_ops.to_be_bytes());
        if self.framed {
            let len = self.buf.len() - proto::HEADER_SIZE;
            let mut head = [0u8; proto::HEADER_SIZE];
            proto::write_header_into(&mut head, proto::TYPE_MESSAGE, len);
            self.buf[..proto::HEADER_SIZE].copy_from_slice(&head);
        }
    }
}

/// One field of a [`MessageView`], borrowed from the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRef<'a> {
    /// The field type.
    pub kind: u8,
    /// The field data.
    pub data: &'a [u8],
}

/// One operation of a [`MessageView`], borrowed from the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpRef<'a> {
    /// The operation type.
    pub kind: u8,
    /// The particle type of `data`.
    pub particle: u8,
    /// The bin name.
    pub name: &'a str,
    /// The value in particle form.
    pub data: &'a [u8],
}

impl Op {
    /// The operation as an [`OpRef`].
    pub fn as_view(&self) -> OpRef<'_> {
        OpRef {
            kind: self.kind,
            particle: self.particle,
            name: &self.name,
            data: &self.data,
        }
    }
}

/// A message read in place: the header decoded, fields and operations
/// checked once by [`parse`](Self::parse) and then iterated without copying
/// (a single-record reply is turned into a record with no intermediate
/// allocation).
///
/// ```
/// use aerospike_proto::wire::message::{Message, MessageView, Op};
/// let m = Message {
///     ops: vec![Op { kind: 1, particle: 3, name: "s".into(), data: b"hi".to_vec() }],
///     ..Message::default()
/// };
/// let frame = m.encode();
/// let (view, used) = MessageView::parse(&frame[8..]).unwrap();
/// assert_eq!(used, frame.len() - 8);
/// let op = view.ops().next().unwrap();
/// assert_eq!((op.name, op.data), ("s", &b"hi"[..]));
/// assert_eq!(view.to_message(), m);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MessageView<'a> {
    /// The decoded header.
    pub header: Header,
    n_fields: u16,
    n_ops: u16,
    fields: &'a [u8],
    ops: &'a [u8],
}

impl<'a> MessageView<'a> {
    /// Reads one message from the front of `b` and checks every field and
    /// operation (sizes, bin names); returns it and its size.
    pub fn parse(b: &'a [u8]) -> Result<(MessageView<'a>, usize), DecodeError> {
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
        let fields_start = c.pos;
        for _ in 0..n_fields {
            let size = c.u32()? as usize;
            if size == 0 {
                return Err(DecodeError::new("field of size 0"));
            }
            c.take(size)?;
        }
        let ops_start = c.pos;
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
            std::str::from_utf8(&body[4..4 + name_len])
                .map_err(|_| DecodeError::new("bin name is not UTF-8"))?;
        }
        let view = MessageView {
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
            n_fields,
            n_ops,
            fields: &b[fields_start..ops_start],
            ops: &b[ops_start..c.pos],
        };
        Ok((view, c.pos))
    }

    /// The fields, in order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = FieldRef<'a>> + 'a {
        let mut rest = self.fields;
        (0..self.n_fields).map(move |_| {
            // Sizes were checked by `parse`.
            let size = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let f = FieldRef {
                kind: rest[4],
                data: &rest[5..4 + size],
            };
            rest = &rest[4 + size..];
            f
        })
    }

    /// The operations, in order.
    pub fn ops(&self) -> impl ExactSizeIterator<Item = OpRef<'a>> + 'a {
        let mut rest = self.ops;
        (0..self.n_ops).map(move |_| {
            // Sizes and names were checked by `parse`.
            let size = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            let body = &rest[4..4 + size];
            rest = &rest[4 + size..];
            let name_len = usize::from(body[3]);
            OpRef {
                kind: body[0],
                particle: body[1],
                name: std::str::from_utf8(&body[4..4 + name_len]).unwrap_or_default(),
                data: &body[4 + name_len..],
            }
        })
    }

    /// An owned copy.
    pub fn to_message(&self) -> Message {
        Message {
            header: self.header,
            fields: self
                .fields()
                .map(|f| Field {
                    kind: f.kind,
                    data: f.data.to_vec(),
                })
                .collect(),
            ops: self
                .ops()
                .map(|o| Op {
                    kind: o.kind,
                    particle: o.particle,
                    name: o.name.to_owned(),
                    data: o.data.to_vec(),
                })
                .collect(),
        }
    }
}

/// How much of a message the front of a buffer holds (see [`message_size`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageSize {
    /// The whole message is there; this is its size.
    Whole(usize),
    /// Not all of it: at least this many bytes are needed to tell more.
    NeedMore(usize),
}

/// The size of the message at the front of `b`, from its header and the
/// sizes of its fields and operations (nothing else is read, so a reader
/// can hand out each message of a frame as soon as it has arrived instead
/// of holding the whole frame). [`MessageView::parse`] checks the rest.
///
/// ```
/// use aerospike_proto::wire::message::{message_size, Message, MessageSize};
/// let body = &Message::default().encode()[8..];
/// assert_eq!(message_size(body).unwrap(), MessageSize::Whole(22));
/// assert_eq!(message_size(&body[..5]).unwrap(), MessageSize::NeedMore(22));
/// ```
pub fn message_size(b: &[u8]) -> Result<MessageSize, DecodeError> {
    let Some(&hsz) = b.first() else {
        return Ok(MessageSize::NeedMore(MSG_HEADER_SIZE));
    };
    let hsz = usize::from(hsz);
    if hsz < MSG_HEADER_SIZE {
        return Err(DecodeError::new(format!("message header size {hsz}")));
    }
    if b.len() < hsz {
        return Ok(MessageSize::NeedMore(hsz));
    }
    let count = |at: usize| usize::from(u16::from_be_bytes([b[at], b[at + 1]]));
    let mut at = hsz;
    for _ in 0..count(18) + count(20) {
        let Some(size) = b.get(at..at.saturating_add(4)) else {
            return Ok(MessageSize::NeedMore(at.saturating_add(4)));
        };
        let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
        at = at.saturating_add(4).saturating_add(size);
    }
    Ok(if at <= b.len() {
        MessageSize::Whole(at)
    } else {
        MessageSize::NeedMore(at)
    })
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

    #[test]
    fn message_size_needs_every_byte_and_no_more() {
        let mut two = sample().encode()[8..].to_vec();
        let one = two.len();
        two.extend_from_slice(&two.clone());
        for n in 0..one {
            match message_size(&two[..n]).unwrap() {
                MessageSize::NeedMore(k) => assert!(k > n && k <= one, "{n}: {k}"),
                MessageSize::Whole(k) => panic!("{n} bytes taken for a whole message of {k}"),
            }
        }
        for n in one..=two.len() {
            assert_eq!(message_size(&two[..n]).unwrap(), MessageSize::Whole(one));
        }
        assert!(message_size(&[21]).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = Message::decode_all(&b);
            let _ = message_size(&b);
        }

        /// Any message's size is what `MessageView::parse` reads, and every
        /// shorter prefix needs more.
        #[test]
        fn message_size_is_what_parse_reads(
            fields in proptest::collection::vec((any::<u8>(), proptest::collection::vec(any::<u8>(), 0..20)), 0..4),
            ops in proptest::collection::vec((any::<u8>(), any::<u8>(), "[a-z]{0,5}", proptest::collection::vec(any::<u8>(), 0..20)), 0..4),
            cut in any::<prop::sample::Index>(),
        ) {
            let m = Message {
                header: Header::default(),
                fields: fields.into_iter().map(|(kind, data)| Field { kind, data }).collect(),
                ops: ops.into_iter().map(|(kind, particle, name, data)| Op { kind, particle, name, data }).collect(),
            };
            let frame = m.encode();
            let body = &frame[8..];
            let (_, used) = MessageView::parse(body).unwrap();
            prop_assert_eq!(message_size(body).unwrap(), MessageSize::Whole(used));
            let n = cut.index(body.len());
            prop_assert!(matches!(message_size(&body[..n]).unwrap(), MessageSize::NeedMore(k) if k > n));
        }
    }
}
