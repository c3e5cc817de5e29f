//! Recursive-descent parser from tokens to an untyped syntax tree.

use super::lexer::Tok;
use super::{err, Pos};
use crate::error::Error;
use crate::exp::op;
use crate::exp::{ExpType, ReturnType};
use crate::value::Value;

/// A syntax-tree node and where it starts.
#[derive(Debug, Clone)]
pub(super) struct Ast {
    pub pos: Pos,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub(super) enum Kind {
    Lit(Value),
    /// A number literal, kept apart so unary minus folds into it.
    Num(Value),
    Path(Path),
    /// `$.name()` or `$.digestModulo(n)`, with an optional `.get(type: T)` for `key()`.
    Meta(String, Option<i64>, Option<ExpType>),
    Var(String),
    Neg(Box<Ast>),
    BitNot(Box<Ast>),
    /// An infix operator by opcode.
    Binary(u8, Box<Ast>, Box<Ast>),
    In(Box<Ast>, Box<Ast>),
    /// `and`, `or` chains.
    Logic(u8, Vec<Ast>),
    Let(Vec<(String, Ast)>, Box<Ast>),
    When(Vec<(Ast, Ast)>, Box<Ast>),
    /// A function call by name.
    Func(String, Vec<Ast>),
    /// `literal.asInt()` / `literal.asFloat()`.
    Cast(Box<Ast>, ExpType),
}

#[derive(Debug, Clone)]
pub(super) struct Path {
    pub bin: String,
    pub steps: Vec<(Pos, Step)>,
    pub func: Option<(Pos, PathFn)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    /// `.key`
    Key(Value),
    /// `[]` or `{}`
    All { map: bool },
    /// A bracketed selection.
    Sel { map: bool, inverted: bool, sel: Sel },
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Sel {
    Index(i64),
    Rank(i64),
    Value(Value),
    IndexRange(i64, Option<i64>),
    RankRange(i64, Option<i64>),
    ValueRange(Value, Option<Value>),
    ValueList(Vec<Value>),
    KeyRange(Value, Option<Value>),
    KeyList(Vec<Value>),
    RelRank(i64, Option<i64>, Value),
    RelIndex(i64, Option<i64>, Value),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum PathFn {
    Get(Option<ExpType>, Option<ReturnType>),
    Count,
    Exists,
    AsInt,
    AsFloat,
    BinType,
}

pub(super) struct Parser<'a> {
    toks: Vec<(Pos, Tok)>,
    i: usize,
    params: &'a [Value],
    /// Current nesting of sub-expressions and literals.
    depth: usize,
    /// True inside a `[...]` or `{...}` selector, where numbers are decimal
    /// and indexes, ranks and counts 32-bit (as the official grammar has it).
    in_selector: bool,
}

/// Deepest nesting accepted, so the recursive descent cannot exhaust the stack.
const MAX_DEPTH: usize = 64;

const PATH_FNS: [&str; 6] = ["get", "count", "exists", "asInt", "asFloat", "binType"];

impl<'a> Parser<'a> {
    pub(super) fn new(toks: Vec<(Pos, Tok)>, params: &'a [Value]) -> Self {
        Parser {
            toks,
            i: 0,
            params,
            depth: 0,
            in_selector: false,
        }
    }

    fn peek(&self) -> &Tok {
        &self.toks[self.i.min(self.toks.len() - 1)].1
    }

    fn peek_at(&self, n: usize) -> &Tok {
        &self.toks[(self.i + n).min(self.toks.len() - 1)].1
    }

    fn pos(&self) -> Pos {
        self.toks[self.i.min(self.toks.len() - 1)].0
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.i < self.toks.len() - 1 {
            self.i += 1;
        }
        t
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Sym(x) if *x == s)
    }

    fn is_kw(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Ident(x) if x == s)
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        let yes = self.is_sym(s);
        if yes {
            self.bump();
        }
        yes
    }

