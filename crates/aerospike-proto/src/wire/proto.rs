//! The 8-byte proto header and an incremental frame splitter.

use super::DecodeError;

/// Protocol version in every header.
pub const VERSION: u8 = 2;
/// Info (text) frame.
pub const TYPE_INFO: u8 = 1;
/// Message frame.
pub const TYPE_MESSAGE: u8 = 3;
/// Compressed message frame.
pub const TYPE_COMPRESSED: u8 = 4;
/// Size of the header.
pub const HEADER_SIZE: usize = 8;
/// Largest body this crate accepts (the server caps messages far below this).
pub const MAX_BODY: u64 = 128 * 1024 * 1024;

/// A decoded proto header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtoHeader {
    /// The `version` of this ProtoHeader.
    pub version: u8,
    /// The `kind` of this ProtoHeader.
    pub kind: u8,
    /// The `length` of this ProtoHeader.
    pub length: u64,
}

impl ProtoHeader {
    /// Decodes the first 8 bytes of `b`; `None` when fewer are given.
    pub fn decode(b: &[u8]) -> Option<Self> {
        let h: &[u8; 8] = b.get(..HEADER_SIZE)?.try_into().ok()?;
        let mut len = [0u8; 8];
        len[2..].copy_from_slice(&h[2..]);
        Some(ProtoHeader {
            version: h[0],
            kind: h[1],
            length: u64::from_be_bytes(len),
        })
    }

    /// Checks version, type and size.
    pub fn validate(&self) -> Result<(), DecodeError> {
        if self.version != VERSION {
            return Err(DecodeError::new(format!(
                "unsupported proto version {}",
                self.version
            )));
        }
        if !matches!(self.kind, TYPE_INFO | TYPE_MESSAGE | TYPE_COMPRESSED) {
            return Err(DecodeError::new(format!(
                "unknown proto type {}",
                self.kind
            )));
        }
        if self.length > MAX_BODY {
            return Err(DecodeError::new(format!(
                "frame of {} bytes is larger than the {} byte limit",
                self.length, MAX_BODY
            )));
        }
        Ok(())
    }
}

/// Writes a proto header for a body of `len` bytes.
pub fn write_header(buf: &mut Vec<u8>, kind: u8, len: usize) {
    let mut head = [0u8; HEADER_SIZE];
    write_header_into(&mut head, kind, len);
    buf.extend_from_slice(&head);
}

/// Fills `head` with the proto header for a body of `len` bytes.
///
/// ```
/// use aerospike_proto::wire::proto;
/// let mut head = [0u8; proto::HEADER_SIZE];
/// proto::write_header_into(&mut head, proto::TYPE_MESSAGE, 0x0102);
/// assert_eq!(head, [2, 3, 0, 0, 0, 0, 1, 2]);
/// ```
pub fn write_header_into(head: &mut [u8; HEADER_SIZE], kind: u8, len: usize) {
    let l = (len as u64).to_be_bytes();
    head[0] = VERSION;
    head[1] = kind;
    head[2..].copy_from_slice(&l[2..]);
}

/// Returns `body` with a proto header in front.
pub fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(HEADER_SIZE + body.len());
    write_header(&mut buf, kind, body.len());
    buf.extend_from_slice(body);
    buf
}

/// Result of [`split_frame`].
#[derive(Debug, PartialEq, Eq)]
pub enum Split<'a> {
    /// A whole frame: its header, its body, and how many bytes it took.
    Frame {
        /// The `header` of this variant.
        header: ProtoHeader,
        /// The `body` of this variant.
        body: &'a [u8],
        /// The `consumed` of this variant.
        consumed: usize,
    },
    /// More bytes are needed; at least this many in total.
    NeedMore(usize),
}

/// Takes one frame off the front of `buf`, if it is all there.
///
/// Never panics; a header with a wrong version or type or an oversized length
/// is an error.
pub fn split_frame(buf: &[u8]) -> Result<Split<'_>, DecodeError> {
    let Some(header) = ProtoHeader::decode(buf) else {
        return Ok(Split::NeedMore(HEADER_SIZE));
    };
    header.validate()?;
    let total = HEADER_SIZE + header.length as usize;
    if buf.len() < total {
        return Ok(Split::NeedMore(total));
    }
    Ok(Split::Frame {
        header,
        body: &buf[HEADER_SIZE..total],
        consumed: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn split_whole_and_partial() {
        let f = frame(TYPE_INFO, b"node\n");
        assert_eq!(&f[..8], &[2, 1, 0, 0, 0, 0, 0, 5]);
        for n in 0..f.len() {
            assert!(matches!(split_frame(&f[..n]).unwrap(), Split::NeedMore(_)));
        }
        match split_frame(&f).unwrap() {
            Split::Frame { body, consumed, .. } => {
                assert_eq!(body, b"node\n");
                assert_eq!(consumed, f.len());
            }
            Split::NeedMore(_) => panic!("whole frame not split"),
        }
    }

    #[test]
    fn bad_version_and_size() {
        assert!(split_frame(&[3, 1, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(split_frame(&[2, 9, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(split_frame(&[2, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = split_frame(&bytes);
        }
    }
}
