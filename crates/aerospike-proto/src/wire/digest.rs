//! Key digests: RIPEMD-160 over the set name, the key's particle type and the
//! key's bytes.

use ripemd::{Digest, Ripemd160};

use crate::value::Value;

/// The 20-byte digest that locates a record, or `None` when the value cannot be
/// a key (only integers, strings and blobs can).
pub fn digest(set: &str, key: &Value) -> Option<[u8; 20]> {
    let mut h = Ripemd160::new();
    h.update(set.as_bytes());
    match key {
        Value::Int(i) => {
            h.update([1u8]);
            h.update(i.to_be_bytes());
        }
        Value::String(s) => {
            h.update([3u8]);
            h.update(s.as_bytes());
        }
        Value::Blob(b) => {
            h.update([4u8]);
            h.update(b);
        }
        _ => return None,
    }
    Some(h.finalize().into())
}

/// The partition (0..4096) a digest belongs to: the low 12 bits of its first
/// two bytes, read little-endian.
pub fn partition_id(digest: &[u8; 20]) -> u16 {
    u16::from_le_bytes([digest[0], digest[1]]) & 0x0fff
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        // From kv-single.txt: set "kv", key "k1".
        let d = digest("kv", &Value::from("k1")).unwrap();
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "dbaf51529d83a86ba2a3d806b166271e23532f13");
        assert!(digest("kv", &Value::Float(1.0)).is_none());
    }
}
