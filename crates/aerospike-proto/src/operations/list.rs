//! List operations (CDT).
//!
//! Each function builds one [`Operation`] on a list bin. The wire form is the
//! msgpack array `[op_code, args...]` carried as a blob particle (type 4, what
//! aerospike-client-java's `Value.get(byte[])` sends) in an operation of type
//! CDT_READ (3) or CDT_MODIFY (4); op codes and argument order follow
//! aerospike-client-java `cdt/ListOperation.java`.
//!
//! Indexes may be negative (-1 is the last element). A range that starts before
//! the list is clipped; a single index out of bounds is an error
//! (`OP_NOT_APPLICABLE`). Ranks order elements by Aerospike's cross-type order
//! (nil < bool < integer < string < list < map < bytes < float < GeoJSON).
//!
//! ```
//! use aerospike_proto::operations::list::{self, ListReturnType};
//! let ops = vec![
//!     list::append("scores", 42),
//!     list::get_by_index("scores", -1, ListReturnType::VALUE),
//!     list::size("scores"),
//! ];
//! assert!(ops[0].is_write() && ops[1].is_read());
//! ```

use crate::value::Value;

use super::cdt::{self, modify, read};
use super::cdt_context::CdtContext;
use super::Operation;

/// List op codes (aerospike-client-java `cdt/ListOperation.java`).
// The embedded server decodes every code; the client builds most of them.
pub mod codes {
    /// List operation code: set type (`0`).
    pub const SET_TYPE: i64 = 0;
    /// List operation code: append (`1`).
    pub const APPEND: i64 = 1;
    /// List operation code: append items (`2`).
    pub const APPEND_ITEMS: i64 = 2;
    /// List operation code: insert (`3`).
    pub const INSERT: i64 = 3;
    /// List operation code: insert items (`4`).
    pub const INSERT_ITEMS: i64 = 4;
    /// List operation code: pop (`5`).
    pub const POP: i64 = 5;
    /// List operation code: pop range (`6`).
    pub const POP_RANGE: i64 = 6;
    /// List operation code: remove (`7`).
    pub const REMOVE: i64 = 7;
    /// List operation code: remove range (`8`).
    pub const REMOVE_RANGE: i64 = 8;
    /// List operation code: set (`9`).
    pub const SET: i64 = 9;
    /// List operation code: trim (`10`).
    pub const TRIM: i64 = 10;
    /// List operation code: clear (`11`).
    pub const CLEAR: i64 = 11;
    /// List operation code: increment (`12`).
    pub const INCREMENT: i64 = 12;
    /// List operation code: sort (`13`).
    pub const SORT: i64 = 13;
    /// List operation code: size (`16`).
    pub const SIZE: i64 = 16;
    /// List operation code: get (`17`).
    pub const GET: i64 = 17;
    /// List operation code: get range (`18`).
    pub const GET_RANGE: i64 = 18;
    /// List operation code: get by index (`19`).
    pub const GET_BY_INDEX: i64 = 19;
    /// List operation code: get by rank (`21`).
    pub const GET_BY_RANK: i64 = 21;
    /// List operation code: get by value (`22`).
    pub const GET_BY_VALUE: i64 = 22;
    /// List operation code: get by value list (`23`).
    pub const GET_BY_VALUE_LIST: i64 = 23;
    /// List operation code: get by index range (`24`).
    pub const GET_BY_INDEX_RANGE: i64 = 24;
    /// List operation code: get by value interval (`25`).
    pub const GET_BY_VALUE_INTERVAL: i64 = 25;
    /// List operation code: get by rank range (`26`).
    pub const GET_BY_RANK_RANGE: i64 = 26;
    /// List operation code: get by value rel rank range (`27`).
    pub const GET_BY_VALUE_REL_RANK_RANGE: i64 = 27;
    /// List operation code: remove by index (`32`).
    pub const REMOVE_BY_INDEX: i64 = 32;
    /// List operation code: remove by rank (`34`).
    pub const REMOVE_BY_RANK: i64 = 34;
    /// List operation code: remove by value (`35`).
    pub const REMOVE_BY_VALUE: i64 = 35;
    /// List operation code: remove by value list (`36`).
    pub const REMOVE_BY_VALUE_LIST: i64 = 36;
    /// List operation code: remove by index range (`37`).
    pub const REMOVE_BY_INDEX_RANGE: i64 = 37;
    /// List operation code: remove by value interval (`38`).
    pub const REMOVE_BY_VALUE_INTERVAL: i64 = 38;
    /// List operation code: remove by rank range (`39`).
    pub const REMOVE_BY_RANK_RANGE: i64 = 39;
    /// List operation code: remove by value rel rank range (`40`).
    pub const REMOVE_BY_VALUE_REL_RANK_RANGE: i64 = 40;
}

