//! Server-side evaluation of filter expressions (field 43).
//!
//! The packed bytes are decoded with the same codec the client packs with
//! ([`crate::exp::pack::unpack`]), type-checked the way the server compiles
//! them (a filter must be boolean, compared operands must share a type), then
//! evaluated against a stored record with three-valued logic: a missing bin, a
//! bin of another type or an integer division by zero make the result
//! *unknown*, and an unknown filter does not match.

use std::cmp::Ordering;

use crate::error::ResultCode;
use crate::exp::cdt::*;
use crate::exp::display::node_type;
use crate::exp::pack::unpack;
use crate::exp::{op, Call, Ctx, ExpType, Node, ReturnType};
use crate::value::Value;

use super::store::{now_nanos, StoredRecord, CITRUSLEAF_EPOCH};

/// Checks that `packed` is a filter the server would accept: it decodes, its
/// operands have consistent types, its variables are defined, and it is boolean.
pub(crate) fn validate(packed: &[u8]) -> Result<(), ResultCode> {
    compile(packed).map(|_| ())
}

/// True when the filter matches the record; false when it is false or unknown.
pub(crate) fn filter_matches(
    packed: &[u8],
    rec: &StoredRecord,
    digest: &[u8; 20],
    now: u32,
) -> Result<bool, ResultCode> {
    let node = compile(packed)?;
    let mut env = Env {
        rec,
        digest,
        now,
        vars: Vec::new(),
    };
    Ok(matches!(eval(&node, &mut env), Ok(Value::Bool(true))))
}

fn compile(packed: &[u8]) -> Result<Node, ResultCode> {
    let node = unpack(packed).map_err(|_| ResultCode::PARAMETER_ERROR)?;
    let mut vars = Vec::new();
    match check(&node, &mut vars) {
        Some(ExpType::Bool) => Ok(node),
        _ => Err(ResultCode::PARAMETER_ERROR),
    }
}

/// The static type of `node`, `None` when the server would refuse it.
fn check(node: &Node, vars: &mut Vec<(String, ExpType)>) -> Option<ExpType> {
    let same = |args: &[Node], vars: &mut Vec<(String, ExpType)>| -> Option<ExpType> {
        let mut t = None;
        for a in args {
            let at = check(a, vars)?;
            if t.is_some_and(|t| t != at) {
                return None;
            }
            t = Some(at);
        }
        t
    };
    let want = |args: &[Node], t: ExpType, vars: &mut Vec<(String, ExpType)>| {
        args.iter().all(|a| check(a, vars) == Some(t)).then_some(())
    };
    match node {
        Node::Val(_)
        | Node::Bin(..)
        | Node::BinType(_)
        | Node::Key(_)
        | Node::Meta(_)
        | Node::DigestModulo(_) => {
            if let Node::DigestModulo(m) = node {
                if *m <= 0 || *m > i64::from(i32::MAX) {
                    return None;
                }
            }
            node_type(node)
        }
        Node::Var(name) => vars.iter().rev().find(|(n, _)| n == name).map(|(_, t)| *t),
        Node::Let(defs, body) => {
            let depth = vars.len();
            for (name, e) in defs {
                let t = check(e, vars)?;
                vars.push((name.clone(), t));
            }
            let t = check(body, vars);
            vars.truncate(depth);
            t
        }
        Node::Call(c) => {
            for a in &c.args {
                check(a, vars)?;
            }
            match check(&c.bin, vars)? {
                ExpType::List | ExpType::Map => Some(c.ret),
                _ => None,
            }
        }
        Node::Cmd(code, args) => match *code {
            op::UNKNOWN => Some(ExpType::Nil),
            op::EQ..=op::LE => same(args, vars).map(|_| ExpType::Bool),
            op::AND..=op::EXCLUSIVE => {
                want(args, ExpType::Bool, vars)?;
                Some(ExpType::Bool)
            }
            op::ADD..=op::DIV | op::ABS | op::MIN | op::MAX => {
                same(args, vars).filter(|t| matches!(t, ExpType::Int | ExpType::Float))
            }
            op::POW | op::LOG | op::FLOOR | op::CEIL | op::TO_INT => {
                want(args, ExpType::Float, vars)?;
                node_type(node)
            }
            op::INT_LSCAN | op::INT_RSCAN => (check(&args[0], vars)? == ExpType::Int
                && check(&args[1], vars)? == ExpType::Bool)
                .then_some(ExpType::Int),
            op::MOD | op::TO_FLOAT | op::INT_AND..=op::INT_COUNT => {
                want(args, ExpType::Int, vars)?;
                node_type(node)
            }
            op::COND => {
                let mut t = None;
                for (i, a) in args.iter().enumerate() {
                    let at = check(a, vars)?;
                    let is_cond = i % 2 == 0 && i + 1 < args.len();
                    if is_cond {
                        if at != ExpType::Bool {
                            return None;
                        }
                    } else if at != ExpType::Nil {
                        // `unknown()` branches may stand in for any type.
                        if t.is_some_and(|t| t != at) {
                            return None;
                        }
                        t = Some(at);
                    }
                }
                t.or(Some(ExpType::Nil))
            }
            _ => None,
        },
    }
}

