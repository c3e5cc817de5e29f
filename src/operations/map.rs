//! Map operations (CDT).
//!
//! Each function builds one [`Operation`] on a map bin, in the wire form of
//! aerospike-client-java `cdt/MapOperation.java`: the msgpack array
//! `[op_code, args...]` as a blob particle in a CDT_READ (3) or CDT_MODIFY (4)
//! operation.
//!
//! A map's *index* is an entry's position in key order (for unordered maps
//! too); its *rank* is the position of its value in value order. Both may be
//! negative (-1 is the last).
//!
//! ```
//! use aerospike_blocking::operations::map::{self, MapPolicy, MapReturnType};
//! let ops = vec![
//!     map::put(&MapPolicy::default(), "visits", "home", 1),
//!     map::increment(&MapPolicy::default(), "visits", "home", 1),
//!     map::get_by_key("visits", "home", MapReturnType::VALUE),
//! ];
//! assert!(ops[2].is_read());
//! ```

use std::ops::BitOr;

use crate::value::Value;
use crate::wire::message::op;
use crate::wire::particle::types;

use super::cdt_context::{pack_op, CdtContext};
use super::list::range_args;
use super::Operation;

/// Map op codes (aerospike-client-java `cdt/MapOperation.java`).
// The embedded server decodes every code; the client builds most of them.
#[cfg_attr(not(feature = "embedded"), allow(dead_code))]
pub(crate) mod codes {
    pub(crate) const SET_TYPE: i64 = 64;
    pub(crate) const ADD: i64 = 65;
    pub(crate) const ADD_ITEMS: i64 = 66;
    pub(crate) const PUT: i64 = 67;
    pub(crate) const PUT_ITEMS: i64 = 68;
    pub(crate) const REPLACE: i64 = 69;
    pub(crate) const REPLACE_ITEMS: i64 = 70;
    pub(crate) const INCREMENT: i64 = 73;
    pub(crate) const DECREMENT: i64 = 74;
    pub(crate) const CLEAR: i64 = 75;
    pub(crate) const REMOVE_BY_KEY: i64 = 76;
    pub(crate) const REMOVE_BY_INDEX: i64 = 77;
    pub(crate) const REMOVE_BY_RANK: i64 = 79;
    pub(crate) const REMOVE_BY_KEY_LIST: i64 = 81;
    pub(crate) const REMOVE_BY_VALUE: i64 = 82;
    pub(crate) const REMOVE_BY_VALUE_LIST: i64 = 83;
    pub(crate) const REMOVE_BY_KEY_INTERVAL: i64 = 84;
    pub(crate) const REMOVE_BY_INDEX_RANGE: i64 = 85;
    pub(crate) const REMOVE_BY_VALUE_INTERVAL: i64 = 86;
    pub(crate) const REMOVE_BY_RANK_RANGE: i64 = 87;
    pub(crate) const REMOVE_BY_KEY_REL_INDEX_RANGE: i64 = 88;
    pub(crate) const REMOVE_BY_VALUE_REL_RANK_RANGE: i64 = 89;
    pub(crate) const SIZE: i64 = 96;
    pub(crate) const GET_BY_KEY: i64 = 97;
    pub(crate) const GET_BY_INDEX: i64 = 98;
    pub(crate) const GET_BY_RANK: i64 = 100;
    pub(crate) const GET_BY_VALUE: i64 = 102;
    pub(crate) const GET_BY_KEY_INTERVAL: i64 = 103;
    pub(crate) const GET_BY_INDEX_RANGE: i64 = 104;
    pub(crate) const GET_BY_VALUE_INTERVAL: i64 = 105;
    pub(crate) const GET_BY_RANK_RANGE: i64 = 106;
    pub(crate) const GET_BY_KEY_LIST: i64 = 107;
    pub(crate) const GET_BY_VALUE_LIST: i64 = 108;
    pub(crate) const GET_BY_KEY_REL_INDEX_RANGE: i64 = 109;
    pub(crate) const GET_BY_VALUE_REL_RANK_RANGE: i64 = 110;
}

