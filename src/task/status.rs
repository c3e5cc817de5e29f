//! Pure parsing of job status replies (`query-show`) and aggregation of the
//! per-node rows into one [`Progress`].
//!
//! A `query-show:id=<id>` reply is one colon-separated row:
//!
//! ```text
//! trid=..:ns=..:set=..[:sindex-name=..]:rps=..:active-threads=..:status=active(ok)
//! :job-progress=3.39:run-time=2:time-since-done=0:recs-throttled=22
//! :recs-filtered-meta=0:recs-filtered-bins=18:recs-succeeded=4:recs-failed=0
//! :from=127.0.0.1+60088:job-type=background-ops:net-io-bytes=30
//! :socket-timeout=10000:ops-active=0
//! ```
//!
//! `query-show` with no argument lists every retained job, rows separated by
//! `;`. Unknown jobs answer `ERROR:2:job not found`.

use std::fmt;
use std::time::Duration;

use crate::wire::info;
use crate::wire::DecodeError;
use crate::ResultCode;

/// What one node's status reply says about a job, as
/// [`ExecuteTask::parse_status_response`](crate::task::ExecuteTask::parse_status_response)
/// reads it.
///
/// ```
/// use aerospike_blocking::task::{ExecuteTask, ParsedStatus};
/// assert_eq!(ExecuteTask::parse_status_response("trid=7:status=done(ok)"), ParsedStatus::Complete);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParsedStatus {
    /// The job has finished on the node (whatever its result).
    Complete,
    /// The job is still running on the node.
    InProgress,
    /// The node does not know the job: an empty reply or `ERROR:2`.
    NotFound,
    /// Any other error line.
    Error(ResultCode, String),
}

/// Reads one status reply (the value of `query-show:id=`, `query-show:trid=`
/// or the legacy `jobs:` command).
pub(crate) fn parse_status_response(reply: &str) -> ParsedStatus {
    let reply = reply.trim();
    if reply.is_empty() {
        return ParsedStatus::NotFound;
    }
    if let Some((code, msg)) = info::parse_error(reply) {
        return if code == ResultCode::KEY_NOT_FOUND {
            ParsedStatus::NotFound
        } else {
            ParsedStatus::Error(code, msg)
        };
    }
    match field(reply, "status") {
        Some(s) if s.to_ascii_lowercase().starts_with("done") => ParsedStatus::Complete,
        Some(_) => ParsedStatus::InProgress,
        None => ParsedStatus::Error(
            ResultCode::SERVER_ERROR,
            format!("status reply without a status field: {reply:.80}"),
        ),
    }
}

/// The value of `key` in a colon-separated row.
fn field<'a>(row: &'a str, key: &str) -> Option<&'a str> {
    row.split(':')
        .filter_map(|p| p.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// How a job ended, or how it is running: the text in the parentheses of
/// `status=done(...)`.
///
/// ```
/// use aerospike_blocking::task::JobResult;
/// assert_eq!(JobResult::UserAborted.to_string(), "user-aborted");
/// assert_eq!(JobResult::Abandoned("cluster-change".into()).to_string(), "abandoned-cluster-change");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobResult {
    /// `ok`.
    Ok,
    /// `user-aborted`: a `query-abort` (or [`cancel`](crate::task::ExecuteTask::cancel)) stopped it.
    UserAborted,
    /// `abandoned-...`: the server gave up (the reason follows the dash).
    Abandoned(String),
    /// Anything else the server reported.
    Other(String),
}

impl JobResult {
    fn parse(s: &str) -> JobResult {
        match s {
            "ok" => JobResult::Ok,
            "user-aborted" => JobResult::UserAborted,
            _ => match s.strip_prefix("abandoned-") {
                Some(reason) => JobResult::Abandoned(reason.to_owned()),
                None => JobResult::Other(s.to_owned()),
            },
        }
    }
}

