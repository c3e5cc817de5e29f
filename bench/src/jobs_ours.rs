//! Job figures for aerospike-blocking's background-task API.

use std::time::{Duration, Instant};

use aerospike_blocking::background::DataSet;
use aerospike_blocking::task::{ExecuteTask, Outcome, WaitOptions};
use aerospike_blocking::Client;

use crate::jobs::{self, JobFigures, BIG_SET, SMALL_SET};
use crate::stats;

/// Starts the job; returns its task, the wall time and the process CPU time
/// the start took.
pub fn start(c: &Client, set: &str, rps: u32) -> (ExecuteTask, Duration, Duration) {
    let ds = DataSet::of(crate::kv::NS, set);
    let cpu = stats::process_cpu_precise();
    let t = Instant::now();
    let mut b = c.session().background_task().update(&ds).bin("n").add(1);
    if rps > 0 {
        b = b.records_per_second(rps);
    }
    let task = b.execute().expect("ours: start");
    let wall = t.elapsed();
    (task, wall, stats::process_cpu_precise().saturating_sub(cpu))
}

fn detect(c: &Client, opts: WaitOptions, reps: usize) -> Vec<(Duration, u64)> {
    let mut v = Vec::new();
    for _ in 0..reps {
        let (task, ..) = start(c, SMALL_SET, 0);
        let t = Instant::now();
        let outcome = task.wait(opts);
        let waited = t.elapsed();
        match outcome {
            Ok(Outcome::Completed) => v.push((
                waited,
                jobs::since_done_ms(c, task.task_id()).unwrap_or(u64::MAX),
            )),
            other => eprintln!("ours: wait gave {other:?}"),
        }
        jobs::settle(c, task.task_id());
    }
    v
}

pub fn run(c: &Client, detect_reps: usize) -> JobFigures {
    let mut f = JobFigures {
        detect_default: detect(c, WaitOptions::default(), detect_reps),
        detect_fast: detect(
            c,
            WaitOptions::default().poll_interval(Duration::from_millis(1)),
            detect_reps,
        ),
        ..JobFigures::default()
    };
    // A long job, waited for with the default options (1 s interval).
    let (task, ..) = start(c, jobs::LONG_SET, jobs::LONG_JOB_RPS);
    let mut waited = Duration::ZERO;
    (f.long_job_polls_steady, f.long_job_polls_whole) =
        jobs::long_job_polls(c.nodes().len(), || {
            let t = Instant::now();
            if let Err(e) = task.wait(WaitOptions::default()) {
                eprintln!("ours: long job wait failed: {e}");
            }
            waited = t.elapsed();
        });
    f.long_job_counted = Some(
        task.status_requests() as f64
            / c.nodes().len().max(1) as f64
            / waited.as_secs_f64().max(1e-3),
    );
    f.long_job_interval = WaitOptions::default().poll_interval;
    jobs::settle(c, task.task_id());
    let t = Instant::now();
    let (task, ..) = start(c, BIG_SET, 0);
    match task.wait(WaitOptions::default()) {
        Ok(Outcome::Completed) => {}
        other => eprintln!("ours: end-to-end wait gave {other:?}"),
    }
    f.end_to_end = t.elapsed();
    f.end_to_end_lag_ms = jobs::since_done_ms(c, task.task_id());
    f
}
