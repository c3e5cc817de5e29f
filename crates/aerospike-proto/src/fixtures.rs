//! Test support: the frames captured from a real Aerospike CE 8.1.2.0 server
//! in `shared/fixtures/aerospike-8.1.2.0` (see that folder's README). Used by
//! the golden-byte tests of this crate, the client and the embedded cluster;
//! every function panics (fails the test) when a file is missing.

use crate::wire::message::Message;

/// The directory of the fixture files: `$AEROSPIKE_FIXTURES`, or the first
/// `shared/fixtures/aerospike-8.1.2.0` found beside this crate or one of its
/// ancestors (the project keeps `shared/` beside the repository).
pub fn dir() -> std::path::PathBuf {
    if let Some(dir) = std::env::var_os("AEROSPIKE_FIXTURES") {
        return dir.into();
    }
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/fixtures/aerospike-8.1.2.0"))
        .find(|p| p.is_dir())
        .expect("fixtures directory shared/fixtures/aerospike-8.1.2.0 not found")
}

/// The text of one fixture file; panics (fails the test) when it is missing.
pub fn read(name: &str) -> String {
    let path = dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// Lowercase hex to bytes.
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex digit"))
        .collect()
}

/// One `# STEP` of a fixture with the frames that follow it.
#[derive(Debug)]
pub struct Step {
    pub title: String,
    /// (`true` = client to server, whole frame).
    pub frames: Vec<(bool, Vec<u8>)>,
}

impl Step {
    /// The message (type 3) frames sent by the client, decoded.
    pub fn requests(&self) -> Vec<(Vec<u8>, Message)> {
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
    pub fn replies(&self) -> Vec<Vec<u8>> {
        self.frames
            .iter()
            .filter(|(c, f)| !*c && f.get(1) == Some(&3))
            .map(|(_, f)| f.clone())
            .collect()
    }
}

/// Splits a fixture into steps.
pub fn steps(name: &str) -> Vec<Step> {
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
