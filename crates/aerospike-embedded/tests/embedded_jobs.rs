//! Scans, queries, background jobs, `query-show`/`query-abort` and secondary
//! indexes of the embedded cluster, driven with raw frames: the start frames
//! of the fixtures are replayed and the replies compared with what the real
//! server sent, then the records are checked.

#[path = "../../../tests/support/mod.rs"]
mod support;

#[path = "../../../tests/support/jobs_fixtures.rs"]
mod fx;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use aerospike_embedded::EmbeddedCluster;
use fx::{Conn, Msg, MsgExt};

/// (rc, info3) of every message of every frame.
fn shape(frames: &[Vec<u8>]) -> Vec<(u8, u8)> {
    frames
        .iter()
        .flat_map(|f| fx::decode_body(&f[8..]))
        .map(|m| (m.rc, m.info3))
        .collect()
}

fn info_text(frame: &[u8]) -> String {
    String::from_utf8_lossy(&frame[8..]).into_owned()
}

/// Every record of `set` (one master copy each) read through a scan of all
/// partitions on every node.
/// Every record of `set`, once: each node serves its replicas too, so each
/// record is kept from the first node that sends it.
fn all_records(cluster: &EmbeddedCluster, set: &str) -> Vec<Msg> {
    let pids: Vec<u16> = (0..4096).collect();
    let mut seen = std::collections::HashSet::new();
    cluster
        .seeds()
        .iter()
        .flat_map(|s| Conn::connect(s).scan("test", set, &pids))
        .filter(|m| m.info3 == 0 && m.rc == 0)
        .filter(|m| seen.insert(m.field(4).map(<[u8]>::to_vec)))
        .collect()
}

#[test]
fn bg_errors_replay_matches_the_server() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let seed = cluster.seed();
    let mut data = Conn::connect(&seed);
    data.load("test", "bgerr", 500);
    let lines = fx::read_fixture("bg-errors-single.txt");
    let mut show = Conn::connect(&seed);
    let mut checked_starts = 0;
    for (step, req, replies) in fx::exchanges(&lines) {
        if step.starts_with("case 27") {
            continue; // proto version 3: the connection is reset (not a job matter)
        }
        let mut c = Conn::connect(&seed);
        if req[1] == 1 {
            let cmd = info_text(&req);
            if let Some(id) = cmd.strip_prefix("query-show:id=") {
                let id: u64 = id.trim().parse().unwrap();
                if id < 100 {
                    continue; // server-assigned ids depend on the server's history
                }
                let ours = show.wait_done(id, Duration::from_secs(20));
                let theirs = info_text(&replies[0]);
                let theirs = theirs.trim_end().split_once('\t').unwrap().1;
                if theirs.starts_with("ERROR") {
                    assert_eq!(ours, theirs, "{step}");
                } else {
                    assert_eq!(fx::show_keys(&ours), fx::show_keys(theirs), "{step}");
                    for k in ["trid", "ns", "set", "rps", "job-type", "recs-filtered-meta"] {
                        assert_eq!(
                            fx::show_value(&ours, k),
                            fx::show_value(theirs, k),
                            "{step}: {k}"
                        );
                    }
                }
            } else if cmd.starts_with("udf-") {
                let got = c.exchange(&req, 1);
                let theirs = info_text(&replies[0]);
                assert_eq!(
                    info_text(&got[0]).split('\t').nth(1),
                    theirs.split('\t').nth(1),
                    "{step}"
                );
            }
            continue;
        }
        let got = c.exchange(&req, replies.len());
        assert_eq!(shape(&got), shape(&replies), "{step}");
        if step.starts_with("case 17") {
            // The aggregation's FAILURE value is the function's Lua error;
            // only the server's install directory differs.
            let failure = |frame: &[u8]| {
                let m = Msg::from_frame(frame);
                let text = m.str_bin("FAILURE").expect("a FAILURE bin");
                let (head, tail) = text.split_once("/usr/udf/lua/").expect("a module path");
                let head = head.rsplit_once(' ').map_or(head, |(h, _)| h).to_owned();
                (head, tail.to_owned())
            };
            assert_eq!(failure(&got[0]), failure(&replies[0]), "{step}");
        }
        if replies.len() == 1 && replies[0].len() == 30 {
            assert_eq!(got[0], replies[0], "{step}: byte-exact 30-byte reply");
        }
        if shape(&replies).iter().any(|(rc, _)| *rc != 0) {
            // The connection stays usable after an error reply.
            assert!(c.info("node").len() == 15, "{step}");
        }
        checked_starts += 1;
    }
    assert_eq!(checked_starts, 26);
    // Cases 23 and 24 started without a client id: the node numbered them 1, 2.
    for id in [1, 2] {
        let line = show.wait_done(id, Duration::from_secs(10));
        assert_eq!(fx::show_value(&line, "trid"), Some(id.to_string().as_str()));
        assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("500"));
    }
    // Case 21 (module not registered): every record failed.
    let line = show.wait_done(841328705429597205, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "recs-failed"), Some("500"), "{line}");
    // Case 22 (UDF plus ops): the UDF ran, the op was ignored.
    let line = show.wait_done(841328705429597206, Duration::from_secs(10));
    assert_eq!(
        fx::show_value(&line, "recs-succeeded"),
        Some("500"),
        "{line}"
    );
    let recs = all_records(&cluster, "bgerr");
    assert_eq!(recs.len(), 500);
    assert!(recs.iter().all(|m| m.str_bin("z").is_none()));
    assert!(recs.iter().all(|m| m.int_bin("marked") == Some(1)));
    assert!(recs.iter().all(|m| m.str_bin("e") == Some("x".into())));
}