/// How a list keeps its elements.
///
/// ```
/// use aerospike_proto::operations::list::{self, ListOrder};
/// let op = list::set_order("l", ListOrder::Ordered);
/// # let _ = op;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListOrder {
    /// Insertion order (the default).
    #[default]
    Unordered,
    /// Sorted by value.
    Ordered,
}

impl ListOrder {
    /// The attribute value sent to the server.
    pub fn attributes(self) -> i64 {
        match self {
            ListOrder::Unordered => 0,
            ListOrder::Ordered => 1,
        }
    }

    /// The flag OR-ed into a context id to create a missing list.
    /// 0x40 unordered, 0x80 unordered with padding, 0xc0 ordered
    /// (aerospike-client-java `ListOrder.getFlag`).
    pub fn create_flag(self, pad: bool) -> i64 {
        match (self, pad) {
            (ListOrder::Ordered, _) => 0xc0,
            (ListOrder::Unordered, true) => 0x80,
            (ListOrder::Unordered, false) => 0x40,
        }
    }
}

/// Write flags of list operations; combine with `|`.
///
/// ```
/// use aerospike_proto::operations::list::ListWriteFlags;
/// let f = ListWriteFlags::ADD_UNIQUE | ListWriteFlags::NO_FAIL;
/// assert_eq!(f.bits(), 5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListWriteFlags(u8);

impl ListWriteFlags {
    /// Default: duplicates allowed, inserts may pad past the end.
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListWriteFlags;
    /// assert_eq!(ListWriteFlags::DEFAULT.bits(), 0);
    /// ```
    pub const DEFAULT: ListWriteFlags = ListWriteFlags(0);
    /// Only add values not already in the list (`ELEMENT_EXISTS` otherwise).
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListWriteFlags;
    /// assert_eq!(ListWriteFlags::ADD_UNIQUE.bits(), 1);
    /// ```
    pub const ADD_UNIQUE: ListWriteFlags = ListWriteFlags(1);
    /// Refuse inserts past the end of the list (`OP_NOT_APPLICABLE`).
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListWriteFlags;
    /// assert_eq!(ListWriteFlags::INSERT_BOUNDED.bits(), 2);
    /// ```
    pub const INSERT_BOUNDED: ListWriteFlags = ListWriteFlags(2);
    /// Turn a refused write into a silent no-op.
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListWriteFlags;
    /// assert_eq!(ListWriteFlags::NO_FAIL.bits(), 4);
    /// ```
    pub const NO_FAIL: ListWriteFlags = ListWriteFlags(4);
    /// With `NO_FAIL`, apply the items that can be applied and skip the rest.
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListWriteFlags;
    /// assert_eq!(ListWriteFlags::PARTIAL.bits(), 8);
    /// ```
    pub const PARTIAL: ListWriteFlags = ListWriteFlags(8);

    /// The raw bits.
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListWriteFlags;
    /// assert_eq!(ListWriteFlags::PARTIAL.bits(), 8);
    /// ```
    pub fn bits(self) -> u8 {
        self.0
    }
}

/// List order and write flags of a writing list operation.
///
/// ```
/// use aerospike_proto::operations::list::{self, ListOrder, ListPolicy, ListWriteFlags};
/// let p = ListPolicy::new(ListOrder::Ordered, ListWriteFlags::ADD_UNIQUE);
/// let op = list::append_with_policy(&p, "tags", "new");
/// # let _ = op;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListPolicy {
    /// The order of a list the operation creates.
    pub order: ListOrder,
    /// Write flags.
    pub flags: ListWriteFlags,
}

