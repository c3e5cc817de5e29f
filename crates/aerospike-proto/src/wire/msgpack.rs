//! Aerospike's flavour of MessagePack, used for list and map particles, CDT
//! operations, UDF argument lists and filter expressions.
//!
//! Differences from plain MessagePack, as the server reads them:
//! * strings, blobs and GeoJSON inside a list or map are packed in the `str`
//!   format with one leading particle-type byte (3 string, 4 blob, 23 GeoJSON);
//!   the `bin` format is read the same way;
//! * an ordered map starts with an extra entry whose key is an empty `ext` value
//!   (its type byte holds the map flags) and whose value is nil;
//! * integers are packed in their shortest form.
//!
//! Decoding works on byte slices and never panics: malformed input is an
//! [`DecodeError`].

use crate::value::Value;

use super::DecodeError;

/// Particle-type prefix of strings inside msgpack.
pub const PREFIX_STRING: u8 = 3;
/// Particle-type prefix of blobs inside msgpack.
pub const PREFIX_BLOB: u8 = 4;
/// Particle-type prefix of GeoJSON inside msgpack.
pub const PREFIX_GEOJSON: u8 = 23;

/// Appends the msgpack form of `v` to `buf`.
pub fn pack_value(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Nil => pack_nil(buf),
        Value::Int(i) => pack_int(buf, *i),
        Value::Float(f) => pack_f64(buf, *f),
        Value::String(s) => pack_prefixed(buf, PREFIX_STRING, s.as_bytes()),
        Value::Blob(b) => pack_prefixed(buf, PREFIX_BLOB, b),
        Value::Hll(b) => pack_prefixed(buf, 18, b),
        Value::GeoJson(s) => pack_prefixed(buf, PREFIX_GEOJSON, s.as_bytes()),
        Value::Bool(b) => pack_bool(buf, *b),
        Value::List(l) => {
            pack_array_len(buf, l.len());
            l.iter().for_each(|x| pack_value(buf, x));
        }
        Value::Map(m) => {
            pack_map_len(buf, m.len());
            for (k, x) in m {
                pack_value(buf, k);
                pack_value(buf, x);
            }
        }
    }
}
/// Packs `v` into a new buffer.
pub fn to_vec(v: &Value) -> Vec<u8> {
    let mut buf = Vec::new();
    pack_value(&mut buf, v);
    buf
}

/// Appends msgpack nil.
pub fn pack_nil(buf: &mut Vec<u8>) {
    buf.push(0xc0);
}

/// Appends a msgpack bool.
pub fn pack_bool(buf: &mut Vec<u8>, b: bool) {
    buf.push(if b { 0xc3 } else { 0xc2 });
}

/// Appends an integer in its shortest msgpack form.
pub fn pack_int(buf: &mut Vec<u8>, i: i64) {
    if i >= 0 {
        // Infallible: writing to a Vec cannot fail.
        let _ = rmp::encode::write_uint(buf, i as u64);
    } else {
        let _ = rmp::encode::write_sint(buf, i);
    }
}

/// Appends a 64-bit float.
pub fn pack_f64(buf: &mut Vec<u8>, f: f64) {
    let _ = rmp::encode::write_f64(buf, f);
}

/// Appends an array header.
pub fn pack_array_len(buf: &mut Vec<u8>, n: usize) {
    let _ = rmp::encode::write_array_len(buf, n as u32);
}

/// Appends a map header.
pub fn pack_map_len(buf: &mut Vec<u8>, n: usize) {
    let _ = rmp::encode::write_map_len(buf, n as u32);
}

/// Appends a plain msgpack string without a particle prefix (bin names,
/// UDF-free identifiers inside expressions).
pub fn pack_raw_str(buf: &mut Vec<u8>, s: &str) {
    let _ = rmp::encode::write_str(buf, s);
}

/// Appends bytes as a `str` whose first byte is the particle-type `prefix`.
pub fn pack_prefixed(buf: &mut Vec<u8>, prefix: u8, data: &[u8]) {
    let _ = rmp::encode::write_str_len(buf, (data.len() + 1) as u32);
    buf.push(prefix);
    buf.extend_from_slice(data);
}

/// A msgpack reader over a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

/// Deepest nesting the decoder accepts, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 256;

