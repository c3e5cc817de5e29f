//! The job table of an embedded node (`query-show`, `query-abort`,
//! `query-abort-all`) and the threads that run background jobs.
//!
//! Like the server's query manager, a node keeps its active jobs and up to
//! `query-max-done` finished ones (the oldest is evicted first). A job id
//! (trid) may not be reused while either list holds it. A background job
//! walks the partitions this node masters in order, one record at a time,
//! holding its records-per-second budget and checking for an abort between
//! records.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::ctx::{NodeCtx, NodeStats, Shared};
use super::kv;
use super::query::{Filter, Selection};
use super::store::{now_citrusleaf, Namespace, PARTITIONS};
use super::udf::{self, UdfCall, UdfRegistry};
use aerospike_proto::wire::info::parse_pairs;
use aerospike_proto::wire::message::{Header, Op};
use aerospike_proto::ResultCode;
use aerospike_proto::Value;

/// Size of the one reply a background job sends (its start answer).
const FIN_SIZE: u64 = 30;
/// The socket timeout the server reports for background jobs (its default).
const BACKGROUND_SOCKET_TIMEOUT_MS: u32 = 10_000;
/// Most jobs a node runs at once (the server's `query-threads-limit`; each
/// job here has one thread).
const QUERY_THREADS_LIMIT: usize = 128;
/// Longest single sleep of the throttle, so aborts are noticed quickly.
const THROTTLE_SLICE: Duration = Duration::from_millis(10);

/// What a job does, with what `query-show` reports about its kind.
#[derive(Debug, Clone)]
pub(crate) enum JobKind {
    /// A foreground scan or query streaming records back.
    Basic {
        n_pids: usize,
        n_keyds: usize,
        socket_timeout: u32,
    },
    /// A stream UDF (aggregation) query.
    Aggregation { socket_timeout: u32 },
    /// A background job applying write operations.
    Ops,
    /// A background job applying a record UDF.
    Udf { module: String, function: String },
}

impl JobKind {
    fn name(&self) -> &'static str {
        match self {
            JobKind::Basic { .. } => "basic",
            JobKind::Aggregation { .. } => "aggregation",
            JobKind::Ops => "background-ops",
            JobKind::Udf { .. } => "background-udf",
        }
    }
}

/// Why a job ended early: the text in parentheses after `active`/`done`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Abandon {
    None = 0,
    Unknown = 1,
    UserAborted = 2,
    ResponseError = 3,
}

impl Abandon {
    fn from_u8(v: u8) -> Self {
        match v {
            1 => Abandon::Unknown,
            2 => Abandon::UserAborted,
            3 => Abandon::ResponseError,
            _ => Abandon::None,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Abandon::None => "ok",
            Abandon::Unknown => "abandoned-unknown",
            Abandon::UserAborted => "user-aborted",
            Abandon::ResponseError => "abandoned-response-error",
        }
    }
}

/// One job and its live counters.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) trid: u64,
    pub(crate) ns: String,
    pub(crate) set: String,
    pub(crate) sindex: Option<String>,
    /// Records per second (0 = unthrottled).
    pub(crate) rps: u32,
    pub(crate) kind: JobKind,
    /// Client address, `127.0.0.1+port` (colons replaced as the server does).
    from: String,
    start: Instant,
    finished: Mutex<Option<Instant>>,
    abandoned: AtomicU8,
    /// Partitions claimed so far (progress is this over 4096).
    next_pid: AtomicU32,
    threads: AtomicU32,
    pub(crate) throttled: AtomicU64,
    pub(crate) filtered_meta: AtomicU64,
    pub(crate) filtered_bins: AtomicU64,
    pub(crate) succeeded: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) net_io_bytes: AtomicU64,
    /// Record transactions in progress (`ops-active` / `udf-active`).
    in_flight: AtomicU32,
}

