//! Background jobs end to end: every verb and option on 1 and 3 nodes,
//! validation, cancel, wait timeout and end detection, progress, re-attach,
//! listing, and the "done when" checks (a where-clause update over
//! 100,000 records, a Lua UDF job on every matching record).
//!
//! Runs on an embedded cluster, or unchanged on a real one when
//! `AEROSPIKE_HOSTS` is set. Tests that control nodes or inject faults are in
//! `tests/embedded_background.rs`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use aerospike_blocking::background::{BackgroundTaskSession, DataSet};
use aerospike_blocking::operations::{self, list, map};
use aerospike_blocking::query::Filter;
use aerospike_blocking::task::{
    ExecuteTask, NodeJobState, Outcome, ParsedStatus, Progress, TaskKind, WaitOptions,
};
use aerospike_blocking::{
    exp, Bin, Client, Error, Expiration, IndexType, Key, Record, ResultCode, TimeoutPhase,
    UdfLanguage, Value, WritePolicy,
};
use aerospike_embedded::EmbeddedCluster;

mod common;

use common::{client_policy, test_seeds_n, unique_set, NAMESPACE as NS};

/// A client on the cluster under test, and the embedded cluster (if any)
/// kept alive for as long as the client.
struct Env {
    client: Client,
    _embedded: Option<EmbeddedCluster>,
}

/// `AEROSPIKE_HOSTS`, or an embedded cluster of `nodes` nodes.
fn env(nodes: usize) -> Env {
    let (seeds, embedded) = test_seeds_n(nodes);
    let client = Client::connect(&seeds, &client_policy()).expect("client connects");
    Env {
        client,
        _embedded: embedded,
    }
}

impl Env {
    fn bg(&self) -> BackgroundTaskSession {
        self.client.session().background_task()
    }

    /// Every record of `set`, read back with a foreground query.
    fn all(&self, set: &str) -> Vec<Record> {
        self.client.query(&ds(set)).records().unwrap()
    }

    fn node_count(&self) -> usize {
        self.client.nodes().len()
    }
}

fn ds(set: &str) -> DataSet {
    DataSet::of(NS, set)
}

/// Writes `n` records (keys `0..n`) from 4 threads: i = key, age = key % 50,
/// active = key even, name = "n<key>".
fn load(client: &Client, set: &str, n: i64) {
    const THREADS: i64 = 4;
    std::thread::scope(|s| {
        for t in 0..THREADS {
            s.spawn(move || {
                let wp = WritePolicy::default();
                for i in (t..n).step_by(THREADS as usize) {
                    let bins = [
                        Bin::new("i", i),
                        Bin::new("age", i % 50),
                        Bin::new("active", i % 2 == 0),
                        Bin::new("name", format!("n{i}")),
                    ];
                    client
                        .put(&wp, &Key::new(NS, set, i).unwrap(), &bins)
                        .unwrap();
                }
            });
        }
    });
}

fn int(r: &Record, bin: &str) -> Option<i64> {
    r.bin(bin).and_then(Value::as_int)
}

fn quick() -> WaitOptions {
    WaitOptions::default()
        .poll_interval(Duration::from_millis(50))
        .timeout(Duration::from_secs(60))
}

/// Runs a test function once on a 1-node and once on a 3-node cluster.
macro_rules! on_1_and_3_nodes {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[test]
            fn one_node() {
                super::$name(1);
            }
            #[test]
            fn three_nodes() {
                super::$name(3);
            }
        }
    )*};
}

on_1_and_3_nodes!(
    update_with_where_clause,
    index_filter_combines_with_where_clause,
    delete_and_touch_with_expiry,
    keep_and_default_expiry,
    write_operations_of_every_kind,
    exp_write_computes_a_bin_on_every_record,
    udf_job_runs_lua_on_every_matching_record,
    udf_errors_make_the_outcome_failed,
    validation_errors_are_reported_before_sending,
    server_refusals_name_every_node_and_stop_nothing,
    missing_set_counts_as_started_and_completes,
    cancel_stops_the_job_and_records_stop_changing,
    wait_returns_within_one_poll_interval_of_the_end,
    wait_timeout_progress_reattach_and_listing,
);

