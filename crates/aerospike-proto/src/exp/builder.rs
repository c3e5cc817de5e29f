//! Builders for bins, record metadata, literals, operators and variables
//! (the official clients' `Exp`).

use crate::value::Value;

use super::{op, ExpType, Expression, Node};

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
/// use aerospike_proto::exp::{self, ExpType};
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
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::gt(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a > 1");
    /// ```
    int_bin => Int;
    /// A float bin.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::gt(exp::float_bin("a"), exp::float_val(1.5)).to_string(), "$.a > 1.5");
    /// ```
    float_bin => Float;
    /// A string bin.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::eq(exp::string_bin("s"), exp::string_val("x")).to_string(), "$.s == 'x'");
    /// ```
    string_bin => String;
    /// A boolean bin.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::bool_bin("b").to_string(), "$.b");
    /// ```
    bool_bin => Bool;
    /// A blob bin.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::eq(exp::blob_bin("b"), exp::blob_val(vec![1])).to_string(), "$.b == blob('01')");
    /// ```
    blob_bin => Blob;
    /// A list bin.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::list_bin("l").to_string(), "$.l.get(type: LIST)");
    /// ```
    list_bin => List;
    /// A map bin.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::map_bin("m").to_string(), "$.m.get(type: MAP)");
    /// ```
    map_bin => Map;
    /// A GeoJSON bin.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::geo_bin("g").to_string(), "$.g.get(type: GEO)");
    /// ```
    geo_bin => Geo;
    /// A HyperLogLog bin.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::hll_bin("h").to_string(), "$.h.get(type: HLL)");
    /// ```
    hll_bin => Hll;
}

/// True when bin `name` exists (its type is not 0).
///
/// ```
/// use aerospike_proto::exp;
/// assert_eq!(exp::bin_exists("a").to_string(), "$.a.exists()");
/// ```
pub fn bin_exists(name: &str) -> Expression {
    ne(bin_type(name), int_val(0))
}

/// The particle type of bin `name` (0 when it does not exist).
///
/// ```
/// use aerospike_proto::exp;
/// assert_eq!(exp::eq(exp::bin_type("a"), exp::int_val(3)).to_string(), "$.a.binType() == 3");
/// ```
pub fn bin_type(name: &str) -> Expression {
    Expression::new(Node::BinType(name.to_owned()))
}

/// The record's user key read as `ty` (unknown when the key was not stored).
///
/// ```
/// use aerospike_proto::exp::{self, ExpType};
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
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::lt(exp::ttl(), exp::int_val(60)).to_string(), "$.ttl() < 60");
    /// ```
    ttl => TTL;
    /// Expiration time in nanoseconds since the Unix epoch (-1 for never).
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::void_time().to_string(), "$.voidTime()");
    /// ```
    void_time => VOID_TIME;
    /// Last update time in nanoseconds since the Unix epoch.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::last_update().to_string(), "$.lastUpdate()");
    /// ```
    last_update => LAST_UPDATE;
    /// Milliseconds since the last update.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::since_update().to_string(), "$.sinceUpdate()");
    /// ```
    since_update => SINCE_UPDATE;
    /// The record's set name.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::set_name().to_string(), "$.setName()");
    /// ```
    set_name => SET_NAME;
    /// True when the user key is stored with the record.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::key_exists().to_string(), "$.keyExists()");
    /// ```
    key_exists => KEY_EXISTS;
    /// The record's stored size in bytes.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::record_size().to_string(), "$.recordSize()");
    /// ```
    record_size => RECORD_SIZE;
    /// The record's size on the storage device.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::device_size().to_string(), "$.deviceSize()");
    /// ```
    device_size => DEVICE_SIZE;
    /// The record's size in memory.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::memory_size().to_string(), "$.memorySize()");
    /// ```
    memory_size => MEMORY_SIZE;
    /// True for a deleted record kept as a tombstone.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::is_tombstone().to_string(), "$.isTombstone()");
    /// ```
    is_tombstone => IS_TOMBSTONE;
}