impl fmt::Display for JobResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobResult::Ok => f.write_str("ok"),
            JobResult::UserAborted => f.write_str("user-aborted"),
            JobResult::Abandoned(r) => write!(f, "abandoned-{r}"),
            JobResult::Other(s) => f.write_str(s),
        }
    }
}

/// One job as one node reports it in `query-show`.
///
/// Counters are this node's share: each node runs the job over the
/// partitions it masters.
///
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
/// for (node, job) in client.list_jobs()? {
///     println!("{node}: job {} on {}.{} is {}", job.task_id, job.namespace, job.set, job.status);
/// }
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct JobInfo {
    /// The task id (`trid`).
    pub task_id: u64,
    /// Namespace.
    pub namespace: String,
    /// Set ("" for the whole namespace).
    pub set: String,
    /// The secondary index used, for jobs with an index filter.
    pub sindex_name: Option<String>,
    /// Records-per-second limit in force on the node.
    pub records_per_second: u64,
    /// Threads working on the job now.
    pub active_threads: u64,
    /// The raw status text, e.g. `active(ok)` or `done(user-aborted)`.
    pub status: String,
    /// True once the status starts with `done`.
    pub done: bool,
    /// The text in the status' parentheses.
    pub result: JobResult,
    /// Percent of the node's partitions done (0 to 100).
    pub progress_percent: f64,
    /// How long the job ran (or has run).
    pub run_time: Duration,
    /// How long ago it finished (zero while it runs).
    pub time_since_done: Duration,
    /// Records counted by the rate limiter.
    pub recs_throttled: u64,
    /// Records skipped on metadata (set, expiry, digest filters).
    pub recs_filtered_meta: u64,
    /// Records skipped by the filter expression or index filter.
    pub recs_filtered_bins: u64,
    /// Records the job changed (or called the UDF on) successfully.
    pub recs_succeeded: u64,
    /// Records the job failed on.
    pub recs_failed: u64,
    /// Client address that started the job.
    pub from: String,
    /// `background-ops`, `background-udf`, `basic`, `aggregation`, ...
    pub job_type: String,
    /// UDF module, for UDF jobs.
    pub udf_filename: Option<String>,
    /// UDF function, for UDF jobs.
    pub udf_function: Option<String>,
}

