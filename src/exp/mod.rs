//! Filter expressions: a typed builder, the AEL where-clause language, and the
//! wire form the server evaluates.
//!
//! An [`Expression`] is built either with the functions of this module (the
//! names follow the official clients' `Exp`, `ListExp` and `MapExp`, in Rust
//! style) or parsed from AEL text with [`Expression::from_ael`]. Both give the
//! same value, and [`Display`](std::fmt::Display) prints AEL that parses back to
//! it.
//!
//! ```
//! use aerospike_blocking::exp::{self, Expression};
//! let built = exp::and(vec![
//!     exp::eq(exp::bool_bin("active"), exp::bool_val(true)),
//!     exp::lt(exp::int_bin("age"), exp::int_val(30)),
//! ]);
//! let parsed = Expression::from_ael("$.active == true and $.age < 30").unwrap();
//! assert_eq!(built, parsed);
//! assert_eq!(Expression::from_ael(&built.to_string()).unwrap(), built);
//! ```

mod ael;
pub(crate) mod display;
pub(crate) mod pack;

use crate::error::Error;
use crate::operations::list::ListReturnType;
use crate::operations::map::MapReturnType;
use crate::operations::CdtContext;
use crate::value::Value;

pub(crate) use pack::op;

/// The type an expression evaluates to, as the server names it.
///
/// ```
/// use aerospike_blocking::exp::ExpType;
/// assert_eq!(ExpType::Int.code(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExpType {
    /// Nil.
    Nil,
    /// Boolean.
    Bool,
    /// 64-bit signed integer.
    Int,
    /// UTF-8 string.
    String,
    /// List.
    List,
    /// Map.
    Map,
    /// Bytes.
    Blob,
    /// 64-bit float.
    Float,
    /// GeoJSON.
    Geo,
    /// HyperLogLog.
    Hll,
}

impl ExpType {
    /// The wire code of the type.
    ///
    /// ```
    /// use aerospike_blocking::exp::ExpType;
    /// assert_eq!(ExpType::Bool.code(), 1);
    /// ```
    pub fn code(self) -> u8 {
        match self {
            ExpType::Nil => 0,
            ExpType::Bool => 1,
            ExpType::Int => 2,
            ExpType::String => 3,
            ExpType::List => 4,
            ExpType::Map => 5,
            ExpType::Blob => 6,
            ExpType::Float => 7,
            ExpType::Geo => 8,
            ExpType::Hll => 9,
        }
    }

    /// The type with wire code `code`.
    ///
    /// ```
    /// use aerospike_blocking::exp::ExpType;
    /// assert_eq!(ExpType::from_code(7), Some(ExpType::Float));
    /// ```
    pub fn from_code(code: i64) -> Option<ExpType> {
        Some(match code {
            0 => ExpType::Nil,
            1 => ExpType::Bool,
            2 => ExpType::Int,
            3 => ExpType::String,
            4 => ExpType::List,
            5 => ExpType::Map,
            6 => ExpType::Blob,
            7 => ExpType::Float,
            8 => ExpType::Geo,
            9 => ExpType::Hll,
            _ => return None,
        })
    }

    /// The type of a value (`None` for nothing it could not be).
    pub(crate) fn of(v: &Value) -> ExpType {
        match v {
            Value::Nil => ExpType::Nil,
            Value::Int(_) => ExpType::Int,
            Value::Float(_) => ExpType::Float,
            Value::String(_) => ExpType::String,
            Value::Blob(_) => ExpType::Blob,
            Value::Bool(_) => ExpType::Bool,
            Value::List(_) => ExpType::List,
            Value::Map(_) => ExpType::Map,
            Value::GeoJson(_) => ExpType::Geo,
            Value::Hll(_) => ExpType::Hll,
        }
    }

    /// The AEL name of the type.
    pub(crate) fn ael_name(self) -> &'static str {
        match self {
            ExpType::Nil => "NIL",
            ExpType::Bool => "BOOL",
            ExpType::Int => "INT",
            ExpType::String => "STRING",
            ExpType::List => "LIST",
            ExpType::Map => "MAP",
            ExpType::Blob => "BLOB",
            ExpType::Float => "FLOAT",
            ExpType::Geo => "GEO",
            ExpType::Hll => "HLL",
        }
    }
}

/// What a list or map read returns: the code of a
/// [`ListReturnType`](crate::operations::list::ListReturnType) or
/// [`MapReturnType`](crate::operations::map::MapReturnType) (they share codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ReturnType(u32);

impl ReturnType {
    pub(crate) const NONE: ReturnType = ReturnType(0);
    pub(crate) const INDEX: ReturnType = ReturnType(1);
    pub(crate) const REVERSE_INDEX: ReturnType = ReturnType(2);
    pub(crate) const RANK: ReturnType = ReturnType(3);
    pub(crate) const REVERSE_RANK: ReturnType = ReturnType(4);
    pub(crate) const COUNT: ReturnType = ReturnType(5);
    pub(crate) const KEY: ReturnType = ReturnType(6);
    pub(crate) const VALUE: ReturnType = ReturnType(7);
    pub(crate) const KEY_VALUE: ReturnType = ReturnType(8);
    pub(crate) const EXISTS: ReturnType = ReturnType(13);
    pub(crate) const UNORDERED_MAP: ReturnType = ReturnType(16);
    pub(crate) const ORDERED_MAP: ReturnType = ReturnType(17);
    /// Flag: select everything *outside* the given range.
    const INVERTED: u32 = 0x10000;

