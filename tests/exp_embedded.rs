//! Filter expressions evaluated by the embedded cluster: the fixtures' filtered
//! background jobs select the records the real server selected, and filters
//! built with the builder or AEL select what they say.

mod support;

#[path = "support/jobs_fixtures.rs"]
mod fx;

use std::time::Duration;

use aerospike_blocking::exp::Expression;
use aerospike_embedded::EmbeddedCluster;
use fx::{Conn, Msg, MsgExt};

/// Every record of `set` on a single-node cluster.
fn records(c: &mut Conn, set: &str) -> Vec<Msg> {
    let pids: Vec<u16> = (0..4096).collect();
    c.scan("test", set, &pids)
        .into_iter()
        .filter(|m| m.info3 == 0 && m.rc == 0)
        .collect()
}

fn bool_bin(m: &Msg, name: &str) -> Option<bool> {
    m.ops
        .iter()
        .find(|o| o.name == name && o.particle == 17)
        .map(|o| o.data == [1])
}

/// A background job that writes `flag = 1` where `filter` matches.
fn flag_job(trid: u64, filter: &[u8]) -> Vec<u8> {
    Msg {
        info2: 1,
        fields: vec![
            (0, b"test".to_vec()),
            (1, b"bgops".to_vec()),
            (9, 30000u32.to_be_bytes().to_vec()),
            (7, trid.to_be_bytes().to_vec()),
            (43, filter.to_vec()),
        ],
        ops: vec![fx::op(2, 1, "flag", 1i64.to_be_bytes().to_vec())],
        ..Msg::default()
    }
    .encode()
}

#[test]
fn fixture_filtered_jobs_select_what_the_server_selected() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    c.load("test", "bgops", 500);
    let lines = fx::read_fixture("bg-ops-single.txt");
    let start = |prefix: &str| {
        fx::exchanges(&lines)
            .into_iter()
            .find(|(s, r, _)| s.starts_with(prefix) && r[1] == 3)
            .unwrap()
    };

    // (b): write flag=1 where Eq(BoolBin('active'), True); the server
    // filtered 250 records by their bins and wrote the 250 active ones.
    let (_, req, reply) = start("(b): add_ops");
    assert_eq!(c.exchange(&req, 1), reply);
    let line = c.wait_done(9206660312799159840, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "recs-filtered-bins"), Some("250"));
    assert_eq!(fx::show_value(&line, "recs-filtered-meta"), Some("0"));
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("250"));
    let recs = records(&mut c, "bgops");
    assert_eq!(recs.len(), 500);
    for m in &recs {
        let active = bool_bin(m, "active").unwrap();
        assert_eq!(m.int_bin("flag").is_some(), active, "{:?}", m.int_bin("i"));
    }

    // (d): background delete where LT(IntBin('i'), 50): 450 filtered, 50 deleted.
    let (_, req, reply) = start("(d): add_ops");
    assert_eq!(c.exchange(&req, 1), reply);
    let line = c.wait_done(4378155879910643737, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "recs-filtered-bins"), Some("450"));
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("50"));
    let recs = records(&mut c, "bgops");
    assert_eq!(recs.len(), 450);
    assert!(recs.iter().all(|m| m.int_bin("i").unwrap() >= 50));
}

#[test]
fn ael_filters_drive_jobs() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    c.load("test", "bgops", 200);
    // age = i % 50, name = "n<i>", active = i even.
    let e = Expression::from_ael(
        "$.age >= 10 and $.age < 20 and not($.active) and $.name in ['n11', 'n13', 'n163'] \
         and $.setName() == 'bgops' and $.ttl() == -1",
    )
    .unwrap();
    c.exchange(&flag_job(901, &e.to_bytes()), 1);
    let line = c.wait_done(901, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("3"), "{line}");
    assert_eq!(fx::show_value(&line, "recs-filtered-bins"), Some("197"));
    let mut flagged: Vec<i64> = records(&mut c, "bgops")
        .iter()
        .filter(|m| m.int_bin("flag").is_some())
        .map(|m| m.int_bin("i").unwrap())
        .collect();
    flagged.sort_unstable();
    assert_eq!(flagged, [11, 13, 163]);

    // A filter on a bin of another type is unknown for every record.
    let e = Expression::from_ael("$.name == 5").unwrap();
    c.exchange(&flag_job(902, &e.to_bytes()), 1);
    let line = c.wait_done(902, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("0"));
    assert_eq!(fx::show_value(&line, "recs-filtered-bins"), Some("200"));
}

#[test]
fn bad_filters_are_refused_at_job_start() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    c.load("test", "bgops", 3);
    // Undecodable, non-boolean, a comparison of an int bin with a string, and
    // an `and` of one operand (a real server refuses each with a parameter
    // error).
    for (trid, filter) in [
        (911u64, vec![0xc1]),
        (912, vec![0x93, 0x51, 0x02, 0xa1, b'i']),
        (
            913,
            vec![0x93, 0x01, 0x93, 0x51, 0x02, 0xa1, b'i', 0xa2, 0x03, b'x'],
        ),
        (914, vec![0x92, 0x10, 0x93, 0x51, 0x01, 0xa1, b'b']),
    ] {
        let reply = c.exchange(&flag_job(trid, &filter), 1);
        let msgs = fx::decode_body(&reply[0][8..]);
        assert_eq!(msgs[0].rc, 4, "filter {filter:02x?}");
    }
}