impl ListPolicy {
    /// A policy with `order` and `flags`.
    ///
    /// ```
    /// use aerospike_proto::operations::list::{ListOrder, ListPolicy, ListWriteFlags};
    /// let p = ListPolicy::new(ListOrder::Unordered, ListWriteFlags::DEFAULT);
    /// assert_eq!(p, ListPolicy::default());
    /// ```
    pub fn new(order: ListOrder, flags: ListWriteFlags) -> Self {
        ListPolicy { order, flags }
    }
}

/// What a selecting list operation returns; `inverted()` selects everything
/// except the matched elements.
///
/// ```
/// use aerospike_proto::operations::list::ListReturnType;
/// assert_eq!(ListReturnType::COUNT.inverted().bits(), 0x10005);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListReturnType(i64);

impl ListReturnType {
    /// Nothing (nil).
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListReturnType;
    /// assert_eq!(ListReturnType::NONE.bits(), 0);
    /// ```
    pub const NONE: ListReturnType = ListReturnType(0);
    /// Index of each element (0 first).
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListReturnType;
    /// assert_eq!(ListReturnType::INDEX.bits(), 1);
    /// ```
    pub const INDEX: ListReturnType = ListReturnType(1);
    /// Index from the end (0 last).
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListReturnType;
    /// assert_eq!(ListReturnType::REVERSE_INDEX.bits(), 2);
    /// ```
    pub const REVERSE_INDEX: ListReturnType = ListReturnType(2);
    /// Rank of each element (0 smallest).
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListReturnType;
    /// assert_eq!(ListReturnType::RANK.bits(), 3);
    /// ```
    pub const RANK: ListReturnType = ListReturnType(3);
    /// Rank from the largest (0 largest).
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListReturnType;
    /// assert_eq!(ListReturnType::REVERSE_RANK.bits(), 4);
    /// ```
    pub const REVERSE_RANK: ListReturnType = ListReturnType(4);
    /// Number of elements.
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListReturnType;
    /// assert_eq!(ListReturnType::COUNT.bits(), 5);
    /// ```
    pub const COUNT: ListReturnType = ListReturnType(5);
    /// The elements.
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListReturnType;
    /// assert_eq!(ListReturnType::VALUE.bits(), 7);
    /// ```
    pub const VALUE: ListReturnType = ListReturnType(7);
    /// Whether anything matched (bool).
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListReturnType;
    /// assert_eq!(ListReturnType::EXISTS.bits(), 13);
    /// ```
    pub const EXISTS: ListReturnType = ListReturnType(13);

    /// The same return type applied to the elements not matched.
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListReturnType;
    /// let inv = ListReturnType::VALUE.inverted();
    /// assert_ne!(inv, ListReturnType::VALUE);
    /// ```
    pub fn inverted(self) -> Self {
        ListReturnType(self.0 | 0x10000)
    }

    /// The raw value sent to the server.
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListReturnType;
    /// assert_eq!(ListReturnType::VALUE.bits(), 7);
    /// ```
    pub fn bits(self) -> i64 {
        self.0
    }
}

/// Sort flags for [`sort`]; combine with `|`.
///
/// ```
/// use aerospike_proto::operations::list::ListSortFlags;
/// let f = ListSortFlags::DESCENDING | ListSortFlags::DROP_DUPLICATES;
/// assert_eq!(f.bits(), 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ListSortFlags(u8);

impl ListSortFlags {
    /// Ascending, duplicates kept.
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListSortFlags;
    /// assert_eq!(ListSortFlags::DEFAULT.bits(), 0);
    /// ```
    pub const DEFAULT: ListSortFlags = ListSortFlags(0);
    /// Descending.
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListSortFlags;
    /// assert_eq!(ListSortFlags::DESCENDING.bits(), 1);
    /// ```
    pub const DESCENDING: ListSortFlags = ListSortFlags(1);
    /// Drop duplicate values.
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListSortFlags;
    /// assert_eq!(ListSortFlags::DROP_DUPLICATES.bits(), 2);
    /// ```
    pub const DROP_DUPLICATES: ListSortFlags = ListSortFlags(2);

    /// The raw bits.
    ///
    /// ```
    /// use aerospike_proto::operations::list::ListSortFlags;
    /// assert_eq!(ListSortFlags::DESCENDING.bits(), 1);
    /// ```
    pub fn bits(self) -> u8 {
        self.0
    }
}

