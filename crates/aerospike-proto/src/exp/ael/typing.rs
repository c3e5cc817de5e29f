//! Type inference: gives bins, keys and list/map reads a type, then builds the
//! expression tree.
//!
//! Rules: a literal, metadata call or explicit `.get(type: ...)` has its own
//! type; a comparison gives an untyped side the type of the other side; an
//! untyped operand of arithmetic takes the type of its typed siblings; an
//! untyped operand in a logical position is a boolean; anything else untyped is
//! an integer (a list for range selections).

use super::parser::{Ast, Kind, Path, PathFn, Sel, Step};
use super::{err, Pos};
use crate::error::Error;
use crate::exp::display::{common_type, func_name, node_type};
use crate::exp::pack::arity;
use crate::exp::{op, Call, Ctx, ExpType, Node, ReturnType};
use crate::operations::list::codes as lc;
use crate::operations::map::codes as mc;
use crate::value::Value;

type Scope = Vec<(String, Option<ExpType>)>;

/// Builds a whole where-clause, which must be boolean.
pub(super) fn build_filter(ast: &Ast) -> Result<Node, Error> {
    let mut scope = Scope::new();
    check_bool(ast, &scope)?;
    build(ast, Some(ExpType::Bool), &mut scope)
}

/// Builds an expression of any type (the expression of an expression read or
/// write): its own inferred type is what is expected of it.
pub(super) fn build_value(ast: &Ast) -> Result<Node, Error> {
    let mut scope = Scope::new();
    let t = infer(ast, &scope);
    build(ast, t, &mut scope)
}

fn check_bool(ast: &Ast, scope: &Scope) -> Result<(), Error> {
    match infer(ast, scope) {
        None if is_arithmetic(ast) => Err(err(
            ast.pos,
            "expected a boolean expression, found a number",
        )),
        None | Some(ExpType::Bool) => Ok(()),
        Some(t) => Err(err(
            ast.pos,
            format!("expected a boolean expression, found {}", t.ael_name()),
        )),
    }
}

/// True for arithmetic and bitwise forms: numbers even when their operands'
/// types are still open (`$.a * $.b`).
fn is_arithmetic(ast: &Ast) -> bool {
    match &ast.kind {
        Kind::Binary(code, ..) => !(op::EQ..=op::LE).contains(code),
        Kind::Neg(_) | Kind::BitNot(_) => true,
        Kind::Func(name, _) => op_code(name)
            .is_some_and(|c| matches!(c, op::ADD..=op::DIV | op::ABS | op::MIN | op::MAX)),
        _ => false,
    }
}

fn op_code(name: &str) -> Option<u8> {
    (0u8..=127).find(|c| func_name(*c) == Some(name))
}

fn numeric(t: Option<ExpType>) -> Option<ExpType> {
    t.filter(|t| matches!(t, ExpType::Int | ExpType::Float))
}

/// The type an expression has on its own, `None` when its context decides.
fn infer(ast: &Ast, scope: &Scope) -> Option<ExpType> {
    match &ast.kind {
        Kind::Lit(v) | Kind::Num(v) => Some(ExpType::of(v)),
        Kind::Cast(_, t) => Some(*t),
        Kind::Path(p) => infer_path(p),
        Kind::Meta(name, _, ty) => match name.as_str() {
            "key" => *ty,
            "setName" => Some(ExpType::String),
            "keyExists" | "isTombstone" => Some(ExpType::Bool),
            _ => Some(ExpType::Int),
        },
        Kind::Var(v) => scope
            .iter()
            .rev()
            .find(|(n, _)| n == v)
            .and_then(|(_, t)| *t),
        Kind::Neg(inner) => infer(inner, scope),
        Kind::BitNot(_) => Some(ExpType::Int),
        Kind::Binary(code, l, r) => match *code {
            op::EQ..=op::LE => Some(ExpType::Bool),
            op::ADD..=op::DIV => infer(l, scope).or_else(|| infer(r, scope)),
            op::POW => Some(ExpType::Float),
            _ => Some(ExpType::Int),
        },
        Kind::In(..) | Kind::Logic(..) => Some(ExpType::Bool),
        Kind::Let(defs, body) => {
            let mut inner = scope.clone();
            for (name, e) in defs {
                let t = build(e, None, &mut inner.clone())
                    .ok()
                    .and_then(|n| node_type(&n));
                inner.push((name.clone(), t));
            }
            infer(body, &inner)
        }
        Kind::When(pairs, default) => pairs
            .iter()
            .map(|(_, v)| v)
            .chain(std::iter::once(&**default))
            .find_map(|v| infer(v, scope)),
        Kind::Func(name, args) => match name.as_str() {
            "blob" => Some(ExpType::Blob),
            "hll" => Some(ExpType::Hll),
            "geoJson" => Some(ExpType::Geo),
            _ => match op_code(name)? {
                op::ADD..=op::DIV | op::ABS | op::MIN | op::MAX => {
                    args.iter().find_map(|a| infer(a, scope))
                }
                code => node_type(&Node::Cmd(code, Vec::new())),
            },
        },
    }
}

