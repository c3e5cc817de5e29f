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
//! use aerospike_proto::operations::map::{self, MapPolicy, MapReturnType};
//! let ops = vec![
//!     map::put(&MapPolicy::default(), "visits", "home", 1),
//!     map::increment(&MapPolicy::default(), "visits", "home", 1),
//!     map::get_by_key("visits", "home", MapReturnType::VALUE),
//! ];
//! assert!(ops[2].is_read());
//! ```

use crate::value::Value;

use super::cdt;
use super::cdt_context::CdtContext;
use super::Operation;

/// Map op codes (aerospike-client-java `cdt/MapOperation.java`).
// The embedded server decodes every code; the client builds most of them.
pub mod codes {
    /// Map operation code: set type (`64`).
    pub const SET_TYPE: i64 = 64;
    /// Map operation code: add (`65`).
    pub const ADD: i64 = 65;
    /// Map operation code: add items (`66`).
    pub const ADD_ITEMS: i64 = 66;
    /// Map operation code: put (`67`).
    pub const PUT: i64 = 67;
    /// Map operation code: put items (`68`).
    pub const PUT_ITEMS: i64 = 68;
    /// Map operation code: replace (`69`).
    pub const REPLACE: i64 = 69;
    /// Map operation code: replace items (`70`).
    pub const REPLACE_ITEMS: i64 = 70;
    /// Map operation code: increment (`73`).
    pub const INCREMENT: i64 = 73;
    /// Map operation code: decrement (`74`).
    pub const DECREMENT: i64 = 74;
    /// Map operation code: clear (`75`).
    pub const CLEAR: i64 = 75;
    /// Map operation code: remove by key (`76`).
    pub const REMOVE_BY_KEY: i64 = 76;
    /// Map operation code: remove by index (`77`).
    pub const REMOVE_BY_INDEX: i64 = 77;
    /// Map operation code: remove by rank (`79`).
    pub const REMOVE_BY_RANK: i64 = 79;
    /// Map operation code: remove by key list (`81`).
    pub const REMOVE_BY_KEY_LIST: i64 = 81;
    /// Map operation code: remove by value (`82`).
    pub const REMOVE_BY_VALUE: i64 = 82;
    /// Map operation code: remove by value list (`83`).
    pub const REMOVE_BY_VALUE_LIST: i64 = 83;
    /// Map operation code: remove by key interval (`84`).
    pub const REMOVE_BY_KEY_INTERVAL: i64 = 84;
    /// Map operation code: remove by index range (`85`).
    pub const REMOVE_BY_INDEX_RANGE: i64 = 85;
    /// Map operation code: remove by value interval (`86`).
    pub const REMOVE_BY_VALUE_INTERVAL: i64 = 86;
    /// Map operation code: remove by rank range (`87`).
    pub const REMOVE_BY_RANK_RANGE: i64 = 87;
    /// Map operation code: remove by key rel index range (`88`).
    pub const REMOVE_BY_KEY_REL_INDEX_RANGE: i64 = 88;
    /// Map operation code: remove by value rel rank range (`89`).
    pub const REMOVE_BY_VALUE_REL_RANK_RANGE: i64 = 89;
    /// Map operation code: size (`96`).
    pub const SIZE: i64 = 96;
    /// Map operation code: get by key (`97`).
    pub const GET_BY_KEY: i64 = 97;
    /// Map operation code: get by index (`98`).
    pub const GET_BY_INDEX: i64 = 98;
    /// Map operation code: get by rank (`100`).
    pub const GET_BY_RANK: i64 = 100;
    /// Map operation code: get by value (`102`).
    pub const GET_BY_VALUE: i64 = 102;
    /// Map operation code: get by key interval (`103`).
    pub const GET_BY_KEY_INTERVAL: i64 = 103;
    /// Map operation code: get by index range (`104`).
    pub const GET_BY_INDEX_RANGE: i64 = 104;
    /// Map operation code: get by value interval (`105`).
    pub const GET_BY_VALUE_INTERVAL: i64 = 105;
    /// Map operation code: get by rank range (`106`).
    pub const GET_BY_RANK_RANGE: i64 = 106;
    /// Map operation code: get by key list (`107`).
    pub const GET_BY_KEY_LIST: i64 = 107;
    /// Map operation code: get by value list (`108`).
    pub const GET_BY_VALUE_LIST: i64 = 108;
    /// Map operation code: get by key rel index range (`109`).
    pub const GET_BY_KEY_REL_INDEX_RANGE: i64 = 109;
    /// Map operation code: get by value rel rank range (`110`).
    pub const GET_BY_VALUE_REL_RANK_RANGE: i64 = 110;
}