#[test]
fn ops_jobs_change_exactly_their_records() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    c.load("test", "bgops", 500);
    c.load("test", "other", 20);
    // bg-ops-single.txt (a): write w='x' + increment cnt, replayed byte for byte.
    let lines = fx::read_fixture("bg-ops-single.txt");
    let (_, start_a, reply_a) = fx::exchanges(&lines)
        .into_iter()
        .find(|(s, r, _)| s.starts_with("(a): query") && r[1] == 3)
        .unwrap();
    assert_eq!(c.exchange(&start_a, 1), reply_a);
    let line = c.wait_done(4358029658199175549, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "status"), Some("done(ok)"));
    assert_eq!(fx::show_value(&line, "job-progress"), Some("100.00"));
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("500"));
    assert_eq!(fx::show_value(&line, "recs-throttled"), Some("500"));
    let recs = all_records(&cluster, "bgops");
    assert_eq!(recs.len(), 500);
    assert!(recs
        .iter()
        .all(|m| m.str_bin("w").as_deref() == Some("x") && m.int_bin("cnt") == Some(1)));
    assert!(recs.iter().all(|m| m.generation == 2));
    assert!(all_records(&cluster, "other")
        .iter()
        .all(|m| m.str_bin("w").is_none()));
    // query-show names the client that started the job, like the server.
    let local = c.stream.local_addr().unwrap();
    let from = format!("{}+{}", local.ip(), local.port());
    assert_eq!(fx::show_value(&line, "from"), Some(from.as_str()));
    // The job and its record transactions count in the namespace statistics.
    let stats = c.info("namespace/test");
    for (k, v) in [
        ("pi_query_ops_bg_complete", "1"),
        ("pi_query_ops_bg_abort", "0"),
        ("ops_sub_write_success", "500"),
        ("ops_sub_write_error", "0"),
    ] {
        assert_eq!(fx::show_value(&stats.replace(';', ":"), k), Some(v), "{k}");
    }

    // (b): filter expression active == true: half the records pass, the
    // others count as filtered on their bins.
    let (_, start_b, _) = fx::exchanges(&lines)
        .into_iter()
        .find(|(s, r, _)| s.starts_with("(b): add_ops") && r[1] == 3)
        .unwrap();
    c.exchange(&start_b, 1);
    let line = c.wait_done(9206660312799159840, Duration::from_secs(10));
    for (k, v) in [
        ("recs-throttled", "500"),
        ("recs-filtered-meta", "0"),
        ("recs-filtered-bins", "250"),
        ("recs-succeeded", "250"),
    ] {
        assert_eq!(fx::show_value(&line, k), Some(v), "{k}: {line}");
    }
    for m in all_records(&cluster, "bgops") {
        let active = m.ops.iter().any(|o| o.name == "active" && o.data == [1]);
        assert_eq!(m.int_bin("flag").is_some(), active);
    }
    // A filter on metadata only (digest modulo) counts in recs-filtered-meta.
    let meta = aerospike_blocking::exp::Expression::from_ael("$.digestModulo(2) == 0")
        .unwrap()
        .to_bytes();
    let start_m = fx::add_field(
        &fx::ops_start("test", "bgops", 79, None, 0, vec![fx::write_str("m", "1")]),
        43,
        meta,
    );
    c.exchange(&start_m, 1);
    let line = c.wait_done(79, Duration::from_secs(10));
    let count = |k| -> u64 { fx::show_value(&line, k).unwrap().parse().unwrap() };
    assert_eq!(count("recs-filtered-bins"), 0, "{line}");
    assert!(count("recs-filtered-meta") > 150, "{line}");
    assert_eq!(count("recs-filtered-meta") + count("recs-succeeded"), 500);
    let marked = all_records(&cluster, "bgops")
        .iter()
        .filter(|m| m.str_bin("m").is_some())
        .count() as u64;
    assert_eq!(marked, count("recs-succeeded"));

    // (e): touch with ttl 7200 sets every void time ~2 hours ahead.
    let (_, start_e, _) = fx::exchanges(&lines)
        .into_iter()
        .find(|(s, r, _)| s.starts_with("(e): add_ops") && r[1] == 3)
        .unwrap();
    c.exchange(&start_e, 1);
    c.wait_done(4083469842137720040, Duration::from_secs(10));
    let now = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 1_262_304_000) as u32;
    let recs = all_records(&cluster, "bgops");
    assert!(
        recs.iter()
            .all(|m| m.ttl > now + 7100 && m.ttl <= now + 7201),
        "{}",
        recs[0].ttl
    );

    // (d): background delete of the records with i < 50.
    let (_, start_d, _) = fx::exchanges(&lines)
        .into_iter()
        .find(|(s, r, _)| s.starts_with("(d): add_ops") && r[1] == 3)
        .unwrap();
    c.exchange(&start_d, 1);
    let line = c.wait_done(4378155879910643737, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("50"));
    assert_eq!(fx::show_value(&line, "recs-filtered-bins"), Some("450"));
    let left = all_records(&cluster, "bgops");
    assert_eq!(left.len(), 450);
    assert!(left.iter().all(|m| m.int_bin("i").unwrap() >= 50));

    // A background delete removes the set's records and nothing else.
    let del = fx::ops_start("test", "bgops", 77, None, 0, vec![fx::delete_op()]);
    c.exchange(&del, 1);
    let line = c.wait_done(77, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("450"));
    assert!(all_records(&cluster, "bgops").is_empty());
    assert_eq!(all_records(&cluster, "other").len(), 20);
    // The set outlives its records: a job on it still starts, finds nothing
    // and creates nothing.
    let again = fx::ops_start("test", "bgops", 78, None, 0, vec![fx::write_str("w", "y")]);
    assert_eq!(c.exchange(&again, 1)[0], fx::success_reply());
    let line = c.wait_done(78, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "status"), Some("done(ok)"));
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("0"));
    assert!(all_records(&cluster, "bgops").is_empty());
    // A set never written to does not exist (rc 2).
    let none = fx::ops_start("test", "never", 80, None, 0, vec![fx::write_str("w", "y")]);
    assert_eq!(Msg::from_frame(&c.exchange(&none, 1)[0]).rc, 2);
}