impl<'a> Reader<'a> {
    /// A reader at the start of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.remaining() < n {
            return Err(DecodeError::new("msgpack value runs past the end"));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }

    fn be(&mut self, n: usize) -> Result<u64, DecodeError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    /// Peeks at the next marker byte.
    pub fn peek(&self) -> Option<u8> {
        self.buf.get(self.pos).copied()
    }

    /// Reads an array header and returns its length.
    pub fn array_len(&mut self) -> Result<usize, DecodeError> {
        let m = self.byte()?;
        match m {
            0x90..=0x9f => Ok(usize::from(m & 0x0f)),
            0xdc => Ok(self.be(2)? as usize),
            0xdd => Ok(self.be(4)? as usize),
            _ => Err(DecodeError::new(format!(
                "expected a msgpack array, found marker 0x{m:02x}"
            ))),
        }
    }

    /// Reads an integer (signed or unsigned forms).
    pub fn int(&mut self) -> Result<i64, DecodeError> {
        match self.value()? {
            Value::Int(i) => Ok(i),
            other => Err(DecodeError::new(format!(
                "expected an integer, found {other}"
            ))),
        }
    }

    /// Reads a plain string (no particle prefix), as used for bin names.
    pub fn raw_str(&mut self) -> Result<&'a str, DecodeError> {
        let bytes = self.raw_bytes()?;
        std::str::from_utf8(bytes).map_err(|_| DecodeError::new("msgpack string is not UTF-8"))
    }

    /// Reads the payload of a `str` or `bin` value as it is.
    pub fn raw_bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let m = self.byte()?;
        let n = match m {
            0xa0..=0xbf => usize::from(m & 0x1f),
            0xd9 | 0xc4 => self.be(1)? as usize,
            0xda | 0xc5 => self.be(2)? as usize,
            0xdb | 0xc6 => self.be(4)? as usize,
            _ => {
                return Err(DecodeError::new(format!(
                    "expected a msgpack string, found marker 0x{m:02x}"
                )))
            }
        };
        self.take(n)
    }
    /// Skips one complete value.
    pub fn skip(&mut self) -> Result<(), DecodeError> {
        self.value().map(|_| ())
    }
    /// Returns the raw bytes of the next complete value.
    pub fn value_bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        self.skip()?;
        Ok(&self.buf[start..self.pos])
    }

    /// Reads one value.
    pub fn value(&mut self) -> Result<Value, DecodeError> {
        self.value_at(0)
    }

    fn value_at(&mut self, depth: usize) -> Result<Value, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::new("msgpack nesting too deep"));
        }
        let m = self.byte()?;
        Ok(match m {
            0x00..=0x7f => Value::Int(i64::from(m)),
            0xe0..=0xff => Value::Int(i64::from(m as i8)),
            0xc0 => Value::Nil,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xcc => Value::Int(self.be(1)? as i64),
            0xcd => Value::Int(self.be(2)? as i64),
            0xce => Value::Int(self.be(4)? as i64),
            // u64 above i64::MAX wraps, as every Aerospike client does.
            0xcf => Value::Int(self.be(8)? as i64),
            0xd0 => Value::Int(i64::from(self.be(1)? as u8 as i8)),
            0xd1 => Value::Int(i64::from(self.be(2)? as u16 as i16)),
            0xd2 => Value::Int(i64::from(self.be(4)? as u32 as i32)),
            0xd3 => Value::Int(self.be(8)? as i64),
            0xca => Value::Float(f64::from(f32::from_bits(self.be(4)? as u32))),
            0xcb => Value::Float(f64::from_bits(self.be(8)?)),
            0xa0..=0xbf | 0xd9 | 0xda | 0xdb | 0xc4 | 0xc5 | 0xc6 => {
                self.pos -= 1;
                let raw = self.raw_bytes()?;
                prefixed_value(raw)?
            }
            0x90..=0x9f | 0xdc | 0xdd => {
                self.pos -= 1;
                let n = self.array_len()?;
                let mut out = Vec::with_capacity(n.min(self.remaining()));
                for i in 0..n {
                    if i == 0 && self.peek_is_order_marker() {
                        // List-order marker element (ordered lists).
                        self.skip_ext()?;
                        continue;
                    }
                    out.push(self.value_at(depth + 1)?);
                }
                Value::List(out)
            }
            0x80..=0x8f | 0xde | 0xdf => {
                let n = match m {
                    0xde => self.be(2)? as usize,
                    0xdf => self.be(4)? as usize,
                    _ => usize::from(m & 0x0f),
                };
                let mut out = Vec::with_capacity(n.min(self.remaining() / 2));
                for i in 0..n {
                    if i == 0 && self.peek_is_order_marker() {
                        // Map-order marker entry: ext key, nil value.
                        self.skip_ext()?;
                        self.value_at(depth + 1)?;
                        continue;
                    }
                    let k = self.value_at(depth + 1)?;
                    let v = self.value_at(depth + 1)?;
                    out.push((k, v));
                }
                Value::Map(out)
            }
            0xd4..=0xd8 | 0xc7..=0xc9 => {
                self.pos -= 1;
                self.skip_ext()?;
                Value::Nil
            }
            _ => {
                return Err(DecodeError::new(format!(
                    "unsupported msgpack marker 0x{m:02x}"
                )))
            }
        })
    }

    fn peek_is_ext(&self) -> bool {
        matches!(self.peek(), Some(0xd4..=0xd8 | 0xc7..=0xc9))
    }

    /// True when the next value is an ext whose type is a container-order
    /// flag rather than 0xff (the wildcard and infinity values).
    fn peek_is_order_marker(&self) -> bool {
        if !self.peek_is_ext() {
            return false;
        }
        let mut probe = self.clone();
        probe.skip_ext().is_ok_and(|t| t != 0xff)
    }

    /// Skips an ext value and returns its type byte.
    pub fn skip_ext(&mut self) -> Result<u8, DecodeError> {
        let m = self.byte()?;
        let n = match m {
            0xd4 => 1,
            0xd5 => 2,
            0xd6 => 4,
            0xd7 => 8,
            0xd8 => 16,
            0xc7 => self.be(1)? as usize,
            0xc8 => self.be(2)? as usize,
            0xc9 => self.be(4)? as usize,
            _ => return Err(DecodeError::new("expected a msgpack ext value")),
        };
        let t = self.byte()?;
        self.take(n)?;
        Ok(t)
    }
}

