//! The wire form of expressions (field 43), both ways.
//!
//! Rules, as the official clients pack them and the server reads them:
//! * an operator is an array `[opcode, args...]`;
//! * a bin is `[81, type, name]` with the name as a plain msgpack string;
//! * strings, blobs and GeoJSON literals are msgpack strings with a
//!   particle-type prefix byte (3, 4, 23), exactly like values inside a list;
//! * a list literal is quoted, `[126, list]`, so it is not read as an operator;
//!   a map literal is a plain msgpack map;
//! * `let` is `[125, name1, exp1, ..., scope]` and a variable `[124, name]`;
//! * a list or map read is `[127, result type, 0, cdt-op, bin]` where the
//!   cdt-op is `[op, return type, args...]`, wrapped as
//!   `[0xff, [ctx id, ctx value, ...], [op, ...]]` when it has a context.

use crate::operations::list::codes as lc;
use crate::operations::map::codes as mc;
use crate::value::Value;
use crate::wire::msgpack::{self, Reader};
use crate::wire::DecodeError;

use super::{Call, Ctx, ExpType, Node, ReturnType};

/// Expression opcodes.
pub mod op {
    /// Expression op code: unknown (`0`).
    pub const UNKNOWN: u8 = 0;
    /// Expression op code: eq (`1`).
    pub const EQ: u8 = 1;
    /// Expression op code: ne (`2`).
    pub const NE: u8 = 2;
    /// Expression op code: gt (`3`).
    pub const GT: u8 = 3;
    /// Expression op code: ge (`4`).
    pub const GE: u8 = 4;
    /// Expression op code: lt (`5`).
    pub const LT: u8 = 5;
    /// Expression op code: le (`6`).
    pub const LE: u8 = 6;
    /// Expression op code: and (`16`).
    pub const AND: u8 = 16;
    /// Expression op code: or (`17`).
    pub const OR: u8 = 17;
    /// Expression op code: not (`18`).
    pub const NOT: u8 = 18;
    /// Expression op code: exclusive (`19`).
    pub const EXCLUSIVE: u8 = 19;
    /// Expression op code: add (`20`).
    pub const ADD: u8 = 20;
    /// Expression op code: sub (`21`).
    pub const SUB: u8 = 21;
    /// Expression op code: mul (`22`).
    pub const MUL: u8 = 22;
    /// Expression op code: div (`23`).
    pub const DIV: u8 = 23;
    /// Expression op code: pow (`24`).
    pub const POW: u8 = 24;
    /// Expression op code: log (`25`).
    pub const LOG: u8 = 25;
    /// Expression op code: mod (`26`).
    pub const MOD: u8 = 26;
    /// Expression op code: abs (`27`).
    pub const ABS: u8 = 27;
    /// Expression op code: floor (`28`).
    pub const FLOOR: u8 = 28;
    /// Expression op code: ceil (`29`).
    pub const CEIL: u8 = 29;
    /// Expression op code: to int (`30`).
    pub const TO_INT: u8 = 30;
    /// Expression op code: to float (`31`).
    pub const TO_FLOAT: u8 = 31;
    /// Expression op code: int and (`32`).
    pub const INT_AND: u8 = 32;
    /// Expression op code: int or (`33`).
    pub const INT_OR: u8 = 33;
    /// Expression op code: int xor (`34`).
    pub const INT_XOR: u8 = 34;
    /// Expression op code: int not (`35`).
    pub const INT_NOT: u8 = 35;
    /// Expression op code: int lshift (`36`).
    pub const INT_LSHIFT: u8 = 36;
    /// Expression op code: int rshift (`37`).
    pub const INT_RSHIFT: u8 = 37;
    /// Expression op code: int arshift (`38`).
    pub const INT_ARSHIFT: u8 = 38;
    /// Expression op code: int count (`39`).
    pub const INT_COUNT: u8 = 39;
    /// Expression op code: int lscan (`40`).
    pub const INT_LSCAN: u8 = 40;
    /// Expression op code: int rscan (`41`).
    pub const INT_RSCAN: u8 = 41;
    /// Expression op code: min (`50`).
    pub const MIN: u8 = 50;
    /// Expression op code: max (`51`).
    pub const MAX: u8 = 51;
    /// Expression op code: digest modulo (`64`).
    pub const DIGEST_MODULO: u8 = 64;
    /// Expression op code: device size (`65`).
    pub const DEVICE_SIZE: u8 = 65;
    /// Expression op code: last update (`66`).
    pub const LAST_UPDATE: u8 = 66;
    /// Expression op code: since update (`67`).
    pub const SINCE_UPDATE: u8 = 67;
    /// Expression op code: void time (`68`).
    pub const VOID_TIME: u8 = 68;
    /// Expression op code: ttl (`69`).
    pub const TTL: u8 = 69;
    /// Expression op code: set name (`70`).
    pub const SET_NAME: u8 = 70;
    /// Expression op code: key exists (`71`).
    pub const KEY_EXISTS: u8 = 71;
    /// Expression op code: is tombstone (`72`).
    pub const IS_TOMBSTONE: u8 = 72;
    /// Expression op code: memory size (`73`).
    pub const MEMORY_SIZE: u8 = 73;
    /// Expression op code: record size (`74`).
    pub const RECORD_SIZE: u8 = 74;
    /// Expression op code: key (`80`).
    pub const KEY: u8 = 80;
    /// Expression op code: bin (`81`).
    pub const BIN: u8 = 81;
    /// Expression op code: bin type (`82`).
    pub const BIN_TYPE: u8 = 82;
    /// Expression op code: cond (`123`).
    pub const COND: u8 = 123;
    /// Expression op code: var (`124`).
    pub const VAR: u8 = 124;
    /// Expression op code: let (`125`).
    pub const LET: u8 = 125;
    /// Expression op code: quoted (`126`).
    pub const QUOTED: u8 = 126;
    /// Expression op code: call (`127`).
    pub const CALL: u8 = 127;
}