fn infer_path(p: &Path) -> Option<ExpType> {
    match &p.func {
        // `$.bin.[]` and `$.bin.{}` are the whole list or map.
        None => match p.steps.last() {
            Some((_, Step::All { map })) => Some(if *map { ExpType::Map } else { ExpType::List }),
            _ => None,
        },
        Some((_, f)) => match f {
            PathFn::Get(Some(t), _) => Some(*t),
            PathFn::Get(None, Some(rt)) if *rt != ReturnType::VALUE => {
                let last = p.steps.last().map(|(_, s)| s);
                Some(natural_type(
                    *rt,
                    last.is_some_and(is_single),
                    last.is_some_and(is_map_step),
                ))
            }
            PathFn::Get(None, _) => None,
            PathFn::Count | PathFn::BinType | PathFn::AsInt => Some(ExpType::Int),
            PathFn::Exists => Some(ExpType::Bool),
            PathFn::AsFloat => Some(ExpType::Float),
        },
    }
}

/// True for steps that select one element.
fn is_single(s: &Step) -> bool {
    matches!(
        s,
        Step::Key(_)
            | Step::Sel {
                sel: Sel::Index(_) | Sel::Rank(_),
                ..
            }
    )
}

fn is_map_step(s: &Step) -> bool {
    matches!(
        s,
        Step::Key(_) | Step::All { map: true } | Step::Sel { map: true, .. }
    )
}

/// The type a read gives with a return type other than VALUE.
fn natural_type(rt: ReturnType, single: bool, map: bool) -> ExpType {
    if !single {
        return rt.range_type(map);
    }
    match rt.base() {
        ReturnType::EXISTS => ExpType::Bool,
        ReturnType::NONE => ExpType::Nil,
        ReturnType::KEY_VALUE | ReturnType::ORDERED_MAP | ReturnType::UNORDERED_MAP => ExpType::Map,
        _ => ExpType::Int,
    }
}