/// How a map keeps its entries.
///
/// ```
/// use aerospike_proto::operations::map::{MapOrder, MapPolicy, MapWriteFlags};
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
    pub fn attributes(self) -> i64 {
        match self {
            MapOrder::Unordered => 0,
            MapOrder::KeyOrdered => 1,
            MapOrder::KeyValueOrdered => 3,
        }
    }

    /// The flag OR-ed into a context id to create a missing map.
    pub fn create_flag(self) -> i64 {
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
/// use aerospike_proto::operations::map::MapWriteFlags;
/// let f = MapWriteFlags::CREATE_ONLY | MapWriteFlags::NO_FAIL;
/// assert_eq!(f.bits(), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MapWriteFlags(u8);

impl MapWriteFlags {
    /// Create or update entries.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapWriteFlags;
    /// assert_eq!(MapWriteFlags::DEFAULT.bits(), 0);
    /// ```
    pub const DEFAULT: MapWriteFlags = MapWriteFlags(0);
    /// Only create entries (`ELEMENT_EXISTS` for an existing key).
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapWriteFlags;
    /// assert_eq!(MapWriteFlags::CREATE_ONLY.bits(), 1);
    /// ```
    pub const CREATE_ONLY: MapWriteFlags = MapWriteFlags(1);
    /// Only update entries (`ELEMENT_NOT_FOUND` for a missing key).
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapWriteFlags;
    /// assert_eq!(MapWriteFlags::UPDATE_ONLY.bits(), 2);
    /// ```
    pub const UPDATE_ONLY: MapWriteFlags = MapWriteFlags(2);
    /// Turn a refused write into a silent no-op.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapWriteFlags;
    /// assert_eq!(MapWriteFlags::NO_FAIL.bits(), 4);
    /// ```
    pub const NO_FAIL: MapWriteFlags = MapWriteFlags(4);
    /// With `NO_FAIL`, write the items that can be written and skip the rest.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapWriteFlags;
    /// assert_eq!(MapWriteFlags::PARTIAL.bits(), 8);
    /// ```
    pub const PARTIAL: MapWriteFlags = MapWriteFlags(8);

    /// The raw bits.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapWriteFlags;
    /// assert_eq!(MapWriteFlags::UPDATE_ONLY.bits(), 2);
    /// ```
    pub fn bits(self) -> u8 {
        self.0
    }
}

bit_or!(MapWriteFlags);

/// Map order and write flags of a writing map operation.
///
/// ```
/// use aerospike_proto::operations::map::{self, MapOrder, MapPolicy, MapWriteFlags};
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
    /// use aerospike_proto::operations::map::{MapOrder, MapPolicy, MapWriteFlags};
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
/// use aerospike_proto::operations::map::MapReturnType;
/// assert_eq!(MapReturnType::KEY.inverted().bits(), 0x10006);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapReturnType(i64);

impl MapReturnType {
    /// Nothing (nil).
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::NONE.bits(), 0);
    /// ```
    pub const NONE: MapReturnType = MapReturnType(0);
    /// Index (key order) of each entry.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::INDEX.bits(), 1);
    /// ```
    pub const INDEX: MapReturnType = MapReturnType(1);
    /// Index from the end.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::REVERSE_INDEX.bits(), 2);
    /// ```
    pub const REVERSE_INDEX: MapReturnType = MapReturnType(2);
    /// Value rank of each entry (0 smallest).
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::RANK.bits(), 3);
    /// ```
    pub const RANK: MapReturnType = MapReturnType(3);
    /// Value rank from the largest.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::REVERSE_RANK.bits(), 4);
    /// ```
    pub const REVERSE_RANK: MapReturnType = MapReturnType(4);
    /// Number of entries.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::COUNT.bits(), 5);
    /// ```
    pub const COUNT: MapReturnType = MapReturnType(5);
    /// The keys.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::KEY.bits(), 6);
    /// ```
    pub const KEY: MapReturnType = MapReturnType(6);
    /// The values.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::VALUE.bits(), 7);
    /// ```
    pub const VALUE: MapReturnType = MapReturnType(7);
    /// The entries as a map.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::KEY_VALUE.bits(), 8);
    /// ```
    pub const KEY_VALUE: MapReturnType = MapReturnType(8);
    /// Whether anything matched (bool).
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::EXISTS.bits(), 13);
    /// ```
    pub const EXISTS: MapReturnType = MapReturnType(13);
    /// The entries as an unordered map.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::UNORDERED_MAP.bits(), 16);
    /// ```
    pub const UNORDERED_MAP: MapReturnType = MapReturnType(16);
    /// The entries as a key-ordered map.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::ORDERED_MAP.bits(), 17);
    /// ```
    pub const ORDERED_MAP: MapReturnType = MapReturnType(17);

    /// The same return type applied to the entries not matched.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_ne!(MapReturnType::VALUE.inverted(), MapReturnType::VALUE);
    /// ```
    pub fn inverted(self) -> Self {
        MapReturnType(self.0 | 0x10000)
    }

    /// The raw value sent to the server.
    ///
    /// ```
    /// use aerospike_proto::operations::map::MapReturnType;
    /// assert_eq!(MapReturnType::KEY_VALUE.bits(), 8);
    /// ```
    pub fn bits(self) -> i64 {
        self.0
    }
}

