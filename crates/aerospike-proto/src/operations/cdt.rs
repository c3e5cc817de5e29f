//! What the list and map builders share: a CDT operation as a read or a
//! modify, creating a nested container, value and key intervals, the
//! get/remove selector pairs and `|` on flag types.

use crate::value::Value;
use crate::wire::message::op;
use crate::wire::particle::types;

use super::cdt_context::{pack_op, CdtContext};
use super::Operation;

/// A CDT_MODIFY operation `[code, args...]` on `bin`.
pub(super) fn modify(bin: &str, code: i64, args: &[Value]) -> Operation {
    Operation::raw(op::CDT_MODIFY, bin, types::BLOB, pack_op(&[], code, args))
}

/// A CDT_READ operation `[code, args...]` on `bin`.
pub(super) fn read(bin: &str, code: i64, args: &[Value]) -> Operation {
    Operation::raw(op::CDT_READ, bin, types::BLOB, pack_op(&[], code, args))
}

/// `[set_type_code, attributes]` applied where `ctx` points, with
/// `create_flag` OR-ed into the last step so the server creates the container
/// (aerospike-client-java `ListOperation.create`, `MapOperation.create`).
/// Without a context it is a plain set-type operation on the bin.
pub(super) fn create(
    bin: &str,
    ctx: &[CdtContext],
    create_flag: i64,
    set_type_code: i64,
    attributes: i64,
) -> Operation {
    let mut ctx = ctx.to_vec();
    if let Some(last) = ctx.last_mut() {
        last.id |= create_flag;
    }
    let data = pack_op(&ctx, set_type_code, &[Value::Int(attributes)]);
    Operation::raw(op::CDT_MODIFY, bin, types::BLOB, data)
}

/// A selection of `begin <= x < end` built by `build` ([`read`] or
/// [`modify`]): `[code, return_type, begin, end]`, without `end` when it is nil
/// (no upper bound, as the official clients send it).
pub(super) fn interval(
    build: fn(&str, i64, &[Value]) -> Operation,
    bin: &str,
    code: i64,
    return_type: i64,
    begin: impl Into<Value>,
    end: impl Into<Value>,
) -> Operation {
    let end = end.into();
    let mut args = vec![Value::Int(return_type), begin.into()];
    if !end.is_nil() {
        args.push(end);
    }
    build(bin, code, &args)
}

/// The operation's wire data in hex, for golden tests.
#[cfg(test)]
pub(crate) fn hex(op: &Operation) -> String {
    op.data.iter().map(|b| format!("{b:02x}")).collect()
}

/// `|` for flag newtypes over an integer.
macro_rules! bit_or {
    ($($flags:ident),*) => {$(
        impl std::ops::BitOr for $flags {
            type Output = $flags;
            fn bitor(self, rhs: $flags) -> $flags {
                $flags(self.0 | rhs.0)
            }
        }
    )*};
}

/// Get/remove pairs of selecting operations: `get_x` reads
/// `[get_code, return_type, args...]`, `remove_x` modifies with
/// `[remove_code, return_type, args...]`. The header names the module
/// (`list`/`map`), the bin of the doc examples, the return type and what the
/// container holds (`elements`/`entries`); `read`, `modify` and `codes` are
/// the caller's.
macro_rules! selectors {
    (
        $module:ident, $bin:literal, $rt:ident, $items:literal;
        $(
            $(#[$doc:meta])*
            $get:ident / $remove:ident ($get_code:ident, $remove_code:ident)
                ($($arg:ident : $ty:ty => $conv:expr),*);
        )*
    ) => {$(
        $(#[$doc])*
        ///
        /// Returns what `return_type` asks for.
        ///
        /// ```
        #[doc = concat!("use aerospike_proto::operations::", stringify!($module),
            "::{self, ", stringify!($rt), "};")]
        #[doc = concat!("let op = ", stringify!($module), "::", stringify!($get),
            "(\"", $bin, "\", ", $(selectors!(@example $arg), ", ",)*
            stringify!($rt), "::VALUE);")]
        /// assert!(op.is_read());
        /// ```
        pub fn $get(bin: &str, $($arg: $ty,)* return_type: $rt) -> Operation {
            read(bin, codes::$get_code, &[Value::Int(return_type.bits()), $($conv),*])
        }

        $(#[$doc])*
        /// and removes what it selects.
        ///
        #[doc = concat!("Returns what `return_type` asks for about the removed ", $items, ".")]
        ///
        /// ```
        #[doc = concat!("use aerospike_proto::operations::", stringify!($module),
            "::{self, ", stringify!($rt), "};")]
        #[doc = concat!("let op = ", stringify!($module), "::", stringify!($remove),
            "(\"", $bin, "\", ", $(selectors!(@example $arg), ", ",)*
            stringify!($rt), "::COUNT);")]
        /// assert!(op.is_write());
        /// ```
        pub fn $remove(bin: &str, $($arg: $ty,)* return_type: $rt) -> Operation {
            modify(bin, codes::$remove_code, &[Value::Int(return_type.bits()), $($conv),*])
        }
    )*};
    (@example key) => { "\"k\"" };
    (@example keys) => { "vec![aerospike_proto::Value::from(\"k\")]" };
    (@example index) => { "0" };
    (@example rank) => { "-1" };
    (@example count) => { "2" };
    (@example value) => { "5" };
    (@example values) => { "vec![aerospike_proto::Value::from(5)]" };
}