/// Marker for an unknown result.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Unknown;

type Ev = Result<Value, Unknown>;

struct Env<'a> {
    rec: &'a StoredRecord,
    digest: &'a [u8; 20],
    now: u32,
    /// Variables in scope, each a value or unknown.
    vars: Vec<(String, Ev)>,
}

fn of_type(v: &Value, t: ExpType) -> bool {
    ExpType::of(v) == t
}

fn int(v: &Value) -> Result<i64, Unknown> {
    v.as_int().ok_or(Unknown)
}

fn eval(node: &Node, env: &mut Env<'_>) -> Ev {
    match node {
        Node::Val(v) => Ok(v.clone()),
        Node::Bin(name, t) => match env.rec.bin(name) {
            Some(v) if of_type(v, *t) => Ok(v.clone()),
            _ => Err(Unknown),
        },
        Node::BinType(name) => Ok(Value::Int(
            env.rec
                .bin(name)
                .map_or(0, |v| i64::from(v.particle_type())),
        )),
        Node::Key(t) => match &env.rec.key {
            Some(k) if of_type(k, *t) => Ok(k.clone()),
            _ => Err(Unknown),
        },
        Node::DigestModulo(m) => {
            let d = env.digest;
            let low = u32::from_le_bytes([d[16], d[17], d[18], d[19]]);
            if *m <= 0 {
                return Err(Unknown);
            }
            Ok(Value::Int(i64::from(low) % m))
        }
        Node::Meta(code) => Ok(meta(*code, env)),
        Node::Var(name) => env
            .vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map_or(Err(Unknown), |(_, v)| v.clone()),
        Node::Let(defs, body) => {
            let depth = env.vars.len();
            for (name, e) in defs {
                let v = eval(e, env);
                env.vars.push((name.clone(), v));
            }
            let result = eval(body, env);
            env.vars.truncate(depth);
            result
        }
        Node::Cmd(code, args) => eval_cmd(*code, args, env),
        Node::Call(c) => eval_call(c, env),
    }
}

fn meta(code: u8, env: &Env<'_>) -> Value {
    let rec = env.rec;
    let last_update_ms = rec.last_update_ns / 1_000_000;
    match code {
        op::TTL => Value::Int(if rec.void_time == 0 {
            -1
        } else {
            i64::from(rec.void_time.saturating_sub(env.now))
        }),
        op::VOID_TIME => Value::Int(if rec.void_time == 0 {
            -1
        } else {
            ((u64::from(rec.void_time) + CITRUSLEAF_EPOCH) * 1_000_000_000) as i64
        }),
        // The server keeps last-update times in milliseconds.
        op::LAST_UPDATE => Value::Int((last_update_ms * 1_000_000) as i64),
        op::SINCE_UPDATE => {
            Value::Int((now_nanos() / 1_000_000).saturating_sub(last_update_ms) as i64)
        }
        op::SET_NAME => Value::String(rec.set.clone()),
        op::KEY_EXISTS => Value::Bool(rec.key.is_some()),
        op::IS_TOMBSTONE => Value::Bool(false),
        // Namespaces of the embedded cluster are memory-only, like the
        // fixtures' `storage-engine memory`: no device size.
        op::DEVICE_SIZE => Value::Int(0),
        _ => Value::Int(rec.size() as i64),
    }
}

fn truth(v: &Value) -> Result<bool, Unknown> {
    v.as_bool().ok_or(Unknown)
}

fn eval_cmd(code: u8, args: &[Node], env: &mut Env<'_>) -> Ev {
    match code {
        op::UNKNOWN => Err(Unknown),
        op::EQ..=op::LE => {
            let a = eval(&args[0], env)?;
            let b = eval(&args[1], env)?;
            if ExpType::of(&a) != ExpType::of(&b) {
                return Err(Unknown);
            }
            let ord = cmp_values(&a, &b);
            Ok(Value::Bool(match code {
                op::EQ => ord == Ordering::Equal,
                op::NE => ord != Ordering::Equal,
                op::GT => ord == Ordering::Greater,
                op::GE => ord != Ordering::Less,
                op::LT => ord == Ordering::Less,
                _ => ord != Ordering::Greater,
            }))
        }
        op::AND | op::OR => {
            let decisive = code == op::OR;
            let mut unknown = false;
            for a in args {
                match eval(a, env).and_then(|v| truth(&v)) {
                    Ok(b) if b == decisive => return Ok(Value::Bool(decisive)),
                    Ok(_) => {}
                    Err(_) => unknown = true,
                }
            }
            if unknown {
                Err(Unknown)
            } else {
                Ok(Value::Bool(!decisive))
            }
        }
        op::NOT => Ok(Value::Bool(!truth(&eval(&args[0], env)?)?)),
        op::EXCLUSIVE => {
            let mut seen = false;
            for a in args {
                if truth(&eval(a, env)?)? {
                    if seen {
                        return Ok(Value::Bool(false));
                    }
                    seen = true;
                }
            }
            Ok(Value::Bool(seen))
        }
        op::COND => {
            for pair in args.chunks(2) {
                match pair {
                    [c, v] if truth(&eval(c, env)?)? => return eval(v, env),
                    [default] => return eval(default, env),
                    _ => {}
                }
            }
            Err(Unknown)
        }
        _ => {
            let vals = args
                .iter()
                .map(|a| eval(a, env))
                .collect::<Result<Vec<_>, _>>()?;
            numeric(code, &vals)
        }
    }
}

