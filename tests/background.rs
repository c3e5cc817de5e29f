//! Background jobs end to end: every verb and option, validation, atomic
//! start, cancel, wait timeout, progress, re-attach, listing, lost nodes.
//!
//! Runs on an embedded cluster, or on a real one when `AEROSPIKE_HOSTS` is
//! set (tests that control nodes need the embedded cluster and skip
//! themselves, saying so, on a real one).
#![cfg(feature = "embedded")]

use std::time::Duration;

use aerospike_blocking::background::DataSet;
use aerospike_blocking::embedded::{EmbeddedCluster, Fault, FaultScope};
use aerospike_blocking::operations;
use aerospike_blocking::query::Filter;
use aerospike_blocking::task::{
    ExecuteTask, NodeJobState, Outcome, ParsedStatus, TaskKind, WaitOptions,
};
use aerospike_blocking::{
    Bin, Client, Error, IndexType, Key, Record, ResultCode, TimeoutPhase, UdfLanguage, Value,
    WritePolicy,
};

mod common;

use common::{client_policy, test_seeds_n, unique_set, NAMESPACE as NS};

struct Env {
    client: Client,
    embedded: Option<EmbeddedCluster>,
}

/// A client on the cluster under test: `AEROSPIKE_HOSTS`, or an embedded
/// cluster of `nodes` nodes.
fn env(nodes: usize) -> Env {
    let (seeds, embedded) = test_seeds_n(nodes);
    let client = Client::connect(&seeds, &client_policy()).expect("client connects");
    Env { client, embedded }
}

/// `n` records: i = key, age = key % 50, active = key even, name = "n<key>".
fn load(client: &Client, set: &str, n: i64) {
    let wp = WritePolicy::default();
    for i in 0..n {
        let key = Key::new(NS, set, i).unwrap();
        let bins = [
            Bin::new("i", i),
            Bin::new("age", i % 50),
            Bin::new("active", i % 2 == 0),
            Bin::new("name", format!("n{i}")),
        ];
        client.put(&wp, &key, &bins).unwrap();
    }
}

fn all(client: &Client, set: &str) -> Vec<Record> {
    client.query(&DataSet::of(NS, set)).records().unwrap()
}

fn int(r: &Record, bin: &str) -> Option<i64> {
    r.bin(bin).and_then(Value::as_int)
}

fn quick() -> WaitOptions {
    WaitOptions::default()
        .poll_interval(Duration::from_millis(50))
        .timeout(Duration::from_secs(30))
}

#[test]
fn update_with_where_clause_one_node() {
    update_with_where_clause_changes_exactly_the_matching_records(1);
}

#[test]
fn update_with_where_clause_three_nodes() {
    update_with_where_clause_changes_exactly_the_matching_records(3);
}

fn update_with_where_clause_changes_exactly_the_matching_records(nodes: usize) {
    let e = env(nodes);
    let set = unique_set("bg_where");
    load(&e.client, &set, 200);
    let task = e
        .client
        .session()
        .background_task()
        .update(&DataSet::of(NS, &set))
        .where_ael("$.active == true and $.age < 20")
        .bin("flag")
        .set_to(1)
        .bin("i")
        .add(1000)
        .bin("name")
        .append("!")
        .execute()
        .unwrap();
    assert_eq!(task.kind(), TaskKind::QueryExecute);
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
    let recs = all(&e.client, &set);
    assert_eq!(recs.len(), 200);
    let mut changed = 0;
    for r in &recs {
        let i = int(r, "i").unwrap();
        let orig = if i >= 1000 { i - 1000 } else { i };
        let matches = orig % 2 == 0 && orig % 50 < 20;
        assert_eq!(int(r, "flag").is_some(), matches, "record {orig}");
        assert_eq!(i >= 1000, matches);
        let name = r.bin("name").and_then(Value::as_str).unwrap();
        assert_eq!(name.ends_with('!'), matches);
        changed += usize::from(matches);
    }
    assert_eq!(changed, 40);
    let p = task.progress().unwrap();
    assert_eq!(p.succeeded, 40);
    assert!(p.is_done());
}

