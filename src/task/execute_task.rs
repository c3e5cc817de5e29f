//! [`ExecuteTask`]: the handle of a background job.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::client::Client;
use crate::cluster::version::Version;
use crate::net::Deadline;
use crate::wire::info;
use crate::{Error, Result, ResultCode};

use super::status::{
    parse_status_response, JobInfo, NodeJobState, Outcome, ParsedStatus, Progress,
};
use super::wait::{
    poll_once, wait_loop, JobSource, NodeTracker, Observation, SystemClock, WaitOptions,
};

/// Limit on one round of status requests.
const STATUS_TIMEOUT: Duration = Duration::from_secs(5);

/// What kind of background job a task is.
///
/// ```
/// use aerospike_blocking::task::TaskKind;
/// assert_ne!(TaskKind::QueryExecute, TaskKind::QueryUdf);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskKind {
    /// Write operations (update, delete, touch).
    QueryExecute,
    /// A Lua UDF applied to each record.
    QueryUdf,
}

/// The status command for `version`:
///
/// * 8.1 and later: `query-show:id=<id>`;
/// * 6.0 to 8.0: `query-show:trid=<id>`;
/// * older: `jobs:module=query;cmd=get-job;trid=<id>`.
pub(crate) fn status_command(version: &Version, task_id: u64) -> String {
    match (version.major, version.minor) {
        (m, n) if (m, n) >= (8, 1) => format!("query-show:id={task_id}"),
        (m, _) if m >= 6 => format!("query-show:trid={task_id}"),
        _ => format!("jobs:module=query;cmd=get-job;trid={task_id}"),
    }
}

/// The abort command for `version`: `query-abort:id=` on 8.1 and later,
/// `query-abort:trid=` before.
pub(crate) fn abort_command(version: &Version, task_id: u64) -> String {
    if (version.major, version.minor) >= (8, 1) {
        format!("query-abort:id={task_id}")
    } else {
        format!("query-abort:trid={task_id}")
    }
}

/// Reads one node's status reply into an observation of job `task_id`.
fn observe_reply(node: &str, command: &str, reply: &str, task_id: u64) -> Result<Observation> {
    let reply = reply.trim();
    if reply.is_empty() {
        return Ok(Observation::NotFound);
    }
    if let Some((code, message)) = info::parse_error(reply) {
        return if code == ResultCode::KEY_NOT_FOUND {
            Ok(Observation::NotFound)
        } else {
            Err(Error::Info {
                command: command.to_owned(),
                code,
                message,
            })
        };
    }
    // A server that does not know the argument lists every job: pick ours.
    if let Ok(rows) = JobInfo::parse_list(reply) {
        return Ok(rows
            .into_iter()
            .find(|r| r.task_id == task_id)
            .map_or(Observation::NotFound, |r| Observation::Row(Box::new(r))));
    }
    match parse_status_response(reply) {
        ParsedStatus::Complete => Ok(Observation::Row(Box::new(JobInfo::minimal(task_id, true)))),
        ParsedStatus::InProgress => {
            Ok(Observation::Row(Box::new(JobInfo::minimal(task_id, false))))
        }
        _ => Err(Error::Protocol {
            node: node.to_owned(),
            message: format!("unreadable reply to {command}: {reply:.100}"),
        }),
    }
}

/// Status requests through the cluster's node workers.
struct ClusterSource<'a> {
    client: &'a Client,
    task_id: u64,
    /// Counts the status requests sent (one per node asked).
    sent: &'a AtomicU64,
    /// Each node's `partition-generation`, read in the same info request
    /// as the status, as of its last reply.
    generations: HashMap<String, u64>,
}

impl<'a> ClusterSource<'a> {
    fn new(task: &'a ExecuteTask) -> Self {
        ClusterSource {
            client: &task.client,
            task_id: task.task_id,
            sent: &task.status_requests,
            generations: HashMap::new(),
        }
    }
}

