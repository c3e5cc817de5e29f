//! Batch-index requests (field 41) in both directions, in the layout the
//! official clients send and an 8.x server reads (`as/src/base/batch.c`).
//!
//! Field 41 holds `count (4) | flags (1)`, then per key `index (4) | digest
//! (20) | repeat (1)`. A repeat byte with bit 0 set reuses the previous key's
//! header, fields and operations; otherwise `info1 (1)` follows, then
//! `info2, info3` (bit 1), `info4` (bit 4), `generation (2)` (bit 2), `record
//! ttl (4)` (bit 3), `n_fields (2) | n_ops (2)`, the fields (the namespace
//! first) and the operations. The parent message has info1 BATCH and carries
//! the transaction timeout. Each key is answered by one message whose
//! transaction-ttl slot holds its index; a LAST message ends the reply.
//!
//! ```
//! use aerospike_proto::wire::batch::{self, BatchEntry};
//! use aerospike_proto::wire::message::{info1, Header};
//! use aerospike_proto::Key;
//!
//! let entries: Vec<BatchEntry> = (0..3)
//!     .map(|i| BatchEntry::new(i, &Key::new("test", "s", i64::from(i)).unwrap(),
//!         Header { info1: info1::READ | info1::GET_ALL, ..Header::default() }, Vec::new()))
//!     .collect();
//! let frame = batch::request(&entries, batch::OFFICIAL_FLAGS, 1000, None);
//! let msg = aerospike_proto::wire::message::Message::decode(&frame[8..])?.0;
//! let (flags, back) = batch::parse(&msg.fields[0].data)?;
//! assert_eq!((flags, back), (batch::OFFICIAL_FLAGS, entries));
//! # Ok::<(), aerospike_proto::wire::DecodeError>(())
//! ```

use super::message::{field, info1, info2, Field, Header, Message, MessageWriter, Op};
use super::DecodeError;
use crate::Key;

const REPEAT: u8 = 0x01;
const HAS_EXTRA_INFO: u8 = 0x02;
const HAS_GENERATION: u8 = 0x04;
const HAS_RECORD_TTL: u8 = 0x08;
const HAS_INFO4: u8 = 0x10;

/// Parent flag: the data is in memory, answer inline.
pub const INLINE_IN_MEMORY: u8 = 0x01;
/// Parent flag: answer every key, errors included, and end the batch OK.
pub const REPORT_ALL_ERRORS: u8 = 0x04;
/// Parent flag: a key's error is reported in its own record.
pub const REPORT_ERROR_REC: u8 = 0x08;
/// The parent flags the official clients send (`0x0d`).
pub const OFFICIAL_FLAGS: u8 = INLINE_IN_MEMORY | REPORT_ALL_ERRORS | REPORT_ERROR_REC;

/// One key of a batch request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEntry {
    /// The key's position in the caller's list; the server answers with it.
    pub index: u32,
    /// The key's digest.
    pub digest: [u8; 20],
    /// info1 to info4, generation and record TTL (the transaction TTL is
    /// the parent's).
    pub header: Header,
    /// The fields, namespace first (no digest: it has its own slot).
    pub fields: Vec<Field>,
    /// The operations.
    pub ops: Vec<Op>,
}

impl BatchEntry {
    /// An entry for `key` (namespace and set fields) at position `index`.
    ///
    /// ```
    /// use aerospike_proto::wire::batch::BatchEntry;
    /// use aerospike_proto::wire::message::Header;
    /// use aerospike_proto::Key;
    /// let e = BatchEntry::new(0, &Key::new("test", "s", 1).unwrap(), Header::default(), Vec::new());
    /// assert_eq!(e.fields.len(), 2);
    /// ```
    pub fn new(index: u32, key: &Key, header: Header, ops: Vec<Op>) -> Self {
        BatchEntry {
            index,
            digest: *key.digest(),
            header,
            fields: vec![
                Field::new(field::NAMESPACE, key.namespace().as_bytes()),
                Field::new(field::SET, key.set().as_bytes()),
            ],
            ops,
        }
    }

    /// True when `self` can be sent as a repeat of `prev`.
    fn repeats(&self, prev: &BatchEntry) -> bool {
        self.header == prev.header && self.fields == prev.fields && self.ops == prev.ops
    }