#[test]
fn index_filter_combines_with_where_clause() {
    let e = env(3);
    let set = unique_set("bg_idx");
    load(&e.client, &set, 200);
    let index = format!("idx_{set}");
    e.client
        .create_index(NS, &set, &index, "age", IndexType::Numeric)
        .unwrap();
    let task = e
        .client
        .session()
        .background_task()
        .update(&DataSet::of(NS, &set))
        .index_filter(Filter::range("age", 10, 19))
        .where_ael("$.active == true")
        .bin("s")
        .set_to("hit")
        .execute()
        .unwrap();
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
    let hits: Vec<i64> = all(&e.client, &set)
        .iter()
        .filter(|r| r.bin("s").is_some())
        .map(|r| int(r, "i").unwrap())
        .collect();
    assert_eq!(hits.len(), 20, "{hits:?}");
    assert!(hits
        .iter()
        .all(|i| (10..20).contains(&(i % 50)) && i % 2 == 0));
    // A foreground query through the same index sees the same records.
    let q = e
        .client
        .query(&DataSet::of(NS, &set))
        .filter(Filter::equal("age", 12))
        .records()
        .unwrap();
    assert_eq!(q.len(), 4);
    assert!(q.iter().all(|r| r.bin("s").is_some()));
    e.client.drop_index(NS, &set, &index).unwrap();
}

#[test]
fn delete_and_touch_with_expiry() {
    let e = env(3);
    let set = unique_set("bg_del");
    load(&e.client, &set, 100);
    let bg = e.client.session().background_task();
    let del = bg
        .delete(&DataSet::of(NS, &set))
        .filter_expression(aerospike_blocking::exp::lt(
            aerospike_blocking::exp::int_bin("i"),
            aerospike_blocking::exp::int_val(30),
        ))
        .durable_delete(false)
        .execute()
        .unwrap();
    assert_eq!(del.wait(quick()).unwrap(), Outcome::Completed);
    assert_eq!(all(&e.client, &set).len(), 70);

    let touch = bg
        .touch(&DataSet::of(NS, &set))
        .expire_record_after(Duration::from_secs(7200))
        .execute()
        .unwrap();
    assert_eq!(touch.wait(quick()).unwrap(), Outcome::Completed);
    for r in all(&e.client, &set) {
        let ttl = r.ttl().expect("touched records expire");
        assert!((7100..=7200).contains(&ttl), "ttl {ttl}");
    }
    let never = bg
        .touch(&DataSet::of(NS, &set))
        .never_expire()
        .execute()
        .unwrap();
    assert_eq!(never.wait(quick()).unwrap(), Outcome::Completed);
    assert!(all(&e.client, &set).iter().all(|r| r.ttl().is_none()));
}

#[test]
fn operations_remove_prepend_and_list_append() {
    let e = env(1);
    let set = unique_set("bg_ops");
    load(&e.client, &set, 20);
    let task = e
        .client
        .session()
        .background_task()
        .update(&DataSet::of(NS, &set))
        .bin("name")
        .prepend(">")
        .bin("active")
        .remove()
        .operation(operations::put("l", Value::List(vec![Value::from(1)])))
        .keep_expiry()
        .execute()
        .unwrap();
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
    for r in all(&e.client, &set) {
        assert!(r
            .bin("name")
            .and_then(Value::as_str)
            .unwrap()
            .starts_with(">n"));
        assert!(r.bin("active").is_none());
        assert_eq!(r.bin("l"), Some(&Value::List(vec![Value::from(1)])));
    }
}

#[test]
fn background_udf_job() {
    let e = env(3);
    let set = unique_set("bg_udf");
    load(&e.client, &set, 60);
    let module = format!("{set}.lua");
    let code =
        "function set_bin(rec, name, value)\n  rec[name] = value\n  aerospike:update(rec)\nend\n";
    e.client
        .register_udf_bytes(&module, code.as_bytes(), UdfLanguage::Lua)
        .unwrap();
    assert!(e
        .client
        .list_udfs()
        .unwrap()
        .iter()
        .any(|m| m.name == module));
    let package = module.trim_end_matches(".lua").to_owned();
    let task = e
        .client
        .session()
        .background_task()
        .execute_udf(&DataSet::of(NS, &set))
        .function(&package, "set_bin")
        .passing(["u"])
        .arg(7)
        .where_ael("$.i >= 30")
        .execute()
        .unwrap();
    assert_eq!(task.kind(), TaskKind::QueryUdf);
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
    for r in all(&e.client, &set) {
        let want = (int(&r, "i").unwrap() >= 30).then_some(7);
        assert_eq!(int(&r, "u"), want);
    }
    e.client.remove_udf(&module).unwrap();
    assert!(!e
        .client
        .list_udfs()
        .unwrap()
        .iter()
        .any(|m| m.name == module));
    let err = e.client.remove_udf(&module).unwrap_err();
    assert_eq!(err.result_code(), Some(ResultCode::KEY_NOT_FOUND));
}

