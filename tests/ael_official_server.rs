//! The AEL texts of the official test suite where our parser deliberately
//! builds other bytes than the official one
//! (`crates/aerospike-proto/tests/data/ael_official_differences.txt`): both
//! expressions run on a server, and the server decides. Each row's outcome
//! was seen on a real Aerospike CE 8.1.2.0 server; the embedded cluster must
//! answer the same, and so must any real cluster in `AEROSPIKE_HOSTS`.
//!
//! The official bytes are refused by the server (parameter error) or select
//! what the text does not say; ours either run and give the value the text
//! asks for, or are refused before anything is sent.

mod common;

use std::collections::HashMap;

use aerospike_blocking::exp::Expression;
use aerospike_blocking::operations::{exp_read, ExpReadFlags};
use aerospike_blocking::{Bin, Key, Value, WritePolicy};
use common::{unique_set, TestEnv, NAMESPACE as NS};

/// What running an expression as an `exp_read` gave.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Refused by our parser, nothing sent.
    NotSent,
    /// The server answered this result code.
    Code(u8),
    /// The value read.
    Read(Value),
}

use Outcome::{Code, NotSent, Read};

fn s(x: &str) -> Value {
    Value::from(x)
}

fn map(pairs: Vec<(Value, Value)>) -> Value {
    Value::Map(pairs)
}

fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

/// The bins the texts read.
fn bins() -> Vec<Bin> {
    let ints = |v: &[i64]| list(v.iter().map(|&i| Value::from(i)).collect());
    vec![
        Bin::new("intBin1", 10),
        Bin::new("intBin2", 3),
        Bin::new("intBin", 2),
        Bin::new("a", "x"),
        Bin::new("b", 2),
        Bin::new("a1", 1),
        Bin::new("a2", "x"),
        Bin::new("a3", 3),
        Bin::new(
            "rooms",
            map(vec![
                (
                    s("config"),
                    map(vec![(s("allowedNames"), ints(&[1, 2, 3]))]),
                ),
                (s("name"), s("n")),
            ]),
        ),
        Bin::new("rooms2", map(vec![(s("list"), list(vec![s("n"), s("m")]))])),
        Bin::new("name", "t"),
        Bin::new("val", 5),
        Bin::new("flag", true),
        Bin::new("item", map(vec![(s("k"), 1.into())])),
        Bin::new(
            "items",
            map(vec![(s("tags"), list(vec![s("t"), 5.into(), true.into()]))]),
        ),
        Bin::new("listBin1", list(["a", "b", "c", "d", "e"].map(s).to_vec())),
        Bin::new(
            "mapBin1",
            map(vec![
                (s("a"), map(vec![(s("z"), 1.into()), (s("y"), 2.into())])),
                (s("b"), 10.into()),
                (s("c"), 15.into()),
                (s("d"), 20.into()),
                (s("e"), 5.into()),
            ]),
        ),
    ]
}