    /// The same return type over the inverted selection.
    pub(crate) const fn inverted(self) -> ReturnType {
        ReturnType(self.0 | Self::INVERTED)
    }

    /// True when the selection is inverted.
    pub(crate) const fn is_inverted(self) -> bool {
        self.0 & Self::INVERTED != 0
    }

    /// The wire code.
    pub(crate) const fn code(self) -> u32 {
        self.0
    }

    /// The code without the inverted flag.
    pub(crate) const fn base(self) -> ReturnType {
        ReturnType(self.0 & !Self::INVERTED)
    }

    pub(crate) fn from_code(code: i64) -> Option<ReturnType> {
        let rt = ReturnType(u32::try_from(code).ok()?);
        rt.name().map(|_| rt)
    }

    /// The AEL name of the base return type.
    pub(crate) fn name(self) -> Option<&'static str> {
        Some(match self.base().0 {
            0 => "NONE",
            1 => "INDEX",
            2 => "REVERSE_INDEX",
            3 => "RANK",
            4 => "REVERSE_RANK",
            5 => "COUNT",
            6 => "KEY",
            7 => "VALUE",
            8 => "KEY_VALUE",
            13 => "EXISTS",
            16 => "UNORDERED_MAP",
            17 => "ORDERED_MAP",
            _ => return None,
        })
    }

    /// The type a read with this return type gives for selections of several
    /// items (the newer official clients' `getValueType`).
    fn range_type(self, map: bool) -> ExpType {
        match self.base() {
            ReturnType::COUNT => ExpType::Int,
            ReturnType::EXISTS => ExpType::Bool,
            ReturnType::NONE => ExpType::Nil,
            ReturnType::KEY_VALUE | ReturnType::ORDERED_MAP | ReturnType::UNORDERED_MAP if map => {
                ExpType::Map
            }
            _ => ExpType::List,
        }
    }
}

impl From<ListReturnType> for ReturnType {
    fn from(rt: ListReturnType) -> Self {
        ReturnType(rt.bits() as u32)
    }
}

impl From<MapReturnType> for ReturnType {
    fn from(rt: MapReturnType) -> Self {
        ReturnType(rt.bits() as u32)
    }
}

/// One step into a nested list or map (a [`CdtContext`] taken apart).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ctx {
    ListIndex(i64),
    ListRank(i64),
    ListValue(Value),
    MapIndex(i64),
    MapRank(i64),
    MapKey(Value),
    MapValue(Value),
}

impl Ctx {
    /// Wire id of the context step.
    pub(crate) fn id(&self) -> u8 {
        match self {
            Ctx::ListIndex(_) => 0x10,
            Ctx::ListRank(_) => 0x11,
            Ctx::ListValue(_) => 0x13,
            Ctx::MapIndex(_) => 0x20,
            Ctx::MapRank(_) => 0x21,
            Ctx::MapKey(_) => 0x22,
            Ctx::MapValue(_) => 0x23,
        }
    }

    /// The value the step carries.
    pub(crate) fn value(&self) -> Value {
        match self {
            Ctx::ListIndex(i) | Ctx::ListRank(i) | Ctx::MapIndex(i) | Ctx::MapRank(i) => {
                Value::Int(*i)
            }
            Ctx::ListValue(v) | Ctx::MapKey(v) | Ctx::MapValue(v) => v.clone(),
        }
    }

    /// A public context step; create flags do not apply to reads and are dropped.
    fn from_public(c: &CdtContext) -> Ctx {
        Ctx::from_wire(c.id & !0xc0, c.value.clone())
            .unwrap_or_else(|| Ctx::ListValue(c.value.clone()))
    }

    /// Rebuilds a step from its wire id and value.
    pub(crate) fn from_wire(id: i64, v: Value) -> Option<Ctx> {
        Some(match (id, v) {
            (0x10, Value::Int(i)) => Ctx::ListIndex(i),
            (0x11, Value::Int(i)) => Ctx::ListRank(i),
            (0x13, v) => Ctx::ListValue(v),
            (0x20, Value::Int(i)) => Ctx::MapIndex(i),
            (0x21, Value::Int(i)) => Ctx::MapRank(i),
            (0x22, v) => Ctx::MapKey(v),
            (0x23, v) => Ctx::MapValue(v),
            _ => return None,
        })
    }
}

/// A list or map read inside an expression (`[127, type, 0, op, bin]` on the wire).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    /// Declared result type.
    pub(crate) ret: ExpType,
    /// CDT operation code (list ops below 64, map ops from 64).
    pub(crate) op: u8,
    /// Return type, absent for `size`.
    pub(crate) rt: Option<ReturnType>,
    /// Operation arguments (expressions).
    pub(crate) args: Vec<Node>,
    /// Context path into nested elements.
    pub(crate) ctx: Vec<Ctx>,
    /// The list or map the read applies to.
    pub(crate) bin: Node,
}

/// The expression tree.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// A literal (lists are sent quoted, maps as they are).
    Val(Value),
    /// A bin read as a type.
    Bin(String, ExpType),
    /// The particle type of a bin (0 when missing).
    BinType(String),
    /// The record's user key, read as a type.
    Key(ExpType),
    /// Record metadata without arguments (`op::TTL` and friends).
    Meta(u8),
    /// Digest modulo n.
    DigestModulo(i64),
    /// An operator with expression arguments.
    Cmd(u8, Vec<Node>),
    /// Variables and the scope expression.
    Let(Vec<(String, Node)>, Box<Node>),
    /// A variable defined by an enclosing `Let`.
    Var(String),
    /// A list or map read.
    Call(Box<Call>),
}