    /// The single-record message the server runs for this entry (the digest
    /// as a field, the parent's transaction timeout).
    ///
    /// ```
    /// use aerospike_proto::wire::batch::BatchEntry;
    /// use aerospike_proto::wire::message::{field, Header};
    /// use aerospike_proto::Key;
    /// let e = BatchEntry::new(0, &Key::new("test", "s", 1).unwrap(), Header::default(), Vec::new());
    /// assert!(e.message(1000).field(field::DIGEST).is_some());
    /// ```
    pub fn message(&self, transaction_ttl: u32) -> Message {
        let mut fields = self.fields.clone();
        fields.push(Field::new(field::DIGEST, self.digest.to_vec()));
        Message {
            header: Header {
                transaction_ttl,
                ..self.header
            },
            fields,
            ops: self.ops.clone(),
        }
    }
}

/// The whole request frame for `entries`: the parent message (info1 BATCH,
/// `timeout_ms` as its transaction TTL, `filter` as field 43 when given)
/// with field 41. Entries equal to the one before are sent as repeats.
/// `entries` is any sequence of entries (a slice, or some of a batch's
/// entries picked by index).
///
/// ```
/// use aerospike_proto::wire::batch;
/// let frame = batch::request(&[], batch::OFFICIAL_FLAGS, 1000, None);
/// assert_eq!(&frame[..2], [2, 3]);
/// ```
pub fn request<'a>(
    entries: impl IntoIterator<Item = &'a BatchEntry, IntoIter: ExactSizeIterator>,
    flags: u8,
    timeout_ms: u32,
    filter: Option<&[u8]>,
) -> Vec<u8> {
    let entries = entries.into_iter();
    let mut data = Vec::new();
    data.extend_from_slice(&(entries.len() as u32).to_be_bytes());
    data.push(flags);
    let mut prev: Option<&BatchEntry> = None;
    // One entry's fields and operations, in a message's own layout.
    let mut body = Vec::new();
    for e in entries {
        data.extend_from_slice(&e.index.to_be_bytes());
        data.extend_from_slice(&e.digest);
        if prev.is_some_and(|p| e.repeats(p)) {
            data.push(REPEAT);
            continue;
        }
        let h = &e.header;
        let writes = h.info2 & info2::WRITE != 0;
        let mut repeat = HAS_EXTRA_INFO | HAS_RECORD_TTL;
        if writes {
            repeat |= HAS_GENERATION;
        }
        if h.info4 != 0 {
            repeat |= HAS_INFO4;
        }
        data.push(repeat);
        data.push(h.info1);
        data.extend_from_slice(&[h.info2, h.info3]);
        if h.info4 != 0 {
            data.push(h.info4);
        }
        if writes {
            data.extend_from_slice(&(h.generation as u16).to_be_bytes());
        }
        data.extend_from_slice(&h.record_ttl.to_be_bytes());
        // A message body without its header's first 18 bytes: the field and
        // operation counts, then the fields and operations.
        body.clear();
        let mut w = MessageWriter::body(&mut body, &Header::default());
        for f in &e.fields {
            w.field(f.kind, &f.data);
        }
        for o in &e.ops {
            w.op(o.kind, o.particle, &o.name, &o.data);
        }
        w.finish();
        data.extend_from_slice(&body[18..]);
        prev = Some(e);
    }
    let mut fields = Vec::with_capacity(2);
    if let Some(f) = filter {
        fields.push(Field::new(field::FILTER_EXP, f.to_vec()));
    }
    fields.push(Field::new(field::BATCH_INDEX, data));
    Message {
        header: Header {
            info1: info1::BATCH,
            transaction_ttl: timeout_ms,
            ..Header::default()
        },
        fields,
        ops: Vec::new(),
    }
    .encode()
}

/// Reads `N` bytes at `*at`.
fn take<const N: usize>(data: &[u8], at: &mut usize) -> Result<[u8; N], DecodeError> {
    let bytes = data
        .get(*at..*at + N)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| DecodeError::new("batch field ends early"))?;
    *at += N;
    Ok(bytes)
}