/// Updates the records matching `$.active == true and $.age < 20` in a set
/// of `n` records and checks every record: the matching ones changed, the
/// others did not. 40% of the keys are even and 40% of those have age < 20:
/// `n / 5` records match.
fn where_clause_update_changes_exactly_the_matching_records(e: &Env, n: i64) {
    let set = unique_set("bg_where");
    load(&e.client, &set, n);
    let task = e
        .bg()
        .update(&ds(&set))
        .where_ael("$.active == true and $.age < 20")
        .bin("flag")
        .set_to(1)
        .bin("i")
        .add(1_000_000)
        .bin("name")
        .append("!")
        .execute()
        .unwrap();
    assert_eq!(task.kind(), TaskKind::QueryExecute);
    assert_eq!(task.nodes().len(), e.node_count());
    let opts = WaitOptions::default()
        .poll_interval(Duration::from_millis(100))
        .timeout(Duration::from_secs(300));
    assert_eq!(task.wait(opts).unwrap(), Outcome::Completed);

    let recs = e.all(&set);
    assert_eq!(recs.len(), n as usize);
    let mut seen = HashSet::new();
    for r in &recs {
        let i = int(r, "i").unwrap();
        let orig = i % 1_000_000;
        let matches = orig % 2 == 0 && orig % 50 < 20;
        assert!(seen.insert(orig), "record {orig} read twice");
        assert_eq!(int(r, "flag"), matches.then_some(1), "record {orig}");
        assert_eq!(i >= 1_000_000, matches, "record {orig}");
        let name = r.bin("name").and_then(Value::as_str).unwrap();
        let want = if matches {
            format!("n{orig}!")
        } else {
            format!("n{orig}")
        };
        assert_eq!(name, want);
        // Bins the job does not name are untouched.
        assert_eq!(int(r, "age"), Some(orig % 50));
    }
    let p = task.progress().unwrap();
    assert_eq!(p.succeeded, (n / 5) as u64);
    assert_eq!(p.failed, 0);
    // Every record the where-clause refused is counted as filtered.
    assert_eq!(p.filtered_bins + p.filtered_meta, (n - n / 5) as u64);
    assert!(p.is_done());
}

fn update_with_where_clause(nodes: usize) {
    where_clause_update_changes_exactly_the_matching_records(&env(nodes), 200);
}

/// Done when (1): 100,000 records on a 3-node cluster.
#[test]
fn update_with_where_clause_over_100_000_records_on_three_nodes() {
    where_clause_update_changes_exactly_the_matching_records(&env(3), 100_000);
}

fn index_filter_combines_with_where_clause(nodes: usize) {
    let e = env(nodes);
    let set = unique_set("bg_idx");
    load(&e.client, &set, 200);
    let index = format!("idx_{set}");
    e.client
        .create_index(NS, &set, &index, "age", IndexType::Numeric)
        .unwrap();
    let task = e
        .bg()
        .update(&ds(&set))
        .index_filter(Filter::range("age", 10, 19))
        .where_ael("$.active == true")
        .bin("s")
        .set_to("hit")
        .execute()
        .unwrap();
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
    let mut hits: Vec<i64> = e
        .all(&set)
        .iter()
        .filter(|r| r.bin("s").is_some())
        .map(|r| int(r, "i").unwrap())
        .collect();
    hits.sort_unstable();
    let want: Vec<i64> = (0..200)
        .filter(|i| (10..20).contains(&(i % 50)) && i % 2 == 0)
        .collect();
    assert_eq!(hits, want);
    // A foreground query through the same index sees the same records.
    let q = e
        .client
        .query(&ds(&set))
        .filter(Filter::equal("age", 12))
        .records()
        .unwrap();
    assert_eq!(q.len(), 4);
    assert!(q.iter().all(|r| r.bin("s").is_some()));
    e.client.drop_index(NS, &set, &index).unwrap();
}