/// A filter expression, sent to the server in field 43 (FILTER_EXP).
///
/// ```
/// use aerospike_blocking::exp::{self, Expression};
/// let e = exp::eq(exp::bool_bin("active"), exp::bool_val(true));
/// assert_eq!(e.to_string(), "$.active == true");
/// assert_eq!(e.to_bytes(), [0x93, 0x01, 0x93, 0x51, 0x01, 0xa6, b'a', b'c', b't', b'i', b'v', b'e', 0xc3]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    pub(crate) node: Node,
}

impl Expression {
    pub(crate) fn new(node: Node) -> Self {
        Expression { node }
    }

    /// The packed bytes sent as the filter field.
    pub(crate) fn pack(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        pack::pack(&self.node, &mut buf);
        buf
    }

    /// The msgpack bytes the server receives for this expression.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// let e = exp::lt(exp::int_bin("i"), exp::int_val(50));
    /// assert_eq!(e.to_bytes(), [0x93, 0x05, 0x93, 0x51, 0x02, 0xa1, b'i', 0x32]);
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        self.pack()
    }

    /// Decodes wire bytes (as [`to_bytes`](Self::to_bytes) gives them) back into
    /// an expression, for example to print a captured filter as AEL.
    ///
    /// ```
    /// use aerospike_blocking::exp::Expression;
    /// let bytes = [0x93, 0x05, 0x93, 0x51, 0x02, 0xa1, b'i', 0x32];
    /// assert_eq!(Expression::from_bytes(&bytes).unwrap().to_string(), "$.i < 50");
    /// assert!(Expression::from_bytes(&[0xc1]).is_err());
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Expression, Error> {
        pack::unpack(bytes)
            .map(Expression::new)
            .map_err(|e| Error::InvalidArgument(format!("bad expression bytes: {e}")))
    }

    /// Parses an AEL where-clause.
    ///
    /// ```
    /// use aerospike_blocking::exp::{self, Expression};
    /// let e = Expression::from_ael("$.tier == 'free' and $.ttl() < 3600").unwrap();
    /// assert_eq!(e, exp::and(vec![
    ///     exp::eq(exp::string_bin("tier"), exp::string_val("free")),
    ///     exp::lt(exp::ttl(), exp::int_val(3600)),
    /// ]));
    /// ```
    pub fn from_ael(text: &str) -> Result<Expression, Error> {
        ael::parse(text, &[])
    }

    /// Parses an AEL where-clause whose placeholders `?0`, `?1`, ... take the
    /// values of `params`.
    ///
    /// ```
    /// use aerospike_blocking::exp::{self, Expression};
    /// use aerospike_blocking::Value;
    /// let e = Expression::from_ael_with("$.name == ?0", &[Value::from("bob")]).unwrap();
    /// assert_eq!(e, exp::eq(exp::string_bin("name"), exp::string_val("bob")));
    /// ```
    pub fn from_ael_with(text: &str, params: &[Value]) -> Result<Expression, Error> {
        ael::parse(text, params)
    }
}

fn cmd(op: u8, args: Vec<Expression>) -> Expression {
    Expression::new(Node::Cmd(op, args.into_iter().map(|e| e.node).collect()))
}

fn cmd2(op: u8, a: Expression, b: Expression) -> Expression {
    cmd(op, vec![a, b])
}

// ---------------------------------------------------------------- bins, key, metadata

/// A bin read as `ty`.
///
/// ```
/// use aerospike_blocking::exp::{self, ExpType};
/// assert_eq!(exp::bin("a", ExpType::Int), exp::int_bin("a"));
/// ```
pub fn bin(name: &str, ty: ExpType) -> Expression {
    Expression::new(Node::Bin(name.to_owned(), ty))
}

