//! Background-job figures on a multi-node cluster: start latency, end
//! detection lag and end-to-end time, for both clients.

use std::time::{Duration, Instant};

use crate::stats;

pub const SMALL_SET: &str = "jobs_small";
pub const BIG_SET: &str = "jobs_big";
/// The long job's set: big enough that the job lasts about 10 s on any
/// server. A real server caps each throttling sleep at 10 ms, so a job of
/// 100 records at 4 records/s per node ends in half a second there (which is
/// why this figure read 0.00 against a real cluster before).
pub const LONG_SET: &str = "jobs_long";
/// Records in [`LONG_SET`].
pub const LONG_SET_RECORDS: u64 = 3_000;

/// The per-node `query-show:id=` fields of job `trid`, through our client's
/// info calls (a measuring probe, used the same way for both clients).
fn show(probe: &aerospike_blocking::Client, trid: u64) -> Vec<Option<String>> {
    let cmd = format!("query-show:id={trid}");
    probe
        .nodes()
        .iter()
        .map(|n| {
            probe
                .info_on(&n.name, &[cmd.as_str()])
                .ok()
                .and_then(|v| v.into_iter().next())
                .map(|(_, v)| v)
        })
        .collect()
}

fn field(line: &str, name: &str) -> Option<u64> {
    line.split(':')
        .find_map(|kv| kv.strip_prefix(name).and_then(|r| r.strip_prefix('=')))
        .and_then(|v| v.parse().ok())
}

/// Milliseconds since the job ended on its last node (`time-since-done`,
/// minimum over nodes), or `None` while some node still runs it.
pub fn since_done_ms(probe: &aerospike_blocking::Client, trid: u64) -> Option<u64> {
    let mut min: Option<u64> = None;
    for line in show(probe, trid) {
        let line = line?;
        if !line.contains("status=done") {
            return None;
        }
        let v = field(&line, "time-since-done")?;
        min = Some(min.map_or(v, |m| m.min(v)));
    }
    min
}