/// How a map keeps its entries.
///
/// ```
/// use aerospike_blocking::operations::map::{MapOrder, MapPolicy, MapWriteFlags};
/// let p = MapPolicy::new(MapOrder::KeyOrdered, MapWriteFlags::DEFAULT);
/// # let _ = p;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MapOrder {
    /// Insertion order (the default).
    #[default]
    Unordered,
    /// Sorted by key.
    KeyOrdered,
    /// Sorted by key, then value.
    KeyValueOrdered,
}

impl MapOrder {
    /// The attribute value sent to the server.
    pub(crate) fn attributes(self) -> i64 {
        match self {
            MapOrder::Unordered => 0,
            MapOrder::KeyOrdered => 1,
            MapOrder::KeyValueOrdered => 3,
        }
    }

    /// The flag OR-ed into a context id to create a missing map.
    pub(crate) fn create_flag(self) -> i64 {
        match self {
            MapOrder::Unordered => 0x40,
            MapOrder::KeyOrdered => 0x80,
            MapOrder::KeyValueOrdered => 0xc0,
        }
    }
}

/// Write flags of map writes; combine with `|`.
///
/// ```
/// use aerospike_blocking::operations::map::MapWriteFlags;
/// let f = MapWriteFlags::CREATE_ONLY | MapWriteFlags::NO_FAIL;
/// assert_eq!(f.bits(), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MapWriteFlags(u8);

impl MapWriteFlags {
    /// Create or update entries.
    pub const DEFAULT: MapWriteFlags = MapWriteFlags(0);
    /// Only create entries (`ELEMENT_EXISTS` for an existing key).
    pub const CREATE_ONLY: MapWriteFlags = MapWriteFlags(1);
    /// Only update entries (`ELEMENT_NOT_FOUND` for a missing key).
    pub const UPDATE_ONLY: MapWriteFlags = MapWriteFlags(2);
    /// Turn a refused write into a silent no-op.
    pub const NO_FAIL: MapWriteFlags = MapWriteFlags(4);
    /// With `NO_FAIL`, write the items that can be written and skip the rest.
    pub const PARTIAL: MapWriteFlags = MapWriteFlags(8);

    /// The raw bits.
    ///
    /// ```
    /// use aerospike_blocking::operations::map::MapWriteFlags;
    /// assert_eq!(MapWriteFlags::UPDATE_ONLY.bits(), 2);
    /// ```
    pub fn bits(self) -> u8 {
        self.0
    }
}

impl BitOr for MapWriteFlags {
    type Output = MapWriteFlags;
    fn bitor(self, rhs: MapWriteFlags) -> MapWriteFlags {
        MapWriteFlags(self.0 | rhs.0)
    }
}

/// Map order and write flags of a writing map operation.
///
/// ```
/// use aerospike_blocking::operations::map::{self, MapOrder, MapPolicy, MapWriteFlags};
/// let p = MapPolicy::new(MapOrder::KeyOrdered, MapWriteFlags::CREATE_ONLY);
/// let op = map::put(&p, "m", "k", 1);
/// # let _ = op;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MapPolicy {
    /// The order of a map the operation creates.
    pub order: MapOrder,
    /// Write flags.
    pub flags: MapWriteFlags,
}

impl MapPolicy {
    /// A policy with `order` and `flags`.
    ///
    /// ```
    /// use aerospike_blocking::operations::map::{MapOrder, MapPolicy, MapWriteFlags};
    /// assert_eq!(MapPolicy::new(MapOrder::Unordered, MapWriteFlags::DEFAULT), MapPolicy::default());
    /// ```
    pub fn new(order: MapOrder, flags: MapWriteFlags) -> Self {
        MapPolicy { order, flags }
    }
}

/// What a selecting map operation returns; `inverted()` selects everything
/// except the matched entries.
///
/// ```
/// use aerospike_blocking::operations::map::MapReturnType;
/// assert_eq!(MapReturnType::KEY.inverted().bits(), 0x10006);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapReturnType(i64);