macro_rules! typed_bins {
    ($($(#[$doc:meta])* $f:ident => $t:ident;)*) => {$(
        $(#[$doc])*
        pub fn $f(name: &str) -> Expression {
            bin(name, ExpType::$t)
        }
    )*};
}

typed_bins! {
    /// An integer bin.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::gt(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a > 1");
    /// ```
    int_bin => Int;
    /// A float bin.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::gt(exp::float_bin("a"), exp::float_val(1.5)).to_string(), "$.a > 1.5");
    /// ```
    float_bin => Float;
    /// A string bin.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::eq(exp::string_bin("s"), exp::string_val("x")).to_string(), "$.s == 'x'");
    /// ```
    string_bin => String;
    /// A boolean bin.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::bool_bin("b").to_string(), "$.b");
    /// ```
    bool_bin => Bool;
    /// A blob bin.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::eq(exp::blob_bin("b"), exp::blob_val(vec![1])).to_string(), "$.b == blob('01')");
    /// ```
    blob_bin => Blob;
    /// A list bin.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::list_bin("l").to_string(), "$.l.get(type: LIST)");
    /// ```
    list_bin => List;
    /// A map bin.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::map_bin("m").to_string(), "$.m.get(type: MAP)");
    /// ```
    map_bin => Map;
    /// A GeoJSON bin.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::geo_bin("g").to_string(), "$.g.get(type: GEO)");
    /// ```
    geo_bin => Geo;
    /// A HyperLogLog bin.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::hll_bin("h").to_string(), "$.h.get(type: HLL)");
    /// ```
    hll_bin => Hll;
}

/// True when bin `name` exists (its type is not 0).
///
/// ```
/// use aerospike_blocking::exp;
/// assert_eq!(exp::bin_exists("a").to_string(), "$.a.exists()");
/// ```
pub fn bin_exists(name: &str) -> Expression {
    ne(bin_type(name), int_val(0))
}

/// The particle type of bin `name` (0 when it does not exist).
///
/// ```
/// use aerospike_blocking::exp;
/// assert_eq!(exp::eq(exp::bin_type("a"), exp::int_val(3)).to_string(), "$.a.binType() == 3");
/// ```
pub fn bin_type(name: &str) -> Expression {
    Expression::new(Node::BinType(name.to_owned()))
}

/// The record's user key read as `ty` (unknown when the key was not stored).
///
/// ```
/// use aerospike_blocking::exp::{self, ExpType};
/// assert_eq!(exp::ge(exp::key(ExpType::Int), exp::int_val(9)).to_string(), "$.key() >= 9");
/// ```
pub fn key(ty: ExpType) -> Expression {
    Expression::new(Node::Key(ty))
}

macro_rules! metadata {
    ($($(#[$doc:meta])* $f:ident => $op:ident;)*) => {$(
        $(#[$doc])*
        pub fn $f() -> Expression {
            Expression::new(Node::Meta(op::$op))
        }
    )*};
}

metadata! {
    /// Seconds until the record expires (-1 for never).
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::lt(exp::ttl(), exp::int_val(60)).to_string(), "$.ttl() < 60");
    /// ```
    ttl => TTL;
    /// Expiration time in nanoseconds since the Unix epoch (-1 for never).
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::void_time().to_string(), "$.voidTime()");
    /// ```
    void_time => VOID_TIME;
    /// Last update time in nanoseconds since the Unix epoch.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::last_update().to_string(), "$.lastUpdate()");
    /// ```
    last_update => LAST_UPDATE;
    /// Milliseconds since the last update.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::since_update().to_string(), "$.sinceUpdate()");
    /// ```
    since_update => SINCE_UPDATE;
    /// The record's set name.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::set_name().to_string(), "$.setName()");
    /// ```
    set_name => SET_NAME;
    /// True when the user key is stored with the record.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::key_exists().to_string(), "$.keyExists()");
    /// ```
    key_exists => KEY_EXISTS;
    /// The record's stored size in bytes.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::record_size().to_string(), "$.recordSize()");
    /// ```
    record_size => RECORD_SIZE;
    /// The record's size on the storage device.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::device_size().to_string(), "$.deviceSize()");
    /// ```
    device_size => DEVICE_SIZE;
    /// The record's size in memory.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::memory_size().to_string(), "$.memorySize()");
    /// ```
    memory_size => MEMORY_SIZE;
    /// True for a deleted record kept as a tombstone.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::is_tombstone().to_string(), "$.isTombstone()");
    /// ```
    is_tombstone => IS_TOMBSTONE;
}

/// The record digest modulo `m`.
///
/// ```
/// use aerospike_blocking::exp;
/// assert_eq!(exp::eq(exp::digest_modulo(3), exp::int_val(1)).to_string(), "$.digestModulo(3) == 1");
/// ```
pub fn digest_modulo(m: i64) -> Expression {
    Expression::new(Node::DigestModulo(m))
}

// ---------------------------------------------------------------- literals

/// An integer literal.
///
/// ```
/// use aerospike_blocking::exp;
/// assert_eq!(exp::int_val(-3).to_bytes(), [0xfd]);
/// ```
pub fn int_val(v: i64) -> Expression {
    Expression::new(Node::Val(Value::Int(v)))
}

/// A float literal.
///
/// ```
/// use aerospike_blocking::exp;
/// assert_eq!(exp::float_val(1.0).to_bytes()[0], 0xcb);
/// ```
pub fn float_val(v: f64) -> Expression {
    Expression::new(Node::Val(Value::Float(v)))
}

/// A string literal (sent with the string particle prefix).
///
/// ```
/// use aerospike_blocking::exp;
/// assert_eq!(exp::string_val("a").to_bytes(), [0xa2, 0x03, b'a']);
/// ```
pub fn string_val(v: &str) -> Expression {
    Expression::new(Node::Val(Value::String(v.to_owned())))
}

/// A boolean literal.
///
/// ```
/// use aerospike_blocking::exp;
/// assert_eq!(exp::bool_val(false).to_bytes(), [0xc2]);
/// ```
pub fn bool_val(v: bool) -> Expression {
    Expression::new(Node::Val(Value::Bool(v)))
}

/// A blob literal (sent with the blob particle prefix).
///
/// ```
/// use aerospike_blocking::exp;
/// assert_eq!(exp::blob_val(vec![9]).to_bytes(), [0xa2, 0x04, 9]);
/// ```
pub fn blob_val(v: Vec<u8>) -> Expression {
    Expression::new(Node::Val(Value::Blob(v)))
}

/// A list literal (sent quoted: `[126, list]`).
///
/// ```
/// use aerospike_blocking::{exp, Value};
/// assert_eq!(exp::list_val(vec![Value::Int(1)]).to_bytes(), [0x92, 0x7e, 0x91, 0x01]);
/// ```
pub fn list_val(v: Vec<Value>) -> Expression {
    Expression::new(Node::Val(Value::List(v)))
}

/// A map literal.
///
/// ```
/// use aerospike_blocking::{exp, Value};
/// assert_eq!(exp::map_val(vec![(Value::Int(1), Value::Int(2))]).to_bytes(), [0x81, 0x01, 0x02]);
/// ```
pub fn map_val(v: Vec<(Value, Value)>) -> Expression {
    Expression::new(Node::Val(Value::Map(v)))
}

/// A GeoJSON literal.
///
/// ```
/// use aerospike_blocking::exp;
/// assert_eq!(exp::geo_val("{}").to_bytes(), [0xa3, 23, b'{', b'}']);
/// ```
pub fn geo_val(v: &str) -> Expression {
    Expression::new(Node::Val(Value::GeoJson(v.to_owned())))
}

/// The nil literal.
///
/// ```
/// use aerospike_blocking::exp;
/// assert_eq!(exp::nil().to_bytes(), [0xc0]);
/// ```
pub fn nil() -> Expression {
    Expression::new(Node::Val(Value::Nil))
}

/// A literal of any value; the same as the typed `*_val` function of its type.
///
/// ```
/// use aerospike_blocking::{exp, Value};
/// assert_eq!(exp::val(Value::from(5)), exp::int_val(5));
/// ```
pub fn val(v: Value) -> Expression {
    Expression::new(Node::Val(v))
}

// ---------------------------------------------------------------- logic and comparison

macro_rules! binary {
    ($($(#[$doc:meta])* $f:ident => $op:ident;)*) => {$(
        $(#[$doc])*
        pub fn $f(left: Expression, right: Expression) -> Expression {
            cmd2(op::$op, left, right)
        }
    )*};
}

binary! {
    /// `left == right`.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::eq(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a == 1");
    /// ```
    eq => EQ;
    /// `left != right`.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::ne(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a != 1");
    /// ```
    ne => NE;
    /// `left > right`.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::gt(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a > 1");
    /// ```
    gt => GT;
    /// `left >= right`.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::ge(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a >= 1");
    /// ```
    ge => GE;
    /// `left < right`.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::lt(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a < 1");
    /// ```
    lt => LT;
    /// `left <= right`.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::le(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a <= 1");
    /// ```
    le => LE;
    /// Integer `value << shift`.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::int_lshift(exp::int_bin("a"), exp::int_val(2)).to_string(), "$.a << 2");
    /// ```
    int_lshift => INT_LSHIFT;
    /// Integer logical right shift `value >>> shift`.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::int_rshift(exp::int_bin("a"), exp::int_val(2)).to_string(), "$.a >>> 2");
    /// ```
    int_rshift => INT_RSHIFT;
    /// Integer arithmetic right shift `value >> shift`.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::int_arshift(exp::int_bin("a"), exp::int_val(2)).to_string(), "$.a >> 2");
    /// ```
    int_arshift => INT_ARSHIFT;
    /// Index of the first bit equal to `search`, from the most significant bit (-1 if none).
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::int_lscan(exp::int_bin("a"), exp::bool_val(true)).to_string(), "findBitLeft($.a, true)");
    /// ```
    int_lscan => INT_LSCAN;
    /// Index of the last bit equal to `search`, counted from the most significant bit (-1 if none).
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::int_rscan(exp::int_bin("a"), exp::bool_val(true)).to_string(), "findBitRight($.a, true)");
    /// ```
    int_rscan => INT_RSCAN;
    /// `base ** exponent` (floats).
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::pow(exp::float_bin("a"), exp::float_val(2.0)).to_string(), "$.a ** 2.0");
    /// ```
    pow => POW;
    /// Logarithm of `num` in base `base` (floats).
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::log(exp::float_bin("a"), exp::float_val(2.0)).to_string(), "log($.a, 2.0)");
    /// ```
    log => LOG;
    /// Integer `left % right`.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::modulo(exp::int_bin("a"), exp::int_val(2)).to_string(), "$.a % 2");
    /// ```
    modulo => MOD;
}