fn build(ast: &Ast, expected: Option<ExpType>, scope: &mut Scope) -> Result<Node, Error> {
    Ok(match &ast.kind {
        Kind::Lit(v) | Kind::Num(v) => Node::Val(v.clone()),
        // A cast is a conversion the server runs, on literals too (as the
        // official parser builds it).
        Kind::Cast(inner, t) => match &inner.kind {
            Kind::Num(v) => Node::Cmd(cast_op(*t), vec![Node::Val(v.clone())]),
            _ => return Err(err(ast.pos, "expected a number before the cast")),
        },
        Kind::Path(p) => build_path(p, ast.pos, expected)?,
        Kind::Meta(name, arg, ty) => match name.as_str() {
            "key" => Node::Key(ty.or(expected).unwrap_or(ExpType::Int)),
            "digestModulo" => Node::DigestModulo(arg.unwrap_or(1)),
            other => Node::Meta(match other {
                "deviceSize" => op::DEVICE_SIZE,
                "memorySize" => op::MEMORY_SIZE,
                "recordSize" => op::RECORD_SIZE,
                "isTombstone" => op::IS_TOMBSTONE,
                "keyExists" => op::KEY_EXISTS,
                "lastUpdate" | "lastUpdateTime" => op::LAST_UPDATE,
                "sinceUpdate" | "timeSinceLastUpdate" => op::SINCE_UPDATE,
                "setName" => op::SET_NAME,
                "voidTime" => op::VOID_TIME,
                _ => op::TTL,
            }),
        },
        Kind::Var(v) => {
            if !scope.iter().any(|(n, _)| n == v) {
                return Err(err(ast.pos, format!("unknown variable ${{{v}}}")));
            }
            Node::Var(v.clone())
        }
        Kind::Neg(inner) if matches!(&inner.kind, Kind::Cast(c, _) if matches!(c.kind, Kind::Num(Value::Int(i64::MIN)))) => {
            return Err(err(ast.pos, "integer literal out of range after '-'"))
        }
        Kind::Neg(inner) => match &inner.kind {
            Kind::Num(Value::Int(i)) => {
                Node::Val(Value::Int(i.checked_neg().ok_or_else(|| {
                    err(ast.pos, "integer literal out of range after '-'")
                })?))
            }
            Kind::Num(Value::Float(x)) => Node::Val(Value::Float(-x)),
            _ => Node::Cmd(op::SUB, vec![build(inner, expected, scope)?]),
        },
        Kind::BitNot(inner) => Node::Cmd(op::INT_NOT, vec![typed(inner, ExpType::Int, scope)?]),
        Kind::Binary(code, l, r) => build_binary(*code, ast.pos, l, r, expected, scope)?,
        // The official typing: a literal list holds one type, which the
        // left side must have; against any other list the left side's own
        // type must be known.
        Kind::In(l, r) => {
            let elem =
                match &r.kind {
                    Kind::Lit(Value::List(items)) if items.is_empty() => None,
                    Kind::Lit(Value::List(items)) => Some(common_type(items).ok_or_else(|| {
                        err(r.pos, "the values of an 'in' list must be of one type")
                    })?),
                    Kind::Lit(_) => return Err(err(r.pos, "expected a list after 'in'")),
                    _ => None,
                };
            let own = infer(l, scope);
            let numeric = |t: ExpType| matches!(t, ExpType::Int | ExpType::Float);
            if let (Some(a), Some(b)) = (own, elem) {
                if a != b && !(numeric(a) && numeric(b)) {
                    return Err(err(
                        l.pos,
                        format!("cannot look for a {a:?} value in a list of {b:?} values"),
                    ));
                }
            }
            if own.is_none() && elem.is_none() && !matches!(r.kind, Kind::Lit(_) | Kind::Num(_)) {
                return Err(err(
                    l.pos,
                    "the type of the value before 'in' must be known: add .get(type: ...)",
                ));
            }
            let t = own.or(elem).unwrap_or(ExpType::Int);
            let needle = build(l, Some(t), scope)?;
            let list = typed(r, ExpType::List, scope)?;
            Node::Call(Box::new(Call {
                ret: ExpType::Bool,
                op: lc::GET_BY_VALUE,
                rt: Some(ReturnType::EXISTS),
                args: vec![needle],
                ctx: Vec::new(),
                bin: list,
            }))
        }
        Kind::Logic(code, args) => Node::Cmd(*code, bools(args, scope)?),
        Kind::Let(defs, body) => {
            let depth = scope.len();
            let mut out = Vec::with_capacity(defs.len());
            for (name, e) in defs {
                // A server refuses a name defined again inside its own scope
                // (exp.c build_let: "duplicate var name").
                if scope.iter().any(|(n, _)| n == name) {
                    scope.truncate(depth);
                    return Err(err(
                        ast.pos,
                        format!("variable {name} is already defined here"),
                    ));
                }
                let node = build(e, None, scope)?;
                scope.push((name.clone(), node_type(&node)));
                out.push((name.clone(), node));
            }
            let body = build(body, expected, scope);
            scope.truncate(depth);
            Node::Let(out, Box::new(body?))
        }
        Kind::When(pairs, default) => {
            let values: Vec<&Ast> = pairs
                .iter()
                .map(|(_, v)| v)
                .chain(std::iter::once(&**default))
                .collect();
            let t = values
                .iter()
                .find_map(|v| infer(v, scope))
                .or(expected)
                .unwrap_or(ExpType::Int);
            let mut args = Vec::new();
            for (c, v) in pairs {
                check_bool(c, scope)?;
                args.push(build(c, Some(ExpType::Bool), scope)?);
                args.push(build(v, Some(t), scope)?);
            }
            args.push(build(default, Some(t), scope)?);
            Node::Cmd(op::COND, args)
        }
        Kind::Func(name, args) => build_func(name, ast.pos, args, expected, scope)?,
    })
}

