//! Server-side evaluation of filter expressions (field 43).
//!
//! The packed bytes are decoded with the same codec the client packs with
//! ([`aerospike_proto::exp::pack::unpack`]), type-checked the way the server compiles
//! them (a filter must be boolean, compared operands must share a type), then
//! evaluated against a stored record with three-valued logic: a missing bin, a
//! bin of another type or an integer division by zero make the result
//! *unknown*, and an unknown filter does not match.

use std::cmp::Ordering;

use aerospike_proto::exp::display::node_type;
use aerospike_proto::exp::pack::{pack_cdt_op, unpack};
use aerospike_proto::exp::{op, Call, ExpType, Node, ReturnType};
use aerospike_proto::wire::msgpack;
use aerospike_proto::ResultCode;
use aerospike_proto::Value;

use super::cdt;
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
    filter_outcome(packed, rec, digest, now).map(|o| o == FilterOutcome::Match)
}

/// How a filter decided about a record, for the `recs-filtered-meta` and
/// `recs-filtered-bins` job counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FilterOutcome {
    /// The record matches.
    Match,
    /// Rejected from metadata alone, before the bins were read.
    FilteredMeta,
    /// Rejected once the bins were read (false or unknown).
    FilteredBins,
}

/// Evaluates the filter the way the server does: first with metadata only
/// (bins, bin types and the key are unknown), then, when that is not
/// decisive, with the bins.
pub(crate) fn filter_outcome(
    packed: &[u8],
    rec: &StoredRecord,
    digest: &[u8; 20],
    now: u32,
) -> Result<FilterOutcome, ResultCode> {
    let node = compile(packed)?;
    let run = |bins: bool| {
        let mut env = Env {
            rec,
            digest,
            now,
            bins,
            vars: Vec::new(),
        };
        eval(&node, &mut env)
    };
    Ok(match run(false) {
        Ok(Value::Bool(true)) => FilterOutcome::Match,
        Ok(Value::Bool(false)) => FilterOutcome::FilteredMeta,
        _ => match run(true) {
            Ok(Value::Bool(true)) => FilterOutcome::Match,
            _ => FilterOutcome::FilteredBins,
        },
    })
}

/// Evaluates an expression of any type (the expression of an EXP_READ or
/// EXP_MODIFY operation) against the record, bins included; `None` when the
/// result is unknown.
pub(crate) fn eval_value(
    packed: &[u8],
    rec: &StoredRecord,
    digest: &[u8; 20],
    now: u32,
) -> Result<Option<Value>, ResultCode> {
    let (node, _) = compile_any(packed)?;
    let mut env = Env {
        rec,
        digest,
        now,
        bins: true,
        vars: Vec::new(),
    };
    Ok(eval(&node, &mut env).ok())
}

/// A filter: an expression that compiles and is boolean.
fn compile(packed: &[u8]) -> Result<Node, ResultCode> {
    match compile_any(packed)? {
        (node, ExpType::Bool) => Ok(node),
        _ => Err(ResultCode::PARAMETER_ERROR),
    }
}