impl Job {
    /// A job that starts now with one thread.
    pub(crate) fn new(
        trid: u64,
        ns: &str,
        set: &str,
        sindex: Option<String>,
        rps: u32,
        kind: JobKind,
        from: Option<std::net::SocketAddr>,
    ) -> Self {
        let from = from.map_or_else(
            || "127.0.0.1+0".to_owned(),
            |a| a.to_string().replace(':', "+"),
        );
        Job {
            trid,
            ns: ns.to_owned(),
            set: set.to_owned(),
            sindex,
            rps,
            kind,
            from,
            start: Instant::now(),
            finished: Mutex::new(None),
            abandoned: AtomicU8::new(0),
            next_pid: AtomicU32::new(0),
            threads: AtomicU32::new(1),
            throttled: AtomicU64::new(0),
            filtered_meta: AtomicU64::new(0),
            filtered_bins: AtomicU64::new(0),
            succeeded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            net_io_bytes: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
        }
    }

    /// Why the job was abandoned, `Abandon::None` while it is not.
    pub(crate) fn abandoned(&self) -> Abandon {
        Abandon::from_u8(self.abandoned.load(Ordering::Acquire))
    }

    /// Marks the job abandoned; its threads stop at the next record.
    pub(crate) fn abandon(&self, why: Abandon) {
        self.abandoned.store(why as u8, Ordering::Release);
    }

    /// Records that partition `pid` is being worked on.
    pub(crate) fn claim_partition(&self, pid: usize) {
        self.next_pid.store(pid as u32 + 1, Ordering::Relaxed);
    }

    /// Waits as long as the records-per-second budget requires before the
    /// next record, counting it in `recs-throttled`. Returns early when the
    /// job is abandoned. A job with rps 0 is not throttled.
    pub(crate) fn throttle(&self) {
        if self.rps == 0 {
            return;
        }
        let count = self.throttled.fetch_add(1, Ordering::Relaxed) + 1;
        let target = self.start + Duration::from_micros(count * 1_000_000 / u64::from(self.rps));
        loop {
            let now = Instant::now();
            if now >= target || self.abandoned() != Abandon::None {
                return;
            }
            std::thread::sleep((target - now).min(THROTTLE_SLICE));
        }
    }

    fn progress(&self) -> f64 {
        let pid = self.next_pid.load(Ordering::Relaxed).min(PARTITIONS as u32);
        f64::from(pid) * 100.0 / PARTITIONS as f64
    }

    /// The job's `query-show` line.
    pub(crate) fn describe(&self) -> String {
        let now = Instant::now();
        let finished = *self.finished.lock();
        let run_ms = finished
            .unwrap_or(now)
            .duration_since(self.start)
            .as_millis();
        let since_done_ms = finished.map_or(0, |f| now.duration_since(f).as_millis());
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut s = format!("trid={}:ns={}:set={}", self.trid, self.ns, self.set);
        if let Some(si) = &self.sindex {
            s.push_str(&format!(":sindex-name={si}"));
        }
        if let JobKind::Basic {
            n_pids, n_keyds, ..
        } = &self.kind
        {
            if *n_pids != 0 {
                s.push_str(&format!(
                    ":n-pids-requested={n_pids}:n-keyds-requested={n_keyds}"
                ));
            }
        }
        s.push_str(&format!(
            ":rps={}:active-threads={}:status={}({}):job-progress={:.2}:run-time={}\
             :time-since-done={}:recs-throttled={}:recs-filtered-meta={}:recs-filtered-bins={}\
             :recs-succeeded={}:recs-failed={}:from={}:job-type={}",
            self.rps,
            self.threads.load(Ordering::Relaxed),
            if finished.is_some() { "done" } else { "active" },
            self.abandoned().text(),
            self.progress(),
            run_ms,
            since_done_ms,
            load(&self.throttled),
            load(&self.filtered_meta),
            load(&self.filtered_bins),
            load(&self.succeeded),
            load(&self.failed),
            self.from,
            self.kind.name(),
        ));
        let in_flight = self.in_flight.load(Ordering::Relaxed);
        match &self.kind {
            JobKind::Basic { socket_timeout, .. } | JobKind::Aggregation { socket_timeout } => {
                s.push_str(&format!(
                    ":net-io-bytes={}:net-io-time=0:socket-timeout={socket_timeout}",
                    load(&self.net_io_bytes)
                ));
            }
            JobKind::Ops => s.push_str(&format!(
                ":net-io-bytes={FIN_SIZE}:socket-timeout={BACKGROUND_SOCKET_TIMEOUT_MS}\
                 :ops-active={in_flight}"
            )),
            JobKind::Udf { module, function } => s.push_str(&format!(
                ":net-io-bytes={FIN_SIZE}:socket-timeout={BACKGROUND_SOCKET_TIMEOUT_MS}\
                 :udf-filename={module}:udf-function={function}:udf-active={in_flight}"
            )),
        }
        s
    }
}