impl JobInfo {
    /// Parses one row. Unknown keys are ignored; a value with colons in it
    /// (a piece without `=`) is glued back to the previous value.
    pub(crate) fn parse(row: &str) -> Result<JobInfo, DecodeError> {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for piece in row.trim().split(':') {
            match piece.split_once('=') {
                Some((k, v)) => pairs.push((k, v.to_owned())),
                None => match pairs.last_mut() {
                    Some((_, v)) => {
                        v.push(':');
                        v.push_str(piece);
                    }
                    None => return Err(DecodeError::new(format!("bad job row: {row:.80}"))),
                },
            }
        }
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.as_str())
        };
        let num = |k: &str| -> Result<u64, DecodeError> {
            get(k).map_or(Ok(0), |v| {
                v.parse()
                    .map_err(|_| DecodeError::new(format!("bad {k} value {v:?} in job row")))
            })
        };
        let task_id = get("trid")
            .ok_or_else(|| DecodeError::new(format!("job row without trid: {row:.80}")))?;
        let task_id = task_id
            .parse()
            .map_err(|_| DecodeError::new(format!("bad trid {task_id:?}")))?;
        let status = get("status").unwrap_or("").to_owned();
        let (state, result) = match status.split_once('(') {
            Some((s, r)) => (s, r.trim_end_matches(')')),
            None => (status.as_str(), ""),
        };
        let progress = get("job-progress").unwrap_or("0");
        Ok(JobInfo {
            task_id,
            namespace: get("ns").unwrap_or("").to_owned(),
            set: get("set").unwrap_or("").to_owned(),
            sindex_name: get("sindex-name").map(str::to_owned),
            records_per_second: num("rps")?,
            active_threads: num("active-threads")?,
            done: state.eq_ignore_ascii_case("done"),
            result: JobResult::parse(result),
            progress_percent: progress
                .parse()
                .map_err(|_| DecodeError::new(format!("bad job-progress {progress:?}")))?,
            run_time: Duration::from_millis(num("run-time")?),
            time_since_done: Duration::from_millis(num("time-since-done")?),
            recs_throttled: num("recs-throttled")?,
            recs_filtered_meta: num("recs-filtered-meta")?,
            recs_filtered_bins: num("recs-filtered-bins")?,
            recs_succeeded: num("recs-succeeded")?,
            recs_failed: num("recs-failed")?,
            from: get("from").unwrap_or("").to_owned(),
            job_type: get("job-type").unwrap_or("").to_owned(),
            udf_filename: get("udf-filename").map(str::to_owned),
            udf_function: get("udf-function").map(str::to_owned),
            status,
        })
    }

    /// A row with only an id and a state, for servers whose status reply
    /// carries nothing else (the legacy `jobs:` command).
    pub(crate) fn minimal(task_id: u64, done: bool) -> JobInfo {
        JobInfo {
            task_id,
            namespace: String::new(),
            set: String::new(),
            sindex_name: None,
            records_per_second: 0,
            active_threads: 0,
            status: if done { "done(ok)" } else { "active(ok)" }.to_owned(),
            done,
            result: JobResult::Ok,
            progress_percent: if done { 100.0 } else { 0.0 },
            run_time: Duration::ZERO,
            time_since_done: Duration::ZERO,
            recs_throttled: 0,
            recs_filtered_meta: 0,
            recs_filtered_bins: 0,
            recs_succeeded: 0,
            recs_failed: 0,
            from: String::new(),
            job_type: String::new(),
            udf_filename: None,
            udf_function: None,
        }
    }

    /// Parses the reply of `query-show` with no argument: rows separated by
    /// `;`. An empty reply is an empty list.
    pub(crate) fn parse_list(reply: &str) -> Result<Vec<JobInfo>, DecodeError> {
        if let Some((code, msg)) = info::parse_error(reply.trim()) {
            return Err(DecodeError::new(format!(
                "query-show failed: {code:?}: {msg}"
            )));
        }
        reply
            .split(';')
            .filter(|r| !r.trim().is_empty())
            .map(JobInfo::parse)
            .collect()
    }
}

/// A job's state on one node, as the task handle tracks it.
///
/// ```
/// use aerospike_blocking::task::{JobResult, NodeJobState};
/// assert!(NodeJobState::Done(JobResult::Ok).is_final());
/// assert!(!NodeJobState::Running.is_final());
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NodeJobState {
    /// The node reports the job active.
    Running,
    /// The node reports the job done, with this result.
    Done(JobResult),
    /// The node does not show the job yet; it gets a few more polls before
    /// that counts as finished.
    Pending,
    /// The node never showed the job and still does not know it after the
    /// grace polls: evicted from the finished list, or never started there.
    /// Counts as finished.
    NeverSeen,
    /// The node showed the job running and then forgot it, or left the
    /// cluster: it restarted or was removed while the job ran.
    Lost,
    /// The set does not exist on the node, so the job had nothing to do there.
    NothingToDo,
    /// The last status request failed; it is asked again on the next poll.
    Unreachable(String),
}

impl NodeJobState {
    /// True when the node needs no more polling.
    ///
    /// ```
    /// use aerospike_blocking::task::NodeJobState;
    /// assert!(NodeJobState::Lost.is_final());
    /// assert!(!NodeJobState::Pending.is_final());
    /// ```
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            NodeJobState::Done(_)
                | NodeJobState::NeverSeen
                | NodeJobState::Lost
                | NodeJobState::NothingToDo
        )
    }
}

