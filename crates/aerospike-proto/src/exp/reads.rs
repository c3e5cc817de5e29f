//! Builders for list and map reads inside expressions (the official clients'
//! `ListExp` and `MapExp`).

use crate::operations::list::{codes as lc, ListReturnType};
use crate::operations::map::{codes as mc, MapReturnType};
use crate::operations::CdtContext;

use super::{nil, Call, Ctx, ExpType, Expression, Node, ReturnType};

fn call(
    op: i64,
    ret: ExpType,
    rt: Option<ReturnType>,
    args: Vec<Expression>,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    Expression::new(Node::Call(Box::new(Call {
        ret,
        op,
        rt,
        args: args.into_iter().map(|e| e.node).collect(),
        ctx: ctx.iter().map(Ctx::from_public).collect(),
        bin: bin.node,
    })))
}

/// A read that selects several list elements or map entries (`map`); its
/// result type follows from the return type.
fn selection(
    op: i64,
    rt: ReturnType,
    map: bool,
    args: Vec<Expression>,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    call(op, rt.range_type(map), Some(rt), args, bin, ctx)
}

/// A read of one element, whose value the caller types.
fn single(
    op: i64,
    value_type: ExpType,
    rt: ReturnType,
    arg: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    call(op, value_type, Some(rt), vec![arg], bin, ctx)
}

fn with_count(a: Expression, count: Option<Expression>) -> Vec<Expression> {
    std::iter::once(a).chain(count).collect()
}

/// `anchor, start[, count]`: a range relative to a value or key.
fn relative_args(
    anchor: Expression,
    start: Expression,
    count: Option<Expression>,
) -> Vec<Expression> {
    std::iter::once(anchor)
        .chain(with_count(start, count))
        .collect()
}

fn range_args(begin: Option<Expression>, end: Option<Expression>) -> Vec<Expression> {
    std::iter::once(begin.unwrap_or_else(nil))
        .chain(end)
        .collect()
}

/// Number of elements of a list.
///
/// ```
/// use aerospike_proto::exp;
/// let e = exp::gt(exp::list_size(exp::list_bin("l"), &[]), exp::int_val(0));
/// assert_eq!(e.to_string(), "$.l.[].count() > 0");
/// ```
pub fn list_size(bin: Expression, ctx: &[CdtContext]) -> Expression {
    call(lc::SIZE, ExpType::Int, None, vec![], bin, ctx)
}

/// The list element at `index`, read as `value_type`.
///
/// ```
/// use aerospike_proto::exp::{self, ExpType};
/// use aerospike_proto::operations::list::ListReturnType;
/// use aerospike_proto::operations::CdtContext;
/// let e = exp::list_get_by_index(ListReturnType::VALUE, ExpType::Int, exp::int_val(0), exp::list_bin("l"), &[]);
/// assert_eq!(exp::ge(e, exp::int_val(90)).to_string(), "$.l.[0] >= 90");
/// // The first element of the list under key "k" of map bin "m".
/// let nested = exp::list_get_by_index(ListReturnType::VALUE, ExpType::Int, exp::int_val(0),
///     exp::map_bin("m"), &[CdtContext::map_key("k")]);
/// assert_eq!(nested.to_string(), "$.m.k.[0].get(type: INT)");
/// ```
pub fn list_get_by_index(
    rt: ListReturnType,
    value_type: ExpType,
    index: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    single(lc::GET_BY_INDEX, value_type, rt.into(), index, bin, ctx)
}

/// The list elements from `index`, `count` of them or all the rest.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::list::ListReturnType;
/// let e = exp::list_get_by_index_range(ListReturnType::COUNT, exp::int_val(1), Some(exp::int_val(2)), exp::list_bin("l"), &[]);
/// assert_eq!(e.to_string(), "$.l.[1:3].count()");
/// ```
pub fn list_get_by_index_range(
    rt: ListReturnType,
    index: Expression,
    count: Option<Expression>,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(
        lc::GET_BY_INDEX_RANGE,
        rt.into(),
        false,
        with_count(index, count),
        bin,
        ctx,
    )
}

/// The list elements equal to `value`.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::list::ListReturnType;
/// let e = exp::list_get_by_value(ListReturnType::COUNT, exp::int_val(100), exp::list_bin("l"), &[]);
/// assert_eq!(exp::gt(e, exp::int_val(0)).to_string(), "$.l.[=100].count() > 0");
/// ```
pub fn list_get_by_value(
    rt: ListReturnType,
    value: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(lc::GET_BY_VALUE, rt.into(), false, vec![value], bin, ctx)
}

/// The list elements in `[begin, end)`; a missing bound is open.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::list::ListReturnType;
/// let e = exp::list_get_by_value_range(ListReturnType::COUNT, Some(exp::int_val(1)), Some(exp::int_val(5)), exp::list_bin("l"), &[]);
/// assert_eq!(e.to_string(), "$.l.[=1:5].count()");
/// ```
pub fn list_get_by_value_range(
    rt: ListReturnType,
    begin: Option<Expression>,
    end: Option<Expression>,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(
        lc::GET_BY_VALUE_INTERVAL,
        rt.into(),
        false,
        range_args(begin, end),
        bin,
        ctx,
    )
}

