//! [`Key`]: which record a command addresses.

use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::value::Value;
use crate::wire;

/// Longest namespace name the server accepts, in bytes.
pub(crate) const MAX_NAMESPACE_LEN: usize = 31;
/// Longest set name the server accepts, in bytes.
pub(crate) const MAX_SET_LEN: usize = 63;

/// A record's address: namespace, set, and either a user key or only its digest.
///
/// The 20-byte digest (RIPEMD-160 of the set name, the key's particle type and
/// its bytes) is what the server stores; the user key itself is sent only when
/// the write policy says `send_key`.
///
/// # Examples
/// ```
/// use aerospike_proto::Key;
/// let k = Key::new("test", "kv", "k1")?;
/// assert_eq!(k.partition(), u16::from_le_bytes([k.digest()[0], k.digest()[1]]) & 0x0fff);
/// assert_eq!(k.digest_hex(), "dbaf51529d83a86ba2a3d806b166271e23532f13");
/// # Ok::<(), aerospike_proto::Error>(())
/// ```
#[derive(Clone, PartialEq)]
pub struct Key {
    // Shared: a clone (every record returned carries its key) allocates nothing.
    namespace: Arc<str>,
    set: Arc<str>,
    user_key: Option<Value>,
    digest: [u8; 20],
}

fn check_names(namespace: &str, set: &str) -> Result<()> {
    if namespace.is_empty() || namespace.len() > MAX_NAMESPACE_LEN {
        return Err(Error::invalid(format!(
            "namespace name must be 1 to {MAX_NAMESPACE_LEN} bytes, got {:?}",
            namespace
        )));
    }
    if set.len() > MAX_SET_LEN {
        return Err(Error::invalid(format!(
            "set name must be at most {MAX_SET_LEN} bytes, got {} bytes",
            set.len()
        )));
    }
    Ok(())
}

impl Key {
    /// A key from a user key: an integer, a string or bytes (`Value::Blob`).
    ///
    /// ```
    /// use aerospike_proto::{Key, Value};
    /// assert!(Key::new("test", "s", 42).is_ok());
    /// assert!(Key::new("test", "s", Value::Blob(vec![1, 2])).is_ok());
    /// assert!(Key::new("test", "s", 1.5).is_err());
    /// ```
    pub fn new(namespace: &str, set: &str, user_key: impl Into<Value>) -> Result<Key> {
        check_names(namespace, set)?;
        let user_key = user_key.into();
        let digest = wire::digest(set, &user_key).ok_or_else(|| {
            Error::invalid(format!(
                "a key must be an integer, a string or bytes, not {user_key}"
            ))
        })?;
        Ok(Key {
            namespace: namespace.into(),
            set: set.into(),
            user_key: Some(user_key),
            digest,
        })
    }

    /// A key known only by its digest (as returned by scans).
    ///
    /// ```
    /// use aerospike_proto::Key;
    /// let k = Key::from_digest("test", "kv", [7; 20])?;
    /// assert!(k.user_key().is_none());
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn from_digest(namespace: &str, set: &str, digest: [u8; 20]) -> Result<Key> {
        check_names(namespace, set)?;
        Ok(Key {
            namespace: namespace.into(),
            set: set.into(),
            user_key: None,
            digest,
        })
    }

    /// A key of the same namespace and set known only by `digest`; the names
    /// are shared, not copied (a scan makes one per record).
    ///
    /// ```
    /// use aerospike_proto::Key;
    /// let scope = Key::from_digest("test", "kv", [0; 20])?;
    /// let k = scope.with_digest([7; 20]);
    /// assert_eq!((k.namespace(), k.set(), k.digest()), ("test", "kv", &[7; 20]));
    /// assert!(k.user_key().is_none());
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn with_digest(&self, digest: [u8; 20]) -> Key {
        Key {
            namespace: self.namespace.clone(),
            set: self.set.clone(),
            user_key: None,
            digest,
        }
    }

    /// The namespace.
    ///
    /// ```
    /// # use aerospike_proto::Key;
    /// assert_eq!(Key::new("test", "s", 1).unwrap().namespace(), "test");
    /// ```
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The set ("" for none).
    ///
    /// ```
    /// # use aerospike_proto::Key;
    /// assert_eq!(Key::new("test", "s", 1).unwrap().set(), "s");
    /// ```
    pub fn set(&self) -> &str {
        &self.set
    }

    /// The user key, when known.
    ///
    /// ```
    /// # use aerospike_proto::{Key, Value};
    /// assert_eq!(Key::new("test", "s", 1).unwrap().user_key(), Some(&Value::Int(1)));
    /// ```
    pub fn user_key(&self) -> Option<&Value> {
        self.user_key.as_ref()
    }

    /// The 20-byte digest.
    ///
    /// ```
    /// # use aerospike_proto::Key;
    /// assert_eq!(Key::new("test", "s", 1).unwrap().digest().len(), 20);
    /// ```
    pub fn digest(&self) -> &[u8; 20] {
        &self.digest
    }

    /// The digest as lowercase hex.
    ///
    /// ```
    /// # use aerospike_proto::Key;
    /// assert_eq!(Key::new("test", "demo", 0).unwrap().digest_hex(), "ceded27492b392e0232514bb54a8ec2076acef37");
    /// ```
    pub fn digest_hex(&self) -> String {
        self.digest.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The partition (0..4096) the record lives in.
    ///
    /// ```
    /// # use aerospike_proto::Key;
    /// assert!(Key::new("test", "s", 1).unwrap().partition() < 4096);
    /// ```
    pub fn partition(&self) -> u16 {
        wire::digest::partition_id(&self.digest)
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Key({}:{}:", self.namespace, self.set)?;
        match &self.user_key {
            Some(k) => write!(f, "{k}")?,
            None => f.write_str("-")?,
        }
        write!(f, ":{})", self.digest_hex())
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::unhex;

    /// Every line of digests.txt.
    #[test]
    fn digests_match_the_fixture() {
        let text = crate::fixtures::read("digests.txt");
        let mut n = 0;
        for line in text.lines().filter(|l| l.starts_with("DIGEST ")) {
            let t: Vec<&str> = line.split(' ').collect();
            let (ns, set, kind, repr, hex) = (t[1], t[2], t[3], t[4], t[5]);
            let set = if set == "-empty-" { "" } else { set };
            let repr = if repr == "-" { "" } else { repr };
            let user: Value = match kind {
                "str" => String::from_utf8(unhex(repr)).unwrap().into(),
                "int" => repr.parse::<i64>().unwrap().into(),
                "bytes" => Value::Blob(unhex(repr)),
                other => panic!("unknown key type {other}"),
            };
            assert_eq!(Key::new(ns, set, user).unwrap().digest_hex(), hex, "{line}");
            n += 1;
        }
        assert_eq!(n, 20);
    }

    #[test]
    fn names_are_checked() {
        assert!(Key::new("", "s", 1).is_err());
        assert!(Key::new(&"n".repeat(32), "s", 1).is_err());
        assert!(Key::new("test", &"s".repeat(64), 1).is_err());
        assert!(Key::new("test", &"s".repeat(63), 1).is_ok());
    }
}