    fn fail<T>(&self, what: &str) -> Result<T, Error> {
        Err(err(
            self.pos(),
            format!("expected {what}, found {}", self.peek().describe()),
        ))
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), Error> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            self.fail(&format!("'{s}'"))
        }
    }

    /// Items separated by ',' up to the `close` symbol (the opening one is
    /// already consumed); `allow_empty` accepts `close` at once.
    fn items<T>(
        &mut self,
        close: &str,
        allow_empty: bool,
        mut item: impl FnMut(&mut Self) -> Result<T, Error>,
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        if allow_empty && self.eat_sym(close) {
            return Ok(out);
        }
        loop {
            out.push(item(self)?);
            if self.eat_sym(close) {
                return Ok(out);
            }
            self.expect_sym(",")?;
        }
    }

    fn ident(&mut self, what: &str) -> Result<String, Error> {
        match self.peek().clone() {
            Tok::Ident(s) => {
                self.bump();
                Ok(s)
            }
            _ => self.fail(what),
        }
    }

    /// The whole input: one expression and the end.
    pub(super) fn parse_all(&mut self) -> Result<Ast, Error> {
        let e = self.expr()?;
        if *self.peek() != Tok::End {
            return self.fail("an operator or the end of the expression");
        }
        Ok(e)
    }

    fn expr(&mut self) -> Result<Ast, Error> {
        self.nested(|p| p.logic(op::OR, "or"))
    }

    /// Runs `f` one nesting level deeper.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, Error>) -> Result<T, Error> {
        if self.depth >= MAX_DEPTH {
            return Err(err(self.pos(), "expression nested too deeply"));
        }
        self.depth += 1;
        let r = f(self);
        self.depth -= 1;
        r
    }

    fn logic(&mut self, code: u8, kw: &str) -> Result<Ast, Error> {
        let pos = self.pos();
        let next = |p: &mut Self| {
            if code == op::OR {
                p.logic(op::AND, "and")
            } else {
                p.comparison()
            }
        };
        let first = next(self)?;
        if !self.is_kw(kw) {
            return Ok(first);
        }
        let mut args = vec![first];
        while self.is_kw(kw) {
            self.bump();
            args.push(next(self)?);
        }
        Ok(Ast {
            pos,
            kind: Kind::Logic(code, args),
        })
    }

    fn comparison(&mut self) -> Result<Ast, Error> {
        let left = self.bitwise()?;
        let code = match self.peek() {
            Tok::Sym("==") => op::EQ,
            Tok::Sym("!=") => op::NE,
            Tok::Sym(">") => op::GT,
            Tok::Sym(">=") => op::GE,
            Tok::Sym("<") => op::LT,
            Tok::Sym("<=") => op::LE,
            // `in` is the one keyword in any case (`IN`, `In`).
            Tok::Ident(s) if s.eq_ignore_ascii_case("in") => {
                let pos = self.pos();
                self.bump();
                let right = self.bitwise()?;
                return Ok(Ast {
                    pos,
                    kind: Kind::In(Box::new(left), Box::new(right)),
                });
            }
            _ => return Ok(left),
        };
        let pos = self.pos();
        self.bump();
        let right = self.bitwise()?;
        if matches!(self.peek(), Tok::Sym("==" | "!=" | ">" | ">=" | "<" | "<=")) {
            return self.fail("'and', 'or' or ')' (comparisons do not chain)");
        }
        Ok(Ast {
            pos,
            kind: Kind::Binary(code, Box::new(left), Box::new(right)),
        })
    }

    /// Left-associative binary levels.
    fn level(
        &mut self,
        ops: &[(&str, u8)],
        next: fn(&mut Self) -> Result<Ast, Error>,
    ) -> Result<Ast, Error> {
        let mut left = next(self)?;
        // Each operator nests the chain one level deeper (left-associative).
        let outer = self.depth;
        let result = loop {
            let found = ops
                .iter()
                .find(|(s, _)| self.is_sym(s))
                .map(|(_, code)| *code);
            let Some(code) = found else {
                break Ok(left);
            };
            if self.depth >= MAX_DEPTH {
                break Err(err(self.pos(), "expression nested too deeply"));
            }
            self.depth += 1;
            let pos = self.pos();
            self.bump();
            let right = match next(self) {
                Ok(r) => r,
                Err(e) => break Err(e),
            };
            left = Ast {
                pos,
                kind: Kind::Binary(code, Box::new(left), Box::new(right)),
            };
        };
        self.depth = outer;
        result
    }

    fn bitwise(&mut self) -> Result<Ast, Error> {
        self.level(
            &[("&", op::INT_AND), ("|", op::INT_OR), ("^", op::INT_XOR)],
            Self::shift,
        )
    }

    fn shift(&mut self) -> Result<Ast, Error> {
        self.level(
            &[
                ("<<", op::INT_LSHIFT),
                (">>>", op::INT_RSHIFT),
                (">>", op::INT_ARSHIFT),
            ],
            Self::additive,
        )
    }

    fn additive(&mut self) -> Result<Ast, Error> {
        self.level(&[("+", op::ADD), ("-", op::SUB)], Self::multiplicative)
    }

    fn multiplicative(&mut self) -> Result<Ast, Error> {
        self.level(
            &[("*", op::MUL), ("/", op::DIV), ("%", op::MOD)],
            Self::power,
        )
    }

    fn power(&mut self) -> Result<Ast, Error> {
        let base = self.unary()?;
        if !self.is_sym("**") {
            return Ok(base);
        }
        let pos = self.pos();
        self.bump();
        let exp = self.nested(Self::power)?;
        Ok(Ast {
            pos,
            kind: Kind::Binary(op::POW, Box::new(base), Box::new(exp)),
        })
    }

    fn unary(&mut self) -> Result<Ast, Error> {
        self.nested(Self::unary_inner)
    }

    fn unary_inner(&mut self) -> Result<Ast, Error> {
        let pos = self.pos();
        if self.eat_sym("-") {
            // A sign directly before a number belongs to the literal, before
            // any cast (`-5.asFloat()` converts -5, as the official parser
            // reads it).
            let negated = match *self.peek() {
                Tok::Int(u, _) if u == 1 << 63 => Some(Value::Int(i64::MIN)),
                Tok::Int(u, _) => i64::try_from(u).ok().map(|i| Value::Int(-i)),
                Tok::Float(x) => Some(Value::Float(-x)),
                _ => None,
            };
            if let Some(v) = negated {
                self.bump();
                return self.postfix_on(Ast {
                    pos,
                    kind: Kind::Num(v),
                });
            }
            let inner = self.unary()?;
            return Ok(Ast {
                pos,
                kind: Kind::Neg(Box::new(inner)),
            });
        }
        if self.eat_sym("+") {
            return self.unary();
        }
        if self.eat_sym("~") {
            let inner = self.unary()?;
            return Ok(Ast {
                pos,
                kind: Kind::BitNot(Box::new(inner)),
            });
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Ast, Error> {
        let e = self.primary()?;
        self.postfix_on(e)
    }

    /// `e.asInt()` / `e.asFloat()` after a number literal `e`.
    fn postfix_on(&mut self, e: Ast) -> Result<Ast, Error> {
        if !matches!(e.kind, Kind::Num(_)) || !self.is_sym(".") {
            return Ok(e);
        }
        self.bump();
        let pos = self.pos();
        let name = self.ident("'asInt' or 'asFloat'")?;
        let ty = match name.as_str() {
            "asInt" => ExpType::Int,
            "asFloat" => ExpType::Float,
            _ => return Err(err(pos, "expected 'asInt' or 'asFloat'")),
        };
        self.expect_sym("(")?;
        self.expect_sym(")")?;
        Ok(Ast {
            pos: e.pos,
            kind: Kind::Cast(Box::new(e), ty),
        })
    }

    fn primary(&mut self) -> Result<Ast, Error> {
        let pos = self.pos();
        let kind = match self.peek().clone() {
            Tok::Int(..) | Tok::Float(_) => Kind::Num(self.number()?),
            Tok::Str(s) => {
                self.bump();
                Kind::Lit(Value::String(s))
            }
            Tok::Placeholder(n) => {
                self.bump();
                let v = self.params.get(n).cloned().ok_or_else(|| {
                    err(
                        pos,
                        format!(
                            "placeholder ?{n} has no value ({} given)",
                            self.params.len()
                        ),
                    )
                })?;
                match v {
                    Value::Int(_) | Value::Float(_) => Kind::Num(v),
                    v => Kind::Lit(v),
                }
            }
            Tok::Var(v) => {
                self.bump();
                Kind::Var(v)
            }
            Tok::Path => {
                self.bump();
                return self.path(pos);
            }
            Tok::Sym("(") => {
                self.bump();
                let e = self.expr()?;
                self.expect_sym(")")?;
                return Ok(e);
            }
            Tok::Sym("[") | Tok::Sym("{") => Kind::Lit(self.literal()?),
            Tok::Ident(name) => return self.word(pos, name),
            _ => return self.fail("a value, '$.' path, '(' or function"),
        };
        Ok(Ast { pos, kind })
    }

    fn word(&mut self, pos: Pos, name: String) -> Result<Ast, Error> {
        self.bump();
        let kind = match name.as_str() {
            "true" => Kind::Lit(Value::Bool(true)),
            "false" => Kind::Lit(Value::Bool(false)),
            "nil" => Kind::Lit(Value::Nil),
            "let" => self.let_rest()?,
            "when" => self.when_rest()?,
            _ if self.is_sym("(") => {
                self.bump();
                Kind::Func(name, self.items(")", true, Self::expr)?)
            }
            _ => {
                return Err(err(
                    pos,
                    format!("expected a value, '$.' path, '(' or function, found '{name}'"),
                ))
            }
        };
        Ok(Ast { pos, kind })
    }

    fn let_rest(&mut self) -> Result<Kind, Error> {
        self.expect_sym("(")?;
        let defs = self.items(")", false, |p| {
            let name = p.ident("a variable name")?;
            p.expect_sym("=")?;
            Ok((name, p.expr()?))
        })?;
        if !self.is_kw("then") {
            return self.fail("'then'");
        }
        self.bump();
        self.expect_sym("(")?;
        let body = self.expr()?;
        self.expect_sym(")")?;
        Ok(Kind::Let(defs, Box::new(body)))
    }

    fn when_rest(&mut self) -> Result<Kind, Error> {
        self.expect_sym("(")?;
        let mut pairs = Vec::new();
        loop {
            if self.is_kw("default") && matches!(self.peek_at(1), Tok::Sym("=>")) {
                self.bump();
                self.bump();
                let d = self.expr()?;
                self.expect_sym(")")?;
                return Ok(Kind::When(pairs, Box::new(d)));
            }
            let c = self.expr()?;
            self.expect_sym("=>")?;
            let v = self.expr()?;
            pairs.push((c, v));
            if !self.eat_sym(",") {
                return self.fail("',' and then 'default => value'");
            }
        }
    }

    /// An unsigned number (the sign is handled by the caller).
    fn number(&mut self) -> Result<Value, Error> {
        let pos = self.pos();
        match self.bump() {
            Tok::Int(u, decimal) => {
                self.check_radix(pos, decimal)?;
                i64::try_from(u)
                    .map(Value::Int)
                    .map_err(|_| err(pos, "integer literal does not fit in 64 bits"))
            }
            Tok::Float(x) => Ok(Value::Float(x)),
            _ => Err(err(pos, "expected a number")),
        }
    }

    /// A possibly negative integer.
    fn signed_int(&mut self) -> Result<i64, Error> {
        if self.eat_sym("-") {
            return match self.signed_magnitude()? {
                Value::Int(i) => Ok(i),
                _ => self.fail("an integer"),
            };
        }
        match self.number()? {
            Value::Int(i) => Ok(i),
            _ => self.fail("an integer"),
        }
    }

    /// The negation of the integer token that follows a `-`.
    fn signed_magnitude(&mut self) -> Result<Value, Error> {
        let pos = self.pos();
        match self.bump() {
            Tok::Int(u, decimal) => {
                self.check_radix(pos, decimal)?;
                0i64.checked_sub_unsigned(u)
                    .map(Value::Int)
                    .ok_or_else(|| err(pos, "integer literal does not fit in 64 bits"))
            }
            _ => Err(err(pos, "expected an integer")),
        }
    }

    /// A literal value: numbers, strings, booleans, nil, lists and maps.
    fn literal(&mut self) -> Result<Value, Error> {
        self.nested(Self::literal_inner)
    }

    fn literal_inner(&mut self) -> Result<Value, Error> {
        match self.peek().clone() {
            Tok::Sym("-") => {
                self.bump();
                if matches!(self.peek(), Tok::Int(..)) {
                    return self.signed_magnitude();
                }
                match self.number()? {
                    Value::Float(x) => Ok(Value::Float(-x)),
                    _ => self.fail("a number"),
                }
            }
            Tok::Int(..) | Tok::Float(_) => self.number(),
            Tok::Str(s) => {
                self.bump();
                Ok(Value::String(s))
            }
            Tok::Placeholder(n) => {
                let pos = self.pos();
                self.bump();
                self.params
                    .get(n)
                    .cloned()
                    .ok_or_else(|| err(pos, format!("placeholder ?{n} has no value")))
            }
            Tok::Ident(w) if w == "true" || w == "false" || w == "nil" => {
                self.bump();
                Ok(match w.as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => Value::Nil,
                })
            }
            Tok::Sym("[") => {
                self.bump();
                Ok(Value::List(self.items("]", true, Self::literal)?))
            }
            Tok::Sym("{") => {
                self.bump();
                let entries = self.items("}", true, |p| {
                    let k = p.literal()?;
                    p.expect_sym(":")?;
                    Ok((k, p.literal()?))
                })?;
                Ok(Value::Map(entries))
            }
            _ => self.fail("a literal value"),
        }
    }

    /// After `$.`: metadata or a bin path.
    fn path(&mut self, pos: Pos) -> Result<Ast, Error> {
        let bin = match self.peek().clone() {
            Tok::Ident(name) if matches!(self.peek_at(1), Tok::Sym("(")) => {
                return self.meta(pos, name);
            }
            Tok::Ident(name) | Tok::Str(name) => {
                self.bump();
                name
            }
            _ => return self.fail("a bin name or metadata function after '$.'"),
        };
        let mut steps = Vec::new();
        let mut func = None;
        while self.is_sym(".") {
            self.bump();
            let spos = self.pos();
            match self.peek().clone() {
                Tok::Ident(name)
                    if PATH_FNS.contains(&name.as_str())
                        && matches!(self.peek_at(1), Tok::Sym("(")) =>
                {
                    func = Some((spos, self.path_fn()?));
                    break;
                }
                Tok::Ident(name) | Tok::Str(name) => {
                    self.bump();
                    steps.push((spos, Step::Key(Value::String(name))));
                }
                Tok::Int(..) => {
                    let k = self.signed_int()?;
                    steps.push((spos, Step::Key(Value::Int(k))));
                }
                Tok::Sym("[") => steps.push((spos, self.selection(false)?)),
                Tok::Sym("{") => steps.push((spos, self.selection(true)?)),
                _ => return self.fail("a map key, '[', '{' or path function after '.'"),
            }
        }
        Ok(Ast {
            pos,
            kind: Kind::Path(Path { bin, steps, func }),
        })
    }

    fn meta(&mut self, pos: Pos, name: String) -> Result<Ast, Error> {
        const NAMES: [&str; 14] = [
            "deviceSize",
            "memorySize",
            "recordSize",
            "isTombstone",
            "keyExists",
            "lastUpdate",
            "sinceUpdate",
            // The spellings of the server's own AEL compiler (8.2+).
            "lastUpdateTime",
            "timeSinceLastUpdate",
            "setName",
            "ttl",
            "voidTime",
            "digestModulo",
            "key",
        ];
        if !NAMES.contains(&name.as_str()) {
            return self.fail("a metadata function (ttl, voidTime, setName, ...)");
        }
        self.bump();
        self.expect_sym("(")?;
        let arg = if name == "digestModulo" {
            let at = self.pos();
            let m = self.signed_int()?;
            // The server takes a modulus from 1 to i32::MAX.
            if m <= 0 || m > i64::from(i32::MAX) {
                return Err(err(
                    at,
                    format!("expected a modulus from 1 to {}, found {m}", i32::MAX),
                ));
            }
            Some(m)
        } else {
            None
        };
        self.expect_sym(")")?;
        let mut ty = None;
        if name == "key" && self.is_sym(".") {
            self.bump();
            let fpos = self.pos();
            match self.path_fn()? {
                PathFn::Get(Some(t), None) => ty = Some(t),
                _ => return Err(err(fpos, "expected 'get(type: ...)' after '$.key()'")),
            }
        }
        Ok(Ast {
            pos,
            kind: Kind::Meta(name, arg, ty),
        })
    }

    fn path_fn(&mut self) -> Result<PathFn, Error> {
        let name = self.ident("a path function")?;
        self.expect_sym("(")?;
        let f = match name.as_str() {
            "count" => PathFn::Count,
            "exists" => PathFn::Exists,
            "asInt" => PathFn::AsInt,
            "asFloat" => PathFn::AsFloat,
            "binType" => PathFn::BinType,
            _ => {
                let (mut ty, mut rt) = (None, None);
                while !self.is_sym(")") {
                    let kpos = self.pos();
                    let key = self.ident("'type' or 'return'")?;
                    self.expect_sym(":")?;
                    let vpos = self.pos();
                    let v = self.ident("a type or return-type name")?;
                    match key.as_str() {
                        "type" => {
                            ty = Some(type_named(&v).ok_or_else(|| {
                                err(vpos, format!("expected a type (INT, STRING, FLOAT, BOOL, BLOB, LIST, MAP, GEO, HLL), found '{v}'"))
                            })?);
                        }
                        "return" => {
                            rt = Some(return_named(&v).ok_or_else(|| {
                                err(vpos, format!("expected a return type (VALUE, KEY, KEY_VALUE, INDEX, RANK, COUNT, NONE, EXISTS, ...), found '{v}'"))
                            })?);
                        }
                        _ => {
                            return Err(err(
                                kpos,
                                format!("expected 'type' or 'return', found '{key}'"),
                            ))
                        }
                    }
                    if !self.eat_sym(",") {
                        break;
                    }
                }
                PathFn::Get(ty, rt)
            }
        };
        self.expect_sym(")")?;
        Ok(f)
    }

    /// A step value: literal scalar or a bare identifier (a string).
    fn step_value(&mut self) -> Result<Value, Error> {
        match self.peek().clone() {
            Tok::Ident(w) if !matches!(w.as_str(), "true" | "false" | "nil") => {
                self.bump();
                Ok(Value::String(w))
            }
            _ => self.literal(),
        }
    }

    fn opt_int_before(&mut self, stop: &[&str]) -> Result<Option<i64>, Error> {
        if stop.iter().any(|s| self.is_sym(s)) {
            Ok(None)
        } else {
            self.selector_int().map(Some)
        }
    }

    /// `[...]` or `{...}`.
    fn selection(&mut self, map: bool) -> Result<Step, Error> {
        self.in_selector = true;
        let step = self.selection_inner(map);
        self.in_selector = false;
        step
    }

    /// A number written as `0x…` or `0b…` is refused inside a selector.
    fn check_radix(&self, pos: Pos, decimal: bool) -> Result<(), Error> {
        if self.in_selector && !decimal {
            return Err(err(pos, "a selector takes decimal numbers only"));
        }
        Ok(())
    }

    /// A selector's index, rank or count: a 32-bit integer.
    fn selector_int(&mut self) -> Result<i64, Error> {
        let pos = self.pos();
        let i = self.signed_int()?;
        if i32::try_from(i).is_err() {
            return Err(err(pos, "an index, rank or count must fit in 32 bits"));
        }
        Ok(i)
    }

    fn selection_inner(&mut self, map: bool) -> Result<Step, Error> {
        let close = if map { "}" } else { "]" };
        self.bump();
        if self.eat_sym(close) {
            return Ok(Step::All { map });
        }
        // `!=` lexes as one symbol: an inverted value selection.
        let (inverted, by_value) = if self.eat_sym("!=") {
            (true, true)
        } else {
            let inverted = self.eat_sym("!");
            (inverted, self.eat_sym("="))
        };
        let sel = if by_value {
            let first = self.step_value()?;
            if self.eat_sym(":") {
                let end = if self.is_sym(close) {
                    None
                } else {
                    Some(self.step_value()?)
                };
                Sel::ValueRange(first, end)
            } else if self.is_sym(",") {
                Sel::ValueList(self.value_list(first, close)?)
            } else {
                Sel::Value(first)
            }
        } else if self.eat_sym("#") {
            let r = self.selector_int()?;
            if self.eat_sym(":") {
                let end = self.opt_int_before(&[close, "~"])?;
                if self.eat_sym("~") {
                    Sel::RelRank(r, end, self.step_value()?)
                } else {
                    Sel::RankRange(r, end)
                }
            } else {
                Sel::Rank(r)
            }
        } else {
            let int_start = matches!(self.peek(), Tok::Int(..))
                || (self.is_sym("-") && matches!(self.peek_at(1), Tok::Int(..)));
            let first = self.step_value()?;
            match (&first, self.peek()) {
                (Value::Int(i), Tok::Sym(s)) if *s == close => Sel::Index(*i),
                (Value::Int(i), Tok::Sym(":")) if int_start => {
                    let i = *i;
                    self.bump();
                    let end = self.opt_int_before(&[close, "~"])?;
                    if map && self.eat_sym("~") {
                        Sel::RelIndex(i, end, self.step_value()?)
                    } else {
                        Sel::IndexRange(i, end)
                    }
                }
                (_, Tok::Sym("-")) if map => {
                    self.bump();
                    let end = if self.is_sym(close) {
                        None
                    } else {
                        Some(self.step_value()?)
                    };
                    Sel::KeyRange(first, end)
                }
                (_, Tok::Sym(",")) if map => Sel::KeyList(self.value_list(first, close)?),
                (_, Tok::Sym(s)) if map && *s == close => Sel::KeyList(vec![first]),
                _ => {
                    return self.fail(if map {
                        "'}', ':', '-' or ','"
                    } else {
                        "']' or ':'"
                    })
                }
            }
        };
        if !self.eat_sym(close) {
            return self.fail(&format!("'{close}'"));
        }
        Ok(Step::Sel { map, inverted, sel })
    }

    /// `first, v2, ...` up to (not including) `close`; a trailing comma is allowed.
    fn value_list(&mut self, first: Value, close: &str) -> Result<Vec<Value>, Error> {
        let mut items = vec![first];
        while self.eat_sym(",") {
            if self.is_sym(close) {
                break;
            }
            items.push(self.step_value()?);
        }
        Ok(items)
    }
}