fn delete_and_touch_with_expiry(nodes: usize) {
    let e = env(nodes);
    let set = unique_set("bg_del");
    load(&e.client, &set, 100);
    let del = e
        .bg()
        .delete(&ds(&set))
        .filter_expression(exp::lt(exp::int_bin("i"), exp::int_val(30)))
        .durable_delete(false)
        .execute()
        .unwrap();
    assert_eq!(del.wait(quick()).unwrap(), Outcome::Completed);
    let mut left: Vec<i64> = e.all(&set).iter().map(|r| int(r, "i").unwrap()).collect();
    left.sort_unstable();
    assert_eq!(left, (30..100).collect::<Vec<_>>());

    // A durable delete job: Enterprise deletes; Community accepts the job,
    // which ends done(ok) having failed every record it selected.
    let durable = e
        .bg()
        .delete(&ds(&set))
        .where_ael("$.i < 40")
        .durable_delete(true)
        .execute()
        .unwrap();
    let outcome = durable.wait(quick()).unwrap();
    let remaining = e.all(&set).len();
    if e.client.info("edition").unwrap().contains("Enterprise") {
        assert_eq!((outcome, remaining), (Outcome::Completed, 60));
    } else {
        // The nodes say done(ok); the client reports the failed records.
        let failed = Outcome::Failed {
            succeeded: 0,
            failed: 10,
        };
        assert_eq!((outcome, remaining), (failed, 70));
    }
    let plain = e
        .bg()
        .delete(&ds(&set))
        .where_ael("$.i < 40")
        .execute()
        .unwrap();
    assert_eq!(plain.wait(quick()).unwrap(), Outcome::Completed);
    assert_eq!(e.all(&set).len(), 60);

    let touch = e
        .bg()
        .touch(&ds(&set))
        .where_ael("$.i < 60")
        .expire_record_after(Duration::from_secs(7200))
        .execute()
        .unwrap();
    assert_eq!(touch.wait(quick()).unwrap(), Outcome::Completed);
    for r in e.all(&set) {
        let ttl = r.ttl();
        if int(&r, "i").unwrap() < 60 {
            let ttl = ttl.expect("touched records expire");
            assert!((7100..=7200).contains(&ttl), "ttl {ttl}");
        } else {
            assert!(
                ttl.is_none_or(|t| t > 7200),
                "untouched record: ttl {ttl:?}"
            );
        }
    }
    let never = e.bg().touch(&ds(&set)).never_expire().execute().unwrap();
    assert_eq!(never.wait(quick()).unwrap(), Outcome::Completed);
    assert!(e.all(&set).iter().all(|r| r.ttl().is_none()));
}

/// `keep_expiry` leaves each record's TTL as it was; `default_expiry` gives
/// it the namespace default, as a fresh write gets.
fn keep_and_default_expiry(nodes: usize) {
    let e = env(nodes);
    let set = unique_set("bg_ttl");
    load(&e.client, &set, 30);
    let fresh_ttl = e.all(&set)[0].ttl();
    let run = |b: aerospike_blocking::background::BackgroundOperationBuilder| {
        assert_eq!(
            b.execute().unwrap().wait(quick()).unwrap(),
            Outcome::Completed
        );
    };
    let ttls = || -> Vec<Option<u32>> { e.all(&set).iter().map(Record::ttl).collect() };
    let near = |ttl: Option<u32>, want: Option<u32>| match (ttl, want) {
        (Some(t), Some(w)) => t <= w && t + 100 >= w,
        (t, w) => t == w,
    };
    run(e
        .bg()
        .touch(&ds(&set))
        .expire_record_after(Duration::from_secs(7200)));
    run(e.bg().update(&ds(&set)).bin("k").set_to(1).keep_expiry());
    let kept = ttls();
    assert!(kept.iter().all(|t| near(*t, Some(7200))), "{kept:?}");
    run(e.bg().update(&ds(&set)).bin("d").set_to(1).default_expiry());
    let defaulted = ttls();
    assert!(
        defaulted.iter().all(|t| near(*t, fresh_ttl)),
        "{defaulted:?}, a fresh record has {fresh_ttl:?}"
    );
    assert!(e
        .all(&set)
        .iter()
        .all(|r| int(r, "k") == Some(1) && int(r, "d") == Some(1)));
}

