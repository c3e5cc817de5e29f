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
/// use aerospike_blocking::operations;
/// let ops = vec![operations::put("a", 1), operations::add("n", 5), operations::get_bin("a")];
/// assert!(ops[0].is_write() && ops[2].is_read());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The request must ask the server to answer every operation
    /// (RESPOND_ALL_OPS), nil results included, so results keep the order of
    /// the operations: set by map operations, as aerospike-client-java does
    /// for its `MAP_READ`/`MAP_MODIFY` operation types.
    pub(crate) respond_all_ops: bool,
    pub(crate) kind: u8,
    pub(crate) bin: String,
    pub(crate) particle: u8,
    pub(crate) data: Vec<u8>,
    /// A metadata-only read ([`get_header`]): the request asks for no bin
    /// data unless another operation reads bins.
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
    /// use aerospike_blocking::operations;
    /// assert!(operations::get_bin("a").is_read());
    /// assert!(!operations::put("a", 1).is_read());
    /// ```
    pub fn is_read(&self) -> bool {
        op::is_read(self.kind)
    }

    /// True when the operation changes the record.
    ///
    /// ```
    /// use aerospike_blocking::operations;
    /// assert!(operations::add("n", 1).is_write());
    /// assert!(!operations::get().is_write());
    /// ```
    pub fn is_write(&self) -> bool {
        !self.is_read()
    }

    /// The bin the operation applies to ("" for record-level operations).
    ///
    /// ```
    /// use aerospike_blocking::operations;
    /// assert_eq!(operations::append("s", "x").bin(), "s");
    /// assert_eq!(operations::touch().bin(), "");
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
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
/// use aerospike_blocking::{operations, Key, WritePolicy};
/// client.operate(&WritePolicy::default(), &Key::new("test", "demo", 1)?, &[operations::put("name", "Ann")])?;
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
pub fn put(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::WRITE, bin, &value.into())
}

/// Removes bin `bin` (writes nil).
///
/// ```
/// use aerospike_blocking::operations;
/// assert!(operations::remove_bin("tmp").is_write());
/// ```
pub fn remove_bin(bin: &str) -> Operation {
    Operation::with_value(op::WRITE, bin, &Value::Nil)
}

/// Reads every bin.
///
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
/// use aerospike_blocking::{operations, Key, WritePolicy};
/// let rec = client.operate(&WritePolicy::default(), &Key::new("test", "demo", 1)?, &[operations::add("n", 1), operations::get()])?;
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
pub fn get() -> Operation {
    Operation::raw(op::READ, "", 0, Vec::new())
}

/// Reads bin `bin`.
///
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
/// use aerospike_blocking::{operations, Key, WritePolicy};
/// let rec = client.operate(&WritePolicy::default(), &Key::new("test", "demo", 1)?, &[operations::add("n", 1), operations::get_bin("n")])?;
/// println!("n is now {:?}", rec.bin("n"));
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
pub fn get_bin(bin: &str) -> Operation {
    Operation::raw(op::READ, bin, 0, Vec::new())
}

/// Reads the record's metadata only.
///
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
/// use aerospike_blocking::{operations, Key, WritePolicy};
/// let rec = client.operate(&WritePolicy::default(), &Key::new("test", "demo", 1)?, &[operations::touch(), operations::get_header()])?;
/// println!("generation {}", rec.generation);
/// # Ok::<(), aerospike_blocking::Error>(())
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
/// use aerospike_blocking::operations;
/// let op = operations::add("visits", 1);
/// assert!(op.is_write() && op.bin() == "visits");
/// ```
pub fn add(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::INCR, bin, &value.into())
}

/// Appends a string or bytes to bin `bin`.
///
/// ```
/// use aerospike_blocking::operations;
/// assert_eq!(operations::append("log", ";x").bin(), "log");
/// ```
pub fn append(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::APPEND, bin, &value.into())
}

/// Prepends a string or bytes to bin `bin`.
///
/// ```
/// use aerospike_blocking::operations;
/// assert_eq!(operations::prepend("name", "Dr. ").bin(), "name");
/// ```
pub fn prepend(bin: &str, value: impl Into<Value>) -> Operation {
    Operation::with_value(op::PREPEND, bin, &value.into())
}

/// Resets the record's time to live (the policy's expiration applies).
///
/// ```
/// use aerospike_blocking::operations;
/// assert!(operations::touch().is_write());
/// ```
pub fn touch() -> Operation {
    Operation::raw(op::TOUCH, "", 0, Vec::new())
}

/// Deletes the record.
///
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
/// use aerospike_blocking::{operations, Key, WritePolicy};
/// // Read the record and delete it in one step.
/// let last = client.operate(&WritePolicy::default(), &Key::new("test", "demo", 1)?, &[operations::get(), operations::delete()])?;
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
pub fn delete() -> Operation {
    Operation::raw(op::DELETE, "", 0, Vec::new())
}
