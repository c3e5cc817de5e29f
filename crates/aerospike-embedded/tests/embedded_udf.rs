//! UDF module management over a real socket: `udf-put`, `udf-list`,
//! `udf-get` and `udf-remove` replayed byte for byte from the captures of a
//! real Aerospike CE 8.1.2.0 (`bg-udf-single.txt`, `bg-errors-single.txt`).
//!
//! With `AEROSPIKE_HOSTS=host:port[,host:port...]` the same tests run against
//! that cluster instead of an embedded one.

#[path = "../../../tests/support/mod.rs"]
mod support;

use std::net::{SocketAddr, TcpStream};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use aerospike_embedded::EmbeddedCluster;
use support::fixtures::{self, Dir};
use support::wire::{self, base64, digest_for, get_all, Msg, MsgOp};

/// The nodes under test: a real cluster's hosts, or an embedded cluster.
struct Target {
    hosts: Vec<SocketAddr>,
    _cluster: Option<EmbeddedCluster>,
    // On a shared real cluster, `udf-list` replies must not see another
    // test's module: the tests of this file take turns.
    _turn: MutexGuard<'static, ()>,
}

static TURN: Mutex<()> = Mutex::new(());

fn target(nodes: usize) -> Target {
    let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
    let (hosts, cluster) = match std::env::var("AEROSPIKE_HOSTS") {
        Ok(h) if !h.trim().is_empty() => (
            h.split(',')
                .map(|s| s.trim().to_owned())
                .collect::<Vec<_>>(),
            None,
        ),
        _ => {
            let cluster = EmbeddedCluster::start(nodes).expect("embedded cluster starts");
            (cluster.seeds(), Some(cluster))
        }
    };
    Target {
        hosts: hosts
            .iter()
            .map(|h| h.parse().expect("host:port"))
            .collect(),
        _cluster: cluster,
        _turn: turn,
    }
}

fn connect(host: &SocketAddr) -> TcpStream {
    wire::connect(*host)
}

/// Runs one info command and returns its value.
fn info(conn: &mut TcpStream, command: &str) -> String {
    let mut reply = wire::info(conn, &[command]);
    assert_eq!(reply.len(), 1, "{command}: {reply:?}");
    let (cmd, value) = reply.remove(0);
    assert_eq!(cmd, command);
    value
}

/// The `(request, reply)` frames of a fixture whose request is a `udf-*`
/// info command, in order.
fn udf_exchanges(file: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    fixtures::load(file)
        .exchanges()
        .into_iter()
        .filter(|x| x.request.kind() == 1 && x.request.body().starts_with(b"udf-"))
        .map(|x| {
            assert_eq!(x.replies.len(), 1, "{file} line {}", x.request.line);
            assert_eq!(x.replies[0].dir, Dir::Reply);
            (x.request.bytes, x.replies[0].bytes.clone())
        })
        .collect()
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
            let mut got = wire::exchange(&mut conn, &request).expect("reply");
            if t._cluster.is_none() && request[8..].starts_with(b"udf-list") {
                // A real cluster may hold other users' modules: compare only
                // the ones the capture knows of.
                got = only_modules_of(&got, &expected);
            }
            assert_eq!(
                String::from_utf8_lossy(&got[8..]),
                String::from_utf8_lossy(&expected[8..]),
                "{file}"
            );
            assert_eq!(got, expected, "{file}: whole frame");
        }
    }
}

/// The `udf-list` reply frame `got` without the modules that `expected`
/// (a captured reply) does not name.
fn only_modules_of(got: &[u8], expected: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(&got[8..]).into_owned();
    let want = String::from_utf8_lossy(&expected[8..]).into_owned();
    let Some((command, list)) = text.trim_end_matches('\n').split_once('\t') else {
        return got.to_vec();
    };
    let kept: String = list
        .split(';')
        .filter(|m| !m.is_empty())
        .filter(|m| {
            let name = m.split(',').next().unwrap_or(m);
            want.contains(&format!("{name},"))
        })
        .map(|m| format!("{m};"))
        .collect();
    let body = format!("{command}\t{kept}\n");
    let mut frame = got[..8].to_vec();
    let len = (body.len() as u64).to_be_bytes();
    frame[2..8].copy_from_slice(&len[2..]);
    frame.extend_from_slice(body.as_bytes());
    frame
}