/// Arithmetic and bitwise operators over evaluated operands.
fn numeric(code: u8, vals: &[Value]) -> Ev {
    if let Some(xs) = vals
        .iter()
        .map(Value::as_float)
        .collect::<Option<Vec<f64>>>()
    {
        let first = xs[0];
        let rest = &xs[1..];
        let x = match code {
            op::ADD => xs.iter().sum(),
            op::SUB if rest.is_empty() => -first,
            op::SUB => rest.iter().fold(first, |a, b| a - b),
            op::MUL => xs.iter().product(),
            op::DIV if rest.is_empty() => 1.0 / first,
            op::DIV => first / rest.iter().product::<f64>(),
            op::POW => first.powf(xs[1]),
            op::LOG => first.ln() / xs[1].ln(),
            op::ABS => first.abs(),
            op::FLOOR => first.floor(),
            op::CEIL => first.ceil(),
            op::TO_INT => return Ok(Value::Int(first as i64)),
            op::MIN => xs.iter().copied().fold(first, f64::min),
            op::MAX => xs.iter().copied().fold(first, f64::max),
            _ => return Err(Unknown),
        };
        return Ok(Value::Float(x));
    }
    if code == op::INT_LSCAN || code == op::INT_RSCAN {
        let v = int(&vals[0])?;
        let bits = if truth(&vals[1])? { v } else { !v } as u64;
        return Ok(Value::Int(if code == op::INT_LSCAN {
            match bits.leading_zeros() {
                64 => -1,
                n => i64::from(n),
            }
        } else {
            63 - i64::from(bits.trailing_zeros())
        }));
    }
    let xs = vals.iter().map(int).collect::<Result<Vec<i64>, _>>()?;
    let first = xs[0];
    let rest = &xs[1..];
    let shift = |f: fn(i64, u32) -> i64, fill: i64| {
        let n = xs[1];
        if (0..64).contains(&n) {
            f(first, n as u32)
        } else {
            fill
        }
    };
    Ok(Value::Int(match code {
        op::ADD => xs.iter().fold(0i64, |a, b| a.wrapping_add(*b)),
        op::SUB if rest.is_empty() => first.wrapping_neg(),
        op::SUB => rest.iter().fold(first, |a, b| a.wrapping_sub(*b)),
        op::MUL => xs.iter().fold(1i64, |a, b| a.wrapping_mul(*b)),
        op::DIV => {
            let (num, den) = if rest.is_empty() {
                (1, first)
            } else {
                (first, rest.iter().fold(1i64, |a, b| a.wrapping_mul(*b)))
            };
            if den == 0 {
                return Err(Unknown);
            }
            num.wrapping_div(den)
        }
        op::MOD => {
            if xs[1] == 0 {
                return Err(Unknown);
            }
            first.wrapping_rem(xs[1])
        }
        op::ABS => first.wrapping_abs(),
        op::TO_FLOAT => return Ok(Value::Float(first as f64)),
        op::INT_AND => xs.iter().fold(-1i64, |a, b| a & b),
        op::INT_OR => xs.iter().fold(0i64, |a, b| a | b),
        op::INT_XOR => xs.iter().fold(0i64, |a, b| a ^ b),
        op::INT_NOT => !first,
        op::INT_LSHIFT => shift(|v, n| v << n, 0),
        op::INT_RSHIFT => shift(|v, n| ((v as u64) >> n) as i64, 0),
        op::INT_ARSHIFT => shift(|v, n| v >> n, if first < 0 { -1 } else { 0 }),
        op::INT_COUNT => i64::from(first.count_ones()),
        op::MIN => xs.iter().copied().fold(first, i64::min),
        op::MAX => xs.iter().copied().fold(first, i64::max),
        _ => return Err(Unknown),
    }))
}

/// Order of value types when values of different types are compared, as the
/// server orders msgpack elements.
fn type_rank(v: &Value) -> u8 {
    match v {
        Value::Nil => 0,
        Value::Bool(_) => 1,
        Value::Int(_) => 2,
        Value::String(_) => 3,
        Value::List(_) => 4,
        Value::Map(_) => 5,
        Value::Blob(_) | Value::Hll(_) => 6,
        Value::Float(_) => 7,
        Value::GeoJson(_) => 8,
    }
}