bit_or!(ListWriteFlags, ListSortFlags);

/// The policy's order and write flags, the trailing arguments of appends and
/// increments.
fn policy_args(p: &ListPolicy) -> [Value; 2] {
    [Value::Int(p.order.attributes()), flags_arg(p)]
}

/// The policy's write flags, the trailing argument of inserts and sets.
fn flags_arg(p: &ListPolicy) -> Value {
    Value::Int(i64::from(p.flags.0))
}

/// Sets the list's order (sorting it when `Ordered`). Returns nil.
///
/// ```
/// use aerospike_proto::operations::list::{self, ListOrder};
/// let op = list::set_order("l", ListOrder::Ordered);
/// # let _ = op;
/// ```
pub fn set_order(bin: &str, order: ListOrder) -> Operation {
    modify(bin, codes::SET_TYPE, &[Value::Int(order.attributes())])
}

/// Creates a list with `order` at the nested position `ctx` points at (the
/// create flag goes on the last context step, as in aerospike-client-java
/// `ListOperation.create`); with no context it is [`set_order`]. `pad` allows
/// creating past the end of a parent list, filling with nils. Returns nil.
///
/// ```
/// use aerospike_proto::operations::{list::{self, ListOrder}, CdtContext};
/// let op = list::create("m", ListOrder::Ordered, false, &[CdtContext::map_key("scores")]);
/// assert!(op.is_write());
/// ```
pub fn create(bin: &str, order: ListOrder, pad: bool, ctx: &[CdtContext]) -> Operation {
    let flag = order.create_flag(pad);
    cdt::create(bin, ctx, flag, codes::SET_TYPE, order.attributes())
}

/// Appends `value`, creating the list if needed. Returns the new size.
///
/// ```
/// use aerospike_proto::operations::list;
/// let op = list::append("l", "x");
/// # let _ = op;
/// ```
pub fn append(bin: &str, value: impl Into<Value>) -> Operation {
    modify(bin, codes::APPEND, &[value.into()])
}

/// Appends `value` with a policy (an ordered list inserts it in order).
/// Returns the new size.
///
/// ```
/// use aerospike_proto::operations::list::{self, ListPolicy};
/// let op = list::append_with_policy(&ListPolicy::default(), "l", 1);
/// # let _ = op;
/// ```
pub fn append_with_policy(policy: &ListPolicy, bin: &str, value: impl Into<Value>) -> Operation {
    let [a, f] = policy_args(policy);
    modify(bin, codes::APPEND, &[value.into(), a, f])
}

/// Appends every item. Returns the new size.
///
/// ```
/// use aerospike_proto::{operations::list, Value};
/// let op = list::append_items("l", vec![Value::from(1), Value::from(2)]);
/// # let _ = op;
/// ```
pub fn append_items(bin: &str, items: Vec<Value>) -> Operation {
    modify(bin, codes::APPEND_ITEMS, &[Value::List(items)])
}

/// Appends every item with a policy. Returns the new size.
///
/// ```
/// use aerospike_proto::{operations::list::{self, ListPolicy}, Value};
/// let op = list::append_items_with_policy(&ListPolicy::default(), "l", vec![Value::from(1)]);
/// # let _ = op;
/// ```
pub fn append_items_with_policy(policy: &ListPolicy, bin: &str, items: Vec<Value>) -> Operation {
    let [a, f] = policy_args(policy);
    modify(bin, codes::APPEND_ITEMS, &[Value::List(items), a, f])
}

/// Inserts `value` at `index` (padding with nils past the end). Returns the new size.
///
/// ```
/// use aerospike_proto::operations::list;
/// let op = list::insert("l", 0, "first");
/// # let _ = op;
/// ```
pub fn insert(bin: &str, index: i64, value: impl Into<Value>) -> Operation {
    modify(bin, codes::INSERT, &[Value::Int(index), value.into()])
}

/// Inserts `value` at `index` with a policy's write flags. Returns the new size.
///
/// ```
/// use aerospike_proto::operations::list::{self, ListPolicy};
/// let op = list::insert_with_policy(&ListPolicy::default(), "l", 0, 1);
/// # let _ = op;
/// ```
pub fn insert_with_policy(
    policy: &ListPolicy,
    bin: &str,
    index: i64,
    value: impl Into<Value>,
) -> Operation {
    let flags = flags_arg(policy);
    modify(
        bin,
        codes::INSERT,
        &[Value::Int(index), value.into(), flags],
    )
}