impl JobSource for ClusterSource<'_> {
    fn poll(&mut self, names: &[String]) -> Result<Vec<(String, Observation)>> {
        let cluster = self.client.cluster();
        let mut out = Vec::with_capacity(names.len());
        let mut nodes = Vec::with_capacity(names.len());
        for name in names {
            match cluster.node(name) {
                Some(n) => nodes.push(n),
                None => out.push((name.clone(), Observation::Gone)),
            }
        }
        if nodes.is_empty() {
            return Ok(out);
        }
        let id = self.task_id;
        self.sent.fetch_add(nodes.len() as u64, Ordering::Relaxed);
        let replies = cluster.fan_out(&nodes, Deadline::after(STATUS_TIMEOUT), move |node, dl| {
            let cmd = status_command(node.version(), id);
            let mut reply = node
                .info(&[cmd.as_str(), "partition-generation"], dl)?
                .into_iter();
            // Values come back in the order asked; the status is read as
            // before (whatever name the server echoes), the generation only
            // when named.
            let status = reply.next().map(|(_, v)| v).unwrap_or_default();
            let generation = reply
                .find(|(k, _)| k == "partition-generation")
                .and_then(|(_, v)| v.trim().parse::<u64>().ok());
            Ok((status, cmd, generation))
        });
        for (node, r) in replies {
            let obs = match r {
                Ok((reply, cmd, generation)) => {
                    if let Some(g) = generation {
                        self.generations.insert(node.name().to_owned(), g);
                    }
                    observe_reply(node.name(), &cmd, &reply, id)?
                }
                Err(e) => Observation::Failed(e.to_string()),
            };
            out.push((node.name().to_owned(), obs));
        }
        Ok(out)
    }
}

/// The handle of a background job started by a builder's `execute()` (or
/// re-attached with [`ExecuteTask::attach`]).
///
/// It remembers which nodes run the job and what each has shown, so that a
/// node which never showed the job is given a few polls before its "not
/// found" counts as finished, while a node that showed the job and then forgot
/// it (restarted, or left the cluster) makes the outcome [`Outcome::Lost`].
/// Clones share that state.
///
/// # Examples
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// # use aerospike_blocking::background::DataSet;
/// use aerospike_blocking::task::{Outcome, WaitOptions};
/// use std::time::Duration;
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
/// let task = client.session().background_task()
///     .touch(&DataSet::of("test", "users"))
///     .execute()?;
/// let outcome = task.wait_with_progress(WaitOptions::default().timeout(Duration::from_secs(600)), |p| {
///     println!("{:5.1}% {} records", p.percent, p.succeeded);
/// })?;
/// assert_eq!(outcome, Outcome::Completed);
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ExecuteTask {
    client: Client,
    kind: TaskKind,
    namespace: String,
    set: String,
    node_name: Option<String>,
    task_id: u64,
    trackers: Arc<Mutex<Vec<NodeTracker>>>,
    /// Status requests sent by this handle and its clones.
    status_requests: Arc<AtomicU64>,
}