impl MapReturnType {
    /// Nothing (nil).
    pub const NONE: MapReturnType = MapReturnType(0);
    /// Index (key order) of each entry.
    pub const INDEX: MapReturnType = MapReturnType(1);
    /// Index from the end.
    pub const REVERSE_INDEX: MapReturnType = MapReturnType(2);
    /// Value rank of each entry (0 smallest).
    pub const RANK: MapReturnType = MapReturnType(3);
    /// Value rank from the largest.
    pub const REVERSE_RANK: MapReturnType = MapReturnType(4);
    /// Number of entries.
    pub const COUNT: MapReturnType = MapReturnType(5);
    /// The keys.
    pub const KEY: MapReturnType = MapReturnType(6);
    /// The values.
    pub const VALUE: MapReturnType = MapReturnType(7);
    /// The entries as a map.
    pub const KEY_VALUE: MapReturnType = MapReturnType(8);
    /// Whether anything matched (bool).
    pub const EXISTS: MapReturnType = MapReturnType(13);
    /// The entries as an unordered map.
    pub const UNORDERED_MAP: MapReturnType = MapReturnType(16);
    /// The entries as a key-ordered map.
    pub const ORDERED_MAP: MapReturnType = MapReturnType(17);

    /// The same return type applied to the entries not matched.
    ///
    /// ```
    /// use aerospike_blocking::operations::map::MapReturnType;
    /// assert_ne!(MapReturnType::VALUE.inverted(), MapReturnType::VALUE);
    /// ```
    pub fn inverted(self) -> Self {
        MapReturnType(self.0 | 0x10000)
    }

    /// The raw value sent to the server.
    ///
    /// ```
    /// use aerospike_blocking::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::KEY_VALUE.bits(), 8);
    /// ```
    pub fn bits(self) -> i64 {
        self.0
    }
}

fn modify(bin: &str, code: i64, args: &[Value]) -> Operation {
    Operation::raw(op::CDT_MODIFY, bin, types::BLOB, pack_op(&[], code, args))
}

fn read(bin: &str, code: i64, args: &[Value]) -> Operation {
    Operation::raw(op::CDT_READ, bin, types::BLOB, pack_op(&[], code, args))
}

fn rt(r: MapReturnType) -> Value {
    Value::Int(r.0)
}

/// Sets the map's order (sorting it by key when key-ordered). Returns nil.
///
/// ```
/// use aerospike_blocking::operations::map::{self, MapOrder, MapPolicy, MapWriteFlags};
/// let op = map::set_policy(&MapPolicy::new(MapOrder::KeyOrdered, MapWriteFlags::DEFAULT), "m");
/// # let _ = op;
/// ```
pub fn set_policy(policy: &MapPolicy, bin: &str) -> Operation {
    modify(
        bin,
        codes::SET_TYPE,
        &[Value::Int(policy.order.attributes())],
    )
}

/// Creates a map with `order` at the nested position `ctx` points at (the
/// create flag goes on the last context step, as in aerospike-client-java
/// `MapOperation.create`); with no context it is [`set_policy`]. Returns nil.
///
/// ```
/// use aerospike_blocking::operations::{map::{self, MapOrder}, CdtContext};
/// let op = map::create("m", MapOrder::KeyOrdered, &[CdtContext::map_key("daily")]);
/// assert!(op.is_write());
/// ```
pub fn create(bin: &str, order: MapOrder, ctx: &[CdtContext]) -> Operation {
    let mut ctx = ctx.to_vec();
    let Some(last) = ctx.last_mut() else {
        return set_policy(&MapPolicy::new(order, MapWriteFlags::DEFAULT), bin);
    };
    last.id |= order.create_flag();
    let data = pack_op(&ctx, codes::SET_TYPE, &[Value::Int(order.attributes())]);
    Operation::raw(op::CDT_MODIFY, bin, types::BLOB, data)
}