#[test]
fn throttling_paces_a_job() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    c.load("test", "slow", 100);
    let t = Instant::now();
    let start = fx::ops_start(
        "test",
        "slow",
        5,
        Some(100),
        0,
        vec![fx::write_str("t", "1")],
    );
    c.exchange(&start, 1);
    std::thread::sleep(Duration::from_millis(300));
    let mid = c.info("query-show:id=5");
    assert_eq!(fx::show_value(&mid, "status"), Some("active(ok)"));
    assert_eq!(fx::show_value(&mid, "active-threads"), Some("1"));
    let done_so_far: u64 = fx::show_value(&mid, "recs-succeeded")
        .unwrap()
        .parse()
        .unwrap();
    // The budget allows at most 1 + 0.3 s x 100 records so far.
    assert!((1..=35).contains(&done_so_far), "{mid}");
    let line = c.wait_done(5, Duration::from_secs(10));
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(990) && took < Duration::from_secs(6),
        "{took:?}"
    );
    let run_time: u64 = fx::show_value(&line, "run-time").unwrap().parse().unwrap();
    assert!((990..5000).contains(&run_time), "{line}");
    assert_eq!(fx::show_value(&line, "rps"), Some("100"));
}

#[test]
fn query_show_abort_and_abort_all() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    c.load("test", "bgstatus", 400);
    c.load("test", "bgshort", 10);
    let s: u64 = 6316017002451892993;
    let start =
        |trid, set, rps| fx::ops_start("test", set, trid, rps, 0, vec![fx::write_str("st", "x")]);
    c.exchange(&start(s, "bgstatus", Some(100)), 1);
    std::thread::sleep(Duration::from_millis(200));
    let by_id = c.info(&format!("query-show:id={s}"));
    assert_eq!(fx::show_value(&by_id, "status"), Some("active(ok)"));
    let by_trid = c.info(&format!("query-show:trid={s}"));
    let by_hex = c.info("query-show:id=0x57a700000278fb01");
    for line in [&by_trid, &by_hex] {
        assert_eq!(fx::show_keys(line), fx::show_keys(&by_id));
        assert_eq!(fx::show_value(line, "trid"), Some(s.to_string().as_str()));
    }
    // The same key order as the real server's reply.
    let lines = fx::read_fixture("bg-status-single.txt");
    let theirs = fx::exchanges(&lines)
        .into_iter()
        .find(|(st, _, _)| st.starts_with("query-show:id=<S> while active"))
        .map(|(_, _, r)| info_text(&r[0]))
        .unwrap();
    let theirs = theirs.trim_end().split_once('\t').unwrap().1.to_owned();
    assert_eq!(fx::show_keys(&by_id), fx::show_keys(&theirs));

    assert_eq!(c.info(&format!("query-abort:id={s}")), "ok");
    let line = c.wait_done(s, Duration::from_secs(5));
    assert_eq!(fx::show_value(&line, "status"), Some("done(user-aborted)"));
    assert_eq!(fx::show_value(&line, "job-progress"), Some("100.00"));
    let succeeded: u64 = fx::show_value(&line, "recs-succeeded")
        .unwrap()
        .parse()
        .unwrap();
    assert!(succeeded < 400, "{line}");
    // The job stopped: nothing more changes.
    std::thread::sleep(Duration::from_millis(100));
    let written = all_records(&cluster, "bgstatus")
        .iter()
        .filter(|m| m.str_bin("st").is_some())
        .count() as u64;
    assert_eq!(written, succeeded);

    // Every error line of the fixture, answered the same way.
    for (step, req, replies) in fx::exchanges(&lines) {
        let cmd = info_text(&req);
        let theirs = info_text(&replies[0]);
        let value = theirs
            .trim_end()
            .split_once('\t')
            .map(|x| x.1)
            .unwrap_or("");
        if req[1] == 1 && value.starts_with("ERROR") {
            let ours = c.exchange(&req, 1);
            assert_eq!(info_text(&ours[0]), theirs, "{step}: {cmd}");
        }
    }
    // An unknown parameter lists every job, as no argument does.
    assert_eq!(
        fx::show_keys(&c.info("query-show:foo=1")),
        fx::show_keys(&c.info("query-show"))
    );

    let t: u64 = s + 1;
    c.exchange(&start(t, "bgstatus", Some(50)), 1);
    assert_eq!(c.info("query-abort-all"), "number-of-queries-killed:1");
    let line = c.wait_done(t, Duration::from_secs(5));
    assert_eq!(fx::show_value(&line, "status"), Some("done(user-aborted)"));
    assert_eq!(c.info("query-abort-all"), "number-of-queries-killed:0");

    let u: u64 = s + 2;
    c.exchange(&start(u, "bgshort", None), 1);
    let line = c.wait_done(u, Duration::from_secs(5));
    assert_eq!(fx::show_value(&line, "status"), Some("done(ok)"));
    assert_eq!(fx::show_value(&line, "rps"), Some("10000"));
    // No argument: newest first, jobs separated by ';' (the scans that read
    // the records back are jobs too).
    let all = c.info("query-show");
    let trids: Vec<&str> = all
        .split(';')
        .filter(|j| fx::show_value(j, "job-type") == Some("background-ops"))
        .filter_map(|j| fx::show_value(j, "trid"))
        .collect();
    assert_eq!(trids, [u.to_string(), t.to_string(), s.to_string()]);
    // Three commands in one request are answered in order.
    let body = format!("query-show:id={u}\nquery-show:id={s}\nquery-show:id=6316017002451893230\n");
    let reply = info_text(&c.exchange(&fx::frame(1, body.as_bytes()), 1)[0]);
    let answers: Vec<&str> = reply.lines().collect();
    assert_eq!(answers.len(), 3);
    assert!(answers[0].starts_with(&format!("query-show:id={u}\ttrid={u}:")));
    assert!(answers[1].starts_with(&format!("query-show:id={s}\ttrid={s}:")));
    assert_eq!(
        answers[2],
        "query-show:id=6316017002451893230\tERROR:2:job not found"
    );

    // A restarted node forgets its jobs.
    let name = cluster.nodes()[0].name();
    cluster.restart_node(&name).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    assert_eq!(
        c.info(&format!("query-show:id={u}")),
        "ERROR:2:job not found"
    );
    assert_eq!(c.info("query-show"), "");
}

