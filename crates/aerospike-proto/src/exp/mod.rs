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
//! use aerospike_proto::exp::{self, Expression};
//! let built = exp::and(vec![
//!     exp::eq(exp::bool_bin("active"), exp::bool_val(true)),
//!     exp::lt(exp::int_bin("age"), exp::int_val(30)),
//! ]);
//! let parsed = Expression::from_ael("$.active == true and $.age < 30").unwrap();
//! assert_eq!(built, parsed);
//! assert_eq!(Expression::from_ael(&built.to_string()).unwrap(), built);
//! ```

mod ael;
mod builder;
pub mod display;
pub mod pack;
mod reads;

use crate::error::Error;
use crate::operations::list::ListReturnType;
use crate::operations::map::MapReturnType;
use crate::operations::CdtContext;
use crate::value::Value;

pub use builder::*;
pub use pack::op;
pub use reads::*;

/// The type an expression evaluates to, as the server names it.
///
/// ```
/// use aerospike_proto::exp::ExpType;
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
    /// use aerospike_proto::exp::ExpType;
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
    /// use aerospike_proto::exp::ExpType;
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

    /// The expression type of a value.
    pub fn of(v: &Value) -> ExpType {
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
    pub fn ael_name(self) -> &'static str {
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
/// [`ListReturnType`] or
/// [`MapReturnType`] (they share codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReturnType(u32);

impl ReturnType {
    /// CDT return type: none (`0`).
    pub const NONE: ReturnType = ReturnType(0);
    /// CDT return type: index (`1`).
    pub const INDEX: ReturnType = ReturnType(1);
    /// CDT return type: reverse index (`2`).
    pub const REVERSE_INDEX: ReturnType = ReturnType(2);
    /// CDT return type: rank (`3`).
    pub const RANK: ReturnType = ReturnType(3);
    /// CDT return type: reverse rank (`4`).
    pub const REVERSE_RANK: ReturnType = ReturnType(4);
    /// CDT return type: count (`5`).
    pub const COUNT: ReturnType = ReturnType(5);
    /// CDT return type: key (`6`).
    pub const KEY: ReturnType = ReturnType(6);
    /// CDT return type: value (`7`).
    pub const VALUE: ReturnType = ReturnType(7);
    /// CDT return type: key value (`8`).
    pub const KEY_VALUE: ReturnType = ReturnType(8);
    /// CDT return type: exists (`13`).
    pub const EXISTS: ReturnType = ReturnType(13);
    /// CDT return type: unordered map (`16`).
    pub const UNORDERED_MAP: ReturnType = ReturnType(16);
    /// CDT return type: ordered map (`17`).
    pub const ORDERED_MAP: ReturnType = ReturnType(17);
    /// Flag: select everything *outside* the given range.
    const INVERTED: u32 = 0x10000;

    /// The same return type over the inverted selection.
    pub const fn inverted(self) -> ReturnType {
        ReturnType(self.0 | Self::INVERTED)
    }

    /// True when the selection is inverted.
    pub const fn is_inverted(self) -> bool {
        self.0 & Self::INVERTED != 0
    }

    /// The wire code.
    pub const fn code(self) -> u32 {
        self.0
    }

    /// The code without the inverted flag.
    pub const fn base(self) -> ReturnType {
        ReturnType(self.0 & !Self::INVERTED)
    }

    /// The return type with this wire code, or `None` for an unknown code.
    pub fn from_code(code: i64) -> Option<ReturnType> {
        let rt = ReturnType(u32::try_from(code).ok()?);
        rt.name().map(|_| rt)
    }

    /// The AEL name of the base return type.
    pub fn name(self) -> Option<&'static str> {
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

/// Parses AEL text, like [`Expression::from_ael`].
///
/// ```
/// use aerospike_proto::exp::{self, Expression};
/// let e: Expression = "$.age > 21".parse().unwrap();
/// assert_eq!(e, exp::gt(exp::int_bin("age"), exp::int_val(21)));
/// ```
impl std::str::FromStr for Expression {
    type Err = Error;

    fn from_str(text: &str) -> Result<Expression, Error> {
        Expression::from_ael(text)
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
pub enum Ctx {
    /// A step by list index.
    ListIndex(i64),
    /// A step by list rank.
    ListRank(i64),
    /// A step by list value.
    ListValue(Value),
    /// A step by map index.
    MapIndex(i64),
    /// A step by map rank.
    MapRank(i64),
    /// A step by map key.
    MapKey(Value),
    /// A step by map value.
    MapValue(Value),
}

impl Ctx {
    /// Wire id of the context step.
    pub fn id(&self) -> u8 {
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
    pub fn value(&self) -> Value {
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
    pub fn from_wire(id: i64, v: Value) -> Option<Ctx> {
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
pub struct Call {
    /// Declared result type.
    pub ret: ExpType,
    /// CDT operation code (list ops below 64, map ops from 64).
    pub op: i64,
    /// Return type, absent for `size`.
    pub rt: Option<ReturnType>,
    /// Operation arguments (expressions).
    pub args: Vec<Node>,
    /// Context path into nested elements.
    pub ctx: Vec<Ctx>,
    /// The list or map the read applies to.
    pub bin: Node,
}

/// The expression tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
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
/// use aerospike_proto::exp::{self, Expression};
/// let e = exp::eq(exp::bool_bin("active"), exp::bool_val(true));
/// assert_eq!(e.to_string(), "$.active == true");
/// assert_eq!(e.to_bytes(), [0x93, 0x01, 0x93, 0x51, 0x01, 0xa6, b'a', b'c', b't', b'i', b'v', b'e', 0xc3]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    /// The `node` of this Expression.
    pub node: Node,
}

impl Expression {
    /// An expression made of this tree.
    pub fn new(node: Node) -> Self {
        Expression { node }
    }

    /// The packed bytes sent as the filter field.
    pub fn pack(&self) -> Vec<u8> {
        let mut buf = Vec::new();
        pack::pack(&self.node, &mut buf);
        buf
    }

    /// The msgpack bytes the server receives for this expression.
    ///
    /// ```
    /// use aerospike_proto::exp;
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
    /// use aerospike_proto::exp::Expression;
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
    /// use aerospike_proto::exp::{self, Expression};
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
    /// use aerospike_proto::exp::{self, Expression};
    /// use aerospike_proto::Value;
    /// let e = Expression::from_ael_with("$.name == ?0", &[Value::from("bob")]).unwrap();
    /// assert_eq!(e, exp::eq(exp::string_bin("name"), exp::string_val("bob")));
    /// ```
    pub fn from_ael_with(text: &str, params: &[Value]) -> Result<Expression, Error> {
        ael::parse(text, params)
    }

    /// Parses an AEL expression of any type, not only a boolean where-clause:
    /// the value of an expression read or write
    /// ([`operations::exp_read`](crate::operations::exp_read),
    /// [`operations::exp_write`](crate::operations::exp_write)). Untyped bins
    /// take their type from their siblings, else integer, as in a where-clause.
    ///
    /// ```
    /// use aerospike_proto::exp::{self, Expression};
    /// let e = Expression::from_ael_value("$.price * $.qty").unwrap();
    /// assert_eq!(e, exp::mul(vec![exp::int_bin("price"), exp::int_bin("qty")]));
    /// let f = Expression::from_ael_value("$.ratio.get(type: FLOAT) * 2.0").unwrap();
    /// assert_eq!(f, exp::mul(vec![exp::float_bin("ratio"), exp::float_val(2.0)]));
    /// // `from_ael` wants a boolean where-clause.
    /// assert!(Expression::from_ael("$.price + 1").is_err());
    /// assert!(Expression::from_ael_value("$.price + 1").is_ok());
    /// ```
    pub fn from_ael_value(text: &str) -> Result<Expression, Error> {
        ael::parse_value(text, &[])
    }
}