/// Writes `key` → `value`, creating the map if needed. Returns the map size.
///
/// ```
/// use aerospike_blocking::operations::map::{self, MapPolicy};
/// let op = map::put(&MapPolicy::default(), "m", "k", 1);
/// # let _ = op;
/// ```
pub fn put(
    policy: &MapPolicy,
    bin: &str,
    key: impl Into<Value>,
    value: impl Into<Value>,
) -> Operation {
    let mut args = vec![
        key.into(),
        value.into(),
        Value::Int(policy.order.attributes()),
    ];
    if policy.flags.0 != 0 {
        args.push(Value::Int(i64::from(policy.flags.0)));
    }
    modify(bin, codes::PUT, &args)
}

/// Writes every entry of `items`. Returns the map size.
///
/// ```
/// use aerospike_blocking::{operations::map::{self, MapPolicy}, Value};
/// let op = map::put_items(&MapPolicy::default(), "m", vec![(Value::from("a"), Value::from(1))]);
/// # let _ = op;
/// ```
pub fn put_items(policy: &MapPolicy, bin: &str, items: Vec<(Value, Value)>) -> Operation {
    let mut args = vec![Value::Map(items), Value::Int(policy.order.attributes())];
    if policy.flags.0 != 0 {
        args.push(Value::Int(i64::from(policy.flags.0)));
    }
    modify(bin, codes::PUT_ITEMS, &args)
}

/// Adds `delta` (integer or float) to the value of `key`, creating the entry
/// (and the map) if needed. Returns the new value.
///
/// ```
/// use aerospike_blocking::operations::map::{self, MapPolicy};
/// let op = map::increment(&MapPolicy::default(), "counts", "clicks", 1);
/// # let _ = op;
/// ```
pub fn increment(
    policy: &MapPolicy,
    bin: &str,
    key: impl Into<Value>,
    delta: impl Into<Value>,
) -> Operation {
    modify(
        bin,
        codes::INCREMENT,
        &[
            key.into(),
            delta.into(),
            Value::Int(policy.order.attributes()),
        ],
    )
}

/// Removes every entry. Returns nil.
///
/// ```
/// use aerospike_blocking::operations::map;
/// let op = map::clear("m");
/// # let _ = op;
/// ```
pub fn clear(bin: &str) -> Operation {
    modify(bin, codes::CLEAR, &[])
}

/// Returns the number of entries.
///
/// ```
/// use aerospike_blocking::operations::map;
/// assert!(map::size("m").is_read());
/// ```
pub fn size(bin: &str) -> Operation {
    read(bin, codes::SIZE, &[])
}

macro_rules! selectors {
    ($(
        $(#[$doc:meta])*
        $get:ident / $remove:ident ($get_code:ident, $remove_code:ident) ($($arg:ident : $ty:ty => $conv:expr),*);
    )*) => {$(
        $(#[$doc])*
        ///
        /// Returns what `return_type` asks for.
        ///
        /// ```
        /// use aerospike_blocking::operations::map::{self, MapReturnType};
        #[doc = concat!("let op = map::", stringify!($get), "(\"m\", ",
            $(selectors!(@example $arg), ", ",)* "MapReturnType::VALUE);")]
        /// assert!(op.is_read());
        /// ```
        pub fn $get(bin: &str, $($arg: $ty,)* return_type: MapReturnType) -> Operation {
            read(bin, codes::$get_code, &[rt(return_type), $($conv),*])
        }

        $(#[$doc])*
        /// and removes what it selects.
        ///
        /// Returns what `return_type` asks for about the removed entries.
        ///
        /// ```
        /// use aerospike_blocking::operations::map::{self, MapReturnType};
        #[doc = concat!("let op = map::", stringify!($remove), "(\"m\", ",
            $(selectors!(@example $arg), ", ",)* "MapReturnType::COUNT);")]
        /// assert!(op.is_write());
        /// ```
        pub fn $remove(bin: &str, $($arg: $ty,)* return_type: MapReturnType) -> Operation {
            modify(bin, codes::$remove_code, &[rt(return_type), $($conv),*])
        }
    )*};
    (@example key) => { "\"k\"" };
    (@example keys) => { "vec![aerospike_blocking::Value::from(\"k\")]" };
    (@example index) => { "0" };
    (@example rank) => { "-1" };
    (@example count) => { "2" };
    (@example value) => { "5" };
    (@example values) => { "vec![aerospike_blocking::Value::from(5)]" };
}