/// Builds `ast` as type `t`, refusing an expression of another type.
fn typed(ast: &Ast, t: ExpType, scope: &mut Scope) -> Result<Node, Error> {
    match infer(ast, scope) {
        Some(found) if found != t => Err(err(
            ast.pos,
            format!("expected {}, found {}", t.ael_name(), found.ael_name()),
        )),
        _ => build(ast, Some(t), scope),
    }
}

fn bools(args: &[Ast], scope: &mut Scope) -> Result<Vec<Node>, Error> {
    args.iter()
        .map(|a| {
            check_bool(a, scope)?;
            build(a, Some(ExpType::Bool), scope)
        })
        .collect()
}

/// The shared numeric type of arithmetic operands.
fn arith_type(
    pos: Pos,
    args: &[&Ast],
    expected: Option<ExpType>,
    scope: &Scope,
) -> Result<ExpType, Error> {
    let mut found: Option<ExpType> = None;
    for a in args {
        if let Some(t) = infer(a, scope) {
            match found {
                Some(f) if f != t => {
                    return Err(err(
                        pos,
                        format!(
                            "operands must have the same type, found {} and {}",
                            f.ael_name(),
                            t.ael_name()
                        ),
                    ))
                }
                _ => found = Some(t),
            }
        }
    }
    // Arithmetic is a number: where another type is expected (a string on
    // the other side of a comparison), the server would refuse the filter.
    if let Some(e) = expected.filter(|e| !matches!(e, ExpType::Int | ExpType::Float)) {
        return Err(err(
            pos,
            format!("arithmetic gives a number, not {}", e.ael_name()),
        ));
    }
    let t = found.or(numeric(expected)).unwrap_or(ExpType::Int);
    if !matches!(t, ExpType::Int | ExpType::Float) {
        return Err(err(
            pos,
            format!("expected INT or FLOAT operands, found {}", t.ael_name()),
        ));
    }
    Ok(t)
}

fn build_binary(
    code: u8,
    pos: Pos,
    l: &Ast,
    r: &Ast,
    expected: Option<ExpType>,
    scope: &mut Scope,
) -> Result<Node, Error> {
    let t = match code {
        op::EQ..=op::LE => {
            let (lt, rt) = (infer(l, scope), infer(r, scope));
            if let (Some(a), Some(b)) = (lt, rt) {
                if a != b {
                    return Err(err(
                        pos,
                        format!("cannot compare {} with {}", a.ael_name(), b.ael_name()),
                    ));
                }
            }
            lt.or(rt).unwrap_or(ExpType::Int)
        }
        op::ADD..=op::DIV => arith_type(pos, &[l, r], expected, scope)?,
        op::POW => ExpType::Float,
        _ => ExpType::Int,
    };
    let (a, b) = if matches!(code, op::EQ..=op::LE) {
        (build(l, Some(t), scope)?, build(r, Some(t), scope)?)
    } else {
        (typed(l, t, scope)?, typed(r, t, scope)?)
    };
    Ok(Node::Cmd(code, vec![a, b]))
}

fn hex_arg(pos: Pos, args: &[Ast]) -> Result<Vec<u8>, Error> {
    let s = string_arg(pos, args)?;
    if s.len() % 2 != 0 {
        return Err(err(pos, "expected an even number of hex digits"));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| err(pos, "expected hex digits"))
        })
        .collect()
}

fn string_arg(pos: Pos, args: &[Ast]) -> Result<String, Error> {
    match args {
        [Ast {
            kind: Kind::Lit(Value::String(s)),
            ..
        }] => Ok(s.clone()),
        _ => Err(err(pos, "expected one string argument")),
    }
}