#[derive(Debug, Default)]
struct Jobs {
    /// Oldest first.
    active: Vec<Arc<Job>>,
    /// Oldest first.
    finished: VecDeque<Arc<Job>>,
}

impl Jobs {
    fn find(&self, trid: u64) -> Option<&Arc<Job>> {
        self.active
            .iter()
            .chain(self.finished.iter())
            .find(|j| j.trid == trid)
    }
}

/// Moves `job` to the finished list, evicting the oldest beyond `max_done`.
fn finish_job(jobs: &Mutex<Jobs>, job: &Arc<Job>, max_done: usize) {
    let mut j = jobs.lock();
    j.active.retain(|a| !Arc::ptr_eq(a, job));
    job.next_pid.store(PARTITIONS as u32, Ordering::Relaxed);
    job.threads.store(0, Ordering::Relaxed);
    *job.finished.lock() = Some(Instant::now());
    j.finished.push_back(Arc::clone(job));
    while j.finished.len() > max_done {
        j.finished.pop_front();
    }
}

/// The jobs a node runs and remembers.
#[derive(Debug, Default)]
pub(crate) struct JobTable {
    jobs: Arc<Mutex<Jobs>>,
    last_trid: AtomicU32,
    /// `(namespace, set)` pairs this node has seen holding records. A
    /// server's set outlives its records (truncate, deletes) until restart.
    known_sets: Mutex<HashSet<(String, String)>>,
}

impl JobTable {
    /// True when this node has seen `set` of `ns` before, or `present` (does
    /// the set hold records now?) says so; a set seen once is remembered.
    pub(crate) fn set_known(&self, ns: &str, set: &str, present: impl FnOnce() -> bool) -> bool {
        let key = (ns.to_owned(), set.to_owned());
        if self.known_sets.lock().contains(&key) {
            return true;
        }
        let found = present();
        if found {
            self.known_sets.lock().insert(key);
        }
        found
    }

    /// A server-assigned job id for a request without one: 1, 2, ...
    pub(crate) fn assign_trid(&self) -> u64 {
        u64::from(self.last_trid.fetch_add(1, Ordering::Relaxed) + 1)
    }

    /// Registers an active job. Refused with FAIL_FORBIDDEN when the node
    /// already runs `query-threads-limit` jobs, with PARAMETER_ERROR when the
    /// trid is already active or retained.
    pub(crate) fn start(&self, job: Arc<Job>) -> Result<(), ResultCode> {
        let mut j = self.jobs.lock();
        if j.active.len() >= QUERY_THREADS_LIMIT {
            return Err(ResultCode::FAIL_FORBIDDEN);
        }
        if j.find(job.trid).is_some() {
            return Err(ResultCode::PARAMETER_ERROR);
        }
        j.active.push(job);
        Ok(())
    }

