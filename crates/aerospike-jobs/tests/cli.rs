//! End-to-end: the built `aerospike-jobs` binary against embedded clusters
//! (1 and 3 nodes): job starts, following, JSON output and exit codes.

use std::process::{Command, Output};
use std::time::Duration;

use aerospike_blocking::{Bin, Client, ClientPolicy, Key, ReadPolicy, Value, WritePolicy};
use aerospike_embedded::EmbeddedCluster;

const NS: &str = "test";

fn jobs(hosts: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aerospike-jobs"))
        .env("AEROSPIKE_HOSTS", hosts)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("an exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The JSON objects of `--json` output, one a line.
fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l:?}: {e}")))
        .collect()
}

struct Env {
    cluster: EmbeddedCluster,
    hosts: String,
    client: Client,
}

fn env(nodes: usize, set: &str, records: i64) -> Env {
    let cluster = EmbeddedCluster::start(nodes).unwrap();
    let hosts = cluster.seeds().join(",");
    let client = Client::connect(&cluster.seeds(), &ClientPolicy::default()).unwrap();
    for i in 0..records {
        let key = Key::new(NS, set, i).unwrap();
        let bins = [Bin::new("i", i), Bin::new("active", i % 2 == 0)];
        client.put(&WritePolicy::default(), &key, &bins).unwrap();
    }
    Env {
        cluster,
        hosts,
        client,
    }
}

fn bin(e: &Env, set: &str, i: i64, name: &str) -> Option<Value> {
    let key = Key::new(NS, set, i).unwrap();
    let rec = e
        .client
        .get(&ReadPolicy::default(), &key, aerospike_blocking::Bins::All)
        .unwrap()?;
    rec.bin(name).cloned()
}

#[test]
fn update_with_a_where_clause_waits_and_exits_0_on_one_and_three_nodes() {
    for nodes in [1, 3] {
        let e = env(nodes, "cli_upd", 100);
        let out = jobs(
            &e.hosts,
            &[
                "--json",
                "update",
                "test.cli_upd",
                "--where",
                "$.active == true",
                "--add",
                "i=1000",
                "--set",
                "tag=\"x\"",
                "--set",
                "list=[1,2]",
                "--wait",
            ],
        );
        assert_eq!(code(&out), 0, "{out:?}");
        let lines = json_lines(&out);
        assert_eq!(lines[0]["started"], true);
        let last = lines.last().unwrap();
        assert_eq!(last["outcome"], "completed");
        assert_eq!(last["succeeded"], 50);
        assert_eq!(last["exit_code"], 0);
        assert_eq!(bin(&e, "cli_upd", 2, "i"), Some(Value::Int(1002)));
        assert_eq!(bin(&e, "cli_upd", 3, "i"), Some(Value::Int(3)));
        assert_eq!(bin(&e, "cli_upd", 2, "tag"), Some(Value::from("x")));
        assert_eq!(
            bin(&e, "cli_upd", 2, "list"),
            Some(Value::List(vec![Value::Int(1), Value::Int(2)]))
        );
    }
}

