//! Server-side list and map operations (CDT_READ and CDT_MODIFY).
//!
//! An operation's value is the msgpack array `[op_code, args...]`, or
//! `[0xff, [ctx_id, ctx_value, ...], [op_code, args...]]` when a context points
//! it at a nested container. Semantics follow aerospike-server `cdt.c`,
//! `particle_list.c` and `particle_map.c`:
//!
//! * values compare by type first, in the order nil < false < true < integer <
//!   string < list < map < bytes < float < GeoJSON, then by value (lists element by
//!   element, maps by size first); the client-only values WILDCARD (`d4 ff 00`,
//!   equal to anything) and INFINITY (`d4 ff 01`, above anything) are accepted in
//!   arguments, also inside lists;
//! * a single index or rank out of bounds is `OP_NOT_APPLICABLE`; a range that
//!   starts before the first element is clipped; INVERTED on a single-result
//!   operation is `OP_NOT_APPLICABLE`;
//! * every map is stored key-ordered, unordered ones included (the server
//!   rewrites each list and map it stores, `cdt_stack_untrusted_rewrite`),
//!   so a map's index is its key order and its storage order too.
//!
//! [`Value`] carries no order flag: the caller keeps a top-level bin's order
//! flags next to it (see [`modify`]), set when the bin is created or its type
//! set, and followed by every later write. A nested container's flags are not
//! kept: it is treated as ordered when the operation's own order argument says
//! so (the official clients send it with every policy-taking write) and its
//! elements are in order. Ordered lists and key-ordered maps are stored
//! sorted.

use std::cmp::Ordering;

use aerospike_proto::operations::list::codes as lc;
use aerospike_proto::operations::map::codes as mc;
use aerospike_proto::wire::msgpack::Reader;
use aerospike_proto::wire::DecodeError;
use aerospike_proto::ResultCode;
use aerospike_proto::Value;

const INVERTED: i64 = 0x10000;

mod rt {
    pub(super) const NONE: i64 = 0;
    pub(super) const INDEX: i64 = 1;
    pub(super) const REVERSE_INDEX: i64 = 2;
    pub(super) const RANK: i64 = 3;
    pub(super) const REVERSE_RANK: i64 = 4;
    pub(super) const COUNT: i64 = 5;
    pub(super) const KEY: i64 = 6;
    pub(super) const VALUE: i64 = 7;
    pub(super) const KEY_VALUE: i64 = 8;
    pub(super) const EXISTS: i64 = 13;
    pub(super) const UNORDERED_MAP: i64 = 16;
    pub(super) const ORDERED_MAP: i64 = 17;
}

/// List write flags.
const ADD_UNIQUE: i64 = 1;
const INSERT_BOUNDED: i64 = 2;
/// Map write flags.
const CREATE_ONLY: i64 = 1;
const UPDATE_ONLY: i64 = 2;
/// Shared write flags.
const NO_FAIL: i64 = 4;
const PARTIAL: i64 = 8;

/// Sort flags.
const SORT_DESCENDING: i64 = 1;
const SORT_DROP_DUPLICATES: i64 = 2;

/// Context flag bits: any of them asks to create a missing container.
const CTX_CREATE_MASK: i64 = 0xc0;
const CTX_LIST_PAD: i64 = 0x80;