#[test]
fn validation_errors_are_reported_before_sending() {
    let e = env(1);
    let ds = DataSet::of(NS, "never_touched");
    let bg = e.client.session().background_task();
    let check = |r: Result<ExecuteTask, Error>, needle: &str| match r {
        Err(Error::InvalidArgument(m)) => assert!(m.contains(needle), "{m} lacks {needle}"),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("accepted; expected an error about {needle}"),
    };
    check(bg.update(&ds).execute(), "at least one bin operation");
    check(
        bg.update(&ds).operation(operations::get_bin("i")).execute(),
        "read operation",
    );
    check(
        bg.delete(&ds).bin("a").set_to(1).execute(),
        "no bin operations",
    );
    check(
        bg.execute_udf(&ds).function("", "f").execute(),
        "UDF package",
    );
    check(
        bg.execute_udf(&ds).function("p", "").execute(),
        "UDF package",
    );
    check(
        bg.update(&ds)
            .bin("a")
            .set_to(1)
            .records_per_second(20_000)
            .execute(),
        "records_per_second",
    );
    check(
        bg.update(&DataSet::of(NS, &"s".repeat(64)))
            .bin("a")
            .set_to(1)
            .execute(),
        "set name",
    );
    check(
        bg.update(&ds).bin("a").set_to(1).task_id(0).execute(),
        "task id",
    );
    check(
        bg.update(&ds)
            .bin("a_very_long_bin_name")
            .set_to(1)
            .execute(),
        "bin name",
    );
    check(
        bg.touch(&ds).expire_record_after(Duration::ZERO).execute(),
        "expire_record_after",
    );
    check(
        bg.update(&ds)
            .index_filter(Filter::range("a", 5, 1))
            .bin("a")
            .set_to(1)
            .execute(),
        "empty",
    );
    assert!(matches!(
        bg.update(&ds)
            .where_ael("$.a ==")
            .bin("a")
            .set_to(1)
            .execute(),
        Err(Error::Expression { .. })
    ));
    // Nothing was started.
    assert!(e
        .client
        .list_jobs()
        .unwrap()
        .iter()
        .all(|(_, j)| j.set != "never_touched"));
}

#[test]
fn missing_set_counts_as_started_and_completes() {
    let e = env(3);
    let set = unique_set("bg_none");
    let task = e
        .client
        .session()
        .background_task()
        .update(&DataSet::of(NS, &set))
        .bin("a")
        .set_to(1)
        .execute()
        .unwrap();
    // Every node answered KEY_NOT_FOUND (rc 2): nothing to do, no job there.
    let p = task.progress().unwrap();
    assert_eq!(p.nodes.len(), e.client.nodes().len());
    assert!(
        p.nodes
            .iter()
            .all(|n| n.state == NodeJobState::NothingToDo && n.info.is_none()),
        "{p:?}"
    );
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
    assert_eq!(task.status().unwrap(), ParsedStatus::Complete);
    assert!(e
        .client
        .list_jobs()
        .unwrap()
        .iter()
        .all(|(_, j)| j.task_id != task.task_id()));
}

/// A job slow enough to observe: `n` records at `rps` per node.
fn slow_job(e: &Env, set: &str, n: i64, rps: u32, task_id: Option<u64>) -> ExecuteTask {
    load(&e.client, set, n);
    let mut b = e
        .client
        .session()
        .background_task()
        .update(&DataSet::of(NS, set))
        .bin("slow")
        .add(1)
        .records_per_second(rps);
    if let Some(id) = task_id {
        b = b.task_id(id);
    }
    b.execute().unwrap()
}

#[test]
fn cancel_from_another_thread_while_waiting() {
    let e = env(1);
    let set = unique_set("bg_cancel_t");
    let task = slow_job(&e, &set, 400, 50, None);
    let other = task.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        other.cancel()
    });
    let outcome = task.wait(quick()).unwrap();
    canceller.join().unwrap().unwrap();
    assert_eq!(outcome, Outcome::AbortedByUser);
}

#[test]
fn cancel_makes_the_outcome_aborted_by_user() {
    let e = env(3);
    let set = unique_set("bg_cancel");
    let task = slow_job(&e, &set, 600, 50, None);
    assert_eq!(task.status().unwrap(), ParsedStatus::InProgress);
    task.cancel().unwrap();
    assert_eq!(task.wait(quick()).unwrap(), Outcome::AbortedByUser);
    let p = task.progress().unwrap();
    assert!(p.succeeded < 600, "{}", p.succeeded);
    assert_eq!(p.status, "aborted by user");
}

