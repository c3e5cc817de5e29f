//! Background jobs on an embedded cluster under node control and fault
//! injection: a start refused or unanswered by one node leaves no job
//! running anywhere, a node restart during a job makes it lost, and nodes of
//! an older server version are asked with the older status command.

use std::time::Duration;

use aerospike_blocking::background::DataSet;
use aerospike_blocking::task::{ExecuteTask, NodeJobState, Outcome, ParsedStatus, WaitOptions};
use aerospike_blocking::{Bin, Client, ClientPolicy, Error, Key, ResultCode, WritePolicy};
use aerospike_embedded::{EmbeddedCluster, Fault, FaultScope};

const NS: &str = "test";
const SET: &str = "bgembedded";

fn connect(cluster: &EmbeddedCluster) -> Client {
    let policy = ClientPolicy {
        tend_interval: Duration::from_millis(100),
        ..ClientPolicy::default()
    };
    Client::connect(&cluster.seeds(), &policy).unwrap()
}

fn load(client: &Client, n: i64) {
    let wp = WritePolicy::default();
    for i in 0..n {
        let key = Key::new(NS, SET, i).unwrap();
        client.put(&wp, &key, &[Bin::new("i", i)]).unwrap();
    }
}

/// Starts a slow job (50 records per second per node) with task id `id`.
fn start(client: &Client, id: u64) -> Result<ExecuteTask, Error> {
    client
        .session()
        .background_task()
        .update(&DataSet::of(NS, SET))
        .bin("x")
        .set_to(1)
        .records_per_second(50)
        .task_id(id)
        .timeout(Duration::from_millis(500))
        .execute()
}

/// The status of job `id` on every node that shows it.
fn statuses(client: &Client, id: u64) -> Vec<(String, String)> {
    client
        .list_jobs()
        .unwrap()
        .into_iter()
        .filter(|(_, j)| j.task_id == id)
        .map(|(n, j)| (n, j.status))
        .collect()
}

/// One node refuses (or never answers) the start: the error names each
/// node's outcome and the job is aborted where it started.
fn partial_start_failure(fault: Fault, id: u64, expect_code: Option<ResultCode>) {
    let cluster = EmbeddedCluster::start(3).unwrap();
    let client = connect(&cluster);
    load(&client, 600);
    let bad = cluster.nodes()[1].clone();
    bad.set_fault_for(FaultScope::Messages, fault, Some(1));
    let err = start(&client, id).unwrap_err();
    let Error::PerNode { summary, outcomes } = &err else {
        panic!("{err}")
    };
    assert!(
        summary.contains("failed to start on 1 of 3 nodes"),
        "{summary}"
    );
    assert_eq!(outcomes.len(), 3);
    let failed: Vec<_> = outcomes.iter().filter(|(_, o)| o.is_some()).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, bad.name());
    // The message says which node refused and why, not only how many.
    let reason = failed[0].1.as_ref().unwrap();
    assert!(
        err.to_string()
            .ends_with(&format!(": {}: {reason}", bad.name())),
        "{err}"
    );
    let code = reason.result_code();
    if let Some(want) = expect_code {
        assert_eq!(code, Some(want));
    }
    // No node runs the job: it was aborted wherever it started.
    std::thread::sleep(Duration::from_millis(100));
    let rows = statuses(&client, id);
    assert!(!rows.is_empty(), "the healthy nodes had started the job");
    for (node, status) in &rows {
        assert!(status.ends_with("(user-aborted)"), "{node}: {status}");
    }
    // Records stop changing once the aborts are in.
    let count = || {
        client
            .query(&DataSet::of(NS, SET))
            .records()
            .unwrap()
            .iter()
            .filter(|r| r.bin("x").is_some())
            .count()
    };
    let first = count();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(count(), first);
    assert!(first < 600);
}

#[test]
fn partial_start_refused_by_one_node_leaves_no_job_running() {
    partial_start_failure(
        Fault::ResultCode(ResultCode::PARAMETER_ERROR),
        0xa70_0000_0000_0001,
        Some(ResultCode::PARAMETER_ERROR),
    );
}