/// Total order over values: by type, then by content.
pub(crate) fn cmp_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Int(x), Value::Int(y)) => x.cmp(y),
        (Value::Float(x), Value::Float(y)) => x.total_cmp(y),
        (Value::String(x), Value::String(y)) | (Value::GeoJson(x), Value::GeoJson(y)) => {
            x.as_bytes().cmp(y.as_bytes())
        }
        (Value::Blob(x) | Value::Hll(x), Value::Blob(y) | Value::Hll(y)) => x.cmp(y),
        (Value::List(x), Value::List(y)) => x
            .iter()
            .zip(y)
            .map(|(p, q)| cmp_values(p, q))
            .find(|o| o.is_ne())
            .unwrap_or_else(|| x.len().cmp(&y.len())),
        (Value::Map(x), Value::Map(y)) => x.len().cmp(&y.len()).then_with(|| {
            let (sx, sy) = (sorted_entries(x), sorted_entries(y));
            sx.iter()
                .zip(&sy)
                .map(|((k1, v1), (k2, v2))| cmp_values(k1, k2).then_with(|| cmp_values(v1, v2)))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        }),
        _ => type_rank(a).cmp(&type_rank(b)),
    }
}

fn sorted_entries(m: &[(Value, Value)]) -> Vec<(&Value, &Value)> {
    let mut v: Vec<(&Value, &Value)> = m.iter().map(|(k, x)| (k, x)).collect();
    v.sort_by(|a, b| cmp_values(a.0, b.0));
    v
}

// ---------------------------------------------------------------- list and map reads

/// A list or map seen as items in index order (maps sorted by key).
struct Items<'a> {
    keys: Option<Vec<&'a Value>>,
    values: Vec<&'a Value>,
    /// Item indices in rank order (by value, then index).
    by_rank: Vec<usize>,
}