macro_rules! variadic {
    ($($(#[$doc:meta])* $f:ident => $op:ident;)*) => {$(
        $(#[$doc])*
        pub fn $f(args: Vec<Expression>) -> Expression {
            cmd(op::$op, args)
        }
    )*};
}

variadic! {
    /// True when every argument is true.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// let e = exp::and(vec![exp::bool_bin("a"), exp::bool_bin("b")]);
    /// assert_eq!(e.to_string(), "$.a and $.b");
    /// ```
    and => AND;
    /// True when any argument is true.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// let e = exp::or(vec![exp::bool_bin("a"), exp::bool_bin("b")]);
    /// assert_eq!(e.to_string(), "$.a or $.b");
    /// ```
    or => OR;
    /// True when exactly one argument is true.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// let e = exp::exclusive(vec![exp::bool_bin("a"), exp::bool_bin("b")]);
    /// assert_eq!(e.to_string(), "exclusive($.a, $.b)");
    /// ```
    exclusive => EXCLUSIVE;
    /// Sum of the arguments (all integers or all floats).
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::add(vec![exp::int_bin("a"), exp::int_val(1)]).to_string(), "$.a + 1");
    /// ```
    add => ADD;
    /// First argument minus the others; with one argument, its negation.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::sub(vec![exp::int_bin("a"), exp::int_val(1)]).to_string(), "$.a - 1");
    /// ```
    sub => SUB;
    /// Product of the arguments.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::mul(vec![exp::int_bin("a"), exp::int_val(2)]).to_string(), "$.a * 2");
    /// ```
    mul => MUL;
    /// First argument divided by the others.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::div(vec![exp::int_bin("a"), exp::int_val(2)]).to_string(), "$.a / 2");
    /// ```
    div => DIV;
    /// Smallest argument.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::min(vec![exp::int_bin("a"), exp::int_val(2)]).to_string(), "min($.a, 2)");
    /// ```
    min => MIN;
    /// Largest argument.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::max(vec![exp::int_bin("a"), exp::int_val(2)]).to_string(), "max($.a, 2)");
    /// ```
    max => MAX;
    /// Bitwise and of integers.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::int_and(vec![exp::int_bin("a"), exp::int_val(4)]).to_string(), "$.a & 4");
    /// ```
    int_and => INT_AND;
    /// Bitwise or of integers.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::int_or(vec![exp::int_bin("a"), exp::int_val(4)]).to_string(), "$.a | 4");
    /// ```
    int_or => INT_OR;
    /// Bitwise exclusive or of integers.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::int_xor(vec![exp::int_bin("a"), exp::int_val(4)]).to_string(), "$.a ^ 4");
    /// ```
    int_xor => INT_XOR;
    /// `cond(c1, v1, c2, v2, ..., default)`: the value of the first true condition.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// let e = exp::cond(vec![exp::bool_bin("a"), exp::int_val(1), exp::int_val(0)]);
    /// assert_eq!(e.to_string(), "when($.a => 1, default => 0)");
    /// ```
    cond => COND;
}

macro_rules! unary {
    ($($(#[$doc:meta])* $f:ident => $op:ident;)*) => {$(
        $(#[$doc])*
        pub fn $f(e: Expression) -> Expression {
            cmd(op::$op, vec![e])
        }
    )*};
}

unary! {
    /// Logical not.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::not(exp::bool_bin("a")).to_string(), "not($.a)");
    /// ```
    not => NOT;
    /// Absolute value.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::abs(exp::int_bin("a")).to_string(), "abs($.a)");
    /// ```
    abs => ABS;
    /// Float rounded down.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::floor(exp::float_bin("a")).to_string(), "floor($.a)");
    /// ```
    floor => FLOOR;
    /// Float rounded up.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::ceil(exp::float_bin("a")).to_string(), "ceil($.a)");
    /// ```
    ceil => CEIL;
    /// Float converted to integer.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::to_int(exp::float_bin("a")).to_string(), "toInt($.a)");
    /// ```
    to_int => TO_INT;
    /// Integer converted to float.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::to_float(exp::int_bin("a")).to_string(), "toFloat($.a)");
    /// ```
    to_float => TO_FLOAT;
    /// Bitwise not of an integer.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::int_not(exp::int_bin("a")).to_string(), "~$.a");
    /// ```
    int_not => INT_NOT;
    /// Number of bits set in an integer.
    ///
    /// ```
    /// use aerospike_blocking::exp;
    /// assert_eq!(exp::int_count(exp::int_bin("a")).to_string(), "countOneBits($.a)");
    /// ```
    int_count => INT_COUNT;
}

// ---------------------------------------------------------------- variables

/// A variable definition for [`let_`].
///
/// ```
/// use aerospike_blocking::exp;
/// let d = exp::def("x", exp::int_bin("a"));
/// assert_eq!(d.name(), "x");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Def {
    name: String,
    value: Expression,
}

impl Def {
    /// The variable's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Defines variable `name` as `value`, for [`let_`].
///
/// ```
/// use aerospike_blocking::exp;
/// let e = exp::let_(vec![exp::def("x", exp::int_bin("a"))],
///     exp::lt(exp::var("x"), exp::int_val(10)));
/// assert_eq!(e.to_string(), "let(x = $.a) then (${x} < 10)");
/// ```
pub fn def(name: &str, value: Expression) -> Def {
    Def {
        name: name.to_owned(),
        value,
    }
}

/// Evaluates `body` with the variables of `defs` in scope.
///
/// ```
/// use aerospike_blocking::exp;
/// let e = exp::let_(vec![exp::def("x", exp::int_val(1))], exp::eq(exp::var("x"), exp::int_val(1)));
/// assert_eq!(e.to_bytes()[..3], [0x94, 0x7d, 0xa1]);
/// ```
pub fn let_(defs: Vec<Def>, body: Expression) -> Expression {
    Expression::new(Node::Let(
        defs.into_iter().map(|d| (d.name, d.value.node)).collect(),
        Box::new(body.node),
    ))
}

/// The value of a variable defined by an enclosing [`let_`].
///
/// ```
/// use aerospike_blocking::exp;
/// assert_eq!(exp::var("x").to_bytes(), [0x92, 0x7c, 0xa1, b'x']);
/// ```
pub fn var(name: &str) -> Expression {
    Expression::new(Node::Var(name.to_owned()))
}

// ---------------------------------------------------------------- list and map reads

/// CDT operation codes used by expression reads.
pub(crate) mod cdt {
    pub(crate) const LIST_SIZE: u8 = 16;
    pub(crate) const LIST_GET_BY_INDEX: u8 = 19;
    pub(crate) const LIST_GET_BY_RANK: u8 = 21;
    pub(crate) const LIST_GET_BY_VALUE: u8 = 22;
    pub(crate) const LIST_GET_BY_VALUE_LIST: u8 = 23;
    pub(crate) const LIST_GET_BY_INDEX_RANGE: u8 = 24;
    pub(crate) const LIST_GET_BY_VALUE_INTERVAL: u8 = 25;
    pub(crate) const LIST_GET_BY_RANK_RANGE: u8 = 26;
    pub(crate) const LIST_GET_BY_VALUE_REL_RANK_RANGE: u8 = 27;
    pub(crate) const MAP_SIZE: u8 = 96;
    pub(crate) const MAP_GET_BY_KEY: u8 = 97;
    pub(crate) const MAP_GET_BY_INDEX: u8 = 98;
    pub(crate) const MAP_GET_BY_RANK: u8 = 100;
    pub(crate) const MAP_GET_BY_VALUE: u8 = 102;
    pub(crate) const MAP_GET_BY_KEY_INTERVAL: u8 = 103;
    pub(crate) const MAP_GET_BY_INDEX_RANGE: u8 = 104;
    pub(crate) const MAP_GET_BY_VALUE_INTERVAL: u8 = 105;
    pub(crate) const MAP_GET_BY_RANK_RANGE: u8 = 106;
    pub(crate) const MAP_GET_BY_KEY_LIST: u8 = 107;
    pub(crate) const MAP_GET_BY_VALUE_LIST: u8 = 108;
    pub(crate) const MAP_GET_BY_KEY_REL_INDEX_RANGE: u8 = 109;
    pub(crate) const MAP_GET_BY_VALUE_REL_RANK_RANGE: u8 = 110;
}

fn call(
    op: u8,
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

fn with_count(a: Expression, count: Option<Expression>) -> Vec<Expression> {
    std::iter::once(a).chain(count).collect()
}

fn range_args(begin: Option<Expression>, end: Option<Expression>) -> Vec<Expression> {
    std::iter::once(begin.unwrap_or_else(nil))
        .chain(end)
        .collect()
}

/// Number of elements of a list.
///
/// ```
/// use aerospike_blocking::exp;
/// let e = exp::gt(exp::list_size(exp::list_bin("l"), &[]), exp::int_val(0));
/// assert_eq!(e.to_string(), "$.l.[].count() > 0");
/// ```
pub fn list_size(bin: Expression, ctx: &[CdtContext]) -> Expression {
    call(cdt::LIST_SIZE, ExpType::Int, None, vec![], bin, ctx)
}

/// The list element at `index`, read as `value_type`.
///
/// ```
/// use aerospike_blocking::exp::{self, ExpType};
/// use aerospike_blocking::operations::list::ListReturnType;
/// use aerospike_blocking::operations::CdtContext;
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
    call(
        cdt::LIST_GET_BY_INDEX,
        value_type,
        Some(rt.into()),
        vec![index],
        bin,
        ctx,
    )
}

/// The list elements from `index`, `count` of them or all the rest.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::list::ListReturnType;
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
    call(
        cdt::LIST_GET_BY_INDEX_RANGE,
        ReturnType::from(rt).range_type(false),
        Some(rt.into()),
        with_count(index, count),
        bin,
        ctx,
    )
}

/// The list elements equal to `value`.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::list::ListReturnType;
/// let e = exp::list_get_by_value(ListReturnType::COUNT, exp::int_val(100), exp::list_bin("l"), &[]);
/// assert_eq!(exp::gt(e, exp::int_val(0)).to_string(), "$.l.[=100].count() > 0");
/// ```
pub fn list_get_by_value(
    rt: ListReturnType,
    value: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    call(
        cdt::LIST_GET_BY_VALUE,
        ReturnType::from(rt).range_type(false),
        Some(rt.into()),
        vec![value],
        bin,
        ctx,
    )
}

/// The list elements in `[begin, end)`; a missing bound is open.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::list::ListReturnType;
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
    call(
        cdt::LIST_GET_BY_VALUE_INTERVAL,
        ReturnType::from(rt).range_type(false),
        Some(rt.into()),
        range_args(begin, end),
        bin,
        ctx,
    )
}

/// The list elements equal to any value of the list `values`.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::list::ListReturnType;
/// use aerospike_blocking::Value;
/// let e = exp::list_get_by_value_list(ListReturnType::EXISTS, exp::list_val(vec![Value::Int(1), Value::Int(2)]), exp::list_bin("l"), &[]);
/// assert_eq!(e.to_string(), "$.l.[=1,2].exists()");
/// ```
pub fn list_get_by_value_list(
    rt: ListReturnType,
    values: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    call(
        cdt::LIST_GET_BY_VALUE_LIST,
        ReturnType::from(rt).range_type(false),
        Some(rt.into()),
        vec![values],
        bin,
        ctx,
    )
}

/// The list element of `rank` (0 = smallest), read as `value_type`.
///
/// ```
/// use aerospike_blocking::exp::{self, ExpType};
/// use aerospike_blocking::operations::list::ListReturnType;
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
    call(
        cdt::LIST_GET_BY_RANK,
        value_type,
        Some(rt.into()),
        vec![rank],
        bin,
        ctx,
    )
}