/// Context marker at the head of a CDT operation with a context path.
const CTX_MARKER: u8 = 0xff;

/// Appends the head of an operator array: its length and its opcode.
fn head(buf: &mut Vec<u8>, len: usize, code: u8) {
    msgpack::pack_array_len(buf, len);
    msgpack::pack_int(buf, i64::from(code));
}

/// Appends a literal value. Maps, at any depth, are sent key-ordered with
/// the key-ordered map header (`c7 00 01`, then nil), as the server keeps
/// and compares them and as the official clients send them: an unordered
/// map literal never equals a map the server read.
fn pack_literal(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::List(items) => {
            msgpack::pack_array_len(buf, items.len());
            for it in items {
                pack_literal(buf, it);
            }
        }
        Value::Map(entries) => {
            let mut sorted: Vec<&(Value, Value)> = Vec::with_capacity(entries.len());
            for e in entries {
                // The first of equal keys stays.
                if !sorted.iter().any(|s| s.0.server_cmp(&e.0).is_eq()) {
                    sorted.push(e);
                }
            }
            sorted.sort_by(|a, b| a.0.server_cmp(&b.0));
            msgpack::pack_map_len(buf, sorted.len() + 1);
            buf.extend_from_slice(&[0xc7, 0x00, 0x01]);
            msgpack::pack_nil(buf);
            for (k, val) in sorted {
                pack_literal(buf, k);
                pack_literal(buf, val);
            }
        }
        _ => msgpack::pack_value(buf, v),
    }
}

