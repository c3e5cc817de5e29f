//! Every AEL text of the official test suite that the official parser
//! accepts, read as an expression on 24 records whose bins are named as the
//! texts use them: each record's outcome (the value read, or the server's
//! result code) must be what a real Aerospike CE 8.1.2.0 server answered.
//!
//! `tests/data/ael_server_reads.tsv` holds those answers, recorded from a
//! single-node 8.1.2.0 server (built from its public source) with this very
//! test: set `AEL_SERVER_RECORD=<file>` and `AEROSPIKE_HOSTS` to write the
//! outcomes of another server into `<file>` instead of checking them. The
//! embedded cluster, and any real cluster in `AEROSPIKE_HOSTS`, must answer
//! the same. Where our parser refuses a text (see
//! `crates/aerospike-proto/tests/data/ael_official_differences.txt`), the
//! official bytes are read instead: the server's refusal is what is checked.

mod common;

use std::collections::HashMap;

use aerospike_blocking::exp::Expression;
use aerospike_blocking::operations::{exp_read, ExpReadFlags};
use aerospike_blocking::{Bin, Key, Value, WritePolicy};
use common::{unique_set, TestEnv, NAMESPACE as NS};

/// Records the texts are read on.
const N: i64 = 24;

fn s(x: &str) -> Value {
    Value::from(x)
}
fn l(v: Vec<Value>) -> Value {
    Value::List(v)
}
fn m(v: Vec<(Value, Value)>) -> Value {
    Value::Map(v)
}
fn i(x: i64) -> Value {
    Value::from(x)
}
fn unhex(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// The bins of record `n`: every bin name the texts read, with values that
/// make many texts select some records and not others.
fn bins(n: i64) -> Vec<Bin> {
    let pick = |xs: &[&str]| s(xs[(n as usize) % xs.len()]);
    let mut b = vec![];
    for (name, v) in [
        ("intBin1", (n * 37) % 250 - 20),
        ("intBin2", (n * 11) % 120),
        ("intBin3", n % 4),
        ("intBin4", n % 9),
        ("intBin", n % 4),
        ("apples", n % 15),
        ("bananas", (n * 3) % 20),
        ("oranges", n % 7),
        ("acai", n % 5),
        ("grapes", n % 6),
        ("age", 15 + n % 10),
        ("cost", (n * 13) % 100),
        ("price", (n * 17) % 90),
        ("priority", n % 10),
        ("visits", n),
        ("score", n % 100),
        ("A", n % 4),
        ("D", n % 5),
        ("E", n % 3),
        ("x", n % 3),
        ("who", n % 3),
        ("in", n % 7),
        ("flags", n * 5),
        ("bits", n * 3),
        ("val", n % 6),
        ("value", n % 25 - 12),
        ("a", 1 + n % 10),
        ("b", 2 + n % 9),
        ("c", n % 12),
        ("d", n % 5),
        ("a1", n % 4),
        ("a2", n % 5),
        ("a3", n % 6),
        ("a4", n % 7),
        ("binA", n % 3),
        ("bin", n % 3),
        ("itemType", n % 4),
    ] {
        b.push(Bin::new(name, v));
    }
    b.push(Bin::new("floatBin1", n as f64 * 0.5));
    b.push(Bin::new("floatBin2", (n % 7) as f64 + 0.25));
    b.push(Bin::new("base", (n % 4) as f64));
    b.push(Bin::new("stringBin1", pick(&["text", "abc", "zzz", "yes"])));
    b.push(Bin::new("stringBin2", pick(&["b", "text", "a"])));
    b.push(Bin::new("strBin", pick(&["yes", "no"])));
    b.push(Bin::new("name", pick(&["Bob", "t", "Alice", "n"])));
    b.push(Bin::new("status", pick(&["active", "pending", "done"])));
    b.push(Bin::new("role", pick(&["admin", "user", "x"])));
    b.push(Bin::new("hand", pick(&["hook", "hand"])));
    b.push(Bin::new("leg", s(["peg", "leg"][(n as usize / 2) % 2])));
    b.push(Bin::new("label", pick(&["VIP", "regular"])));
    b.push(Bin::new("boolBin1", n % 2 == 0));
    b.push(Bin::new("boolBin2", n % 3 == 0));
    b.push(Bin::new("flag", n % 2 == 1));
    b.push(Bin::new("isActive", n % 2 == 0));
    b.push(Bin::new("blobBin1", Value::Blob(vec![(n % 3) as u8])));
    b.push(Bin::new("blobBin2", Value::Blob(vec![1, 2, (n % 3) as u8])));
    b.push(Bin::new(
        "listBin1",
        match n % 4 {
            0 => l(vec![i(100), i(200), i(300), i(1)]),
            1 => l(vec![i(1), m(vec![(s("a"), l(vec![i(100), i(2)]))]), i(3)]),
            2 => l(vec![s("a"), s("b"), s("c"), s("d")]),
            _ => l(vec![l(vec![i(1), i(2), i(3)]), l(vec![i(100)])]),
        },
    ));
    b.push(Bin::new("tags", l(vec![i(n % 5), i((n + 1) % 5)])));
    b.push(Bin::new(
        "list",
        l(vec![s("t"), i(5), Value::Bool(true), i(n % 3)]),
    ));
    b.push(Bin::new("allowedStatuses", l(vec![i(1), i(2)])));
    b.push(Bin::new(
        "bookableStates",
        if n % 2 == 0 {
            l(vec![s("available")])
        } else {
            l(vec![])
        },
    ));
    b.push(Bin::new("allowedItems", l(vec![i(0), i(1)])));
    b.push(Bin::new("allowedValues", l(vec![i(n % 3), i(7)])));
    b.push(Bin::new("scores", l(vec![i(n), i(n + 1)])));
    b.push(Bin::new(
        "listOfLists",
        l(vec![l(vec![i(1), i(2), i(3)]), l(vec![i(n % 4)])]),
    ));
    b.push(Bin::new(
        "listBin",
        if n % 2 == 0 {
            l(vec![i(1), i(2), i(3)])
        } else {
            l(vec![i(2), i(3), i(4)])
        },
    ));
    b.push(Bin::new("binName", l(vec![l(vec![s("t"), s("Bob")])])));
    b.push(Bin::new(
        "mapBin1",
        match n % 3 {
            0 => m(vec![
                (s("a"), m(vec![(s("bb"), m(vec![(s("bcc"), i(150 + n))]))])),
                (s("b"), i(100)),
                (s("c"), i(200)),
            ]),
            1 => m(vec![
                (s("a"), i(100)),
                (s("b"), i(200)),
                (i(100), i(100)),
                (i(111), i(5)),
            ]),
            _ => m(vec![
                (s("a"), l(vec![i(100), i(1)])),
                (s("b"), m(vec![(s("x"), i(1))])),
                (s("c"), i(10)),
            ]),
        },
    ));
    b.push(Bin::new(
        "mapBin",
        m(vec![(s("a"), i(n % 3)), (s("in"), i(7))]),
    ));
    b.push(Bin::new(
        "map",
        m(vec![(s("a"), m(vec![(s("in"), i(n % 10))]))]),
    ));
    b.push(Bin::new(
        "items",
        m(vec![(s("tags"), l(vec![s("t"), i(5), Value::Bool(true)]))]),
    ));
    b.push(Bin::new(
        "rooms",
        m(vec![
            (
                s("config"),
                m(vec![(s("allowedNames"), l(vec![i(n % 3), i(7)]))]),
            ),
            (s("name"), s("n")),
        ]),
    ));
    b.push(Bin::new(
        "rooms2",
        m(vec![(s("list"), l(vec![s("n"), s("m")]))]),
    ));
    b.push(Bin::new("item", m(vec![(s("k"), i(n % 2))])));
    b.push(Bin::new("mapItems", m(vec![(s("k"), i(n % 2))])));
    b
}

fn shared_file(name: &str) -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/ael-official"))
        .find(|p| p.is_dir())
        .expect("shared/ael-official beside the repository");
    std::fs::read_to_string(dir.join(name)).unwrap()
}