/// A map operation reading `[code, args...]`.
fn read(bin: &str, code: i64, args: &[Value]) -> Operation {
    map_class(cdt::read(bin, code, args))
}

/// A map operation modifying with `[code, args...]`.
fn modify(bin: &str, code: i64, args: &[Value]) -> Operation {
    map_class(cdt::modify(bin, code, args))
}

/// Marks `op` as a map operation: the request asks for every result, as the
/// official clients do for `MAP_READ`/`MAP_MODIFY`.
fn map_class(op: Operation) -> Operation {
    Operation {
        respond_all_ops: true,
        ..op
    }
}

/// `args` followed by the policy's order, then its write flags when they are
/// not zero (aerospike-client-java `MapOperation.put`).
fn with_policy(policy: &MapPolicy, mut args: Vec<Value>) -> Vec<Value> {
    args.push(Value::Int(policy.order.attributes()));
    if policy.flags.0 != 0 {
        args.push(Value::Int(i64::from(policy.flags.0)));
    }
    args
}

/// Sets the map's order (sorting it by key when key-ordered). Returns nil.
///
/// ```
/// use aerospike_proto::operations::map::{self, MapOrder, MapPolicy, MapWriteFlags};
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
/// use aerospike_proto::operations::{map::{self, MapOrder}, CdtContext};
/// let op = map::create("m", MapOrder::KeyOrdered, &[CdtContext::map_key("daily")]);
/// assert!(op.is_write());
/// ```
pub fn create(bin: &str, order: MapOrder, ctx: &[CdtContext]) -> Operation {
    let flag = order.create_flag();
    map_class(cdt::create(
        bin,
        ctx,
        flag,
        codes::SET_TYPE,
        order.attributes(),
    ))
}

/// Writes `key` → `value`, creating the map if needed. Returns the map size.
///
/// ```
/// use aerospike_proto::operations::map::{self, MapPolicy};
/// let op = map::put(&MapPolicy::default(), "m", "k", 1);
/// # let _ = op;
/// ```
pub fn put(
    policy: &MapPolicy,
    bin: &str,
    key: impl Into<Value>,
    value: impl Into<Value>,
) -> Operation {
    let args = with_policy(policy, vec![key.into(), value.into()]);
    modify(bin, codes::PUT, &args)
}

/// Writes every entry of `items`. Returns the map size.
///
/// ```
/// use aerospike_proto::{operations::map::{self, MapPolicy}, Value};
/// let op = map::put_items(&MapPolicy::default(), "m", vec![(Value::from("a"), Value::from(1))]);
/// # let _ = op;
/// ```
pub fn put_items(policy: &MapPolicy, bin: &str, items: Vec<(Value, Value)>) -> Operation {
    let args = with_policy(policy, vec![Value::Map(items)]);
    modify(bin, codes::PUT_ITEMS, &args)
}

/// Adds `delta` (integer or float) to the value of `key`, creating the entry
/// (and the map) if needed. Returns the new value.
///
/// ```
/// use aerospike_proto::operations::map::{self, MapPolicy};
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
/// use aerospike_proto::operations::map;
/// let op = map::clear("m");
/// # let _ = op;
/// ```
pub fn clear(bin: &str) -> Operation {
    modify(bin, codes::CLEAR, &[])
}

/// Returns the number of entries.
///
/// ```
/// use aerospike_proto::operations::map;
/// assert!(map::size("m").is_read());
/// ```
pub fn size(bin: &str) -> Operation {
    read(bin, codes::SIZE, &[])
}

