//! [`Record`] (what a read returns), [`Bin`] (a named value to write) and
//! [`Bins`] (which bins a read returns).

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::key::Key;
use crate::value::Value;

/// Seconds from the Unix epoch to 2010-01-01, the server's epoch for void times.
pub(crate) const CITRUSLEAF_EPOCH: u64 = 1_262_304_000;

/// A named value.
///
/// ```
/// use aerospike_proto::Bin;
/// let b = Bin::new("age", 42);
/// assert_eq!(b.name, "age");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Bin {
    /// The bin name (at most 15 bytes).
    pub name: String,
    /// The value; `Value::Nil` removes the bin.
    pub value: Value,
}

impl Bin {
    /// A bin.
    ///
    /// ```
    /// use aerospike_proto::{Bin, Value};
    /// assert_eq!(Bin::new("s", "x").value, Value::from("x"));
    /// ```
    pub fn new(name: &str, value: impl Into<Value>) -> Bin {
        Bin {
            name: name.to_owned(),
            value: value.into(),
        }
    }
}

/// Which bins a read returns.
///
/// ```
/// use aerospike_proto::Bins;
/// assert_eq!(Bins::only(&["a", "b"]), Bins::Only(vec!["a".into(), "b".into()]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Bins {
    /// Every bin.
    #[default]
    All,
    /// These bins.
    Only(Vec<String>),
    /// No bins: generation and expiration only.
    None,
}

impl Bins {
    /// `Bins::Only` from names.
    ///
    /// ```
    /// use aerospike_proto::Bins;
    /// assert!(matches!(Bins::only(&["x"]), Bins::Only(v) if v.len() == 1));
    /// ```
    pub fn only(names: &[&str]) -> Bins {
        Bins::Only(names.iter().map(|s| (*s).to_owned()).collect())
    }
}

/// A record as the server returned it.
///
/// ```
/// use aerospike_proto::Record;
/// let r = Record::default();
/// assert_eq!(r.ttl(), None); // void time 0: never expires
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Record {
    /// The key, when the command knew it.
    pub key: Option<Key>,
    /// The bins returned. When `operate` reads one bin several times, the
    /// bin holds a `Value::List` of the results in order.
    pub bins: HashMap<String, Value>,
    /// How many times the record was written.
    pub generation: u32,
    /// When the record expires, in seconds since 2010-01-01 (the server's
    /// "void time"); 0 means never.
    pub expiration: u32,
}

impl Record {
    /// One bin's value.
    ///
    /// ```
    /// use aerospike_proto::{Record, Value};
    /// let mut r = Record::default();
    /// r.bins.insert("a".into(), Value::from(1));
    /// assert_eq!(r.bin("a"), Some(&Value::from(1)));
    /// ```
    pub fn bin(&self, name: &str) -> Option<&Value> {
        self.bins.get(name)
    }

    /// Seconds left to live, or `None` when the record never expires. A
    /// record whose void time has passed reports `Some(0)`.
    ///
    /// ```
    /// use aerospike_proto::Record;
    /// let r = Record { expiration: u32::MAX, ..Record::default() };
    /// assert!(r.ttl().unwrap() > 0);
    /// ```
    pub fn ttl(&self) -> Option<u32> {
        if self.expiration == 0 {
            return None;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .saturating_sub(CITRUSLEAF_EPOCH);
        Some(u64::from(self.expiration).saturating_sub(now) as u32)
    }
}