/// The record digest modulo `m`.
///
/// ```
/// use aerospike_proto::exp;
/// assert_eq!(exp::eq(exp::digest_modulo(3), exp::int_val(1)).to_string(), "$.digestModulo(3) == 1");
/// ```
pub fn digest_modulo(m: i64) -> Expression {
    Expression::new(Node::DigestModulo(m))
}

// ---------------------------------------------------------------- literals

/// An integer literal.
///
/// ```
/// use aerospike_proto::exp;
/// assert_eq!(exp::int_val(-3).to_bytes(), [0xfd]);
/// ```
pub fn int_val(v: i64) -> Expression {
    Expression::new(Node::Val(Value::Int(v)))
}

/// A float literal.
///
/// ```
/// use aerospike_proto::exp;
/// assert_eq!(exp::float_val(1.0).to_bytes()[0], 0xcb);
/// ```
pub fn float_val(v: f64) -> Expression {
    Expression::new(Node::Val(Value::Float(v)))
}

/// A string literal (sent with the string particle prefix).
///
/// ```
/// use aerospike_proto::exp;
/// assert_eq!(exp::string_val("a").to_bytes(), [0xa2, 0x03, b'a']);
/// ```
pub fn string_val(v: &str) -> Expression {
    Expression::new(Node::Val(Value::String(v.to_owned())))
}

/// A boolean literal.
///
/// ```
/// use aerospike_proto::exp;
/// assert_eq!(exp::bool_val(false).to_bytes(), [0xc2]);
/// ```
pub fn bool_val(v: bool) -> Expression {
    Expression::new(Node::Val(Value::Bool(v)))
}

/// A blob literal (sent with the blob particle prefix).
///
/// ```
/// use aerospike_proto::exp;
/// assert_eq!(exp::blob_val(vec![9]).to_bytes(), [0xa2, 0x04, 9]);
/// ```
pub fn blob_val(v: Vec<u8>) -> Expression {
    Expression::new(Node::Val(Value::Blob(v)))
}

/// A list literal (sent quoted: `[126, list]`).
///
/// ```
/// use aerospike_proto::{exp, Value};
/// assert_eq!(exp::list_val(vec![Value::Int(1)]).to_bytes(), [0x92, 0x7e, 0x91, 0x01]);
/// ```
pub fn list_val(v: Vec<Value>) -> Expression {
    Expression::new(Node::Val(Value::List(v)))
}

/// A map literal. It is sent key-ordered with the key-ordered map header
/// (`c7 00 01`, then nil), the way a server keeps and compares maps.
///
/// ```
/// use aerospike_proto::{exp, Value};
/// assert_eq!(
///     exp::map_val(vec![(Value::Int(1), Value::Int(2))]).to_bytes(),
///     [0x82, 0xc7, 0x00, 0x01, 0xc0, 0x01, 0x02]
/// );
/// ```
pub fn map_val(v: Vec<(Value, Value)>) -> Expression {
    Expression::new(Node::Val(Value::Map(v)))
}

/// A GeoJSON literal.
///
/// ```
/// use aerospike_proto::exp;
/// assert_eq!(exp::geo_val("{}").to_bytes(), [0xa3, 23, b'{', b'}']);
/// ```
pub fn geo_val(v: &str) -> Expression {
    Expression::new(Node::Val(Value::GeoJson(v.to_owned())))
}

/// The nil literal.
///
/// ```
/// use aerospike_proto::exp;
/// assert_eq!(exp::nil().to_bytes(), [0xc0]);
/// ```
pub fn nil() -> Expression {
    Expression::new(Node::Val(Value::Nil))
}