fn build_func(
    name: &str,
    pos: Pos,
    args: &[Ast],
    expected: Option<ExpType>,
    scope: &mut Scope,
) -> Result<Node, Error> {
    match name {
        "blob" => return Ok(Node::Val(Value::Blob(hex_arg(pos, args)?))),
        "hll" => return Ok(Node::Val(Value::Hll(hex_arg(pos, args)?))),
        "geoJson" => return Ok(Node::Val(Value::GeoJson(string_arg(pos, args)?))),
        _ => {}
    }
    let code = op_code(name).ok_or_else(|| err(pos, format!("unknown function '{name}'")))?;
    let (lo, hi) = arity(code).unwrap_or((0, 0));
    // `min` and `max` compare at least two values, as the official parser
    // requires (the server would accept one).
    let lo = if matches!(code, op::MIN | op::MAX) {
        2
    } else {
        lo
    };
    if args.len() < lo || args.len() > hi {
        return Err(err(
            pos,
            format!("wrong number of arguments for '{name}': {}", args.len()),
        ));
    }
    let nodes = match code {
        op::AND | op::OR | op::NOT | op::EXCLUSIVE => bools(args, scope)?,
        op::ADD..=op::DIV | op::ABS | op::MIN | op::MAX => {
            let refs: Vec<&Ast> = args.iter().collect();
            let t = arith_type(pos, &refs, expected, scope)?;
            args.iter()
                .map(|a| typed(a, t, scope))
                .collect::<Result<_, _>>()?
        }
        _ => args
            .iter()
            .enumerate()
            .map(
                |(i, a)| match crate::exp::display::fixed_arg_type(code, i) {
                    Some(t) => typed(a, t, scope),
                    None => build(a, None, scope),
                },
            )
            .collect::<Result<_, _>>()?,
    };
    Ok(Node::Cmd(code, nodes))
}

fn step_ctx(pos: Pos, step: &Step) -> Result<Option<Ctx>, Error> {
    Ok(Some(match step {
        Step::Key(k) => Ctx::MapKey(k.clone()),
        Step::All { .. } => return Ok(None),
        Step::Sel {
            map,
            inverted: false,
            sel,
        } => {
            match (map, sel) {
                (false, Sel::Index(i)) => Ctx::ListIndex(*i),
                (false, Sel::Rank(i)) => Ctx::ListRank(*i),
                (false, Sel::Value(v)) => Ctx::ListValue(v.clone()),
                (true, Sel::Index(i)) => Ctx::MapIndex(*i),
                (true, Sel::Rank(i)) => Ctx::MapRank(*i),
                (true, Sel::Value(v)) => Ctx::MapValue(v.clone()),
                _ => return Err(err(
                    pos,
                    "expected a single-element step here: ranges and lists must be the last step",
                )),
            }
        }
        Step::Sel { .. } => return Err(err(pos, "expected '!' only on the last step")),
    }))
}

fn count_of(pos: Pos, start: i64, end: Option<i64>) -> Result<Option<Node>, Error> {
    end.map(|e| {
        e.checked_sub(start)
            .filter(|c| *c >= 0)
            .map(|c| Node::Val(Value::Int(c)))
            .ok_or_else(|| err(pos, "expected a range end not before its start"))
    })
    .transpose()
}

fn val(v: &Value) -> Node {
    Node::Val(v.clone())
}

fn bound(v: &Option<Value>) -> Option<Node> {
    v.as_ref().map(val)
}

