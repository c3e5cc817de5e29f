//! Background-job figures on a multi-node cluster: start latency, end
//! detection lag and end-to-end time, for both clients.

use std::time::{Duration, Instant};

use crate::stats;

pub const SMALL_SET: &str = "jobs_small";
pub const BIG_SET: &str = "jobs_big";

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

/// info requests written by this process so far (`syscw` of /proc/self/io
/// is write syscalls: one per request sent).
pub fn write_syscalls() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("syscw:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// What the job measurements found for one client.
#[derive(Default)]
pub struct JobFigures {
    pub start_median: Duration,
    pub start_p90: Duration,
    /// (wait() duration, lag after the last node finished in ms) per run, default options.
    pub detect_default: Vec<(Duration, u64)>,
    /// Same with the smallest poll interval the client allows.
    pub detect_fast: Vec<(Duration, u64)>,
    pub long_job_polls_per_node_per_sec: f64,
    pub long_job_interval: Duration,
    pub end_to_end: Duration,
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

    fn start(
        c: &aerospike::Client,
        set: &str,
    ) -> (aerospike::Task<aerospike::ExecuteTask>, Duration) {
        let t = Instant::now();
        let mut st = Statement::new(crate::kv::NS, set, Bins::None);
        st.set_operations(vec![operations::add(&as_bin!("n", 1))]);
        let task = c
            .query_operate(&WritePolicy::default(), st)
            .expect("official: query_operate");
        (task, t.elapsed())
    }

    fn id(task: aerospike::Task<aerospike::ExecuteTask>) -> u64 {
        task.into_inner().task_id()
    }

    pub fn run(
        c: &aerospike::Client,
        probe: &aerospike_blocking::Client,
        reps: usize,
        detect_reps: usize,
    ) -> JobFigures {
        let mut f = JobFigures::default();
        let mut starts = Vec::new();
        for _ in 0..reps {
            let (task, d) = start(c, SMALL_SET);
            starts.push(d);
            settle(probe, id(task));
        }
        f.start_median = stats::median(starts.clone());
        f.start_p90 = percentile(starts, 0.9);
        // The official wait has one setting: poll every 1 s, sleeping first.
        for _ in 0..detect_reps {
            let (task, _) = start(c, SMALL_SET);
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
        // Status requests while waiting for the long job (end to end), as
        // write syscalls minus the tend's (measured idle).
        let nodes = probe.nodes().len().max(1) as f64;
        let idle = Duration::from_secs(2);
        let w0 = write_syscalls();
        std::thread::sleep(idle);
        let tend_rate = (write_syscalls() - w0) as f64 / idle.as_secs_f64();
        let t = Instant::now();
        let (task, _) = start(c, BIG_SET);
        let w0 = write_syscalls();
        let tw = Instant::now();
        if let Err(e) = task.wait_till_complete(None) {
            eprintln!("official: end-to-end wait failed: {e}");
        }
        let secs = tw.elapsed().as_secs_f64();
        f.end_to_end = t.elapsed();
        let writes = (write_syscalls() - w0) as f64 - tend_rate * secs;
        f.long_job_polls_per_node_per_sec = writes / nodes / secs;
        f.long_job_interval = Duration::from_secs(1);
        f
    }
}
