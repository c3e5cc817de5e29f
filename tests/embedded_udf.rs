//! UDF module management over a real socket: `udf-put`, `udf-list`,
//! `udf-get` and `udf-remove` replayed byte for byte from the captures of a
//! real Aerospike CE 8.1.2.0 (`bg-udf-single.txt`, `bg-errors-single.txt`).
//!
//! With `AEROSPIKE_HOSTS=host:port[,host:port...]` the same tests run against
//! that cluster instead of an embedded one.

#![cfg(feature = "embedded")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use aerospike_blocking::embedded::EmbeddedCluster;

/// The nodes under test: a real cluster's hosts, or an embedded cluster.
struct Target {
    hosts: Vec<String>,
    _cluster: Option<EmbeddedCluster>,
    // On a shared real cluster, `udf-list` replies must not see another
    // test's module: the tests of this file take turns.
    _turn: MutexGuard<'static, ()>,
}

static TURN: Mutex<()> = Mutex::new(());

fn target(nodes: usize) -> Target {
    let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    match std::env::var("AEROSPIKE_HOSTS") {
        Ok(h) if !h.trim().is_empty() => Target {
            hosts: h.split(',').map(|s| s.trim().to_owned()).collect(),
            _cluster: None,
            _turn: turn,
        },
        _ => {
            let cluster = EmbeddedCluster::start(nodes).expect("embedded cluster starts");
            Target {
                hosts: cluster.seeds(),
                _cluster: Some(cluster),
                _turn: turn,
            }
        }
    }
}

fn connect(host: &str) -> TcpStream {
    let s = TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Sends one whole frame and reads one whole reply frame.
fn exchange(conn: &mut TcpStream, frame: &[u8]) -> Vec<u8> {
    conn.write_all(frame).unwrap();
    let mut header = [0u8; 8];
    conn.read_exact(&mut header).unwrap();
    let len = header[2..8]
        .iter()
        .fold(0usize, |n, b| (n << 8) | usize::from(*b));
    let mut out = header.to_vec();
    out.resize(8 + len, 0);
    conn.read_exact(&mut out[8..]).unwrap();
    out
}

fn info_frame(body: &str) -> Vec<u8> {
    let len = body.len() as u64;
    let mut f = vec![2u8, 1];
    f.extend_from_slice(&len.to_be_bytes()[2..]);
    f.extend_from_slice(body.as_bytes());
    f
}

/// Runs one info command and returns its value (the text after the tab).
fn info(conn: &mut TcpStream, command: &str) -> String {
    let reply = exchange(conn, &info_frame(&format!("{command}\n")));
    let text = String::from_utf8(reply[8..].to_vec()).unwrap();
    let line = text.strip_suffix('\n').expect("reply ends with a newline");
    let (cmd, value) = line.split_once('\t').expect("reply has a tab");
    assert_eq!(cmd, command);
    value.to_owned()
}

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/aerospike-8.1.2.0")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// The `(request, reply)` info frames of a fixture whose request is a
/// `udf-*` command, in order.
fn udf_exchanges(file: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut lines = fixture(file)
        .lines()
        .filter(|l| l.starts_with("C>S ") || l.starts_with("S>C "))
        .map(|l| (l[..3].to_owned(), unhex(&l[4..])))
        .collect::<Vec<_>>()
        .into_iter()
        .peekable();
    while let Some((dir, frame)) = lines.next() {
        let is_udf = dir == "C>S" && frame[1] == 1 && frame[8..].starts_with(b"udf-");
        if is_udf {
            let (rdir, reply) = lines.next().expect("a reply follows");
            assert_eq!(rdir, "S>C");
            out.push((frame, reply));
        }
    }
    out
}

#[test]
fn udf_put_list_remove_match_the_real_server_byte_for_byte() {
    let t = target(1);
    for file in ["bg-udf-single.txt", "bg-errors-single.txt"] {
        let exchanges = udf_exchanges(file);
        // put, list, list, remove, list, list / put, list, remove.
        assert!(
            exchanges.len() >= 3,
            "{file}: {} udf exchanges",
            exchanges.len()
        );
        let mut conn = connect(&t.hosts[0]);
        for (request, expected) in exchanges {
            let got = exchange(&mut conn, &request);
            assert_eq!(
                String::from_utf8_lossy(&got[8..]),
                String::from_utf8_lossy(&expected[8..]),
                "{file}"
            );
            assert_eq!(got, expected, "{file}: whole frame");
        }
    }
}

fn put_command(filename: &str, source: &str) -> String {
    let b64 = base64(source.as_bytes());
    format!(
        "udf-put:filename={filename};content={b64};content-len={};udf-type=LUA;",
        b64.len()
    )
}

/// Standard padded base64 (the test's own, so it checks the crate's).
fn base64(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            out.push(if i <= c.len() {
                char::from(A[(n >> (18 - 6 * i)) as usize & 63])
            } else {
                '='
            });
        }
    }
    out
}