/// Operation code, arguments and whether it selects a single element.
fn sel_op(pos: Pos, map: bool, sel: &Sel) -> Result<(i64, Vec<Node>, bool), Error> {
    let int = |i: &i64| Node::Val(Value::Int(*i));
    let pick = |l: i64, m: i64| if map { m } else { l };
    // `[anchor,] start[, count]` of a range from `s` to the exclusive `e`.
    let span = |anchor: Option<&Value>, s: &i64, e: &Option<i64>| -> Result<Vec<Node>, Error> {
        Ok(anchor
            .map(val)
            .into_iter()
            .chain([int(s)])
            .chain(count_of(pos, *s, *e)?)
            .collect())
    };
    Ok(match sel {
        Sel::Index(i) => (pick(lc::GET_BY_INDEX, mc::GET_BY_INDEX), vec![int(i)], true),
        Sel::Rank(i) => (pick(lc::GET_BY_RANK, mc::GET_BY_RANK), vec![int(i)], true),
        Sel::Value(v) => (
            pick(lc::GET_BY_VALUE, mc::GET_BY_VALUE),
            vec![val(v)],
            false,
        ),
        Sel::ValueList(l) => (
            pick(lc::GET_BY_VALUE_LIST, mc::GET_BY_VALUE_LIST),
            vec![Node::Val(Value::List(l.clone()))],
            false,
        ),
        Sel::ValueRange(b, e) => (
            pick(lc::GET_BY_VALUE_INTERVAL, mc::GET_BY_VALUE_INTERVAL),
            std::iter::once(val(b)).chain(bound(e)).collect(),
            false,
        ),
        Sel::IndexRange(s, e) => (
            pick(lc::GET_BY_INDEX_RANGE, mc::GET_BY_INDEX_RANGE),
            span(None, s, e)?,
            false,
        ),
        Sel::RankRange(s, e) => (
            pick(lc::GET_BY_RANK_RANGE, mc::GET_BY_RANK_RANGE),
            span(None, s, e)?,
            false,
        ),
        Sel::RelRank(s, e, v) => (
            pick(
                lc::GET_BY_VALUE_REL_RANK_RANGE,
                mc::GET_BY_VALUE_REL_RANK_RANGE,
            ),
            span(Some(v), s, e)?,
            false,
        ),
        Sel::RelIndex(s, e, k) => (mc::GET_BY_KEY_REL_INDEX_RANGE, span(Some(k), s, e)?, false),
        Sel::KeyRange(b, e) => (
            mc::GET_BY_KEY_INTERVAL,
            std::iter::once(val(b)).chain(bound(e)).collect(),
            false,
        ),
        Sel::KeyList(l) => (
            mc::GET_BY_KEY_LIST,
            vec![Node::Val(Value::List(l.clone()))],
            false,
        ),
    })
}