/// Waits (polling every 0.5 ms, untimed) until job `trid` is done everywhere.
pub fn settle(probe: &aerospike_blocking::Client, trid: u64) {
    let t = Instant::now();
    while since_done_ms(probe, trid).is_none() && t.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// TCP segments carrying data that this process's sockets sent so far
/// (`data_segs_out` of `ss -tinp`): one per small request such as an info
/// command. Requests on sockets closed in the meantime are not counted.
pub fn requests_sent() -> u64 {
    let Ok(out) = std::process::Command::new("ss").arg("-tinp").output() else {
        return 0;
    };
    let me = format!("pid={},", std::process::id());
    let mut mine = false;
    let mut total = 0;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if !line.starts_with(char::is_whitespace) {
            mine = line.contains(&me);
        } else if mine {
            total += line
                .split_whitespace()
                .find_map(|f| f.strip_prefix("data_segs_out:"))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

/// Requests per node per second the process sends while `wait` waits for a
/// long job, tend traffic (measured idle first) subtracted: over the window
/// from 2 s to 5 s into the wait (steady state), and over the whole wait.
pub fn long_job_polls(nodes: usize, wait: impl FnOnce() + Send) -> (f64, f64) {
    let nodes = nodes.max(1) as f64;
    let idle = Duration::from_secs(2);
    let r0 = requests_sent();
    std::thread::sleep(idle);
    let tend = (requests_sent() - r0) as f64 / idle.as_secs_f64();
    let start = requests_sent();
    let t = Instant::now();
    let (steady, whole) = std::thread::scope(|s| {
        let h = s.spawn(wait);
        std::thread::sleep(Duration::from_secs(2));
        let a = requests_sent();
        std::thread::sleep(Duration::from_secs(3));
        let b = requests_sent();
        let steady = ((b - a) as f64 - 3.0 * tend) / nodes / 3.0;
        h.join().expect("wait thread");
        let secs = t.elapsed().as_secs_f64();
        (
            steady,
            ((requests_sent() - start) as f64 - tend * secs) / nodes / secs,
        )
    });
    (steady.max(0.0), whole.max(0.0))
}

/// Records per second per node of the long job: 100 records over 3 nodes
/// at 4/s last about 8 s.
pub const LONG_JOB_RPS: u32 = 100;

/// What the job measurements found for one client.
#[derive(Default)]
pub struct JobFigures {
    pub start_median: Duration,
    pub start_p90: Duration,
    /// Median CPU time of the whole process per start (all its threads).
    pub start_cpu_median: Duration,
    /// (wait() duration, lag after the last node finished in ms) per run, default options.
    pub detect_default: Vec<(Duration, u64)>,
    /// Same with the smallest poll interval the client allows.
    pub detect_fast: Vec<(Duration, u64)>,
    /// Status requests per node per second, steady state (2–5 s into the wait).
    pub long_job_polls_steady: f64,
    /// The same over the whole wait (includes the fast first polls).
    pub long_job_polls_whole: f64,
    pub long_job_interval: Duration,
    /// Status requests per node per second over the whole wait, as counted
    /// by the client itself (ours only: `ExecuteTask::status_requests`).
    pub long_job_counted: Option<f64>,
    pub end_to_end: Duration,
    /// ms from the job's end on its last node to `wait()` returning.
    pub end_to_end_lag_ms: Option<u64>,
}

/// Job starts of both clients, alternating start by start (so that a change
/// of the servers' pace over the run weighs on both alike), each job settled
/// before the next start: (ours, official), each the wall times and the
/// process CPU times.
pub fn alternate_starts(
    ours: &aerospike_blocking::Client,
    official: &aerospike::Client,
    reps: usize,
) -> [(Vec<Duration>, Vec<Duration>); 2] {
    let mut out: [(Vec<Duration>, Vec<Duration>); 2] = Default::default();
    for _ in 0..reps {
        let (task, wall, cpu) = crate::jobs_ours::start(ours, SMALL_SET, 0);
        out[0].0.push(wall);
        out[0].1.push(cpu);
        settle(ours, task.task_id());
        let (task, wall, cpu) = official::start(official, SMALL_SET, 0);
        out[1].0.push(wall);
        out[1].1.push(cpu);
        settle(ours, official::id(task));
    }
    out
}

impl JobFigures {
    /// Sets the start figures from `(wall times, CPU times)`.
    pub fn with_starts(mut self, (walls, cpu): (Vec<Duration>, Vec<Duration>)) -> Self {
        self.start_cpu_median = crate::stats::median(cpu);
        self.start_median = crate::stats::median(walls.clone());
        self.start_p90 = percentile(walls, 0.9);
        self
    }
}

pub fn percentile(mut v: Vec<Duration>, q: f64) -> Duration {
    v.sort();
    v.get(((v.len().max(1) - 1) as f64 * q).round() as usize)
        .copied()
        .unwrap_or_default()
}

/// The official client: `query_operate` with one `add` op.
pub mod official {
    use super::*;
    use aerospike::{as_bin, operations, Bins, Statement, WritePolicy};

    pub fn start(
        c: &aerospike::Client,
        set: &str,
        rps: u32,
    ) -> (aerospike::Task<aerospike::ExecuteTask>, Duration, Duration) {
        let cpu = stats::process_cpu_precise();
        let t = Instant::now();
        let mut st = Statement::new(crate::kv::NS, set, Bins::None);
        st.set_operations(vec![operations::add(&as_bin!("n", 1))]);
        let policy = WritePolicy {
            records_per_second: rps,
            ..WritePolicy::default()
        };
        let task = c
            .query_operate(&policy, st)
            .expect("official: query_operate");
        let wall = t.elapsed();
        (task, wall, stats::process_cpu_precise().saturating_sub(cpu))
    }

    pub fn id(task: aerospike::Task<aerospike::ExecuteTask>) -> u64 {
        task.into_inner().task_id()
    }

    pub fn run(
        c: &aerospike::Client,
        probe: &aerospike_blocking::Client,
        detect_reps: usize,
    ) -> JobFigures {
        let mut f = JobFigures::default();
        // The official wait has one setting: poll every 1 s, sleeping first.
        for _ in 0..detect_reps {
            let (task, ..) = start(c, SMALL_SET, 0);
            let t = Instant::now();
            let done = task.wait_till_complete(None);
            let waited = t.elapsed();
            let trid = id(task);
            if done.is_ok() {
                f.detect_default
                    .push((waited, since_done_ms(probe, trid).unwrap_or(u64::MAX)));
            } else {
                eprintln!("official: wait failed: {done:?}");
            }
            settle(probe, trid);
        }
        let (task, ..) = start(c, LONG_SET, LONG_JOB_RPS);
        (f.long_job_polls_steady, f.long_job_polls_whole) =
            long_job_polls(probe.nodes().len(), || {
                if let Err(e) = task.wait_till_complete(None) {
                    eprintln!("official: long job wait failed: {e}");
                }
            });
        settle(probe, id(task));
        let t = Instant::now();
        let (task, ..) = start(c, BIG_SET, 0);
        if let Err(e) = task.wait_till_complete(None) {
            eprintln!("official: end-to-end wait failed: {e}");
        }
        f.end_to_end = t.elapsed();
        f.end_to_end_lag_ms = since_done_ms(probe, id(task));
        f.long_job_interval = Duration::from_secs(1);
        f
    }
}