pub(super) fn type_named(s: &str) -> Option<ExpType> {
    Some(match s {
        "INT" => ExpType::Int,
        "STRING" => ExpType::String,
        "FLOAT" => ExpType::Float,
        "BOOL" => ExpType::Bool,
        "BLOB" => ExpType::Blob,
        "LIST" => ExpType::List,
        "MAP" => ExpType::Map,
        "GEO" => ExpType::Geo,
        "HLL" => ExpType::Hll,
        "NIL" => ExpType::Nil,
        _ => return None,
    })
}

fn return_named(s: &str) -> Option<ReturnType> {
    Some(match s {
        "VALUE" => ReturnType::VALUE,
        "KEY" => ReturnType::KEY,
        "KEY_VALUE" => ReturnType::KEY_VALUE,
        "INDEX" => ReturnType::INDEX,
        "REVERSE_INDEX" => ReturnType::REVERSE_INDEX,
        "RANK" => ReturnType::RANK,
        "REVERSE_RANK" => ReturnType::REVERSE_RANK,
        "COUNT" => ReturnType::COUNT,
        "NONE" => ReturnType::NONE,
        "EXISTS" => ReturnType::EXISTS,
        "ORDERED_MAP" => ReturnType::ORDERED_MAP,
        "UNORDERED_MAP" => ReturnType::UNORDERED_MAP,
        _ => return None,
    })
}