selectors! {
    /// Selects the entry with key `key`
    get_by_key / remove_by_key (GET_BY_KEY, REMOVE_BY_KEY)
        (key: impl Into<Value> => key.into());
    /// Selects the entries whose key is one of `keys`
    get_by_key_list / remove_by_key_list (GET_BY_KEY_LIST, REMOVE_BY_KEY_LIST)
        (keys: Vec<Value> => Value::List(keys));
    /// Selects the entries from the key-order position of `key` plus `index` on
    get_by_key_relative_index_range / remove_by_key_relative_index_range
        (GET_BY_KEY_REL_INDEX_RANGE, REMOVE_BY_KEY_REL_INDEX_RANGE)
        (key: impl Into<Value> => key.into(), index: i64 => Value::Int(index));
    /// Selects `count` entries from the key-order position of `key` plus `index` on
    get_by_key_relative_index_range_count / remove_by_key_relative_index_range_count
        (GET_BY_KEY_REL_INDEX_RANGE, REMOVE_BY_KEY_REL_INDEX_RANGE)
        (key: impl Into<Value> => key.into(), index: i64 => Value::Int(index),
         count: i64 => Value::Int(count));
    /// Selects every entry whose value equals `value`
    get_by_value / remove_by_value (GET_BY_VALUE, REMOVE_BY_VALUE)
        (value: impl Into<Value> => value.into());
    /// Selects every entry whose value is one of `values`
    get_by_value_list / remove_by_value_list (GET_BY_VALUE_LIST, REMOVE_BY_VALUE_LIST)
        (values: Vec<Value> => Value::List(values));
    /// Selects the entry at `index` in key order
    get_by_index / remove_by_index (GET_BY_INDEX, REMOVE_BY_INDEX)
        (index: i64 => Value::Int(index));
    /// Selects `count` entries starting at `index` in key order
    get_by_index_range / remove_by_index_range (GET_BY_INDEX_RANGE, REMOVE_BY_INDEX_RANGE)
        (index: i64 => Value::Int(index), count: i64 => Value::Int(count));
    /// Selects the entries from `index` in key order to the end
    get_by_index_range_from / remove_by_index_range_from (GET_BY_INDEX_RANGE, REMOVE_BY_INDEX_RANGE)
        (index: i64 => Value::Int(index));
    /// Selects the entry whose value has rank `rank`
    get_by_rank / remove_by_rank (GET_BY_RANK, REMOVE_BY_RANK)
        (rank: i64 => Value::Int(rank));
    /// Selects `count` entries starting at value rank `rank`
    get_by_rank_range / remove_by_rank_range (GET_BY_RANK_RANGE, REMOVE_BY_RANK_RANGE)
        (rank: i64 => Value::Int(rank), count: i64 => Value::Int(count));
    /// Selects the entries from value rank `rank` to the largest
    get_by_rank_range_from / remove_by_rank_range_from (GET_BY_RANK_RANGE, REMOVE_BY_RANK_RANGE)
        (rank: i64 => Value::Int(rank));
    /// Selects the entries from the rank of `value` plus `rank` upwards
    get_by_value_relative_rank_range / remove_by_value_relative_rank_range
        (GET_BY_VALUE_REL_RANK_RANGE, REMOVE_BY_VALUE_REL_RANK_RANGE)
        (value: impl Into<Value> => value.into(), rank: i64 => Value::Int(rank));
    /// Selects `count` entries from the rank of `value` plus `rank` upwards
    get_by_value_relative_rank_range_count / remove_by_value_relative_rank_range_count
        (GET_BY_VALUE_REL_RANK_RANGE, REMOVE_BY_VALUE_REL_RANK_RANGE)
        (value: impl Into<Value> => value.into(), rank: i64 => Value::Int(rank),
         count: i64 => Value::Int(count));
}

