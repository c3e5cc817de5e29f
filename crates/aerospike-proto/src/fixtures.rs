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

/// Every frame of every capture file (both directions, proto header
/// included), in file order: the seeds of the decoder fuzz tests.
pub fn all_frames() -> Vec<Vec<u8>> {
    let mut names: Vec<String> = std::fs::read_dir(dir())
        .expect("read the fixtures directory")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt") && n != "digests.txt")
        .collect();
    names.sort();
    names
        .iter()
        .flat_map(|n| steps(n))
        .flat_map(|s| s.frames.into_iter().map(|(_, f)| f))
        .collect()
}

/// How many cases a fuzz test runs: `$FUZZ_CASES`, else `default` (the
/// short run of the test suite).
pub fn fuzz_cases(default: u64) -> u64 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default)
}

/// Damages captured frames the ways a broken peer or network would: bytes
/// flipped, inserted or deleted, length and count fields rewritten, frames
/// truncated or spliced together. Deterministic for a seed (xorshift64*),
/// so a failing case is replayed from its case number alone.
#[derive(Debug, Clone)]
pub struct Mutator {
    state: u64,
}

impl Mutator {
    /// The mutator of case `case`.
    pub fn for_case(case: u64) -> Self {
        Mutator {
            state: case.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
        }
    }

    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A frame of `pool` with one to five mutations.
    pub fn mutated(&mut self, pool: &[Vec<u8>]) -> Vec<u8> {
        let mut f = pool[self.below(pool.len())].clone();
        for _ in 0..=self.below(5) {
            let at = self.below(f.len());
            match self.below(6) {
                0 => {
                    if let Some(b) = f.get_mut(at) {
                        *b ^= (self.next() as u8) | 1;
                    }
                }
                1 => f.insert(self.below(f.len() + 1), self.next() as u8),
                2 => {
                    let end = (at + 1 + self.below(64)).min(f.len());
                    f.drain(at.min(end)..end);
                }
                3 => f.truncate(at),
                4 => {
                    let value = match self.below(4) {
                        0 => 0,
                        1 => 0xffff,
                        2 => u32::MAX,
                        _ => self.next() as u32,
                    };
                    for (i, b) in value.to_be_bytes().into_iter().enumerate() {
                        if let Some(x) = f.get_mut(at + i) {
                            *x = b;
                        }
                    }
                }
                _ => {
                    let other = &pool[self.below(pool.len())];
                    f.extend_from_slice(&other[..self.below(other.len() + 1)]);
                }
            }
        }
        f
    }
}

/// The message frames (proto type 3) the client sent in fixture `name`, in
/// order.
///
/// ```
/// let sent = aerospike_proto::fixtures::client_messages("batch-single.txt");
/// assert!(sent.iter().all(|f| f[..2] == [2, 3]));
/// ```
pub fn client_messages(name: &str) -> Vec<Vec<u8>> {
    read(name)
        .lines()
        .filter_map(|l| l.strip_prefix("C>S 0203"))
        .map(|h| unhex(&format!("0203{h}")))
        .collect()
}