// ---------------------------------------------------------------------------
// Every operator and path form of the AEL, end to end through background
// updates through the public client, on the embedded cluster or on the real
// one named by `AEROSPIKE_HOSTS`.
// ---------------------------------------------------------------------------

mod common;

use aerospike_blocking::background::DataSet;
use aerospike_blocking::query::Filter;
use aerospike_blocking::task::{Outcome, WaitOptions};
use aerospike_blocking::{
    Bin, Bins, Client, Error, Expiration, IndexType, Key, ReadPolicy, Record, ResultCode, Value,
    WritePolicy,
};
use aerospike_embedded::{Fault, FaultScope};
use common::{client_policy, test_seeds_n, unique_set, NAMESPACE as NS};

/// The test data, kept in Rust so the expected outcome of every filter is
/// computed here, independently of any expression evaluator.
struct R {
    i: i64,
    n: Option<i64>,
    f: Option<f64>,
    s: Option<&'static str>,
    b: Option<bool>,
    l: Option<Vec<i64>>,
    /// Map entries in insertion order (not key order).
    m: Option<Vec<(String, i64)>>,
    /// `nest = {"inner": {"list": [i, i+1, i*i], "tag": "t<i%3>"}, "c": i/2,
    /// 7: "s<i%2>", "rows": [[i, 1], [2, i]]}`.
    nest: bool,
    /// `x`: an int for even `i`, a string for odd `i`.
    x: Value,
    ttl: bool,
    key_stored: bool,
    digest_mod3: u32,
}

const FRUITS: [&str; 5] = ["apple", "banana", "cherry", "date", "elder"];
const N: i64 = 24;

impl R {
    fn new(set: &str, i: i64) -> R {
        let digest = *Key::new(NS, set, i).unwrap().digest();
        let d = u32::from_le_bytes([digest[16], digest[17], digest[18], digest[19]]);
        let m = (i % 9 != 8).then(|| {
            let mut m = Vec::new();
            if i % 2 == 0 {
                m.push(("z".to_owned(), 100));
            }
            m.push((format!("k{}", i % 4), i));
            m.push(("b".to_owned(), i * 2));
            m.push(("a".to_owned(), i % 3));
            m
        });
        R {
            i,
            n: (i % 5 != 4).then_some((i * 7) % 23 - 5),
            f: (i % 4 != 3).then_some(i as f64 * 1.5 - 3.0),
            s: (i % 6 != 5).then_some(FRUITS[(i % 5) as usize]),
            b: (i % 7 != 6).then_some(i % 3 == 0),
            l: (i % 8 != 7).then(|| (0..i % 5).map(|k| (i * 3 + k * 7) % 10).collect()),
            m,
            nest: i % 10 != 9,
            x: if i % 2 == 0 {
                Value::Int(i - 10)
            } else {
                Value::from(format!("odd{i}"))
            },
            ttl: i % 3 == 1,
            key_stored: i % 2 == 0,
            digest_mod3: d % 3,
        }
    }

    fn bins(&self) -> Vec<Bin> {
        let mut bins = vec![Bin::new("i", self.i), Bin::new("x", self.x.clone())];
        if let Some(n) = self.n {
            bins.push(Bin::new("n", n));
        }
        if self.i % 4 == 0 {
            bins.push(Bin::new("bl", vec![self.i as u8, 2]));
        }
        if let Some(f) = self.f {
            bins.push(Bin::new("f", f));
        }
        if let Some(s) = self.s {
            bins.push(Bin::new("s", s));
        }
        if let Some(b) = self.b {
            bins.push(Bin::new("b", b));
        }
        if let Some(l) = &self.l {
            bins.push(Bin::new(
                "l",
                l.iter().map(|v| Value::Int(*v)).collect::<Vec<_>>(),
            ));
        }
        if let Some(m) = &self.m {
            let entries: Vec<(Value, Value)> = m
                .iter()
                .map(|(k, v)| (Value::from(k.as_str()), Value::Int(*v)))
                .collect();
            bins.push(Bin::new("m", entries));
        }
        if self.nest {
            let i = self.i;
            let inner = vec![
                (
                    Value::from("list"),
                    Value::List(vec![Value::Int(i), Value::Int(i + 1), Value::Int(i * i)]),
                ),
                (Value::from("tag"), Value::from(format!("t{}", i % 3))),
            ];
            let rows = vec![
                Value::List(vec![Value::Int(i), Value::Int(1)]),
                Value::List(vec![Value::Int(2), Value::Int(i)]),
            ];
            let nest = vec![
                (Value::from("inner"), Value::Map(inner)),
                (Value::from("c"), Value::Float(i as f64 / 2.0)),
                (Value::Int(7), Value::from(format!("s{}", i % 2))),
                (Value::from("rows"), Value::List(rows)),
            ];
            bins.push(Bin::new("nest", nest));
        }
        bins
    }