/// Case number → (official outcome, our outcome), as a real 8.1.2 server
/// answered them. Maps come back key-ordered: the server stores them so.
fn expected() -> Vec<(usize, Outcome, Outcome)> {
    let yz = || map(vec![(s("y"), 2.into()), (s("z"), 1.into())]);
    let abcde = || list(["a", "b", "c", "d", "e"].map(s).to_vec());
    let ints = |v: &[i64]| v.iter().map(|&i| Value::from(i)).collect::<Vec<_>>();
    let t = || Read(Value::Bool(true));
    let f = || Read(Value::Bool(false));
    let mut rows = vec![
        // `**` of integers: the server's pow takes floats only.
        (21, Code(4), NotSent),
        // Comparisons of two types.
        (141, Code(4), NotSent),
        (429, Code(4), NotSent),
        (637, Code(4), NotSent),
        // when/let: branch types the server refuses to mix; `in` over an INT.
        (237, Code(4), t()),
        (257, Code(4), NotSent),
        // A variable defined again inside its own scope.
        (254, Code(4), NotSent),
        // `in` over a nested path typed STRING by the official parser.
        (245, Code(4), t()),
        (278, Code(4), t()),
        (279, Code(4), t()),
        (280, Code(4), Code(26)),
        (281, Code(4), t()),
        (282, Code(4), Code(26)),
        (283, Code(4), f()),
        (286, Code(4), Code(26)),
        (287, Code(4), f()),
        (289, Code(4), t()),
        // get(return: COUNT) typed LIST by the official parser.
        (449, Code(4), f()),
        // get(return: ORDERED_MAP) typed STRING by the official parser.
        (565, Code(26), Read(map(vec![(s("a"), yz())]))),
        // Relative rank ranges: the official parser sends the rank where the
        // server reads the value.
        (446, Code(26), Read(list(vec![]))),
        (447, Code(26), Read(abcde())),
        (
            448,
            Code(26),
            Read(list(["e", "d", "c", "b", "a"].map(s).to_vec())),
        ),
        (558, Read(list(vec![])), Read(list(ints(&[5, 10])))),
    ];
    let mut v559 = ints(&[5, 10, 15, 20]);
    v559.push(yz());
    let mut ours559 = ints(&[15, 20]);
    ours559.push(yz());
    rows.push((559, Read(list(v559.clone())), Read(list(ours559))));
    rows.push((560, Read(list(vec![])), Read(list(v559))));
    rows
}

fn unhex(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
        .collect()
}

/// The official cases: text and the official bytes (none when it refused).
fn official() -> Vec<(String, Option<Vec<u8>>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/ael-official"))
        .find(|p| p.is_dir())
        .expect("shared/ael-official beside the repository");
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let tsv = std::fs::read_to_string(dir.join("official.tsv")).unwrap();
    let bytes: HashMap<usize, Vec<u8>> = tsv
        .lines()
        .filter_map(|l| {
            let p: Vec<&str> = l.splitn(3, '\t').collect();
            (p[1] == "OK").then(|| (p[0].parse().unwrap(), unhex(p[2])))
        })
        .collect();
    cases
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                c["ael"].as_str().unwrap().to_owned(),
                bytes.get(&i).cloned(),
            )
        })
        .collect()
}

#[test]
fn the_server_decides_every_deliberate_difference_our_way() {
    let env = TestEnv::new();
    let set = unique_set("ael_off");
    let key = Key::new(NS, &set, 1).unwrap();
    let wp = WritePolicy::default();
    env.client.put(&wp, &key, &bins()).unwrap();
    let run = |e: &Expression| match env.client.operate(
        &wp,
        &key,
        &[exp_read("r", e, ExpReadFlags::DEFAULT)],
    ) {
        Ok(r) => Read(r.bins.get("r").cloned().unwrap_or(Value::Nil)),
        Err(e) => Code(e.result_code().expect("a server answer").0),
    };
    let cases = official();
    let mut failures = Vec::new();
    let rows = expected();
    for (i, want_official, want_ours) in &rows {
        let (text, bytes) = &cases[*i];
        let official_bytes = bytes.as_ref().expect("the official parser accepts it");
        let theirs = run(&Expression::from_bytes(official_bytes).unwrap());
        let ours = match Expression::from_ael_value(text) {
            Ok(e) => run(&e),
            Err(_) => NotSent,
        };
        if &theirs != want_official || &ours != want_ours {
            failures.push(format!(
                "#{i} {text}: official {theirs:?} (want {want_official:?}), ours {ours:?} (want {want_ours:?})"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // Every deliberate difference of the list is a row here.
    let listed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/crates/aerospike-proto/tests/data/ael_official_differences.txt"
    ))
    .unwrap();
    let mut numbers: Vec<usize> = listed
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(' ').next().unwrap().parse().unwrap())
        .collect();
    numbers.sort_unstable();
    let mut covered: Vec<usize> = rows.iter().map(|r| r.0).collect();
    covered.sort_unstable();
    assert_eq!(covered, numbers);
}
