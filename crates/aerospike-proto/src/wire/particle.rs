//! Particle encoding: how a bin value is laid out inside an operation.
//!
//! Integers and floats are 8 bytes big-endian, strings and blobs their bytes,
//! bools one byte, lists and maps msgpack, GeoJSON a 3-byte header (flags,
//! cell count, here always zero) then the JSON text, HLL opaque bytes.

use crate::value::Value;

use super::{msgpack, DecodeError};

/// Particle type codes.
pub mod types {
    /// Particle type: null (`0`).
    pub const NULL: u8 = 0;
    /// Particle type: integer (`1`).
    pub const INTEGER: u8 = 1;
    /// Particle type: float (`2`).
    pub const FLOAT: u8 = 2;
    /// Particle type: string (`3`).
    pub const STRING: u8 = 3;
    /// Particle type: blob (`4`).
    pub const BLOB: u8 = 4;
    /// Particle type: bool (`17`).
    pub const BOOL: u8 = 17;
    /// Particle type: hll (`18`).
    pub const HLL: u8 = 18;
    /// Particle type: map (`19`).
    pub const MAP: u8 = 19;
    /// Particle type: list (`20`).
    pub const LIST: u8 = 20;
    /// Particle type: geojson (`23`).
    pub const GEOJSON: u8 = 23;
}

/// Encodes `v` as a particle; returns its type and appends its bytes.
pub fn encode(v: &Value, buf: &mut Vec<u8>) -> u8 {
    match v {
        Value::Nil => {}
        Value::Int(i) => buf.extend_from_slice(&i.to_be_bytes()),
        Value::Float(f) => buf.extend_from_slice(&f.to_bits().to_be_bytes()),
        Value::String(s) => buf.extend_from_slice(s.as_bytes()),
        Value::Blob(b) | Value::Hll(b) => buf.extend_from_slice(b),
        Value::Bool(b) => buf.push(u8::from(*b)),
        Value::List(_) | Value::Map(_) => msgpack::pack_value(buf, v),
        Value::GeoJson(s) => {
            buf.extend_from_slice(&[0, 0, 0]);
            buf.extend_from_slice(s.as_bytes());
        }
    }
    v.particle_type()
}

/// Decodes a particle of type `ptype`.
pub fn decode(ptype: u8, data: &[u8]) -> Result<Value, DecodeError> {
    let utf8 = |b: &[u8]| {
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::new("string particle is not UTF-8"))
    };
    Ok(match ptype {
        types::NULL => Value::Nil,
        types::INTEGER | types::FLOAT => {
            let arr: [u8; 8] = match data.len() {
                8 => data
                    .try_into()
                    .map_err(|_| DecodeError::new("bad number"))?,
                // Older servers may send shorter integers; sign-extend them.
                1..=7 if ptype == types::INTEGER => {
                    let fill = if data[0] & 0x80 != 0 { 0xff } else { 0 };
                    let mut a = [fill; 8];
                    a[8 - data.len()..].copy_from_slice(data);
                    a
                }
                n => return Err(DecodeError::new(format!("number particle of {n} bytes"))),
            };
            if ptype == types::INTEGER {
                Value::Int(i64::from_be_bytes(arr))
            } else {
                Value::Float(f64::from_bits(u64::from_be_bytes(arr)))
            }
        }
        types::STRING => Value::String(utf8(data)?),
        types::BOOL => match data {
            [b] => Value::Bool(*b != 0),
            _ => return Err(DecodeError::new("bool particle must be 1 byte")),
        },
        types::HLL => Value::Hll(data.to_vec()),
        types::MAP | types::LIST => msgpack::from_slice(data)?,
        types::GEOJSON => {
            if data.len() < 3 {
                return Err(DecodeError::new("GeoJSON particle too short"));
            }
            let ncells = usize::from(u16::from_be_bytes([data[1], data[2]]));
            let start = 3 + ncells * 8;
            let json = data
                .get(start..)
                .ok_or_else(|| DecodeError::new("GeoJSON cells run past the end"))?;
            Value::GeoJson(utf8(json)?)
        }
        // Blob and every language-specific blob type.
        _ => Value::Blob(data.to_vec()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{list, map};

    #[test]
    fn round_trips() {
        for v in [
            Value::Nil,
            Value::Int(-42),
            Value::Float(2.75),
            Value::from("héllo"),
            Value::Blob(vec![0, 1, 255]),
            Value::Bool(true),
            list![1, "a"],
            map! {"k" => list![1.5]},
            Value::GeoJson("{\"type\":\"Point\"}".into()),
            Value::Hll(vec![1, 2, 3]),
        ] {
            let mut b = Vec::new();
            let t = encode(&v, &mut b);
            assert_eq!(decode(t, &b).unwrap(), v);
        }
    }

    #[test]
    fn bad_lengths() {
        assert!(decode(types::INTEGER, &[]).is_err());
        assert!(decode(types::FLOAT, &[1, 2]).is_err());
        assert!(decode(types::BOOL, &[1, 2]).is_err());
        assert!(decode(types::GEOJSON, &[0, 0xff, 0xff]).is_err());
    }
}