/// Inserts every item starting at `index`. Returns the new size.
///
/// ```
/// use aerospike_proto::{operations::list, Value};
/// let op = list::insert_items("l", 1, vec![Value::from("a")]);
/// # let _ = op;
/// ```
pub fn insert_items(bin: &str, index: i64, items: Vec<Value>) -> Operation {
    modify(
        bin,
        codes::INSERT_ITEMS,
        &[Value::Int(index), Value::List(items)],
    )
}

/// Inserts every item starting at `index` with a policy's write flags.
/// Returns the new size.
///
/// ```
/// use aerospike_proto::{operations::list::{self, ListPolicy}, Value};
/// let op = list::insert_items_with_policy(&ListPolicy::default(), "l", 0, vec![Value::from(1)]);
/// # let _ = op;
/// ```
pub fn insert_items_with_policy(
    policy: &ListPolicy,
    bin: &str,
    index: i64,
    items: Vec<Value>,
) -> Operation {
    let flags = flags_arg(policy);
    modify(
        bin,
        codes::INSERT_ITEMS,
        &[Value::Int(index), Value::List(items), flags],
    )
}

/// Adds `value` (integer or float) to the element at `index`. Returns the new
/// element.
///
/// ```
/// use aerospike_proto::operations::list;
/// let op = list::increment("counters", 0, 5);
/// # let _ = op;
/// ```
pub fn increment(bin: &str, index: i64, value: impl Into<Value>) -> Operation {
    modify(bin, codes::INCREMENT, &[Value::Int(index), value.into()])
}

/// Adds `value` to the element at `index` with a policy. Returns the new element.
///
/// ```
/// use aerospike_proto::operations::list::{self, ListPolicy};
/// let op = list::increment_with_policy(&ListPolicy::default(), "l", 0, 1);
/// # let _ = op;
/// ```
pub fn increment_with_policy(
    policy: &ListPolicy,
    bin: &str,
    index: i64,
    value: impl Into<Value>,
) -> Operation {
    let [a, f] = policy_args(policy);
    modify(
        bin,
        codes::INCREMENT,
        &[Value::Int(index), value.into(), a, f],
    )
}

/// Replaces the element at `index` (padding with nils past the end). Returns nil.
///
/// ```
/// use aerospike_proto::operations::list;
/// let op = list::set("l", 2, "z");
/// # let _ = op;
/// ```
pub fn set(bin: &str, index: i64, value: impl Into<Value>) -> Operation {
    modify(bin, codes::SET, &[Value::Int(index), value.into()])
}

/// Replaces the element at `index` with a policy's write flags. Returns nil.
///
/// ```
/// use aerospike_proto::operations::list::{self, ListPolicy};
/// let op = list::set_with_policy(&ListPolicy::default(), "l", 0, 1);
/// # let _ = op;
/// ```
pub fn set_with_policy(
    policy: &ListPolicy,
    bin: &str,
    index: i64,
    value: impl Into<Value>,
) -> Operation {
    let flags = flags_arg(policy);
    modify(bin, codes::SET, &[Value::Int(index), value.into(), flags])
}

/// Removes every element. Returns nil.
///
/// ```
/// use aerospike_proto::operations::list;
/// let op = list::clear("l");
/// # let _ = op;
/// ```
pub fn clear(bin: &str) -> Operation {
    modify(bin, codes::CLEAR, &[])
}

/// Sorts the list. Returns nil.
///
/// ```
/// use aerospike_proto::operations::list::{self, ListSortFlags};
/// let op = list::sort("l", ListSortFlags::DESCENDING);
/// # let _ = op;
/// ```
pub fn sort(bin: &str, flags: ListSortFlags) -> Operation {
    modify(bin, codes::SORT, &[Value::Int(i64::from(flags.0))])
}

/// Returns the number of elements.
///
/// ```
/// use aerospike_proto::operations::list;
/// assert!(list::size("l").is_read());
/// ```
pub fn size(bin: &str) -> Operation {
    read(bin, codes::SIZE, &[])
}

