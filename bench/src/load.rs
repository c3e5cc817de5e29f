//! `load`: 64 threads of mixed key-value traffic and 8 background jobs at
//! once, for minutes, on one client (issue 12's load run). Reports what was
//! done, what failed, the process's threads, open descriptors and resident
//! size over the run, then checks that every acknowledged write is readable
//! with its last value and that every job's outcome is true.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aerospike_blocking::background::DataSet;
use aerospike_blocking::batch::BatchPolicy;
use aerospike_blocking::task::{Outcome, WaitOptions};
use aerospike_blocking::{Bin, Bins, Client, Key, ReadPolicy, Value, WritePolicy};

use crate::kv::NS;
use crate::stats::{self, nanos, Latencies, XorShift};

const KV_SET: &str = "load_kv";
const KV_THREADS: u64 = 64;
const JOB_THREADS: u64 = 8;
/// Keys each KV thread writes (its own range, so the last acknowledged
/// value of every key is known).
const KEYS_PER_THREAD: u64 = 2_000;
/// Records in each job's set.
const JOB_RECORDS: i64 = 2_000;

/// Open file descriptors of this process.
fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

/// What one KV thread did.
struct KvThread {
    lat: Vec<u32>,
    errors: u64,
    /// Last acknowledged value of each key written.
    acked: HashMap<u64, i64>,
    /// Writes that failed in doubt (may or may not have been applied).
    in_doubt: u64,
}

fn kv_thread(client: &Client, t: u64, stop: &AtomicBool) -> KvThread {
    let mut rng = XorShift::new(t + 17);
    let (wp, rp) = (WritePolicy::default(), ReadPolicy::default());
    let mut out = KvThread {
        lat: Vec::with_capacity(1 << 18),
        errors: 0,
        acked: HashMap::new(),
        in_doubt: 0,
    };
    let mut seq = 0i64;
    while !stop.load(Ordering::Relaxed) {
        let r = rng.next();
        let id = t * KEYS_PER_THREAD + r % KEYS_PER_THREAD;
        let key = Key::new(NS, KV_SET, id as i64).expect("key");
        let s = Instant::now();
        if r >> 63 == 1 {
            seq += 1;
            match client.put(&wp, &key, &[Bin::new("v", seq)]) {
                Ok(()) => {
                    out.acked.insert(id, seq);
                }
                Err(e) => {
                    out.errors += 1;
                    if e.in_doubt() {
                        // Either value may be there now: forget the key.
                        out.acked.remove(&id);
                        out.in_doubt += 1;
                    }
                }
            }
        } else if client.get(&rp, &key, Bins::All).is_err() {
            out.errors += 1;
        }
        out.lat.push(nanos(s.elapsed()));
    }
    out
}

/// What one job thread saw.
#[derive(Default)]
struct JobThread {
    jobs: u64,
    completed: u64,
    wrong: Vec<String>,
}

fn job_thread(client: &Client, j: u64, stop: &AtomicBool) -> JobThread {
    let set = format!("load_job_{j}");
    let ds = DataSet::of(NS, &set);
    let mut out = JobThread::default();
    let mut expected = 0i64;
    while !stop.load(Ordering::Relaxed) {
        let task = match client
            .session()
            .background_task()
            .update(&ds)
            .bin("n")
            .add(1)
            .execute()
        {
            Ok(t) => t,
            Err(e) => {
                out.wrong.push(format!("start: {e}"));
                continue;
            }
        };
        out.jobs += 1;
        match task.wait(WaitOptions::default().poll_interval(Duration::from_millis(200))) {
            Ok(Outcome::Completed) => {
                out.completed += 1;
                expected += 1;
                // A completed job touched every record once.
                let records = client.query(&ds).records().unwrap_or_default();
                let bad = records
                    .iter()
                    .filter(|r| r.bin("n").and_then(Value::as_int) != Some(expected))
                    .count();
                if records.len() != JOB_RECORDS as usize || bad > 0 {
                    out.wrong.push(format!(
                        "job {} completed but {} of {} records hold n = {expected}",
                        task.task_id(),
                        records.len() - bad,
                        records.len()
                    ));
                }
            }
            other => out.wrong.push(format!("job {}: {other:?}", task.task_id())),
        }
    }
    out
}