fn write_operations_of_every_kind(nodes: usize) {
    let e = env(nodes);
    let set = unique_set("bg_ops");
    load(&e.client, &set, 40);
    let task = e
        .bg()
        .update(&ds(&set))
        .where_ael("$.i >= 10")
        .bin("name")
        .prepend(">")
        .bin("active")
        .remove()
        .operation(operations::put("l", Value::List(vec![Value::from(1)])))
        .operation(list::append("l", 2))
        .operation(map::put(&map::MapPolicy::default(), "m", "k", 3))
        .keep_expiry()
        .execute()
        .unwrap();
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
    let recs = e.all(&set);
    assert_eq!(recs.len(), 40);
    for r in recs {
        let i = int(&r, "i").unwrap();
        let name = r.bin("name").and_then(Value::as_str).unwrap();
        if i >= 10 {
            assert_eq!(name, format!(">n{i}"));
            assert!(r.bin("active").is_none());
            assert_eq!(
                r.bin("l"),
                Some(&Value::List(vec![Value::from(1), Value::from(2)]))
            );
            let m = r.bin("m").expect("map bin written");
            assert_eq!(m.map_get(&Value::from("k")), Some(&Value::from(3)), "{m:?}");
            assert_eq!(m.as_map().map(<[_]>::len), Some(1));
        } else {
            assert_eq!(name, format!("n{i}"));
            assert!(r.bin("active").is_some());
            assert!(r.bin("l").is_none() && r.bin("m").is_none());
        }
    }
}

/// An expression write in a background update: every record gets
/// `total = price * qty` computed from its own bins; records without `qty`
/// are skipped (EVAL_NO_FAIL) and keep no `total`.
fn exp_write_computes_a_bin_on_every_record(nodes: usize) {
    let e = env(nodes);
    let set = unique_set("bg_expw");
    let wp = WritePolicy::default();
    const N: i64 = 300;
    for i in 0..N {
        let key = Key::new(NS, &set, i).unwrap();
        let mut bins = vec![Bin::new("i", i), Bin::new("price", i * 3)];
        if i % 10 != 0 {
            bins.push(Bin::new("qty", i % 7 + 1));
        }
        e.client.put(&wp, &key, &bins).unwrap();
    }
    let total = exp::Expression::from_ael_value("$.price * $.qty").unwrap();
    let flags = operations::ExpWriteFlags::EVAL_NO_FAIL;
    let task = e
        .bg()
        .update(&ds(&set))
        .operation(operations::exp_write("total", &total, flags))
        .execute()
        .unwrap();
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
    let recs = e.all(&set);
    assert_eq!(recs.len(), N as usize);
    for r in recs {
        let i = int(&r, "i").unwrap();
        let expected = (i % 10 != 0).then(|| i * 3 * (i % 7 + 1));
        assert_eq!(int(&r, "total"), expected, "record {i}");
        assert_eq!(r.bin("total").is_some(), expected.is_some(), "record {i}");
    }
}

/// Done when (4): a real Lua module, run by a background job, on every
/// matching record and none of the others.
fn udf_job_runs_lua_on_every_matching_record(nodes: usize) {
    let e = env(nodes);
    let set = unique_set("bg_udf");
    load(&e.client, &set, 3_000);
    let code = "\
function score(rec, name, base)
  local v = base + rec['i'] * 2
  if rec['active'] then v = v + 1 end
  rec[name] = v
  aerospike:update(rec)
end
";
    let (module, package) = register_module(&e, &set, code);
    let task = e
        .bg()
        .execute_udf(&ds(&set))
        .function(&package, "score")
        .passing(["u"])
        .arg(7)
        .where_ael("$.age >= 30")
        .execute()
        .unwrap();
    assert_eq!(task.kind(), TaskKind::QueryUdf);
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
    let recs = e.all(&set);
    assert_eq!(recs.len(), 3_000);
    for r in &recs {
        let i = int(r, "i").unwrap();
        let want = (i % 50 >= 30).then_some(7 + 2 * i + i64::from(i % 2 == 0));
        assert_eq!(int(r, "u"), want, "record {i}");
    }
    let p = task.progress().unwrap();
    assert_eq!(p.succeeded, 1_200);
    assert_eq!(p.failed, 0);
    e.client.remove_udf(&module).unwrap();
}

