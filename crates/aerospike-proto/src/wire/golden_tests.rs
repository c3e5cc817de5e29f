//! Golden tests over the byte-exact captures from a real Aerospike CE 8.1.2.0
//! server in `../shared/fixtures/aerospike-8.1.2.0/`.

use super::message::{op, Message};
use super::proto::{self, Split};
use super::{digest, info, particle};
use crate::fixtures::{dir as fixture_dir, unhex};
use crate::value::Value;

/// Every `C>S`/`S>C` frame of every fixture file: (file, direction, bytes).
fn frames() -> Vec<(String, String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(fixture_dir())
        .expect("fixtures directory ../shared/fixtures/aerospike-8.1.2.0")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for line in std::fs::read_to_string(&path).unwrap().lines() {
            if let Some((dir, hex)) = line.split_once(' ') {
                if dir == "C>S" || dir == "S>C" {
                    out.push((name.clone(), dir.to_owned(), unhex(hex)));
                }
            }
        }
    }
    out
}

#[test]
fn every_fixture_frame_decodes_and_reencodes() {
    let frames = frames();
    assert!(frames.len() > 700, "only {} frames found", frames.len());
    let (mut info_frames, mut messages) = (0, 0);
    for (file, dir, bytes) in &frames {
        let ctx = format!("{file} {dir} {}", bytes.len());
        if bytes[0] != proto::VERSION {
            // The captured proto-version-3 case of bg-errors-single.txt.
            assert!(proto::split_frame(bytes).is_err(), "{ctx}");
            continue;
        }
        let Split::Frame {
            header,
            body,
            consumed,
        } = proto::split_frame(bytes).unwrap()
        else {
            panic!("{ctx}: incomplete frame");
        };
        assert_eq!(consumed, bytes.len(), "{ctx}");
        match header.kind {
            proto::TYPE_INFO => {
                info_frames += 1;
                let text = String::from_utf8_lossy(body);
                let pairs = if dir == "C>S" {
                    info::parse_request(body).len()
                } else {
                    info::parse_response(body).len()
                };
                if text.ends_with('\n') {
                    assert!(pairs > 0, "{ctx}: {text:?}");
                }
            }
            proto::TYPE_MESSAGE => {
                let msgs = Message::decode_all(body).unwrap_or_else(|e| panic!("{ctx}: {e}"));
                assert!(!msgs.is_empty(), "{ctx}");
                let mut again = Vec::new();
                for m in &msgs {
                    messages += 1;
                    m.encode_body(&mut again);
                    if dir == "S>C" {
                        for o in &m.ops {
                            if o.kind == op::READ || (o.kind == op::WRITE && o.data.is_empty()) {
                                particle::decode(o.particle, &o.data)
                                    .unwrap_or_else(|e| panic!("{ctx} bin {}: {e}", o.name));
                            }
                        }
                    }
                }
                assert_eq!(again, body, "{ctx}: re-encoding differs");
            }
            proto::TYPE_COMPRESSED => {}
            other => panic!("{ctx}: type {other}"),
        }
    }
    assert!(
        info_frames > 500 && messages > 150,
        "{info_frames} {messages}"
    );
}

#[test]
fn every_fixture_digest_matches() {
    let text = std::fs::read_to_string(fixture_dir().join("digests.txt")).unwrap();
    let mut n = 0;
    for line in text.lines().filter(|l| l.starts_with("DIGEST ")) {
        let t: Vec<&str> = line.split_whitespace().collect();
        let set = if t[2] == "-empty-" { "" } else { t[2] };
        let key = match t[3] {
            "str" => {
                let b = if t[4] == "-" { Vec::new() } else { unhex(t[4]) };
                Value::String(String::from_utf8(b).unwrap())
            }
            "int" => Value::Int(t[4].parse().unwrap()),
            "bytes" => Value::Blob(if t[4] == "-" { Vec::new() } else { unhex(t[4]) }),
            other => panic!("key type {other}"),
        };
        let d = digest::digest(set, &key).unwrap();
        assert_eq!(d.to_vec(), unhex(t[5]), "{line}");
        n += 1;
    }
    assert_eq!(n, 20);
}

#[test]
// 3.14 is the value the fixture's client wrote, not an approximation of pi.
#[allow(clippy::approx_constant)]
fn kv_fixture_values_decode_to_what_the_client_wrote() {
    // The reply to the first get of kv-single.txt carries every particle type.
    let text = std::fs::read_to_string(fixture_dir().join("kv-single.txt")).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("S>C 0203") && l.len() > 500)
        .unwrap();
    let bytes = unhex(&line[4..]);
    let (m, _) = Message::decode(&bytes[8..]).unwrap();
    let bins: Vec<(String, Value)> = m
        .ops
        .iter()
        .map(|o| {
            (
                o.name.clone(),
                particle::decode(o.particle, &o.data).unwrap(),
            )
        })
        .collect();
    let get = |n: &str| bins.iter().find(|(k, _)| k == n).unwrap().1.clone();
    assert_eq!(get("big"), Value::Int(i64::MAX));
    assert_eq!(get("neg"), Value::Int(-42));
    assert_eq!(get("f"), Value::Float(3.14));
    assert_eq!(get("u"), Value::from("héllo 世界"));
    assert_eq!(get("e"), Value::from(""));
    assert_eq!(get("b"), Value::Blob(vec![0, 1, 2, 0xff]));
    assert_eq!(get("fl"), Value::Bool(false));
    assert_eq!(get("l"), crate::list![1, "a", 2.5, Value::Nil]);
    assert_eq!(get("m"), crate::map! {"x" => 1, "y" => "z"});
    match get("g") {
        Value::GeoJson(s) => assert!(s.contains("Point")),
        other => panic!("{other:?}"),
    }
}

/// Every info request a real client sent, rebuilt from its commands with our
/// encoder, is the same frame byte for byte.
#[test]
fn every_fixture_info_request_is_reencoded_byte_exact() {
    let mut n = 0;
    for (file, dir, bytes) in frames() {
        if dir != "C>S" || bytes.len() < proto::HEADER_SIZE || bytes[1] != proto::TYPE_INFO {
            continue;
        }
        let body = &bytes[proto::HEADER_SIZE..];
        if body.last() != Some(&b'\n') {
            // Deliberately malformed requests (no trailing newline) of the
            // error fixtures: the server ignores the unterminated text.
            continue;
        }
        let commands = info::parse_request(body);
        assert_eq!(
            info::encode_request(&commands),
            bytes,
            "{file}: {commands:?}"
        );
        n += 1;
    }
    assert!(n > 250, "only {n} info requests");
}
