//! Prints an expression as AEL text that parses back to the same expression.
//!
//! Bins, keys and list/map reads carry no type in AEL; the parser infers it
//! from the other operand. The printer mirrors that inference and writes an
//! explicit `.get(type: ...)` wherever inference would give another type.

use std::fmt::{self, Write};

use crate::value::Value;

use super::{op, Call, Ctx, ExpType, Expression, Node, ReturnType};
use crate::operations::list::codes as lc;
use crate::operations::map::codes as mc;

/// Binding strength, loosest first.
const OR: u8 = 1;
const AND: u8 = 2;
const CMP: u8 = 3;
const BIT: u8 = 4;
const SHIFT: u8 = 5;
const ADD: u8 = 6;
const MUL: u8 = 7;
const POW: u8 = 8;
const UNARY: u8 = 9;

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_node(&mut s, &self.node, Some(ExpType::Bool), 0)?;
        f.write_str(&s)
    }
}

/// The static type of a node (`None` for a variable, whose type lives in its `let`).
pub fn node_type(node: &Node) -> Option<ExpType> {
    Some(match node {
        Node::Val(v) => ExpType::of(v),
        Node::Bin(_, t) | Node::Key(t) => *t,
        Node::BinType(_) | Node::DigestModulo(_) => ExpType::Int,
        Node::Meta(code) => match *code {
            op::SET_NAME => ExpType::String,
            op::KEY_EXISTS | op::IS_TOMBSTONE => ExpType::Bool,
            _ => ExpType::Int,
        },
        Node::Cmd(code, args) => match *code {
            op::UNKNOWN => return None,
            op::EQ..=op::LE | op::AND..=op::EXCLUSIVE => ExpType::Bool,
            op::POW | op::LOG | op::FLOOR | op::CEIL | op::TO_FLOAT => ExpType::Float,
            op::ADD..=op::DIV | op::ABS | op::MIN | op::MAX => {
                return args.first().and_then(node_type)
            }
            op::COND => return args.get(1).and_then(node_type),
            _ => ExpType::Int,
        },
        Node::Let(_, body) => return node_type(body),
        Node::Var(_) => return None,
        Node::Call(c) => c.ret,
    })
}

/// True when the parser types this node from its context (it would infer nothing).
fn ctx_typed(node: &Node) -> bool {
    match node {
        Node::Bin(..) | Node::Key(_) => true,
        Node::Call(c) => path_form(c).is_some() && c.rt == Some(ReturnType::VALUE),
        Node::Cmd(code, args) if is_arith(*code) => args.iter().all(ctx_typed),
        _ => false,
    }
}

fn is_arith(code: u8) -> bool {
    matches!(code, op::ADD..=op::DIV | op::ABS | op::MIN | op::MAX)
}

/// The expectation to pass to the operands of an operator whose operands share
/// one type. When every operand is typed by context the parser gives them the
/// outer expectation (for arithmetic only a numeric one), else an integer.
fn shared_expect(
    args: &[&Node],
    ty: Option<ExpType>,
    expect: Option<ExpType>,
    numeric_only: bool,
) -> Option<ExpType> {
    if !args.iter().all(|a| ctx_typed(a)) {
        return ty;
    }
    let outer = if numeric_only {
        expect.filter(|t| matches!(t, ExpType::Int | ExpType::Float))
    } else {
        expect
    };
    let parser_type = outer.unwrap_or(ExpType::Int);
    (Some(parser_type) == ty).then_some(parser_type)
}

fn infix(code: u8, argc: usize) -> Option<(&'static str, u8)> {
    Some(match (code, argc) {
        (op::OR, 2..) => ("or", OR),
        (op::AND, 2..) => ("and", AND),
        (op::EQ, 2) => ("==", CMP),
        (op::NE, 2) => ("!=", CMP),
        (op::GT, 2) => (">", CMP),
        (op::GE, 2) => (">=", CMP),
        (op::LT, 2) => ("<", CMP),
        (op::LE, 2) => ("<=", CMP),
        (op::INT_AND, 2) => ("&", BIT),
        (op::INT_OR, 2) => ("|", BIT),
        (op::INT_XOR, 2) => ("^", BIT),
        (op::INT_LSHIFT, 2) => ("<<", SHIFT),
        (op::INT_ARSHIFT, 2) => (">>", SHIFT),
        (op::INT_RSHIFT, 2) => (">>>", SHIFT),
        (op::ADD, 2) => ("+", ADD),
        (op::SUB, 2) => ("-", ADD),
        (op::MUL, 2) => ("*", MUL),
        (op::DIV, 2) => ("/", MUL),
        (op::MOD, 2) => ("%", MUL),
        (op::POW, 2) => ("**", POW),
        _ => return None,
    })
}