    fn list(&self) -> &[i64] {
        self.l.as_deref().unwrap_or(&[])
    }

    /// Map values, or none when the bin is missing.
    fn mvals(&self) -> Option<Vec<i64>> {
        self.m.as_ref().map(|m| m.iter().map(|(_, v)| *v).collect())
    }

    fn mget(&self, key: &str) -> Option<i64> {
        self.m
            .as_ref()
            .and_then(|m| m.iter().find(|(k, _)| k == key).map(|(_, v)| *v))
    }

    fn mlen(&self) -> Option<usize> {
        self.m.as_ref().map(Vec::len)
    }

    fn x_int(&self) -> Option<i64> {
        self.x.as_int()
    }
}

/// What a row's placeholders are bound to.
struct Ctx {
    set: String,
    start_ns: i64,
}

type Pred = fn(&R) -> bool;
type Args = fn(&Ctx) -> Vec<Value>;

fn no_args(_: &Ctx) -> Vec<Value> {
    Vec::new()
}

/// Rows that select no record on purpose (the filter is always false or
/// always unknown); any other row must select at least one record and leave
/// at least one out, so that it tells a right evaluator from a wrong one.
const SELECTS_NONE: [&str; 4] = [
    "$.i % ($.i - $.i) == 0",
    "$.setName() == 'elsewhere'",
    "$.m.get(type: MAP) != {'a': 0}",
    "$.m.{=99}.get(type: MAP, return: KEY_VALUE) == {}",
];
const SELECTS_ALL: [&str; 6] = [
    "$.deviceSize() >= 0 and $.memorySize() >= 0",
    "$.sinceUpdate() < 600000",
    "$.lastUpdate() > ?0",
    "$.setName() == ?0",
    "$.recordSize() > 0 and not($.isTombstone())",
    "$.m.{a-c}.count() == 2 or not($.m.exists())",
];