/// Registers `code` as a module named after `set` (unique per test run);
/// returns its file name (for removal) and its package name (for calls).
fn register_module(e: &Env, set: &str, code: &str) -> (String, String) {
    let module = format!("{set}.lua");
    e.client
        .register_udf_bytes(&module, code.as_bytes(), UdfLanguage::Lua)
        .unwrap();
    (module, set.to_owned())
}

/// Records on which the Lua function raises an error are counted as failed
/// and the outcome says so.
fn udf_errors_make_the_outcome_failed(nodes: usize) {
    let e = env(nodes);
    let set = unique_set("bg_udf_err");
    load(&e.client, &set, 100);
    let code = "\
function odd_only(rec)
  if rec['i'] % 2 == 0 then error('even record') end
  rec['odd'] = 1
  aerospike:update(rec)
end
";
    let (module, package) = register_module(&e, &set, code);
    let task = e
        .bg()
        .execute_udf(&ds(&set))
        .function(&package, "odd_only")
        .execute()
        .unwrap();
    let outcome = task.wait(quick()).unwrap();
    assert_eq!(
        outcome,
        Outcome::Failed {
            succeeded: 50,
            failed: 50
        }
    );
    assert!(!outcome.is_success());
    let odd: Vec<i64> = e
        .all(&set)
        .iter()
        .filter(|r| int(r, "odd") == Some(1))
        .map(|r| int(r, "i").unwrap())
        .collect();
    assert_eq!(odd.len(), 50);
    assert!(odd.iter().all(|i| i % 2 == 1));
    e.client.remove_udf(&module).unwrap();
}

fn validation_errors_are_reported_before_sending(nodes: usize) {
    let e = env(nodes);
    let set = unique_set("bg_invalid");
    let d = ds(&set);
    let bg = e.bg();
    let check = |r: Result<ExecuteTask, Error>, needle: &str| match r {
        Err(Error::InvalidArgument(m)) => assert!(m.contains(needle), "{m} lacks {needle}"),
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("accepted; expected an error about {needle}"),
    };
    check(bg.update(&d).execute(), "at least one bin operation");
    check(
        bg.update(&d).operation(operations::get_bin("i")).execute(),
        "read operation",
    );
    check(
        bg.update(&d).operation(list::size("l")).execute(),
        "read operation",
    );
    let sum = exp::Expression::from_ael_value("$.i + 1").unwrap();
    let read = operations::exp_read("s", &sum, operations::ExpReadFlags::DEFAULT);
    check(bg.update(&d).operation(read).execute(), "read operation");
    check(
        bg.delete(&d).bin("a").set_to(1).execute(),
        "no bin operations",
    );
    check(
        bg.touch(&d).operation(operations::put("a", 1)).execute(),
        "no bin operations",
    );
    check(
        bg.execute_udf(&d).function("", "f").execute(),
        "UDF package",
    );
    check(
        bg.execute_udf(&d).function("p", "").execute(),
        "UDF package",
    );
    let upd = || bg.update(&d).bin("a").set_to(1);
    check(
        upd().records_per_second(10_001).execute(),
        "records_per_second",
    );
    check(
        bg.execute_udf(&d)
            .function("p", "f")
            .records_per_second(20_000)
            .execute(),
        "records_per_second",
    );
    check(
        bg.update(&ds(&"s".repeat(64))).bin("a").set_to(1).execute(),
        "set name",
    );
    check(
        bg.update(&DataSet::of(&"n".repeat(32), &set))
            .bin("a")
            .set_to(1)
            .execute(),
        "namespace",
    );
    check(upd().task_id(0).execute(), "task id");
    check(
        bg.update(&d)
            .bin("a_very_long_bin_name")
            .set_to(1)
            .execute(),
        "bin name",
    );
    check(
        bg.touch(&d).expire_record_after(Duration::ZERO).execute(),
        "expire_record_after",
    );
    // A real server fails every record of a job whose TTL is over 10 years.
    check(
        bg.touch(&d)
            .expire_record_after(Duration::from_secs(u64::from(Expiration::MAX_SECONDS) + 1))
            .execute(),
        "10 years",
    );
    check(
        upd().index_filter(Filter::range("a", 5, 1)).execute(),
        "empty",
    );
    assert!(matches!(
        upd().where_ael("$.a ==").execute(),
        Err(Error::Expression { .. })
    ));
    // Nothing was started anywhere.
    assert!(e
        .client
        .list_jobs()
        .unwrap()
        .iter()
        .all(|(_, j)| j.set != set));
}

