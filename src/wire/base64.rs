//! Standard base64 (RFC 4648, with padding), used by info values such as the
//! `replicas` partition bitmaps and `udf-put` contents.

use super::DecodeError;

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Encodes `data` with padding.
pub(crate) fn encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn sextet(c: u8) -> Option<u32> {
    Some(u32::from(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    }))
}

/// Decodes padded or unpadded base64; any other character is an error.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, DecodeError> {
    let s = text.trim_end_matches('=').as_bytes();
    if s.len() % 4 == 1 {
        return Err(DecodeError::new("base64 text has a bad length"));
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            let v = sextet(*c).ok_or_else(|| DecodeError::new("invalid base64 character"))?;
            n |= v << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        // The user agent the official client sends in client-connect-single.txt.
        assert_eq!(
            encode(b"1,python-19.3.0,not-set"),
            "MSxweXRob24tMTkuMy4wLG5vdC1zZXQ="
        );
        assert_eq!(
            decode("MSxweXRob24tMTkuMy4wLG5vdC1zZXQ=").unwrap(),
            b"1,python-19.3.0,not-set"
        );
        assert_eq!(encode(b""), "");
        assert_eq!(encode(b"ab"), "YWI=");
        assert!(decode("a").is_err());
        assert!(decode("a*bc").is_err());
    }

    proptest! {
        #[test]
        fn round_trip(b in proptest::collection::vec(any::<u8>(), 0..100)) {
            prop_assert_eq!(decode(&encode(&b)).unwrap(), b);
        }

        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = decode(&s);
        }
    }
}