#[rustfmt::skip]
fn rows() -> Vec<(&'static str, Args, Pred)> {
    let r = |t: &'static str, p: Pred| (t, no_args as Args, p);
    vec![
        // Comparisons and literal forms.
        r("$.n == 3", |r| r.n == Some(3)),
        r("$.n != 3", |r| r.n.is_some_and(|n| n != 3)),
        r("$.n > 4", |r| r.n.is_some_and(|n| n > 4)),
        r("$.n >= 4", |r| r.n.is_some_and(|n| n >= 4)),
        r("$.n < 0", |r| r.n.is_some_and(|n| n < 0)),
        r("$.n <= 0", |r| r.n.is_some_and(|n| n <= 0)),
        r("$.f > 2.0", |r| r.f.is_some_and(|f| f > 2.0)),
        r("$.f <= 0.0", |r| r.f.is_some_and(|f| f <= 0.0)),
        r("$.s == 'banana'", |r| r.s == Some("banana")),
        r("$.s >= 'c'", |r| r.s.is_some_and(|s| s >= "c")),
        r("$.\"s\" != \"apple\"", |r| r.s.is_some_and(|s| s != "apple")),
        r("$.b == true", |r| r.b == Some(true)),
        r("$.b", |r| r.b == Some(true)),
        r("$.b == false", |r| r.b == Some(false)),
        r("$.n < $.i", |r| r.n.is_some_and(|n| n < r.i)),
        r("$.i == 0x0C", |r| r.i == 12),
        r("$.i == 0b101", |r| r.i == 5),
        r("$.f == 6.asFloat()", |r| r.f == Some(6.0)),
        r("$.i == 7.9.asInt()", |r| r.i == 7),
        r("$.bl == blob('0402')", |r| r.i == 4),
        r("$.bl.exists() and $.bl != blob('0402')", |r| r.i % 4 == 0 && r.i != 4),
        // in
        r("$.s in ['apple', 'date']", |r| matches!(r.s, Some("apple" | "date"))),
        r("$.n in [1, 2, 3, -5, 17]", |r| r.n.is_some_and(|n| [1, 2, 3, -5, 17].contains(&n))),
        // `in` against a bin list needs the left side's type (official typing).
        r("$.i.get(type: INT) in $.l", |r| r.l.as_ref().is_some_and(|l| l.contains(&r.i))),
        // Logic, with unknown operands.
        r("$.n > 0 and $.b", |r| r.n.is_some_and(|n| n > 0) && r.b == Some(true)),
        r("$.n > 10 or $.s == 'elder'", |r| r.n.is_some_and(|n| n > 10) || r.s == Some("elder")),
        r("not($.n > 100 and $.b)", |r| r.n.is_some() || r.b == Some(false)),
        r("not($.b)", |r| r.b == Some(false)),
        r("not($.n > 0 or $.b)", |r| r.n.is_some_and(|n| n <= 0) && r.b == Some(false)),
        r("exclusive($.n > 0, $.b)", |r| matches!((r.n, r.b), (Some(n), Some(b)) if (n > 0) != b)),
        r("exclusive($.i < 5, $.i > 15, $.i % 2 == 0)", |r| {
            [r.i < 5, r.i > 15, r.i % 2 == 0].iter().filter(|t| **t).count() == 1
        }),
        r("$.i > 3 and $.i < 9 or $.i == 20", |r| (r.i > 3 && r.i < 9) || r.i == 20),
        r("$.i > 3 and ($.i < 9 or $.i == 20)", |r| r.i > 3 && (r.i < 9 || r.i == 20)),
        // Arithmetic.
        r("$.n + $.i == 12", |r| r.n.is_some_and(|n| n + r.i == 12)),
        r("$.i - $.n > 3", |r| r.n.is_some_and(|n| r.i - n > 3)),
        r("$.n * 2 < -4", |r| r.n.is_some_and(|n| n * 2 < -4)),
        r("$.i / 3 == 2", |r| r.i / 3 == 2),
        r("$.n % 4 == -1", |r| r.n.is_some_and(|n| n % 4 == -1)),
        r("$.n % 4 == 1", |r| r.n.is_some_and(|n| n % 4 == 1)),
        r("10 / ($.i - 5) > 1", |r| r.i != 5 && 10 / (r.i - 5) > 1),
        r("$.i % ($.i - $.i) == 0", |_| false),
        r("$.f * 2.0 + 1.0 < 0.0", |r| r.f.is_some_and(|f| f * 2.0 + 1.0 < 0.0)),
        r("$.f ** 2.0 > 20.0", |r| r.f.is_some_and(|f| f * f > 20.0)),
        r("-$.n > 2", |r| r.n.is_some_and(|n| -n > 2)),
        r("+$.i == 3", |r| r.i == 3),
        r("abs($.n) > 10", |r| r.n.is_some_and(|n| n.abs() > 10)),
        r("toInt($.f) == 4", |r| r.f.is_some_and(|f| f as i64 == 4)),
        r("toFloat($.n) > 2.5", |r| r.n.is_some_and(|n| n as f64 > 2.5)),
        r("floor($.f) == 4.0", |r| r.f.is_some_and(|f| f.floor() == 4.0)),
        r("ceil($.f) == 5.0", |r| r.f.is_some_and(|f| f.ceil() == 5.0)),
        r("min($.n, $.i) == $.n", |r| r.n.is_some_and(|n| n <= r.i)),
        r("max($.n, $.i) > 15", |r| r.n.is_some_and(|n| n.max(r.i) > 15)),
        r("log($.f, 2.0) >= 3.0", |r| r.f.is_some_and(|f| f.log(2.0) >= 3.0)),
        r("pow($.f, 2.0) >= 9.0", |r| r.f.is_some_and(|f| f * f >= 9.0)),
        // Bitwise.
        r("$.i & 3 == 1", |r| r.i & 3 == 1),
        r("$.i | 8 == 12", |r| r.i | 8 == 12),
        r("$.i ^ 5 < 3", |r| r.i ^ 5 < 3),
        r("~$.i == -6", |r| !r.i == -6),
        r("$.i << 2 == 36", |r| r.i << 2 == 36),
        r("$.n >> 1 == -2", |r| r.n.is_some_and(|n| n >> 1 == -2)),
        r("$.n >>> 60 == 15", |r| r.n.is_some_and(|n| (n as u64) >> 60 == 15)),
        r("countOneBits($.i) == 2", |r| r.i.count_ones() == 2),
        r("findBitLeft($.i, true) == 60", |r| r.i.leading_zeros() == 60),
        r("findBitRight($.i, true) == 63", |r| r.i % 2 == 1),
        r("intXor($.i, 1) == 4", |r| r.i ^ 1 == 4),
        // Operators under their builder names, for the shapes with no infix form.
        r("add($.i, 1, 2) == 8", |r| r.i == 5),
        r("sub($.i) == -3", |r| r.i == 3),
        r("intNot($.i) == -4", |r| r.i == 3),
        r("intAnd($.i, 12, 6) == 4", |r| r.i & 12 & 6 == 4),
        r("arshift($.n, 2) == -2", |r| r.n.is_some_and(|n| n >> 2 == -2)),
        r("when($.i < 3 => true, default => unknown())", |r| r.i < 3),
        r("and($.i > 20, $.i < 25)", |r| r.i > 20 && r.i < 25),
        // List paths.
        r("$.l.[0] == 3", |r| r.list().first() == Some(&3)),
        r("$.l.[-1] > 5", |r| r.list().last().is_some_and(|v| *v > 5)),
        r("$.l.[].count() >= 3", |r| r.l.is_some() && r.list().len() >= 3),
        r("$.l.[#0] == 1", |r| r.list().iter().min() == Some(&1)),
        r("$.l.[#-1] >= 8", |r| r.list().iter().max().is_some_and(|v| *v >= 8)),
        r("$.l.[=4].count() > 0", |r| r.list().contains(&4)),
        r("$.l.[1:3].count() == 2", |r| r.list().len() >= 3),
        r("$.l.[-2:].count() == 2", |r| r.list().len() >= 2),
        r("$.l.[=2:6].count() >= 2", |r| r.list().iter().filter(|v| (2..6).contains(*v)).count() >= 2),
        r("$.l.[=1,4,7].count() > 0", |r| r.list().iter().any(|v| [1, 4, 7].contains(v))),
        r("$.l.[#0:2~5].count() == 2", |r| r.list().iter().filter(|v| **v >= 5).count() >= 2),
        r("$.l.[!=4].count() == 2", |r| r.l.is_some() && r.list().iter().filter(|v| **v != 4).count() == 2),
        r("$.l.[!1:3].count() == 1", |r| {
            let len = r.list().len();
            r.l.is_some() && len - (len.min(3).saturating_sub(1)) == 1
        }),
        r("$.l.[#1:].count() == 3", |r| r.list().len() == 4),
        r("$.l.[!#0:1].count() == 1", |r| r.list().len() == 2),
        r("$.l.[3] > 0", |r| r.list().get(3).is_some_and(|v| *v > 0)),
        r("$.l.[=7].exists()", |r| r.list().contains(&7)),
        r("$.l.exists()", |r| r.l.is_some()),
        r("$.l.[#-1].get(return: INDEX) == 0", |r| {
            r.list().first().is_some_and(|f| Some(f) == r.list().iter().max())
        }),
        r("$.l.get(type: LIST) == [6, 3]", |r| r.list() == [6, 3]),
        r("$.l.[=3:9].get(type: INT, return: COUNT) == 1", |r| {
            r.l.is_some() && r.list().iter().filter(|v| (3..9).contains(*v)).count() == 1
        }),
        // Map paths (index order is key order; the map was written unordered).
        r("$.m.a == 1", |r| r.mget("a") == Some(1)),
        r("$.m.\"b\" > 20", |r| r.mget("b").is_some_and(|v| v > 20)),
        r("$.m.z.exists()", |r| r.mget("z").is_some()),
        r("$.m.{}.count() == 4", |r| r.mlen() == Some(4)),
        r("$.m.{0} == 0", |r| r.mget("a") == Some(0)),
        r("$.m.{-1} == 100", |r| r.mget("z").is_some()),
        r("$.m.{#0} == 0", |r| r.mvals().is_some_and(|v| v.iter().min() == Some(&0))),
        r("$.m.{#-1} > 50", |r| r.mvals().is_some_and(|v| v.iter().max().is_some_and(|m| *m > 50))),
        r("$.m.{=1}.count() == 2", |r| r.mvals().is_some_and(|v| v.iter().filter(|x| **x == 1).count() == 2)),
        r("$.m.{2:}.count() == 2", |r| r.mlen() == Some(4)),
        r("$.m.{!#0:1}.count() == 3", |r| r.mlen() == Some(4)),
        r("$.m.{=0:2}.count() >= 2", |r| r.mvals().is_some_and(|v| v.iter().filter(|x| (0..2).contains(*x)).count() >= 2)),
        r("$.m.{=0,1}.count() > 1", |r| r.mvals().is_some_and(|v| v.iter().filter(|x| [0, 1].contains(*x)).count() > 1)),
        r("$.m.{a,z}.count() == 2", |r| r.mget("z").is_some()),
        r("$.m.{!a,b}.count() == 1", |r| r.mlen() == Some(3)),
        r("$.m.{a-c}.count() == 2 or not($.m.exists())", |_| true),
        r("$.m.{k-}.count() == 2", |r| r.mget("z").is_some()),
        r("$.m.{k0-k2}.count() == 1", |r| r.m.is_some() && r.i % 4 < 2),
        r("$.m.{#0:1~10}.count() == 1", |r| r.mvals().is_some_and(|v| v.iter().any(|x| *x >= 10))),
        r("$.m.{1:5~b}.count() == 2", |r| r.mlen() == Some(4)),
        r("$.m.{=100}.get(type: LIST, return: KEY) == ['z']", |r| r.mget("z").is_some()),
        r("$.m.b.get(type: INT) > 30", |r| r.mget("b").is_some_and(|v| v > 30)),
        // The server compares no stored unordered map and no KEY_VALUE result
        // (unknown whichever the operator, so nothing is selected); an
        // ORDERED_MAP result compares (checked on an 8.1.2 server).
        r("$.m.get(type: MAP) != {'a': 0}", |_| false),
        r("$.m.{=99}.get(type: MAP, return: KEY_VALUE) == {}", |_| false),
        r("$.m.{=99}.get(type: MAP, return: ORDERED_MAP) == {}", |r| r.m.is_some()),
        // Nested paths.
        r("$.nest.inner.tag == 't1'", |r| r.nest && r.i % 3 == 1),
        r("$.nest.inner.list.[2] > 50", |r| r.nest && r.i * r.i > 50),
        r("$.nest.inner.list.[=4].exists()", |r| r.nest && (2..=4).contains(&r.i)),
        r("$.nest.inner.list.[].count() == 3", |r| r.nest),
        // Casts convert: `.asInt()` reads a float and truncates it.
        r("$.nest.c.asInt() > 4", |r| r.nest && (r.i as f64 / 2.0) as i64 > 4),
        r("$.nest.7 == 's1'", |r| r.nest && r.i % 2 == 1),
        r("$.nest.rows.[1].[1] == 5", |r| r.nest && r.i == 5),
        r("$.nest.rows.[#-1].[0] == 2", |r| r.nest && r.i <= 2),
        r("$.nest.rows.[0].[=1].count() == 1", |r| r.nest && r.i != 1),
        // A bin of another type than the filter expects is unknown.
        r("$.x > 0", |r| r.x_int().is_some_and(|x| x > 0)),
        r("$.x == 'odd7'", |r| r.i == 7),
        // `.asFloat()` reads an integer and converts it.
        r("$.x.asFloat() < 0.0", |r| r.x_int().is_some_and(|x| (x as f64) < 0.0)),
        r("$.x.binType() == 3", |r| r.i % 2 == 1),
        r("$.n.binType() == 0", |r| r.n.is_none()),
        r("$.n.exists()", |r| r.n.is_some()),
        r("not($.n.exists())", |r| r.n.is_none()),
        // Metadata.
        r("$.ttl() > 1000", |r| r.ttl),
        r("$.ttl() == -1", |r| !r.ttl),
        r("$.voidTime() == -1", |r| !r.ttl),
        r("$.voidTime() > 0", |r| r.ttl),
        r("$.sinceUpdate() < 600000", |_| true),
        ("$.lastUpdate() > ?0", |c| vec![Value::Int(c.start_ns)], |_| true),
        ("$.setName() == ?0", |c| vec![Value::from(c.set.as_str())], |_| true),
        r("$.setName() == 'elsewhere'", |_| false),
        r("$.keyExists()", |r| r.key_stored),
        r("$.key() > 10", |r| r.key_stored && r.i > 10),
        r("$.key().get(type: INT) < 4", |r| r.key_stored && r.i < 4),
        r("$.deviceSize() >= 0 and $.memorySize() >= 0", |_| true),
        r("$.digestModulo(3) == 1", |r| r.digest_mod3 == 1),
        r("$.recordSize() > 0 and not($.isTombstone())", |_| true),
        // let / when.
        r("let(d = $.i - $.n) then (${d} > 2 and ${d} < 10)", |r| r.n.is_some_and(|n| (3..10).contains(&(r.i - n)))),
        r("let(x = $.i * 2, y = ${x} + 1) then (${y} == 11)", |r| r.i == 5),
        r("when($.i < 5 => 'lo', $.i < 10 => 'mid', default => 'hi') == 'mid'", |r| (5..10).contains(&r.i)),
        r("when($.i % 3 == 0 => $.i, default => -$.i) > 5", |r| r.i % 3 == 0 && r.i > 5),
        // Placeholders.
        ("$.s == ?0", |_| vec![Value::from("cherry")], |r| r.s == Some("cherry")),
        ("$.n > ?0 and $.s in ?1", |_| vec![Value::Int(2), Value::List(vec![Value::from("apple"), Value::from("banana")])],
            |r| r.n.is_some_and(|n| n > 2) && matches!(r.s, Some("apple" | "banana"))),
        ("$.f < ?0", |_| vec![Value::Float(1.0)], |r| r.f.is_some_and(|f| f < 1.0)),
        ("$.b == ?0", |_| vec![Value::Bool(false)], |r| r.b == Some(false)),
        ("$.n == -?0", |_| vec![Value::Int(3)], |r| r.n == Some(-3)),
    ]
}