/// The result code every node refused a start with.
fn refused_everywhere(e: &Env, r: Result<ExecuteTask, Error>) -> ResultCode {
    let err = r.expect_err("the start is refused");
    let Error::PerNode { summary, outcomes } = &err else {
        panic!("{err}")
    };
    let n = e.node_count();
    assert!(
        summary.contains(&format!("failed to start on {n} of {n} nodes")),
        "{summary}"
    );
    let codes: HashSet<_> = outcomes
        .iter()
        .map(|(_, o)| o.as_ref().expect("refused").result_code().unwrap())
        .collect();
    assert_eq!(codes.len(), 1, "{outcomes:?}");
    codes.into_iter().next().unwrap()
}

/// What only the server can check: an unknown namespace, a missing index,
/// a task id still in use. Each node's refusal is reported, and a refused
/// start stops nothing: the job that owns the reused id runs on.
fn server_refusals_name_every_node_and_stop_nothing(nodes: usize) {
    let e = env(nodes);
    let set = unique_set("bg_refused");
    let upd = |d: &DataSet| e.bg().update(d).bin("a").set_to(1);
    let code = refused_everywhere(&e, upd(&DataSet::of("nosuchns", &set)).execute());
    assert_eq!(code, ResultCode::INVALID_NAMESPACE);

    let id = 0x1d5e_0000_0000_0000 | (u64::from(std::process::id()) << 8) | nodes as u64;
    let first = slow_job(&e, &set, 200, 100, Some(id));
    let code = refused_everywhere(&e, upd(&ds(&set)).task_id(id).execute());
    assert_eq!(code, ResultCode::PARAMETER_ERROR);
    let code = refused_everywhere(
        &e,
        upd(&ds(&set))
            .index_filter(Filter::range("nosuchbin", 1, 2))
            .execute(),
    );
    assert_eq!(code, ResultCode::INDEX_NOT_FOUND);
    assert_eq!(first.wait(quick()).unwrap(), Outcome::Completed);
    assert_eq!(changed(&e, &set), 200);
    assert!(e.all(&set).iter().all(|r| r.bin("a").is_none()));
}