#[test]
fn partial_start_unanswered_by_one_node_is_aborted_there_too() {
    // The node may have started the job (the reply was lost): the client
    // aborts there too.
    partial_start_failure(Fault::DropConnection, 0xa70_0000_0000_0002, None);
}

/// A node that restarts (`restart`) or leaves the cluster while it runs the
/// job makes the outcome lost: its share of the records may be unprocessed.
fn node_gone_during_a_job_is_lost(restart: bool, id: u64) {
    let cluster = EmbeddedCluster::start(3).unwrap();
    let client = connect(&cluster);
    load(&client, 600);
    let task = start(&client, id).unwrap();
    let p = task.progress().unwrap();
    assert!(
        p.nodes.iter().all(|n| n.state == NodeJobState::Running),
        "{p:?}"
    );
    let victim = cluster.nodes()[2].name();
    if restart {
        cluster.restart_node(&victim).unwrap();
    } else {
        cluster.remove_node(&victim).unwrap();
    }
    let outcome = task
        .wait(WaitOptions::default().timeout(Duration::from_secs(60)))
        .unwrap();
    // The outcome names the node and its share: the partitions it mastered
    // when the job started (about a third of them on 3 nodes).
    match outcome {
        Outcome::Lost { node, partitions } => {
            assert_eq!(node, victim);
            assert!(
                (1000..1800).contains(&partitions.len()),
                "{}",
                partitions.len()
            );
            assert!(partitions.windows(2).all(|w| w[0] < w[1]));
            // Exactly that share can be read back to finish the work.
            let cursor =
                aerospike_blocking::query::PartitionCursor::from_partitions(NS, &partitions)
                    .unwrap();
            let share = client
                .query(&DataSet::of(NS, SET))
                .resume(cursor)
                .records()
                .unwrap();
            let want = (0..600)
                .filter(|i| {
                    let k = Key::new(NS, SET, *i).unwrap();
                    partitions.binary_search(&k.partition()).is_ok()
                })
                .count();
            assert_eq!(share.len(), want);
            assert!(want > 100, "{want}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn node_restart_during_a_job_is_lost() {
    node_gone_during_a_job_is_lost(true, 0x1057_0000_0000_0001);
}

#[test]
fn node_leaving_during_a_job_is_lost() {
    node_gone_during_a_job_is_lost(false, 0x1057_0000_0000_0002);
}

/// Partitions that change master while a job runs: the outcome names them
/// (on a real server their records may be processed twice or not at all).
#[test]
fn partitions_moved_during_a_job_are_reported() {
    let cluster = EmbeddedCluster::start(3).unwrap();
    let client = connect(&cluster);
    load(&client, 300);
    let task = start(&client, 0x1057_0000_0000_0003).unwrap();
    assert!(task.moved_partitions().is_empty());
    let names: Vec<String> = cluster.nodes().iter().map(|n| n.name()).collect();
    let mut moved = Vec::new();
    // Every 100th partition goes to one of the nodes (to its own master for
    // about a third of them: those do not move).
    for pid in (0..4096u16).step_by(100) {
        let target = &names[(usize::from(pid) / 100) % 3];
        cluster.move_partition(NS, pid, target).unwrap();
        moved.push(pid);
    }
    let outcome = task
        .wait(WaitOptions::default().timeout(Duration::from_secs(60)))
        .unwrap();
    match outcome {
        Outcome::PartitionsMoved { partitions } => {
            // About two thirds of the 41 moves change a master.
            assert!(partitions.len() >= 10, "{partitions:?}");
            assert!(
                partitions.iter().all(|p| moved.contains(p)),
                "{partitions:?}"
            );
        }
        other => panic!("{other:?}"),
    }
}

/// A 7.x cluster is watched with `query-show:trid=` and cancelled with
/// `query-abort:trid=`: both work end to end.
#[test]
fn older_server_versions_get_the_trid_commands() {
    let cluster = EmbeddedCluster::builder()
        .nodes(2)
        .build("7.2.0.6")
        .start()
        .unwrap();
    let client = connect(&cluster);
    load(&client, 300);
    let task = start(&client, 0x7_0000_0000_0001).unwrap();
    assert_eq!(task.status().unwrap(), ParsedStatus::InProgress);
    task.cancel().unwrap();
    let outcome = task
        .wait(WaitOptions::default().timeout(Duration::from_secs(10)))
        .unwrap();
    assert_eq!(outcome, Outcome::AbortedByUser);
}

/// A node that never shows the job (it finished and was evicted from the
/// node's list, or never ran there) counts as done after a short grace
/// period instead of blocking the wait forever.
#[test]
fn a_job_no_node_remembers_counts_as_done_after_the_grace_polls() {
    let cluster = EmbeddedCluster::builder()
        .nodes(3)
        .query_max_done(1)
        .start()
        .unwrap();
    let client = connect(&cluster);
    load(&client, 30);
    let first = client
        .session()
        .background_task()
        .update(&DataSet::of(NS, SET))
        .bin("a")
        .set_to(1)
        .execute()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // A second job pushes the first out of every node's finished list.
    let second = start(&client, 0x9_0000_0000_0001).unwrap();
    second.cancel().unwrap();
    assert_eq!(
        second.wait(WaitOptions::default()).unwrap(),
        Outcome::AbortedByUser
    );
    let again = ExecuteTask::attach(&client, first.task_id(), NS, SET, first.kind());
    // The grace period runs from the first not-found poll, made in
    // `progress` below: the clock starts before it.
    let started = std::time::Instant::now();
    let p = again.progress().unwrap();
    assert!(p.nodes.iter().all(|n| n.info.is_none()), "{p:?}");
    assert!(!p.is_done(), "a single not-found poll is not yet the end");
    let outcome = again
        .wait(
            WaitOptions::default()
                .poll_interval(Duration::from_millis(20))
                .timeout(Duration::from_secs(5)),
        )
        .unwrap();
    assert_eq!(outcome, Outcome::Completed);
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert!(again
        .progress()
        .unwrap()
        .nodes
        .iter()
        .all(|n| n.state == NodeJobState::NeverSeen));
}

/// The start goes to every node at once with one random non-zero task id:
/// three nodes that each take 400 ms to answer start the job in well under
/// the 1.2 s a node-by-node start would need.
#[test]
fn the_start_reaches_every_node_in_parallel_with_one_task_id() {
    let cluster = EmbeddedCluster::start(3).unwrap();
    let client = connect(&cluster);
    load(&client, 30);
    for node in cluster.nodes() {
        node.set_fault_for(
            FaultScope::Messages,
            Fault::Delay(Duration::from_millis(400)),
            Some(1),
        );
    }
    let started = std::time::Instant::now();
    let task = client
        .session()
        .background_task()
        .update(&DataSet::of(NS, SET))
        .bin("p")
        .set_to(1)
        .execute()
        .unwrap();
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(400), "{took:?}");
    assert!(took < Duration::from_millis(800), "{took:?}");
    assert_ne!(task.task_id(), 0);
    assert_eq!(
        task.wait(WaitOptions::default()).unwrap(),
        Outcome::Completed
    );
    let rows = statuses(&client, task.task_id());
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().all(|(_, s)| s == "done(ok)"), "{rows:?}");
}

/// Registering a UDF module returns only once every node lists it: with one
/// node answering info requests 400 ms late (not the node the module is
/// sent to), registration takes at least that long, and then that node
/// lists the module.
#[test]
fn udf_registration_waits_for_every_node() {
    let cluster = EmbeddedCluster::start(3).unwrap();
    let client = connect(&cluster);
    let first = client.nodes()[0].name.clone();
    let slow = cluster
        .nodes()
        .into_iter()
        .find(|n| n.name() != first)
        .unwrap();
    let delay = Duration::from_millis(400);
    slow.set_fault_for(FaultScope::Info, Fault::Delay(delay), None);
    let started = std::time::Instant::now();
    client
        .register_udf_bytes(
            "slowlist.lua",
            b"function f(rec)\n  return 1\nend\n",
            aerospike_blocking::UdfLanguage::Lua,
        )
        .unwrap();
    let took = started.elapsed();
    assert!(took >= delay, "registration returned after {took:?}");
    let listed = client.info_on(&slow.name(), &["udf-list"]).unwrap();
    assert!(listed[0].1.contains("filename=slowlist.lua,"), "{listed:?}");
    slow.clear_faults();
}