/// Removes and returns the element at `index`.
///
/// ```
/// use aerospike_proto::operations::list;
/// let op = list::pop("queue", 0);
/// # let _ = op;
/// ```
pub fn pop(bin: &str, index: i64) -> Operation {
    modify(bin, codes::POP, &[Value::Int(index)])
}

/// Removes and returns `count` elements starting at `index`.
///
/// ```
/// use aerospike_proto::operations::list;
/// let op = list::pop_range("queue", 0, 10);
/// # let _ = op;
/// ```
pub fn pop_range(bin: &str, index: i64, count: i64) -> Operation {
    modify(
        bin,
        codes::POP_RANGE,
        &[Value::Int(index), Value::Int(count)],
    )
}

/// Removes and returns the elements from `index` to the end.
///
/// ```
/// use aerospike_proto::operations::list;
/// let op = list::pop_range_from("queue", -3);
/// # let _ = op;
/// ```
pub fn pop_range_from(bin: &str, index: i64) -> Operation {
    modify(bin, codes::POP_RANGE, &[Value::Int(index)])
}

/// Removes the element at `index`. Returns the number removed.
///
/// ```
/// use aerospike_proto::operations::list;
/// let op = list::remove("l", 0);
/// # let _ = op;
/// ```
pub fn remove(bin: &str, index: i64) -> Operation {
    modify(bin, codes::REMOVE, &[Value::Int(index)])
}

/// Removes `count` elements starting at `index`. Returns the number removed.
///
/// ```
/// use aerospike_proto::operations::list;
/// let op = list::remove_range("l", 1, 2);
/// # let _ = op;
/// ```
pub fn remove_range(bin: &str, index: i64, count: i64) -> Operation {
    modify(
        bin,
        codes::REMOVE_RANGE,
        &[Value::Int(index), Value::Int(count)],
    )
}

/// Keeps only `count` elements starting at `index`. Returns the number removed.
///
/// ```
/// use aerospike_proto::operations::list;
/// let op = list::trim("recent", 0, 100);
/// # let _ = op;
/// ```
pub fn trim(bin: &str, index: i64, count: i64) -> Operation {
    modify(bin, codes::TRIM, &[Value::Int(index), Value::Int(count)])
}

/// Returns the element at `index`.
///
/// ```
/// use aerospike_proto::operations::list;
/// let op = list::get("l", -1);
/// # let _ = op;
/// ```
pub fn get(bin: &str, index: i64) -> Operation {
    read(bin, codes::GET, &[Value::Int(index)])
}

/// Returns `count` elements starting at `index`.
///
/// ```
/// use aerospike_proto::operations::list;
/// let op = list::get_range("l", 0, 5);
/// # let _ = op;
/// ```
pub fn get_range(bin: &str, index: i64, count: i64) -> Operation {
    read(
        bin,
        codes::GET_RANGE,
        &[Value::Int(index), Value::Int(count)],
    )
}