fn missing_set_counts_as_started_and_completes(nodes: usize) {
    let e = env(nodes);
    let set = unique_set("bg_none");
    let task = e
        .bg()
        .update(&ds(&set))
        .bin("a")
        .set_to(1)
        .execute()
        .unwrap();
    // Every node answered KEY_NOT_FOUND (rc 2): nothing to do, no job there.
    let p = task.progress().unwrap();
    assert_eq!(p.nodes.len(), e.node_count());
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

/// A job slow enough to observe: `n` records at `rps` per node, each
/// getting `slow += 1`.
fn slow_job(e: &Env, set: &str, n: i64, rps: u32, task_id: Option<u64>) -> ExecuteTask {
    load(&e.client, set, n);
    let b = e
        .bg()
        .update(&ds(set))
        .bin("slow")
        .add(1)
        .records_per_second(rps);
    match task_id {
        Some(id) => b.task_id(id),
        None => b,
    }
    .execute()
    .unwrap()
}

/// How many records of `set` the slow job has changed.
fn changed(e: &Env, set: &str) -> usize {
    e.all(set)
        .iter()
        .filter(|r| int(r, "slow") == Some(1))
        .count()
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
    assert!(changed(&e, &set) < 400);
}

/// Done when (3): cancel stops a running job, the outcome says aborted, and
/// records stop changing.
fn cancel_stops_the_job_and_records_stop_changing(nodes: usize) {
    let e = env(nodes);
    let set = unique_set("bg_cancel");
    let task = slow_job(&e, &set, 600, 50, None);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(task.status().unwrap(), ParsedStatus::InProgress);
    task.cancel().unwrap();
    assert_eq!(task.wait(quick()).unwrap(), Outcome::AbortedByUser);
    let p = task.progress().unwrap();
    assert_eq!(p.status, "aborted by user");
    assert_eq!(p.outcome(), Some(Outcome::AbortedByUser));
    let after_cancel = changed(&e, &set);
    assert!(
        after_cancel > 0,
        "the job ran for a while before the cancel"
    );
    assert!(after_cancel < 600, "{after_cancel}");
    assert_eq!(p.succeeded, after_cancel as u64);
    // Long after the cancel, nothing more has changed.
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(changed(&e, &set), after_cancel);
    assert_eq!(task.progress().unwrap().succeeded, after_cancel as u64);
    // Cancelling a finished job is fine.
    task.cancel().unwrap();
}

/// How long after the job's end (as the nodes report it: the smallest
/// `time-since-done` of `query-show`) `wait` returned, given that the
/// progress was read `asked` after `wait` returned.
fn lateness(task: &ExecuteTask, asked: Instant) -> Duration {
    let p: Progress = task.progress().unwrap();
    let since_end = p
        .nodes
        .iter()
        .filter_map(|n| n.info.as_ref().map(|i| i.time_since_done))
        .min()
        .expect("every node ran the job");
    since_end.saturating_sub(asked.elapsed())
}

/// Done when (2): `wait()` returns within one poll interval of the job's
/// end. Two jobs: one watched with `wait`, where the lateness is measured
/// against the nodes' `time-since-done`; one with `wait_with_progress`, where
/// the time between polls is measured as well (it must never exceed the
/// interval once the back-off has ramped up).
fn wait_returns_within_one_poll_interval_of_the_end(nodes: usize) {
    let e = env(nodes);
    let interval = Duration::from_millis(100);
    // The status round trip, timer granularity and scheduling jitter: tests
    // run in parallel on small CI machines (2 CPUs), where a sleep can
    // overshoot by tens of milliseconds. A wait that polled 3x more sparsely
    // than asked, or slept a fixed second (the official client), still fails.
    // The <= 5 ms end-detection figure is measured by the benchmark
    // (docs/performance.md), not here.
    let slack = interval;
    let n = 90 * e.node_count() as i64;
    let opts = WaitOptions::default().poll_interval(interval);

    let task = slow_job(&e, &unique_set("bg_end"), n, 60, None);
    assert_eq!(task.wait(opts).unwrap(), Outcome::Completed);
    let late = lateness(&task, Instant::now());
    assert!(
        late <= interval + slack,
        "wait returned {late:?} after the job ended (poll interval {interval:?})"
    );

    let task = slow_job(&e, &unique_set("bg_end"), n, 60, None);
    let start = Instant::now();
    let mut polls = Vec::new();
    let outcome = task
        .wait_with_progress(opts, |_| polls.push(Instant::now()))
        .unwrap();
    let returned = Instant::now();
    assert_eq!(outcome, Outcome::Completed);
    assert!(
        returned - start > 5 * interval,
        "the job was long enough to need many polls"
    );
    let gaps: Vec<Duration> = polls.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().all(|g| *g <= interval + slack),
        "polls were further apart than the interval: {gaps:?}"
    );
    let late = lateness(&task, returned);
    assert!(late <= interval + slack, "{late:?}");
    // At most one status request per node per poll (a node whose job is
    // over is not asked again), and no more polls than the 1, 2, 4, ... ms
    // ramp up to the interval, one per interval after it, and the polls near
    // the end the nodes' progress predicts (closing in on it by thirds from
    // the interval down to 2 ms, then 2, 4, ... ms after it while the last
    // partitions run: at most 16 polls at 1/64 of the run time, then the
    // doubling up to the interval).
    let nodes = task.nodes().len() as u64;
    let sent = task.status_requests();
    let poll_count = polls.len() as u64;
    assert!(
        sent >= poll_count && sent <= poll_count * nodes,
        "{sent} requests in {poll_count} polls of {nodes} nodes"
    );
    let ramp = 8; // 1 + 2 + ... + 64 ms < 100 ms
    let near_end = 10 + 6 + 16; // log1.5(100 ms / 2 ms) = 9.6
    let most = ramp + (returned - start).as_millis() as u64 / 100 + 2 + near_end;
    assert!(
        (polls.len() as u64) <= most,
        "{} polls in {:?}",
        polls.len(),
        returned - start
    );
}