/// One node's row in a [`Progress`].
///
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
/// # use aerospike_blocking::background::DataSet;
/// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
/// for row in task.progress()?.nodes {
///     println!("{}: {:?}", row.node, row.state);
/// }
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NodeProgress {
    /// The node name.
    pub node: String,
    /// What the handle knows about the job there.
    pub state: NodeJobState,
    /// The node's last `query-show` row, if it ever sent one.
    pub info: Option<JobInfo>,
    /// The partitions of the job's namespace the node mastered when the
    /// handle was made (its share of the job), as the client's partition map
    /// said; empty when the map did not know the node then.
    pub partitions: Vec<u16>,
}

/// How a finished job ended, across all its nodes.
///
/// ```
/// use aerospike_blocking::task::Outcome;
/// let o = Outcome::Failed { succeeded: 98, failed: 2 };
/// assert!(!o.is_success());
/// assert_eq!(o.to_string(), "finished with 2 failed records (98 succeeded)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Every node finished with `done(ok)` and no record failed.
    Completed,
    /// The job was cancelled (`query-abort`) on at least one node.
    AbortedByUser,
    /// A node gave up on the job (`done(abandoned-<reason>)`).
    Abandoned {
        /// The node.
        node: String,
        /// The reason after `abandoned-`.
        reason: String,
    },
    /// A node showed the job and then forgot it, or left the cluster: its share
    /// of the records may not have been processed. A background job cannot be
    /// restricted to partitions on an 8.1 server, so finishing the work means
    /// running a job again over the set (see `docs/reliability.md`).
    Lost {
        /// The node.
        node: String,
        /// The partitions that node mastered when the job started (the job's
        /// share there), which may not have been covered.
        partitions: Vec<u16>,
    },
    /// Every node finished, but these partitions changed master while the job
    /// ran (a migration): a server works on a partition only where it is
    /// master when its job reaches it (`query_job.c`), so their records may
    /// have been processed twice or not at all. Only [`ExecuteTask::wait`]
    /// reports it (it compares the partition map of the start with the one at
    /// the end).
    ///
    /// [`ExecuteTask::wait`]: crate::task::ExecuteTask::wait
    PartitionsMoved {
        /// The partitions whose master changed, in order.
        partitions: Vec<u16>,
    },
    /// The job finished but some records failed.
    Failed {
        /// Records changed successfully, summed over nodes.
        succeeded: u64,
        /// Records that failed, summed over nodes.
        failed: u64,
    },
}

impl Outcome {
    /// True only for [`Outcome::Completed`].
    ///
    /// ```
    /// use aerospike_blocking::task::Outcome;
    /// assert!(Outcome::Completed.is_success());
    /// assert!(!Outcome::AbortedByUser.is_success());
    /// ```
    pub fn is_success(&self) -> bool {
        *self == Outcome::Completed
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Completed => f.write_str("completed"),
            Outcome::AbortedByUser => f.write_str("aborted by user"),
            Outcome::Abandoned { node, reason } => {
                write!(f, "abandoned on node {node} ({reason})")
            }
            Outcome::PartitionsMoved { partitions } => write!(
                f,
                "completed, but {} partitions changed master while it ran: their records may have been processed twice or not at all",
                partitions.len()
            ),
            Outcome::Lost { node, partitions } => write!(
                f,
                "lost on node {node} (restarted or left): its share, {} partitions, may not have been processed",
                partitions.len()
            ),
            Outcome::Failed { succeeded, failed } => {
                write!(
                    f,
                    "finished with {failed} failed records ({succeeded} succeeded)"
                )
            }
        }
    }
}