/// Selects the entries with `begin <= key < end` and returns what
/// `return_type` asks for. A nil `end` means no upper bound and is left out of
/// the request; a nil `begin` means no lower bound.
///
/// ```
/// use aerospike_blocking::operations::map::{self, MapReturnType};
/// let op = map::get_by_key_range("m", "a", "n", MapReturnType::KEY);
/// # let _ = op;
/// ```
pub fn get_by_key_range(
    bin: &str,
    begin: impl Into<Value>,
    end: impl Into<Value>,
    return_type: MapReturnType,
) -> Operation {
    let args = range_args(rt(return_type), begin.into(), end.into());
    read(bin, codes::GET_BY_KEY_INTERVAL, &args)
}

/// Removes the entries with `begin <= key < end` (see [`get_by_key_range`]).
///
/// ```
/// use aerospike_blocking::{operations::map::{self, MapReturnType}, Value};
/// let op = map::remove_by_key_range("m", "x", Value::Nil, MapReturnType::COUNT);
/// # let _ = op;
/// ```
pub fn remove_by_key_range(
    bin: &str,
    begin: impl Into<Value>,
    end: impl Into<Value>,
    return_type: MapReturnType,
) -> Operation {
    let args = range_args(rt(return_type), begin.into(), end.into());
    modify(bin, codes::REMOVE_BY_KEY_INTERVAL, &args)
}

/// Selects the entries with `begin <= value < end` and returns what
/// `return_type` asks for; a nil `end` means no upper bound.
///
/// ```
/// use aerospike_blocking::operations::map::{self, MapReturnType};
/// let op = map::get_by_value_range("m", 10, 20, MapReturnType::KEY);
/// # let _ = op;
/// ```
pub fn get_by_value_range(
    bin: &str,
    begin: impl Into<Value>,
    end: impl Into<Value>,
    return_type: MapReturnType,
) -> Operation {
    let args = range_args(rt(return_type), begin.into(), end.into());
    read(bin, codes::GET_BY_VALUE_INTERVAL, &args)
}