/// Interprets a prefixed msgpack string payload (particle-type byte + data).
fn prefixed_value(raw: &[u8]) -> Result<Value, DecodeError> {
    let Some((&prefix, data)) = raw.split_first() else {
        return Ok(Value::String(String::new()));
    };
    let text =
        || String::from_utf8(data.to_vec()).map_err(|_| DecodeError::new("string is not UTF-8"));
    Ok(match prefix {
        PREFIX_STRING => Value::String(text()?),
        PREFIX_GEOJSON => Value::GeoJson(text()?),
        18 => Value::Hll(data.to_vec()),
        _ => Value::Blob(data.to_vec()),
    })
}

/// Decodes exactly one value from `buf`.
pub fn from_slice(buf: &[u8]) -> Result<Value, DecodeError> {
    let mut r = Reader::new(buf);
    let v = r.value()?;
    if r.remaining() != 0 {
        return Err(DecodeError::new("trailing bytes after msgpack value"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{list, map};

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn golden_from_kv_fixture() {
        // Bins 'l', 'm' and 'n' of the first put in kv-single.txt.
        let l = list![1, "a", 2.5, Value::Nil];
        assert_eq!(hex(&to_vec(&l)), "9401a20361cb4004000000000000c0");
        let m = map! {"x" => 1, "y" => "z"};
        assert_eq!(hex(&to_vec(&m)), "82a2037801a20379a2037a");
        let n = map! {
            "l" => list![1, list![2, 3]],
            "m" => map!{"k" => list![4, map!{"z" => vec![5u8]}]},
        };
        assert_eq!(
            hex(&to_vec(&n)),
            "82a2036c9201920203a2036d81a2036b920481a2037aa20405"
        );
        assert_eq!(from_slice(&to_vec(&n)).unwrap(), n);
    }

    #[test]
    fn ordered_map_marker_is_skipped() {
        // A key-ordered map as a server sends it: n+1 entries, ext(type 1) => nil first.
        let b = [0x82, 0xc7, 0x00, 0x01, 0xc0, 0xa2, 0x03, b'a', 0x01];
        assert_eq!(from_slice(&b).unwrap(), map! {"a" => 1});
    }

    #[test]
    fn ordered_list_marker_is_skipped() {
        // An ordered list as a server sends it: array of n+1, ext(type 1), items.
        let b = [0x93, 0xc7, 0x00, 0x01, 0x01, 0x02];
        assert_eq!(from_slice(&b).unwrap(), list![1, 2]);
    }

    #[test]
    fn ints_shortest() {
        for (i, h) in [
            (0i64, "00"),
            (127, "7f"),
            (128, "cc80"),
            (-1, "ff"),
            (-33, "d0df"),
            (i64::MAX, "cf7fffffffffffffff"),
            (i64::MIN, "d38000000000000000"),
        ] {
            let mut b = Vec::new();
            pack_int(&mut b, i);
            assert_eq!(hex(&b), h);
            assert_eq!(from_slice(&b).unwrap(), Value::Int(i));
        }
    }

    #[test]
    fn truncated_input_is_an_error() {
        let full = to_vec(&list![1, "abc", map! {"k" => 2.5}]);
        for n in 0..full.len() {
            assert!(from_slice(&full[..n]).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        let buf = vec![0x91u8; 100_000];
        assert!(from_slice(&buf).is_err());
    }
}