/// The list elements equal to any value of the list `values`.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::list::ListReturnType;
/// use aerospike_proto::Value;
/// let e = exp::list_get_by_value_list(ListReturnType::EXISTS, exp::list_val(vec![Value::Int(1), Value::Int(2)]), exp::list_bin("l"), &[]);
/// assert_eq!(e.to_string(), "$.l.[=1,2].exists()");
/// ```
pub fn list_get_by_value_list(
    rt: ListReturnType,
    values: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(
        lc::GET_BY_VALUE_LIST,
        rt.into(),
        false,
        vec![values],
        bin,
        ctx,
    )
}

/// The list element of `rank` (0 = smallest), read as `value_type`.
///
/// ```
/// use aerospike_proto::exp::{self, ExpType};
/// use aerospike_proto::operations::list::ListReturnType;
/// let e = exp::list_get_by_rank(ListReturnType::VALUE, ExpType::Int, exp::int_val(-1), exp::list_bin("l"), &[]);
/// assert_eq!(e.to_string(), "$.l.[#-1].get(type: INT)");
/// ```
pub fn list_get_by_rank(
    rt: ListReturnType,
    value_type: ExpType,
    rank: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    single(lc::GET_BY_RANK, value_type, rt.into(), rank, bin, ctx)
}

/// The list elements from `rank`, `count` of them or all the rest.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::list::ListReturnType;
/// let e = exp::list_get_by_rank_range(ListReturnType::VALUE, exp::int_val(0), Some(exp::int_val(3)), exp::list_bin("l"), &[]);
/// assert_eq!(e.to_string(), "$.l.[#0:3].get(type: LIST)");
/// ```
pub fn list_get_by_rank_range(
    rt: ListReturnType,
    rank: Expression,
    count: Option<Expression>,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(
        lc::GET_BY_RANK_RANGE,
        rt.into(),
        false,
        with_count(rank, count),
        bin,
        ctx,
    )
}

/// The list elements by rank relative to `value`: from `rank`, `count` of them or all.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::list::ListReturnType;
/// let e = exp::list_get_by_value_relative_rank_range(ListReturnType::COUNT, exp::int_val(5), exp::int_val(0), None, exp::list_bin("l"), &[]);
/// assert_eq!(e.to_string(), "$.l.[#0:~5].count()");
/// ```
pub fn list_get_by_value_relative_rank_range(
    rt: ListReturnType,
    value: Expression,
    rank: Expression,
    count: Option<Expression>,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(
        lc::GET_BY_VALUE_REL_RANK_RANGE,
        rt.into(),
        false,
        relative_args(value, rank, count),
        bin,
        ctx,
    )
}

/// Number of entries of a map.
///
/// ```
/// use aerospike_proto::exp;
/// assert_eq!(exp::map_size(exp::map_bin("m"), &[]).to_string(), "$.m.{}.count()");
/// ```
pub fn map_size(bin: Expression, ctx: &[CdtContext]) -> Expression {
    call(mc::SIZE, ExpType::Int, None, vec![], bin, ctx)
}

/// The map entry with `key`, read as `value_type`.
///
/// ```
/// use aerospike_proto::exp::{self, ExpType};
/// use aerospike_proto::operations::map::MapReturnType;
/// let e = exp::map_get_by_key(MapReturnType::VALUE, ExpType::String, exp::string_val("theme"), exp::map_bin("prefs"), &[]);
/// assert_eq!(exp::eq(e, exp::string_val("dark")).to_string(), "$.prefs.theme == 'dark'");
/// ```
pub fn map_get_by_key(
    rt: MapReturnType,
    value_type: ExpType,
    key: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    single(mc::GET_BY_KEY, value_type, rt.into(), key, bin, ctx)
}

/// The map entries with keys in `[begin, end)`; a missing bound is open.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::map::MapReturnType;
/// let e = exp::map_get_by_key_range(MapReturnType::COUNT, Some(exp::string_val("a")), Some(exp::string_val("c")), exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{a-c}.count()");
/// ```
pub fn map_get_by_key_range(
    rt: MapReturnType,
    begin: Option<Expression>,
    end: Option<Expression>,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(
        mc::GET_BY_KEY_INTERVAL,
        rt.into(),
        true,
        range_args(begin, end),
        bin,
        ctx,
    )
}

/// The map entries whose key is in the list `keys`.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::map::MapReturnType;
/// use aerospike_proto::Value;
/// let e = exp::map_get_by_key_list(MapReturnType::COUNT, exp::list_val(vec![Value::from("a"), Value::from("b")]), exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{a,b}.count()");
/// ```
pub fn map_get_by_key_list(
    rt: MapReturnType,
    keys: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(mc::GET_BY_KEY_LIST, rt.into(), true, vec![keys], bin, ctx)
}