    /// Marks `job` done and retains it (up to `max_done` finished jobs).
    pub(crate) fn finish(&self, job: &Arc<Job>, max_done: usize) {
        finish_job(&self.jobs, job, max_done);
    }

    /// The active or retained job `trid`.
    pub(crate) fn find(&self, trid: u64) -> Option<Arc<Job>> {
        self.jobs.lock().find(trid).cloned()
    }

    /// Aborts active job `trid`; false when no active job has that id.
    pub(crate) fn abort(&self, trid: u64) -> bool {
        match self.jobs.lock().active.iter().find(|j| j.trid == trid) {
            Some(job) => {
                job.abandon(Abandon::UserAborted);
                true
            }
            None => false,
        }
    }

    /// Aborts every active job; returns how many there were.
    pub(crate) fn abort_all(&self) -> usize {
        let j = self.jobs.lock();
        for job in &j.active {
            job.abandon(Abandon::UserAborted);
        }
        j.active.len()
    }

    /// Every job, newest active first, then newest finished first.
    pub(crate) fn all(&self) -> Vec<Arc<Job>> {
        let j = self.jobs.lock();
        j.active
            .iter()
            .rev()
            .chain(j.finished.iter().rev())
            .cloned()
            .collect()
    }
}

impl Drop for JobTable {
    /// A node that goes away (stop, restart) takes its running jobs with it.
    fn drop(&mut self) {
        for job in &self.jobs.lock().active {
            job.abandon(Abandon::Unknown);
        }
    }
}

/// What a background job does to each selected record.
#[derive(Debug, Clone)]
pub(crate) enum Action {
    /// Write operations, applied with this header (WRITE, UPDATE_ONLY, the
    /// request's TTL and durable-delete bit).
    Ops { header: Header, ops: Vec<Op> },
    /// A record UDF with its arguments.
    Udf {
        module: String,
        function: String,
        args: Vec<Value>,
        /// The request's record TTL, applied to records the UDF updates.
        record_ttl: u32,
    },
}

/// Everything a background job's thread needs.
#[derive(Debug)]
pub(crate) struct Work {
    pub(crate) namespace: Arc<Namespace>,
    pub(crate) selection: Selection,
    /// Partitions this node masters, indexed by partition id.
    pub(crate) masters: Vec<bool>,
    pub(crate) filter: Option<Filter>,
    pub(crate) action: Action,
}

/// Registers `job` and starts its thread. Fails (with the job not started)
/// when its trid is already known to this node.
pub(crate) fn start_background(node: &NodeCtx, job: Job, work: Work) -> Result<(), ResultCode> {
    let job = Arc::new(job);
    node.jobs.start(Arc::clone(&job))?;
    let jobs = Arc::clone(&node.jobs.jobs);
    let shared = Arc::clone(&node.shared);
    let stats = Arc::clone(&node.stats);
    let spawned = std::thread::Builder::new()
        .name(format!("bg-job-{}", job.trid))
        .spawn({
            let job = Arc::clone(&job);
            move || {
                run_background(&job, &work, &shared, &stats);
                stats.bump(&work.namespace.config.name, job_outcome_stat(&job, &work));
                finish_job(&jobs, &job, shared.config.query_max_done);
            }
        });
    if spawned.is_err() {
        job.abandon(Abandon::Unknown);
        node.jobs.finish(&job, node.shared.config.query_max_done);
    }
    Ok(())
}