/// Applies a CDT_MODIFY operation to `bin` (`Value::Nil` when the bin is absent)
/// and returns the operation's result. `order` holds the bin's order flags
/// (the ext header a server stores first: 1 ordered list or key-ordered map,
/// 3 key/value-ordered map): a write to a top-level container follows them,
/// and creating the bin or setting its type sets them. On error `bin` and
/// `order` are left unchanged.
pub(crate) fn modify(data: &[u8], bin: &mut Value, order: &mut u8) -> Result<Value, ResultCode> {
    let mut req = parse(data)?;
    // The server rewrites the values it stores before storing them (list
    // append, insert and set, map add and replace: `cdt_untrusted_rewrite`):
    // their maps come in key-ordered, a duplicate key let through. Values it
    // only compares with are used as sent.
    if stores_values(req.call.code) {
        req.call.args.iter_mut().for_each(key_order_arg);
    }
    if is_read_code(req.call.code)? {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    let list_op = is_list_code(req.call.code);
    let top = req.ctx.is_empty();
    let flags = if top && (bin.is_nil() || is_set_type(&req.call)) {
        creation_flags(&req.call, list_op)?
    } else {
        *order
    };
    let mut work = bin.clone();
    let target = navigate(&mut work, &req.ctx, true, list_op)?;
    let result = apply(target, &req.call, top.then_some(flags))?;
    // Maps that came in as arguments are stored key-ordered too; a duplicate
    // key there is let through, as the server does.
    let _ = key_order(&mut work, false);
    *bin = work;
    if top {
        *order = flags;
    }
    Ok(result)
}

/// Puts every map inside `v` (and `v` itself) in key order, as an 8.x server
/// stores every map, unordered ones included: it rewrites each list or map it
/// is sent (`cdt.c` `cdt_stack_untrusted_rewrite` sorts a map whose keys are
/// out of order), so a map read back, or compared, has its keys sorted. With
/// `refuse_duplicates`, a map with a key twice is refused as the server
/// refuses it in a bin write (`map has duplicate keys`: result code 1).
pub(crate) fn key_order(v: &mut Value, refuse_duplicates: bool) -> Result<(), ResultCode> {
    match v {
        Value::List(items) => items
            .iter_mut()
            .try_for_each(|x| key_order(x, refuse_duplicates)),
        Value::Map(entries) => {
            for (k, x) in entries.iter_mut() {
                key_order(k, refuse_duplicates)?;
                key_order(x, refuse_duplicates)?;
            }
            if !keys_sorted(entries) {
                sort_entries(entries);
                let dup = entries.windows(2).any(|w| eq(&w[0].0, &w[1].0));
                if dup && refuse_duplicates {
                    return Err(ResultCode::SERVER_ERROR);
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// True for the operations whose value arguments are stored.
fn stores_values(code: i64) -> bool {
    matches!(
        code,
        lc::APPEND | lc::APPEND_ITEMS | lc::INSERT | lc::INSERT_ITEMS | lc::SET
    ) || (mc::ADD..=mc::REPLACE_ITEMS).contains(&code)
}

/// [`key_order`] on the values inside an argument.
fn key_order_arg(a: &mut Arg) {
    match a {
        Arg::Val(v) => {
            let _ = key_order(v, false);
        }
        Arg::List(items) => items.iter_mut().for_each(key_order_arg),
        Arg::Inf | Arg::Wild => {}
    }
}

/// True for the SET_TYPE (set order) operation of lists and maps.
fn is_set_type(call: &Call) -> bool {
    let list_op = is_list_code(call.code);
    (list_op && call.code == lc::SET_TYPE) || (!list_op && call.code == mc::SET_TYPE)
}

/// The order flags a container created by `call` gets from the order
/// argument it carries (0 when it has none).
fn creation_flags(call: &Call, list_op: bool) -> Result<u8, ResultCode> {
    let at = if list_op {
        match call.code {
            lc::SET_TYPE => Some(0),
            lc::APPEND | lc::APPEND_ITEMS => Some(1),
            lc::INCREMENT => Some(2),
            _ => None,
        }
    } else {
        match call.code {
            mc::SET_TYPE => Some(0),
            mc::ADD_ITEMS | mc::PUT_ITEMS => Some(1),
            mc::ADD | mc::PUT | mc::INCREMENT | mc::DECREMENT => Some(2),
            _ => None,
        }
    };
    let attr = match at {
        Some(i) => Args(&call.args).opt_int(i)?.unwrap_or(0),
        None => 0,
    };
    Ok(if list_op { attr & 1 } else { attr & 3 } as u8)
}

/// True when the container's order flags are known and say ordered.
fn known_ordered(stored: Option<u8>) -> bool {
    stored.is_some_and(|flags| flags & 1 != 0)
}

/// Whether a write keeps its container in order: the container's own order
/// flags when they are known (a top-level bin); for a nested container, whose
/// flags are not kept, the operation's order argument when the elements are
/// in order (an unsorted container cannot have been created ordered).
fn keeps_order(stored: Option<u8>, attr: bool, sorted: impl FnOnce() -> bool) -> bool {
    match stored {
        Some(_) => known_ordered(stored),
        None => attr && sorted(),
    }
}

/// Applies a CDT_READ operation to `bin`, a top-level bin with order flags
/// `order`, and returns its result (nil for an absent bin).
pub(crate) fn read(data: &[u8], bin: &Value, order: u8) -> Result<Value, ResultCode> {
    let req = parse(data)?;
    if !is_read_code(req.call.code)? {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    if bin.is_nil() {
        return Ok(Value::Nil);
    }
    let mut work = bin.clone();
    let target = navigate(&mut work, &req.ctx, false, is_list_code(req.call.code))?;
    // A nested container's flags are not kept.
    let stored = req.ctx.is_empty().then_some(order);
    apply(target, &req.call, stored)
}

// ---------------------------------------------------------------------------
// Request decoding.

/// One operation argument.
#[derive(Debug, Clone, PartialEq)]
enum Arg {
    Val(Value),
    /// Greater than every value (range ends).
    Inf,
    /// Equal to every value.
    Wild,
    /// A list with INFINITY or WILDCARD somewhere inside (`["a", *]`).
    List(Vec<Arg>),
}

/// Nesting below which list arguments are searched for WILDCARD and INFINITY;
/// deeper values are read by [`Reader`], which has its own limit.
const MAX_ARG_DEPTH: usize = 32;

#[derive(Debug)]
struct Call {
    code: i64,
    args: Vec<Arg>,
}

#[derive(Debug)]
struct Request {
    ctx: Vec<(i64, Arg)>,
    call: Call,
}

fn bad(_: DecodeError) -> ResultCode {
    ResultCode::PARAMETER_ERROR
}

fn parse(data: &[u8]) -> Result<Request, ResultCode> {
    let mut r = Reader::new(data);
    let n = r.array_len().map_err(bad)?;
    if n == 0 {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    let first = r.int().map_err(bad)?;
    let req = if first == 0xff && n == 3 {
        let m = r.array_len().map_err(bad)?;
        if m == 0 || m % 2 != 0 {
            return Err(ResultCode::PARAMETER_ERROR);
        }
        let mut ctx = Vec::with_capacity((m / 2).min(r.remaining()));
        for _ in 0..m / 2 {
            let id = r.int().map_err(bad)?;
            ctx.push((id, arg(&mut r)?));
        }
        let k = r.array_len().map_err(bad)?;
        if k == 0 {
            return Err(ResultCode::PARAMETER_ERROR);
        }
        let code = r.int().map_err(bad)?;
        Request {
            ctx,
            call: Call {
                code,
                args: args(&mut r, k - 1)?,
            },
        }
    } else {
        Request {
            ctx: Vec::new(),
            call: Call {
                code: first,
                args: args(&mut r, n - 1)?,
            },
        }
    };
    if r.remaining() != 0 {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    Ok(req)
}

fn args(r: &mut Reader<'_>, n: usize) -> Result<Vec<Arg>, ResultCode> {
    let mut out = Vec::with_capacity(n.min(r.remaining()));
    for _ in 0..n {
        out.push(arg(r)?);
    }
    Ok(out)
}

fn arg(r: &mut Reader<'_>) -> Result<Arg, ResultCode> {
    arg_at(r, 0)
}

fn arg_at(r: &mut Reader<'_>, depth: usize) -> Result<Arg, ResultCode> {
    match r.peek() {
        Some(0xd4) => {
            let raw = r.value_bytes().map_err(bad)?;
            Ok(match raw {
                [_, 0xff, 0x00] => Arg::Wild,
                [_, 0xff, 0x01] => Arg::Inf,
                _ => Arg::Val(Value::Nil),
            })
        }
        Some(0x90..=0x9f | 0xdc | 0xdd) if depth < MAX_ARG_DEPTH => {
            let n = r.array_len().map_err(bad)?;
            let mut items = Vec::with_capacity(n.min(r.remaining()));
            for i in 0..n {
                if i == 0 && skip_order_ext(r) {
                    continue;
                }
                items.push(arg_at(r, depth + 1)?);
            }
            if items.iter().all(|a| matches!(a, Arg::Val(_))) {
                let values = items.into_iter().filter_map(|a| match a {
                    Arg::Val(v) => Some(v),
                    _ => None,
                });
                Ok(Arg::Val(Value::List(values.collect())))
            } else {
                Ok(Arg::List(items))
            }
        }
        _ => r.value().map(Arg::Val).map_err(bad),
    }
}

/// Skips an ordered-list header (an ext element whose type is not the 0xff of
/// WILDCARD and INFINITY) at the reader's position; true when one was there.
fn skip_order_ext(r: &mut Reader<'_>) -> bool {
    if !matches!(r.peek(), Some(0xc7..=0xc9 | 0xd4..=0xd8)) {
        return false;
    }
    let mut probe = r.clone();
    match probe.skip_ext() {
        Ok(t) if t != 0xff => {
            *r = probe;
            true
        }
        _ => false,
    }
}

fn is_read_code(code: i64) -> Result<bool, ResultCode> {
    Ok(match code {
        lc::SET_TYPE..=lc::SORT => false,
        lc::SIZE..=lc::GET_BY_VALUE_REL_RANK_RANGE => true,
        lc::REMOVE_BY_INDEX..=lc::REMOVE_BY_VALUE_REL_RANK_RANGE => false,
        mc::SET_TYPE..=mc::REMOVE_BY_VALUE_REL_RANK_RANGE => false,
        mc::SIZE..=mc::GET_BY_VALUE_REL_RANK_RANGE => true,
        _ => return Err(ResultCode::PARAMETER_ERROR),
    })
}

fn is_list_code(code: i64) -> bool {
    code < mc::SET_TYPE
}

/// The map flags of the map a CDT operation returns, which the server
/// sends as the map's ext header (`cdt.h` `result_map_type_to_map_flags`):
/// KEY_VALUE results keep their order (0x08), ORDERED_MAP results are
/// key-ordered (0x01), everything else has none.
pub(crate) fn result_map_flags(data: &[u8]) -> u8 {
    let Ok(req) = parse(data) else {
        return 0;
    };
    let by_selection = matches!(
        req.call.code,
        mc::REMOVE_BY_KEY..=mc::REMOVE_BY_VALUE_REL_RANK_RANGE
            | mc::GET_BY_KEY..=mc::GET_BY_VALUE_REL_RANK_RANGE
    );
    if !by_selection {
        return 0;
    }
    match Args(&req.call.args).int(0).map(|t| t & !INVERTED) {
        Ok(rt::KEY_VALUE) => 0x08,
        Ok(rt::ORDERED_MAP) => 0x01,
        _ => 0,
    }
}

/// Argument accessors: a missing required argument or a wrong type is a
/// parameter error.
struct Args<'a>(&'a [Arg]);

impl Args<'_> {
    fn arg(&self, i: usize) -> Result<&Arg, ResultCode> {
        self.0.get(i).ok_or(ResultCode::PARAMETER_ERROR)
    }

    fn val(&self, i: usize) -> Result<Value, ResultCode> {
        match self.arg(i)? {
            Arg::Val(v) => Ok(v.clone()),
            _ => Err(ResultCode::PARAMETER_ERROR),
        }
    }

    fn int(&self, i: usize) -> Result<i64, ResultCode> {
        match self.arg(i)? {
            Arg::Val(Value::Int(x)) => Ok(*x),
            _ => Err(ResultCode::PARAMETER_ERROR),
        }
    }

    /// An optional value argument; nil when absent.
    fn opt_val(&self, i: usize) -> Result<Value, ResultCode> {
        if i < self.0.len() {
            self.val(i)
        } else {
            Ok(Value::Nil)
        }
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, ResultCode> {
        if i < self.0.len() {
            self.int(i).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A count: absent means "to the end"; negative counts are refused.
    fn count(&self, i: usize) -> Result<u64, ResultCode> {
        match self.opt_int(i)? {
            None => Ok(u64::MAX),
            Some(c) => u64::try_from(c).map_err(|_| ResultCode::PARAMETER_ERROR),
        }
    }

    fn list(&self, i: usize) -> Result<Vec<Value>, ResultCode> {
        match self.val(i)? {
            Value::List(l) => Ok(l),
            _ => Err(ResultCode::PARAMETER_ERROR),
        }
    }

    fn map(&self, i: usize) -> Result<Vec<(Value, Value)>, ResultCode> {
        match self.val(i)? {
            Value::Map(m) => Ok(m),
            _ => Err(ResultCode::PARAMETER_ERROR),
        }
    }

    fn opt_arg(&self, i: usize) -> Option<&Arg> {
        self.0.get(i)
    }
}

// ---------------------------------------------------------------------------
// Ordering.

/// Aerospike's ordering of values: [`Value::server_cmp`].
pub(crate) fn compare(a: &Value, b: &Value) -> Ordering {
    a.server_cmp(b)
}

/// Compares a stored value with an argument.
fn compare_arg(v: &Value, a: &Arg) -> Ordering {
    cmp_arg(v, a).unwrap_or(Ordering::Equal)
}

/// `None` when a WILDCARD was reached: the server stops there and calls the
/// values equal, whatever follows.
fn cmp_arg(v: &Value, a: &Arg) -> Option<Ordering> {
    match a {
        Arg::Val(x) => Some(compare(v, x)),
        Arg::Inf => Some(Ordering::Less),
        Arg::Wild => None,
        Arg::List(items) => {
            let Value::List(list) = v else {
                return Some(compare(v, &Value::List(Vec::new())));
            };
            for (x, it) in list.iter().zip(items) {
                let o = cmp_arg(x, it)?;
                if o != Ordering::Equal {
                    return Some(o);
                }
            }
            Some(list.len().cmp(&items.len()))
        }
    }
}

fn eq(a: &Value, b: &Value) -> bool {
    compare(a, b) == Ordering::Equal
}

fn sort_values(list: &mut [Value]) {
    list.sort_by(compare);
}

fn sort_entries(entries: &mut [(Value, Value)]) {
    entries.sort_by(|a, b| compare(&a.0, &b.0));
}

/// True when `list` is in order: an order argument only applies to a list that
/// could have been created ordered.
fn is_sorted(list: &[Value]) -> bool {
    list.windows(2)
        .all(|w| compare(&w[0], &w[1]) != Ordering::Greater)
}

/// True when the map's keys are in order (see [`is_sorted`]).
fn keys_sorted(entries: &[(Value, Value)]) -> bool {
    entries
        .windows(2)
        .all(|w| compare(&w[0].0, &w[1].0) == Ordering::Less)
}

/// Position after the last element not greater than `v` (ordered insert).
fn upper_bound(list: &[Value], v: &Value) -> usize {
    list.partition_point(|x| compare(x, v) != Ordering::Greater)
}

/// The largest record a namespace accepts (`max-record-size`, 1 MiB by default);
/// each padding nil takes a byte, so more padding than this can never be stored.
const MAX_PADDING: usize = 1024 * 1024;

/// Pads `list` with nils up to length `at`.
fn pad_to(list: &mut Vec<Value>, at: usize) -> Result<(), ResultCode> {
    if at.saturating_sub(list.len()) > MAX_PADDING {
        return Err(ResultCode::RECORD_TOO_BIG);
    }
    if at > list.len() {
        list.resize(at, Value::Nil);
    }
    Ok(())
}

/// Replaces the element at `at`, or pads and appends past the end.
fn put_at(list: &mut Vec<Value>, at: usize, value: Value) -> Result<(), ResultCode> {
    if let Some(slot) = list.get_mut(at) {
        *slot = value;
    } else {
        pad_to(list, at)?;
        list.push(value);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Contexts.

/// An empty list for a list context id, an empty map for a map context id.
fn empty_container(id: i64) -> Value {
    if id & 0x30 == 0x20 {
        Value::Map(Vec::new())
    } else {
        Value::List(Vec::new())
    }
}

/// Follows the context path. A step with a create flag creates what it does
/// not find; the created container is a list or map as the next step (or, after
/// the last step, the operation) needs, as aerospike-client-java's
/// `ListOperation.create` / `MapOperation.create` rely on.
fn navigate<'a>(
    mut cur: &'a mut Value,
    ctx: &[(i64, Arg)],
    allow_create: bool,
    op_is_list: bool,
) -> Result<&'a mut Value, ResultCode> {
    for (level, (id, a)) in ctx.iter().enumerate() {
        let create = allow_create && id & CTX_CREATE_MASK != 0;
        match cur {
            Value::List(_) | Value::Map(_) => {}
            Value::Nil if level == 0 && create => *cur = empty_container(*id),
            // A missing bin without a create flag, or a nested non-container.
            Value::Nil => return Err(ResultCode::OP_NOT_APPLICABLE),
            _ if level == 0 => return Err(ResultCode::PARAMETER_ERROR),
            _ => return Err(ResultCode::OP_NOT_APPLICABLE),
        }
        let child = match ctx.get(level + 1) {
            Some((next, _)) => empty_container(*next),
            None if op_is_list => Value::List(Vec::new()),
            None => Value::Map(Vec::new()),
        };
        let create = create.then_some(child);
        cur = step(cur, *id, a, create)?;
    }
    Ok(cur)
}

/// One context step; `create` is the container to insert when nothing is found.
fn step<'a>(
    cur: &'a mut Value,
    id: i64,
    a: &Arg,
    create: Option<Value>,
) -> Result<&'a mut Value, ResultCode> {
    let base = id & !CTX_CREATE_MASK;
    let int = || match a {
        Arg::Val(Value::Int(i)) => Ok(*i),
        _ => Err(ResultCode::PARAMETER_ERROR),
    };
    match (base, cur) {
        (0x10, Value::List(list)) => {
            let index = int()?;
            let n = list.len();
            let pos = match (resolve_index(index, n), create) {
                (Some(p), _) => p,
                (None, Some(child)) if index >= 0 => {
                    let at = usize::try_from(index).map_err(|_| ResultCode::OP_NOT_APPLICABLE)?;
                    // Padding with nils is the unordered-list create flag 0x80.
                    let pad =
                        id & CTX_CREATE_MASK == CTX_LIST_PAD && matches!(child, Value::List(_));
                    if at > n && !pad {
                        return Err(ResultCode::OP_NOT_APPLICABLE);
                    }
                    pad_to(list, at)?;
                    list.push(child);
                    at
                }
                _ => return Err(ResultCode::OP_NOT_APPLICABLE),
            };
            Ok(&mut list[pos])
        }
        (0x11, Value::List(list)) => {
            // A nested list's order flags are not kept: unordered.
            let view = View::list(list, false);
            let r = resolve_index(int()?, view.len()).ok_or(ResultCode::OP_NOT_APPLICABLE)?;
            let pos = view.rank_range(r, 1)[0];
            Ok(&mut list[pos])
        }
        (0x13, Value::List(list)) => {
            let pos = list
                .iter()
                .position(|v| compare_arg(v, a) == Ordering::Equal)
                .ok_or(ResultCode::OP_NOT_APPLICABLE)?;
            Ok(&mut list[pos])
        }
        (0x20 | 0x21, Value::Map(entries)) => {
            let view = View::map(entries);
            let i = resolve_index(int()?, view.len()).ok_or(ResultCode::OP_NOT_APPLICABLE)?;
            let logical = if base == 0x20 {
                i
            } else {
                view.rank_range(i, 1)[0]
            };
            let pos = view.pos[logical];
            Ok(&mut entries[pos].1)
        }
        (0x22, Value::Map(entries)) => {
            let pos = match entries
                .iter()
                .position(|(k, _)| compare_arg(k, a) == Ordering::Equal)
            {
                Some(p) => p,
                None => {
                    let (Some(child), Arg::Val(key)) = (create, a) else {
                        return Err(ResultCode::OP_NOT_APPLICABLE);
                    };
                    entries.push((key.clone(), child));
                    entries.len() - 1
                }
            };
            Ok(&mut entries[pos].1)
        }
        (0x23, Value::Map(entries)) => {
            let pos = entries
                .iter()
                .position(|(_, v)| compare_arg(v, a) == Ordering::Equal)
                .ok_or(ResultCode::OP_NOT_APPLICABLE)?;
            Ok(&mut entries[pos].1)
        }
        // An unknown context type, or one for the other kind of container.
        _ => Err(ResultCode::OP_NOT_APPLICABLE),
    }
}

// ---------------------------------------------------------------------------
// Dispatch.

fn apply(target: &mut Value, call: &Call, stored: Option<u8>) -> Result<Value, ResultCode> {
    let list_op = is_list_code(call.code);
    match target {
        Value::List(list) if list_op => list_apply(list, call, stored),
        Value::Map(entries) if !list_op => map_apply(entries, call, stored),
        Value::Nil => {
            let creates = if list_op {
                matches!(
                    call.code,
                    lc::SET_TYPE
                        | lc::APPEND
                        | lc::APPEND_ITEMS
                        | lc::INSERT
                        | lc::INSERT_ITEMS
                        | lc::SET
                        | lc::INCREMENT
                )
            } else {
                matches!(
                    call.code,
                    mc::SET_TYPE
                        | mc::ADD
                        | mc::ADD_ITEMS
                        | mc::PUT
                        | mc::PUT_ITEMS
                        | mc::INCREMENT
                        | mc::DECREMENT
                )
            };
            if !creates {
                // Removes, pops, clears and trims of a missing bin are no-ops
                // with no result; sorting one is a type error.
                return if call.code == lc::SORT {
                    Err(ResultCode::BIN_TYPE_ERROR)
                } else {
                    Ok(Value::Nil)
                };
            }
            let mut fresh = if list_op {
                Value::List(Vec::new())
            } else {
                Value::Map(Vec::new())
            };
            let result = apply(&mut fresh, call, stored)?;
            *target = fresh;
            Ok(result)
        }
        _ => Err(ResultCode::BIN_TYPE_ERROR),
    }
}

/// Index `i` of `n` elements, negative from the end; `None` when out of bounds.
fn resolve_index(i: i64, n: usize) -> Option<usize> {
    let n = i64::try_from(n).ok()?;
    let r = if i < 0 { i + n } else { i };
    (0..n).contains(&r).then_some(r as usize)
}

/// Start and count of a range of `n` elements (aerospike-server
/// `calc_index_count_multi`): past the end is empty, before the start is clipped.
fn resolve_range(index: i64, count: u64, n: usize) -> (usize, usize) {
    let n64 = n as i64;
    if index >= n64 {
        return (n, 0);
    }
    let start = if index < 0 { index + n64 } else { index };
    if start < 0 {
        let before = start.unsigned_abs();
        if before >= count {
            return (0, 0);
        }
        return (0, (count - before).min(n as u64) as usize);
    }
    let start = start as usize;
    (start, count.min((n - start) as u64) as usize)
}

/// A range starting `rel` positions after `anchor` (aerospike-server
/// `calc_rel_index_count`).
fn resolve_rel_range(anchor: usize, rel: i64, count: u64, n: usize) -> (usize, usize) {
    let start = (anchor as i64).saturating_add(rel);
    if start < 0 {
        let before = start.unsigned_abs();
        let count = count.saturating_sub(before);
        return resolve_range(0, count, n);
    }
    resolve_range(start, count, n)
}

// ---------------------------------------------------------------------------
// Selections and results.

/// Elements in logical order (a list's order, a map's key order): logical
/// index `i` is storage position `pos[i]`; `rank[r]` is the logical index of
/// rank `r` (ties keep logical order).
struct View<'a> {
    keys: Option<Vec<&'a Value>>,
    vals: Vec<&'a Value>,
    pos: Vec<usize>,
    rank: Vec<usize>,
    /// True for an unordered list: the server finds its rank ranges with a
    /// partial heap sort, and returns values in the heap's order. (Maps
    /// compare equal values by key, so their heap order is the rank order.)
    heap: bool,
}

impl<'a> View<'a> {
    fn list(list: &'a [Value], ordered: bool) -> Self {
        let vals: Vec<&Value> = list.iter().collect();
        View {
            keys: None,
            rank: rank_order(&vals),
            pos: (0..list.len()).collect(),
            vals,
            heap: !ordered,
        }
    }

    fn map(entries: &'a [(Value, Value)]) -> Self {
        let mut pos: Vec<usize> = (0..entries.len()).collect();
        pos.sort_by(|&a, &b| compare(&entries[a].0, &entries[b].0));
        let keys: Vec<&Value> = pos.iter().map(|&p| &entries[p].0).collect();
        let vals: Vec<&Value> = pos.iter().map(|&p| &entries[p].1).collect();
        View {
            keys: Some(keys),
            rank: rank_order(&vals),
            vals,
            pos,
            heap: false,
        }
    }

    /// The logical indexes of ranks `start..start + count`, in the order
    /// the server's rank-range search leaves them (see [`heap_rank_range`]).
    fn rank_range(&self, start: usize, count: usize) -> Vec<usize> {
        if !self.heap {
            return self.rank[start..start + count].to_vec();
        }
        // Only lists use the heap, and a list's logical order is its storage.
        heap_rank_range(&self.vals, start, count)
    }

    fn len(&self) -> usize {
        self.vals.len()
    }

    fn rank_of(&self) -> Vec<usize> {
        let mut r = vec![0; self.len()];
        for (rank, &i) in self.rank.iter().enumerate() {
            r[i] = rank;
        }
        r
    }
}

/// Logical indexes sorted by value (ties keep index order).
fn rank_order(vals: &[&Value]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..vals.len()).collect();
    order.sort_by(|&a, &b| compare(vals[a], vals[b]));
    order
}

/// Ranks `start..start + count` of `vals` (storage order) found the way
/// the server does (`cdt.c` `order_heap_init_build_by_range_temp`): a heap
/// of every index, a min-heap when the range is nearer the low end, else a
/// max-heap; `start` (resp. the tail) plus `count` tops are popped, each
/// stored at the end of the heap array, and the range is read from there.
/// Returns the storage indexes in that array's order: descending rank for
/// a min-heap, ascending for a max-heap, equal values in the heap's order.
fn heap_rank_range(vals: &[&Value], start: usize, count: usize) -> Vec<usize> {
    let n = vals.len();
    let tail = n - start - count;
    let (want, pops) = if start <= tail {
        (Ordering::Less, start + count)
    } else {
        (Ordering::Greater, tail + count)
    };
    let mut heap: Vec<usize> = (0..n).collect();
    let mut filled = n;
    let cmp = |heap: &[usize], a: usize, b: usize| compare(vals[heap[a]], vals[heap[b]]);
    let heapify = |heap: &mut [usize], filled: usize, mut i: usize| loop {
        let (c1, c2) = (2 * i + 1, 2 * i + 2);
        if c1 >= filled {
            break;
        }
        let child = if c2 >= filled {
            c1
        } else {
            match cmp(heap, c1, c2) {
                o if o == want || o == Ordering::Equal => c1,
                _ => c2,
            }
        };
        if cmp(heap, child, i) != want {
            break;
        }
        heap.swap(i, child);
        i = child;
    };
    for i in (0..n / 2).rev() {
        heapify(&mut heap, filled, i);
    }
    let mut end = n;
    for _ in 0..pops {
        let top = heap[0];
        filled -= 1;
        heap[0] = heap[filled];
        heapify(&mut heap, filled, 0);
        end -= 1;
        heap[end] = top;
    }
    heap[filled..filled + count].to_vec()
}

/// The order results come out in. The server walks index and rank ranges in
/// that order and everything else (value and key matches, inverted
/// selections) in storage order, which for a key-ordered map is key order.
#[derive(Clone, Copy)]
enum Order {
    Index,
    /// A rank range as the server finds it (see [`View::rank_range`]).
    Rank,
    Storage,
}

/// Selected logical indexes.
struct Sel {
    idx: Vec<usize>,
    order: Order,
    multi: bool,
}

enum Selector {
    Index(i64),
    IndexRange(i64, u64),
    Rank(i64),
    RankRange(i64, u64),
    Value(Arg),
    ValueList(Vec<Value>),
    ValueInterval(Arg, Option<Arg>),
    ValueRelRank(Arg, i64, u64),
    Key(Arg),
    KeyList(Vec<Value>),
    KeyInterval(Arg, Option<Arg>),
    KeyRelIndex(Arg, i64, u64),
}

fn in_interval(v: &Value, begin: &Arg, end: Option<&Arg>) -> bool {
    compare_arg(v, begin) != Ordering::Less
        && end.is_none_or(|e| compare_arg(v, e) == Ordering::Less)
}

fn select(view: &View<'_>, sel: &Selector) -> Result<Sel, ResultCode> {
    let n = view.len();
    let single = |i: Option<usize>| -> Result<Sel, ResultCode> {
        let i = i.ok_or(ResultCode::OP_NOT_APPLICABLE)?;
        Ok(Sel {
            idx: vec![i],
            order: Order::Index,
            multi: false,
        })
    };
    let multi = |idx: Vec<usize>, order: Order| Sel {
        idx,
        order,
        multi: true,
    };
    let filter = |vals: &[&Value], f: &dyn Fn(&Value) -> bool| -> Vec<usize> {
        (0..n).filter(|&i| f(vals[i])).collect()
    };
    let keys = || view.keys.as_deref().ok_or(ResultCode::PARAMETER_ERROR);
    Ok(match sel {
        Selector::Index(i) => single(resolve_index(*i, n))?,
        Selector::Rank(r) => single(resolve_index(*r, n).map(|r| view.rank_range(r, 1)[0]))?,
        Selector::IndexRange(i, c) => {
            let (s, c) = resolve_range(*i, *c, n);
            multi((s..s + c).collect(), Order::Index)
        }
        Selector::RankRange(..) | Selector::ValueRelRank(..) => {
            let (s, c) = rank_span(view, sel).unwrap_or((0, 0));
            multi(view.rank_range(s, c), Order::Rank)
        }
        Selector::Value(a) => multi(
            filter(&view.vals, &|v| compare_arg(v, a) == Ordering::Equal),
            Order::Storage,
        ),
        Selector::ValueList(list) => multi(
            filter(&view.vals, &|v| list.iter().any(|x| eq(v, x))),
            Order::Storage,
        ),
        Selector::ValueInterval(b, e) => multi(
            filter(&view.vals, &|v| in_interval(v, b, e.as_ref())),
            Order::Storage,
        ),
        Selector::Key(a) => {
            let found = keys()?
                .iter()
                .position(|k| compare_arg(k, a) == Ordering::Equal);
            Sel {
                idx: found.into_iter().collect(),
                order: Order::Index,
                multi: false,
            }
        }
        Selector::KeyList(list) => multi(
            filter(keys()?, &|k| list.iter().any(|x| eq(k, x))),
            Order::Storage,
        ),
        Selector::KeyInterval(b, e) => multi(
            filter(keys()?, &|k| in_interval(k, b, e.as_ref())),
            Order::Storage,
        ),
        Selector::KeyRelIndex(a, i, c) => {
            let anchor = keys()?
                .iter()
                .take_while(|k| compare_arg(k, a) == Ordering::Less)
                .count();
            let (s, c) = resolve_rel_range(anchor, *i, *c, n);
            multi((s..s + c).collect(), Order::Index)
        }
    })
}

/// The first rank and the count a rank range or a value-relative rank range
/// selects; `None` for other selectors.
fn rank_span(view: &View<'_>, sel: &Selector) -> Option<(usize, usize)> {
    let n = view.len();
    match sel {
        Selector::RankRange(r, c) => Some(resolve_range(*r, *c, n)),
        Selector::ValueRelRank(a, r, c) => {
            let anchor = view
                .rank
                .iter()
                .take_while(|&&i| compare_arg(view.vals[i], a) == Ordering::Less)
                .count();
            Some(resolve_rel_range(anchor, *r, *c, n))
        }
        _ => None,
    }
}

/// An inverted rank range of a map whose excluded ranks touch an end is the
/// plain rank range of the others, and comes out in rank order like one
/// (`particle_map.c` `packed_map_get_remove_by_rank_range`: "reduce to remove
/// tail/head section"); `None` when that does not apply.
fn reduced_inverted_rank_range(view: &View<'_>, selector: &Selector) -> Option<Sel> {
    view.keys.as_ref()?;
    let n = view.len();
    let (s, c) = match rank_span(view, selector)? {
        (_, 0) => (0, n),
        (0, c) => (c, n - c),
        (s, c) if s + c >= n => (0, s),
        _ => return None,
    };
    Some(Sel {
        idx: view.rank_range(s, c),
        order: Order::Rank,
        multi: true,
    })
}

/// Builds the result of `sel` for return type `return_type`.
fn build_result(view: &View<'_>, sel: &Sel, return_type: i64) -> Result<Value, ResultCode> {
    let n = view.len();
    let rank_of = view.rank_of();
    let is_map = view.keys.is_some();
    let mut ordered = sel.idx.clone();
    match sel.order {
        Order::Index => ordered.sort_unstable(),
        Order::Storage => ordered.sort_by_key(|&i| view.pos[i]),
        // An unordered list returns values in the heap's order, indexes in
        // index order and ranks as a range (`particle_list.c`
        // `packed_list_get_remove_by_rank_range`); everything else in rank
        // order.
        Order::Rank if return_type == rt::VALUE => {}
        Order::Rank if matches!(return_type, rt::INDEX | rt::REVERSE_INDEX) && !is_map => {
            ordered.sort_unstable();
        }
        Order::Rank => ordered.sort_by_key(|&i| rank_of[i]),
    }
    let collect = |f: &dyn Fn(usize) -> Value, none: Value| -> Value {
        if sel.multi {
            Value::List(ordered.iter().map(|&i| f(i)).collect())
        } else {
            ordered.first().map_or(none, |&i| f(i))
        }
    };
    let int = |x: usize| Value::Int(x as i64);
    let key = |i: usize| view.keys.as_ref().map_or(Value::Nil, |k| k[i].clone());
    Ok(match return_type {
        rt::NONE => Value::Nil,
        rt::INDEX => collect(&|i| int(i), Value::Int(-1)),
        rt::REVERSE_INDEX => collect(&|i| int(n - 1 - i), Value::Int(-1)),
        rt::RANK => collect(&|i| int(rank_of[i]), Value::Int(-1)),
        rt::REVERSE_RANK => collect(&|i| int(n - 1 - rank_of[i]), Value::Int(-1)),
        rt::COUNT => int(sel.idx.len()),
        rt::EXISTS => Value::Bool(!sel.idx.is_empty()),
        rt::VALUE => collect(&|i| view.vals[i].clone(), Value::Nil),
        rt::KEY if is_map => collect(&key, Value::Nil),
        rt::KEY_VALUE | rt::UNORDERED_MAP | rt::ORDERED_MAP if is_map => {
            let mut entries: Vec<(Value, Value)> = ordered
                .iter()
                .map(|&i| (key(i), view.vals[i].clone()))
                .collect();
            if return_type == rt::ORDERED_MAP {
                sort_entries(&mut entries);
            }
            Value::Map(entries)
        }
        _ => return Err(ResultCode::OP_NOT_APPLICABLE),
    })
}

/// Runs a get/remove-by operation on a view: returns the result and the
/// storage positions of the selected elements.
fn get_remove(
    view: &View<'_>,
    selector: &Selector,
    return_type: i64,
) -> Result<(Value, Vec<usize>), ResultCode> {
    let mut sel = select(view, selector)?;
    if return_type & INVERTED != 0 {
        if !sel.multi {
            return Err(ResultCode::OP_NOT_APPLICABLE);
        }
        if let Some(reduced) = reduced_inverted_rank_range(view, selector) {
            sel = reduced;
        } else {
            let mut chosen = vec![false; view.len()];
            sel.idx.iter().for_each(|&i| chosen[i] = true);
            sel.idx = (0..view.len()).filter(|&i| !chosen[i]).collect();
            sel.order = Order::Storage;
        }
    }
    let result = build_result(view, &sel, return_type & !INVERTED)?;
    let positions = sel.idx.iter().map(|&i| view.pos[i]).collect();
    Ok((result, positions))
}

/// Removes the storage positions `positions` from `items`.
fn remove_positions<T>(items: &mut Vec<T>, mut positions: Vec<usize>) {
    positions.sort_unstable();
    positions.dedup();
    for p in positions.into_iter().rev() {
        items.remove(p);
    }
}

// ---------------------------------------------------------------------------
// Arithmetic.

/// `current + delta` with the server's type rules (`cdt_calc_delta_add`): the
/// stored type wins; a missing value takes the delta's type; nil delta is 1.
fn add_delta(current: Option<&Value>, delta: &Value) -> Result<Value, ResultCode> {
    let (di, df, delta_is_float) = match delta {
        Value::Int(i) => (*i, 1.0, false),
        Value::Float(f) => (1, *f, true),
        Value::Nil => (1, 1.0, false),
        _ => return Err(ResultCode::PARAMETER_ERROR),
    };
    Ok(match current {
        Some(Value::Int(v)) => {
            Value::Int(v.wrapping_add(if delta_is_float { df as i64 } else { di }))
        }
        Some(Value::Float(v)) => Value::Float(v + if delta_is_float { df } else { di as f64 }),
        Some(_) => return Err(ResultCode::PARAMETER_ERROR),
        None if delta_is_float => Value::Float(df),
        None => Value::Int(di),
    })
}

// ---------------------------------------------------------------------------
// Lists.

/// `Ok(no-op)` under NO_FAIL, the error otherwise.
fn refuse<T>(flags: i64, code: ResultCode, noop: T) -> Result<T, ResultCode> {
    if flags & NO_FAIL != 0 {
        Ok(noop)
    } else {
        Err(code)
    }
}

/// Drops the items that break ADD_UNIQUE. `Ok(None)` means "apply nothing".
fn unique_filter(
    list: &[Value],
    items: Vec<Value>,
    flags: i64,
) -> Result<Option<Vec<Value>>, ResultCode> {
    if flags & ADD_UNIQUE == 0 {
        return Ok(Some(items));
    }
    let mut accepted: Vec<Value> = Vec::with_capacity(items.len());
    for it in items {
        if list.iter().chain(accepted.iter()).any(|x| eq(x, &it)) {
            if flags & NO_FAIL == 0 {
                return Err(ResultCode::ELEMENT_EXISTS);
            }
            if flags & PARTIAL == 0 {
                return Ok(None);
            }
            continue;
        }
        accepted.push(it);
    }
    Ok(Some(accepted))
}

fn list_add(
    list: &mut Vec<Value>,
    items: Vec<Value>,
    ordered: bool,
    flags: i64,
) -> Result<Value, ResultCode> {
    if let Some(items) = unique_filter(list, items, flags)? {
        for it in items {
            if ordered {
                let p = upper_bound(list, &it);
                list.insert(p, it);
            } else {
                list.push(it);
            }
        }
    }
    Ok(Value::Int(list.len() as i64))
}

/// Resolves a write position: negative from the end, past the end allowed
/// unless INSERT_BOUNDED. `Ok(None)` is a NO_FAIL no-op.
fn write_position(n: usize, index: i64, flags: i64) -> Result<Option<usize>, ResultCode> {
    let r = if index < 0 { index + n as i64 } else { index };
    if r < 0 || (r as usize > n && flags & INSERT_BOUNDED != 0) {
        return refuse(flags, ResultCode::OP_NOT_APPLICABLE, None);
    }
    usize::try_from(r)
        .map(Some)
        .map_err(|_| ResultCode::PARAMETER_ERROR)
}

fn list_insert(
    list: &mut Vec<Value>,
    index: i64,
    items: Vec<Value>,
    flags: i64,
) -> Result<Value, ResultCode> {
    let size = |l: &Vec<Value>| Value::Int(l.len() as i64);
    let Some(at) = write_position(list.len(), index, flags)? else {
        return Ok(size(list));
    };
    let Some(items) = unique_filter(list, items, flags)? else {
        return Ok(size(list));
    };
    pad_to(list, at)?;
    list.splice(at..at, items);
    Ok(size(list))
}

fn list_apply(list: &mut Vec<Value>, call: &Call, stored: Option<u8>) -> Result<Value, ResultCode> {
    let a = Args(&call.args);
    let attr_ordered =
        |i: usize| -> Result<bool, ResultCode> { Ok(a.opt_int(i)?.unwrap_or(0) & 1 != 0) };
    match call.code {
        lc::SET_TYPE => {
            if a.int(0)? & 1 != 0 {
                sort_values(list);
            }
            Ok(Value::Nil)
        }
        lc::APPEND => {
            let ordered = keeps_order(stored, attr_ordered(1)?, || is_sorted(list));
            list_add(list, vec![a.val(0)?], ordered, a.opt_int(2)?.unwrap_or(0))
        }
        lc::APPEND_ITEMS => {
            let ordered = keeps_order(stored, attr_ordered(1)?, || is_sorted(list));
            list_add(list, a.list(0)?, ordered, a.opt_int(2)?.unwrap_or(0))
        }
        // Writes at an index would break an ordered list: the server refuses them.
        lc::INSERT | lc::INSERT_ITEMS | lc::SET if known_ordered(stored) => {
            Err(ResultCode::OP_NOT_APPLICABLE)
        }
        lc::INSERT => list_insert(list, a.int(0)?, vec![a.val(1)?], a.opt_int(2)?.unwrap_or(0)),
        lc::INSERT_ITEMS => list_insert(list, a.int(0)?, a.list(1)?, a.opt_int(2)?.unwrap_or(0)),
        lc::SET => {
            let flags = a.opt_int(2)?.unwrap_or(0);
            let value = a.val(1)?;
            let Some(at) = write_position(list.len(), a.int(0)?, flags)? else {
                return Ok(Value::Nil);
            };
            if flags & ADD_UNIQUE != 0
                && list
                    .iter()
                    .enumerate()
                    .any(|(i, x)| i != at && eq(x, &value))
            {
                return refuse(flags, ResultCode::ELEMENT_EXISTS, Value::Nil);
            }
            put_at(list, at, value)?;
            Ok(Value::Nil)
        }
        lc::INCREMENT => {
            let delta = a.opt_val(1)?;
            let ordered = keeps_order(stored, attr_ordered(2)?, || is_sorted(list));
            let flags = a.opt_int(3)?.unwrap_or(0);
            let Some(at) = write_position(list.len(), a.int(0)?, flags)? else {
                return Ok(Value::Nil);
            };
            let new = add_delta(list.get(at), &delta)?;
            put_at(list, at, new.clone())?;
            if ordered {
                sort_values(list);
            }
            Ok(new)
        }
        lc::CLEAR => {
            list.clear();
            Ok(Value::Nil)
        }
        lc::SORT => {
            let flags = a.opt_int(0)?.unwrap_or(0);
            sort_values(list);
            if flags & SORT_DROP_DUPLICATES != 0 {
                list.dedup_by(|x, y| eq(x, y));
            }
            // An ordered list stays in its order.
            if flags & SORT_DESCENDING != 0 && !known_ordered(stored) {
                list.reverse();
            }
            Ok(Value::Nil)
        }
        lc::SIZE => Ok(Value::Int(list.len() as i64)),
        lc::GET | lc::POP | lc::REMOVE => {
            let i = resolve_index(a.int(0)?, list.len()).ok_or(ResultCode::OP_NOT_APPLICABLE)?;
            Ok(match call.code {
                lc::GET => list[i].clone(),
                lc::POP => list.remove(i),
                _ => {
                    list.remove(i);
                    Value::Int(1)
                }
            })
        }
        lc::GET_RANGE | lc::POP_RANGE | lc::REMOVE_RANGE => {
            let (s, c) = resolve_range(a.int(0)?, a.count(1)?, list.len());
            Ok(match call.code {
                lc::GET_RANGE => Value::List(list[s..s + c].to_vec()),
                lc::POP_RANGE => Value::List(list.drain(s..s + c).collect()),
                _ => {
                    list.drain(s..s + c);
                    Value::Int(c as i64)
                }
            })
        }
        lc::TRIM => {
            let count = u64::try_from(a.int(1)?).map_err(|_| ResultCode::PARAMETER_ERROR)?;
            let (s, c) = resolve_range(a.int(0)?, count, list.len());
            let removed = list.len() - c;
            list.truncate(s + c);
            list.drain(..s);
            Ok(Value::Int(removed as i64))
        }
        code => {
            let (get_code, remove) = if code >= lc::REMOVE_BY_INDEX {
                (code - (lc::REMOVE_BY_INDEX - lc::GET_BY_INDEX), true)
            } else {
                (code, false)
            };
            let return_type = a.int(0)?;
            let selector = match get_code {
                lc::GET_BY_INDEX => Selector::Index(a.int(1)?),
                lc::GET_BY_RANK => Selector::Rank(a.int(1)?),
                lc::GET_BY_VALUE => Selector::Value(a.arg(1)?.clone()),
                lc::GET_BY_VALUE_LIST => Selector::ValueList(a.list(1)?),
                lc::GET_BY_INDEX_RANGE => Selector::IndexRange(a.int(1)?, a.count(2)?),
                lc::GET_BY_VALUE_INTERVAL => {
                    Selector::ValueInterval(a.arg(1)?.clone(), a.opt_arg(2).cloned())
                }
                lc::GET_BY_RANK_RANGE => Selector::RankRange(a.int(1)?, a.count(2)?),
                lc::GET_BY_VALUE_REL_RANK_RANGE => {
                    Selector::ValueRelRank(a.arg(1)?.clone(), a.int(2)?, a.count(3)?)
                }
                _ => return Err(ResultCode::PARAMETER_ERROR),
            };
            let view = View::list(list, known_ordered(stored));
            let (result, positions) = get_remove(&view, &selector, return_type)?;
            if remove {
                remove_positions(list, positions);
            }
            Ok(result)
        }
    }
}

// ---------------------------------------------------------------------------
// Maps.

fn map_upsert(entries: &mut Vec<(Value, Value)>, key: Value, value: Value, ordered: bool) {
    if let Some(e) = entries.iter_mut().find(|(k, _)| eq(k, &key)) {
        e.1 = value;
    } else if ordered {
        let p = entries.partition_point(|(k, _)| compare(k, &key) == Ordering::Less);
        entries.insert(p, (key, value));
    } else {
        entries.push((key, value));
    }
}

fn map_put(
    entries: &mut Vec<(Value, Value)>,
    items: Vec<(Value, Value)>,
    ordered: bool,
    flags: i64,
) -> Result<Value, ResultCode> {
    let mut staged = Vec::with_capacity(items.len());
    for (k, v) in items {
        let exists = entries.iter().any(|(x, _)| eq(x, &k));
        let refused = if flags & CREATE_ONLY != 0 && exists {
            Some(ResultCode::ELEMENT_EXISTS)
        } else if flags & UPDATE_ONLY != 0 && !exists {
            Some(ResultCode::ELEMENT_NOT_FOUND)
        } else {
            None
        };
        if let Some(code) = refused {
            if flags & NO_FAIL == 0 {
                return Err(code);
            }
            if flags & PARTIAL == 0 {
                staged.clear();
                break;
            }
            continue;
        }
        staged.push((k, v));
    }
    for (k, v) in staged {
        map_upsert(entries, k, v, ordered);
    }
    Ok(Value::Int(entries.len() as i64))
}

fn map_apply(
    entries: &mut Vec<(Value, Value)>,
    call: &Call,
    stored: Option<u8>,
) -> Result<Value, ResultCode> {
    let a = Args(&call.args);
    let attr_ordered =
        |i: usize| -> Result<bool, ResultCode> { Ok(a.opt_int(i)?.unwrap_or(0) & 1 != 0) };
    let ordered = |i: usize, entries: &[(Value, Value)]| -> Result<bool, ResultCode> {
        Ok(keeps_order(stored, attr_ordered(i)?, || {
            keys_sorted(entries)
        }))
    };
    match call.code {
        mc::SET_TYPE => {
            if a.int(0)? & 1 != 0 {
                sort_entries(entries);
            }
            Ok(Value::Nil)
        }
        mc::ADD => {
            let ordered = ordered(2, entries)?;
            map_put(entries, vec![(a.val(0)?, a.val(1)?)], ordered, CREATE_ONLY)
        }
        mc::ADD_ITEMS => {
            let ordered = ordered(1, entries)?;
            map_put(entries, a.map(0)?, ordered, CREATE_ONLY)
        }
        mc::PUT => {
            let ordered = ordered(2, entries)?;
            let flags = a.opt_int(3)?.unwrap_or(0);
            map_put(entries, vec![(a.val(0)?, a.val(1)?)], ordered, flags)
        }
        mc::PUT_ITEMS => {
            let ordered = ordered(1, entries)?;
            map_put(entries, a.map(0)?, ordered, a.opt_int(2)?.unwrap_or(0))
        }
        mc::REPLACE => map_put(entries, vec![(a.val(0)?, a.val(1)?)], false, UPDATE_ONLY),
        mc::REPLACE_ITEMS => map_put(entries, a.map(0)?, false, UPDATE_ONLY),
        mc::INCREMENT | mc::DECREMENT => {
            let key = a.val(0)?;
            let mut delta = a.opt_val(1)?;
            if call.code == mc::DECREMENT {
                delta = match delta {
                    Value::Int(i) => Value::Int(i.wrapping_neg()),
                    Value::Float(f) => Value::Float(-f),
                    Value::Nil => Value::Int(-1),
                    _ => return Err(ResultCode::PARAMETER_ERROR),
                };
            }
            let current = entries.iter().find(|(k, _)| eq(k, &key)).map(|e| &e.1);
            let new = add_delta(current, &delta)?;
            let ordered = ordered(2, entries)?;
            map_upsert(entries, key, new.clone(), ordered);
            Ok(new)
        }
        mc::CLEAR => {
            entries.clear();
            Ok(Value::Nil)
        }
        mc::SIZE => Ok(Value::Int(entries.len() as i64)),
        code => {
            let (get_code, remove) = match code {
                mc::REMOVE_BY_KEY => (mc::GET_BY_KEY, true),
                mc::REMOVE_BY_INDEX => (mc::GET_BY_INDEX, true),
                mc::REMOVE_BY_RANK => (mc::GET_BY_RANK, true),
                mc::REMOVE_BY_KEY_LIST => (mc::GET_BY_KEY_LIST, true),
                mc::REMOVE_BY_VALUE => (mc::GET_BY_VALUE, true),
                mc::REMOVE_BY_VALUE_LIST => (mc::GET_BY_VALUE_LIST, true),
                mc::REMOVE_BY_KEY_INTERVAL => (mc::GET_BY_KEY_INTERVAL, true),
                mc::REMOVE_BY_INDEX_RANGE => (mc::GET_BY_INDEX_RANGE, true),
                mc::REMOVE_BY_VALUE_INTERVAL => (mc::GET_BY_VALUE_INTERVAL, true),
                mc::REMOVE_BY_RANK_RANGE => (mc::GET_BY_RANK_RANGE, true),
                mc::REMOVE_BY_KEY_REL_INDEX_RANGE => (mc::GET_BY_KEY_REL_INDEX_RANGE, true),
                mc::REMOVE_BY_VALUE_REL_RANK_RANGE => (mc::GET_BY_VALUE_REL_RANK_RANGE, true),
                other => (other, false),
            };
            let return_type = a.int(0)?;
            let selector = match get_code {
                mc::GET_BY_KEY => Selector::Key(a.arg(1)?.clone()),
                mc::GET_BY_INDEX => Selector::Index(a.int(1)?),
                mc::GET_BY_RANK => Selector::Rank(a.int(1)?),
                mc::GET_BY_KEY_LIST => Selector::KeyList(a.list(1)?),
                mc::GET_BY_VALUE => Selector::Value(a.arg(1)?.clone()),
                mc::GET_BY_VALUE_LIST => Selector::ValueList(a.list(1)?),
                mc::GET_BY_KEY_INTERVAL => {
                    Selector::KeyInterval(a.arg(1)?.clone(), a.opt_arg(2).cloned())
                }
                mc::GET_BY_INDEX_RANGE => Selector::IndexRange(a.int(1)?, a.count(2)?),
                mc::GET_BY_VALUE_INTERVAL => {
                    Selector::ValueInterval(a.arg(1)?.clone(), a.opt_arg(2).cloned())
                }
                mc::GET_BY_RANK_RANGE => Selector::RankRange(a.int(1)?, a.count(2)?),
                mc::GET_BY_KEY_REL_INDEX_RANGE => {
                    Selector::KeyRelIndex(a.arg(1)?.clone(), a.int(2)?, a.count(3)?)
                }
                mc::GET_BY_VALUE_REL_RANK_RANGE => {
                    Selector::ValueRelRank(a.arg(1)?.clone(), a.int(2)?, a.count(3)?)
                }
                _ => return Err(ResultCode::PARAMETER_ERROR),
            };
            let (result, positions) = get_remove(&View::map(entries), &selector, return_type)?;
            if remove {
                remove_positions(entries, positions);
            }
            Ok(result)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aerospike_proto::operations::list::{
        self as l, ListOrder, ListPolicy, ListReturnType as LR, ListSortFlags, ListWriteFlags,
    };
    use aerospike_proto::operations::map::{
        self as m, MapOrder, MapPolicy, MapReturnType as MR, MapWriteFlags,
    };
    use aerospike_proto::operations::{CdtContext, Operation};
    use aerospike_proto::{list, map};
    use proptest::prelude::*;

    /// Applies `op` as the server would: CDT_READ or CDT_MODIFY, to a bin
    /// with order flags `order`.
    fn run_in(bin: &mut Value, order: &mut u8, op: &Operation) -> Result<Value, ResultCode> {
        if op.is_read() {
            read(&op.data, bin, *order)
        } else {
            modify(&op.data, bin, order)
        }
    }

    /// [`run_in`] on an unordered bin.
    fn run(bin: &mut Value, op: &Operation) -> Result<Value, ResultCode> {
        run_in(bin, &mut 0, op)
    }

    /// Applies `op` and checks its result and the bin afterwards.
    #[track_caller]
    fn check(start: Value, op: Operation, result: Value, after: Value) {
        check_in(0, start, op, result, after);
    }

    /// [`check`] on a bin with order flags `order`.
    #[track_caller]
    fn check_in(order: u8, start: Value, op: Operation, result: Value, after: Value) {
        // As the server stores it: every map key-ordered.
        let (mut bin, mut after) = (start, after);
        key_order(&mut bin, false).unwrap();
        key_order(&mut after, false).unwrap();
        let mut order = order;
        assert_eq!(
            run_in(&mut bin, &mut order, &op),
            Ok(result),
            "result of {op:?}"
        );
        assert_eq!(bin, after, "bin after {op:?}");
    }

    /// Applies `op` and checks its result; the bin must not change.
    #[track_caller]
    fn check_unchanged(start: &Value, op: Operation, result: Value) {
        check(start.clone(), op, result, start.clone());
    }

    /// Applies `op`, expects `code` and an unchanged bin.
    #[track_caller]
    fn check_err(start: Value, op: Operation, code: ResultCode) {
        let mut bin = start.clone();
        assert_eq!(run(&mut bin, &op), Err(code), "{op:?}");
        assert_eq!(bin, start, "bin must not change on error");
    }

    fn ints(v: &[i64]) -> Value {
        Value::List(v.iter().map(|&i| Value::Int(i)).collect())
    }

    fn ordered() -> ListPolicy {
        ListPolicy::new(ListOrder::Ordered, ListWriteFlags::DEFAULT)
    }

    // ---- lists: writes ----

    #[test]
    fn list_append_and_items() {
        check(Value::Nil, l::append("l", 1), Value::Int(1), list![1]);
        check(list![1], l::append("l", "a"), Value::Int(2), list![1, "a"]);
        check(
            list![1],
            l::append_items("l", vec![Value::from(2), Value::from(3)]),
            Value::Int(3),
            ints(&[1, 2, 3]),
        );
        check_in(
            1,
            ints(&[1, 3]),
            l::append_with_policy(&ordered(), "l", 2),
            Value::Int(3),
            ints(&[1, 2, 3]),
        );
        check_in(
            1,
            ints(&[1, 5]),
            l::append_items_with_policy(&ordered(), "l", vec![Value::from(9), Value::from(0)]),
            Value::Int(4),
            ints(&[0, 1, 5, 9]),
        );
    }

    #[test]
    fn order_argument_on_an_existing_container_is_ignored() {
        // The order argument only applies when the write creates the bin.
        check(
            ints(&[1, 3]),
            l::append_with_policy(&ordered(), "l", 2),
            Value::Int(3),
            ints(&[1, 3, 2]),
        );
        check(
            ints(&[3, 1]),
            l::append_with_policy(&ordered(), "l", 2),
            Value::Int(3),
            ints(&[3, 1, 2]),
        );
        let ko = MapPolicy::new(MapOrder::KeyOrdered, MapWriteFlags::DEFAULT);
        check(
            map! {"c" => 1, "a" => 1},
            m::put(&ko, "m", "b", 2),
            Value::Int(3),
            map! {"c" => 1, "a" => 1, "b" => 2},
        );
        check(
            map! {"a" => 1, "c" => 1},
            m::increment(&ko, "m", "b", 2),
            Value::Int(2),
            map! {"a" => 1, "c" => 1, "b" => 2},
        );
    }

    #[test]
    fn containers_remember_the_order_they_were_created_with() {
        // Created ordered: later writes without an order argument keep order.
        let (mut bin, mut order) = (Value::Nil, 0);
        run_in(
            &mut bin,
            &mut order,
            &l::append_with_policy(&ordered(), "l", 5),
        )
        .unwrap();
        assert_eq!(order, 1);
        run_in(&mut bin, &mut order, &l::append("l", 1)).unwrap();
        run_in(
            &mut bin,
            &mut order,
            &l::append_items("l", vec![Value::from(9), Value::from(3)]),
        )
        .unwrap();
        assert_eq!(bin, ints(&[1, 3, 5, 9]));
        // Created unordered: an order argument later does not reorder.
        let (mut bin, mut order) = (Value::Nil, 0);
        run_in(&mut bin, &mut order, &l::append("l", 5)).unwrap();
        run_in(
            &mut bin,
            &mut order,
            &l::append_with_policy(&ordered(), "l", 1),
        )
        .unwrap();
        assert_eq!((bin, order), (ints(&[5, 1]), 0));
        // Maps: key-ordered and key/value-ordered flags, default-policy puts.
        for (map_order, flags) in [(MapOrder::KeyOrdered, 1), (MapOrder::KeyValueOrdered, 3)] {
            let p = MapPolicy::new(map_order, MapWriteFlags::DEFAULT);
            let (mut bin, mut order) = (Value::Nil, 0);
            run_in(&mut bin, &mut order, &m::put(&p, "m", "m", 1)).unwrap();
            assert_eq!(order, flags);
            for k in ["z", "a"] {
                run_in(
                    &mut bin,
                    &mut order,
                    &m::put(&MapPolicy::default(), "m", k, 2),
                )
                .unwrap();
            }
            assert_eq!(bin, map! {"a" => 2, "m" => 1, "z" => 2});
        }
        // Setting the order sorts and sets the flags; unsetting keeps the
        // elements where they are.
        let (mut bin, mut order) = (ints(&[3, 1, 2]), 0);
        run_in(&mut bin, &mut order, &l::set_order("l", ListOrder::Ordered)).unwrap();
        assert_eq!((&bin, order), (&ints(&[1, 2, 3]), 1));
        run_in(
            &mut bin,
            &mut order,
            &l::set_order("l", ListOrder::Unordered),
        )
        .unwrap();
        run_in(&mut bin, &mut order, &l::append("l", 0)).unwrap();
        assert_eq!((bin, order), (ints(&[1, 2, 3, 0]), 0));
        // Writes at an index are refused on an ordered list; a descending
        // sort keeps it ascending.
        let mut order = 1;
        let mut bin = ints(&[1, 2]);
        for op in [l::insert("l", 0, 5), l::set("l", 0, 5)] {
            assert_eq!(
                run_in(&mut bin, &mut order, &op),
                Err(ResultCode::OP_NOT_APPLICABLE)
            );
        }
        run_in(
            &mut bin,
            &mut order,
            &l::sort("l", ListSortFlags::DESCENDING),
        )
        .unwrap();
        assert_eq!(bin, ints(&[1, 2]));
        // A failed write leaves the flags alone.
        let mut order = 0;
        let mut bin = Value::from("text");
        assert!(run_in(
            &mut bin,
            &mut order,
            &l::append_with_policy(&ordered(), "l", 1)
        )
        .is_err());
        assert_eq!(order, 0);
    }

    #[test]
    fn list_write_flags() {
        let unique = |f| ListPolicy::new(ListOrder::Unordered, ListWriteFlags::ADD_UNIQUE | f);
        check_err(
            ints(&[1, 2]),
            l::append_with_policy(&unique(ListWriteFlags::DEFAULT), "l", 2),
            ResultCode::ELEMENT_EXISTS,
        );
        check(
            ints(&[1, 2]),
            l::append_with_policy(&unique(ListWriteFlags::NO_FAIL), "l", 2),
            Value::Int(2),
            ints(&[1, 2]),
        );
        let items = vec![Value::from(2), Value::from(3), Value::from(3)];
        check(
            ints(&[1, 2]),
            l::append_items_with_policy(&unique(ListWriteFlags::NO_FAIL), "l", items.clone()),
            Value::Int(2),
            ints(&[1, 2]),
        );
        check(
            ints(&[1, 2]),
            l::append_items_with_policy(
                &unique(ListWriteFlags::NO_FAIL | ListWriteFlags::PARTIAL),
                "l",
                items,
            ),
            Value::Int(3),
            ints(&[1, 2, 3]),
        );
        let bounded = ListPolicy::new(ListOrder::Unordered, ListWriteFlags::INSERT_BOUNDED);
        check_err(
            ints(&[1]),
            l::insert_with_policy(&bounded, "l", 3, 9),
            ResultCode::OP_NOT_APPLICABLE,
        );
        check(
            ints(&[1]),
            l::insert_with_policy(&bounded, "l", 1, 9),
            Value::Int(2),
            ints(&[1, 9]),
        );
    }

    #[test]
    fn list_insert_set_increment() {
        check(
            list!["a", "b"],
            l::insert("l", 1, "x"),
            Value::Int(3),
            list!["a", "x", "b"],
        );
        check(
            list!["a", "b"],
            l::insert("l", -1, "x"),
            Value::Int(3),
            list!["a", "x", "b"],
        );
        check(
            list!["a"],
            l::insert("l", 3, "x"),
            Value::Int(4),
            list!["a", Value::Nil, Value::Nil, "x"],
        );
        // Padding that no record could hold is refused before it is built.
        check_err(
            list![],
            l::insert("l", i64::MAX, 1),
            ResultCode::RECORD_TOO_BIG,
        );
        check_err(list![], l::set("l", 1 << 40, 1), ResultCode::RECORD_TOO_BIG);
        check_err(
            list![],
            l::increment("l", 1 << 40, 1),
            ResultCode::RECORD_TOO_BIG,
        );
        check_err(
            list![],
            l::append("l", 1).with_context(&[CdtContext::list_index_create(
                i64::MAX,
                ListOrder::Unordered,
                true,
            )]),
            ResultCode::RECORD_TOO_BIG,
        );
        check_err(
            list!["a"],
            l::insert("l", -3, "x"),
            ResultCode::OP_NOT_APPLICABLE,
        );
        check(
            list!["a"],
            l::insert_items("l", 0, vec![Value::from(1), Value::from(2)]),
            Value::Int(3),
            list![1, 2, "a"],
        );
        check(list![1, 2], l::set("l", 1, "z"), Value::Nil, list![1, "z"]);
        check(
            list![1],
            l::set("l", 2, "z"),
            Value::Nil,
            list![1, Value::Nil, "z"],
        );
        check(
            list![1, 2.5],
            l::increment("l", 0, 5),
            Value::Int(6),
            list![6, 2.5],
        );
        check(
            list![1, 2.5],
            l::increment("l", 1, 1),
            Value::Float(3.5),
            list![1, 3.5],
        );
        check(
            list![1, 2.5],
            l::increment("l", 0, 2.9),
            Value::Int(3),
            list![3, 2.5],
        );
        check(
            list![1],
            l::increment("l", 1, 4),
            Value::Int(4),
            list![1, 4],
        );
        check_err(
            list!["s"],
            l::increment("l", 0, 1),
            ResultCode::PARAMETER_ERROR,
        );
        check_err(
            list![1],
            l::increment("l", 0, "x"),
            ResultCode::PARAMETER_ERROR,
        );
    }

    #[test]
    fn list_clear_sort_order_trim_pop() {
        check(ints(&[1, 2]), l::clear("l"), Value::Nil, list![]);
        check(list![], l::size("l"), Value::Int(0), list![]);
        check(
            ints(&[3, 1, 2, 1]),
            l::sort(
                "l",
                ListSortFlags::DESCENDING | ListSortFlags::DROP_DUPLICATES,
            ),
            Value::Nil,
            ints(&[3, 2, 1]),
        );
        check(
            ints(&[3, 1, 2]),
            l::sort("l", ListSortFlags::DEFAULT),
            Value::Nil,
            ints(&[1, 2, 3]),
        );
        check(
            ints(&[3, 1, 2]),
            l::set_order("l", ListOrder::Ordered),
            Value::Nil,
            ints(&[1, 2, 3]),
        );
        check(
            ints(&[1, 2, 3, 4, 5]),
            l::trim("l", 1, 2),
            Value::Int(3),
            ints(&[2, 3]),
        );
        check(ints(&[1, 2, 3]), l::trim("l", 5, 2), Value::Int(3), list![]);
        check(
            ints(&[1, 2, 3]),
            l::pop("l", -1),
            Value::Int(3),
            ints(&[1, 2]),
        );
        check_err(ints(&[1]), l::pop("l", 1), ResultCode::OP_NOT_APPLICABLE);
        check(
            ints(&[1, 2, 3]),
            l::pop_range("l", 1, 5),
            ints(&[2, 3]),
            ints(&[1]),
        );
        check(
            ints(&[1, 2, 3]),
            l::pop_range_from("l", -2),
            ints(&[2, 3]),
            ints(&[1]),
        );
        check(
            ints(&[1, 2, 3]),
            l::remove("l", 0),
            Value::Int(1),
            ints(&[2, 3]),
        );
        check(
            ints(&[1, 2, 3]),
            l::remove_range("l", 0, 2),
            Value::Int(2),
            ints(&[3]),
        );
        check(
            ints(&[1, 2, 3]),
            l::get("l", 1),
            Value::Int(2),
            ints(&[1, 2, 3]),
        );
        check(
            ints(&[1, 2, 3]),
            l::get_range("l", -2, 9),
            ints(&[2, 3]),
            ints(&[1, 2, 3]),
        );
    }

    // ---- lists: selections ----

    #[test]
    fn list_by_index() {
        let b = list!["a", "b", "c"];
        check_unchanged(&b, l::get_by_index("l", -1, LR::VALUE), Value::from("c"));
        check_unchanged(&b, l::get_by_index("l", 0, LR::INDEX), Value::Int(0));
        check_unchanged(
            &b,
            l::get_by_index("l", 0, LR::REVERSE_INDEX),
            Value::Int(2),
        );
        check_unchanged(&b, l::get_by_index("l", 1, LR::COUNT), Value::Int(1));
        check_unchanged(&b, l::get_by_index("l", 1, LR::EXISTS), Value::Bool(true));
        check_unchanged(&b, l::get_by_index("l", 1, LR::NONE), Value::Nil);
        check_err(
            b.clone(),
            l::get_by_index("l", 3, LR::VALUE),
            ResultCode::OP_NOT_APPLICABLE,
        );
        check_err(
            b.clone(),
            l::get_by_index("l", -4, LR::VALUE),
            ResultCode::OP_NOT_APPLICABLE,
        );
        check_err(
            b.clone(),
            l::get_by_index("l", 0, LR::VALUE.inverted()),
            ResultCode::OP_NOT_APPLICABLE,
        );
        check(
            b.clone(),
            l::remove_by_index("l", 1, LR::VALUE),
            Value::from("b"),
            list!["a", "c"],
        );
        check_unchanged(
            &b,
            l::get_by_index_range("l", -5, 4, LR::VALUE),
            list!["a", "b"],
        );
        check_unchanged(&b, l::get_by_index_range("l", 5, 4, LR::VALUE), list![]);
        check_unchanged(
            &b,
            l::get_by_index_range_from("l", 1, LR::INDEX),
            ints(&[1, 2]),
        );
        check_unchanged(
            &b,
            l::get_by_index_range("l", 0, 1, LR::VALUE.inverted()),
            list!["b", "c"],
        );
        check(
            b.clone(),
            l::remove_by_index_range("l", 0, 2, LR::COUNT),
            Value::Int(2),
            list!["c"],
        );
        check(
            b.clone(),
            l::remove_by_index_range_from("l", 1, LR::COUNT.inverted()),
            Value::Int(1),
            list!["b", "c"],
        );
    }

    #[test]
    fn list_by_value_and_rank() {
        let b = ints(&[5, 1, 5, 3]);
        check_unchanged(&b, l::get_by_value("l", 5, LR::INDEX), ints(&[0, 2]));
        check_unchanged(&b, l::get_by_value("l", 7, LR::EXISTS), Value::Bool(false));
        check(
            b.clone(),
            l::remove_by_value("l", 5, LR::COUNT),
            Value::Int(2),
            ints(&[1, 3]),
        );
        check_unchanged(
            &b,
            l::get_by_value_list("l", vec![Value::from(1), Value::from(3)], LR::VALUE),
            ints(&[1, 3]),
        );
        check(
            b.clone(),
            l::remove_by_value_list("l", vec![Value::from(5)], LR::NONE),
            Value::Nil,
            ints(&[1, 3]),
        );
        check_unchanged(&b, l::get_by_value_range("l", 2, 5, LR::VALUE), ints(&[3]));
        check_unchanged(
            &b,
            l::get_by_value_range("l", 3, Value::Nil, LR::VALUE),
            ints(&[5, 5, 3]),
        );
        check(
            b.clone(),
            l::remove_by_value_range("l", Value::Nil, 4, LR::COUNT),
            Value::Int(2),
            ints(&[5, 5]),
        );
        check_unchanged(&b, l::get_by_rank("l", 0, LR::VALUE), Value::Int(1));
        // The server's heap (`cdt.c` order_heap) finds the highest rank of
        // [5, 1, 5, 3] at index 0: equal values are not taken in index order.
        check_unchanged(&b, l::get_by_rank("l", -1, LR::INDEX), Value::Int(0));
        check_unchanged(&b, l::get_by_rank("l", 1, LR::RANK), Value::Int(1));
        check_unchanged(&b, l::get_by_rank("l", 1, LR::REVERSE_RANK), Value::Int(2));
        check_err(
            b.clone(),
            l::get_by_rank("l", 4, LR::VALUE),
            ResultCode::OP_NOT_APPLICABLE,
        );
        check_unchanged(
            &b,
            l::get_by_rank_range("l", 0, 2, LR::VALUE),
            // The heap's order (see below): descending from a min-heap.
            ints(&[3, 1]),
        );
        check_unchanged(
            &b,
            l::get_by_rank_range("l", 0, 2, LR::INDEX),
            ints(&[1, 3]),
        );
        check_unchanged(
            &b,
            l::get_by_rank_range_from("l", -2, LR::VALUE),
            ints(&[5, 5]),
        );
        check(
            b.clone(),
            l::remove_by_rank("l", 0, LR::VALUE),
            Value::Int(1),
            ints(&[5, 5, 3]),
        );
        check(
            b.clone(),
            l::remove_by_rank_range("l", 0, 1, LR::VALUE.inverted()),
            ints(&[5, 5, 3]),
            ints(&[1]),
        );
        check(
            b.clone(),
            l::remove_by_rank_range_from("l", 2, LR::RANK),
            ints(&[2, 3]),
            ints(&[1, 3]),
        );
    }

    #[test]
    fn list_relative_rank_examples_from_the_client_docs() {
        // aerospike-client-java ListOperation.getByValueRelativeRankRange
        // javadoc, on an ordered list (results in rank order).
        let b = ints(&[0, 4, 5, 9, 11, 15]);
        for (value, rank, want) in [
            (5, 0, vec![5, 9, 11, 15]),
            (5, 1, vec![9, 11, 15]),
            (5, -1, vec![4, 5, 9, 11, 15]),
            (3, 0, vec![4, 5, 9, 11, 15]),
            (3, 3, vec![11, 15]),
            (3, -3, vec![0, 4, 5, 9, 11, 15]),
        ] {
            let op = l::get_by_value_relative_rank_range("l", value, rank, LR::VALUE);
            check_in(1, b.clone(), op, ints(&want), b.clone());
        }
        for (value, rank, count, want) in [
            (5, 0, 2, vec![5, 9]),
            (5, 1, 1, vec![9]),
            (5, -1, 2, vec![4, 5]),
            (3, 0, 1, vec![4]),
            (3, 3, 7, vec![11, 15]),
            (3, -3, 2, vec![]),
        ] {
            let op = l::get_by_value_relative_rank_range_count("l", value, rank, count, LR::VALUE);
            check_in(1, b.clone(), op, ints(&want), b.clone());
        }
        check(
            b.clone(),
            l::remove_by_value_relative_rank_range_count("l", 5, 0, 2, LR::COUNT),
            Value::Int(2),
            ints(&[0, 4, 11, 15]),
        );
        check(
            b.clone(),
            l::remove_by_value_relative_rank_range("l", 11, 0, LR::NONE),
            Value::Nil,
            ints(&[0, 4, 5, 9]),
        );
    }

    #[test]
    fn unordered_list_rank_ranges_come_back_in_the_servers_heap_order() {
        // cdt-single.txt (a real 8.1.2.0 server): [1, 2, 3] unordered,
        // value 2, relative rank -1, count 2 answers [2, 1]; without a
        // count, [2, 3]; rank range from -2, [2, 3].
        let b = ints(&[1, 2, 3]);
        let rel = l::get_by_value_relative_rank_range_count("l", 2, -1, 2, LR::VALUE);
        check_unchanged(&b, rel, ints(&[2, 1]));
        let rel = l::get_by_value_relative_rank_range("l", 2, 0, LR::VALUE);
        check_unchanged(&b, rel, ints(&[2, 3]));
        check_unchanged(
            &b,
            l::get_by_rank_range_from("l", -2, LR::VALUE),
            ints(&[2, 3]),
        );
        // A range nearer the low end is popped from a min-heap: descending.
        let b = ints(&[0, 4, 5, 9, 11, 15]);
        let rel = l::get_by_value_relative_rank_range_count("l", 5, 0, 2, LR::VALUE);
        check_unchanged(&b, rel.clone(), ints(&[9, 5]));
        // Indexes come back in index order, ranks as a range.
        let idx = l::get_by_value_relative_rank_range_count("l", 5, 0, 2, LR::INDEX);
        check_unchanged(&b, idx, ints(&[2, 3]));
        let rank = l::get_by_value_relative_rank_range_count("l", 5, 0, 2, LR::RANK);
        check_unchanged(&b, rank, ints(&[2, 3]));
        // An ordered list answers in rank order.
        check_in(1, b.clone(), rel, ints(&[5, 9]), b.clone());
    }

    #[test]
    fn cross_type_order() {
        let mixed = list![
            1.5,
            "a",
            2,
            Value::Nil,
            true,
            list![1],
            map! {"k" => 1},
            vec![7u8],
            -3,
            false,
            Value::GeoJson("{}".into())
        ];
        let sorted = list![
            Value::Nil,
            false,
            true,
            -3,
            2,
            "a",
            list![1],
            map! {"k" => 1},
            vec![7u8],
            1.5,
            Value::GeoJson("{}".into())
        ];
        check(
            mixed,
            l::sort("l", ListSortFlags::DEFAULT),
            Value::Nil,
            sorted,
        );
        // Lists compare element by element, then by length; maps by size first.
        assert_eq!(compare(&list![1, 2], &list![1, 2, 0]), Ordering::Less);
        assert_eq!(compare(&list![2], &list![1, 9]), Ordering::Greater);
        assert_eq!(
            compare(&map! {"z" => 1}, &map! {"a" => 1, "b" => 2}),
            Ordering::Less
        );
        assert_eq!(
            compare(&Value::from("ab"), &Value::from("b")),
            Ordering::Less
        );
        assert_eq!(
            compare(&Value::Int(i64::MAX), &Value::Float(-1.0)),
            Ordering::Less
        );
    }

    #[test]
    fn wrong_types_and_bad_requests() {
        check_err(Value::Int(1), l::append("l", 1), ResultCode::BIN_TYPE_ERROR);
        check_err(list![1], m::size("m"), ResultCode::BIN_TYPE_ERROR);
        check_err(map! {"a" => 1}, l::size("l"), ResultCode::BIN_TYPE_ERROR);
        let mut bin = list![1];
        // get_by_index with an unknown return type (99).
        assert_eq!(
            read(&[0x93, 0x13, 0x63, 0x00], &bin, 0),
            Err(ResultCode::OP_NOT_APPLICABLE)
        );
        // A read op code sent as CDT_MODIFY, an unknown op code, trailing bytes.
        assert_eq!(
            modify(&[0x91, 0x10], &mut bin, &mut 0),
            Err(ResultCode::PARAMETER_ERROR)
        );
        assert_eq!(
            modify(&[0x91, 0x3f], &mut bin, &mut 0),
            Err(ResultCode::PARAMETER_ERROR)
        );
        assert_eq!(
            read(&[0x91, 0x10, 0x00], &bin, 0),
            Err(ResultCode::PARAMETER_ERROR)
        );
        assert_eq!(read(&[0x91, 0x10], &bin, 0), Ok(Value::Int(1)));
        // A missing bin reads as nil; non-creating writes leave it missing.
        assert_eq!(read(&l::size("l").data, &Value::Nil, 0), Ok(Value::Nil));
        check(
            Value::Nil,
            l::remove_by_value("l", 1, LR::COUNT),
            Value::Nil,
            Value::Nil,
        );
        check(Value::Nil, l::pop("l", 0), Value::Nil, Value::Nil);
        check(Value::Nil, l::clear("l"), Value::Nil, Value::Nil);
        check(
            Value::Nil,
            m::remove_by_key("m", "k", MR::VALUE),
            Value::Nil,
            Value::Nil,
        );
        check_err(
            Value::Nil,
            l::sort("l", ListSortFlags::DEFAULT),
            ResultCode::BIN_TYPE_ERROR,
        );
        check_err(
            Value::Nil,
            m::put(
                &MapPolicy::new(MapOrder::Unordered, MapWriteFlags::UPDATE_ONLY),
                "m",
                "k",
                1,
            ),
            ResultCode::ELEMENT_NOT_FOUND,
        );
    }

    #[test]
    fn nested_wildcards_and_order_headers_in_arguments() {
        let b = list![list!["a", 1], list!["b", 2], list!["a", 3, 4], list!["a"]];
        // get_by_value(["a", WILDCARD], VALUE): a wildcard ends the comparison.
        let data = [0x93, 0x16, 0x07, 0x92, 0xa2, 0x03, 0x61, 0xd4, 0xff, 0x00];
        assert_eq!(
            read(&data, &b, 0),
            Ok(list![list!["a", 1], list!["a", 3, 4]])
        );
        // get_by_value_interval(["a"], ["a", INFINITY]) with INDEX.
        let data = [
            0x94, 0x19, 0x01, 0x91, 0xa2, 0x03, 0x61, 0x92, 0xa2, 0x03, 0x61, 0xd4, 0xff, 0x01,
        ];
        assert_eq!(read(&data, &b, 0), Ok(ints(&[0, 2, 3])));
        // A wildcard cannot be stored.
        let mut bin = list![];
        let data = [0x92, 0x01, 0x92, 0x01, 0xd4, 0xff, 0x00];
        assert_eq!(
            modify(&data, &mut bin, &mut 0),
            Err(ResultCode::PARAMETER_ERROR)
        );
        // Hostile nesting is refused, not a stack overflow.
        let mut deep = vec![0x93, 0x16, 0x07];
        deep.extend(std::iter::repeat_n(0x91, 100_000));
        deep.push(0x01);
        assert_eq!(read(&deep, &b, 0), Err(ResultCode::PARAMETER_ERROR));
        let mut ctx_deep = vec![0x93, 0xcc, 0xff, 0x92, 0x13];
        ctx_deep.extend(std::iter::repeat_n(0x91, 100_000));
        assert_eq!(read(&ctx_deep, &b, 0), Err(ResultCode::PARAMETER_ERROR));
        // append_items with an ordered-list header (c7 00 01) in the items.
        let data = [0x92, 0x02, 0x93, 0xc7, 0x00, 0x01, 0x05, 0x06];
        assert_eq!(modify(&data, &mut bin, &mut 0), Ok(Value::Int(2)));
        assert_eq!(bin, ints(&[5, 6]));
    }

    #[test]
    fn wildcard_and_infinity_arguments() {
        let b = list![list!["a", 1], list!["b", 2], list!["a", 3]];
        // [4, 0x15, 7, d4 ff 01]: get_by_value_interval [ ["a"] .. INF ) -> everything >= ["a"].
        let mut data = vec![0x94, 0x19, 0x07, 0x91, 0xa2, 0x03, 0x61, 0xd4, 0xff, 0x01];
        assert_eq!(read(&data, &b, 0), Ok(b.clone()));
        // get_by_value (22) with WILDCARD matches every element.
        data = vec![0x93, 0x16, 0x05, 0xd4, 0xff, 0x00];
        assert_eq!(read(&data, &b, 0), Ok(Value::Int(3)));
    }

    // ---- maps ----

    #[test]
    fn map_put_and_flags() {
        let p = MapPolicy::default();
        check(
            Value::Nil,
            m::put(&p, "m", "k", 1),
            Value::Int(1),
            map! {"k" => 1},
        );
        check(
            map! {"k" => 1},
            m::put(&p, "m", "k", 2),
            Value::Int(1),
            map! {"k" => 2},
        );
        check(
            map! {"b" => 1},
            m::put(&p, "m", "a", 2),
            Value::Int(2),
            map! {"b" => 1, "a" => 2},
        );
        let ko = MapPolicy::new(MapOrder::KeyOrdered, MapWriteFlags::DEFAULT);
        check_in(
            1,
            map! {"b" => 1, "d" => 1},
            m::put(&ko, "m", "c", 2),
            Value::Int(3),
            map! {"b" => 1, "c" => 2, "d" => 1},
        );
        check(
            map! {"a" => 1},
            m::put_items(
                &p,
                "m",
                vec![
                    (Value::from("b"), Value::from(2)),
                    (Value::from("a"), Value::from(3)),
                ],
            ),
            Value::Int(2),
            map! {"a" => 3, "b" => 2},
        );
        let flags = |f| MapPolicy::new(MapOrder::Unordered, f);
        check_err(
            map! {"a" => 1},
            m::put(&flags(MapWriteFlags::CREATE_ONLY), "m", "a", 2),
            ResultCode::ELEMENT_EXISTS,
        );
        check_err(
            map! {"a" => 1},
            m::put(&flags(MapWriteFlags::UPDATE_ONLY), "m", "b", 2),
            ResultCode::ELEMENT_NOT_FOUND,
        );
        check(
            map! {"a" => 1},
            m::put(
                &flags(MapWriteFlags::CREATE_ONLY | MapWriteFlags::NO_FAIL),
                "m",
                "a",
                2,
            ),
            Value::Int(1),
            map! {"a" => 1},
        );
        let items = vec![
            (Value::from("a"), Value::from(9)),
            (Value::from("b"), Value::from(2)),
        ];
        check(
            map! {"a" => 1},
            m::put_items(
                &flags(MapWriteFlags::CREATE_ONLY | MapWriteFlags::NO_FAIL),
                "m",
                items.clone(),
            ),
            Value::Int(1),
            map! {"a" => 1},
        );
        check(
            map! {"a" => 1},
            m::put_items(
                &flags(
                    MapWriteFlags::CREATE_ONLY | MapWriteFlags::NO_FAIL | MapWriteFlags::PARTIAL,
                ),
                "m",
                items,
            ),
            Value::Int(2),
            map! {"a" => 1, "b" => 2},
        );
        check(
            map! {"b" => 1, "a" => 2},
            m::set_policy(&ko, "m"),
            Value::Nil,
            map! {"a" => 2, "b" => 1},
        );
    }

    #[test]
    fn map_increment_clear_size() {
        let p = MapPolicy::default();
        check(
            Value::Nil,
            m::increment(&p, "m", "c", 5),
            Value::Int(5),
            map! {"c" => 5},
        );
        check(
            map! {"c" => 5},
            m::increment(&p, "m", "c", -2),
            Value::Int(3),
            map! {"c" => 3},
        );
        check(
            map! {"c" => 1.5},
            m::increment(&p, "m", "c", 1),
            Value::Float(2.5),
            map! {"c" => 2.5},
        );
        check_err(
            map! {"c" => "x"},
            m::increment(&p, "m", "c", 1),
            ResultCode::PARAMETER_ERROR,
        );
        check(
            map! {"a" => 1},
            m::size("m"),
            Value::Int(1),
            map! {"a" => 1},
        );
        check(map! {"a" => 1}, m::clear("m"), Value::Nil, map! {});
    }

    /// Key and value matches and inverted selections come out in storage order,
    /// which is key order: an 8.x server stores every map key-ordered.
    #[test]
    fn map_by_key() {
        let b = map! {"b" => 2, "a" => 1, "c" => 3};
        check_unchanged(&b, m::get_by_key("m", "a", MR::VALUE), Value::Int(1));
        check_unchanged(&b, m::get_by_key("m", "a", MR::INDEX), Value::Int(0));
        check_unchanged(
            &b,
            m::get_by_key("m", "a", MR::REVERSE_INDEX),
            Value::Int(2),
        );
        check_unchanged(&b, m::get_by_key("m", "c", MR::RANK), Value::Int(2));
        check_unchanged(&b, m::get_by_key("m", "b", MR::KEY_VALUE), map! {"b" => 2});
        check_unchanged(&b, m::get_by_key("m", "z", MR::VALUE), Value::Nil);
        check_unchanged(&b, m::get_by_key("m", "z", MR::INDEX), Value::Int(-1));
        check_unchanged(&b, m::get_by_key("m", "z", MR::COUNT), Value::Int(0));
        check_unchanged(&b, m::get_by_key("m", "z", MR::KEY_VALUE), map! {});
        check(
            b.clone(),
            m::remove_by_key("m", "b", MR::VALUE),
            Value::Int(2),
            map! {"a" => 1, "c" => 3},
        );
        check_unchanged(&b, m::remove_by_key("m", "z", MR::VALUE), Value::Nil);
        check_unchanged(
            &b,
            m::get_by_key_list("m", vec![Value::from("c"), Value::from("a")], MR::KEY),
            list!["a", "c"],
        );
        check(
            b.clone(),
            m::remove_by_key_list("m", vec![Value::from("c")], MR::KEY.inverted()),
            list!["a", "b"],
            map! {"c" => 3},
        );
        check_unchanged(
            &b,
            m::get_by_key_range("m", "b", Value::Nil, MR::KEY_VALUE),
            map! {"b" => 2, "c" => 3},
        );
        check(
            b.clone(),
            m::remove_by_key_range("m", Value::Nil, "b", MR::COUNT),
            Value::Int(1),
            map! {"b" => 2, "c" => 3},
        );
    }

    #[test]
    fn map_by_index_and_rank() {
        // Index is key order, also for an unordered map.
        let b = map! {"c" => 1, "a" => 3, "b" => 2};
        check_unchanged(&b, m::get_by_index("m", 0, MR::KEY), Value::from("a"));
        check_unchanged(&b, m::get_by_index("m", -1, MR::VALUE), Value::Int(1));
        check_err(
            b.clone(),
            m::get_by_index("m", 3, MR::VALUE),
            ResultCode::OP_NOT_APPLICABLE,
        );
        check_unchanged(
            &b,
            m::get_by_index_range("m", 1, 5, MR::KEY_VALUE),
            map! {"b" => 2, "c" => 1},
        );
        check_unchanged(&b, m::get_by_index_range_from("m", -1, MR::KEY), list!["c"]);
        check(
            b.clone(),
            m::remove_by_index("m", 0, MR::KEY),
            Value::from("a"),
            map! {"c" => 1, "b" => 2},
        );
        check(
            b.clone(),
            m::remove_by_index_range("m", 0, 2, MR::COUNT),
            Value::Int(2),
            map! {"c" => 1},
        );
        check_unchanged(&b, m::get_by_rank("m", 0, MR::KEY), Value::from("c"));
        check_unchanged(&b, m::get_by_rank("m", -1, MR::INDEX), Value::Int(0));
        check_unchanged(
            &b,
            m::get_by_rank_range("m", 0, 2, MR::KEY),
            list!["c", "b"],
        );
        check_unchanged(
            &b,
            m::get_by_rank_range("m", 0, 2, MR::ORDERED_MAP),
            map! {"b" => 2, "c" => 1},
        );
        check_unchanged(&b, m::get_by_rank_range_from("m", 2, MR::VALUE), list![3]);
        check(
            b.clone(),
            m::remove_by_rank("m", 0, MR::NONE),
            Value::Nil,
            map! {"a" => 3, "b" => 2},
        );
        check(
            b.clone(),
            // The excluded ranks start at 0: the server reduces this to the
            // rank range 1.. and answers in rank order (checked on 8.1.2).
            m::remove_by_rank_range("m", 0, 1, MR::KEY.inverted()),
            list!["b", "a"],
            map! {"c" => 1},
        );
        check(
            b.clone(),
            m::remove_by_rank_range_from("m", 1, MR::EXISTS),
            Value::Bool(true),
            map! {"c" => 1},
        );
    }

    #[test]
    fn map_by_value() {
        let b = map! {"a" => 1, "b" => 2, "c" => 1};
        check_unchanged(&b, m::get_by_value("m", 1, MR::KEY), list!["a", "c"]);
        check(
            b.clone(),
            m::remove_by_value("m", 1, MR::COUNT),
            Value::Int(2),
            map! {"b" => 2},
        );
        check_unchanged(
            &b,
            m::get_by_value_list("m", vec![Value::from(2)], MR::KEY),
            list!["b"],
        );
        check(
            b.clone(),
            m::remove_by_value_list("m", vec![Value::from(2), Value::from(9)], MR::KEY_VALUE),
            map! {"b" => 2},
            map! {"a" => 1, "c" => 1},
        );
        check_unchanged(&b, m::get_by_value_range("m", 2, 3, MR::KEY), list!["b"]);
        check(
            b.clone(),
            m::remove_by_value_range("m", 0, 2, MR::REVERSE_INDEX),
            ints(&[2, 0]),
            map! {"b" => 2},
        );
    }

    #[test]
    fn map_relative_examples_from_the_client_docs() {
        // aerospike-client-java MapOperation.removeByKeyRelativeIndexRange javadoc:
        // map [{0=17},{4=2},{5=15},{9=10}].
        let b = Value::Map(
            [(0, 17), (4, 2), (5, 15), (9, 10)]
                .iter()
                .map(|&(k, v)| (Value::Int(k), Value::Int(v)))
                .collect(),
        );
        let keys = |k: &[i64]| ints(k);
        for (key, index, want) in [
            (5, 0, vec![5, 9]),
            (5, 1, vec![9]),
            (5, -1, vec![4, 5, 9]),
            (3, 2, vec![9]),
            (3, -2, vec![0, 4, 5, 9]),
        ] {
            let op = m::get_by_key_relative_index_range("m", key, index, MR::KEY);
            check_unchanged(&b, op, keys(&want));
        }
        for (key, index, count, want) in [
            (5, 0, 1, vec![5]),
            (5, 1, 2, vec![9]),
            (5, -1, 1, vec![4]),
            (3, 2, 1, vec![9]),
            (3, -2, 2, vec![0]),
        ] {
            let op = m::get_by_key_relative_index_range_count("m", key, index, count, MR::KEY);
            check_unchanged(&b, op, keys(&want));
        }
        // removeByValueRelativeRankRange javadoc: (11,1) = [{0=17}], (11,-1) = [{9=10},{5=15},{0=17}].
        check_unchanged(
            &b,
            m::get_by_value_relative_rank_range("m", 11, 1, MR::KEY),
            keys(&[0]),
        );
        check_unchanged(
            &b,
            m::get_by_value_relative_rank_range("m", 11, -1, MR::KEY),
            keys(&[9, 5, 0]),
        );
        check(
            b.clone(),
            m::remove_by_value_relative_rank_range_count("m", 11, -1, 1, MR::VALUE),
            ints(&[10]),
            Value::Map(
                [(0, 17), (4, 2), (5, 15)]
                    .iter()
                    .map(|&(k, v)| (Value::Int(k), Value::Int(v)))
                    .collect(),
            ),
        );
        check(
            b.clone(),
            m::remove_by_key_relative_index_range("m", 5, 0, MR::COUNT),
            Value::Int(2),
            Value::Map(vec![
                (Value::Int(0), Value::Int(17)),
                (Value::Int(4), Value::Int(2)),
            ]),
        );
    }

    // ---- contexts ----

    #[test]
    fn contexts_reach_nested_containers() {
        // aerospike-client-java ListOperation javadoc examples.
        let b = list![ints(&[7, 9, 5]), ints(&[1, 2, 3]), ints(&[6, 5, 4, 1])];
        check(
            b,
            l::append("l", 11).with_context(&[CdtContext::list_index(-1)]),
            Value::Int(5),
            list![ints(&[7, 9, 5]), ints(&[1, 2, 3]), ints(&[6, 5, 4, 1, 11])],
        );
        let b = map! {
            "key1" => list![ints(&[7, 9, 5]), ints(&[13])],
            "key2" => list![ints(&[9]), ints(&[2, 4]), ints(&[6, 1, 9])],
            "key3" => list![ints(&[6, 5])],
        };
        let after = map! {
            "key1" => list![ints(&[7, 9, 5]), ints(&[13])],
            "key2" => list![ints(&[9]), ints(&[2, 4, 11]), ints(&[6, 1, 9])],
            "key3" => list![ints(&[6, 5])],
        };
        let ctx = [CdtContext::map_key("key2"), CdtContext::list_rank(0)];
        check(
            b.clone(),
            l::append("l", 11).with_context(&ctx),
            Value::Int(3),
            after,
        );
        check_unchanged(
            &b,
            l::size("l").with_context(&[CdtContext::map_key("key1")]),
            Value::Int(2),
        );
        // The entry at map index 0 holds a list, not a map.
        check_err(
            b,
            m::size("m").with_context(&[CdtContext::map_index(0)]),
            ResultCode::BIN_TYPE_ERROR,
        );
    }

    #[test]
    fn context_lookups_and_creation() {
        let b = map! {"a" => map! {"x" => 1}, "b" => list![1, 2]};
        check_unchanged(
            &b,
            m::get_by_key("m", "x", MR::VALUE)
                .with_context(&[CdtContext::map_value(map! {"x" => 1})]),
            Value::Int(1),
        );
        check_unchanged(
            &b,
            l::get_by_index("l", 0, LR::VALUE).with_context(&[CdtContext::map_rank(0)]),
            Value::Int(1),
        );
        check(
            list![list![3], list![1]],
            l::size("l").with_context(&[CdtContext::list_value(list![1])]),
            Value::Int(1),
            list![list![3], list![1]],
        );
        check_err(
            b.clone(),
            m::size("m").with_context(&[CdtContext::map_key("zz")]),
            ResultCode::OP_NOT_APPLICABLE,
        );
        // A list operation on a map found by the context.
        check_err(
            b.clone(),
            l::size("l").with_context(&[CdtContext::map_key("a")]),
            ResultCode::BIN_TYPE_ERROR,
        );
        // A list context on a map, a context below a scalar, a context on a
        // scalar bin, a context into a missing bin without a create flag.
        check_err(
            b.clone(),
            l::size("l").with_context(&[CdtContext::list_index(0)]),
            ResultCode::OP_NOT_APPLICABLE,
        );
        check_err(
            b.clone(),
            m::size("m").with_context(&[
                CdtContext::map_key("a"),
                CdtContext::map_key("x"),
                CdtContext::map_key("y"),
            ]),
            ResultCode::OP_NOT_APPLICABLE,
        );
        check_err(
            Value::Int(3),
            m::size("m").with_context(&[CdtContext::map_key("a")]),
            ResultCode::PARAMETER_ERROR,
        );
        check_err(
            Value::Nil,
            m::put(&MapPolicy::default(), "m", "k", 1).with_context(&[CdtContext::map_key("a")]),
            ResultCode::OP_NOT_APPLICABLE,
        );
        check(
            b.clone(),
            m::put(&MapPolicy::default(), "m", "k", 1)
                .with_context(&[CdtContext::map_key_create("new", MapOrder::KeyOrdered)]),
            Value::Int(1),
            map! {"a" => map! {"x" => 1}, "b" => list![1, 2], "new" => map! {"k" => 1}},
        );
        check(
            Value::Nil,
            l::append("l", 7).with_context(&[CdtContext::list_index_create(
                2,
                ListOrder::Unordered,
                true,
            )]),
            Value::Int(1),
            list![Value::Nil, Value::Nil, list![7]],
        );
        check_err(
            list![],
            l::append("l", 7).with_context(&[CdtContext::list_index_create(
                2,
                ListOrder::Unordered,
                false,
            )]),
            ResultCode::OP_NOT_APPLICABLE,
        );
    }

    #[test]
    fn created_containers_take_the_kind_the_next_step_needs() {
        // ListOperation.create / MapOperation.create.
        check(
            map! {},
            l::create(
                "m",
                ListOrder::Ordered,
                false,
                &[CdtContext::map_key("scores")],
            ),
            Value::Nil,
            map! {"scores" => list![]},
        );
        check(
            Value::Nil,
            l::create(
                "m",
                ListOrder::Unordered,
                false,
                &[CdtContext::map_key("s")],
            ),
            Value::Nil,
            map! {"s" => list![]},
        );
        check(
            list![],
            m::create("l", MapOrder::KeyOrdered, &[CdtContext::list_index(0)]),
            Value::Nil,
            list![map! {}],
        );
        // A list created under a map key because the operation is a list append.
        check(
            map! {},
            l::append("m", 7).with_context(&[CdtContext::map_key_create("a", MapOrder::Unordered)]),
            Value::Int(1),
            map! {"a" => list![7]},
        );
        // Two levels created at once: a map under "a", then a list under "b".
        check(
            map! {},
            l::append("m", 7).with_context(&[
                CdtContext::map_key_create("a", MapOrder::Unordered),
                CdtContext::map_key_create("b", MapOrder::Unordered),
            ]),
            Value::Int(1),
            map! {"a" => map! {"b" => list![7]}},
        );
        check_err(
            list![list![1]],
            m::create("l", MapOrder::KeyOrdered, &[CdtContext::list_index(0)]),
            ResultCode::BIN_TYPE_ERROR,
        );
    }

    // ---- properties ----

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Nil),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::Int),
            "[a-z]{0,4}".prop_map(Value::String),
            proptest::collection::vec(any::<u8>(), 0..4).prop_map(Value::Blob),
            (-1e6f64..1e6).prop_map(Value::Float),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(2, 12, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
                proptest::collection::vec((scalar(), inner), 0..3).prop_map(Value::Map),
            ]
        })
    }

    /// One header of packed msgpack, as aerospike-server `msgpack_cmp_parse`
    /// classifies it: (type rank, integer, float, bytes, container length).
    fn flat_parse<'a>(b: &mut &'a [u8]) -> (u8, i64, f64, &'a [u8], usize) {
        let take = |b: &mut &'a [u8], n: usize| {
            let (h, t) = b.split_at(n);
            *b = t;
            h
        };
        let be = |s: &[u8]| s.iter().fold(0u64, |a, x| (a << 8) | u64::from(*x));
        let m = take(b, 1)[0];
        let raw = |b: &mut &'a [u8], n: usize| {
            let d = take(b, n);
            let t = match d.first() {
                _ if d.is_empty() => 9,
                Some(3) => 6,
                Some(23) => 11,
                _ => 9,
            };
            (t, 0, 0.0, d, 0)
        };
        let int = |i: i64| (if i < 0 { 4 } else { 5 }, i, 0.0, &[][..], 0);
        match m {
            0xc0 => (1, 0, 0.0, &[], 0),
            0xc2 => (2, 0, 0.0, &[], 0),
            0xc3 => (3, 0, 0.0, &[], 0),
            0x00..=0x7f => int(i64::from(m)),
            0xe0..=0xff => int(i64::from(m as i8)),
            0xcc..=0xcf => {
                let n = 1 << (m - 0xcc);
                int(be(take(b, n)) as i64)
            }
            0xd0..=0xd3 => {
                let n = 1 << (m - 0xd0);
                let v = be(take(b, n));
                let shift = 64 - 8 * n as u32;
                int(((v << shift) as i64) >> shift)
            }
            0xcb => (10, 0, f64::from_bits(be(take(b, 8))), &[], 0),
            0xa0..=0xbf => raw(b, usize::from(m & 0x1f)),
            0xd9 | 0xc4 => {
                let n = take(b, 1)[0];
                raw(b, usize::from(n))
            }
            0xda | 0xc5 => {
                let n = be(take(b, 2)) as usize;
                raw(b, n)
            }
            0x90..=0x9f => (7, 0, 0.0, &[], usize::from(m & 0x0f)),
            0xdc => (7, 0, 0.0, &[], be(take(b, 2)) as usize),
            0x80..=0x8f => (8, 0, 0.0, &[], 2 * usize::from(m & 0x0f)),
            0xde => (8, 0, 0.0, &[], 2 * be(take(b, 2)) as usize),
            _ => panic!("unexpected marker {m:#x}"),
        }
    }

    /// A direct port of the flat loop of aerospike-server `msgpack_cmp_internal`
    /// (no wildcards), to check [`compare`] against.
    fn flat_compare(a: &Value, b: &Value) -> Ordering {
        let (pa, pb) = (
            aerospike_proto::wire::msgpack::to_vec(a),
            aerospike_proto::wire::msgpack::to_vec(b),
        );
        let (mut ra, mut rb) = (&pa[..], &pb[..]);
        let mut min_count = 1;
        let mut end = Ordering::Equal;
        let mut i = 0;
        while i < min_count {
            let x = flat_parse(&mut ra);
            let y = flat_parse(&mut rb);
            if x.0 != y.0 {
                return x.0.cmp(&y.0);
            }
            let o = match x.0 {
                4 | 5 => x.1.cmp(&y.1),
                6 | 9 | 11 => x.3.cmp(y.3),
                10 => x.2.partial_cmp(&y.2).unwrap_or(Ordering::Equal),
                7 if x.4 == y.4 => {
                    min_count += x.4;
                    Ordering::Equal
                }
                7 => {
                    end = x.4.cmp(&y.4);
                    min_count = x.4.min(y.4) + i + 1;
                    Ordering::Equal
                }
                8 => {
                    min_count += x.4;
                    x.4.cmp(&y.4)
                }
                _ => Ordering::Equal,
            };
            if o != Ordering::Equal {
                return o;
            }
            i += 1;
        }
        end
    }

    proptest! {
        #[test]
        fn compare_matches_the_servers_flat_algorithm(a in value(), b in value()) {
            prop_assert_eq!(compare(&a, &b), flat_compare(&a, &b), "{} vs {}", a, b);
        }

        #[test]
        fn append_then_last_is_the_value(start in proptest::collection::vec(value(), 0..6), v in value()) {
            let mut bin = Value::List(start.clone());
            let size = run(&mut bin, &l::append("l", v.clone())).unwrap();
            prop_assert_eq!(size, Value::Int(start.len() as i64 + 1));
            let mut stored = v;
            key_order(&mut stored, false).unwrap();
            prop_assert_eq!(run(&mut bin, &l::get_by_index("l", -1, LR::VALUE)).unwrap(), stored);
            prop_assert_eq!(run(&mut bin, &l::size("l")).unwrap(), Value::Int(start.len() as i64 + 1));
        }

        #[test]
        fn ordered_append_keeps_the_list_sorted(items in proptest::collection::vec(value(), 0..10)) {
            let (mut bin, mut order) = (Value::Nil, 0);
            for it in &items {
                run_in(&mut bin, &mut order, &l::append_with_policy(&ordered(), "l", it.clone())).unwrap();
            }
            let Value::List(l) = &bin else { prop_assert!(items.is_empty()); return Ok(()) };
            prop_assert_eq!(l.len(), items.len());
            prop_assert!(l.windows(2).all(|w| compare(&w[0], &w[1]) != Ordering::Greater));
        }

        #[test]
        fn key_ordered_puts_keep_keys_sorted(keys in proptest::collection::vec(scalar(), 0..10)) {
            let (mut bin, mut order) = (Value::Nil, 0);
            let p = MapPolicy::new(MapOrder::KeyOrdered, MapWriteFlags::DEFAULT);
            for (i, k) in keys.iter().enumerate() {
                run_in(&mut bin, &mut order, &m::put(&p, "m", k.clone(), i as i64)).unwrap();
            }
            let Value::Map(e) = &bin else { prop_assert!(keys.is_empty()); return Ok(()) };
            prop_assert!(e.windows(2).all(|w| compare(&w[0].0, &w[1].0) == Ordering::Less));
            let n = e.len() as i64;
            let size = run(&mut bin, &m::size("m")).unwrap();
            prop_assert_eq!(size, Value::Int(n));
        }

        #[test]
        fn rank_and_value_ranges_partition_the_list(items in proptest::collection::vec(value(), 0..8), r in -10i64..10) {
            let bin = Value::List(items.clone());
            let picked = run(&mut bin.clone(), &l::get_by_rank_range_from("l", r, LR::COUNT)).unwrap();
            let rest = run(&mut bin.clone(), &l::get_by_rank_range_from("l", r, LR::COUNT.inverted())).unwrap();
            prop_assert_eq!(picked.as_int().unwrap() + rest.as_int().unwrap(), items.len() as i64);
        }

        #[test]
        fn remove_leaves_exactly_the_inverted_selection(
            items in proptest::collection::vec(value(), 0..8),
            begin in value(),
            end in value(),
        ) {
            let mut start = Value::List(items.clone());
            key_order(&mut start, false).unwrap();
            let kept = run(
                &mut start.clone(),
                &l::get_by_value_range("l", begin.clone(), end.clone(), LR::VALUE.inverted()),
            )
            .unwrap();
            let mut bin = start.clone();
            let removed = run(
                &mut bin,
                &l::remove_by_value_range("l", begin, end, LR::COUNT),
            )
            .unwrap();
            prop_assert_eq!(&bin, &kept);
            let kept_len = kept.as_list().map_or(0, <[Value]>::len);
            prop_assert_eq!(removed.as_int().unwrap() as usize + kept_len, items.len());
        }

        #[test]
        fn map_index_ranges_walk_keys_in_order(
            entries in proptest::collection::vec((scalar(), value()), 0..8),
            index in -10i64..10,
            count in 0i64..10,
        ) {
            let mut bin = Value::Nil;
            let p = MapPolicy::default();
            for (k, v) in &entries {
                run(&mut bin, &m::put(&p, "m", k.clone(), v.clone())).unwrap();
            }
            if bin.is_nil() {
                return Ok(());
            }
            let keys = run(&mut bin.clone(), &m::get_by_index_range("m", index, count, MR::KEY)).unwrap();
            let keys = keys.as_list().unwrap();
            prop_assert!(keys.windows(2).all(|w| compare(&w[0], &w[1]) == Ordering::Less));
            prop_assert!(keys.len() <= count as usize);
            let n = run(&mut bin.clone(), &m::size("m")).unwrap().as_int().unwrap();
            let rest = run(
                &mut bin.clone(),
                &m::get_by_index_range("m", index, count, MR::COUNT.inverted()),
            )
            .unwrap();
            prop_assert_eq!(keys.len() as i64 + rest.as_int().unwrap(), n);
        }

        #[test]
        fn compare_is_antisymmetric(a in value(), b in value()) {
            prop_assert_eq!(compare(&a, &b), compare(&b, &a).reverse());
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..40), bin in value()) {
            let mut b = bin.clone();
            let _ = modify(&data, &mut b, &mut 0);
            let _ = read(&data, &bin, 0);
        }

        #[test]
        fn mutated_valid_ops_never_panic(idx in 0usize..16, byte in any::<u8>(), bin in value()) {
            let ops = [
                l::get_by_value_relative_rank_range_count("l", 5, -1, 2, LR::VALUE),
                m::put(&MapPolicy::default(), "m", "k", list![1]),
                l::insert("l", 2, "x").with_context(&[CdtContext::map_key("a")]),
            ];
            for op in ops {
                let mut data = op.data.clone();
                let i = idx % data.len();
                data[i] = byte;
                let mut b = bin.clone();
                let _ = modify(&data, &mut b, &mut 0);
                let _ = read(&data, &bin, 0);
            }
        }
    }
}
