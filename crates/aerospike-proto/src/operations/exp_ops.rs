//! Expression operations: EXP_READ (7) and EXP_MODIFY (8).
//!
//! The operation value is a blob particle (type 4) holding the msgpack array
//! `[<expression>, flags]`, the packed expression inlined as it is (not
//! wrapped in a msgpack bin/str), as aerospike-client-java
//! `exp/ExpOperation.java` packs it. Like that client's `OperateArgs`, a
//! request with an expression operation asks for every operation's result
//! (RESPOND_ALL_OPS).

use super::Operation;
use crate::exp::Expression;
use crate::wire::message::op;
use crate::wire::{msgpack, particle};

/// Flags of [`exp_write`]; combine with `|`.
///
/// ```
/// use aerospike_proto::operations::ExpWriteFlags;
/// let f = ExpWriteFlags::UPDATE_ONLY | ExpWriteFlags::POLICY_NO_FAIL;
/// assert_eq!(f.bits(), 10);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExpWriteFlags(u8);

impl ExpWriteFlags {
    /// Default: create or overwrite the bin; a nil or unknown result fails.
    ///
    /// ```
    /// use aerospike_proto::operations::ExpWriteFlags;
    /// assert_eq!(ExpWriteFlags::DEFAULT.bits(), 0);
    /// ```
    pub const DEFAULT: ExpWriteFlags = ExpWriteFlags(0);
    /// Refuse to overwrite an existing bin (`BIN_EXISTS`).
    ///
    /// ```
    /// use aerospike_proto::operations::ExpWriteFlags;
    /// assert_eq!(ExpWriteFlags::CREATE_ONLY.bits(), 1);
    /// ```
    pub const CREATE_ONLY: ExpWriteFlags = ExpWriteFlags(1);
    /// Refuse to create a missing bin (`BIN_NOT_FOUND`).
    ///
    /// ```
    /// use aerospike_proto::operations::ExpWriteFlags;
    /// assert_eq!(ExpWriteFlags::UPDATE_ONLY.bits(), 2);
    /// ```
    pub const UPDATE_ONLY: ExpWriteFlags = ExpWriteFlags(2);
    /// A nil result removes an existing bin. Without it the bin is kept, and
    /// the write fails with `OP_NOT_APPLICABLE` when no flag at all is set
    /// (the server silences that refusal for any non-zero flags).
    ///
    /// ```
    /// use aerospike_proto::operations::ExpWriteFlags;
    /// assert_eq!(ExpWriteFlags::ALLOW_DELETE.bits(), 4);
    /// ```
    pub const ALLOW_DELETE: ExpWriteFlags = ExpWriteFlags(4);
    /// Turn a `CREATE_ONLY` / `UPDATE_ONLY` refusal into a silent no-op.
    ///
    /// ```
    /// use aerospike_proto::operations::ExpWriteFlags;
    /// assert_eq!(ExpWriteFlags::POLICY_NO_FAIL.bits(), 8);
    /// ```
    pub const POLICY_NO_FAIL: ExpWriteFlags = ExpWriteFlags(8);
    /// Turn an expression that evaluates to unknown (a missing bin, say) into
    /// a silent no-op instead of `OP_NOT_APPLICABLE`.
    ///
    /// ```
    /// use aerospike_proto::operations::ExpWriteFlags;
    /// assert_eq!(ExpWriteFlags::EVAL_NO_FAIL.bits(), 16);
    /// ```
    pub const EVAL_NO_FAIL: ExpWriteFlags = ExpWriteFlags(16);

    /// The raw bits.
    ///
    /// ```
    /// use aerospike_proto::operations::ExpWriteFlags;
    /// assert_eq!((ExpWriteFlags::CREATE_ONLY | ExpWriteFlags::EVAL_NO_FAIL).bits(), 17);
    /// ```
    pub fn bits(self) -> u8 {
        self.0
    }
}

bit_or!(ExpWriteFlags);

/// Flags of [`exp_read`].
///
/// ```
/// use aerospike_proto::operations::ExpReadFlags;
/// assert_eq!(ExpReadFlags::EVAL_NO_FAIL.bits(), 16);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExpReadFlags(u8);

impl ExpReadFlags {
    /// Default: an expression that evaluates to unknown fails with
    /// `OP_NOT_APPLICABLE`.
    ///
    /// ```
    /// use aerospike_proto::operations::ExpReadFlags;
    /// assert_eq!(ExpReadFlags::DEFAULT.bits(), 0);
    /// ```
    pub const DEFAULT: ExpReadFlags = ExpReadFlags(0);
    /// An unknown result reads as nil instead of failing.
    ///
    /// ```
    /// use aerospike_proto::operations::ExpReadFlags;
    /// assert_eq!(ExpReadFlags::EVAL_NO_FAIL.bits(), 16);
    /// ```
    pub const EVAL_NO_FAIL: ExpReadFlags = ExpReadFlags(16);

