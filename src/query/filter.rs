//! Secondary-index filters: equality and range over integer and string bins,
//! sent as the index-range field (22) of a query or background job.

use crate::wire::particle;
use crate::Value;
use crate::{Error, Result};

/// Longest bin name the server accepts, in bytes.
pub(crate) const MAX_BIN_NAME: usize = 15;

/// A secondary-index filter: the records whose bin value is equal to a value,
/// or lies in an inclusive integer range.
///
/// A secondary index on the bin must exist (see `Client::create_index`);
/// without one the server refuses the query with `INDEX_NOT_FOUND` (201).
///
/// # Examples
/// ```
/// use aerospike_blocking::query::Filter;
/// let adults = Filter::range("age", 18, 64);
/// let bob = Filter::equal("name", "bob");
/// assert_eq!(adults.bin(), "age");
/// assert_eq!(bob.to_string(), "name == \"bob\"");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    bin: String,
    begin: Value,
    end: Value,
}

impl Filter {
    /// Records whose bin `bin` equals `value` (an integer or a string).
    ///
    /// ```
    /// use aerospike_blocking::query::Filter;
    /// let f = Filter::equal("age", 7);
    /// assert_eq!(f.to_string(), "age == 7");
    /// ```
    pub fn equal(bin: &str, value: impl Into<Value>) -> Filter {
        let v = value.into();
        Filter {
            bin: bin.to_owned(),
            begin: v.clone(),
            end: v,
        }
    }

    /// Records whose integer bin `bin` lies in `begin..=end`.
    ///
    /// ```
    /// use aerospike_blocking::query::Filter;
    /// let f = Filter::range("age", 10, 20);
    /// assert_eq!(f.to_string(), "10 <= age <= 20");
    /// ```
    pub fn range(bin: &str, begin: i64, end: i64) -> Filter {
        Filter {
            bin: bin.to_owned(),
            begin: Value::Int(begin),
            end: Value::Int(end),
        }
    }

    /// The bin the filter applies to.
    ///
    /// ```
    /// use aerospike_blocking::query::Filter;
    /// assert_eq!(Filter::range("age", 18, 65).bin(), "age");
    /// ```
    pub fn bin(&self) -> &str {
        &self.bin
    }

    /// Checks what the server would refuse, before anything is sent.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.bin.is_empty() || self.bin.len() > MAX_BIN_NAME {
            return Err(Error::invalid(format!(
                "index filter bin name {:?} must be 1 to {MAX_BIN_NAME} bytes",
                self.bin
            )));
        }
        match (&self.begin, &self.end) {
            (Value::Int(a), Value::Int(b)) if a > b => Err(Error::invalid(format!(
                "index filter range on {:?} is empty: {a} > {b}",
                self.bin
            ))),
            (Value::Int(_), Value::Int(_)) | (Value::String(_), Value::String(_)) => Ok(()),
            (v, _) => Err(Error::invalid(format!(
                "index filter on {:?} needs an integer or string value, not {v}",
                self.bin
            ))),
        }
    }

    /// The data of the index-range field: one range, then the bin name, the
    /// particle type and the two bounds, each with a 4-byte length.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.bin.len());
        out.push(1);
        out.push(self.bin.len() as u8);
        out.extend_from_slice(self.bin.as_bytes());
        out.push(self.begin.particle_type());
        for v in [&self.begin, &self.end] {
            let mut data = Vec::new();
            particle::encode(v, &mut data);
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            out.extend_from_slice(&data);
        }
        out
    }
}

impl std::fmt::Display for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.begin == self.end {
            write!(f, "{} == {}", self.bin, self.begin)
        } else {
            write!(f, "{} <= {} <= {}", self.begin, self.bin, self.end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn range_bytes_match_sindex_fixture() {
        // sindex-single.txt: predicates.between('age', 10, 20), field 22.
        assert_eq!(
            hex(&Filter::range("age", 10, 20).encode()),
            "01036167650100000008000000000000000a000000080000000000000014"
        );
    }

    #[test]
    fn equal_bytes_match_sindex_fixture() {
        // sindex-single.txt: predicates.equals('age', 7).
        assert_eq!(
            hex(&Filter::equal("age", 7).encode()),
            "010361676501000000080000000000000007000000080000000000000007"
        );
    }

    #[test]
    fn string_equality() {
        assert_eq!(
            hex(&Filter::equal("n", "ab").encode()),
            "01016e03000000026162000000026162"
        );
    }

    #[test]
    fn validation() {
        assert!(Filter::range("age", 1, 2).validate().is_ok());
        assert!(Filter::equal("s", "x").validate().is_ok());
        for bad in [
            Filter::range("age", 3, 2),
            Filter::equal("f", 1.5),
            Filter::equal("", 1),
            Filter::equal("a_very_long_bin_name", 1),
        ] {
            let e = bad.validate().unwrap_err();
            assert!(matches!(e, Error::InvalidArgument(_)), "{e}");
        }
    }
}
