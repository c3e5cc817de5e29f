//! Filter expressions evaluated by the embedded cluster: the fixtures' filtered
//! background jobs select the records the real server selected, and filters
//! built with the builder or AEL select what they say.

#![cfg(feature = "embedded")]

mod support;

#[path = "support/jobs_fixtures.rs"]
mod fx;

use std::time::Duration;

use aerospike_blocking::embedded::EmbeddedCluster;
use aerospike_blocking::exp::Expression;
use fx::{Conn, Msg, MsgExt};

/// Every record of `set` on a single-node cluster.
fn records(c: &mut Conn, set: &str) -> Vec<Msg> {
    let pids: Vec<u16> = (0..4096).collect();
    c.scan("test", set, &pids)
        .into_iter()
        .filter(|m| m.info3 == 0 && m.rc == 0)
        .collect()
}

fn bool_bin(m: &Msg, name: &str) -> Option<bool> {
    m.ops
        .iter()
        .find(|o| o.name == name && o.particle == 17)
        .map(|o| o.data == [1])
}

/// A background job that writes `flag = 1` where `filter` matches.
fn flag_job(trid: u64, filter: &[u8]) -> Vec<u8> {
    Msg {
        info2: 1,
        fields: vec![
            (0, b"test".to_vec()),
            (1, b"bgops".to_vec()),
            (9, 30000u32.to_be_bytes().to_vec()),
            (7, trid.to_be_bytes().to_vec()),
            (43, filter.to_vec()),
        ],
        ops: vec![fx::op(2, 1, "flag", 1i64.to_be_bytes().to_vec())],
        ..Msg::default()
    }
    .encode()
}

#[test]
fn fixture_filtered_jobs_select_what_the_server_selected() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    c.load("test", "bgops", 500);
    let lines = fx::read_fixture("bg-ops-single.txt");
    let start = |prefix: &str| {
        fx::exchanges(&lines)
            .into_iter()
            .find(|(s, r, _)| s.starts_with(prefix) && r[1] == 3)
            .unwrap()
    };

    // (b): write flag=1 where Eq(BoolBin('active'), True); the server
    // filtered 250 records by their bins and wrote the 250 active ones.
    let (_, req, reply) = start("(b): add_ops");
    assert_eq!(c.exchange(&req, 1), reply);
    let line = c.wait_done(9206660312799159840, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "recs-filtered-bins"), Some("250"));
    assert_eq!(fx::show_value(&line, "recs-filtered-meta"), Some("0"));
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("250"));
    let recs = records(&mut c, "bgops");
    assert_eq!(recs.len(), 500);
    for m in &recs {
        let active = bool_bin(m, "active").unwrap();
        assert_eq!(m.int_bin("flag").is_some(), active, "{:?}", m.int_bin("i"));
    }

    // (d): background delete where LT(IntBin('i'), 50): 450 filtered, 50 deleted.
    let (_, req, reply) = start("(d): add_ops");
    assert_eq!(c.exchange(&req, 1), reply);
    let line = c.wait_done(4378155879910643737, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "recs-filtered-bins"), Some("450"));
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("50"));
    let recs = records(&mut c, "bgops");
    assert_eq!(recs.len(), 450);
    assert!(recs.iter().all(|m| m.int_bin("i").unwrap() >= 50));
}

#[test]
fn ael_filters_drive_jobs() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    c.load("test", "bgops", 200);
    // age = i % 50, name = "n<i>", active = i even.
    let e = Expression::from_ael(
        "$.age >= 10 and $.age < 20 and not($.active) and $.name in ['n11', 'n13', 'n163'] \
         and $.setName() == 'bgops' and $.ttl() == -1",
    )
    .unwrap();
    c.exchange(&flag_job(901, &e.to_bytes()), 1);
    let line = c.wait_done(901, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("3"), "{line}");
    assert_eq!(fx::show_value(&line, "recs-filtered-bins"), Some("197"));
    let mut flagged: Vec<i64> = records(&mut c, "bgops")
        .iter()
        .filter(|m| m.int_bin("flag").is_some())
        .map(|m| m.int_bin("i").unwrap())
        .collect();
    flagged.sort_unstable();
    assert_eq!(flagged, [11, 13, 163]);

    // A filter on a bin of another type is unknown for every record.
    let e = Expression::from_ael("$.name == 5").unwrap();
    c.exchange(&flag_job(902, &e.to_bytes()), 1);
    let line = c.wait_done(902, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("0"));
    assert_eq!(fx::show_value(&line, "recs-filtered-bins"), Some("200"));
}

#[test]
fn bad_filters_are_refused_at_job_start() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    c.load("test", "bgops", 3);
    // Undecodable, non-boolean, and a comparison of an int bin with a string.
    for (trid, filter) in [
        (911u64, vec![0xc1]),
        (912, vec![0x93, 0x51, 0x02, 0xa1, b'i']),
        (
            913,
            vec![0x93, 0x01, 0x93, 0x51, 0x02, 0xa1, b'i', 0xa2, 0x03, b'x'],
        ),
    ] {
        let reply = c.exchange(&flag_job(trid, &filter), 1);
        let msgs = fx::decode_body(&reply[0][8..]);
        assert_eq!(msgs[0].rc, 4, "filter {filter:02x?}");
    }
}