/// A literal of any value; the same as the typed `*_val` function of its type.
///
/// ```
/// use aerospike_proto::{exp, Value};
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
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::eq(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a == 1");
    /// ```
    eq => EQ;
    /// `left != right`.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::ne(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a != 1");
    /// ```
    ne => NE;
    /// `left > right`.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::gt(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a > 1");
    /// ```
    gt => GT;
    /// `left >= right`.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::ge(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a >= 1");
    /// ```
    ge => GE;
    /// `left < right`.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::lt(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a < 1");
    /// ```
    lt => LT;
    /// `left <= right`.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::le(exp::int_bin("a"), exp::int_val(1)).to_string(), "$.a <= 1");
    /// ```
    le => LE;
    /// Integer `value << shift`.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::int_lshift(exp::int_bin("a"), exp::int_val(2)).to_string(), "$.a << 2");
    /// ```
    int_lshift => INT_LSHIFT;
    /// Integer logical right shift `value >>> shift`.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::int_rshift(exp::int_bin("a"), exp::int_val(2)).to_string(), "$.a >>> 2");
    /// ```
    int_rshift => INT_RSHIFT;
    /// Integer arithmetic right shift `value >> shift`.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::int_arshift(exp::int_bin("a"), exp::int_val(2)).to_string(), "$.a >> 2");
    /// ```
    int_arshift => INT_ARSHIFT;
    /// Index of the first bit equal to `search`, from the most significant bit (-1 if none).
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::int_lscan(exp::int_bin("a"), exp::bool_val(true)).to_string(), "findBitLeft($.a, true)");
    /// ```
    int_lscan => INT_LSCAN;
    /// Index of the last bit equal to `search`, counted from the most significant bit (-1 if none).
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::int_rscan(exp::int_bin("a"), exp::bool_val(true)).to_string(), "findBitRight($.a, true)");
    /// ```
    int_rscan => INT_RSCAN;
    /// `base ** exponent` (floats).
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::pow(exp::float_bin("a"), exp::float_val(2.0)).to_string(), "$.a ** 2.0");
    /// ```
    pow => POW;
    /// Logarithm of `num` in base `base` (floats).
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::log(exp::float_bin("a"), exp::float_val(2.0)).to_string(), "log($.a, 2.0)");
    /// ```
    log => LOG;
    /// Integer `left % right`.
    ///
    /// ```
    /// use aerospike_proto::exp;
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

/// A logical operator over `args`. The server refuses one with fewer than
/// two operands (`exp.c` `build_logical_vargs`), so one operand is sent as
/// itself and none as the operator's identity.
fn logical(code: u8, identity: bool, mut args: Vec<Expression>) -> Expression {
    match args.len() {
        0 => bool_val(identity),
        1 => args.remove(0),
        _ => cmd(code, args),
    }
}

/// True when every argument is true. One argument is sent as itself, none
/// as `true` (a server refuses an `and` of fewer than two).
///
/// ```
/// use aerospike_proto::exp;
/// let e = exp::and(vec![exp::bool_bin("a"), exp::bool_bin("b")]);
/// assert_eq!(e.to_string(), "$.a and $.b");
/// assert_eq!(exp::and(vec![exp::bool_bin("a")]), exp::bool_bin("a"));
/// ```
pub fn and(args: Vec<Expression>) -> Expression {
    logical(op::AND, true, args)
}

/// True when any argument is true. One argument is sent as itself, none as
/// `false`.
///
/// ```
/// use aerospike_proto::exp;
/// let e = exp::or(vec![exp::bool_bin("a"), exp::bool_bin("b")]);
/// assert_eq!(e.to_string(), "$.a or $.b");
/// ```
pub fn or(args: Vec<Expression>) -> Expression {
    logical(op::OR, false, args)
}

/// True when exactly one argument is true. One argument is sent as itself,
/// none as `false`.
///
/// ```
/// use aerospike_proto::exp;
/// let e = exp::exclusive(vec![exp::bool_bin("a"), exp::bool_bin("b")]);
/// assert_eq!(e.to_string(), "exclusive($.a, $.b)");
/// ```
pub fn exclusive(args: Vec<Expression>) -> Expression {
    logical(op::EXCLUSIVE, false, args)
}