impl ExecuteTask {
    /// A handle on job `task_id`, e.g. saved by another process. It tracks
    /// every node currently in the cluster; nodes that never show the job
    /// count as finished after a short grace period.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// use aerospike_blocking::task::{ExecuteTask, TaskKind};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
    /// let task = ExecuteTask::attach(&client, 4378155879910643737, "test", "users", TaskKind::QueryExecute);
    /// task.cancel()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn attach(
        client: &Client,
        task_id: u64,
        namespace: &str,
        set: &str,
        kind: TaskKind,
    ) -> ExecuteTask {
        let targets = client
            .cluster()
            .nodes()
            .iter()
            .map(|n| (n.name().to_owned(), NodeJobState::Pending))
            .collect();
        Self::untracked(client, task_id, namespace, set, kind).tracking(None, targets)
    }

    /// A handle that watches no node yet (see [`tracking`](Self::tracking)).
    pub(crate) fn untracked(
        client: &Client,
        task_id: u64,
        namespace: &str,
        set: &str,
        kind: TaskKind,
    ) -> ExecuteTask {
        ExecuteTask {
            client: client.clone(),
            kind,
            namespace: namespace.to_owned(),
            set: set.to_owned(),
            node_name: None,
            task_id,
            trackers: Arc::default(),
            status_requests: Arc::default(),
        }
    }

    /// The same handle, watching only `targets`, each in the state its start
    /// left it; `node_name` when the job was started on that node only.
    pub(crate) fn tracking(
        mut self,
        node_name: Option<String>,
        targets: Vec<(String, NodeJobState)>,
    ) -> Self {
        self.node_name = node_name;
        // Each node's share: the partitions it masters now in the namespace
        // (grouped once per cluster snapshot: this runs on every job start).
        let state = self.client.cluster().state();
        let shares = state.master_shares(&self.namespace);
        let trackers: Vec<NodeTracker> = targets
            .into_iter()
            .map(|(n, s)| {
                let mut t = NodeTracker::with_state(&n, s);
                let node = state.nodes.iter().find(|node| node.name() == n);
                t.start_generation = node.and_then(|node| node.tend.lock().partition_generation);
                if let Some((_, pids)) = shares.iter().find(|(node, _)| node.name() == n) {
                    t.partitions = pids.clone();
                }
                t
            })
            .collect();
        self.trackers = Arc::new(Mutex::new(trackers));
        self
    }

    /// How many status requests (`query-show`) this handle and its clones
    /// have sent, one per node asked: what waiting and watching cost the
    /// cluster.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # use aerospike_blocking::background::DataSet;
    /// use aerospike_blocking::task::WaitOptions;
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// task.wait(WaitOptions::default())?;
    /// println!("{} status requests", task.status_requests());
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn status_requests(&self) -> u64 {
        self.status_requests.load(Ordering::Relaxed)
    }

    /// The task id, the same on every node.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// # use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// println!("started job {}", task.task_id());
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn task_id(&self) -> u64 {
        self.task_id
    }

    /// The kind of job.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// # use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// assert_eq!(task.kind(), aerospike_blocking::task::TaskKind::QueryExecute);
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn kind(&self) -> TaskKind {
        self.kind
    }

    /// The namespace.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// # use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// assert_eq!(task.namespace(), "test");
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The set.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// # use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// assert_eq!(task.set(), "users");
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn set(&self) -> &str {
        &self.set
    }

    /// The node the job was pinned to, or `None` when it runs on all nodes.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// # use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// assert_eq!(task.node_name(), None);
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn node_name(&self) -> Option<&str> {
        self.node_name.as_deref()
    }

    /// The names of the nodes the job was started on.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// # use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// assert_eq!(task.nodes().len(), client.nodes().len());
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn nodes(&self) -> Vec<String> {
        self.trackers
            .lock()
            .iter()
            .map(|t| t.name.clone())
            .collect()
    }

    /// Reads one raw status reply (the value of `query-show:id=`): empty
    /// replies and `ERROR:2` are `NotFound`.
    ///
    /// ```
    /// use aerospike_blocking::task::{ExecuteTask, ParsedStatus};
    /// assert_eq!(ExecuteTask::parse_status_response("ERROR:2:job not found"), ParsedStatus::NotFound);
    /// assert_eq!(ExecuteTask::parse_status_response("trid=1:status=done(ok)"), ParsedStatus::Complete);
    /// assert_eq!(ExecuteTask::parse_status_response("trid=1:status=active(ok)"), ParsedStatus::InProgress);
    /// ```
    pub fn parse_status_response(reply: &str) -> ParsedStatus {
        parse_status_response(reply)
    }

    /// One status check across the target nodes: `InProgress` while any node
    /// runs the job (or has not shown it yet), `Complete` when all are
    /// finished. An error reply from a node is an error.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// # use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// use aerospike_blocking::task::ParsedStatus;
    /// while task.status()? == ParsedStatus::InProgress {
    ///     std::thread::sleep(std::time::Duration::from_millis(100));
    /// }
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn status(&self) -> Result<ParsedStatus> {
        let p = self.progress()?;
        if let Some(NodeJobState::Unreachable(msg)) = p
            .nodes
            .iter()
            .map(|n| &n.state)
            .find(|s| matches!(s, NodeJobState::Unreachable(_)))
        {
            return Err(Error::NoNode(format!("status check failed: {msg}")));
        }
        Ok(if p.is_done() {
            ParsedStatus::Complete
        } else {
            ParsedStatus::InProgress
        })
    }

    /// Polls the nodes once: per-node rows (counters, percent, run time,
    /// status) and totals.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// # use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// let p = task.progress()?;
    /// println!("{:.1}% ({} records)", p.percent, p.succeeded);
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn progress(&self) -> Result<Progress> {
        let mut trackers = self.trackers.lock();
        poll_once(&mut ClusterSource::new(self), &mut trackers, Instant::now())
    }

    /// Blocks until the job ends on every node and returns how it ended.
    /// Polling starts after 1 ms and backs off to `opts.poll_interval`.
    /// After `opts.timeout` it fails with a [`TimeoutPhase::Wait`](crate::TimeoutPhase::Wait)
    /// timeout; the job keeps running (see [`cancel`](Self::cancel)).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// # use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// use aerospike_blocking::task::WaitOptions;
    /// let outcome = task.wait(WaitOptions::default())?;
    /// assert!(outcome.is_success(), "{outcome}");
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn wait(&self, opts: WaitOptions) -> Result<Outcome> {
        self.wait_with_progress(opts, |_| {})
    }

    /// Like [`wait`](Self::wait), calling `on_progress` after every poll
    /// (e.g. to draw a progress bar).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// # use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// use aerospike_blocking::task::WaitOptions;
    /// let outcome = task.wait_with_progress(WaitOptions::default(), |p| println!("{:.0}%", p.percent))?;
    /// println!("{outcome}");
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn wait_with_progress(
        &self,
        opts: WaitOptions,
        mut on_progress: impl FnMut(&Progress),
    ) -> Result<Outcome> {
        let mut src = ClusterSource::new(self);
        // The trackers are locked for one poll at a time, so that another
        // thread can call `progress` or `cancel` on a clone meanwhile.
        let mut poll = |now| poll_once(&mut src, &mut self.trackers.lock(), now);
        let outcome = wait_loop(&mut poll, &mut SystemClock, &opts, &mut on_progress)?;
        Ok(self.with_moved_partitions(outcome, &src.generations))
    }

    /// A completed job whose partitions changed master while it ran is
    /// [`Outcome::PartitionsMoved`] (see [`moved_partitions`](Self::moved_partitions)).
    /// When every node with a share answered its last status poll with the
    /// partition generation the job's start saw, nothing moved and no tend
    /// cycle is needed.
    fn with_moved_partitions(&self, outcome: Outcome, seen: &HashMap<String, u64>) -> Outcome {
        if outcome != Outcome::Completed {
            return outcome;
        }
        let unchanged = self
            .trackers
            .lock()
            .iter()
            .all(|t| t.share_unmoved(seen.get(&t.name).copied()));
        if unchanged {
            return outcome;
        }
        let moved = self.moved_partitions();
        if moved.is_empty() {
            outcome
        } else {
            Outcome::PartitionsMoved { partitions: moved }
        }
    }

    /// The partitions of the job's namespace whose master changed since the
    /// handle was made (the job's start), in order, after one tend cycle
    /// refreshes the partition map. A server works on a partition only where
    /// it is master when its job reaches it, so the records of these
    /// partitions may have been processed twice or not at all.
    /// [`wait`](Self::wait) checks it when a job completes, unless every node
    /// answered its last status poll with the partition generation the job's
    /// start saw (then nothing can have moved).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # use aerospike_blocking::background::DataSet;
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// assert!(task.moved_partitions().is_empty(), "a migration started");
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn moved_partitions(&self) -> Vec<u16> {
        let cluster = self.client.cluster();
        cluster.tend();
        let state = cluster.state();
        let mut moved: Vec<u16> = self
            .trackers
            .lock()
            .iter()
            .flat_map(|t| {
                t.partitions.iter().copied().filter(|pid| {
                    state
                        .partitions
                        .owner(&self.namespace, 0, *pid)
                        .is_none_or(|n| n.name() != t.name)
                })
            })
            .collect();
        moved.sort_unstable();
        moved
    }

    /// Aborts the job on every target node (`query-abort`). A node where the
    /// job already finished is fine; the outcome then reads
    /// [`Outcome::AbortedByUser`] if any node was still running it.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// # use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// task.cancel()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn cancel(&self) -> Result<()> {
        let cluster = self.client.cluster();
        let nodes: Vec<_> = self
            .nodes()
            .iter()
            .filter_map(|n| cluster.node(n))
            .collect();
        let id = self.task_id;
        let results = cluster.fan_out(&nodes, Deadline::after(STATUS_TIMEOUT), move |node, dl| {
            let cmd = abort_command(node.version(), id);
            let reply = node.info(&[cmd.as_str()], dl)?;
            let value = reply.into_iter().next().map(|(_, v)| v).unwrap_or_default();
            match info::parse_error(value.trim()) {
                // "id not active": already finished there.
                None | Some((ResultCode::KEY_NOT_FOUND, _)) => Ok(()),
                Some((code, message)) => Err(Error::Info {
                    command: cmd,
                    code,
                    message,
                }),
            }
        });
        per_node(
            "cancel",
            results.into_iter().map(|(n, r)| (n.name().to_owned(), r)),
        )
    }
}