/// Function-call names of operators (also accepted by the parser).
pub fn func_name(code: u8) -> Option<&'static str> {
    Some(match code {
        op::AND => "and",
        op::OR => "or",
        op::NOT => "not",
        op::EXCLUSIVE => "exclusive",
        op::ADD => "add",
        op::SUB => "sub",
        op::MUL => "mul",
        op::DIV => "div",
        op::POW => "pow",
        op::LOG => "log",
        op::MOD => "mod",
        op::ABS => "abs",
        op::FLOOR => "floor",
        op::CEIL => "ceil",
        op::TO_INT => "toInt",
        op::TO_FLOAT => "toFloat",
        op::INT_AND => "intAnd",
        op::INT_OR => "intOr",
        op::INT_XOR => "intXor",
        op::INT_NOT => "intNot",
        op::INT_LSHIFT => "lshift",
        op::INT_RSHIFT => "rshift",
        op::INT_ARSHIFT => "arshift",
        op::INT_COUNT => "countOneBits",
        op::INT_LSCAN => "findBitLeft",
        op::INT_RSCAN => "findBitRight",
        op::MIN => "min",
        op::MAX => "max",
        op::UNKNOWN => "unknown",
        _ => return None,
    })
}

/// Expected operand types of functions with fixed signatures.
pub fn fixed_arg_type(code: u8, i: usize) -> Option<ExpType> {
    Some(match code {
        op::AND | op::OR | op::NOT | op::EXCLUSIVE => ExpType::Bool,
        op::POW | op::LOG | op::FLOOR | op::CEIL | op::TO_INT => ExpType::Float,
        op::INT_LSCAN | op::INT_RSCAN if i == 1 => ExpType::Bool,
        op::TO_FLOAT | op::MOD | op::INT_AND..=op::INT_RSCAN => ExpType::Int,
        _ => return None,
    })
}

fn paren(out: &mut String, wrap: bool, f: impl FnOnce(&mut String) -> fmt::Result) -> fmt::Result {
    if wrap {
        out.push('(');
    }
    f(out)?;
    if wrap {
        out.push(')');
    }
    Ok(())
}

fn write_node(out: &mut String, node: &Node, expect: Option<ExpType>, min: u8) -> fmt::Result {
    match node {
        Node::Val(v) => {
            let negative = matches!(v, Value::Int(i) if *i < 0)
                || matches!(v, Value::Float(x) if x.is_sign_negative());
            paren(out, negative && min > UNARY, |out| write_literal(out, v))
        }
        Node::Bin(name, t) => {
            out.push_str("$.");
            write_name(out, name);
            if expect != Some(*t) {
                write!(out, ".get(type: {})", t.ael_name())?;
            }
            Ok(())
        }
        Node::BinType(name) => {
            out.push_str("$.");
            write_name(out, name);
            out.push_str(".binType()");
            Ok(())
        }
        Node::Key(t) => {
            out.push_str("$.key()");
            if expect != Some(*t) {
                write!(out, ".get(type: {})", t.ael_name())?;
            }
            Ok(())
        }
        Node::Meta(code) => {
            let name = match *code {
                op::DEVICE_SIZE => "deviceSize",
                op::LAST_UPDATE => "lastUpdate",
                op::SINCE_UPDATE => "sinceUpdate",
                op::VOID_TIME => "voidTime",
                op::TTL => "ttl",
                op::SET_NAME => "setName",
                op::KEY_EXISTS => "keyExists",
                op::IS_TOMBSTONE => "isTombstone",
                op::MEMORY_SIZE => "memorySize",
                _ => "recordSize",
            };
            write!(out, "$.{name}()")
        }
        Node::DigestModulo(m) => write!(out, "$.digestModulo({m})"),
        Node::Var(name) => write!(out, "${{{name}}}"),
        Node::Let(defs, body) => {
            out.push_str("let(");
            for (i, (name, e)) in defs.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write!(out, "{name} = ")?;
                write_node(out, e, Some(ExpType::Int), 0)?;
            }
            out.push_str(") then (");
            write_node(out, body, expect, 0)?;
            out.push(')');
            Ok(())
        }
        Node::Cmd(code, args) => write_cmd(out, *code, args, expect, min),
        Node::Call(c) => write_call(out, c, expect, min),
    }
}