/// The map entries by index relative to `key`: from `index`, `count` of them or all.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::map::MapReturnType;
/// let e = exp::map_get_by_key_relative_index_range(MapReturnType::COUNT, exp::string_val("k"), exp::int_val(0), Some(exp::int_val(2)), exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{0:2~k}.count()");
/// ```
pub fn map_get_by_key_relative_index_range(
    rt: MapReturnType,
    key: Expression,
    index: Expression,
    count: Option<Expression>,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(
        mc::GET_BY_KEY_REL_INDEX_RANGE,
        rt.into(),
        true,
        relative_args(key, index, count),
        bin,
        ctx,
    )
}

/// The map entries whose value equals `value`.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::map::MapReturnType;
/// let e = exp::map_get_by_value(MapReturnType::COUNT, exp::int_val(1), exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{=1}.count()");
/// ```
pub fn map_get_by_value(
    rt: MapReturnType,
    value: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(mc::GET_BY_VALUE, rt.into(), true, vec![value], bin, ctx)
}

/// The map entries with values in `[begin, end)`; a missing bound is open.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::map::MapReturnType;
/// let e = exp::map_get_by_value_range(MapReturnType::COUNT, Some(exp::int_val(1)), None, exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{=1:}.count()");
/// ```
pub fn map_get_by_value_range(
    rt: MapReturnType,
    begin: Option<Expression>,
    end: Option<Expression>,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(
        mc::GET_BY_VALUE_INTERVAL,
        rt.into(),
        true,
        range_args(begin, end),
        bin,
        ctx,
    )
}

/// The map entries whose value is in the list `values`.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::map::MapReturnType;
/// use aerospike_proto::Value;
/// let e = exp::map_get_by_value_list(MapReturnType::COUNT, exp::list_val(vec![Value::Int(1)]), exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{=1,}.count()");
/// ```
pub fn map_get_by_value_list(
    rt: MapReturnType,
    values: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(
        mc::GET_BY_VALUE_LIST,
        rt.into(),
        true,
        vec![values],
        bin,
        ctx,
    )
}

/// The map entries by rank relative to `value`: from `rank`, `count` of them or all.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::map::MapReturnType;
/// let e = exp::map_get_by_value_relative_rank_range(MapReturnType::COUNT, exp::int_val(5), exp::int_val(0), Some(exp::int_val(2)), exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{#0:2~5}.count()");
/// ```
pub fn map_get_by_value_relative_rank_range(
    rt: MapReturnType,
    value: Expression,
    rank: Expression,
    count: Option<Expression>,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(
        mc::GET_BY_VALUE_REL_RANK_RANGE,
        rt.into(),
        true,
        relative_args(value, rank, count),
        bin,
        ctx,
    )
}

/// The map entry at `index` in key order, read as `value_type`.
///
/// ```
/// use aerospike_proto::exp::{self, ExpType};
/// use aerospike_proto::operations::map::MapReturnType;
/// let e = exp::map_get_by_index(MapReturnType::VALUE, ExpType::Int, exp::int_val(0), exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{0}.get(type: INT)");
/// ```
pub fn map_get_by_index(
    rt: MapReturnType,
    value_type: ExpType,
    index: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    single(mc::GET_BY_INDEX, value_type, rt.into(), index, bin, ctx)
}

/// The map entries from `index` in key order, `count` of them or all the rest.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::map::MapReturnType;
/// let e = exp::map_get_by_index_range(MapReturnType::COUNT, exp::int_val(1), None, exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{1:}.count()");
/// ```
pub fn map_get_by_index_range(
    rt: MapReturnType,
    index: Expression,
    count: Option<Expression>,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(
        mc::GET_BY_INDEX_RANGE,
        rt.into(),
        true,
        with_count(index, count),
        bin,
        ctx,
    )
}

/// The map entry of `rank` by value, read as `value_type`.
///
/// ```
/// use aerospike_proto::exp::{self, ExpType};
/// use aerospike_proto::operations::map::MapReturnType;
/// let e = exp::map_get_by_rank(MapReturnType::VALUE, ExpType::Int, exp::int_val(0), exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{#0}.get(type: INT)");
/// ```
pub fn map_get_by_rank(
    rt: MapReturnType,
    value_type: ExpType,
    rank: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    single(mc::GET_BY_RANK, value_type, rt.into(), rank, bin, ctx)
}

/// The map entries from `rank` by value, `count` of them or all the rest.
///
/// ```
/// use aerospike_proto::exp;
/// use aerospike_proto::operations::map::MapReturnType;
/// let e = exp::map_get_by_rank_range(MapReturnType::KEY, exp::int_val(0), Some(exp::int_val(2)), exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{#0:2}.get(type: LIST, return: KEY)");
/// ```
pub fn map_get_by_rank_range(
    rt: MapReturnType,
    rank: Expression,
    count: Option<Expression>,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    selection(
        mc::GET_BY_RANK_RANGE,
        rt.into(),
        true,
        with_count(rank, count),
        bin,
        ctx,
    )
}