/// Appends the wire form of `node`.
pub fn pack(node: &Node, buf: &mut Vec<u8>) {
    match node {
        Node::Val(v @ Value::List(_)) => {
            head(buf, 2, op::QUOTED);
            pack_literal(buf, v);
        }
        Node::Val(v) => pack_literal(buf, v),
        Node::Bin(name, ty) => {
            head(buf, 3, op::BIN);
            msgpack::pack_int(buf, i64::from(ty.code()));
            msgpack::pack_raw_str(buf, name);
        }
        Node::BinType(name) => {
            head(buf, 2, op::BIN_TYPE);
            msgpack::pack_raw_str(buf, name);
        }
        Node::Key(ty) => {
            head(buf, 2, op::KEY);
            msgpack::pack_int(buf, i64::from(ty.code()));
        }
        Node::Meta(code) => head(buf, 1, *code),
        Node::DigestModulo(m) => {
            head(buf, 2, op::DIGEST_MODULO);
            msgpack::pack_int(buf, *m);
        }
        Node::Cmd(code, args) => {
            head(buf, args.len() + 1, *code);
            args.iter().for_each(|a| pack(a, buf));
        }
        Node::Let(defs, body) => {
            head(buf, defs.len() * 2 + 2, op::LET);
            for (name, e) in defs {
                msgpack::pack_raw_str(buf, name);
                pack(e, buf);
            }
            pack(body, buf);
        }
        Node::Var(name) => {
            head(buf, 2, op::VAR);
            msgpack::pack_raw_str(buf, name);
        }
        Node::Call(c) => {
            head(buf, 5, op::CALL);
            msgpack::pack_int(buf, i64::from(c.ret.code()));
            // Module 0: lists and maps (1 is bit, 2 is HLL).
            msgpack::pack_int(buf, 0);
            pack_cdt_op(buf, c, &c.args, pack);
            pack(&c.bin, buf);
        }
    }
}

/// Appends a call's CDT operation, `[op, return type, args...]`, wrapped as
/// `[0xff, [ctx id, ctx value, ...], [op, ...]]` when it has a context.
/// The client packs expression arguments; the embedded server packs their
/// evaluated values and hands the bytes to its CDT engine.
pub fn pack_cdt_op<T>(
    buf: &mut Vec<u8>,
    c: &Call,
    args: &[T],
    pack_arg: impl Fn(&T, &mut Vec<u8>),
) {
    if !c.ctx.is_empty() {
        head(buf, 3, CTX_MARKER);
        msgpack::pack_array_len(buf, c.ctx.len() * 2);
        for step in &c.ctx {
            msgpack::pack_int(buf, i64::from(step.id()));
            msgpack::pack_value(buf, &step.value());
        }
    }
    msgpack::pack_array_len(buf, 1 + usize::from(c.rt.is_some()) + args.len());
    msgpack::pack_int(buf, c.op);
    if let Some(rt) = c.rt {
        msgpack::pack_int(buf, i64::from(rt.code()));
    }
    args.iter().for_each(|a| pack_arg(a, buf));
}

/// Decodes a whole packed expression; trailing bytes are an error.
pub fn unpack(bytes: &[u8]) -> Result<Node, DecodeError> {
    let mut r = Reader::new(bytes);
    let node = read_node(&mut r, 0)?;
    if r.remaining() != 0 {
        return Err(DecodeError::new("trailing bytes after the expression"));
    }
    Ok(node)
}

/// Deepest expression nesting accepted from the wire.
const MAX_DEPTH: usize = 128;

fn bad(msg: &str) -> DecodeError {
    DecodeError::new(msg.to_owned())
}

fn small(r: &mut Reader<'_>) -> Result<u8, DecodeError> {
    u8::try_from(r.int()?).map_err(|_| bad("opcode out of range"))
}

fn exp_type(r: &mut Reader<'_>) -> Result<ExpType, DecodeError> {
    ExpType::from_code(r.int()?).ok_or_else(|| bad("unknown expression type"))
}

