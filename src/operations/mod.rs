//! Operations for `Client::operate` and background update jobs.
//!
//! An [`Operation`] is one step applied to one bin of a record: write, read,
//! add, append, prepend, touch, delete, and list and map operations (see the
//! [`list`] and [`map`] modules).

#[macro_use]
mod cdt;
mod cdt_context;
pub mod list;
pub mod map;

pub use cdt_context::CdtContext;

use crate::value::Value;
use crate::wire::message::{op, Op};
use crate::wire::particle;

/// One operation on a record.
///
/// Build one with the functions of this module, [`list`] or [`map`].
///
/// ```
/// use aerospike_blocking::operations;
/// let ops = vec![operations::put("a", 1), operations::add("n", 5), operations::get_bin("a")];
/// assert!(ops[0].is_write() && ops[2].is_read());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub(crate) kind: u8,
    pub(crate) bin: String,
    pub(crate) particle: u8,
    pub(crate) data: Vec<u8>,
    pub(crate) class: OpClass,
}

/// What an operation asks of the request header beyond its wire type
/// (aerospike-client-java keeps these apart as `Operation.Type`s that share a
/// wire type; `OperateArgs` turns them into header bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpClass {
    /// Nothing beyond the wire type.
    Plain,
    /// A metadata-only read ([`get_header`], `READ_HEADER`): the same READ op
    /// as [`get`], but the request asks for no bin data (INFO1 NOBINDATA
    /// instead of GET_ALL) unless another operation reads bins.
    Header,
    /// A map operation (`MAP_READ`/`MAP_MODIFY`): the request asks the server
    /// to answer every operation (INFO2 RESPOND_ALL_OPS), nil results
    /// included, so results keep the order of the operations.
    Map,
}

impl Operation {
    pub(crate) fn with_value(kind: u8, bin: &str, value: &Value) -> Self {
        let mut data = Vec::new();
        let particle = particle::encode(value, &mut data);
        Operation::raw(kind, bin, particle, data)
    }

    pub(crate) fn raw(kind: u8, bin: &str, particle: u8, data: Vec<u8>) -> Self {
        Operation {
            kind,
            bin: bin.to_owned(),
            particle,
            data,
            class: OpClass::Plain,
        }
    }

    /// True when the operation only reads.
    ///
    /// ```
    /// use aerospike_blocking::operations::{self, list};
    /// assert!(operations::get_bin("a").is_read() && list::size("l").is_read());
    /// assert!(!operations::touch().is_read());
    /// ```
    pub fn is_read(&self) -> bool {
        op::is_read(self.kind)
    }

    /// True when the operation changes the record.
    ///
    /// ```
    /// use aerospike_blocking::operations::{self, map};
    /// assert!(operations::add("n", 1).is_write() && map::clear("m").is_write());
    /// assert!(!operations::get().is_write());
    /// ```
    pub fn is_write(&self) -> bool {
        !self.is_read()
    }

    /// The bin the operation applies to ("" for record-level operations).
    ///
    /// ```
    /// use aerospike_blocking::operations;
    /// assert_eq!(operations::put("name", "Ann").bin(), "name");
    /// assert_eq!(operations::delete().bin(), "");
    /// ```
    pub fn bin(&self) -> &str {
        &self.bin
    }

    /// The wire form.
    pub(crate) fn to_wire(&self) -> Op {
        Op {
            kind: self.kind,
            particle: self.particle,
            name: self.bin.clone(),
            data: self.data.clone(),
        }
    }
}

/// Writes `value` to bin `bin` (`Value::Nil` removes the bin).
///
/// ```
/// use aerospike_blocking::{operations, Value};
/// let op = operations::put("name", "Ann");
/// assert!(op.is_write());
/// assert_eq!(operations::put("name", Value::Nil), operations::remove_bin("name"));
/// ```
pub fn put(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::WRITE, bin, &value.into())
}

/// Removes bin `bin` (writes nil).
///
/// ```
/// use aerospike_blocking::operations;
/// let op = operations::remove_bin("obsolete");
/// assert!(op.is_write() && op.bin() == "obsolete");
/// ```
pub fn remove_bin(bin: &str) -> Operation {
    Operation::with_value(op::WRITE, bin, &Value::Nil)
}

/// Reads every bin.
///
/// ```
/// use aerospike_blocking::operations;
/// // Increment a counter and read back the whole record in one request.
/// let ops = [operations::add("hits", 1), operations::get()];
/// assert!(ops[1].is_read());
/// ```
pub fn get() -> Operation {
    Operation::raw(op::READ, "", 0, Vec::new())
}

/// Reads bin `bin`.
///
/// ```
/// use aerospike_blocking::operations;
/// let op = operations::get_bin("hits");
/// assert!(op.is_read() && op.bin() == "hits");
/// ```
pub fn get_bin(bin: &str) -> Operation {
    Operation::raw(op::READ, bin, 0, Vec::new())
}

/// Reads the record's metadata only (generation and expiration, no bins),
/// unless another operation of the same request reads bins.
///
/// ```
/// use aerospike_blocking::operations;
/// // Touch the record and learn its new generation and expiration.
/// let ops = [operations::touch(), operations::get_header()];
/// assert!(ops[1].is_read());
/// ```
pub fn get_header() -> Operation {
    Operation {
        class: OpClass::Header,
        ..get()
    }
}

/// Adds `value` (integer or float) to bin `bin`, creating it if absent.
///
/// ```
/// use aerospike_blocking::operations;
/// let ops = [operations::add("count", 1), operations::add("total", 2.5)];
/// assert!(ops.iter().all(|o| o.is_write()));
/// ```
pub fn add(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::INCR, bin, &value.into())
}

/// Appends a string or bytes to bin `bin`.
///
/// ```
/// use aerospike_blocking::operations;
/// let op = operations::append("log", ";seen");
/// assert!(op.is_write());
/// ```
pub fn append(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::APPEND, bin, &value.into())
}

/// Prepends a string or bytes to bin `bin`.
///
/// ```
/// use aerospike_blocking::operations;
/// let op = operations::prepend("path", "/root");
/// assert!(op.is_write());
/// ```
pub fn prepend(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::PREPEND, bin, &value.into())
}

/// Resets the record's time to live (the policy's expiration applies).
///
/// ```
/// use aerospike_blocking::operations;
/// let op = operations::touch();
/// assert!(op.is_write() && op.bin().is_empty());
/// ```
pub fn touch() -> Operation {
    Operation::raw(op::TOUCH, "", 0, Vec::new())
}

/// Deletes the record.
///
/// ```
/// use aerospike_blocking::operations;
/// // Read a bin and delete the record in one request.
/// let ops = [operations::get_bin("last"), operations::delete()];
/// assert!(ops[1].is_write());
/// ```
pub fn delete() -> Operation {
    Operation::raw(op::DELETE, "", 0, Vec::new())
}
