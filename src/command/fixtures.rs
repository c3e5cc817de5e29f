//! Test helper: the captured frames of a real server (see the fixtures README).

use crate::wire::message::Message;

/// The directory of the fixture files: `$AEROSPIKE_FIXTURES`, or
/// `../shared/fixtures/aerospike-8.1.2.0` beside the crate (the project's
/// convention, as in `wire::golden_tests`).
fn dir() -> String {
    std::env::var("AEROSPIKE_FIXTURES").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/fixtures/aerospike-8.1.2.0"
        )
        .to_owned()
    })
}

/// The text of one fixture file; panics (fails the test) when it is missing.
pub(crate) fn read(name: &str) -> String {
    let path = format!("{}/{name}", dir());
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// Lowercase hex to bytes.
pub(crate) fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex digit"))
        .collect()
}

/// One `# STEP` of a fixture with the frames that follow it.
#[derive(Debug)]
pub(crate) struct Step {
    pub(crate) title: String,
    /// (`true` = client to server, whole frame).
    pub(crate) frames: Vec<(bool, Vec<u8>)>,
}

impl Step {
    /// The message (type 3) frames sent by the client, decoded.
    pub(crate) fn requests(&self) -> Vec<(Vec<u8>, Message)> {
        self.frames
            .iter()
            .filter(|(c, f)| *c && f.get(1) == Some(&3))
            .map(|(_, f)| {
                (
                    f.clone(),
                    Message::decode(&f[8..]).expect("fixture frame").0,
                )
            })
            .collect()
    }

    /// The message frames sent by the server.
    pub(crate) fn replies(&self) -> Vec<Vec<u8>> {
        self.frames
            .iter()
            .filter(|(c, f)| !*c && f.get(1) == Some(&3))
            .map(|(_, f)| f.clone())
            .collect()
    }
}

/// Splits a fixture into steps.
pub(crate) fn steps(name: &str) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    for line in read(name).lines() {
        if let Some(t) = line.strip_prefix("# STEP ") {
            out.push(Step {
                title: t.to_owned(),
                frames: Vec::new(),
            });
        } else if let Some(h) = line.strip_prefix("C>S ") {
            if let Some(s) = out.last_mut() {
                s.frames.push((true, unhex(h.trim())));
            }
        } else if let Some(h) = line.strip_prefix("S>C ") {
            if let Some(s) = out.last_mut() {
                s.frames.push((false, unhex(h.trim())));
            }
        }
    }
    out
}