/// Runs the load for `secs` seconds against `seeds`; appends the report.
pub fn run(seeds: &[String], secs: u64, report: &mut String) {
    let client =
        Client::connect(seeds, &aerospike_blocking::ClientPolicy::default()).expect("connect");
    let wp = WritePolicy::default();
    for j in 0..JOB_THREADS {
        for i in 0..JOB_RECORDS {
            let key = Key::new(NS, &format!("load_job_{j}"), i).expect("key");
            client.put(&wp, &key, &[Bin::new("n", 0)]).expect("load");
        }
    }
    let (threads0, fds0, rss0) = (
        stats::rss_and_threads().1,
        open_fds(),
        stats::rss_and_threads().0,
    );
    let stop = AtomicBool::new(false);
    let (max_threads, max_fds, max_rss) = (AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0));
    let samples = Mutex::new(Vec::new());
    let t0 = Instant::now();
    let (kv, jobs) = std::thread::scope(|s| {
        let kv: Vec<_> = (0..KV_THREADS)
            .map(|t| {
                let (client, stop) = (&client, &stop);
                s.spawn(move || kv_thread(client, t, stop))
            })
            .collect();
        let jobs: Vec<_> = (0..JOB_THREADS)
            .map(|j| {
                let (client, stop) = (&client, &stop);
                s.spawn(move || job_thread(client, j, stop))
            })
            .collect();
        let end = t0 + Duration::from_secs(secs);
        while Instant::now() < end {
            std::thread::sleep(Duration::from_secs(1));
            let (rss, threads) = stats::rss_and_threads();
            let fds = open_fds();
            max_threads.fetch_max(threads, Ordering::Relaxed);
            max_fds.fetch_max(fds, Ordering::Relaxed);
            max_rss.fetch_max(rss, Ordering::Relaxed);
            samples
                .lock()
                .expect("samples")
                .push((t0.elapsed().as_secs(), threads, fds, rss));
        }
        stop.store(true, Ordering::Relaxed);
        let kv: Vec<KvThread> = kv.into_iter().map(|h| h.join().expect("kv")).collect();
        let jobs: Vec<JobThread> = jobs.into_iter().map(|h| h.join().expect("job")).collect();
        (kv, jobs)
    });
    let elapsed = t0.elapsed();
    // Every acknowledged write must read back with its last value.
    let mut acked: Vec<(u64, i64)> = kv
        .iter()
        .flat_map(|k| k.acked.iter().map(|(a, b)| (*a, *b)))
        .collect();
    acked.sort_unstable();
    let mut unreadable = 0u64;
    for chunk in acked.chunks(5_000) {
        let keys: Vec<Key> = chunk
            .iter()
            .map(|(id, _)| Key::new(NS, KV_SET, *id as i64).expect("key"))
            .collect();
        let got = client
            .batch_get(&BatchPolicy::default(), &keys, Bins::All)
            .expect("verify");
        for ((_, want), r) in chunk.iter().zip(got) {
            if r.record()
                .and_then(|rec| rec.bin("v"))
                .and_then(Value::as_int)
                != Some(*want)
            {
                unreadable += 1;
            }
        }
    }
    let ops: u64 = kv.iter().map(|k| k.lat.len() as u64).sum();
    let errors: u64 = kv.iter().map(|k| k.errors).sum();
    let in_doubt: u64 = kv.iter().map(|k| k.in_doubt).sum();
    let lat = Latencies::new(kv.into_iter().flat_map(|k| k.lat).collect());
    let job_count: u64 = jobs.iter().map(|j| j.jobs).sum();
    let completed: u64 = jobs.iter().map(|j| j.completed).sum();
    let wrong: Vec<String> = jobs.into_iter().flat_map(|j| j.wrong).collect();
    let _ = writeln!(
        report,
        "\n## Load: {KV_THREADS} KV threads (50/50 get/put) + {JOB_THREADS} background-job threads, {:.0} s\n",
        elapsed.as_secs_f64()
    );
    let _ = writeln!(report, "| figure | value |\n|---|---:|");
    let rows = [
        ("KV operations", ops.to_string()),
        (
            "KV ops/s",
            format!("{:.0}", ops as f64 / elapsed.as_secs_f64()),
        ),
        (
            "KV p50 / p99 / p99.9",
            format!(
                "{:.0} / {:.0} / {:.0} µs",
                lat.quantile_us(0.5),
                lat.quantile_us(0.99),
                lat.quantile_us(0.999)
            ),
        ),
        (
            "KV errors (of which writes in doubt)",
            format!("{errors} ({in_doubt})"),
        ),
        (
            "acknowledged keys checked afterwards",
            acked.len().to_string(),
        ),
        (
            "acknowledged writes not readable with their last value",
            unreadable.to_string(),
        ),
        (
            "background jobs started / completed",
            format!("{job_count} / {completed}"),
        ),
        ("jobs whose outcome was not true", wrong.len().to_string()),
        (
            "threads: before / max",
            format!("{threads0} / {}", max_threads.load(Ordering::Relaxed)),
        ),
        (
            "open descriptors: before / max",
            format!("{fds0} / {}", max_fds.load(Ordering::Relaxed)),
        ),
        (
            "resident size: before / max",
            format!(
                "{:.1} / {:.1} MiB",
                rss0 as f64 / 1024.0,
                max_rss.load(Ordering::Relaxed) as f64 / 1024.0
            ),
        ),
    ];
    for (k, v) in rows {
        let _ = writeln!(report, "| {k} | {v} |");
    }
    let samples = samples.into_inner().expect("samples");
    let _ = writeln!(
        report,
        "\nEvery 30 s: seconds, threads, open descriptors, RSS MiB:"
    );
    let line: Vec<String> = samples
        .iter()
        .filter(|(s, ..)| s % 30 == 0)
        .map(|(s, t, f, r)| format!("{s}s {t}/{f}/{:.0}", *r as f64 / 1024.0))
        .collect();
    let _ = writeln!(report, "{}", line.join(", "));
    for w in wrong.iter().take(10) {
        let _ = writeln!(report, "\n* {w}");
    }
}