fn write_cmd(
    out: &mut String,
    code: u8,
    args: &[Node],
    expect: Option<ExpType>,
    min: u8,
) -> fmt::Result {
    // bin_exists(name) is `ne(binType(name), 0)`.
    if let (op::NE, [Node::BinType(name), Node::Val(Value::Int(0))]) = (code, args) {
        out.push_str("$.");
        write_name(out, name);
        out.push_str(".exists()");
        return Ok(());
    }
    let refs: Vec<&Node> = args.iter().collect();
    let ty = node_type(&Node::Cmd(code, args.to_vec()));
    if code == op::COND && args.len() % 2 == 1 {
        let values: Vec<&Node> = args.iter().skip(1).step_by(2).chain(args.last()).collect();
        let vexp = shared_expect(&values, ty, expect, false);
        out.push_str("when(");
        for pair in args.chunks(2) {
            match pair {
                [c, v] => {
                    write_node(out, c, Some(ExpType::Bool), 0)?;
                    out.push_str(" => ");
                    write_node(out, v, vexp, 0)?;
                    out.push_str(", ");
                }
                [d] => {
                    out.push_str("default => ");
                    write_node(out, d, vexp, 0)?;
                }
                _ => {}
            }
        }
        out.push(')');
        return Ok(());
    }
    if let Some((sym, prec)) = infix(code, args.len()) {
        let (lmin, rmin) = match prec {
            CMP => (CMP + 1, CMP + 1),
            POW => (UNARY, POW),
            p => (p, p + 1),
        };
        let (lexp, rexp) = operand_expects(code, args, expect);
        return paren(out, prec < min, |out| {
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    write!(out, " {sym} ")?;
                }
                let (e, m) = if i == 0 { (lexp, lmin) } else { (rexp, rmin) };
                let m = if prec <= AND { prec + 1 } else { m };
                write_node(out, a, e, m)?;
            }
            Ok(())
        });
    }
    if code == op::INT_NOT {
        return paren(out, UNARY < min, |out| {
            out.push('~');
            write_node(out, &args[0], Some(ExpType::Int), UNARY)
        });
    }
    let name = func_name(code).unwrap_or("unknown");
    out.push_str(name);
    out.push('(');
    let shared = shared_expect(&refs, ty, expect, true);
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let e = fixed_arg_type(code, i).or(shared);
        write_node(out, a, e, 0)?;
    }
    out.push(')');
    Ok(())
}

/// Expectations for the two operands of an infix operator.
fn operand_expects(
    code: u8,
    args: &[Node],
    expect: Option<ExpType>,
) -> (Option<ExpType>, Option<ExpType>) {
    if let Some(t) = fixed_arg_type(code, 0) {
        return (Some(t), Some(t));
    }
    match code {
        op::EQ..=op::LE => {
            let (l, r) = (&args[0], &args[1]);
            let (lt, rt) = (node_type(l), node_type(r));
            match (ctx_typed(l), ctx_typed(r)) {
                (_, false) => (rt, rt),
                (false, true) => (lt, lt),
                (true, true) if lt == Some(ExpType::Int) => (lt, lt),
                (true, true) => (None, lt),
            }
        }
        _ => {
            let refs: Vec<&Node> = args.iter().collect();
            let ty = node_type(&Node::Cmd(code, args.to_vec()));
            let e = shared_expect(&refs, ty, expect, true);
            (e, e)
        }
    }
}

/// True for a read of one element (by index, rank or key).
fn single_element(c: &Call) -> bool {
    matches!(
        c.op,
        lc::GET_BY_INDEX | mc::GET_BY_INDEX | lc::GET_BY_RANK | mc::GET_BY_RANK | mc::GET_BY_KEY
    )
}