fn build_path(p: &Path, pos: Pos, expected: Option<ExpType>) -> Result<Node, Error> {
    let bin = |t: ExpType| Node::Bin(p.bin.clone(), t);
    let Some(((last_pos, last), rest)) = p.steps.split_last() else {
        return Ok(match &p.func {
            None | Some((_, PathFn::Get(None, None))) => bin(expected.unwrap_or(ExpType::Int)),
            Some((_, PathFn::Get(Some(t), None))) => bin(*t),
            Some((_, PathFn::Get(t, Some(ReturnType::VALUE)))) => {
                bin(t.or(expected).unwrap_or(ExpType::Int))
            }
            Some((fpos, PathFn::Get(_, Some(_)))) => {
                return Err(err(*fpos, "expected a list or map step before 'return:'"))
            }
            // `.asInt()` converts a float bin, `.asFloat()` an integer one.
            Some((_, PathFn::AsInt)) => Node::Cmd(op::TO_INT, vec![bin(ExpType::Float)]),
            Some((_, PathFn::AsFloat)) => Node::Cmd(op::TO_FLOAT, vec![bin(ExpType::Int)]),
            Some((_, PathFn::BinType)) => Node::BinType(p.bin.clone()),
            Some((_, PathFn::Exists)) => Node::Cmd(
                op::NE,
                vec![Node::BinType(p.bin.clone()), Node::Val(Value::Int(0))],
            ),
            Some((_, PathFn::Count)) => Node::Call(Box::new(Call {
                ret: ExpType::Int,
                op: lc::SIZE,
                rt: None,
                args: Vec::new(),
                ctx: Vec::new(),
                bin: bin(ExpType::List),
            })),
        });
    };
    let bin_type = if is_map_step(&p.steps[0].1) {
        ExpType::Map
    } else {
        ExpType::List
    };
    let mut ctx = Vec::new();
    for (spos, s) in rest {
        ctx.extend(step_ctx(*spos, s)?);
    }
    let func = p.func.as_ref().map(|(_, f)| f);
    // The size of a collection (official AEL): `count()` on one element is
    // the size of the list or map found there; on a multi-value selection,
    // how many values it selects.
    let size_of = |container: Node, map: bool| {
        Node::Call(Box::new(Call {
            ret: ExpType::Int,
            op: if map { mc::SIZE } else { lc::SIZE },
            rt: None,
            args: Vec::new(),
            ctx: Vec::new(),
            bin: container,
        }))
    };
    let read = |step_pos: Pos, step: &Step, ret: ExpType, rt: ReturnType, ctx: Vec<_>| {
        let (code, args, _) = step_read(step_pos, step)?;
        let inverted = matches!(step, Step::Sel { inverted: true, .. });
        Ok::<_, Error>(Node::Call(Box::new(Call {
            ret,
            op: code,
            rt: Some(if inverted { rt.inverted() } else { rt }),
            args,
            ctx,
            bin: bin(bin_type),
        })))
    };
    if let Step::All { map } = last {
        return match (func, rest.split_last()) {
            (Some(PathFn::Count), None) => Ok(Node::Call(Box::new(Call {
                ret: ExpType::Int,
                op: if *map { mc::SIZE } else { lc::SIZE },
                rt: None,
                args: Vec::new(),
                ctx,
                bin: bin(bin_type),
            }))),
            (Some(PathFn::Count), Some(((prev_pos, prev), earlier))) => {
                let mut ctx = Vec::new();
                for (spos, s) in earlier {
                    ctx.extend(step_ctx(*spos, s)?);
                }
                if is_single(prev) {
                    let ret = if *map { ExpType::Map } else { ExpType::List };
                    let inner = read(*prev_pos, prev, ret, ReturnType::VALUE, ctx)?;
                    Ok(size_of(inner, *map))
                } else {
                    read(*prev_pos, prev, ExpType::Int, ReturnType::COUNT, ctx)
                }
            }
            _ if ctx.is_empty() && rest.is_empty() => Ok(bin(bin_type)),
            _ => Err(err(*last_pos, "expected '.count()' after '[]' or '{}'")),
        };
    }
    if func == Some(&PathFn::Count) && is_single(last) {
        let inner = read(*last_pos, last, ExpType::List, ReturnType::VALUE, ctx)?;
        return Ok(size_of(inner, false));
    }
    let (_, _, single) = step_read(*last_pos, last)?;
    // A multi-value selection's values are a list, whatever the context or
    // `.get(type: ...)` says (the official typing): compared with a scalar,
    // the server refuses the filter instead of silently matching nothing.
    let value_type = if single {
        expected.unwrap_or(ExpType::Int)
    } else {
        ExpType::List
    };
    let (rt, ret) = match func {
        None => (ReturnType::VALUE, value_type),
        Some(PathFn::Count) => (ReturnType::COUNT, ExpType::Int),
        Some(PathFn::Exists) => (ReturnType::EXISTS, ExpType::Bool),
        // The element is read as the type the cast converts from (a list
        // for a multi-value selection) and converted below.
        Some(PathFn::AsInt) => (
            ReturnType::VALUE,
            if single {
                ExpType::Float
            } else {
                ExpType::List
            },
        ),
        Some(PathFn::AsFloat) => (
            ReturnType::VALUE,
            if single { ExpType::Int } else { ExpType::List },
        ),
        Some(PathFn::Get(t, rt)) => {
            let rt = rt.unwrap_or(ReturnType::VALUE);
            match rt {
                ReturnType::VALUE if !single => (rt, ExpType::List),
                ReturnType::VALUE => (rt, t.unwrap_or(value_type)),
                _ => (rt, t.unwrap_or(natural_type(rt, single, is_map_step(last)))),
            }
        }
        Some(PathFn::BinType) => {
            return Err(err(pos, "expected 'binType()' directly after the bin name"))
        }
    };
    let call = read(*last_pos, last, ret, rt, ctx)?;
    Ok(match func {
        Some(PathFn::AsInt) => Node::Cmd(op::TO_INT, vec![call]),
        Some(PathFn::AsFloat) => Node::Cmd(op::TO_FLOAT, vec![call]),
        _ => call,
    })
}

/// The read operation, arguments and single-element flag of a list or map
/// step.
fn step_read(pos: Pos, step: &Step) -> Result<(i64, Vec<Node>, bool), Error> {
    match step {
        Step::Key(k) => Ok((mc::GET_BY_KEY, vec![val(k)], true)),
        Step::Sel { map, sel, .. } => sel_op(pos, *map, sel),
        Step::All { .. } => Err(err(pos, "expected a selection")),
    }
}

/// The conversion a cast to `t` runs.
fn cast_op(t: ExpType) -> u8 {
    if t == ExpType::Float {
        op::TO_FLOAT
    } else {
        op::TO_INT
    }
}