fn wait_timeout_progress_reattach_and_listing(nodes: usize) {
    let e = env(nodes);
    let set = unique_set("bg_wait");
    let id = 0x5eed_0000_0000_0000 | (u64::from(std::process::id()) << 8) | nodes as u64;
    let n = 300;
    let task = slow_job(&e, &set, n, 100, Some(id));
    assert_eq!(task.task_id(), id);
    assert_eq!(task.nodes().len(), e.node_count());
    let before = Instant::now();
    let err = task
        .wait(WaitOptions::default().timeout(Duration::from_millis(200)))
        .unwrap_err();
    assert!(before.elapsed() < Duration::from_millis(1_000));
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
    assert!(err.to_string().contains("still running"), "{err}");

    let p = task.progress().unwrap();
    assert_eq!(p.nodes.len(), e.node_count());
    assert!(!p.is_done());
    assert!(p.percent < 100.0);
    assert!(p.status.starts_with("running"), "{}", p.status);
    assert_eq!(p.outcome(), None);

    let listed = e.client.list_jobs().unwrap();
    let mine: Vec<_> = listed.iter().filter(|(_, j)| j.task_id == id).collect();
    assert_eq!(mine.len(), e.node_count(), "one row per node");
    assert!(mine
        .iter()
        .all(|(_, j)| j.set == set && j.records_per_second == 100));
    let via_session = e.client.session().jobs().unwrap();
    assert_eq!(
        via_session.iter().filter(|(_, j)| j.task_id == id).count(),
        e.node_count()
    );

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
    assert_eq!(last_pct, 100.0);
    let p = again.progress().unwrap();
    assert_eq!(p.succeeded, n as u64);
    assert_eq!(p.percent, 100.0);
    // The rate limit was applied, and each node took its time.
    assert!(p.throttled > 0, "{p:?}");
    assert!(p.run_time >= Duration::from_millis(500), "{:?}", p.run_time);
    assert_eq!(changed(&e, &set), n as usize);
    // The original handle sees the same end.
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
}

#[test]
fn single_node_job_covers_only_that_nodes_partitions() {
    let e = env(3);
    let set = unique_set("bg_one");
    load(&e.client, &set, 300);
    let node = e.client.nodes()[0].name.clone();
    let task = e
        .bg()
        .update(&ds(&set))
        .on_node(&node)
        .bin("mark")
        .set_to(1)
        .execute()
        .unwrap();
    assert_eq!(task.node_name(), Some(node.as_str()));
    assert_eq!(task.nodes(), vec![node.clone()]);
    assert_eq!(task.wait(quick()).unwrap(), Outcome::Completed);
    let marked = e
        .all(&set)
        .iter()
        .filter(|r| r.bin("mark").is_some())
        .count();
    if e.node_count() > 1 {
        assert!(marked > 0 && marked < 300, "{marked}");
    } else {
        assert_eq!(marked, 300);
    }
    assert_eq!(task.progress().unwrap().succeeded, marked as u64);
    let err = e
        .bg()
        .touch(&ds(&set))
        .on_node("NO_SUCH_NODE")
        .execute()
        .unwrap_err();
    assert!(matches!(err, Error::NoNode(_)), "{err}");
}