#[test]
fn wait_timeout_progress_reattach_and_listing() {
    let e = env(3);
    let set = unique_set("bg_wait");
    let id = 0x5eed_0000_0000_0001 ^ u64::from(std::process::id());
    let task = slow_job(&e, &set, 300, 100, Some(id));
    assert_eq!(task.task_id(), id);
    assert_eq!(task.nodes().len(), e.client.nodes().len());
    let err = task
        .wait(WaitOptions::default().timeout(Duration::from_millis(200)))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Timeout {
                phase: TimeoutPhase::Wait,
                ..
            }
        ),
        "{err}"
    );

    let p = task.progress().unwrap();
    assert_eq!(p.nodes.len(), e.client.nodes().len());
    assert!(!p.is_done());
    assert!(p.percent < 100.0);
    assert!(p.status.starts_with("running"), "{}", p.status);

    let listed = e.client.list_jobs().unwrap();
    let mine: Vec<_> = listed.iter().filter(|(_, j)| j.task_id == id).collect();
    assert_eq!(mine.len(), e.client.nodes().len(), "one row per node");
    assert!(mine
        .iter()
        .all(|(_, j)| j.set == set && j.records_per_second == 100));

    let again = ExecuteTask::attach(&e.client, id, NS, &set, TaskKind::QueryExecute);
    let mut calls = 0;
    let mut last_pct = 0.0;
    let outcome = again
        .wait_with_progress(quick(), |p| {
            calls += 1;
            assert!(p.percent + 1e-9 >= last_pct);
            last_pct = p.percent;
        })
        .unwrap();
    assert_eq!(outcome, Outcome::Completed);
    assert!(calls >= 2);
    let p = again.progress().unwrap();
    assert_eq!(p.succeeded, 300);
    assert_eq!(p.percent, 100.0);
    assert!(all(&e.client, &set)
        .iter()
        .all(|r| int(r, "slow") == Some(1)));
}

#[test]
fn single_node_job_covers_only_that_nodes_partitions() {
    let e = env(3);
    let set = unique_set("bg_one");
    load(&e.client, &set, 300);
    let node = e.client.nodes()[0].name.clone();
    let task = e
        .client
        .session()
        .background_task()
        .update(&DataSet::of(NS, &set))
        .on_node(&node)
        .bin("mark")
        .set_to(1)
        .execute()
        .unwrap();
    assert_eq!(task.node_name(), Some(node.as_str()));
    assert_eq!(task.nodes(), vec![node.clone()]);
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
    let marked = all(&e.client, &set)
        .iter()
        .filter(|r| r.bin("mark").is_some())
        .count();
    if e.client.nodes().len() > 1 {
        assert!(marked > 0 && marked < 300, "{marked}");
    } else {
        assert_eq!(marked, 300);
    }
    assert_eq!(task.progress().unwrap().succeeded, marked as u64);
    let err = e
        .client
        .session()
        .background_task()
        .touch(&DataSet::of(NS, &set))
        .on_node("NO_SUCH_NODE")
        .execute()
        .unwrap_err();
    assert!(matches!(err, Error::NoNode(_)), "{err}");
}

#[test]
fn partial_start_failure_leaves_no_job_running() {
    let e = env(3);
    let Some(cluster) = &e.embedded else {
        eprintln!("SKIPPED (needs the embedded cluster): partial start failure");
        return;
    };
    let set = unique_set("bg_atomic");
    load(&e.client, &set, 600);
    let bad = cluster.nodes()[1].clone();
    bad.set_fault_for(
        FaultScope::Messages,
        Fault::ResultCode(ResultCode::PARAMETER_ERROR),
        Some(1),
    );
    let id = 0xa70_0000_0000_0000 ^ u64::from(std::process::id());
    let err = e
        .client
        .session()
        .background_task()
        .update(&DataSet::of(NS, &set))
        .bin("x")
        .set_to(1)
        .records_per_second(50)
        .task_id(id)
        .execute()
        .unwrap_err();
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
    assert_eq!(
        failed[0].1.as_ref().unwrap().result_code(),
        Some(ResultCode::PARAMETER_ERROR)
    );
    // The two nodes that started the job aborted it.
    std::thread::sleep(Duration::from_millis(100));
    let rows: Vec<_> = e
        .client
        .list_jobs()
        .unwrap()
        .into_iter()
        .filter(|(_, j)| j.task_id == id)
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    for (node, j) in rows {
        assert!(j.status.ends_with("(user-aborted)"), "{node}: {}", j.status);
    }
}

#[test]
fn node_restart_during_a_job_is_lost() {
    let e = env(3);
    let Some(cluster) = &e.embedded else {
        eprintln!("SKIPPED (needs the embedded cluster): node restart");
        return;
    };
    let set = unique_set("bg_lost");
    let task = slow_job(&e, &set, 600, 50, None);
    // Every node shows the job running.
    let p = task.progress().unwrap();
    assert!(
        p.nodes.iter().all(|n| n.state == NodeJobState::Running),
        "{p:?}"
    );
    let victim = cluster.nodes()[2].name();
    cluster.restart_node(&victim).unwrap();
    let outcome = task
        .wait(WaitOptions::default().timeout(Duration::from_secs(60)))
        .unwrap();
    assert_eq!(outcome, Outcome::Lost { node: victim });
}
