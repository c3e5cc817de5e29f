//! Values stored in bins, used as keys, CDT elements and expression literals.
//!
//! [`Value`] is the one dynamic value type of the crate. It maps onto Aerospike's
//! particle types (integer, float, string, blob, bool, list, map, GeoJSON, HLL) and
//! converts from the usual Rust types with `From`.

use std::fmt;

/// A dynamically typed Aerospike value.
///
/// Maps keep the order of their entries as a list of pairs, because Aerospike maps
/// may be ordered by key and the order of an unordered map is what the server sent.
///
/// # Examples
/// ```
/// use aerospike_proto::Value;
/// let v = Value::from(vec![Value::from(1), Value::from("a")]);
/// assert_eq!(v.to_string(), "[1, \"a\"]");
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum Value {
    /// No value. Writing `Nil` to a bin removes the bin.
    #[default]
    Nil,
    /// A signed 64-bit integer.
    Int(i64),
    /// A 64-bit float.
    Float(f64),
    /// A UTF-8 string.
    String(String),
    /// Raw bytes.
    Blob(Vec<u8>),
    /// A boolean.
    Bool(bool),
    /// An ordered list.
    List(Vec<Value>),
    /// A map as key/value pairs, in the order the server or the caller gave them.
    Map(Vec<(Value, Value)>),
    /// A GeoJSON document, kept as its JSON text.
    GeoJson(String),
    /// A HyperLogLog sketch, kept as opaque bytes.
    Hll(Vec<u8>),
}

impl Value {
    /// The Aerospike particle type code of this value (0 nil, 1 integer, 2 float,
    /// 3 string, 4 blob, 17 bool, 18 HLL, 19 map, 20 list, 23 GeoJSON).
    ///
    /// ```
    /// use aerospike_proto::Value;
    /// assert_eq!(Value::from("x").particle_type(), 3);
    /// ```
    pub fn particle_type(&self) -> u8 {
        match self {
            Value::Nil => 0,
            Value::Int(_) => 1,
            Value::Float(_) => 2,
            Value::String(_) => 3,
            Value::Blob(_) => 4,
            Value::Bool(_) => 17,
            Value::Hll(_) => 18,
            Value::Map(_) => 19,
            Value::List(_) => 20,
            Value::GeoJson(_) => 23,
        }
    }

    /// The integer inside, if this is an `Int`.
    ///
    /// ```
    /// use aerospike_proto::Value;
    /// assert_eq!(Value::from(7).as_int(), Some(7));
    /// ```
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The float inside, if this is a `Float`.
    ///
    /// ```
    /// use aerospike_proto::Value;
    /// assert_eq!(Value::from(1.5).as_float(), Some(1.5));
    /// ```
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The string inside, if this is a `String` or `GeoJson`.
    ///
    /// ```
    /// use aerospike_proto::Value;
    /// assert_eq!(Value::from("x").as_str(), Some("x"));
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) | Value::GeoJson(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean inside, if this is a `Bool`.
    ///
    /// ```
    /// use aerospike_proto::Value;
    /// assert_eq!(Value::from(true).as_bool(), Some(true));
    /// ```
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The bytes inside, if this is a `Blob` or `Hll`.
    ///
    /// ```
    /// use aerospike_proto::Value;
    /// assert_eq!(Value::from(vec![1u8, 2]).as_bytes(), Some(&[1u8, 2][..]));
    /// ```
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Blob(b) | Value::Hll(b) => Some(b),
            _ => None,
        }
    }

    /// The elements inside, if this is a `List`.
    ///
    /// ```
    /// use aerospike_proto::Value;
    /// assert_eq!(Value::from(vec![Value::Int(1)]).as_list().map(|l| l.len()), Some(1));
    /// ```
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The entries inside, if this is a `Map`.
    ///
    /// ```
    /// use aerospike_proto::Value;
    /// let m = Value::Map(vec![(Value::from("k"), Value::from(1))]);
    /// assert_eq!(m.as_map().unwrap()[0].1, Value::Int(1));
    /// ```
    pub fn as_map(&self) -> Option<&[(Value, Value)]> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Looks up `key` in a `Map` value; `None` for other values or a missing key.
    ///
    /// ```
    /// use aerospike_proto::Value;
    /// let m = Value::Map(vec![(Value::from("k"), Value::from(1))]);
    /// assert_eq!(m.map_get(&Value::from("k")), Some(&Value::Int(1)));
    /// ```
    pub fn map_get(&self, key: &Value) -> Option<&Value> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
    }

    /// True for `Nil`.
    ///
    /// ```
    /// use aerospike_proto::Value;
    /// assert!(Value::Nil.is_nil());
    /// ```
    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            _ => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("nil"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::String(s) => write_quoted(f, s),
            Value::Blob(b) | Value::Hll(b) => {
                f.write_str("0x")?;
                b.iter().try_for_each(|x| write!(f, "{x:02x}"))
            }
            Value::Bool(b) => write!(f, "{b}"),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
            Value::GeoJson(s) => {
                f.write_str("geo:")?;
                write_quoted(f, s)
            }
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self { Value::Int(i64::from(v)) }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float(f64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Value::Blob(v)
    }
}
impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Value::Blob(v.to_vec())
    }
}
impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::List(v)
    }
}
impl From<Vec<(Value, Value)>> for Value {
    fn from(v: Vec<(Value, Value)>) -> Self {
        Value::Map(v)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Nil, Into::into)
    }
}