#[test]
fn udf_get_returns_the_registered_content() {
    let t = target(1);
    let mut conn = connect(&t.hosts[0]);
    let source = "-- get test\nfunction f(rec)\n  return 1\nend\n";
    assert_eq!(info(&mut conn, &put_command("udfget_t.lua", source)), "ok");
    assert_eq!(
        info(&mut conn, "udf-get:filename=udfget_t.lua;"),
        format!("type=LUA;content={};", base64(source.as_bytes()))
    );
    assert_eq!(info(&mut conn, "udf-remove:filename=udfget_t.lua;"), "ok");
    assert_eq!(
        info(&mut conn, "udf-get:filename=udfget_t.lua;"),
        "error=not_found"
    );
}

#[test]
fn a_syntax_error_is_refused_with_its_line() {
    let t = target(1);
    let mut conn = connect(&t.hosts[0]);
    let source = "function f(rec)\n  local x = = 1\nend\n";
    let reply = info(&mut conn, &put_command("udfbad_t.lua", source));
    let prefix = "error=compile_error;file=udfbad_t.lua;line=2;message=";
    assert!(reply.starts_with(prefix), "{reply}");
    assert_eq!(
        &reply[prefix.len()..],
        base64(b"unexpected symbol near '='"),
        "{reply}"
    );
    let list = info(&mut conn, "udf-list");
    assert!(!list.contains("udfbad_t.lua"), "{list}");
}

#[test]
fn bad_put_requests_get_the_server_errors() {
    let t = target(1);
    let mut conn = connect(&t.hosts[0]);
    assert_eq!(
        info(&mut conn, "udf-put:content=AAAA;content-len=4;"),
        "error=invalid_filename"
    );
    assert_eq!(
        info(
            &mut conn,
            "udf-put:filename=x.lua;content=AAAA;content-len=3;"
        ),
        "error=invalid_content_len"
    );
    assert_eq!(
        info(
            &mut conn,
            "udf-put:filename=x.lua;content=A!AA;content-len=4;"
        ),
        "error=invalid_base64_content"
    );
}

#[test]
fn registration_reaches_every_node() {
    let t = target(3);
    let put = put_command("udfall_t.lua", "function f(rec) return 1 end\n");
    assert_eq!(info(&mut connect(&t.hosts[0]), &put), "ok");
    // A real cluster distributes modules asynchronously: wait a little.
    let deadline = Instant::now() + Duration::from_secs(5);
    for host in &t.hosts {
        let mut conn = connect(host);
        while !info(&mut conn, "udf-list").contains("filename=udfall_t.lua,hash=") {
            assert!(Instant::now() < deadline, "{host} never listed the module");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    assert_eq!(
        info(
            &mut connect(t.hosts.last().unwrap()),
            "udf-remove:filename=udfall_t.lua;"
        ),
        "ok"
    );
    for host in &t.hosts {
        let mut conn = connect(host);
        while info(&mut conn, "udf-list").contains("udfall_t.lua") {
            assert!(Instant::now() < deadline, "{host} still lists the module");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
