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
    /// A metadata-only read ([`get_header`]): on the wire the same READ op as
    /// [`get`], but the request asks for no bin data (INFO1 NOBINDATA instead
    /// of GET_ALL, as aerospike-client-java `OperateArgs` does for
    /// `READ_HEADER`).
    pub(crate) header_only: bool,
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
            header_only: false,
        }
    }

    /// True when the operation only reads.
    pub fn is_read(&self) -> bool {
        op::is_read(self.kind)
    }

    /// True when the operation changes the record.
    pub fn is_write(&self) -> bool {
        !self.is_read()
    }

    /// The bin the operation applies to ("" for record-level operations).
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
pub fn put(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::WRITE, bin, &value.into())
}

/// Removes bin `bin` (writes nil).
pub fn remove_bin(bin: &str) -> Operation {
    Operation::with_value(op::WRITE, bin, &Value::Nil)
}

/// Reads every bin.
pub fn get() -> Operation {
    Operation::raw(op::READ, "", 0, Vec::new())
}

/// Reads bin `bin`.
pub fn get_bin(bin: &str) -> Operation {
    Operation::raw(op::READ, bin, 0, Vec::new())
}

/// Reads the record's metadata only (generation and expiration, no bins),
/// unless another operation of the same request reads bins.
pub fn get_header() -> Operation {
    Operation {
        header_only: true,
        ..get()
    }
}

/// Adds `value` (integer or float) to bin `bin`, creating it if absent.
pub fn add(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::INCR, bin, &value.into())
}

/// Appends a string or bytes to bin `bin`.
pub fn append(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::APPEND, bin, &value.into())
}

/// Prepends a string or bytes to bin `bin`.
pub fn prepend(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::PREPEND, bin, &value.into())
}

/// Resets the record's time to live (the policy's expiration applies).
pub fn touch() -> Operation {
    Operation::raw(op::TOUCH, "", 0, Vec::new())
}

/// Deletes the record.
pub fn delete() -> Operation {
    Operation::raw(op::DELETE, "", 0, Vec::new())
}