#[test]
fn finished_jobs_are_evicted_after_query_max_done() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    c.load("test", "tiny", 1);
    for trid in 1000..1101u64 {
        let start = fx::ops_start("test", "tiny", trid, None, 0, vec![fx::write_str("x", "1")]);
        let reply = fx::decode_body(&c.exchange(&start, 1)[0][8..]);
        assert_eq!((reply[0].rc, reply[0].info3), (0, 1));
        c.wait_done(trid, Duration::from_secs(5));
    }
    assert_eq!(c.info("query-show:id=1000"), "ERROR:2:job not found");
    assert!(c.info("query-show:id=1001").contains("status=done(ok)"));
    let all = c.info("query-show");
    assert_eq!(all.split(';').count(), 100);
    assert_eq!(
        fx::show_value(all.split(';').next().unwrap(), "trid"),
        Some("1100")
    );
    // An evicted id may be used again; a retained one may not.
    let reuse = fx::ops_start("test", "tiny", 1000, None, 0, vec![fx::write_str("x", "2")]);
    assert_eq!(fx::decode_body(&c.exchange(&reuse, 1)[0][8..])[0].rc, 0);
    let dup = fx::ops_start("test", "tiny", 1050, None, 0, vec![fx::write_str("x", "2")]);
    assert_eq!(fx::decode_body(&c.exchange(&dup, 1)[0][8..])[0].rc, 4);
}