fn client_on(nodes: usize) -> (Client, Option<EmbeddedCluster>) {
    let (seeds, embedded) = test_seeds_n(nodes);
    let client = Client::connect(&seeds, &client_policy()).expect("client connects");
    (client, embedded)
}

fn load_rows(client: &Client, set: &str) -> Vec<R> {
    let recs: Vec<R> = (0..N).map(|i| R::new(set, i)).collect();
    for r in &recs {
        let wp = WritePolicy {
            expiration: if r.ttl {
                Expiration::Seconds(86_400)
            } else {
                Expiration::NeverExpire
            },
            send_key: r.key_stored,
            ..WritePolicy::default()
        };
        client
            .put(&wp, &Key::new(NS, set, r.i).unwrap(), &r.bins())
            .unwrap();
    }
    recs
}

fn quick() -> WaitOptions {
    WaitOptions::default()
        .poll_interval(Duration::from_millis(20))
        .timeout(Duration::from_secs(30))
}

fn int_of(r: &Record, bin: &str) -> Option<i64> {
    r.bin(bin).and_then(Value::as_int)
}

/// `(i, hit)` of every record of the set.
fn hits(client: &Client, set: &str) -> Vec<(i64, Option<i64>)> {
    let mut v: Vec<_> = client
        .query(&DataSet::of(NS, set))
        .bins(&["i", "hit"])
        .records()
        .unwrap()
        .iter()
        .map(|r| (int_of(r, "i").unwrap(), int_of(r, "hit")))
        .collect();
    v.sort_unstable();
    v
}