fn put_command(filename: &str, source: &str) -> String {
    let b64 = base64(source.as_bytes());
    format!(
        "udf-put:filename={filename};content={b64};content-len={};udf-type=LUA;",
        b64.len()
    )
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

/// A record UDF request (fields 30/31/32) on record `digest` of `test`/`set`.
fn apply_msg(set: &str, digest: &[u8], module: &str, function: &str, arglist: &[u8]) -> Msg {
    Msg {
        info2: 1,
        fields: vec![
            (0, b"test".to_vec()),
            (1, set.as_bytes().to_vec()),
            (4, digest.to_vec()),
            (30, module.as_bytes().to_vec()),
            (31, function.as_bytes().to_vec()),
            (32, arglist.to_vec()),
        ],
        ..Msg::default()
    }
}

fn send(conn: &mut TcpStream, msg: &Msg) -> Msg {
    Msg::from_frame(&wire::exchange(conn, &msg.encode()).expect("reply"))
}

fn int_op(name: &str, v: i64) -> MsgOp {
    MsgOp {
        kind: 1,
        particle: 1,
        name: name.into(),
        data: v.to_be_bytes().to_vec(),
    }
}

#[test]
fn record_udfs_run_and_persist_over_the_wire() {
    let t = target(1);
    let mut conn = connect(&t.hosts[0]);
    let source = include_str!("data/maintenance.lua");
    assert_eq!(
        info(&mut conn, &put_command("maintenance.lua", source)),
        "ok"
    );
    let failing = "-- fails on purpose\nfunction boom(rec) error('boom') end\n";
    assert_eq!(info(&mut conn, &put_command("udferr_t.lua", failing)), "ok");
    // Polls for registration like a client would (a real cluster may lag).
    let deadline = Instant::now() + Duration::from_secs(5);
    while !info(&mut conn, "udf-list").contains("filename=udferr_t.lua,") {
        assert!(Instant::now() < deadline, "module never listed");
        std::thread::sleep(Duration::from_millis(50));
    }
    let digest = digest_for(0x5eed_0001);
    // add(rec, 'n', 5) creates the record: ["n", 5] in Aerospike msgpack.
    let args = [0x92, 0xa2, 0x03, b'n', 0x05];
    let reply = send(
        &mut conn,
        &apply_msg("udfwire", &digest, "maintenance", "add", &args),
    );
    assert_eq!(reply.rc, 0);
    assert_eq!(reply.ops, vec![int_op("SUCCESS", 5)]);
    let reply = send(
        &mut conn,
        &apply_msg("udfwire", &digest, "maintenance", "add", &args),
    );
    assert_eq!(reply.ops, vec![int_op("SUCCESS", 10)]);
    assert_eq!(reply.generation, 2);
    let read = send(&mut conn, &get_all("test", "udfwire", &digest));
    assert_eq!((read.rc, read.generation), (0, 2));
    assert_eq!(read.ops, vec![int_op("n", 10)]);
    // A Lua error: result code 100 and the message in a FAILURE bin.
    let reply = send(
        &mut conn,
        &apply_msg("udfwire", &digest, "udferr_t", "boom", &[0x90]),
    );
    assert_eq!(reply.rc, 100);
    assert_eq!(reply.ops.len(), 1);
    assert_eq!(
        (reply.ops[0].name.as_str(), reply.ops[0].particle),
        ("FAILURE", 3)
    );
    let text = String::from_utf8(reply.ops[0].data.clone()).unwrap();
    assert!(text.ends_with("/udferr_t.lua:2: boom"), "{text}");
    // expire_old(rec, cutoff) with n's record lacking 'updated' keeps it.
    let reply = send(
        &mut conn,
        &apply_msg(
            "udfwire",
            &digest,
            "maintenance",
            "expire_old",
            &[0x91, 0x01],
        ),
    );
    assert_eq!(reply.ops, vec![int_op("SUCCESS", 0)]);
    for f in ["maintenance.lua", "udferr_t.lua"] {
        assert_eq!(info(&mut conn, &format!("udf-remove:filename={f};")), "ok");
    }
    // Clean up the record (a delete: info2 WRITE|DELETE).
    let delete = Msg {
        info2: 3,
        fields: get_all("test", "udfwire", &digest).fields,
        ..Msg::default()
    };
    assert_eq!(send(&mut conn, &delete).rc, 0);
}