#[test]
fn cluster_nodes_each_process_their_master_share() {
    let cluster = EmbeddedCluster::start(3).unwrap();
    let seeds = cluster.seeds();
    let mut c = Conn::connect(&seeds[0]);
    c.load("test", "bgcluster", 3000);
    // bg-ops-cluster.txt job A: the identical frame sent to all three nodes.
    let lines = fx::read_fixture("bg-ops-cluster.txt");
    let (_, start_a, reply_a) = fx::exchanges(&lines)
        .into_iter()
        .find(|(s, r, _)| s.starts_with("job A: start") && r[1] == 3)
        .unwrap();
    let mut conns: Vec<Conn> = seeds.iter().map(|s| Conn::connect(s)).collect();
    for conn in &mut conns {
        assert_eq!(conn.exchange(&start_a, 1), reply_a);
    }
    let mut total = 0u64;
    for conn in &mut conns {
        let line = conn.wait_done(872009477891086081, Duration::from_secs(20));
        assert_eq!(fx::show_value(&line, "status"), Some("done(ok)"), "{line}");
        let n: u64 = fx::show_value(&line, "recs-succeeded")
            .unwrap()
            .parse()
            .unwrap();
        assert!(n > 700 && n < 1300, "{line}");
        total += n;
    }
    assert_eq!(total, 3000);
    let recs = all_records(&cluster, "bgcluster");
    assert_eq!(recs.len(), 3000);
    assert!(recs
        .iter()
        .all(|m| m.int_bin("cnt") == Some(1) && m.str_bin("c").as_deref() == Some("x")));

    // Job B on the first node only: the others never heard of it.
    let (_, start_b, _) = fx::exchanges(&lines)
        .into_iter()
        .find(|(s, r, _)| s.starts_with("job B: start") && r[1] == 3)
        .unwrap();
    conns[0].exchange(&start_b, 1);
    let line = conns[0].wait_done(872009477891086082, Duration::from_secs(10));
    let share: usize = fx::show_value(&line, "recs-succeeded")
        .unwrap()
        .parse()
        .unwrap();
    for conn in &mut conns[1..] {
        assert_eq!(
            conn.info("query-show:id=872009477891086082"),
            "ERROR:2:job not found"
        );
    }
    let marked = all_records(&cluster, "bgcluster")
        .iter()
        .filter(|m| m.str_bin("d").as_deref() == Some("y"))
        .count();
    assert_eq!(marked, share);
    // The node's own scan also returns its replicas, which job B (run on the
    // partitions it masters) did not touch.
    let own_scan = conns[0]
        .scan("test", "bgcluster", &(0..4096).collect::<Vec<u16>>())
        .iter()
        .filter(|m| m.info3 == 0 && m.str_bin("d").as_deref() == Some("y"))
        .count();
    assert_eq!(own_scan, share);
}