/// `Ok` when every node succeeded, else an [`Error::PerNode`].
fn per_node(what: &str, results: impl Iterator<Item = (String, Result<()>)>) -> Result<()> {
    let outcomes: Vec<(String, Option<Box<Error>>)> =
        results.map(|(n, r)| (n, r.err().map(Box::new))).collect();
    let failed = outcomes.iter().filter(|(_, e)| e.is_some()).count();
    if failed == 0 {
        return Ok(());
    }
    Err(Error::PerNode {
        summary: format!("{what} failed on {failed} of {} nodes", outcomes.len()),
        outcomes,
    })
}

impl Client {
    /// Every job the cluster's nodes remember, running or recently finished
    /// (up to the server's `query-max-done`), with the name of the node that
    /// reports it. A job that runs on several nodes appears once per node.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
    /// for (node, job) in client.list_jobs()? {
    ///     println!("{node} {} {} {}%", job.task_id, job.status, job.progress_percent);
    /// }
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn list_jobs(&self) -> Result<Vec<(String, JobInfo)>> {
        let cluster = self.cluster();
        let nodes = cluster.nodes();
        let results = cluster.fan_out(&nodes, Deadline::after(STATUS_TIMEOUT), |node, dl| {
            let reply = node.info(&["query-show"], dl)?;
            let value = reply.into_iter().next().map(|(_, v)| v).unwrap_or_default();
            JobInfo::parse_list(&value).map_err(|e| Error::Protocol {
                node: node.name().to_owned(),
                message: e.message().to_owned(),
            })
        });
        let mut out = Vec::new();
        for (node, r) in results {
            out.extend(r?.into_iter().map(|j| (node.name().to_owned(), j)));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_by_server_version() {
        let v = |s: &str| Version::parse(s);
        assert_eq!(status_command(&v("8.1.2.0"), 7), "query-show:id=7");
        assert_eq!(status_command(&v("9.0.0.0"), 7), "query-show:id=7");
        assert_eq!(status_command(&v("8.0.0.3"), 7), "query-show:trid=7");
        assert_eq!(status_command(&v("6.0.0.0"), 7), "query-show:trid=7");
        assert_eq!(
            status_command(&v("5.7.0.8"), 7),
            "jobs:module=query;cmd=get-job;trid=7"
        );
        assert_eq!(abort_command(&v("8.1.2.0"), 7), "query-abort:id=7");
        assert_eq!(abort_command(&v("7.2.0.0"), 7), "query-abort:trid=7");
    }

    #[test]
    fn replies_become_observations() {
        let row = "trid=5:ns=test:set=s:status=active(ok):job-progress=1.00";
        let other = "trid=6:ns=test:set=s:status=done(ok):job-progress=100.00";
        let obs = |r: &str| observe_reply("A", "query-show:id=5", r, 5);
        assert!(matches!(obs(row).unwrap(), Observation::Row(j) if !j.done));
        assert_eq!(obs("").unwrap(), Observation::NotFound);
        assert_eq!(obs("ERROR:2:job not found").unwrap(), Observation::NotFound);
        // A server that ignores the argument answers with the whole list.
        assert!(
            matches!(obs(&format!("{other};{row}")).unwrap(), Observation::Row(j) if j.task_id == 5)
        );
        assert_eq!(obs(other).unwrap(), Observation::NotFound);
        // Legacy reply with only a status.
        assert!(matches!(obs("status=DONE").unwrap(), Observation::Row(j) if j.done));
        let e = obs("ERROR:4:bad id").unwrap_err();
        assert_eq!(e.result_code(), Some(ResultCode::PARAMETER_ERROR));
        assert!(obs("garbage").is_err());
    }
}
