//! Conformance with the official AEL parser (`aerospike/expression-dsl-java`):
//! every text of its test suite (`shared/ael-official/cases.json`) through our
//! parser, compared with the expression bytes the official parser builds, or
//! its refusal (`official.tsv`).
//!
//! `tests/data/ael_official_differences.txt` lists, by case number, the texts
//! where we do not agree yet, each with the group it belongs to. The test
//! fails when a listed case starts agreeing (take it off the list) and when
//! an unlisted case disagrees (a regression).

use std::collections::BTreeMap;
use std::path::PathBuf;

use aerospike_proto::exp::Expression;

fn data_dir() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/ael-official"))
        .find(|p| p.is_dir())
        .expect("shared/ael-official beside the repository")
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// What a parser made of a text: the expression bytes, or a refusal.
#[derive(Debug, PartialEq)]
enum Outcome {
    Bytes(String),
    Refused,
}

fn ours(text: &str) -> Outcome {
    match Expression::from_ael_value(text) {
        Ok(e) => Outcome::Bytes(hex(&e.pack())),
        Err(_) => Outcome::Refused,
    }
}

fn official() -> Vec<(String, Outcome)> {
    let dir = data_dir();
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let tsv = std::fs::read_to_string(dir.join("official.tsv")).unwrap();
    let cases = cases.as_array().unwrap();
    let lines: Vec<&str> = tsv.lines().collect();
    assert_eq!(cases.len(), lines.len());
    cases
        .iter()
        .zip(lines)
        .enumerate()
        .map(|(i, (c, line))| {
            let mut parts = line.splitn(3, '\t');
            assert_eq!(parts.next(), Some(i.to_string().as_str()));
            let outcome = match parts.next() {
                Some("OK") => Outcome::Bytes(parts.next().unwrap().to_owned()),
                Some("ERR") => Outcome::Refused,
                other => panic!("line {i}: {other:?}"),
            };
            (c["ael"].as_str().unwrap().to_owned(), outcome)
        })
        .collect()
}

/// The known differences: case number → group.
fn known() -> BTreeMap<usize, String> {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/ael_official_differences.txt");
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (n, group) = l.split_once(' ').unwrap_or((l, ""));
            (n.parse().unwrap(), group.trim().to_owned())
        })
        .collect()
}

#[test]
fn every_official_text_builds_the_official_bytes_or_is_listed() {
    let cases = official();
    let known = known();
    let mut new_differences = Vec::new();
    let mut now_agreeing = Vec::new();
    for (i, (text, theirs)) in cases.iter().enumerate() {
        let agree = ours(text) == *theirs;
        match (agree, known.contains_key(&i)) {
            (false, false) => new_differences.push(format!(
                "{i} {text:?}: ours {:?}, official {theirs:?}",
                ours(text)
            )),
            (true, true) => now_agreeing.push(i),
            _ => {}
        }
    }
    assert!(
        new_differences.is_empty() && now_agreeing.is_empty(),
        "{} new differences:\n{}\n{} listed cases now agree (take them off the list): {now_agreeing:?}",
        new_differences.len(),
        new_differences.join("\n"),
        now_agreeing.len()
    );
    let agreeing = cases.len() - known.len();
    eprintln!("{agreeing} of {} official AEL texts agree", cases.len());
}