#[test]
fn every_ael_form_selects_exactly_the_records_its_oracle_selects() {
    let (client, _embedded) = client_on(1);
    let set = unique_set("ael_all");
    let start_ns = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    )
    .unwrap()
        - 3_600_000_000_000;
    let recs = load_rows(&client, &set);
    let ctx = Ctx {
        set: set.clone(),
        start_ns,
    };
    let bg = client.session().background_task();
    let rows = rows();
    assert!(rows.len() >= 120, "{} rows", rows.len());
    let mut failures = Vec::new();
    for (row, (text, args, pred)) in rows.iter().enumerate() {
        let marker = row as i64 + 1;
        let expected: Vec<i64> = recs.iter().filter(|r| pred(r)).map(|r| r.i).collect();
        let exercised = if SELECTS_NONE.contains(text) {
            expected.is_empty()
        } else if SELECTS_ALL.contains(text) {
            expected.len() == N as usize
        } else {
            !expected.is_empty() && expected.len() < N as usize
        };
        if !exercised {
            failures.push(format!(
                "{text}: the data does not exercise this row (oracle selects {expected:?})"
            ));
            continue;
        }
        let args = args(&ctx);
        let e = Expression::from_ael_with(text, &args).unwrap_or_else(|e| panic!("{text}: {e}"));
        let update = bg.update(&DataSet::of(NS, &set));
        // Rows without placeholders go through the builder's where-clause.
        let update = if args.is_empty() {
            update.where_ael(text)
        } else {
            update.filter_expression(e)
        };
        let task = update
            .bin("hit")
            .set_to(marker)
            .keep_expiry()
            .execute()
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed, "{text}");
        let all = hits(&client, &set);
        assert_eq!(all.len(), N as usize, "{text}");
        let got: Vec<i64> = all
            .iter()
            .filter(|(_, h)| *h == Some(marker))
            .map(|(i, _)| *i)
            .collect();
        if got != expected {
            failures.push(format!("{text}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// `i` of each record, sorted.
fn ids(recs: &[Record]) -> Vec<i64> {
    let mut v: Vec<i64> = recs.iter().map(|r| int_of(r, "i").unwrap()).collect();
    v.sort_unstable();
    v
}

/// 40 records: `i`, `g = i % 4`, `s = "v<i % 3>"`, and a numeric index on `g`.
fn load_small(client: &Client, set: &str) -> String {
    for i in 0..40i64 {
        let bins = [
            Bin::new("i", i),
            Bin::new("g", i % 4),
            Bin::new("s", format!("v{}", i % 3)),
        ];
        client
            .put(
                &WritePolicy::default(),
                &Key::new(NS, set, i).unwrap(),
                &bins,
            )
            .unwrap();
    }
    let index = format!("{set}_g");
    client
        .create_index(NS, set, &index, "g", IndexType::Numeric)
        .unwrap();
    index
}

#[test]
fn where_clause_is_accepted_wherever_a_filter_is() {
    let (client, _embedded) = client_on(1);
    let set = unique_set("ael_where");
    let index = load_small(&client, &set);
    let ds = DataSet::of(NS, &set);

    // Foreground scan.
    let recs = client
        .query(&ds)
        .where_ael("$.i >= 30 and $.g == 1")
        .records()
        .unwrap();
    assert_eq!(ids(&recs), [33, 37]);
    // Foreground query: the where-clause combines with the index filter
    // and with a typed expression.
    let recs = client
        .query(&ds)
        .filter(Filter::equal("g", 1))
        .where_ael("$.i < 20")
        .filter_expression(aerospike_blocking::exp::ne(
            aerospike_blocking::exp::string_bin("s"),
            aerospike_blocking::exp::string_val("v0"),
        ))
        .records()
        .unwrap();
    assert_eq!(ids(&recs), [1, 5, 13, 17]);

    // Background update and delete with an index filter and a where-clause.
    let bg = client.session().background_task();
    let task = bg
        .update(&ds)
        .index_filter(Filter::range("g", 2, 3))
        .where_ael("$.s == 'v2'")
        .bin("hit")
        .set_to(1)
        .execute()
        .unwrap();
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
    let recs = client.query(&ds).where_ael("$.hit == 1").records().unwrap();
    let want: Vec<i64> = (0..40).filter(|i| i % 4 >= 2 && i % 3 == 2).collect();
    assert_eq!(ids(&recs), want);
    let task = bg
        .delete(&ds)
        .index_filter(Filter::equal("g", 0))
        .where_ael("$.i > 30")
        .execute()
        .unwrap();
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
    let left = ids(&client.query(&ds).records().unwrap());
    assert_eq!(left.len(), 38);
    assert!(!left.contains(&32) && !left.contains(&36));

    // Key-value policies.
    let key = |i: i64| Key::new(NS, &set, i).unwrap();
    let rp = ReadPolicy::default().where_ael("$.g == 1").unwrap();
    let rec = client.get(&rp, &key(5), Bins::All).unwrap().unwrap();
    assert_eq!(int_of(&rec, "i"), Some(5));
    let err = client.get(&rp, &key(6), Bins::All).unwrap_err();
    assert_eq!(err.result_code(), Some(ResultCode::FILTERED_OUT));
    let err = client.exists(&rp, &key(6)).unwrap_err();
    assert_eq!(err.result_code(), Some(ResultCode::FILTERED_OUT));
    let wp = WritePolicy::default()
        .where_ael("$.s == 'v1' and $.i < 10")
        .unwrap();
    client.put(&wp, &key(4), &[Bin::new("w", 1)]).unwrap();
    let err = client.put(&wp, &key(5), &[Bin::new("w", 1)]).unwrap_err();
    assert_eq!(err.result_code(), Some(ResultCode::FILTERED_OUT));
    let err = client.delete(&wp, &key(13)).unwrap_err();
    assert_eq!(err.result_code(), Some(ResultCode::FILTERED_OUT));
    let recs = client.query(&ds).where_ael("$.w == 1").records().unwrap();
    assert_eq!(ids(&recs), [4]);
    assert!(client.delete(&wp, &key(7)).unwrap());
    assert!(client
        .get(&ReadPolicy::default(), &key(7), Bins::All)
        .unwrap()
        .is_none());

    client.drop_index(NS, &set, &index).unwrap();
}

#[test]
fn bad_where_clauses_fail_with_their_position_before_anything_is_sent() {
    let (client, embedded) = client_on(1);
    let set = unique_set("ael_bad");
    // On the embedded cluster, every message would fail with SERVER_ERROR:
    // getting the expression error proves nothing was sent.
    if let Some(cluster) = &embedded {
        for node in cluster.nodes() {
            node.set_fault_for(
                FaultScope::Messages,
                Fault::ResultCode(ResultCode::SERVER_ERROR),
                None,
            );
        }
    }
    let ds = DataSet::of(NS, &set);
    let text = "$.a == 1 and\n  $.b >";
    let expected = Expression::from_ael(text).unwrap_err();
    let Error::Expression {
        line,
        column,
        message,
    } = &expected
    else {
        panic!("{expected:?}");
    };
    assert_eq!((*line, *column), (2, 8), "{expected}");
    assert!(message.contains("expected a value"), "{message}");
    let shown = expected.to_string();
    assert!(!shown.contains('\n'), "{shown}");
    assert!(shown.contains("line 2, column 8"), "{shown}");

    let bg = client.session().background_task();
    let same = |what: &str, got: Result<(), Error>| {
        let got = got.expect_err(what);
        assert_eq!(got.to_string(), shown, "{what}");
        assert!(matches!(got, Error::Expression { .. }), "{what}: {got:?}");
    };
    same(
        "update",
        bg.update(&ds)
            .where_ael(text)
            .bin("x")
            .set_to(1)
            .execute()
            .map(drop),
    );
    same("delete", bg.delete(&ds).where_ael(text).execute().map(drop));
    same("touch", bg.touch(&ds).where_ael(text).execute().map(drop));
    same(
        "udf",
        bg.execute_udf(&ds)
            .function("no_such_module", "f")
            .where_ael(text)
            .execute()
            .map(drop),
    );
    same(
        "update with an index filter",
        bg.update(&ds)
            .index_filter(Filter::equal("g", 1))
            .where_ael(text)
            .bin("x")
            .set_to(1)
            .execute()
            .map(drop),
    );
    same(
        "scan",
        client.query(&ds).where_ael(text).records().map(drop),
    );
    same(
        "query",
        client
            .query(&ds)
            .filter(Filter::equal("g", 1))
            .where_ael(text)
            .records()
            .map(drop),
    );
    same(
        "read policy",
        ReadPolicy::default().where_ael(text).map(drop),
    );
    same(
        "write policy",
        WritePolicy::default().where_ael(text).map(drop),
    );
    // A type error is reported the same way.
    let err = client
        .query(&ds)
        .where_ael("$.a + 1")
        .records()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "expression error at line 1, column 5: expected a boolean expression, found INT"
    );
    if let Some(cluster) = &embedded {
        // The fault is armed: a query that does reach a node fails with it.
        let err = client.query(&ds).records().unwrap_err();
        assert_eq!(err.result_code(), Some(ResultCode::SERVER_ERROR), "{err}");
        cluster.nodes().iter().for_each(|n| n.clear_faults());
    }
    // No job was started for the set.
    assert!(client
        .list_jobs()
        .unwrap()
        .iter()
        .all(|(_, j)| j.set != set));
}