impl<'a> Items<'a> {
    fn new(v: &'a Value) -> Option<Items<'a>> {
        let (keys, values) = match v {
            Value::List(l) => (None, l.iter().collect::<Vec<_>>()),
            Value::Map(m) => {
                let sorted = sorted_entries(m);
                (
                    Some(sorted.iter().map(|(k, _)| *k).collect()),
                    sorted.iter().map(|(_, x)| *x).collect(),
                )
            }
            _ => return None,
        };
        let mut by_rank: Vec<usize> = (0..values.len()).collect();
        by_rank.sort_by(|a, b| cmp_values(values[*a], values[*b]));
        Some(Items {
            keys,
            values,
            by_rank,
        })
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    fn rank_of(&self, i: usize) -> usize {
        self.by_rank.iter().position(|x| *x == i).unwrap_or(0)
    }
}

/// Start and end (exclusive) of `count` items from `start`, negative from the end.
fn window(len: usize, start: i64, count: Option<i64>) -> (usize, usize) {
    let len_i = len as i64;
    let mut s = if start < 0 { len_i + start } else { start };
    let mut c = count.unwrap_or(i64::MAX);
    if c < 0 {
        return (0, 0);
    }
    if s < 0 {
        c = c.saturating_add(s);
        s = 0;
    }
    let s = s.clamp(0, len_i);
    let e = s.saturating_add(c.max(0)).clamp(s, len_i);
    (s as usize, e as usize)
}

fn single(len: usize, i: i64) -> Option<usize> {
    let idx = if i < 0 { len as i64 + i } else { i };
    (0..len as i64).contains(&idx).then_some(idx as usize)
}

/// Navigates a context path.
fn navigate(mut v: Value, ctx: &[Ctx]) -> Result<Value, Unknown> {
    for step in ctx {
        let items = Items::new(&v).ok_or(Unknown)?;
        let found = match step {
            Ctx::ListIndex(i) | Ctx::MapIndex(i) => single(items.len(), *i),
            Ctx::ListRank(r) | Ctx::MapRank(r) => single(items.len(), *r).map(|p| items.by_rank[p]),
            Ctx::ListValue(x) | Ctx::MapValue(x) => {
                items.values.iter().position(|y| cmp_values(x, y).is_eq())
            }
            Ctx::MapKey(k) => items
                .keys
                .as_ref()
                .and_then(|ks| ks.iter().position(|y| cmp_values(k, y).is_eq())),
        };
        let is_map_step = matches!(
            step,
            Ctx::MapIndex(_) | Ctx::MapRank(_) | Ctx::MapKey(_) | Ctx::MapValue(_)
        );
        if is_map_step != items.keys.is_some() {
            return Err(Unknown);
        }
        let next = found.map(|i| items.values[i].clone()).ok_or(Unknown)?;
        v = next;
    }
    Ok(v)
}

fn eval_call(c: &Call, env: &mut Env<'_>) -> Ev {
    let args = c
        .args
        .iter()
        .map(|a| eval(a, env))
        .collect::<Result<Vec<_>, _>>()?;
    let target = navigate(eval(&c.bin, env)?, &c.ctx)?;
    let items = Items::new(&target).ok_or(Unknown)?;
    if (c.op >= 64) != items.keys.is_some() {
        return Err(Unknown);
    }
    let result = cdt_read(c, &args, &items)?;
    if of_type(&result, c.ret) {
        Ok(result)
    } else {
        Err(Unknown)
    }
}

fn in_interval(v: &Value, begin: &Value, end: Option<&Value>) -> bool {
    cmp_values(v, begin).is_ge() && end.is_none_or(|e| cmp_values(v, e).is_lt())
}

/// Items before the insertion point of `x` among `sorted`.
fn insertion_point<'a>(sorted: impl Iterator<Item = &'a Value>, x: &Value) -> i64 {
    sorted.filter(|v| cmp_values(v, x).is_lt()).count() as i64
}

fn cdt_read(c: &Call, args: &[Value], items: &Items<'_>) -> Ev {
    let len = items.len();
    let arg_int = |i: usize| args.get(i).map(int).transpose();
    let keys: Vec<&Value> = items.keys.clone().unwrap_or_default();
    let (selected, is_single): (Vec<usize>, bool) = match c.op {
        LIST_SIZE | MAP_SIZE => return Ok(Value::Int(len as i64)),
        LIST_GET_BY_INDEX | MAP_GET_BY_INDEX => {
            (single(len, int(&args[0])?).into_iter().collect(), true)
        }
        LIST_GET_BY_RANK | MAP_GET_BY_RANK => (
            single(len, int(&args[0])?)
                .map(|p| items.by_rank[p])
                .into_iter()
                .collect(),
            true,
        ),
        MAP_GET_BY_KEY => (
            keys.iter()
                .position(|k| cmp_values(k, &args[0]).is_eq())
                .into_iter()
                .collect(),
            true,
        ),
        LIST_GET_BY_INDEX_RANGE | MAP_GET_BY_INDEX_RANGE => {
            let (s, e) = window(len, int(&args[0])?, arg_int(1)?);
            ((s..e).collect(), false)
        }
        LIST_GET_BY_RANK_RANGE | MAP_GET_BY_RANK_RANGE => {
            let (s, e) = window(len, int(&args[0])?, arg_int(1)?);
            (items.by_rank[s..e].to_vec(), false)
        }
        LIST_GET_BY_VALUE | MAP_GET_BY_VALUE => (
            (0..len)
                .filter(|i| cmp_values(items.values[*i], &args[0]).is_eq())
                .collect(),
            false,
        ),
        LIST_GET_BY_VALUE_LIST | MAP_GET_BY_VALUE_LIST | MAP_GET_BY_KEY_LIST => {
            let wanted = args[0].as_list().ok_or(Unknown)?;
            let of = |i: usize| {
                if c.op == MAP_GET_BY_KEY_LIST {
                    keys[i]
                } else {
                    items.values[i]
                }
            };
            (
                (0..len)
                    .filter(|i| wanted.iter().any(|w| cmp_values(of(*i), w).is_eq()))
                    .collect(),
                false,
            )
        }
        LIST_GET_BY_VALUE_INTERVAL | MAP_GET_BY_VALUE_INTERVAL => (
            (0..len)
                .filter(|i| in_interval(items.values[*i], &args[0], args.get(1)))
                .collect(),
            false,
        ),
        MAP_GET_BY_KEY_INTERVAL => (
            (0..len)
                .filter(|i| in_interval(keys[*i], &args[0], args.get(1)))
                .collect(),
            false,
        ),
        LIST_GET_BY_VALUE_REL_RANK_RANGE | MAP_GET_BY_VALUE_REL_RANK_RANGE => {
            let base = insertion_point(items.by_rank.iter().map(|i| items.values[*i]), &args[0]);
            let start = base.saturating_add(int(&args[1])?);
            let (s, e) = rel_window(len, start, arg_int(2)?);
            (items.by_rank[s..e].to_vec(), false)
        }
        MAP_GET_BY_KEY_REL_INDEX_RANGE => {
            let base = insertion_point(keys.iter().copied(), &args[0]);
            let start = base.saturating_add(int(&args[1])?);
            let (s, e) = rel_window(len, start, arg_int(2)?);
            ((s..e).collect(), false)
        }
        _ => return Err(Unknown),
    };
    let rt = c.rt.unwrap_or(ReturnType::VALUE);
    let selected = if rt.is_inverted() {
        (0..len).filter(|i| !selected.contains(i)).collect()
    } else {
        selected
    };
    Ok(shape(rt, &selected, is_single && !rt.is_inverted(), items))
}

/// Window for relative ranges, whose start is absolute (no counting from the end).
fn rel_window(len: usize, start: i64, count: Option<i64>) -> (usize, usize) {
    let len_i = len as i64;
    let end = count.map_or(len_i, |c| start.saturating_add(c.max(0)));
    let s = start.clamp(0, len_i);
    (s as usize, end.clamp(s, len_i) as usize)
}

/// Builds the result of a read from the selected item indices.
fn shape(rt: ReturnType, selected: &[usize], single: bool, items: &Items<'_>) -> Value {
    let len = items.len() as i64;
    let each = |f: &dyn Fn(usize) -> Value| -> Value {
        if single {
            selected.first().map_or(Value::Nil, |i| f(*i))
        } else {
            Value::List(selected.iter().map(|i| f(*i)).collect())
        }
    };
    let pairs = || {
        Value::Map(
            selected
                .iter()
                .filter_map(|i| {
                    let k = items.keys.as_ref()?.get(*i)?;
                    Some(((*k).clone(), items.values[*i].clone()))
                })
                .collect(),
        )
    };
    match rt.base() {
        ReturnType::NONE => Value::Nil,
        ReturnType::COUNT => Value::Int(selected.len() as i64),
        ReturnType::EXISTS => Value::Bool(!selected.is_empty()),
        ReturnType::INDEX => each(&|i| Value::Int(i as i64)),
        ReturnType::REVERSE_INDEX => each(&|i| Value::Int(len - 1 - i as i64)),
        ReturnType::RANK => each(&|i| Value::Int(items.rank_of(i) as i64)),
        ReturnType::REVERSE_RANK => each(&|i| Value::Int(len - 1 - items.rank_of(i) as i64)),
        ReturnType::KEY => each(&|i| {
            items
                .keys
                .as_ref()
                .and_then(|k| k.get(i))
                .map_or(Value::Nil, |k| (*k).clone())
        }),
        ReturnType::KEY_VALUE | ReturnType::ORDERED_MAP | ReturnType::UNORDERED_MAP => {
            if items.keys.is_some() {
                pairs()
            } else {
                Value::Nil
            }
        }
        _ => each(&|i| items.values[i].clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::{self, Expression};
    use crate::{list, map};

    fn record() -> StoredRecord {
        let mut r = StoredRecord::new("people");
        r.set_bin("age", Value::Int(42));
        r.set_bin("name", Value::from("ann"));
        r.set_bin("score", Value::Float(7.5));
        r.set_bin("active", Value::Bool(true));
        r.set_bin("blob", Value::Blob(vec![1, 2]));
        r.set_bin("tags", list![3, 1, 2, 1]);
        r.set_bin(
            "prefs",
            map! {"theme" => "dark", "size" => 12, "nested" => list![10, 20]},
        );
        r.set_bin("flags", Value::Int(0b1010));
        r.void_time = 1_000;
        r.last_update_ns = 1_700_000_000_123_456_789;
        r.key = Some(Value::from("k1"));
        r
    }

    const DIGEST: [u8; 20] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0];

    fn run(e: &Expression) -> bool {
        filter_matches(&e.to_bytes(), &record(), &DIGEST, 400).unwrap()
    }

    fn ael(text: &str) -> bool {
        run(&Expression::from_ael(text).unwrap())
    }

    #[test]
    fn fixture_filters() {
        assert!(ael("$.active == true"));
        assert!(!ael("$.age < 40"));
        assert!(run(&exp::lt(exp::int_bin("age"), exp::int_val(50))));
    }

    #[test]
    fn comparisons_of_every_type() {
        assert!(ael(
            "$.age == 42 and $.age != 41 and $.age >= 42 and $.age <= 42 and $.age > 41"
        ));
        assert!(ael("$.name == 'ann' and $.name < 'bob' and $.name > 'al'"));
        assert!(ael("$.score > 7.0 and $.score < 8.0"));
        assert!(ael("$.blob == blob('0102')"));
        assert!(ael("$.tags.get(type: LIST) == [3, 1, 2, 1]"));
        assert!(ael(
            "$.prefs.get(type: MAP) == {'size': 12, 'theme': 'dark', 'nested': [10, 20]}"
        ));
        assert!(!ael("$.tags.get(type: LIST) == [3, 1]"));
    }

    #[test]
    fn unknown_filters_out() {
        // Missing bin, wrong type, and the negation of unknown are all unknown.
        assert!(!ael("$.missing == 1"));
        assert!(!ael("not($.missing == 1)"));
        assert!(!ael("$.name == 1"));
        assert!(!ael("not($.name == 1)"));
        // Three-valued and/or: false and true dominate an unknown.
        assert!(ael("$.missing == 1 or $.age == 42"));
        assert!(ael("not($.missing == 1 and $.age == 0)"));
        assert!(!ael("$.missing == 1 and $.age == 42"));
        // Integer division by zero and modulo zero are unknown.
        assert!(!ael("$.age / 0 == 0"));
        assert!(!ael("not($.age % 0 == 0)"));
    }

    #[test]
    fn logic() {
        assert!(ael("exclusive($.age == 42, $.age == 1)"));
        assert!(!ael("exclusive($.age == 42, $.name == 'ann')"));
        assert!(ael("not($.age == 1)"));
        assert!(ael("$.active"));
        assert!(ael(
            "when($.age > 50 => 'old', $.age > 30 => 'mid', default => 'young') == 'mid'"
        ));
        assert!(ael("let(x = $.age * 2, y = 4) then (${x} + ${y} == 88)"));
    }

    #[test]
    fn arithmetic() {
        assert!(ael(
            "$.age + 8 == 50 and $.age - 2 == 40 and $.age * 2 == 84 and $.age / 5 == 8"
        ));
        assert!(ael(
            "$.age % 5 == 2 and -$.age == -42 and abs(-$.age) == 42"
        ));
        assert!(ael(
            "$.score ** 2.0 == 56.25 and floor($.score) == 7.0 and ceil($.score) == 8.0"
        ));
        assert!(ael(
            "log(8.0, 2.0) == 3.0 and toInt($.score) == 7 and toFloat($.age) == 42.0"
        ));
        assert!(ael("min($.age, 3, 9) == 3 and max($.score, 9.5) == 9.5"));
        assert!(run(&exp::eq(
            exp::div(vec![exp::int_val(4)]),
            exp::int_val(0)
        )));
        assert!(run(&exp::eq(
            exp::add(vec![exp::int_val(i64::MAX), exp::int_val(1)]),
            exp::int_val(i64::MIN)
        )));
    }

    #[test]
    fn bitwise() {
        assert!(ael(
            "$.flags & 2 == 2 and $.flags | 1 == 11 and $.flags ^ 15 == 5"
        ));
        assert!(ael(
            "~$.flags == -11 and $.flags << 2 == 40 and $.flags >> 1 == 5"
        ));
        assert!(ael("-8 >> 1 == -4 and -8 >>> 60 == 15 and 1 << 64 == 0"));
        assert!(ael("countOneBits($.flags) == 2"));
        // 0b1010: highest set bit is index 60 from the left, lowest is 62.
        assert!(ael(
            "findBitLeft($.flags, true) == 60 and findBitRight($.flags, true) == 62"
        ));
        assert!(ael(
            "findBitLeft(-1, false) == -1 and findBitLeft(-1, true) == 0"
        ));
    }

    #[test]
    fn metadata() {
        assert!(ael("$.ttl() == 600"));
        assert!(ael("$.voidTime() == 1262305000000000000"));
        assert!(ael("$.lastUpdate() == 1700000000123000000"));
        assert!(ael("$.sinceUpdate() > 0"));
        assert!(ael(
            "$.setName() == 'people' and $.keyExists() and not($.isTombstone())"
        ));
        assert!(ael("$.key() == 'k1' and $.digestModulo(4) == 3"));
        assert!(!ael("$.key() == 1"));
        assert!(ael("$.recordSize() > 0 and $.deviceSize() == 0"));
        assert!(ael(
            "$.age.exists() and not($.nope.exists()) and $.name.binType() == 3"
        ));
        let mut forever = record();
        forever.void_time = 0;
        let e = Expression::from_ael("$.ttl() == -1 and $.voidTime() == -1").unwrap();
        assert!(filter_matches(&e.to_bytes(), &forever, &DIGEST, 400).unwrap());
    }

    #[test]
    fn list_paths() {
        assert!(ael("$.tags.[0] == 3 and $.tags.[-1] == 1"));
        assert!(ael("$.tags.[].count() == 4"));
        assert!(ael(
            "$.tags.[=1].count() == 2 and $.tags.[!=1].count() == 2"
        ));
        assert!(ael("$.tags.[#0] == 1 and $.tags.[#-1] == 3"));
        assert!(ael("$.tags.[1:3] == [1, 2] and $.tags.[#0:2] == [1, 1]"));
        assert!(ael(
            "$.tags.[=1:3].count() == 3 and $.tags.[=2,3].count() == 2"
        ));
        assert!(ael("$.tags.[#0:2~2].get(type: LIST) == [2, 3]"));
        assert!(ael("$.tags.[=3].get(type: LIST, return: INDEX) == [0]"));
        assert!(ael("$.tags.[0].get(type: INT, return: RANK) == 3"));
        assert!(ael(
            "2 in $.tags and not(5 in $.tags) and $.age in [41, 42]"
        ));
        assert!(!ael("$.tags.[9] == 1"));
    }

    #[test]
    fn map_paths() {
        assert!(ael("$.prefs.theme == 'dark' and $.prefs.size == 12"));
        assert!(ael(
            "$.prefs.nested.[1] == 20 and $.prefs.nested.[].count() == 2"
        ));
        assert!(ael(
            "$.prefs.{}.count() == 3 and $.prefs.{0}.get(type: LIST) == [10, 20]"
        ));
        assert!(ael(
            "$.prefs.{size,theme}.count() == 2 and $.prefs.{!size}.count() == 2"
        ));
        assert!(ael(
            "$.prefs.{a-o}.get(type: LIST, return: KEY) == ['nested']"
        ));
        assert!(ael(
            "$.prefs.{=12}.get(type: LIST, return: KEY) == ['size']"
        ));
        assert!(ael(
            "$.prefs.{0:2}.get(type: MAP, return: KEY_VALUE) == {'nested': [10, 20], 'size': 12}"
        ));
        assert!(ael(
            "$.prefs.{0:1~size}.get(type: LIST, return: KEY) == ['size']"
        ));
        assert!(ael("$.prefs.{#0}.get(type: INT) == 12"));
        assert!(ael("$.prefs.theme.exists() and not($.prefs.nope.exists())"));
        assert!(!ael("$.prefs.nope == 'x'"));
    }

    #[test]
    fn return_types() {
        // tags = [3, 1, 2, 1]: ranks by value are 1@1, 1@3, 2@2, 3@0.
        assert!(ael(
            "$.tags.[=1].get(type: LIST, return: REVERSE_INDEX) == [2, 0]"
        ));
        assert!(ael("$.tags.[0:2].get(type: LIST, return: RANK) == [3, 0]"));
        assert!(ael(
            "$.tags.[0:2].get(type: LIST, return: REVERSE_RANK) == [0, 3]"
        ));
        assert!(ael("$.tags.[!#0:2].get(type: LIST) == [3, 2]"));
        assert!(ael(
            "$.tags.[#1:3~1].count() == 2 and $.tags.[#-1:~2].get(type: LIST) == [1, 2, 3]"
        ));
        assert!(ael("$.tags.[0].get(type: NIL, return: NONE) == nil"));
        assert!(ael(
            "$.prefs.{=12}.get(type: MAP, return: ORDERED_MAP) == {'size': 12}"
        ));
        assert!(ael(
            "$.prefs.{!0:1}.get(type: LIST, return: KEY) == ['size', 'theme']"
        ));
        assert!(ael(
            "$.prefs.{#-1}.get(type: STRING, return: KEY) == 'nested'"
        ));
    }

    #[test]
    fn unknown_in_control_structures() {
        // An unknown condition makes the whole `when` unknown, even with a default.
        assert!(!ael("when($.missing == 1 => true, default => true)"));
        assert!(!ael("not(when($.missing == 1 => true, default => true))"));
        assert!(!ael("exclusive($.missing == 1, $.age == 42)"));
        assert!(!ael("not(exclusive($.missing == 1, $.age == 42))"));
        // A variable holding unknown only makes the uses of it unknown.
        assert!(ael("let(x = $.missing) then (${x} == 1 or true)"));
        assert!(!ael("let(x = $.missing) then (${x} == 1 and true)"));
    }

    #[test]
    fn fixture_bytes() {
        // bg-ops-single.txt field 43 values and bg-errors-single.txt case 9.
        assert_eq!(
            validate(&[
                0x93, 0x01, 0x93, 0x51, 0x01, 0xa6, b'a', b'c', b't', b'i', b'v', b'e', 0xc3
            ]),
            Ok(())
        );
        assert_eq!(
            validate(&[0x93, 0x05, 0x93, 0x51, 0x02, 0xa1, b'i', 0x32]),
            Ok(())
        );
        assert_eq!(validate(&[0xc1]), Err(ResultCode::PARAMETER_ERROR));
        let mut r = StoredRecord::new("bgops");
        r.set_bin("i", Value::Int(49));
        assert_eq!(
            filter_matches(
                &[0x93, 0x05, 0x93, 0x51, 0x02, 0xa1, b'i', 0x32],
                &r,
                &DIGEST,
                0
            ),
            Ok(true)
        );
        r.set_bin("i", Value::Int(50));
        assert_eq!(
            filter_matches(
                &[0x93, 0x05, 0x93, 0x51, 0x02, 0xa1, b'i', 0x32],
                &r,
                &DIGEST,
                0
            ),
            Ok(false)
        );
    }

    #[test]
    fn validation() {
        assert_eq!(validate(&[0xc1]), Err(ResultCode::PARAMETER_ERROR));
        // Not boolean.
        assert_eq!(
            validate(&exp::int_bin("a").to_bytes()),
            Err(ResultCode::PARAMETER_ERROR)
        );
        // Mismatched comparison.
        let bad = exp::eq(exp::int_bin("a"), exp::string_val("x"));
        assert_eq!(validate(&bad.to_bytes()), Err(ResultCode::PARAMETER_ERROR));
        assert_eq!(
            filter_matches(&bad.to_bytes(), &record(), &DIGEST, 0),
            Err(ResultCode::PARAMETER_ERROR)
        );
        // Undefined variable.
        let undefined = exp::eq(exp::var("x"), exp::int_val(1));
        assert_eq!(
            validate(&undefined.to_bytes()),
            Err(ResultCode::PARAMETER_ERROR)
        );
        assert_eq!(validate(&exp::bin_exists("a").to_bytes()), Ok(()));
    }
}