selectors! {
    list, "l", ListReturnType, "elements";
    /// Selects the element at `index`
    get_by_index / remove_by_index (GET_BY_INDEX, REMOVE_BY_INDEX)
        (index: i64 => Value::Int(index));
    /// Selects `count` elements starting at `index`
    get_by_index_range / remove_by_index_range (GET_BY_INDEX_RANGE, REMOVE_BY_INDEX_RANGE)
        (index: i64 => Value::Int(index), count: i64 => Value::Int(count));
    /// Selects the elements from `index` to the end
    get_by_index_range_from / remove_by_index_range_from (GET_BY_INDEX_RANGE, REMOVE_BY_INDEX_RANGE)
        (index: i64 => Value::Int(index));
    /// Selects every element equal to `value`
    get_by_value / remove_by_value (GET_BY_VALUE, REMOVE_BY_VALUE)
        (value: impl Into<Value> => value.into());
    /// Selects every element equal to one of `values`
    get_by_value_list / remove_by_value_list (GET_BY_VALUE_LIST, REMOVE_BY_VALUE_LIST)
        (values: Vec<Value> => Value::List(values));
    /// Selects the element of rank `rank` (0 smallest, -1 largest)
    get_by_rank / remove_by_rank (GET_BY_RANK, REMOVE_BY_RANK)
        (rank: i64 => Value::Int(rank));
    /// Selects `count` elements starting at rank `rank`
    get_by_rank_range / remove_by_rank_range (GET_BY_RANK_RANGE, REMOVE_BY_RANK_RANGE)
        (rank: i64 => Value::Int(rank), count: i64 => Value::Int(count));
    /// Selects the elements from rank `rank` to the largest
    get_by_rank_range_from / remove_by_rank_range_from (GET_BY_RANK_RANGE, REMOVE_BY_RANK_RANGE)
        (rank: i64 => Value::Int(rank));
    /// Selects the elements from the rank of `value` plus `rank` upwards
    /// (for `[0,4,5,9,11,15]`, value 5 rank -1 selects `[4,5,9,11,15]`)
    get_by_value_relative_rank_range / remove_by_value_relative_rank_range
        (GET_BY_VALUE_REL_RANK_RANGE, REMOVE_BY_VALUE_REL_RANK_RANGE)
        (value: impl Into<Value> => value.into(), rank: i64 => Value::Int(rank));
    /// Selects `count` elements from the rank of `value` plus `rank` upwards
    get_by_value_relative_rank_range_count / remove_by_value_relative_rank_range_count
        (GET_BY_VALUE_REL_RANK_RANGE, REMOVE_BY_VALUE_REL_RANK_RANGE)
        (value: impl Into<Value> => value.into(), rank: i64 => Value::Int(rank),
         count: i64 => Value::Int(count));
}

/// Selects the elements with `begin <= value < end` and returns what
/// `return_type` asks for. A nil `end` means no upper bound and is left out of
/// the request, as the official clients do; nil is the lowest value, so a nil
/// `begin` means no lower bound.
///
/// ```
/// use aerospike_proto::{operations::list::{self, ListReturnType}, Value};
/// let op = list::get_by_value_range("l", 10, Value::Nil, ListReturnType::COUNT);
/// # let _ = op;
/// ```
pub fn get_by_value_range(
    bin: &str,
    begin: impl Into<Value>,
    end: impl Into<Value>,
    return_type: ListReturnType,
) -> Operation {
    let code = codes::GET_BY_VALUE_INTERVAL;
    cdt::interval(read, bin, code, return_type.0, begin, end)
}