/// The namespace counter a finished background job adds to, under the
/// server's name (`pi_query_ops_bg_complete`, `si_query_udf_bg_abort`, ...).
fn job_outcome_stat(job: &Job, work: &Work) -> &'static str {
    let how = job.abandoned();
    match (work.selection.index.is_some(), &work.action, how) {
        (false, Action::Ops { .. }, Abandon::None) => "pi_query_ops_bg_complete",
        (false, Action::Ops { .. }, Abandon::UserAborted) => "pi_query_ops_bg_abort",
        (false, Action::Ops { .. }, _) => "pi_query_ops_bg_error",
        (false, Action::Udf { .. }, Abandon::None) => "pi_query_udf_bg_complete",
        (false, Action::Udf { .. }, Abandon::UserAborted) => "pi_query_udf_bg_abort",
        (false, Action::Udf { .. }, _) => "pi_query_udf_bg_error",
        (true, Action::Ops { .. }, Abandon::None) => "si_query_ops_bg_complete",
        (true, Action::Ops { .. }, Abandon::UserAborted) => "si_query_ops_bg_abort",
        (true, Action::Ops { .. }, _) => "si_query_ops_bg_error",
        (true, Action::Udf { .. }, Abandon::None) => "si_query_udf_bg_complete",
        (true, Action::Udf { .. }, Abandon::UserAborted) => "si_query_udf_bg_abort",
        (true, Action::Udf { .. }, _) => "si_query_udf_bg_error",
    }
}

fn run_background(job: &Job, work: &Work, shared: &Shared, stats: &NodeStats) {
    let ns = &work.namespace.config.name;
    for pid in 0..PARTITIONS {
        job.claim_partition(pid);
        if job.abandoned() != Abandon::None {
            return;
        }
        if !work.masters.get(pid).copied().unwrap_or(false) {
            continue;
        }
        let lock = work.namespace.partition(pid);
        let picked = work.selection.pick(&lock.read(), now_citrusleaf());
        for (digest, _) in picked {
            if job.abandoned() != Abandon::None {
                return;
            }
            job.throttle();
            job.in_flight.fetch_add(1, Ordering::Relaxed);
            let outcome = process_record(job, work, &shared.udfs, &mut lock.write(), &digest);
            job.in_flight.fetch_sub(1, Ordering::Relaxed);
            let Some(outcome) = outcome else {
                continue;
            };
            let counter = match outcome {
                Outcome::FilteredMeta => &job.filtered_meta,
                Outcome::FilteredBins => &job.filtered_bins,
                Outcome::Failed => &job.failed,
                Outcome::Written | Outcome::Deleted | Outcome::Unchanged => &job.succeeded,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            for stat in outcome.stats(&work.action) {
                stats.bump(ns, stat);
            }
        }
    }
}

/// What one record transaction of a background job came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The record was changed and kept.
    Written,
    /// The record was removed.
    Deleted,
    /// The transaction succeeded without changing the record.
    Unchanged,
    /// The filter expression rejected it from metadata, before any
    /// sub-transaction.
    FilteredMeta,
    /// The filter expression rejected it in the sub-transaction.
    FilteredBins,
    Failed,
}

impl Outcome {
    /// The namespace counters (the server's `ops_sub_*` and `udf_sub_*`
    /// names) this outcome adds to.
    fn stats(self, action: &Action) -> &'static [&'static str] {
        match (action, self) {
            (_, Outcome::FilteredMeta) => &[],
            (Action::Ops { .. }, Outcome::FilteredBins) => &["ops_sub_write_filtered_out"],
            (Action::Ops { .. }, Outcome::Failed) => &["ops_sub_write_error"],
            (Action::Ops { .. }, _) => &["ops_sub_write_success"],
            (Action::Udf { .. }, Outcome::FilteredBins) => &["udf_sub_udf_filtered_out"],
            (Action::Udf { .. }, Outcome::Failed) => &["udf_sub_udf_error", "udf_sub_lang_error"],
            (Action::Udf { .. }, Outcome::Written) => {
                &["udf_sub_udf_complete", "udf_sub_lang_write_success"]
            }
            (Action::Udf { .. }, Outcome::Deleted) => {
                &["udf_sub_udf_complete", "udf_sub_lang_delete_success"]
            }
            (Action::Udf { .. }, Outcome::Unchanged) => {
                &["udf_sub_udf_complete", "udf_sub_lang_read_success"]
            }
        }
    }
}