fn write_call(out: &mut String, c: &Call, expect: Option<ExpType>, min: u8) -> fmt::Result {
    // The size of the list or map one element holds: `<path>.[].count()`.
    if let (lc::SIZE | mc::SIZE, None, true, Node::Call(inner)) =
        (c.op, c.rt, c.ctx.is_empty(), &c.bin)
    {
        let holds = if c.op == mc::SIZE {
            ExpType::Map
        } else {
            ExpType::List
        };
        if inner.rt == Some(ReturnType::VALUE) && inner.ret == holds && single_element(inner) {
            if let Some(path) = path_form(inner) {
                out.push_str(&path);
                out.push_str(if c.op == mc::SIZE {
                    ".{}.count()"
                } else {
                    ".[].count()"
                });
                return Ok(());
            }
        }
    }
    if let Some(path) = path_form(c) {
        out.push_str(&path);
        let rt = c.rt.unwrap_or(ReturnType::NONE);
        if c.rt.is_none() {
            out.push_str(".count()");
        } else if rt == ReturnType::VALUE {
            if expect != Some(c.ret) {
                write!(out, ".get(type: {})", c.ret.ael_name())?;
            }
        } else if rt == ReturnType::COUNT && c.ret == ExpType::Int && !single_element(c) {
            // On one element `.count()` is the size of what it holds.
            out.push_str(".count()");
        } else if rt == ReturnType::EXISTS && c.ret == ExpType::Bool {
            out.push_str(".exists()");
        } else {
            write!(
                out,
                ".get(type: {}, return: {})",
                c.ret.ael_name(),
                rt.name().unwrap_or("VALUE")
            )?;
        }
        return Ok(());
    }
    if c.op == lc::GET_BY_VALUE
        && c.rt == Some(ReturnType::EXISTS)
        && c.ret == ExpType::Bool
        && c.ctx.is_empty()
    {
        if let [needle] = &c.args[..] {
            let elem = match &c.bin {
                Node::Val(Value::List(l)) => common_type(l),
                _ => None,
            };
            let nexp = if ctx_typed(needle) {
                let t = node_type(needle);
                (t == Some(elem.unwrap_or(ExpType::Int)))
                    .then_some(t)
                    .flatten()
            } else {
                node_type(needle)
            };
            return paren(out, CMP < min, |out| {
                write_node(out, needle, nexp, CMP + 1)?;
                out.push_str(" in ");
                write_node(out, &c.bin, Some(ExpType::List), CMP + 1)
            });
        }
    }
    write!(out, "unknown()")
}

/// The one type every element of a list literal has, if any.
pub fn common_type(l: &[Value]) -> Option<ExpType> {
    let first = ExpType::of(l.first()?);
    l.iter().all(|v| ExpType::of(v) == first).then_some(first)
}

/// The `$.bin.steps` text of a read whose bin and arguments AEL can spell.
fn path_form(c: &Call) -> Option<String> {
    let Node::Bin(name, bin_type) = &c.bin else {
        return None;
    };
    let mut out = String::from("$.");
    write_name(&mut out, name);
    let is_map_op = is_map_op(c.op);
    let first_is_map = match c.ctx.first() {
        Some(step) => matches!(
            step,
            Ctx::MapIndex(_) | Ctx::MapRank(_) | Ctx::MapKey(_) | Ctx::MapValue(_)
        ),
        None => is_map_op,
    };
    let want = if first_is_map {
        ExpType::Map
    } else {
        ExpType::List
    };
    if *bin_type != want {
        return None;
    }
    for step in &c.ctx {
        out.push('.');
        match step {
            Ctx::ListIndex(i) => write!(out, "[{i}]").ok()?,
            Ctx::ListRank(i) => write!(out, "[#{i}]").ok()?,
            Ctx::ListValue(v) => write!(out, "[={}]", step_value(v)?).ok()?,
            Ctx::MapIndex(i) => write!(out, "{{{i}}}").ok()?,
            Ctx::MapRank(i) => write!(out, "{{#{i}}}").ok()?,
            Ctx::MapKey(v) => out.push_str(&key_step(v)?),
            Ctx::MapValue(v) => write!(out, "{{={}}}", step_value(v)?).ok()?,
        }
    }
    out.push('.');
    out.push_str(&op_step(c)?);
    Some(out)
}

fn int_arg(n: &Node) -> Option<i64> {
    match n {
        Node::Val(Value::Int(i)) => Some(*i),
        _ => None,
    }
}

fn val_arg(n: &Node) -> Option<String> {
    match n {
        Node::Val(v) => step_value(v),
        _ => None,
    }
}

fn list_arg(n: &Node) -> Option<String> {
    let Node::Val(Value::List(l)) = n else {
        return None;
    };
    let parts = l.iter().map(step_value).collect::<Option<Vec<_>>>()?;
    Some(if parts.len() == 1 {
        format!("{},", parts[0])
    } else {
        parts.join(",")
    })
}

/// `a:b` from a start and an optional count.
fn span(start: &Node, count: Option<&Node>) -> Option<String> {
    let s = int_arg(start)?;
    Some(match count {
        Some(n) => format!("{s}:{}", s.checked_add(int_arg(n)?)?),
        None => format!("{s}:"),
    })
}

/// True for a map operation code (list codes are below 64).
fn is_map_op(op: i64) -> bool {
    op >= 64
}