/// A job's progress across its nodes: one row per node and totals.
///
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
/// # use aerospike_blocking::background::DataSet;
/// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
/// let p = task.progress()?;
/// println!("{:.1}%: {} ok, {} failed, {:?}", p.percent, p.succeeded, p.failed, p.run_time);
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// One row per target node.
    pub nodes: Vec<NodeProgress>,
    /// Records changed successfully.
    pub succeeded: u64,
    /// Records that failed.
    pub failed: u64,
    /// Records skipped on metadata.
    pub filtered_meta: u64,
    /// Records skipped by the filters.
    pub filtered_bins: u64,
    /// Records counted by the rate limiters.
    pub throttled: u64,
    /// Mean percent done over the nodes (finished nodes count as 100).
    pub percent: f64,
    /// The longest run time of any node.
    pub run_time: Duration,
    /// A one-line summary: `running (2/3 nodes done)` or the outcome.
    pub status: String,
}

impl Progress {
    /// Sums the rows.
    pub(crate) fn from_rows(nodes: Vec<NodeProgress>) -> Progress {
        let mut p = Progress {
            succeeded: 0,
            failed: 0,
            filtered_meta: 0,
            filtered_bins: 0,
            throttled: 0,
            percent: 100.0,
            run_time: Duration::ZERO,
            status: String::new(),
            nodes: Vec::new(),
        };
        let mut pct = 0.0;
        for n in &nodes {
            if let Some(i) = &n.info {
                p.succeeded += i.recs_succeeded;
                p.failed += i.recs_failed;
                p.filtered_meta += i.recs_filtered_meta;
                p.filtered_bins += i.recs_filtered_bins;
                p.throttled += i.recs_throttled;
                p.run_time = p.run_time.max(i.run_time);
            }
            pct += match (&n.state, &n.info) {
                (s, _) if s.is_final() => 100.0,
                (_, Some(i)) => i.progress_percent.clamp(0.0, 100.0),
                (_, None) => 0.0,
            };
        }
        if !nodes.is_empty() {
            p.percent = pct / nodes.len() as f64;
        }
        p.nodes = nodes;
        p.status = match p.outcome() {
            Some(o) => o.to_string(),
            None => format!(
                "running ({}/{} nodes done)",
                p.nodes.iter().filter(|n| n.state.is_final()).count(),
                p.nodes.len()
            ),
        };
        p
    }

    /// True when every node is finished.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// # use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// if task.progress()?.is_done() {
    ///     println!("finished");
    /// }
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn is_done(&self) -> bool {
        self.nodes.iter().all(|n| n.state.is_final())
    }