/// Runs one record transaction of a background job under its partition's
/// write lock; `None` when the record went away since it was picked.
fn process_record(
    job: &Job,
    work: &Work,
    udfs: &UdfRegistry,
    part: &mut super::store::Partition,
    digest: &[u8; 20],
) -> Option<Outcome> {
    let now = now_citrusleaf();
    let current = match part.get(digest) {
        Some(r) if !r.is_expired(now) && work.selection.accepts_set(&r.set) => r,
        _ => return None,
    };
    if let Some(f) = work
        .filter
        .as_ref()
        .filter(|f| f.rejects(job, current, digest, now).is_some())
    {
        return Some(if f.metadata_only {
            Outcome::FilteredMeta
        } else {
            Outcome::FilteredBins
        });
    }
    let set = current.set.clone();
    let mut rec = Some(current.clone());
    let ns = &work.namespace.config;
    let applied = match &work.action {
        Action::Ops { header, ops } => {
            kv::apply_ops(ns, &mut rec, &set, digest, header, ops, now).map(|_| ())
        }
        Action::Udf {
            module,
            function,
            args,
            record_ttl,
        } => {
            let call = UdfCall {
                module,
                function,
                args,
                set: &set,
                now,
                digest: Some(*digest),
                default_ttl: ns.default_ttl,
                record_ttl: *record_ttl,
            };
            udf::apply_call(udfs, &call, &mut rec)
                .map(|_| ())
                .map_err(|e| e.code)
        }
    };
    match applied {
        Ok(()) => Some(match rec {
            Some(r) if part.get(digest) == Some(&r) => Outcome::Unchanged,
            Some(r) => {
                part.insert(*digest, r);
                Outcome::Written
            }
            None => {
                part.remove(digest);
                Outcome::Deleted
            }
        }),
        Err(ResultCode::KEY_NOT_FOUND) => None,
        Err(ResultCode::FILTERED_OUT) => Some(Outcome::FilteredBins),
        Err(_) => Some(Outcome::Failed),
    }
}

/// Parses a job id the way the server's `strtoul(.., 0)` does: decimal,
/// `0x` hex or leading-zero octal, all of it, and not zero.
fn parse_id(v: &str) -> Result<u64, &'static str> {
    if v.is_empty() {
        return Err("ERROR:4:missing 'id' value");
    }
    let parsed = if let Some(hex) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16)
    } else if v.len() > 1 && v.starts_with('0') {
        u64::from_str_radix(&v[1..], 8)
    } else {
        v.parse::<u64>()
    };
    match parsed {
        Ok(id) if id != 0 => Ok(id),
        _ => Err("ERROR:4:bad id"),
    }
}