fn read_node(r: &mut Reader<'_>, depth: usize) -> Result<Node, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(bad("expression nesting too deep"));
    }
    let Some(marker) = r.peek() else {
        return Err(bad("expression ends early"));
    };
    if !matches!(marker, 0x90..=0x9f | 0xdc | 0xdd) {
        // A scalar or map literal.
        return match r.value()? {
            Value::List(_) => Err(bad("unexpected list")),
            v => Ok(Node::Val(v)),
        };
    }
    let n = r.array_len()?;
    if n == 0 {
        return Err(bad("empty expression array"));
    }
    let code = small(r)?;
    let argc = n - 1;
    let exact = |want: usize| {
        if argc == want {
            Ok(())
        } else {
            Err(bad("wrong number of operator arguments"))
        }
    };
    let node = match code {
        op::QUOTED => {
            exact(1)?;
            match r.value()? {
                v @ Value::List(_) => Node::Val(v),
                _ => return Err(bad("quoted value is not a list")),
            }
        }
        op::BIN => {
            exact(2)?;
            let ty = exp_type(r)?;
            Node::Bin(r.raw_str()?.to_owned(), ty)
        }
        op::BIN_TYPE => {
            exact(1)?;
            Node::BinType(r.raw_str()?.to_owned())
        }
        op::KEY => {
            exact(1)?;
            Node::Key(exp_type(r)?)
        }
        op::DIGEST_MODULO => {
            exact(1)?;
            Node::DigestModulo(r.int()?)
        }
        op::DEVICE_SIZE..=op::RECORD_SIZE => {
            exact(0)?;
            Node::Meta(code)
        }
        op::VAR => {
            exact(1)?;
            Node::Var(r.raw_str()?.to_owned())
        }
        op::LET => {
            if argc < 3 || argc % 2 == 0 {
                return Err(bad("let needs name/expression pairs and a scope"));
            }
            let mut defs = Vec::new();
            for _ in 0..argc / 2 {
                let name = r.raw_str()?.to_owned();
                defs.push((name, read_node(r, depth + 1)?));
            }
            Node::Let(defs, Box::new(read_node(r, depth + 1)?))
        }
        op::CALL => {
            exact(4)?;
            Node::Call(Box::new(read_call(r, depth)?))
        }
        _ => {
            let (lo, hi) = arity(code).ok_or_else(|| bad("unknown expression opcode"))?;
            if argc < lo || argc > hi {
                return Err(bad("wrong number of operator arguments"));
            }
            if code == op::COND && argc % 2 == 0 {
                return Err(bad("cond needs condition/value pairs and a default"));
            }
            let args = (0..argc)
                .map(|_| read_node(r, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            Node::Cmd(code, args)
        }
    };
    Ok(node)
}

/// Argument count range of a plain operator.
pub fn arity(code: u8) -> Option<(usize, usize)> {
    const MANY: usize = usize::MAX;
    Some(match code {
        op::UNKNOWN => (0, 0),
        op::EQ..=op::LE | op::POW | op::LOG | op::MOD => (2, 2),
        op::INT_LSHIFT..=op::INT_ARSHIFT | op::INT_LSCAN | op::INT_RSCAN => (2, 2),
        op::NOT | op::ABS | op::FLOOR | op::CEIL | op::TO_INT | op::TO_FLOAT => (1, 1),
        op::INT_NOT | op::INT_COUNT => (1, 1),
        // The server refuses a logical operator with fewer than two operands
        // (`exp.c` `build_logical_vargs`).
        op::AND | op::OR | op::EXCLUSIVE => (2, MANY),
        op::ADD..=op::DIV | op::INT_AND..=op::INT_XOR | op::MIN | op::MAX => (1, MANY),
        op::COND => (3, MANY),
        _ => return None,
    })
}

fn read_call(r: &mut Reader<'_>, depth: usize) -> Result<Call, DecodeError> {
    let ret = exp_type(r)?;
    if r.int()? != 0 {
        return Err(bad("only list and map reads are supported in expressions"));
    }
    let mut n = r.array_len()?;
    let mut ctx = Vec::new();
    if n == 3 && r.peek() == Some(0xcc) {
        // [0xff, [ctx...], [op...]]
        if r.int()? != i64::from(CTX_MARKER) {
            return Err(bad("bad context marker"));
        }
        let m = r.array_len()?;
        if m == 0 || m % 2 != 0 {
            return Err(bad("context needs id/value pairs"));
        }
        for _ in 0..m / 2 {
            let id = r.int()?;
            let v = r.value()?;
            ctx.push(Ctx::from_wire(id, v).ok_or_else(|| bad("bad context step"))?);
        }
        n = r.array_len()?;
    }
    if n == 0 {
        return Err(bad("empty CDT operation"));
    }
    let code = r.int()?;
    let (has_rt, lo, hi) = cdt_arity(code).ok_or_else(|| bad("unsupported CDT read"))?;
    let argc = n - 1 - usize::from(has_rt);
    if n < 1 + usize::from(has_rt) || argc < lo || argc > hi {
        return Err(bad("wrong number of CDT arguments"));
    }
    let rt = if has_rt {
        Some(ReturnType::from_code(r.int()?).ok_or_else(|| bad("unknown return type"))?)
    } else {
        None
    };
    let args = (0..argc)
        .map(|_| read_node(r, depth + 1))
        .collect::<Result<Vec<_>, _>>()?;
    let bin = read_node(r, depth + 1)?;
    Ok(Call {
        ret,
        op: code,
        rt,
        args,
        ctx,
        bin,
    })
}

/// For a CDT read: whether it has a return type, and its argument count range.
pub fn cdt_arity(code: i64) -> Option<(bool, usize, usize)> {
    Some(match code {
        lc::SIZE | mc::SIZE => (false, 0, 0),
        lc::GET_BY_INDEX | lc::GET_BY_RANK | lc::GET_BY_VALUE | lc::GET_BY_VALUE_LIST => {
            (true, 1, 1)
        }
        mc::GET_BY_KEY | mc::GET_BY_INDEX | mc::GET_BY_RANK | mc::GET_BY_VALUE => (true, 1, 1),
        mc::GET_BY_KEY_LIST | mc::GET_BY_VALUE_LIST => (true, 1, 1),
        lc::GET_BY_INDEX_RANGE | lc::GET_BY_RANK_RANGE | lc::GET_BY_VALUE_INTERVAL => (true, 1, 2),
        mc::GET_BY_INDEX_RANGE | mc::GET_BY_RANK_RANGE => (true, 1, 2),
        mc::GET_BY_KEY_INTERVAL | mc::GET_BY_VALUE_INTERVAL => (true, 1, 2),
        lc::GET_BY_VALUE_REL_RANK_RANGE
        | mc::GET_BY_KEY_REL_INDEX_RANGE
        | mc::GET_BY_VALUE_REL_RANK_RANGE => (true, 2, 3),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp::{self, Expression};
    use crate::list;
    use crate::operations::list::ListReturnType;
    use crate::operations::CdtContext;

    fn round_trip(e: &Expression) {
        assert_eq!(&unpack(&e.pack()).unwrap(), &e.node, "{e:?}");
    }

    #[test]
    fn unpack_round_trips() {
        round_trip(&exp::eq(exp::bool_bin("active"), exp::bool_val(true)));
        round_trip(&exp::and(vec![
            exp::lt(exp::ttl(), exp::int_val(5)),
            exp::eq(exp::digest_modulo(3), exp::int_val(1)),
            exp::eq(exp::key(ExpType::String), exp::string_val("k")),
            exp::bin_exists("x"),
        ]));
        round_trip(&exp::let_(
            vec![exp::def("x", exp::list_val(vec![list![1, "a"]]))],
            exp::eq(exp::var("x"), exp::var("x")),
        ));
        round_trip(&exp::list_get_by_value_relative_rank_range(
            ListReturnType::COUNT.inverted(),
            exp::int_val(5),
            exp::int_val(0),
            Some(exp::int_val(2)),
            exp::list_bin("l"),
            &[CdtContext::map_key("k"), CdtContext::list_index(-1)],
        ));
    }

    #[test]
    fn bad_bytes_are_errors() {
        for bytes in [
            &[0xc1][..],
            &[0x90],
            &[0x91, 0x63],
            &[0x92, 0x01, 0x01],
            &[0x93, 0x51, 0x02],
            &[0x93, 0x51, 0x0f, 0xa1, b'a'],
            &[0x01, 0x02],
        ] {
            assert!(unpack(bytes).is_err(), "{bytes:02x?}");
        }
        let deep: Vec<u8> = std::iter::repeat_n([0x92, 0x12], 500)
            .flatten()
            .chain([0xc3])
            .collect();
        assert!(unpack(&deep).is_err());
    }
}