/// The list elements from `rank`, `count` of them or all the rest.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::list::ListReturnType;
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
    call(
        cdt::LIST_GET_BY_RANK_RANGE,
        ReturnType::from(rt).range_type(false),
        Some(rt.into()),
        with_count(rank, count),
        bin,
        ctx,
    )
}

/// The list elements by rank relative to `value`: from `rank`, `count` of them or all.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::list::ListReturnType;
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
    call(
        cdt::LIST_GET_BY_VALUE_REL_RANK_RANGE,
        ReturnType::from(rt).range_type(false),
        Some(rt.into()),
        std::iter::once(value)
            .chain(with_count(rank, count))
            .collect(),
        bin,
        ctx,
    )
}

/// Number of entries of a map.
///
/// ```
/// use aerospike_blocking::exp;
/// assert_eq!(exp::map_size(exp::map_bin("m"), &[]).to_string(), "$.m.{}.count()");
/// ```
pub fn map_size(bin: Expression, ctx: &[CdtContext]) -> Expression {
    call(cdt::MAP_SIZE, ExpType::Int, None, vec![], bin, ctx)
}

/// The map entry with `key`, read as `value_type`.
///
/// ```
/// use aerospike_blocking::exp::{self, ExpType};
/// use aerospike_blocking::operations::map::MapReturnType;
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
    call(
        cdt::MAP_GET_BY_KEY,
        value_type,
        Some(rt.into()),
        vec![key],
        bin,
        ctx,
    )
}