/// Splits field 41 into its parent flags and entries (repeats expanded).
///
/// ```
/// use aerospike_proto::wire::batch;
/// assert!(batch::parse(&[0, 0, 0, 1, 0x0d]).is_err()); // one key announced, none sent
/// ```
///
/// # Errors
/// A count of zero, a repeat on the first key, a first field that is not
/// the namespace, or bytes that end early.
pub fn parse(data: &[u8]) -> Result<(u8, Vec<BatchEntry>), DecodeError> {
    let mut at = 0;
    let count = u32::from_be_bytes(take(data, &mut at)?);
    if count == 0 {
        return Err(DecodeError::new("batch of no keys"));
    }
    let [flags] = take(data, &mut at)?;
    let mut entries: Vec<BatchEntry> = Vec::new();
    for _ in 0..count {
        let index = u32::from_be_bytes(take(data, &mut at)?);
        let digest: [u8; 20] = take(data, &mut at)?;
        let [repeat] = take(data, &mut at)?;
        if repeat & REPEAT != 0 {
            let prev = entries
                .last()
                .ok_or_else(|| DecodeError::new("repeat on the first batch key"))?;
            entries.push(BatchEntry {
                index,
                digest,
                ..prev.clone()
            });
            continue;
        }
        let [i1] = take(data, &mut at)?;
        let mut header = Header {
            info1: i1,
            ..Header::default()
        };
        if repeat & HAS_EXTRA_INFO != 0 {
            let [i2, i3] = take(data, &mut at)?;
            header.info2 = i2;
            header.info3 = i3;
        }
        if repeat & HAS_INFO4 != 0 {
            let [i4] = take(data, &mut at)?;
            header.info4 = i4;
        }
        if repeat & HAS_GENERATION != 0 {
            header.generation = u32::from(u16::from_be_bytes(take(data, &mut at)?));
        }
        if repeat & HAS_RECORD_TTL != 0 {
            header.record_ttl = u32::from_be_bytes(take(data, &mut at)?);
        }
        let counts: [u8; 4] = take(data, &mut at)?;
        // Behind a message header with these counts, the message decoder
        // reads the fields and operations (older clients count no fields
        // but still send the namespace).
        let mut body = vec![0u8; 22];
        body[0] = 22;
        body[18..22].copy_from_slice(&counts);
        if body[18..20] == [0, 0] {
            body[19] = 1;
        }
        body.extend_from_slice(&data[at..]);
        let (msg, used) = Message::decode(&body)?;
        at += used - 22;
        if msg.fields.first().map(|f| f.kind) != Some(field::NAMESPACE) {
            return Err(DecodeError::new("a batch key without its namespace"));
        }
        entries.push(BatchEntry {
            index,
            digest,
            header,
            fields: msg.fields,
            ops: msg.ops,
        });
    }
    Ok((flags, entries))
}

/// The message that ends a batch reply with result code `rc`.
///
/// ```
/// use aerospike_proto::wire::batch;
/// assert_eq!(batch::last(0), aerospike_proto::fixtures::unhex(
///     "020300000000001616000001000000000000000000000000000000000000"));
/// ```
pub fn last(rc: u8) -> Vec<u8> {
    Message {
        header: Header {
            info3: super::message::info3::LAST,
            result_code: rc,
            ..Header::default()
        },
        fields: Vec::new(),
        ops: Vec::new(),
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    /// The request frames the official client sent in batch-single.txt.
    fn captured() -> Vec<Vec<u8>> {
        fixtures::client_messages("batch-single.txt")
    }

    #[test]
    fn every_captured_request_parses_and_is_rebuilt_byte_for_byte() {
        let frames = captured();
        assert_eq!(frames.len(), 6);
        for frame in frames {
            let msg = Message::decode(&frame[8..]).unwrap().0;
            assert_eq!(msg.header.info1, info1::BATCH);
            let f = msg.field(field::BATCH_INDEX).unwrap();
            let (flags, entries) = parse(&f.data).unwrap();
            assert_eq!(flags, OFFICIAL_FLAGS);
            let rebuilt = request(&entries, flags, msg.header.transaction_ttl, None);
            assert_eq!(rebuilt, frame);
        }
    }

    #[test]
    fn reads_of_one_set_repeat_and_writes_carry_a_generation() {
        let frames = captured();
        let msg = Message::decode(&frames[3][8..]).unwrap().0;
        let (_, entries) = parse(&msg.field(field::BATCH_INDEX).unwrap().data).unwrap();
        // batch_write: Read, Write(incr, read), Write(put), Delete, Read.
        let info2s: Vec<u8> = entries.iter().map(|e| e.header.info2).collect();
        assert_eq!(info2s, [0x00, 0x81, 0x81, 0x83, 0x00]);
        let first = Message::decode(&frames[0][8..]).unwrap().0;
        let (_, reads) = parse(&first.field(field::BATCH_INDEX).unwrap().data).unwrap();
        assert!(reads.windows(2).all(|w| w[1].repeats(&w[0])));
    }

    #[test]
    fn malformed_fields_are_errors() {
        let frames = captured();
        let msg = Message::decode(&frames[0][8..]).unwrap().0;
        let data = &msg.field(field::BATCH_INDEX).unwrap().data;
        for cut in 0..data.len() {
            assert!(parse(&data[..cut]).is_err(), "cut at {cut}");
        }
        let mut repeat_first = data.clone();
        repeat_first[5 + 24] = REPEAT;
        assert!(parse(&repeat_first).is_err());
    }
}