/// Builds a [`Value::List`] from expressions that convert into [`Value`].
///
/// ```
/// use aerospike_proto::{list, Value};
/// assert_eq!(list![1, "a"], Value::List(vec![Value::Int(1), Value::from("a")]));
/// ```
#[macro_export]
macro_rules! list {
    ($($e:expr),* $(,)?) => { $crate::Value::List(vec![$($crate::Value::from($e)),*]) };
}

/// Builds a [`Value::Map`] from `key => value` pairs that convert into [`Value`].
///
/// ```
/// use aerospike_proto::{map, Value};
/// let m = map! { "a" => 1 };
/// assert_eq!(m.map_get(&Value::from("a")), Some(&Value::Int(1)));
/// ```
#[macro_export]
macro_rules! map {
    ($($k:expr => $v:expr),* $(,)?) => {
        $crate::Value::Map(vec![$(($crate::Value::from($k), $crate::Value::from($v))),*])
    };
}

impl Value {
    /// The order an Aerospike server sorts values in (`msgpack_in.c`): by
    /// type first (nil, false, true, integers, strings, lists, maps, bytes,
    /// floats, GeoJSON), then by value; lists element by element, maps by
    /// size, then entry by entry.
    ///
    /// ```
    /// use aerospike_proto::Value;
    /// use std::cmp::Ordering;
    /// assert_eq!(Value::from(5).server_cmp(&Value::from("a")), Ordering::Less);
    /// assert_eq!(Value::from(2.5).server_cmp(&Value::from("a")), Ordering::Greater);
    /// ```
    pub fn server_cmp(&self, other: &Value) -> std::cmp::Ordering {
        compare(self, other)
    }
}

fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Nil => 1,
        Value::Bool(false) => 2,
        Value::Bool(true) => 3,
        Value::Int(i) if *i < 0 => 4,
        Value::Int(_) => 5,
        Value::String(_) => 6,
        Value::List(_) => 7,
        Value::Map(_) => 8,
        Value::Blob(_) | Value::Hll(_) => 9,
        Value::Float(_) => 10,
        Value::GeoJson(_) => 11,
    }
}

fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    let t = type_rank(a).cmp(&type_rank(b));
    if t != std::cmp::Ordering::Equal {
        return t;
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::String(x), Value::String(y)) | (Value::GeoJson(x), Value::GeoJson(y)) => {
            x.as_bytes().cmp(y.as_bytes())
        }
        (Value::Blob(_) | Value::Hll(_), Value::Blob(_) | Value::Hll(_)) => {
            // Compared with their particle-type prefix byte, as packed.
            let key = |v: &Value| match v {
                Value::Hll(d) => (18u8, d.clone()),
                Value::Blob(d) => (4u8, d.clone()),
                _ => (0, Vec::new()),
            };
            key(a).cmp(&key(b))
        }
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal),
        (Value::List(x), Value::List(y)) => x
            .iter()
            .zip(y)
            .map(|(p, q)| compare(p, q))
            .find(|o| *o != std::cmp::Ordering::Equal)
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        (Value::Map(x), Value::Map(y)) => x.len().cmp(&y.len()).then_with(|| {
            x.iter()
                .zip(y)
                .map(|((k1, v1), (k2, v2))| compare(k1, k2).then_with(|| compare(v1, v2)))
                .find(|o| *o != std::cmp::Ordering::Equal)
                .unwrap_or(std::cmp::Ordering::Equal)
        }),
        _ => std::cmp::Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_nested() {
        let v = map! { "l" => list![1, 2.5, Value::Nil], "b" => vec![1u8, 255] };
        assert_eq!(v.to_string(), "{\"l\": [1, 2.5, nil], \"b\": 0x01ff}");
    }

    #[test]
    fn particle_types() {
        assert_eq!(Value::Nil.particle_type(), 0);
        assert_eq!(Value::from(true).particle_type(), 17);
        assert_eq!(list![].particle_type(), 20);
        assert_eq!(map! {}.particle_type(), 19);
        assert_eq!(Value::GeoJson(String::new()).particle_type(), 23);
    }
}