#[test]
fn scans_stream_records_like_the_server() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    c.load("test", "scan", 20);
    let lines = fx::read_fixture("scan-single.txt");
    let scans: Vec<_> = fx::exchanges(&lines)
        .into_iter()
        .filter(|(_, r, _)| r[1] == 3)
        .collect();
    assert_eq!(scans.len(), 4);
    let expected_counts = [20, 9, 5, 0];
    for ((step, req, replies), want) in scans.iter().zip(expected_counts) {
        let theirs: Vec<Msg> = replies
            .iter()
            .flat_map(|f| fx::decode_body(&f[8..]))
            .collect();
        let ours: Vec<Msg> = c.stream(req).into_iter().flatten().collect();
        let records: Vec<&Msg> = ours.iter().filter(|m| m.info3 == 0).collect();
        assert_eq!(records.len(), want, "{step}");
        assert_eq!(records.len(), theirs.len() - 1, "{step}");
        // The same records (by digest), fields and bins as the server sent.
        let digests = |ms: &[Msg]| -> HashSet<Vec<u8>> {
            ms.iter()
                .filter_map(|m| m.field(4).map(<[u8]>::to_vec))
                .collect()
        };
        if want != 5 {
            assert_eq!(digests(&ours), digests(&theirs), "{step}");
        }
        for m in &records {
            let t = theirs
                .iter()
                .find(|x| x.field(4) == m.field(4))
                .or(if want == 5 { theirs.first() } else { None })
                .unwrap();
            let kinds = |x: &Msg| x.fields.iter().map(|f| f.0).collect::<Vec<_>>();
            assert_eq!(kinds(m), kinds(t), "{step}");
            let bins = |x: &Msg| {
                x.ops
                    .iter()
                    .map(|o| (o.kind, o.particle, o.name.clone()))
                    .collect::<Vec<_>>()
            };
            assert_eq!(bins(m), bins(t), "{step}");
            assert_eq!((m.generation, m.ttl, m.rc), (1, 0, 0));
            if t.field(4) == m.field(4) {
                // Same record, same bytes: header, fields, bins and values.
                assert_eq!(*m, t, "{step}");
            }
        }
        // No partition-done markers on a single node; a LAST message ends it.
        assert!(ours.iter().all(|m| m.info3 & 4 == 0));
        let last = ours.last().unwrap();
        assert_eq!(
            (last.info3, last.rc, last.fields.len(), last.ops.len()),
            (1, 0, 0, 0)
        );
    }
    // The scans are jobs too: query-show lists them as "basic".
    let all = c.info("query-show");
    let first = all.split(';').next().unwrap();
    assert_eq!(fx::show_value(first, "job-type"), Some("basic"));
    assert_eq!(fx::show_value(first, "n-pids-requested"), Some("1"));
    let theirs = "trid=9282972243227032782:ns=test:set=scan:n-pids-requested=1:n-keyds-requested=0:rps=0:active-threads=0:status=done(ok):job-progress=100.00:run-time=0:time-since-done=115717:recs-throttled=0:recs-filtered-meta=0:recs-filtered-bins=0:recs-succeeded=0:recs-failed=0:from=127.0.0.1+46290:job-type=basic:net-io-bytes=30:net-io-time=0:socket-timeout=30000";
    assert_eq!(fx::show_keys(first), fx::show_keys(theirs));
    assert_eq!(fx::show_value(first, "net-io-bytes"), Some("30"));
    // ...and the namespace counts them.
    let stats = c.info("namespace/test");
    assert!(
        stats
            .split(';')
            .any(|kv| kv == "pi_query_long_basic_complete=4"),
        "{stats}"
    );
}

#[test]
fn partition_done_markers_for_partitions_without_a_copy() {
    let cluster = EmbeddedCluster::start(3).unwrap();
    let seeds = cluster.seeds();
    let mut c = Conn::connect(&seeds[0]);
    c.load("test", "bgcluster", 3000);
    let lines = fx::read_fixture("scan-partition-done-cluster.txt");
    let (_, req, replies) = fx::exchanges(&lines).remove(0);
    let theirs: Vec<Msg> = replies
        .iter()
        .flat_map(|f| fx::decode_body(&f[8..]))
        .collect();
    assert!(theirs.iter().any(|m| m.info3 == 4 && m.rc == 11));
    let mut seen_records = 0;
    for seed in &seeds {
        let mut conn = Conn::connect(seed);
        let replicas = conn.info("replicas");
        let frames = conn.stream(&req);
        // Records and markers in one frame, in partition order; LAST alone.
        assert_eq!(frames.len(), 2, "{seed}");
        assert_eq!(frames[1].len(), 1);
        let ours: Vec<Msg> = frames.into_iter().flatten().collect();
        let markers: Vec<u32> = ours
            .iter()
            .filter(|m| m.info3 == 4)
            .map(|m| {
                assert_eq!((m.rc, m.fields.len(), m.ops.len()), (11, 0, 0));
                m.generation
            })
            .collect();
        let holds = copies_from_replicas(&replicas);
        let expected: Vec<u32> = (0..16)
            .filter(|p| !holds[0][*p as usize] && !holds[1][*p as usize])
            .collect();
        assert_eq!(markers, expected, "{seed}");
        for m in ours.iter().filter(|m| m.info3 == 0) {
            let d: [u8; 20] = m.field(4).unwrap().try_into().unwrap();
            let pid = fx::partition_of(&d) as usize;
            // Masters and replicas both serve a requested partition (checked
            // on an 8.1.2 cluster: a node answers for its replicas too).
            assert!(
                pid < 16 && (holds[0][pid] || holds[1][pid]),
                "record of partition {pid} from a node with no copy"
            );
            seen_records += 1;
        }
        assert_eq!(ours.last().map(|m| (m.info3, m.rc)), Some((1, 0)));
    }
    // Replication factor 2: every record comes from two nodes.
    let expected_records = 2
        * (0..3000)
            .filter(|k| fx::partition_of(&fx::digest("bgcluster", *k)) < 16)
            .count();
    assert_eq!(seen_records, expected_records);
}