variadic! {
    /// Sum of the arguments (all integers or all floats).
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::add(vec![exp::int_bin("a"), exp::int_val(1)]).to_string(), "$.a + 1");
    /// ```
    add => ADD;
    /// First argument minus the others; with one argument, its negation.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::sub(vec![exp::int_bin("a"), exp::int_val(1)]).to_string(), "$.a - 1");
    /// ```
    sub => SUB;
    /// Product of the arguments.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::mul(vec![exp::int_bin("a"), exp::int_val(2)]).to_string(), "$.a * 2");
    /// ```
    mul => MUL;
    /// First argument divided by the others.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::div(vec![exp::int_bin("a"), exp::int_val(2)]).to_string(), "$.a / 2");
    /// ```
    div => DIV;
    /// Smallest argument.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::min(vec![exp::int_bin("a"), exp::int_val(2)]).to_string(), "min($.a, 2)");
    /// ```
    min => MIN;
    /// Largest argument.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::max(vec![exp::int_bin("a"), exp::int_val(2)]).to_string(), "max($.a, 2)");
    /// ```
    max => MAX;
    /// Bitwise and of integers.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::int_and(vec![exp::int_bin("a"), exp::int_val(4)]).to_string(), "$.a & 4");
    /// ```
    int_and => INT_AND;
    /// Bitwise or of integers.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::int_or(vec![exp::int_bin("a"), exp::int_val(4)]).to_string(), "$.a | 4");
    /// ```
    int_or => INT_OR;
    /// Bitwise exclusive or of integers.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::int_xor(vec![exp::int_bin("a"), exp::int_val(4)]).to_string(), "$.a ^ 4");
    /// ```
    int_xor => INT_XOR;
    /// `cond(c1, v1, c2, v2, ..., default)`: the value of the first true condition.
    ///
    /// ```
    /// use aerospike_proto::exp;
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
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::not(exp::bool_bin("a")).to_string(), "not($.a)");
    /// ```
    not => NOT;
    /// Absolute value.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::abs(exp::int_bin("a")).to_string(), "abs($.a)");
    /// ```
    abs => ABS;
    /// Float rounded down.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::floor(exp::float_bin("a")).to_string(), "floor($.a)");
    /// ```
    floor => FLOOR;
    /// Float rounded up.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::ceil(exp::float_bin("a")).to_string(), "ceil($.a)");
    /// ```
    ceil => CEIL;
    /// Float converted to integer.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::to_int(exp::float_bin("a")).to_string(), "toInt($.a)");
    /// ```
    to_int => TO_INT;
    /// Integer converted to float.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::to_float(exp::int_bin("a")).to_string(), "toFloat($.a)");
    /// ```
    to_float => TO_FLOAT;
    /// Bitwise not of an integer.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::int_not(exp::int_bin("a")).to_string(), "~$.a");
    /// ```
    int_not => INT_NOT;
    /// Number of bits set in an integer.
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::int_count(exp::int_bin("a")).to_string(), "countOneBits($.a)");
    /// ```
    int_count => INT_COUNT;
}

/// A deliberately unknown value, for example as a `cond` branch: a filter that
/// evaluates to unknown does not match.
///
/// ```
/// use aerospike_proto::exp;
/// let e = exp::cond(vec![exp::bool_bin("a"), exp::bool_val(true), exp::unknown()]);
/// assert_eq!(e.to_string(), "when($.a => true, default => unknown())");
/// assert_eq!(exp::unknown().to_bytes(), [0x91, 0x00]);
/// ```
pub fn unknown() -> Expression {
    cmd(op::UNKNOWN, Vec::new())
}

// ---------------------------------------------------------------- variables

/// A variable definition for [`let_`].
///
/// ```
/// use aerospike_proto::exp;
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
    ///
    /// ```
    /// use aerospike_proto::exp;
    /// assert_eq!(exp::def("total", exp::int_val(1)).name(), "total");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Defines variable `name` as `value`, for [`let_`].
///
/// ```
/// use aerospike_proto::exp;
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
/// use aerospike_proto::exp;
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
/// use aerospike_proto::exp;
/// assert_eq!(exp::var("x").to_bytes(), [0x92, 0x7c, 0xa1, b'x']);
/// ```
pub fn var(name: &str) -> Expression {
    Expression::new(Node::Var(name.to_owned()))
}
