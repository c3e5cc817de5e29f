//! Parser for the golden capture files in
//! `shared/fixtures/aerospike-8.1.2.0/` (format: see that directory's
//! README.md): steps, frames, the connection each frame travelled on, and
//! which reply frames answer which request.

use std::path::PathBuf;

/// Proto type of info frames.
const INFO: u8 = 1;

/// Direction of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// `C>S`: client to server.
    Request,
    /// `S>C`: server to client.
    Reply,
}

/// One frame line.
#[derive(Debug, Clone)]
pub struct Frame {
    pub dir: Dir,
    /// Connection label from the `# conn <id> |` comment before the frame
    /// (`"?"` when there was none).
    pub conn: String,
    /// The whole frame, proto header included.
    pub bytes: Vec<u8>,
    /// 1-based line number in the file.
    pub line: usize,
}

impl Frame {
    /// Proto version byte.
    pub fn version(&self) -> u8 {
        self.bytes[0]
    }
    /// Proto type byte (1 info, 3 message, 4 compressed).
    pub fn kind(&self) -> u8 {
        self.bytes[1]
    }
    /// The body after the proto header.
    pub fn body(&self) -> &[u8] {
        &self.bytes[8..]
    }
}

/// A request and the reply frames that answered it on the same connection.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub request: Frame,
    pub replies: Vec<Frame>,
}

/// A `# STEP` and everything recorded under it.
#[derive(Debug, Clone, Default)]
pub struct Step {
    pub title: String,
    /// Frames in file order.
    pub frames: Vec<Frame>,
    /// Other comment lines (`# RESULT`, `# NOTE`, `# VERIFY`, ...), without
    /// the leading `# `.
    pub comments: Vec<String>,
}

impl Step {
    /// Requests of this step paired with the replies that followed them on
    /// the same connection within the step.
    pub fn exchanges(&self) -> Vec<Exchange> {
        pair(&self.frames)
    }
}

/// Pairs each request with the replies that follow it on its connection.
/// An info request has exactly one reply, so pipelined info requests take
/// their replies in order; message replies go to the latest request.
pub fn pair<'a>(frames: impl IntoIterator<Item = &'a Frame>) -> Vec<Exchange> {
    let mut out: Vec<Exchange> = Vec::new();
    for f in frames {
        match f.dir {
            Dir::Request => out.push(Exchange {
                request: f.clone(),
                replies: Vec::new(),
            }),
            Dir::Reply => {
                let on_conn = |x: &&mut Exchange| x.request.conn == f.conn;
                let waiting_info = out
                    .iter_mut()
                    .filter(on_conn)
                    .find(|x| x.request.kind() == INFO && x.replies.is_empty() && f.kind() == INFO);
                let target = match waiting_info {
                    Some(x) => Some(x),
                    None => out.iter_mut().rev().find(on_conn),
                };
                if let Some(x) = target {
                    x.replies.push(f.clone());
                }
            }
        }
    }
    out
}

/// A whole capture file.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// File name, like `kv-single.txt`.
    pub name: String,
    /// The comment block before the first step.
    pub preamble: Vec<String>,
    pub steps: Vec<Step>,
}

impl Fixture {
    /// Every exchange of the file in order; a reply recorded under a later
    /// step still pairs with its request.
    pub fn exchanges(&self) -> Vec<Exchange> {
        pair(self.steps.iter().flat_map(|s| s.frames.iter()))
    }

    /// The title of the step holding the frame on `line`.
    pub fn step_of(&self, line: usize) -> &str {
        self.steps
            .iter()
            .find(|s| s.frames.iter().any(|f| f.line == line))
            .map_or("", |s| s.title.as_str())
    }
}

/// The fixtures directory: `$AEROSPIKE_FIXTURES`, or the first
/// `shared/fixtures/aerospike-8.1.2.0` found beside the crate or one of its
/// ancestors.
pub fn fixture_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("AEROSPIKE_FIXTURES") {
        return PathBuf::from(dir);
    }
    let start = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    start
        .ancestors()
        .map(|a| a.join("shared/fixtures/aerospike-8.1.2.0"))
        .find(|p| p.is_dir())
        .expect("fixtures directory shared/fixtures/aerospike-8.1.2.0 not found")
}

/// Names of every capture file with frames, sorted.
pub fn names() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(fixture_dir())
        .expect("read fixtures directory")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt") && n != "digests.txt")
        .collect();
    v.sort();
    v
}

/// Loads and parses one capture file.
pub fn load(name: &str) -> Fixture {
    let text = std::fs::read_to_string(fixture_dir().join(name))
        .unwrap_or_else(|e| panic!("read fixture {name}: {e}"));
    parse(name, &text)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// Parses the text of a capture file.
pub fn parse(name: &str, text: &str) -> Fixture {
    let mut fixture = Fixture {
        name: name.to_owned(),
        preamble: Vec::new(),
        steps: Vec::new(),
    };
    let mut conn = String::from("?");
    for (i, line) in text.lines().enumerate() {
        if let Some(title) = line.strip_prefix("# STEP ") {
            fixture.steps.push(Step {
                title: title.to_owned(),
                ..Step::default()
            });
        } else if let Some(rest) = line.strip_prefix("# conn ") {
            if let Some((label, _)) = rest.split_once(" |") {
                conn = label.trim().to_owned();
            }
            if let Some(step) = fixture.steps.last_mut() {
                step.comments.push(line[2..].to_owned());
            }
        } else if let Some(comment) = line.strip_prefix('#') {
            let comment = comment.trim_start().to_owned();
            match fixture.steps.last_mut() {
                Some(step) => step.comments.push(comment),
                None => fixture.preamble.push(comment),
            }
        } else if let Some((dir, hex)) = line.split_once(' ') {
            let dir = match dir {
                "C>S" => Dir::Request,
                "S>C" => Dir::Reply,
                _ => continue,
            };
            if fixture.steps.is_empty() {
                fixture.steps.push(Step::default());
            }
            let frame = Frame {
                dir,
                conn: conn.clone(),
                bytes: unhex(hex.trim()),
                line: i + 1,
            };
            if let Some(step) = fixture.steps.last_mut() {
                step.frames.push(frame);
            }
        }
    }
    fixture
}