/// Removes the entries with `begin <= value < end` (see [`get_by_value_range`]).
///
/// ```
/// use aerospike_blocking::operations::map::{self, MapReturnType};
/// let op = map::remove_by_value_range("m", 0, 10, MapReturnType::NONE);
/// # let _ = op;
/// ```
pub fn remove_by_value_range(
    bin: &str,
    begin: impl Into<Value>,
    end: impl Into<Value>,
    return_type: MapReturnType,
) -> Operation {
    let args = range_args(rt(return_type), begin.into(), end.into());
    modify(bin, codes::REMOVE_BY_VALUE_INTERVAL, &args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(op: &Operation) -> String {
        op.data.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Expected bytes follow aerospike-client-java `cdt/MapOperation.java`:
    /// `put` sends `[67, key, value, attributes]`, plus the write flags when
    /// they are not zero; `putItems` the same with a map; selectors send
    /// `[code, return_type, args...]`.
    #[test]
    fn golden_bytes() {
        let d = MapPolicy::default();
        let ko = MapPolicy::new(MapOrder::KeyOrdered, MapWriteFlags::CREATE_ONLY);
        let kv = MapPolicy::new(MapOrder::KeyValueOrdered, MapWriteFlags::DEFAULT);
        let items = || vec![(Value::from("a"), Value::from(1))];
        let keys = || vec![Value::from("k")];
        for (op, want) in [
            (set_policy(&ko, "m"), "924001"),
            (set_policy(&kv, "m"), "924003"),
            (put(&d, "m", "k", 1), "9443a2036b0100"),
            (put(&ko, "m", "k", 1), "9543a2036b010101"),
            (put_items(&d, "m", items()), "934481a203610100"),
            (put_items(&ko, "m", items()), "944481a20361010101"),
            (increment(&d, "m", "c", 1), "9449a203630100"),
            (
                increment(&kv, "m", "c", -1.0),
                "9449a20363cbbff000000000000003",
            ),
            (clear("m"), "914b"),
            (size("m"), "9160"),
            (get_by_key("m", "k", MapReturnType::VALUE), "936107a2036b"),
            (remove_by_key("m", "k", MapReturnType::NONE), "934c00a2036b"),
            (
                get_by_key_list("m", keys(), MapReturnType::KEY),
                "936b0691a2036b",
            ),
            (
                remove_by_key_list("m", keys(), MapReturnType::COUNT),
                "93510591a2036b",
            ),
            (
                get_by_key_range("m", "a", "n", MapReturnType::KEY),
                "946706a20361a2036e",
            ),
            (
                get_by_key_range("m", "a", Value::Nil, MapReturnType::KEY),
                "936706a20361",
            ),
            (
                remove_by_key_range("m", Value::Nil, "n", MapReturnType::KEY),
                "945406c0a2036e",
            ),
            (
                get_by_key_relative_index_range("m", 5, 0, MapReturnType::KEY),
                "946d060500",
            ),
            (
                remove_by_key_relative_index_range_count("m", 5, -1, 1, MapReturnType::KEY),
                "95580605ff01",
            ),
            (get_by_value("m", 5, MapReturnType::KEY), "93660605"),
            (
                remove_by_value("m", 5, MapReturnType::KEY_VALUE),
                "93520805",
            ),
            (
                get_by_value_list("m", vec![Value::from(1)], MapReturnType::KEY),
                "936c069101",
            ),
            (
                remove_by_value_list("m", vec![Value::from(1)], MapReturnType::KEY),
                "9353069101",
            ),
            (
                get_by_value_range("m", 10, 20, MapReturnType::COUNT),
                "9469050a14",
            ),
            (
                remove_by_value_range("m", 10, Value::Nil, MapReturnType::COUNT),
                "9356050a",
            ),
            (get_by_index("m", 0, MapReturnType::KEY), "93620600"),
            (remove_by_index("m", -1, MapReturnType::VALUE), "934d07ff"),
            (
                get_by_index_range("m", 1, 2, MapReturnType::KEY_VALUE),
                "9468080102",
            ),
            (
                remove_by_index_range_from("m", 1, MapReturnType::NONE),
                "93550001",
            ),
            (get_by_rank("m", -1, MapReturnType::KEY), "936406ff"),
            (remove_by_rank("m", 0, MapReturnType::VALUE), "934f0700"),
            (
                get_by_rank_range("m", 0, 2, MapReturnType::ORDERED_MAP),
                "946a110002",
            ),
            (
                remove_by_rank_range_from("m", 0, MapReturnType::UNORDERED_MAP),
                "93571000",
            ),
            (
                get_by_rank_range("m", 0, 1, MapReturnType::KEY.inverted()),
                "946ace000100060001",
            ),
            (
                get_by_value_relative_rank_range_count("m", 11, -1, 2, MapReturnType::KEY),
                "956e060bff02",
            ),
            (
                remove_by_value_relative_rank_range("m", 11, 1, MapReturnType::KEY),
                "9459060b01",
            ),
        ] {
            assert_eq!(hex(&op), want, "{op:?}");
            assert_eq!(op.particle, types::BLOB);
            let kind = if op.is_read() {
                op::CDT_READ
            } else {
                op::CDT_MODIFY
            };
            assert_eq!(op.kind, kind);
        }
        // MapOperation.create: the order's flag on the last context id.
        let op = create("m", MapOrder::KeyOrdered, &[CdtContext::list_index(-1)]);
        assert_eq!(hex(&op), "93ccff92cc90ff924001");
        assert_eq!(create("m", MapOrder::KeyOrdered, &[]), set_policy(&ko, "m"));
        assert!(get_by_key("m", "k", MapReturnType::VALUE).is_read());
        assert!(put(&d, "m", "k", 1).is_write());
    }
}