/// The map entries with keys in `[begin, end)`; a missing bound is open.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::map::MapReturnType;
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
    call(
        cdt::MAP_GET_BY_KEY_INTERVAL,
        ReturnType::from(rt).range_type(true),
        Some(rt.into()),
        range_args(begin, end),
        bin,
        ctx,
    )
}

/// The map entries whose key is in the list `keys`.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::map::MapReturnType;
/// use aerospike_blocking::Value;
/// let e = exp::map_get_by_key_list(MapReturnType::COUNT, exp::list_val(vec![Value::from("a"), Value::from("b")]), exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{a,b}.count()");
/// ```
pub fn map_get_by_key_list(
    rt: MapReturnType,
    keys: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    call(
        cdt::MAP_GET_BY_KEY_LIST,
        ReturnType::from(rt).range_type(true),
        Some(rt.into()),
        vec![keys],
        bin,
        ctx,
    )
}

/// The map entries by index relative to `key`: from `index`, `count` of them or all.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::map::MapReturnType;
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
    call(
        cdt::MAP_GET_BY_KEY_REL_INDEX_RANGE,
        ReturnType::from(rt).range_type(true),
        Some(rt.into()),
        std::iter::once(key)
            .chain(with_count(index, count))
            .collect(),
        bin,
        ctx,
    )
}

