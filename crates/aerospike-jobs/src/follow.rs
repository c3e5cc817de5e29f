//! Following a running job: progress bars on a terminal, plain lines
//! otherwise, JSON lines with `--json`; detaching or cancelling on Ctrl-C.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aerospike_blocking::task::{ExecuteTask, Outcome, Progress};
use aerospike_blocking::Error;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;

/// How results are shown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Show {
    /// One JSON object per result.
    pub(crate) json: bool,
    /// Nothing but errors.
    pub(crate) quiet: bool,
}

impl Show {
    /// Prints a result: `value` as one JSON line, or `text()`.
    pub(crate) fn result(self, value: serde_json::Value, text: impl FnOnce() -> String) {
        if self.json {
            println!("{value}");
        } else if !self.quiet {
            println!("{}", text());
        }
    }
}

/// How following a job ended.
pub(crate) enum Ending {
    /// Every node finished.
    Done(Outcome, Progress),
    /// The `--timeout` ran out; the job keeps running.
    TimedOut(Progress),
    /// Ctrl-C: detached; the job keeps running.
    Detached(Progress),
}

/// Time between status polls.
const POLL: Duration = Duration::from_millis(200);
/// Time between plain progress lines.
const LINE_EVERY: Duration = Duration::from_secs(2);

/// Every node's row, for JSON output.
pub(crate) fn nodes_json(p: &Progress) -> serde_json::Value {
    p.nodes
        .iter()
        .map(|n| {
            json!({
                "node": n.node,
                "status": n.info.as_ref().map(|i| i.status.clone()),
                "percent": n.info.as_ref().map_or(0.0, |i| i.progress_percent),
                "partitions": n.partitions.len(),
            })
        })
        .collect::<Vec<_>>()
        .into()
}

fn rate(p: &Progress) -> f64 {
    let secs = p.run_time.as_secs_f64();
    if secs > 0.0 {
        p.succeeded as f64 / secs
    } else {
        0.0
    }
}

/// Follows `task` until it ends, `timeout` runs out or Ctrl-C (`interrupt`).
/// `live` draws progress while waiting (bars on a terminal, else lines).
pub(crate) fn follow(
    task: &ExecuteTask,
    show: Show,
    live: bool,
    timeout: Option<Duration>,
    interrupt: &AtomicBool,
    cancel_on_interrupt: bool,
) -> Result<Ending, Error> {
    let start = Instant::now();
    let bars = live && !show.json && !show.quiet && std::io::stdout().is_terminal();
    let multi = MultiProgress::new();
    let mut node_bars: Vec<ProgressBar> = Vec::new();
    let mut total: Option<ProgressBar> = None;
    let mut last_line = Instant::now() - LINE_EVERY;
    let mut cancelled = false;
    loop {
        let p = task.progress()?;
        if bars {
            if total.is_none() {
                let style = ProgressStyle::with_template("{prefix:>18} [{bar:30}] {pos:>3}% {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> ");
                for n in &p.nodes {
                    let b = multi.add(ProgressBar::new(100).with_style(style.clone()));
                    b.set_prefix(n.node.clone());
                    node_bars.push(b);
                }
                let t = multi.add(ProgressBar::new(100).with_style(style));
                t.set_prefix("total");
                total = Some(t);
            }
            for (b, n) in node_bars.iter().zip(&p.nodes) {
                let info = n.info.as_ref();
                b.set_position(info.map_or(0.0, |i| i.progress_percent) as u64);
                b.set_message(info.map(|i| i.status.clone()).unwrap_or_default());
            }
            if let Some(t) = &total {
                t.set_position(p.percent as u64);
                let eta = if p.percent > 0.0 && p.percent < 100.0 {
                    let left = p.run_time.as_secs_f64() * (100.0 - p.percent) / p.percent;
                    format!(", ETA {left:.0}s")
                } else {
                    String::new()
                };
                t.set_message(format!(
                    "{} ok, {} failed, {:.0} rec/s{eta}",
                    p.succeeded,
                    p.failed,
                    rate(&p)
                ));
            }
        } else if live && last_line.elapsed() >= LINE_EVERY {
            last_line = Instant::now();
            if show.json {
                println!(
                    "{}",
                    json!({
                        "event": "progress", "task_id": task.task_id(), "percent": p.percent,
                        "succeeded": p.succeeded, "failed": p.failed, "nodes": nodes_json(&p),
                    })
                );
            } else if !show.quiet {
                println!(
                    "job {}: {:.1}% ({}; {} ok, {} failed, {:.0} rec/s)",
                    task.task_id(),
                    p.percent,
                    p.status,
                    p.succeeded,
                    p.failed,
                    rate(&p)
                );
            }
        }
        if let Some(outcome) = p.outcome() {
            for b in node_bars.iter().chain(&total) {
                b.finish();
            }
            // A completed job whose partitions migrated may have missed or
            // repeated records: say so (ExecuteTask::moved_partitions).
            let outcome = match (outcome, task.moved_partitions()) {
                (Outcome::Completed, moved) if !moved.is_empty() => {
                    Outcome::PartitionsMoved { partitions: moved }
                }
                (outcome, _) => outcome,
            };
            return Ok(Ending::Done(outcome, p));
        }
        if interrupt.load(Ordering::SeqCst) {
            if !cancel_on_interrupt {
                for b in node_bars.iter().chain(&total) {
                    b.abandon();
                }
                return Ok(Ending::Detached(p));
            }
            if !cancelled {
                task.cancel()?;
                cancelled = true;
            }
        }
        if timeout.is_some_and(|t| start.elapsed() >= t) {
            for b in node_bars.iter().chain(&total) {
                b.abandon();
            }
            return Ok(Ending::TimedOut(p));
        }
        std::thread::sleep(POLL);
    }
}