#[test]
fn delete_touch_and_udf_jobs() {
    let e = env(3, "cli_more", 40);
    let out = jobs(
        &e.hosts,
        &[
            "-q",
            "delete",
            "test.cli_more",
            "--where",
            "$.i < 10",
            "--wait",
        ],
    );
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(bin(&e, "cli_more", 5, "i"), None);
    assert_eq!(bin(&e, "cli_more", 15, "i"), Some(Value::Int(15)));
    let out = jobs(
        &e.hosts,
        &["-q", "touch", "test.cli_more", "--expire", "2h", "--wait"],
    );
    assert_eq!(code(&out), 0, "{out:?}");
    let key = Key::new(NS, "cli_more", 20).unwrap();
    let ttl = e
        .client
        .get(&ReadPolicy::default(), &key, aerospike_blocking::Bins::None)
        .unwrap()
        .unwrap()
        .ttl();
    assert!(ttl.is_some_and(|t| (7100..=7200).contains(&t)), "{ttl:?}");

    let dir = std::env::temp_dir().join(format!("cli_udf_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cli_mark.lua");
    std::fs::write(
        &file,
        "function mark(rec, v)\n  rec['m'] = v\n  aerospike:update(rec)\nend\n",
    )
    .unwrap();
    let out = jobs(&e.hosts, &["udf", "register", file.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{out:?}");
    let listed = jobs(&e.hosts, &["--json", "udf", "list"]);
    assert!(stdout(&listed).contains("cli_mark.lua"), "{listed:?}");
    let out = jobs(
        &e.hosts,
        &[
            "-q",
            "udf",
            "test.cli_more",
            "--module",
            "cli_mark",
            "--function",
            "mark",
            "--arg",
            "7",
            "--wait",
        ],
    );
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(bin(&e, "cli_more", 30, "m"), Some(Value::Int(7)));
    let out = jobs(&e.hosts, &["udf", "remove", "cli_mark.lua"]);
    assert_eq!(code(&out), 0, "{out:?}");
}

#[test]
fn status_list_wait_and_cancel_a_job_started_elsewhere() {
    let e = env(3, "cli_slow", 3000);
    // A slow job: 100 records per second per node.
    let out = jobs(
        &e.hosts,
        &[
            "--json",
            "update",
            "test.cli_slow",
            "--set",
            "s=1",
            "--rps",
            "100",
            "--task-id",
            "4242",
        ],
    );
    assert_eq!(code(&out), 0, "{out:?}");
    let status = jobs(&e.hosts, &["--json", "status", "4242"]);
    assert_eq!(code(&status), 0, "{status:?}");
    assert_eq!(json_lines(&status)[0]["nodes"].as_array().unwrap().len(), 3);
    let list = jobs(&e.hosts, &["--json", "list"]);
    assert!(json_lines(&list).iter().any(|j| j["task_id"] == 4242));
    // A wait that runs out: exit 5, the job goes on.
    let waited = jobs(&e.hosts, &["--json", "wait", "4242", "--timeout", "300ms"]);
    assert_eq!(code(&waited), 5, "{waited:?}");
    assert_eq!(json_lines(&waited).last().unwrap()["outcome"], "timed_out");
    // Aborted from another process: the waiter exits 3.
    let cancelled = jobs(&e.hosts, &["cancel", "4242"]);
    assert_eq!(code(&cancelled), 0, "{cancelled:?}");
    let waited = jobs(&e.hosts, &["--json", "wait", "4242", "--timeout", "10s"]);
    assert_eq!(code(&waited), 3, "{waited:?}");
    assert_eq!(json_lines(&waited).last().unwrap()["outcome"], "aborted");
    // Watching without a terminal prints lines, then the outcome.
    let watched = jobs(&e.hosts, &["watch", "4242", "--timeout", "10s"]);
    assert_eq!(code(&watched), 3, "{watched:?}");
    assert!(stdout(&watched).contains("aborted"), "{watched:?}");
}

#[test]
fn a_node_stopped_mid_job_exits_4() {
    let e = env(3, "cli_lost", 1200);
    // The waiter started the job, so it knows every node the job runs on.
    let waiter = Command::new(env!("CARGO_BIN_EXE_aerospike-jobs"))
        .env("AEROSPIKE_HOSTS", &e.hosts)
        .args([
            "--json",
            "update",
            "test.cli_lost",
            "--set",
            "s=1",
            "--rps",
            "100",
        ])
        .args(["--wait", "--timeout", "60s"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let victim = e.cluster.nodes()[1].name();
    e.cluster.stop_node(&victim).unwrap();
    let out = waiter.wait_with_output().unwrap();
    assert_eq!(code(&out), 4, "{out:?}");
    let last = json_lines(&out).pop().unwrap();
    assert_eq!(last["outcome"], "lost_node");
}

#[test]
fn failed_records_exit_1_and_ctrl_c_detaches_or_cancels() {
    let e = env(1, "cli_int", 1500);
    // A durable delete on a Community node fails every record: exit 1.
    let out = jobs(
        &e.hosts,
        &[
            "--json",
            "delete",
            "test.cli_int",
            "--durable-delete",
            "--wait",
        ],
    );
    assert_eq!(code(&out), 1, "{out:?}");
    assert_eq!(json_lines(&out).last().unwrap()["outcome"], "failed");
    // Ctrl-C while waiting: detached (130), the job goes on; with
    // --cancel-on-interrupt it is aborted (3).
    for (cancel, want, id) in [(false, 130, "501"), (true, 3, "502")] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_aerospike-jobs"));
        cmd.env("AEROSPIKE_HOSTS", &e.hosts)
            .args([
                "--json",
                "touch",
                "test.cli_int",
                "--rps",
                "50",
                "--task-id",
                id,
                "--wait",
            ])
            .stdout(std::process::Stdio::piped());
        if cancel {
            cmd.arg("--cancel-on-interrupt");
        }
        let mut child = cmd.spawn().unwrap();
        // Once the start is reported, Ctrl-C is handled.
        let mut started = String::new();
        let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
        std::io::BufRead::read_line(&mut reader, &mut started).unwrap();
        assert!(started.contains("\"started\":true"), "{started}");
        let sent = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut reader, &mut rest).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(code(&out), want, "{rest}");
        let status = jobs(&e.hosts, &["--json", "status", id]);
        let row = &json_lines(&status)[0]["nodes"][0]["status"];
        if cancel {
            assert!(row.as_str().unwrap().contains("user-aborted"), "{row}");
        } else {
            assert!(row.as_str().unwrap().starts_with("active"), "{row}");
            assert_eq!(code(&jobs(&e.hosts, &["cancel", id])), 0);
        }
    }
}

#[test]
fn usage_errors_and_unreachable_clusters() {
    let e = env(1, "cli_bad", 1);
    // A bad where-clause: exit 2 with its position, before anything runs.
    let out = jobs(
        &e.hosts,
        &[
            "update",
            "test.cli_bad",
            "--where",
            "$.a ==",
            "--set",
            "x=1",
        ],
    );
    assert_eq!(code(&out), 2, "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 1, column 7"), "{err}");
    let out = jobs(&e.hosts, &["touch", "test.cli_bad", "--expire", "3 weeks"]);
    assert_eq!(code(&out), 2, "{out:?}");
    let out = jobs(&e.hosts, &["status", "0"]);
    assert_eq!(code(&out), 2, "{out:?}");
    let out = jobs(&e.hosts, &["frobnicate"]);
    assert_eq!(code(&out), 2, "{out:?}");
    // Nothing listens there.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let out = jobs(&format!("127.0.0.1:{port}"), &["list"]);
    assert_eq!(code(&out), 6, "{out:?}");
    let out = jobs(&e.hosts, &["status", "99"]);
    assert_eq!(code(&out), 1, "{out:?}");
}

#[test]
fn index_filters_and_one_node_jobs() {
    let e = env(3, "cli_idx", 60);
    e.client
        .create_index(
            NS,
            "cli_idx",
            "cli_idx_i",
            "i",
            aerospike_blocking::IndexType::Numeric,
        )
        .unwrap();
    let out = jobs(
        &e.hosts,
        &[
            "-q",
            "update",
            "test.cli_idx",
            "--index-range",
            "i=10..19",
            "--set",
            "r=1",
            "--wait",
        ],
    );
    assert_eq!(code(&out), 0, "{out:?}");
    let out = jobs(
        &e.hosts,
        &[
            "-q",
            "update",
            "test.cli_idx",
            "--index-equal",
            "i=42",
            "--set",
            "q=1",
            "--wait",
        ],
    );
    assert_eq!(code(&out), 0, "{out:?}");
    for i in 0..60 {
        let r = bin(&e, "cli_idx", i, "r");
        assert_eq!(r.is_some(), (10..=19).contains(&i), "record {i}: {r:?}");
        assert_eq!(bin(&e, "cli_idx", i, "q").is_some(), i == 42, "record {i}");
    }
    // A job on one node only: only that node knows it.
    let node = e.cluster.nodes()[2].name();
    let out = jobs(
        &e.hosts,
        &[
            "--json",
            "touch",
            "test.cli_idx",
            "--node",
            &node,
            "--task-id",
            "9090",
            "--wait",
        ],
    );
    assert_eq!(code(&out), 0, "{out:?}");
    assert_eq!(json_lines(&out)[0]["nodes"], serde_json::json!([node]));
    let status = jobs(&e.hosts, &["--json", "status", "9090"]);
    let rows = json_lines(&status)[0]["nodes"].clone();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!(rows[0]["node"], serde_json::json!(node));
    e.client.drop_index(NS, "cli_idx", "cli_idx_i").unwrap();
}

#[test]
fn every_subcommand_has_help() {
    for sub in [
        "update", "delete", "touch", "udf", "status", "wait", "watch", "cancel", "list",
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_aerospike-jobs"))
            .args([sub, "--help"])
            .output()
            .unwrap();
        assert_eq!(code(&out), 0, "{sub}");
        assert!(stdout(&out).contains("Usage: aerospike-jobs"), "{sub}");
    }
}