selectors! {
    map, "m", MapReturnType, "entries";
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
/// use aerospike_proto::operations::map::{self, MapReturnType};
/// let op = map::get_by_key_range("m", "a", "n", MapReturnType::KEY);
/// # let _ = op;
/// ```
pub fn get_by_key_range(
    bin: &str,
    begin: impl Into<Value>,
    end: impl Into<Value>,
    return_type: MapReturnType,
) -> Operation {
    let code = codes::GET_BY_KEY_INTERVAL;
    cdt::interval(read, bin, code, return_type.0, begin, end)
}

/// Removes the entries with `begin <= key < end` (see [`get_by_key_range`]).
///
/// ```
/// use aerospike_proto::{operations::map::{self, MapReturnType}, Value};
/// let op = map::remove_by_key_range("m", "x", Value::Nil, MapReturnType::COUNT);
/// # let _ = op;
/// ```
pub fn remove_by_key_range(
    bin: &str,
    begin: impl Into<Value>,
    end: impl Into<Value>,
    return_type: MapReturnType,
) -> Operation {
    let code = codes::REMOVE_BY_KEY_INTERVAL;
    cdt::interval(modify, bin, code, return_type.0, begin, end)
}

/// Selects the entries with `begin <= value < end` and returns what
/// `return_type` asks for; a nil `end` means no upper bound.
///
/// ```
/// use aerospike_proto::operations::map::{self, MapReturnType};
/// let op = map::get_by_value_range("m", 10, 20, MapReturnType::KEY);
/// # let _ = op;
/// ```
pub fn get_by_value_range(
    bin: &str,
    begin: impl Into<Value>,
    end: impl Into<Value>,
    return_type: MapReturnType,
) -> Operation {
    let code = codes::GET_BY_VALUE_INTERVAL;
    cdt::interval(read, bin, code, return_type.0, begin, end)
}

/// Removes the entries with `begin <= value < end` (see [`get_by_value_range`]).
///
/// ```
/// use aerospike_proto::operations::map::{self, MapReturnType};
/// let op = map::remove_by_value_range("m", 0, 10, MapReturnType::NONE);
/// # let _ = op;
/// ```
pub fn remove_by_value_range(
    bin: &str,
    begin: impl Into<Value>,
    end: impl Into<Value>,
    return_type: MapReturnType,
) -> Operation {
    let code = codes::REMOVE_BY_VALUE_INTERVAL;
    cdt::interval(modify, bin, code, return_type.0, begin, end)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::cdt::hex;
    use crate::wire::message::op;
    use crate::wire::particle::types;

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
            (
                get_by_index_range_from("m", 1, MapReturnType::KEY),
                "93680601",
            ),
            (
                remove_by_index_range("m", 0, 2, MapReturnType::NONE),
                "9455000002",
            ),
            (
                get_by_rank_range_from("m", -1, MapReturnType::VALUE),
                "936a07ff",
            ),
            (
                remove_by_rank_range("m", 0, 3, MapReturnType::VALUE),
                "9457070003",
            ),
            (
                get_by_key_relative_index_range_count("m", 5, 0, 2, MapReturnType::KEY),
                "956d06050002",
            ),
            (
                remove_by_key_relative_index_range("m", 5, 1, MapReturnType::COUNT),
                "9458050501",
            ),
            (
                get_by_value_relative_rank_range("m", 11, -1, MapReturnType::KEY),
                "946e060bff",
            ),
            (
                remove_by_value_relative_rank_range_count("m", 11, 0, 1, MapReturnType::KEY),
                "955906 0b0001",
            ),
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
            assert_eq!(hex(&op), want.replace(' ', ""), "{op:?}");
            assert_eq!(op.particle, types::BLOB);
            let kind = if op.is_read() {
                op::CDT_READ
            } else {
                op::CDT_MODIFY
            };
            assert_eq!(op.kind, kind);
            assert!(op.respond_all_ops, "{op:?}");
        }
        // MapOperation.create: the order's flag on the last context id.
        let op = create("m", MapOrder::KeyOrdered, &[CdtContext::list_index(-1)]);
        assert_eq!(hex(&op), "93ccff92cc90ff924001");
        assert!(op.respond_all_ops);
        assert_eq!(create("m", MapOrder::KeyOrdered, &[]), set_policy(&ko, "m"));
        assert!(get_by_key("m", "k", MapReturnType::VALUE).is_read());
        assert!(put(&d, "m", "k", 1).is_write());
    }
}