/// The map entries whose value equals `value`.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::map::MapReturnType;
/// let e = exp::map_get_by_value(MapReturnType::COUNT, exp::int_val(1), exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{=1}.count()");
/// ```
pub fn map_get_by_value(
    rt: MapReturnType,
    value: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    call(
        cdt::MAP_GET_BY_VALUE,
        ReturnType::from(rt).range_type(true),
        Some(rt.into()),
        vec![value],
        bin,
        ctx,
    )
}

/// The map entries with values in `[begin, end)`; a missing bound is open.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::map::MapReturnType;
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
    call(
        cdt::MAP_GET_BY_VALUE_INTERVAL,
        ReturnType::from(rt).range_type(true),
        Some(rt.into()),
        range_args(begin, end),
        bin,
        ctx,
    )
}

/// The map entries whose value is in the list `values`.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::map::MapReturnType;
/// use aerospike_blocking::Value;
/// let e = exp::map_get_by_value_list(MapReturnType::COUNT, exp::list_val(vec![Value::Int(1)]), exp::map_bin("m"), &[]);
/// assert_eq!(e.to_string(), "$.m.{=1,}.count()");
/// ```
pub fn map_get_by_value_list(
    rt: MapReturnType,
    values: Expression,
    bin: Expression,
    ctx: &[CdtContext],
) -> Expression {
    call(
        cdt::MAP_GET_BY_VALUE_LIST,
        ReturnType::from(rt).range_type(true),
        Some(rt.into()),
        vec![values],
        bin,
        ctx,
    )
}

/// The map entries by rank relative to `value`: from `rank`, `count` of them or all.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::map::MapReturnType;
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
    call(
        cdt::MAP_GET_BY_VALUE_REL_RANK_RANGE,
        ReturnType::from(rt).range_type(true),
        Some(rt.into()),
        std::iter::once(value)
            .chain(with_count(rank, count))
            .collect(),
        bin,
        ctx,
    )
}

/// The map entry at `index` in key order, read as `value_type`.
///
/// ```
/// use aerospike_blocking::exp::{self, ExpType};
/// use aerospike_blocking::operations::map::MapReturnType;
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
    call(
        cdt::MAP_GET_BY_INDEX,
        value_type,
        Some(rt.into()),
        vec![index],
        bin,
        ctx,
    )
}

/// The map entries from `index` in key order, `count` of them or all the rest.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::map::MapReturnType;
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
    call(
        cdt::MAP_GET_BY_INDEX_RANGE,
        ReturnType::from(rt).range_type(true),
        Some(rt.into()),
        with_count(index, count),
        bin,
        ctx,
    )
}

/// The map entry of `rank` by value, read as `value_type`.
///
/// ```
/// use aerospike_blocking::exp::{self, ExpType};
/// use aerospike_blocking::operations::map::MapReturnType;
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
    call(
        cdt::MAP_GET_BY_RANK,
        value_type,
        Some(rt.into()),
        vec![rank],
        bin,
        ctx,
    )
}

/// The map entries from `rank` by value, `count` of them or all the rest.
///
/// ```
/// use aerospike_blocking::exp;
/// use aerospike_blocking::operations::map::MapReturnType;
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
    call(
        cdt::MAP_GET_BY_RANK_RANGE,
        ReturnType::from(rt).range_type(true),
        Some(rt.into()),
        with_count(rank, count),
        bin,
        ctx,
    )
}