    /// The outcome, once every node is finished. The worst node wins:
    /// lost, then aborted, then abandoned, then failed records.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// # use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// if let Some(outcome) = task.progress()?.outcome() {
    ///     println!("{outcome}");
    /// }
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn outcome(&self) -> Option<Outcome> {
        if !self.is_done() {
            return None;
        }
        if let Some(n) = self.nodes.iter().find(|n| n.state == NodeJobState::Lost) {
            return Some(Outcome::Lost {
                node: n.node.clone(),
                partitions: n.partitions.clone(),
            });
        }
        let done = |r: &JobResult| {
            self.nodes
                .iter()
                .find(|n| matches!(&n.state, NodeJobState::Done(x) if x == r))
        };
        if done(&JobResult::UserAborted).is_some() {
            return Some(Outcome::AbortedByUser);
        }
        for n in &self.nodes {
            if let NodeJobState::Done(r @ (JobResult::Abandoned(_) | JobResult::Other(_))) =
                &n.state
            {
                let reason = match r {
                    JobResult::Abandoned(x) => x.clone(),
                    other => other.to_string(),
                };
                return Some(Outcome::Abandoned {
                    node: n.node.clone(),
                    reason,
                });
            }
        }
        if self.failed > 0 {
            return Some(Outcome::Failed {
                succeeded: self.succeeded,
                failed: self.failed,
            });
        }
        Some(Outcome::Completed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACTIVE: &str = "trid=4378155879910643737:ns=test:set=bgops:rps=10000:active-threads=1:status=active(ok):job-progress=3.39:run-time=2:time-since-done=0:recs-throttled=22:recs-filtered-meta=0:recs-filtered-bins=18:recs-succeeded=4:recs-failed=0:from=127.0.0.1+60088:job-type=background-ops:net-io-bytes=30:socket-timeout=10000:ops-active=0";
    const DONE: &str = "trid=4378155879910643737:ns=test:set=bgops:rps=10000:active-threads=0:status=done(ok):job-progress=100.00:run-time=60:time-since-done=151:recs-throttled=500:recs-filtered-meta=0:recs-filtered-bins=450:recs-succeeded=50:recs-failed=0:from=127.0.0.1+60088:job-type=background-ops:net-io-bytes=30:socket-timeout=10000:ops-active=0";
    const UDF: &str = "trid=11781778581726353066:ns=test:set=bgudf:rps=10000:active-threads=1:status=active(ok):job-progress=6.76:run-time=2:time-since-done=0:recs-throttled=30:recs-filtered-meta=0:recs-filtered-bins=0:recs-succeeded=0:recs-failed=0:from=127.0.0.1+58694:job-type=background-udf:net-io-bytes=30:socket-timeout=10000:udf-filename=bgudf:udf-function=set_bin:udf-active=29";
    const ABORTED: &str = "trid=6316017002451892993:ns=test:set=bgstatus:rps=2000:active-threads=0:status=done(user-aborted):job-progress=100.00:run-time=2005:time-since-done=97:recs-throttled=4006:recs-filtered-meta=0:recs-filtered-bins=0:recs-succeeded=4006:recs-failed=0:from=127.0.0.1+48656:job-type=background-ops:net-io-bytes=30:socket-timeout=10000:ops-active=0";
    const ABORTING: &str = "trid=6316017002451892993:ns=test:set=bgstatus:rps=2000:active-threads=1:status=active(user-aborted):job-progress=2.08:run-time=2001:time-since-done=0:recs-throttled=4006:recs-filtered-meta=0:recs-filtered-bins=0:recs-succeeded=4005:recs-failed=0:from=127.0.0.1+48656:job-type=background-ops:net-io-bytes=30:socket-timeout=10000:ops-active=0";
    const SINDEX: &str = "trid=13020062418150267160:ns=test:set=bgops:sindex-name=idx_age:rps=10000:active-threads=0:status=done(ok):job-progress=100.00:run-time=3:time-since-done=10:recs-throttled=110:recs-filtered-meta=0:recs-filtered-bins=0:recs-succeeded=110:recs-failed=0:from=127.0.0.1+1:job-type=background-ops:net-io-bytes=30:socket-timeout=10000:ops-active=0";
    const AGG: &str = "trid=841328705429597201:ns=test:set=bgerr:n-pids-requested=4096:n-keyds-requested=0:rps=10000:active-threads=0:status=done(abandoned-unknown):job-progress=100.00:run-time=1:time-since-done=5:recs-throttled=1:recs-filtered-meta=0:recs-filtered-bins=0:recs-succeeded=0:recs-failed=1:from=127.0.0.1+2:job-type=aggregation:net-io-bytes=414:net-io-time=0:socket-timeout=30000";

    #[test]
    fn parse_status_table() {
        let cases: &[(&str, ParsedStatus)] = &[
            ("", ParsedStatus::NotFound),
            ("\n", ParsedStatus::NotFound),
            ("ERROR:2:job not found", ParsedStatus::NotFound),
            ("ERROR:2", ParsedStatus::NotFound),
            (
                "ERROR:4:bad id",
                ParsedStatus::Error(ResultCode::PARAMETER_ERROR, "bad id".into()),
            ),
            (ACTIVE, ParsedStatus::InProgress),
            (ABORTING, ParsedStatus::InProgress),
            (DONE, ParsedStatus::Complete),
            (ABORTED, ParsedStatus::Complete),
            (UDF, ParsedStatus::InProgress),
            // The legacy `jobs:` form spells states in capitals.
            (
                "trid=1:job-type=query:status=DONE:progress=100",
                ParsedStatus::Complete,
            ),
            ("trid=1:status=IN_PROGRESS", ParsedStatus::InProgress),
        ];
        for (reply, want) in cases {
            assert_eq!(&parse_status_response(reply), want, "{reply}");
        }
        assert!(matches!(
            parse_status_response("ok"),
            ParsedStatus::Error(..)
        ));
    }

    #[test]
    fn parse_rows() {
        let a = JobInfo::parse(ACTIVE).unwrap();
        assert_eq!(a.task_id, 4378155879910643737);
        assert_eq!((a.namespace.as_str(), a.set.as_str()), ("test", "bgops"));
        assert!(!a.done);
        assert_eq!(a.result, JobResult::Ok);
        assert_eq!(a.progress_percent, 3.39);
        assert_eq!(a.run_time, Duration::from_millis(2));
        assert_eq!(
            (
                a.recs_throttled,
                a.recs_filtered_bins,
                a.recs_succeeded,
                a.recs_failed
            ),
            (22, 18, 4, 0)
        );
        assert_eq!(a.from, "127.0.0.1+60088");
        assert_eq!(a.job_type, "background-ops");
        assert_eq!(a.records_per_second, 10000);
        let u = JobInfo::parse(UDF).unwrap();
        assert_eq!(u.udf_filename.as_deref(), Some("bgudf"));
        assert_eq!(u.udf_function.as_deref(), Some("set_bin"));
        let x = JobInfo::parse(ABORTED).unwrap();
        assert!(x.done);
        assert_eq!(x.result, JobResult::UserAborted);
        assert_eq!(x.status, "done(user-aborted)");
        let s = JobInfo::parse(SINDEX).unwrap();
        assert_eq!(s.sindex_name.as_deref(), Some("idx_age"));
        let g = JobInfo::parse(AGG).unwrap();
        assert_eq!(g.result, JobResult::Abandoned("unknown".into()));
        assert!(JobInfo::parse("ns=test").is_err());
        assert!(JobInfo::parse("trid=1:recs-failed=x").is_err());
        assert!(JobInfo::parse("garbage").is_err());
    }

    #[test]
    fn parse_list_of_jobs() {
        let list = format!("{ACTIVE};{DONE};{UDF}\n");
        let jobs = JobInfo::parse_list(&list).unwrap();
        assert_eq!(jobs.len(), 3);
        assert_eq!(jobs[2].task_id, 11781778581726353066);
        assert!(JobInfo::parse_list("").unwrap().is_empty());
        assert!(JobInfo::parse_list("ERROR:4:bad").is_err());
    }

    fn row(node: &str, state: NodeJobState, info: Option<&str>) -> NodeProgress {
        NodeProgress {
            node: node.into(),
            state,
            info: info.map(|r| JobInfo::parse(r).unwrap()),
            partitions: if node == "B" { vec![7, 9] } else { Vec::new() },
        }
    }

    #[test]
    fn aggregation_and_outcomes() {
        let p = Progress::from_rows(vec![
            row("A", NodeJobState::Running, Some(ACTIVE)),
            row("B", NodeJobState::Done(JobResult::Ok), Some(DONE)),
            row("C", NodeJobState::Pending, None),
        ]);
        assert_eq!(p.succeeded, 54);
        assert_eq!(p.filtered_bins, 468);
        assert_eq!(p.throttled, 522);
        assert_eq!(p.run_time, Duration::from_millis(60));
        assert!((p.percent - (3.39 + 100.0) / 3.0).abs() < 1e-9);
        assert!(!p.is_done());
        assert_eq!(p.outcome(), None);
        assert_eq!(p.status, "running (1/3 nodes done)");

        let done = Progress::from_rows(vec![
            row("A", NodeJobState::Done(JobResult::Ok), Some(DONE)),
            row("B", NodeJobState::NeverSeen, None),
            row("C", NodeJobState::NothingToDo, None),
        ]);
        assert_eq!(done.outcome(), Some(Outcome::Completed));
        assert_eq!(done.percent, 100.0);

        let aborted = Progress::from_rows(vec![
            row("A", NodeJobState::Done(JobResult::Ok), Some(DONE)),
            row(
                "B",
                NodeJobState::Done(JobResult::UserAborted),
                Some(ABORTED),
            ),
        ]);
        assert_eq!(aborted.outcome(), Some(Outcome::AbortedByUser));

        let lost = Progress::from_rows(vec![
            row(
                "A",
                NodeJobState::Done(JobResult::UserAborted),
                Some(ABORTED),
            ),
            row("B", NodeJobState::Lost, Some(ACTIVE)),
        ]);
        assert_eq!(
            lost.outcome(),
            Some(Outcome::Lost {
                node: "B".into(),
                partitions: vec![7, 9],
            })
        );

        let abandoned = Progress::from_rows(vec![row(
            "A",
            NodeJobState::Done(JobResult::Abandoned("unknown".into())),
            Some(AGG),
        )]);
        assert_eq!(
            abandoned.outcome(),
            Some(Outcome::Abandoned {
                node: "A".into(),
                reason: "unknown".into()
            })
        );

        let mut failing = JobInfo::parse(DONE).unwrap();
        failing.recs_failed = 3;
        let failed = Progress::from_rows(vec![NodeProgress {
            node: "A".into(),
            state: NodeJobState::Done(JobResult::Ok),
            info: Some(failing),
            partitions: Vec::new(),
        }]);
        assert_eq!(
            failed.outcome(),
            Some(Outcome::Failed {
                succeeded: 50,
                failed: 3
            })
        );
        assert!(!failed.outcome().unwrap().is_success());
    }

    /// Every distinct `query-show` reply captured from the real server
    /// (file, command, value per line).
    const FIXTURE_REPLIES: &str = include_str!("testdata/query-show.txt");

    #[test]
    fn every_fixture_reply_parses() {
        let mut rows = 0;
        for line in FIXTURE_REPLIES.lines() {
            let mut parts = line.splitn(3, '\t');
            let (file, command, value) = (
                parts.next().unwrap(),
                parts.next().unwrap(),
                parts.next().unwrap(),
            );
            if value.starts_with("ERROR") {
                let code = info::parse_error(value).unwrap().0;
                let want = if code == ResultCode::KEY_NOT_FOUND {
                    ParsedStatus::NotFound
                } else {
                    ParsedStatus::Error(code, value.splitn(3, ':').nth(2).unwrap().into())
                };
                assert_eq!(parse_status_response(value), want, "{file}: {command}");
                continue;
            }
            let jobs = JobInfo::parse_list(value).unwrap_or_else(|e| panic!("{file}: {e}"));
            assert!(!jobs.is_empty());
            for j in &jobs {
                rows += 1;
                assert!(j.status.starts_with("active(") || j.status.starts_with("done("));
                assert_eq!(j.done, j.status.starts_with("done"));
                assert!((0.0..=100.0).contains(&j.progress_percent), "{file}");
                assert!(!j.job_type.is_empty() && j.namespace == "test", "{file}");
                if j.done {
                    assert_eq!(j.active_threads, 0, "{file}: {}", j.status);
                }
            }
            let single = command
                .strip_prefix("query-show:id=")
                .or_else(|| command.strip_prefix("query-show:trid="));
            if let Some(id) = single.filter(|id| !id.starts_with("0x")) {
                assert_eq!(jobs.len(), 1, "{file}: {command}");
                assert_eq!(jobs[0].task_id.to_string(), id);
                let want = if jobs[0].done {
                    ParsedStatus::Complete
                } else {
                    ParsedStatus::InProgress
                };
                assert_eq!(parse_status_response(value), want, "{file}: {command}");
            }
        }
        assert!(rows > 250, "only {rows} rows");
    }
}