fn op_step(c: &Call) -> Option<String> {
    let inv = if c.rt.is_some_and(ReturnType::is_inverted) {
        "!"
    } else {
        ""
    };
    let a = &c.args;
    let range = || span(&a[0], a.get(1));
    let relative = || Some(format!("{}~{}", span(&a[1], a.get(2))?, val_arg(&a[0])?));
    let body = match c.op {
        lc::SIZE | mc::SIZE => String::new(),
        mc::GET_BY_KEY if inv.is_empty() => {
            return key_step(match &a[0] {
                Node::Val(v) => v,
                _ => return None,
            })
        }
        lc::GET_BY_INDEX | mc::GET_BY_INDEX => int_arg(&a[0])?.to_string(),
        lc::GET_BY_RANK | mc::GET_BY_RANK => format!("#{}", int_arg(&a[0])?),
        lc::GET_BY_VALUE | mc::GET_BY_VALUE => format!("={}", val_arg(&a[0])?),
        lc::GET_BY_VALUE_LIST | mc::GET_BY_VALUE_LIST => format!("={}", list_arg(&a[0])?),
        mc::GET_BY_KEY_LIST => list_arg(&a[0])?,
        lc::GET_BY_INDEX_RANGE | mc::GET_BY_INDEX_RANGE => range()?,
        lc::GET_BY_RANK_RANGE | mc::GET_BY_RANK_RANGE => format!("#{}", range()?),
        lc::GET_BY_VALUE_INTERVAL | mc::GET_BY_VALUE_INTERVAL => {
            format!("={}", interval(&a[0], a.get(1))?)
        }
        mc::GET_BY_KEY_INTERVAL => {
            let begin = val_arg(&a[0])?;
            let end = a.get(1).map(val_arg).unwrap_or(Some(String::new()))?;
            format!("{begin}-{end}")
        }
        lc::GET_BY_VALUE_REL_RANK_RANGE | mc::GET_BY_VALUE_REL_RANK_RANGE => {
            format!("#{}", relative()?)
        }
        mc::GET_BY_KEY_REL_INDEX_RANGE => relative()?,
        _ => return None,
    };
    Some(if is_map_op(c.op) {
        format!("{{{inv}{body}}}")
    } else {
        format!("[{inv}{body}]")
    })
}

fn interval(begin: &Node, end: Option<&Node>) -> Option<String> {
    let b = val_arg(begin)?;
    let e = end.map(val_arg).unwrap_or(Some(String::new()))?;
    Some(format!("{b}:{e}"))
}

/// A value as written inside a path step (scalars only).
fn step_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if is_ident(s) && !matches!(s.as_str(), "true" | "false" | "nil") => {
            Some(s.clone())
        }
        Value::Int(_) | Value::Float(_) | Value::Bool(_) | Value::Nil | Value::String(_) => {
            let mut s = String::new();
            write_literal(&mut s, v).ok()?;
            Some(s)
        }
        _ => None,
    }
}

/// A map-key step: `name`, `"quoted"` or `42`.
fn key_step(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if is_ident(s) => Some(s.clone()),
        Value::String(_) => step_value(v),
        Value::Int(i) if *i >= 0 => Some(i.to_string()),
        _ => None,
    }
}

/// True for names the lexer reads as one identifier.
pub fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn write_name(out: &mut String, name: &str) {
    if is_ident(name) {
        out.push_str(name);
    } else {
        write_str(out, name);
    }
}

fn write_str(out: &mut String, s: &str) {
    let q = if s.contains('\'') { '"' } else { '\'' };
    out.push(q);
    out.push_str(s);
    out.push(q);
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Writes a literal value.
pub fn write_literal(out: &mut String, v: &Value) -> fmt::Result {
    match v {
        Value::Nil => out.push_str("nil"),
        Value::Int(i) => write!(out, "{i}")?,
        Value::Float(x) => {
            let s = format!("{x}");
            out.push_str(&s);
            if !s.contains('.') && x.is_finite() {
                out.push_str(".0");
            }
        }
        Value::String(s) => write_str(out, s),
        Value::Bool(b) => write!(out, "{b}")?,
        Value::Blob(b) => write!(out, "blob('{}')", hex(b))?,
        Value::Hll(b) => write!(out, "hll('{}')", hex(b))?,
        Value::GeoJson(s) => {
            out.push_str("geoJson(");
            write_str(out, s);
            out.push(')');
        }
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_literal(out, x)?;
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_literal(out, k)?;
                out.push_str(": ");
                write_literal(out, x)?;
            }
            out.push('}');
        }
    }
    Ok(())
}