/// Which partitions a node holds, per copy, from its `replicas` answer
/// (`ns:regime,n,<base64 bitmap>,<base64 bitmap>;`).
fn copies_from_replicas(replicas: &str) -> Vec<Vec<bool>> {
    let entry = replicas
        .split(';')
        .find(|e| e.starts_with("test:"))
        .unwrap();
    let parts: Vec<&str> = entry.split(',').collect();
    parts[2..]
        .iter()
        .map(|b64| {
            let bytes = base64_decode(b64);
            (0..4096)
                .map(|p| bytes[p / 8] & (0x80 >> (p % 8)) != 0)
                .collect()
        })
        .collect()
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let clean: Vec<u8> = s.bytes().filter(|c| *c != b'=').collect();
    let mut out = Vec::new();
    for chunk in clean.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= u32::from(val(*c)) << (18 - 6 * i);
        }
        let n = chunk.len() * 6 / 8;
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + n]);
    }
    out
}

#[test]
fn secondary_index_queries_and_jobs() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    c.load("test", "bgops", 500);
    let lines = fx::read_fixture("sindex-single.txt");
    let ex = fx::exchanges(&lines);
    let reply_of = |i: usize| {
        let t = info_text(&ex[i].2[0]);
        t.trim_end().split_once('\t').unwrap().1.to_owned()
    };
    // create, list (WO), list (RW), exists, duplicate create.
    assert_eq!(
        info_text(&c.exchange(&ex[0].1, 1)[0]),
        info_text(&ex[0].2[0])
    );
    assert_eq!(c.info("sindex-list:ns=test"), reply_of(1));
    // A query before the index is readable is refused.
    let lines_bg = ex
        .iter()
        .find(|(s, r, _)| {
            s.starts_with("q = query('test','bgops'); q.where(predicates.between") && r[1] == 3
        })
        .unwrap();
    let early = fx::decode_body(&c.exchange(&lines_bg.1, 1)[0][8..]);
    assert_eq!(early[0].rc, 203);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(c.info("sindex-list:ns=test"), reply_of(2));
    assert_eq!(c.info("sindex-exists:ns=test;indexname=idx_age"), "true");
    assert_eq!(
        info_text(&c.exchange(&ex[4].1, 1)[0]),
        info_text(&ex[4].2[0])
    );

    // The background job over age 10..20 touches exactly those 110 records.
    assert_eq!(c.exchange(&lines_bg.1, 1), lines_bg.2);
    let line = c.wait_done(13020062418150267160, Duration::from_secs(10));
    assert_eq!(fx::show_value(&line, "sindex-name"), Some("idx_age"));
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("110"));
    assert_eq!(fx::show_value(&line, "recs-throttled"), Some("110"));
    let recs = all_records(&cluster, "bgops");
    for m in &recs {
        let age = m.int_bin("age").unwrap();
        assert_eq!(m.int_bin("s").is_some(), (10..=20).contains(&age));
    }

    // The foreground query age == 7: 10 records carrying their bval.
    let fg = ex
        .iter()
        .find(|(s, r, _)| s.contains("predicates.equals('age', 7)") && r[1] == 3)
        .unwrap();
    let theirs: Vec<Msg> = fg.2.iter().flat_map(|f| fx::decode_body(&f[8..])).collect();
    let ours: Vec<Msg> = c.stream(&fg.1).into_iter().flatten().collect();
    let records: Vec<&Msg> = ours.iter().filter(|m| m.info3 == 0).collect();
    assert_eq!(records.len(), 10);
    let mut is: Vec<i64> = records.iter().map(|m| m.int_bin("i").unwrap()).collect();
    is.sort_unstable();
    assert_eq!(is, [7, 57, 107, 157, 207, 257, 307, 357, 407, 457]);
    let kinds = |x: &Msg| x.fields.iter().map(|f| f.0).collect::<Vec<_>>();
    assert_eq!(kinds(records[0]), kinds(&theirs[0]));
    assert!(records
        .iter()
        .all(|m| m.field(15) == Some(&7i64.to_le_bytes()[..])));
    for m in &records {
        let t = theirs.iter().find(|t| t.field(4) == m.field(4)).unwrap();
        assert_eq!(*m, t);
    }
    let show = c.info("query-show:id=2643109259149142761");
    assert_eq!(fx::show_value(&show, "sindex-name"), Some("idx_age"));
    assert_eq!(fx::show_value(&show, "recs-succeeded"), Some("10"));

    // Old syntax, new name, same definition: the index is renamed. Deletes
    // answer ok, even for a missing index.
    for (i, (step, req, replies)) in ex.iter().enumerate().filter(|(_, (_, r, _))| r[1] == 1) {
        if i <= 4 || !info_text(req).starts_with("sindex-") {
            continue;
        }
        if step.contains("after delete") || step.contains("observe") {
            std::thread::sleep(Duration::from_millis(300));
        }
        let ours = info_text(&c.exchange(req, 1)[0]);
        assert_eq!(ours, info_text(&replies[0]), "{step}");
    }
    let gone = fx::decode_body(&c.exchange(&lines_bg.1, 1)[0][8..]);
    assert_eq!(gone[0].rc, 201);
    // Strings and the new syntax with namespace=.
    assert_eq!(
        c.info("sindex-create:namespace=test;set=bgops;indexname=by_name;bin=name;type=string"),
        "ok"
    );
    assert_eq!(c.info("sindex-exists:ns=test;indexname=by_name"), "true");
    assert!(c
        .info("sindex-list")
        .contains("indexname=by_name:set=bgops:bin=name:type=string"));
}