/// Decodes and type-checks an expression; returns it with its static type.
fn compile_any(packed: &[u8]) -> Result<(Node, ExpType), ResultCode> {
    let node = unpack(packed).map_err(|_| ResultCode::PARAMETER_ERROR)?;
    let mut vars = Vec::new();
    let t = check(&node, &mut vars).ok_or(ResultCode::PARAMETER_ERROR)?;
    Ok((node, t))
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
                // The server's build_let: a name starts with a letter or `_`,
                // goes on with letters, digits and `_`, and is not defined
                // already in this `let` or an enclosing one.
                let mut chars = name.chars();
                let valid = chars
                    .next()
                    .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
                    && chars.all(|c| c == '_' || c.is_ascii_alphanumeric());
                if !valid || vars.iter().any(|(n, _)| n == name) {
                    vars.truncate(depth);
                    return None;
                }
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
    /// False in the metadata-only pass: bins and the key are not read yet.
    bins: bool,
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
        Node::Bin(..) | Node::BinType(_) | Node::Key(_) if !env.bins => Err(Unknown),
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
            let mut a = eval(&args[0], env)?;
            let mut b = eval(&args[1], env)?;
            let (ma, mb) = (maps_of(&args[0], env), maps_of(&args[1], env));
            if ExpType::of(&a) != ExpType::of(&b) || reaches_unordered_map(&a, &b, ma, mb, 0) {
                return Err(Unknown);
            }
            // A literal's maps compare key-ordered, however they were sent.
            for (v, m) in [(&mut a, ma), (&mut b, mb)] {
                if matches!(m, Maps::Literal) {
                    let _ = cdt::key_order(v, false);
                }
            }
            // Two floats compare as IEEE doubles, as the server does: NaN
            // is neither equal to, less nor greater than anything.
            let ord = match (&a, &b) {
                (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
                _ => Some(cdt::compare(&a, &b)),
            };
            Ok(Value::Bool(match code {
                op::NE => ord != Some(Ordering::Equal),
                op::EQ => ord == Some(Ordering::Equal),
                op::GT => ord == Some(Ordering::Greater),
                op::GE => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
                op::LT => ord == Some(Ordering::Less),
                _ => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
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

/// How the server sees the maps of one side of a comparison. It makes a
/// comparison unknown once it meets a map without the key-ordered flag
/// (`exp.c` `cmp_msgpack`: "illegal comparison of structure containing
/// unordered map"). Checked on an 8.1.2 server: map literals compare (in key
/// order); a bin's top-level map compares when the bin is key-ordered or the
/// map empty; maps nested in stored values carry no flag; a KEY_VALUE or
/// UNORDERED_MAP result never compares, even empty; an ORDERED_MAP result
/// does.
#[derive(Debug, Clone, Copy)]
enum Maps {
    /// A literal: every map key-ordered.
    Literal,
    /// Read from storage: the top-level map key-ordered or not.
    Stored { top_ordered: bool },
    /// A KEY_VALUE or UNORDERED_MAP result: its top-level map is unordered.
    Unordered,
}

fn maps_of(node: &Node, env: &Env<'_>) -> Maps {
    match node {
        Node::Val(_) => Maps::Literal,
        Node::Bin(name, _) => Maps::Stored {
            top_ordered: env.rec.order_of(name) & 1 != 0,
        },
        Node::Call(c) => match c.rt.map(ReturnType::base) {
            Some(ReturnType::ORDERED_MAP) => Maps::Stored { top_ordered: true },
            Some(ReturnType::KEY_VALUE | ReturnType::UNORDERED_MAP) => Maps::Unordered,
            _ => Maps::Stored { top_ordered: false },
        },
        _ => Maps::Stored { top_ordered: false },
    }
}

/// True when `v`, met at `depth` on a side seen as `maps`, is a map the
/// server counts as unordered.
fn unordered_here(v: &Value, maps: Maps, depth: usize) -> bool {
    let Value::Map(entries) = v else {
        return false;
    };
    match (maps, depth) {
        (Maps::Literal, _) => false,
        (Maps::Unordered, 0) => true,
        (Maps::Stored { top_ordered: true }, 0) => false,
        _ => !entries.is_empty(),
    }
}

/// True when comparing `a` with `b` meets an unordered map on either side
/// before it finds a difference (the server stops at the first one).
fn reaches_unordered_map(a: &Value, b: &Value, ma: Maps, mb: Maps, depth: usize) -> bool {
    if unordered_here(a, ma, depth) || unordered_here(b, mb, depth) {
        return true;
    }
    let pairs: Vec<(&Value, &Value)> = match (a, b) {
        (Value::List(x), Value::List(y)) => x.iter().zip(y).collect(),
        (Value::Map(x), Value::Map(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .flat_map(|((k1, v1), (k2, v2))| [(k1, k2), (v1, v2)])
            .collect(),
        _ => return false,
    };
    for (p, q) in pairs {
        if reaches_unordered_map(p, q, ma, mb, depth + 1) {
            return true;
        }
        if cdt::compare(p, q) != Ordering::Equal {
            return false;
        }
    }
    false
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

/// A list or map read: its arguments are evaluated, packed as a CDT_READ
/// operation and run by the CDT engine, as the server does. A failing read
/// (missing path, index out of range) or a result of another type than the
/// declared one is unknown.
fn eval_call(c: &Call, env: &mut Env<'_>) -> Ev {
    let args = c
        .args
        .iter()
        .map(|a| eval(a, env))
        .collect::<Result<Vec<_>, _>>()?;
    let target = eval(&c.bin, env)?;
    if !matches!(target, Value::List(_) | Value::Map(_)) {
        return Err(Unknown);
    }
    let mut data = Vec::new();
    pack_cdt_op(&mut data, c, &args, |v, buf| msgpack::pack_value(buf, v));
    // The bin's order flags are not known here: read as unordered.
    match cdt::read(&data, &target, 0) {
        Ok(result) if of_type(&result, c.ret) => Ok(result),
        _ => Err(Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aerospike_proto::exp::{self, Expression};
    use aerospike_proto::{list, map};

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
        assert!(!ael("$.tags.get(type: LIST) == [3, 1]"));
        // Comparing a stored non-empty unordered map is unknown, as on the
        // server, even nested in a list, once the comparison gets to it; the
        // empty map and literals compare (checked on an 8.1.2 server).
        let m = "{'size': 12, 'theme': 'dark', 'nested': [10, 20]}";
        assert!(!ael(&format!("$.prefs.get(type: MAP) == {m}")));
        assert!(!ael(&format!("not($.prefs.get(type: MAP) == {m})")));
        assert!(!ael(&format!("$.prefs.get(type: MAP) != {m}")));
        assert!(ael("[1, {'a': 1}] == [1, {'a': 1}]"));
        assert!(ael("{1: 2} == {1: 2}"));
        assert!(!ael(
            "$.prefs.{=99}.get(type: MAP, return: KEY_VALUE) == {}"
        ));
        assert!(!ael(
            "not($.prefs.{=99}.get(type: MAP, return: KEY_VALUE) == {})"
        ));
        assert!(ael("[1, {'a': 1}] != [2, {'a': 1}]"));
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
        assert!(!ael(
            "$.prefs.{0:2}.get(type: MAP, return: KEY_VALUE) == {'nested': [10, 20], 'size': 12}"
        ));
        assert!(ael(
            "$.prefs.{0:2}.get(type: LIST, return: KEY) == ['nested', 'size']"
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
            "$.prefs.{=99}.get(type: MAP, return: ORDERED_MAP) == {}"
        ));
        assert!(ael("$.prefs.{!0:1}.count() == 2"));
        assert!(ael(
            "$.prefs.{!1:}.get(type: LIST, return: KEY) == ['nested']"
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
        assert!(ael("when($.age == 42 => true, default => unknown())"));
        assert!(!ael("when($.age == 1 => true, default => unknown())"));
        assert!(!ael("not(when($.age == 1 => true, default => unknown()))"));
        assert!(!ael("let(x = $.missing) then (${x} == 1 and true)"));
    }

    #[test]
    fn fixture_bytes() {
        // bg-ops-single.txt field 43 values and bg-errors-single.txt case 11.
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
    fn metadata_decides_before_bins() {
        let outcome = |text: &str| {
            let e = Expression::from_ael(text).unwrap();
            filter_outcome(&e.to_bytes(), &record(), &DIGEST, 400).unwrap()
        };
        assert_eq!(outcome("$.ttl() > 1000"), FilterOutcome::FilteredMeta);
        assert_eq!(
            outcome("$.ttl() > 1000 and $.age == 42"),
            FilterOutcome::FilteredMeta
        );
        assert_eq!(
            outcome("$.ttl() < 1000 or $.age == 1"),
            FilterOutcome::Match
        );
        assert_eq!(
            outcome("$.ttl() < 1000 and $.age == 1"),
            FilterOutcome::FilteredBins
        );
        assert_eq!(
            outcome("$.ttl() < 1000 and $.age == 42"),
            FilterOutcome::Match
        );
        assert_eq!(outcome("$.key() == 'k1'"), FilterOutcome::Match);
        assert_eq!(outcome("$.missing == 1"), FilterOutcome::FilteredBins);
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
        // A variable defined again inside its own scope, or a bad name
        // (exp.c build_let; the first seen refused on an 8.1.2 server).
        let dup = exp::let_(
            vec![exp::def("x", exp::int_val(1))],
            exp::let_(
                vec![exp::def("x", exp::int_val(2))],
                exp::eq(exp::var("x"), exp::int_val(2)),
            ),
        );
        assert_eq!(validate(&dup.to_bytes()), Err(ResultCode::PARAMETER_ERROR));
        let bad_name = exp::let_(
            vec![exp::def("1x", exp::int_val(1))],
            exp::eq(exp::var("1x"), exp::int_val(1)),
        );
        assert_eq!(
            validate(&bad_name.to_bytes()),
            Err(ResultCode::PARAMETER_ERROR)
        );
        let fine = exp::let_(
            vec![
                exp::def("x", exp::int_val(1)),
                exp::def("_y2", exp::int_val(2)),
            ],
            exp::eq(exp::var("x"), exp::var("_y2")),
        );
        assert_eq!(validate(&fine.to_bytes()), Ok(()));
    }
}