/// Answers the job info commands (`query-show`, `query-abort`,
/// `query-abort-all`); `None` when `name` is not one of them.
pub(crate) fn info(node: &NodeCtx, name: &str, args: &str) -> Option<String> {
    let pairs = parse_pairs(args, ';');
    let id = pairs
        .iter()
        .find(|(k, _)| *k == "id" || *k == "trid")
        .map(|(_, v)| parse_id(v));
    let answer = match (name, id) {
        ("query-show", None) => node
            .jobs
            .all()
            .iter()
            .map(|j| j.describe())
            .collect::<Vec<_>>()
            .join(";"),
        ("query-show", Some(Ok(id))) => match node.jobs.find(id) {
            Some(job) => job.describe(),
            None => "ERROR:2:job not found".to_owned(),
        },
        ("query-abort", None) => "ERROR:4:missing 'id'".to_owned(),
        ("query-abort", Some(Ok(id))) => {
            if node.jobs.abort(id) {
                "ok".to_owned()
            } else {
                "ERROR:2:id not active".to_owned()
            }
        }
        ("query-show" | "query-abort", Some(Err(e))) => e.to_owned(),
        ("query-abort-all", _) => {
            format!("number-of-queries-killed:{}", node.jobs.abort_all())
        }
        _ => return None,
    };
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(trid: u64) -> Arc<Job> {
        Arc::new(Job::new(trid, "test", "s", None, 0, JobKind::Ops, None))
    }

    #[test]
    fn ids_parse_like_strtoul() {
        assert_eq!(parse_id("6316017002451892993"), Ok(6316017002451892993));
        assert_eq!(parse_id("0x57a700000278fb01"), Ok(6316017002451892993));
        assert_eq!(parse_id("010"), Ok(8));
        assert_eq!(parse_id(""), Err("ERROR:4:missing 'id' value"));
        for bad in ["abc", "0", "12abc", "18446744073709551616", "-1"] {
            assert_eq!(parse_id(bad), Err("ERROR:4:bad id"), "{bad}");
        }
    }

    #[test]
    fn table_keeps_ids_unique_and_evicts_oldest() {
        let t = JobTable::default();
        let a = job(7);
        t.start(Arc::clone(&a)).unwrap();
        assert_eq!(t.start(job(7)), Err(ResultCode::PARAMETER_ERROR));
        t.finish(&a, 2);
        assert_eq!(t.start(job(7)), Err(ResultCode::PARAMETER_ERROR));
        for id in 8..11 {
            let j = job(id);
            t.start(Arc::clone(&j)).unwrap();
            t.finish(&j, 2);
        }
        let ids: Vec<u64> = t.all().iter().map(|j| j.trid).collect();
        assert_eq!(ids, vec![10, 9]);
        assert!(t.find(7).is_none());
        assert_eq!(t.assign_trid(), 1);
        assert_eq!(t.assign_trid(), 2);
    }

    #[test]
    fn too_many_active_jobs_are_refused() {
        let t = JobTable::default();
        for id in 1..=QUERY_THREADS_LIMIT as u64 {
            t.start(job(id)).unwrap();
        }
        assert_eq!(t.start(job(999)), Err(ResultCode::FAIL_FORBIDDEN));
        assert_eq!(t.abort_all(), QUERY_THREADS_LIMIT);
    }

    #[test]
    fn abort_marks_active_jobs_only() {
        let t = JobTable::default();
        let a = job(1);
        t.start(Arc::clone(&a)).unwrap();
        assert!(t.abort(1));
        assert!(a.describe().contains(":status=active(user-aborted):"));
        t.finish(&a, 100);
        assert!(!t.abort(1));
        assert_eq!(t.abort_all(), 0);
        let d = a.describe();
        assert!(
            d.contains(":status=done(user-aborted):job-progress=100.00:"),
            "{d}"
        );
    }

    #[test]
    fn describe_field_order() {
        let j = Job::new(
            5,
            "test",
            "bgops",
            Some("idx_age".into()),
            100,
            JobKind::Ops,
            Some("127.0.0.1:4000".parse().unwrap()),
        );
        let d = j.describe();
        let keys: Vec<&str> = d
            .split(':')
            .map(|kv| kv.split('=').next().unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "trid",
                "ns",
                "set",
                "sindex-name",
                "rps",
                "active-threads",
                "status",
                "job-progress",
                "run-time",
                "time-since-done",
                "recs-throttled",
                "recs-filtered-meta",
                "recs-filtered-bins",
                "recs-succeeded",
                "recs-failed",
                "from",
                "job-type",
                "net-io-bytes",
                "socket-timeout",
                "ops-active"
            ]
        );
        assert!(j.describe().contains(":from=127.0.0.1+4000:"));
    }

    #[test]
    fn throttle_holds_the_rate() {
        let j = Job::new(1, "test", "s", None, 200, JobKind::Ops, None);
        let t = Instant::now();
        for _ in 0..20 {
            j.throttle();
        }
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(95), "{took:?}");
        assert_eq!(j.throttled.load(Ordering::Relaxed), 20);
    }
}