#[test]
fn every_official_text_reads_what_a_real_server_read() {
    let env = TestEnv::new();
    let set = unique_set("ael_reads");
    let wp = WritePolicy::default();
    let keys: Vec<Key> = (0..N).map(|n| Key::new(NS, &set, n).unwrap()).collect();
    for (n, k) in keys.iter().enumerate() {
        env.client.put(&wp, k, &bins(n as i64)).unwrap();
    }
    let cases: serde_json::Value = serde_json::from_str(&shared_file("cases.json")).unwrap();
    let official: Vec<(usize, Vec<u8>)> = shared_file("official.tsv")
        .lines()
        .filter_map(|line| {
            let p: Vec<&str> = line.splitn(3, '\t').collect();
            (p[1] == "OK").then(|| (p[0].parse().unwrap(), unhex(p[2])))
        })
        .collect();
    let mut got = Vec::new();
    for (ix, bytes) in &official {
        let text = cases[*ix]["ael"].as_str().unwrap();
        let e = Expression::from_ael_value(text)
            .unwrap_or_else(|_| Expression::from_bytes(bytes).unwrap());
        let outcomes: Vec<String> = keys
            .iter()
            .map(|k| {
                match env
                    .client
                    .operate(&wp, k, &[exp_read("r", &e, ExpReadFlags::DEFAULT)])
                {
                    Ok(r) => format!("{:?}", r.bins.get("r")),
                    Err(e) => format!("E{}", e.result_code().map_or(0, |c| c.0)),
                }
            })
            .collect();
        got.push((*ix, outcomes.join(" | ")));
    }
    if let Ok(path) = std::env::var("AEL_SERVER_RECORD") {
        let text: String = got.iter().map(|(ix, o)| format!("{ix}\t{o}\n")).collect();
        std::fs::write(path, text).unwrap();
        return;
    }
    let recorded: HashMap<usize, String> = include_str!("data/ael_server_reads.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let (ix, o) = l.split_once('\t').unwrap();
            (ix.parse().unwrap(), o.to_owned())
        })
        .collect();
    assert_eq!(recorded.len(), got.len(), "every accepted text is recorded");
    let diffs: Vec<String> = got
        .iter()
        .filter(|(ix, o)| recorded.get(ix) != Some(o))
        .map(|(ix, o)| {
            let text = cases[*ix]["ael"].as_str().unwrap();
            format!(
                "#{ix} {text}\n  server: {:?}\n  here:   {o}",
                recorded.get(ix)
            )
        })
        .collect();
    assert!(
        diffs.is_empty(),
        "{} texts differ:\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}
