//! Operations for `Client::operate` and background update jobs.
//!
//! An [`Operation`] is one step applied to one bin of a record: write, read,
//! add, append, prepend, touch, delete, expression reads and writes
//! ([`exp_read`], [`exp_write`]), and list and map operations (see the
//! [`list`] and [`map`] modules).

#[macro_use]
mod cdt;
mod cdt_context;
mod exp_ops;
pub mod list;
pub mod map;

pub use cdt_context::CdtContext;
pub use exp_ops::{exp_read, exp_write, ExpReadFlags, ExpWriteFlags};

use crate::value::Value;
use crate::wire::message::{op, Op};
use crate::wire::particle;

/// One operation on a record.
///
/// Build one with the functions of this module, [`list`] or [`map`].
///
/// ```
/// use aerospike_proto::operations;
/// let ops = vec![operations::put("a", 1), operations::add("n", 5), operations::get_bin("a")];
/// assert!(ops[0].is_write() && ops[2].is_read());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The request must ask the server to answer every operation
    /// (RESPOND_ALL_OPS), nil results included, so results keep the order of
    /// the operations: set by map operations, as aerospike-client-java does
    /// for its `MAP_READ`/`MAP_MODIFY` operation types.
    pub respond_all_ops: bool,
    /// The `kind` of this Operation.
    pub kind: u8,
    /// The `bin` of this Operation.
    pub bin: String,
    /// The `particle` of this Operation.
    pub particle: u8,
    /// The `data` of this Operation.
    pub data: Vec<u8>,
    /// A metadata-only read ([`get_header`]): the request asks for no bin
    /// data unless another operation reads bins.
    pub header_only: bool,
}

impl Operation {
    /// An operation of type `kind` on `bin` carrying `value` in particle form.
    pub fn with_value(kind: u8, bin: &str, value: &Value) -> Self {
        let mut data = Vec::new();
        let particle = particle::encode(value, &mut data);
        Operation::raw(kind, bin, particle, data)
    }

    /// An operation from its wire parts: type, bin name, particle type and value bytes.
    pub fn raw(kind: u8, bin: &str, particle: u8, data: Vec<u8>) -> Self {
        Operation {
            respond_all_ops: false,
            kind,
            bin: bin.to_owned(),
            particle,
            data,
            header_only: false,
        }
    }

    /// True when the operation only reads.
    ///
    /// ```
    /// use aerospike_proto::operations;
    /// assert!(operations::get_bin("a").is_read());
    /// assert!(!operations::put("a", 1).is_read());
    /// ```
    pub fn is_read(&self) -> bool {
        op::is_read(self.kind)
    }

    /// True when the operation changes the record.
    ///
    /// ```
    /// use aerospike_proto::operations;
    /// assert!(operations::add("n", 1).is_write());
    /// assert!(!operations::get().is_write());
    /// ```
    pub fn is_write(&self) -> bool {
        !self.is_read()
    }

    /// The bin the operation applies to ("" for record-level operations).
    ///
    /// ```
    /// use aerospike_proto::operations;
    /// assert_eq!(operations::append("s", "x").bin(), "s");
    /// assert_eq!(operations::touch().bin(), "");
    /// ```
    pub fn bin(&self) -> &str {
        &self.bin
    }

    /// The wire form.
    pub fn to_wire(&self) -> Op {
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
/// use aerospike_proto::operations;
/// // Sent with `Client::operate` of aerospike-blocking, or in a background update.
/// let op = operations::put("name", "Ann");
/// assert!(op.is_write() && op.bin() == "name");
/// ```
pub fn put(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::WRITE, bin, &value.into())
}

/// Removes bin `bin` (writes nil).
///
/// ```
/// use aerospike_proto::operations;
/// assert!(operations::remove_bin("tmp").is_write());
/// ```
pub fn remove_bin(bin: &str) -> Operation {
    Operation::with_value(op::WRITE, bin, &Value::Nil)
}

/// Reads every bin.
///
/// ```
/// use aerospike_proto::operations;
/// let op = operations::get();
/// assert!(!op.is_write() && op.bin().is_empty());
/// ```
pub fn get() -> Operation {
    Operation::raw(op::READ, "", 0, Vec::new())
}

/// Reads bin `bin`.
///
/// ```
/// use aerospike_proto::operations;
/// let op = operations::get_bin("n");
/// assert!(!op.is_write() && op.bin() == "n");
/// ```
pub fn get_bin(bin: &str) -> Operation {
    Operation::raw(op::READ, bin, 0, Vec::new())
}

/// Reads the record's metadata only.
///
/// ```
/// use aerospike_proto::operations;
/// // With `touch()` in one `operate`: the record's new metadata, no bins.
/// let op = operations::get_header();
/// assert!(!op.is_write());
/// ```
pub fn get_header() -> Operation {
    Operation {
        header_only: true,
        ..Operation::raw(op::READ, "", 0, Vec::new())
    }
}

/// Adds `value` (integer or float) to bin `bin`, creating it if absent.
///
/// ```
/// use aerospike_proto::operations;
/// let op = operations::add("visits", 1);
/// assert!(op.is_write() && op.bin() == "visits");
/// ```
pub fn add(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::INCR, bin, &value.into())
}

/// Appends a string or bytes to bin `bin`.
///
/// ```
/// use aerospike_proto::operations;
/// assert_eq!(operations::append("log", ";x").bin(), "log");
/// ```
pub fn append(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::APPEND, bin, &value.into())
}

/// Prepends a string or bytes to bin `bin`.
///
/// ```
/// use aerospike_proto::operations;
/// assert_eq!(operations::prepend("name", "Dr. ").bin(), "name");
/// ```
pub fn prepend(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::PREPEND, bin, &value.into())
}

/// Resets the record's time to live (the policy's expiration applies).
///
/// ```
/// use aerospike_proto::operations;
/// assert!(operations::touch().is_write());
/// ```
pub fn touch() -> Operation {
    Operation::raw(op::TOUCH, "", 0, Vec::new())
}

/// Deletes the record.
///
/// ```
/// use aerospike_proto::operations;
/// // With `get()` before it in one `operate`: read the record, then delete it.
/// assert!(operations::delete().is_write());
/// ```
pub fn delete() -> Operation {
    Operation::raw(op::DELETE, "", 0, Vec::new())
}