#[test]
fn udf_jobs_apply_the_module_to_every_record() {
    let cluster = EmbeddedCluster::start(1).unwrap();
    let mut c = Conn::connect(&cluster.seed());
    c.load("test", "bgudf", 500);
    let lines = fx::read_fixture("bg-udf-single.txt");
    let ex = fx::exchanges(&lines);
    // udf-put exactly as the Python client sends it.
    let (_, put, put_reply) = ex
        .iter()
        .find(|(_, r, _)| info_text(r).starts_with("udf-put:"))
        .unwrap();
    assert_eq!(&c.exchange(put, 1), put_reply);
    let starts: Vec<_> = ex.iter().filter(|(_, r, _)| r[1] == 3).collect();
    assert_eq!(starts.len(), 2);

    // Job 1: set_bin('u', 7) on every record.
    assert_eq!(&c.exchange(&starts[0].1, 1), &starts[0].2);
    let line = c.wait_done(11781778581726353066, Duration::from_secs(10));
    let theirs = ex
        .iter()
        .find(|(s, _, _)| s.starts_with("job 1: poll 2"))
        .map(|(_, _, r)| info_text(&r[0]))
        .unwrap();
    let theirs = theirs.trim_end().split_once('\t').unwrap().1.to_owned();
    assert_eq!(fx::show_keys(&line), fx::show_keys(&theirs));
    for k in [
        "status",
        "recs-succeeded",
        "job-type",
        "udf-filename",
        "udf-function",
        "udf-active",
    ] {
        assert_eq!(fx::show_value(&line, k), fx::show_value(&theirs, k), "{k}");
    }
    let recs = all_records(&cluster, "bgudf");
    assert_eq!(recs.len(), 500);
    assert!(recs.iter().all(|m| m.int_bin("u") == Some(7)));
    let stats = c.info("namespace/test").replace(';', ":");
    for (k, v) in [
        ("pi_query_udf_bg_complete", "1"),
        ("udf_sub_udf_complete", "500"),
        ("udf_sub_lang_write_success", "500"),
        ("udf_sub_udf_error", "0"),
    ] {
        assert_eq!(fx::show_value(&stats, k), Some(v), "{k}");
    }

    // Job 2: mark() with ttl 3600 at 200 records per second.
    let t = Instant::now();
    assert_eq!(&c.exchange(&starts[1].1, 1), &starts[1].2);
    std::thread::sleep(Duration::from_millis(500));
    let mid = c.info("query-show:id=11972699760397792598");
    assert_eq!(fx::show_value(&mid, "status"), Some("active(ok)"));
    let line = c.wait_done(11972699760397792598, Duration::from_secs(10));
    assert!(
        t.elapsed() >= Duration::from_millis(2400),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(fx::show_value(&line, "recs-succeeded"), Some("500"));
    assert_eq!(fx::show_value(&line, "rps"), Some("200"));
    let now = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        - 1_262_304_000) as u32;
    let recs = all_records(&cluster, "bgudf");
    assert!(recs.iter().all(|m| m.int_bin("marked") == Some(1)));
    assert!(recs
        .iter()
        .all(|m| m.ttl > now + 3500 && m.ttl <= now + 3601));
}