    /// The raw bits.
    ///
    /// ```
    /// use aerospike_proto::operations::ExpReadFlags;
    /// assert_eq!(ExpReadFlags::default().bits(), 0);
    /// ```
    pub fn bits(self) -> u8 {
        self.0
    }
}

/// Evaluates `exp` against the record and writes the result to bin `bin`.
/// In a background update, every selected record gets its own result.
///
/// ```
/// use aerospike_proto::exp::Expression;
/// use aerospike_proto::operations::{self, ExpWriteFlags};
/// let total = Expression::from_ael_value("$.price * $.qty")?;
/// let op = operations::exp_write("total", &total, ExpWriteFlags::DEFAULT);
/// assert!(op.is_write() && op.bin() == "total");
/// # Ok::<(), aerospike_proto::Error>(())
/// ```
pub fn exp_write(bin: &str, exp: &Expression, flags: ExpWriteFlags) -> Operation {
    exp_op(op::EXP_MODIFY, bin, exp, flags.bits())
}

/// Evaluates `exp` against the record and returns the result under `name`
/// (a name of the caller's choice; no bin is read or written by that name).
///
/// ```
/// use aerospike_proto::exp::Expression;
/// use aerospike_proto::operations::{self, ExpReadFlags};
/// let sum = Expression::from_ael_value("$.a + $.b")?;
/// let op = operations::exp_read("sum", &sum, ExpReadFlags::DEFAULT);
/// assert!(!op.is_write() && op.bin() == "sum");
/// # Ok::<(), aerospike_proto::Error>(())
/// ```
pub fn exp_read(name: &str, exp: &Expression, flags: ExpReadFlags) -> Operation {
    exp_op(op::EXP_READ, name, exp, flags.bits())
}

/// `[<packed expression>, flags]` in a blob particle.
fn exp_op(kind: u8, name: &str, exp: &Expression, flags: u8) -> Operation {
    let mut data = Vec::new();
    msgpack::pack_array_len(&mut data, 2);
    data.extend_from_slice(&exp.pack());
    msgpack::pack_int(&mut data, i64::from(flags));
    Operation {
        respond_all_ops: true,
        ..Operation::raw(kind, name, particle::types::BLOB, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp;

    // Layouts from aerospike-client-java `exp/ExpOperation.java`: the value is
    // a blob holding msgpack array(2) = [expression bytes inlined, flags].

    #[test]
    fn write_golden_bytes() {
        // `$.a + $.b`: [ADD 20, [BIN 81, INT 2, "a"], [BIN 81, INT 2, "b"]]
        let e = exp::add(vec![exp::int_bin("a"), exp::int_bin("b")]);
        let o = exp_write(
            "sum",
            &e,
            ExpWriteFlags::UPDATE_ONLY | ExpWriteFlags::EVAL_NO_FAIL,
        );
        let expected = [
            0x92, // array(2)
            0x93, 0x14, 0x93, 0x51, 0x02, 0xa1, b'a', 0x93, 0x51, 0x02, 0xa1, b'b', // exp
            0x12, // flags 18
        ];
        assert_eq!(o.data, expected);
        assert_eq!(o.kind, 8);
        assert_eq!(o.particle, 4);
        assert_eq!(o.bin(), "sum");
        assert!(o.respond_all_ops);
        assert!(o.is_write() && !o.is_read());
        let w = o.to_wire();
        assert_eq!((w.kind, w.particle, w.name.as_str()), (8, 4, "sum"));
    }

    #[test]
    fn read_golden_bytes() {
        let e = exp::lt(exp::int_bin("i"), exp::int_val(50));
        let o = exp_read("small", &e, ExpReadFlags::DEFAULT);
        let mut expected = vec![0x92];
        expected.extend_from_slice(&[0x93, 0x05, 0x93, 0x51, 0x02, 0xa1, b'i', 0x32]);
        expected.push(0x00);
        assert_eq!(o.data, expected);
        assert_eq!((o.kind, o.particle), (7, 4));
        assert!(o.is_read() && o.respond_all_ops);
        let o = exp_read("small", &e, ExpReadFlags::EVAL_NO_FAIL);
        assert_eq!(o.data.last(), Some(&0x10));
    }
}