/// Removes the elements with `begin <= value < end` (see
/// [`get_by_value_range`]) and returns what `return_type` asks for.
///
/// ```
/// use aerospike_proto::operations::list::{self, ListReturnType};
/// let op = list::remove_by_value_range("l", 0, 10, ListReturnType::NONE);
/// # let _ = op;
/// ```
pub fn remove_by_value_range(
    bin: &str,
    begin: impl Into<Value>,
    end: impl Into<Value>,
    return_type: ListReturnType,
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

    /// Expected bytes follow aerospike-client-java `util/Pack.pack(command, ...)`
    /// and `cdt/ListOperation.java`: an array of the op code then the arguments,
    /// integers in their shortest msgpack form, strings with the particle-type
    /// prefix byte 3, the whole carried as a blob (particle type 4).
    #[test]
    fn golden_bytes() {
        let p = ListPolicy::new(
            ListOrder::Ordered,
            ListWriteFlags::ADD_UNIQUE | ListWriteFlags::NO_FAIL,
        );
        let items = || vec![Value::from(1), Value::from(2)];
        for (op, want) in [
            (set_order("l", ListOrder::Ordered), "920001"),
            (append("l", 1), "920101"),
            (append_with_policy(&p, "l", "a"), "9401a203610105"),
            (append_items("l", items()), "9202920102"),
            (
                append_items_with_policy(&p, "l", items()),
                "940292010201 05",
            ),
            (insert("l", 1, "x"), "930301a20378"),
            (insert_with_policy(&p, "l", -1, 7), "9403ff0705"),
            (insert_items("l", 0, items()), "9304009201 02"),
            (
                insert_items_with_policy(&p, "l", 0, items()),
                "940400920102 05",
            ),
            (increment("l", 0, 5), "930c0005"),
            (
                increment_with_policy(&p, "l", 2, 1.5),
                "950c02cb3ff80000000000000105",
            ),
            (set("l", 2, Value::Nil), "930902c0"),
            (set_with_policy(&p, "l", 0, 1), "9409000105"),
            (clear("l"), "910b"),
            (sort("l", ListSortFlags::DESCENDING), "920d01"),
            (size("l"), "9110"),
            (pop("l", 0), "920500"),
            (pop_range("l", 0, 2), "93060002"),
            (pop_range_from("l", -3), "9206fd"),
            (remove("l", 0), "920700"),
            (remove_range("l", 1, 300), "930801cd012c"),
            (trim("l", 1, 3), "930a0103"),
            (get("l", -1), "9211ff"),
            (get_range("l", 0, 5), "93120005"),
            (get_by_index("l", -1, ListReturnType::VALUE), "931307ff"),
            (
                get_by_index_range_from("l", 1, ListReturnType::VALUE),
                "93180701",
            ),
            (
                remove_by_index_range("l", 1, 2, ListReturnType::COUNT),
                "9425050102",
            ),
            (remove_by_index("l", 0, ListReturnType::NONE), "932000 00"),
            (
                get_by_index_range("l", 1, 2, ListReturnType::COUNT),
                "9418050102",
            ),
            (
                remove_by_index_range_from("l", 1, ListReturnType::INDEX),
                "93250101",
            ),
            (
                get_by_value("l", "a", ListReturnType::EXISTS),
                "93160da20361",
            ),
            (
                remove_by_value("l", "a", ListReturnType::NONE),
                "932300a20361",
            ),
            (
                get_by_value_list("l", items(), ListReturnType::VALUE),
                "931707920102",
            ),
            (
                remove_by_value_list("l", items(), ListReturnType::RANK),
                "932403920102",
            ),
            (
                get_by_value_range("l", 10, Value::Nil, ListReturnType::COUNT),
                "9319050a",
            ),
            (
                get_by_value_range("l", 10, 20, ListReturnType::COUNT),
                "9419050a14",
            ),
            (
                remove_by_value_range("l", Value::Nil, 20, ListReturnType::VALUE),
                "942607c014",
            ),
            (
                get_by_rank("l", 0, ListReturnType::REVERSE_RANK),
                "93150400",
            ),
            (remove_by_rank("l", -1, ListReturnType::VALUE), "932207ff"),
            (
                get_by_rank_range("l", 0, 3, ListReturnType::VALUE),
                "941a070003",
            ),
            (
                remove_by_rank_range("l", 0, 1, ListReturnType::VALUE.inverted()),
                "9427ce000100070001",
            ),
            (
                get_by_rank_range_from("l", -2, ListReturnType::VALUE),
                "931a07fe",
            ),
            (
                remove_by_rank_range_from("l", 2, ListReturnType::REVERSE_INDEX),
                "93270202",
            ),
            (
                get_by_value_relative_rank_range("l", 5, -1, ListReturnType::VALUE),
                "941b0705ff",
            ),
            (
                get_by_value_relative_rank_range_count("l", 5, -1, 2, ListReturnType::VALUE),
                "951b0705ff02",
            ),
            (
                remove_by_value_relative_rank_range("l", 5, 0, ListReturnType::COUNT),
                "9428050500",
            ),
            (
                remove_by_value_relative_rank_range_count("l", 5, 0, 1, ListReturnType::COUNT),
                "952805050001",
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
            assert_eq!(op.bin(), "l");
            assert!(!op.respond_all_ops, "{op:?}");
        }
        // ListOperation.create: the order's create flag on the last context id.
        let ctx = [CdtContext::map_key("a"), CdtContext::list_index(1)];
        let op = create("l", ListOrder::Ordered, false, &ctx);
        assert_eq!(hex(&op), "93ccff9422a20361ccd0019200 01".replace(' ', ""));
        let op = create("l", ListOrder::Unordered, true, &ctx[..1]);
        assert_eq!(hex(&op), "93ccff92cca2a2036192 0000".replace(' ', ""));
        assert_eq!(
            create("l", ListOrder::Ordered, true, &[]),
            set_order("l", ListOrder::Ordered)
        );
        assert!(size("l").is_read() && get_by_index("l", 0, ListReturnType::VALUE).is_read());
        assert!(
            append("l", 1).is_write() && remove_by_index("l", 0, ListReturnType::NONE).is_write()
        );
    }
}
