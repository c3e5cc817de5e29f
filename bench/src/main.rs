//! Side-by-side benchmark of aerospike-blocking and the official `aerospike`
//! 3.x blocking client against the same server.
//!
//! ```text
//! cargo run --release --manifest-path bench/Cargo.toml -- all
//! ```
//!
//! Modes: `all` (default), `kv`, `jobs`, `bulk` (batch reads and full
//! scans), `footprint`, `load` (64 KV threads and 8 job threads for
//! `--load-secs S`, 180; not part of `all`), `allocs` (the heap allocations per
//! get and put of each client alone), and `one` (one
//! client, one workload, for profiling: `--client ours|hop|official|raw`,
//! `--mix get|put|half`, `--threads N`, records already loaded); options `--records N`
//! (100000), `--secs S` per KV run (2), `--rounds N` KV rounds (3), `--job-records N` (100000),
//! `--reps N` job starts (20), `--scan-records N,M` (100000,1000000),
//! `--no-build` (footprint without the cold
//! builds), `--out FILE` (bench/results.md). `AEROSPIKE_HOSTS` selects a
//! real cluster; otherwise the embedded cluster runs in a child process.

mod allocs;
mod bulk;
mod footprint;
mod jobs;
mod jobs_ours;
mod kv;
mod load;
mod server;
mod stats;

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kv::{KvClient, KvResult, Mix};
use server::Server;

struct Opts {
    mode: String,
    records: u64,
    secs: f64,
    job_records: u64,
    reps: usize,
    rounds: usize,
    build: bool,
    out: String,
    client: String,
    mix: String,
    threads: usize,
    scan_records: Vec<u64>,
    load_secs: u64,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        mode: "all".into(),
        records: 100_000,
        secs: 2.0,
        job_records: 100_000,
        reps: 20,
        rounds: 3,
        build: true,
        out: format!("{}/results.md", env!("CARGO_MANIFEST_DIR")),
        client: "ours".into(),
        mix: "get".into(),
        threads: 1,
        scan_records: vec![100_000, 1_000_000],
        load_secs: 180,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--records" => o.records = val().parse().expect("--records N"),
            "--secs" => o.secs = val().parse().expect("--secs S"),
            "--job-records" => o.job_records = val().parse().expect("--job-records N"),
            "--reps" => o.reps = val().parse().expect("--reps N"),
            "--rounds" => o.rounds = val().parse().expect("--rounds N"),
            "--no-build" => o.build = false,
            "--out" => o.out = val(),
            "--client" => o.client = val(),
            "--mix" => o.mix = val(),
            "--threads" => o.threads = val().parse().expect("--threads N"),
            "--load-secs" => o.load_secs = val().parse().expect("--load-secs S"),
            "--scan-records" => {
                o.scan_records = val()
                    .split(',')
                    .map(|n| n.parse().expect("--scan-records N,M"))
                    .collect();
            }
            m if !m.starts_with('-') => o.mode = m.to_owned(),
            other => panic!("unknown option {other}"),
        }
    }
    o
}

#[global_allocator]
static ALLOC: allocs::Counting = allocs::Counting;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Child modes.
    match args.get(1).map(String::as_str) {
        Some("serve") => {
            let n = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(1);
            return server::serve(n);
        }
        Some("idle") => return footprint::idle_child(&args[2], &args[3]),
        Some("scan") => return bulk::scan_child(&args[2], &args[3]),
        _ => {}
    }
    let o = parse_opts();
    let mut report = String::new();
    let _ = writeln!(report, "# Benchmark results\n");
    let _ = writeln!(
        report,
        "Server: {}. Machine: {} CPUs. Command: `{}`.\n",
        if std::env::var("AEROSPIKE_HOSTS").is_ok() {
            "real cluster (AEROSPIKE_HOSTS)"
        } else {
            "embedded cluster in a child process"
        },
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.join(" ")
    );
    let all = o.mode == "all";
    if all || o.mode == "kv" || o.mode == "allocs" {
        kv_section(&o, &mut report, o.mode != "allocs");
        print!("{report}");
    }
    if all || o.mode == "jobs" {
        let from = report.len();
        jobs_section(&o, &mut report);
        print!("{}", &report[from..]);
    }
    if all || o.mode == "bulk" {
        let from = report.len();
        bulk_section(&o, &mut report);
        print!("{}", &report[from..]);
    }
    if o.mode == "one" {
        return one(&o);
    }
    if o.mode == "load" {
        eprintln!("load: starting a 3-node server");
        let server = Server::start(3);
        let from = report.len();
        load::run(&server.seeds, o.load_secs, &mut report);
        print!("{}", &report[from..]);
    }
    if all || o.mode == "footprint" {
        let from = report.len();
        footprint_section(&o, &mut report);
        print!("{}", &report[from..]);
    }
    if let Err(e) = std::fs::write(&o.out, &report) {
        eprintln!("cannot write {}: {e}", o.out);
    } else {
        eprintln!("wrote {}", o.out);
    }
}

fn load(ours: &kv::Ours, set: &str, n: u64, extra_bin: bool) {
    use aerospike_blocking::{Bin, Key, WritePolicy};
    let threads = 8u64;
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let w = WritePolicy::default();
                let mut i = t;
                while i < n {
                    let key = Key::new(kv::NS, set, i as i64).expect("key");
                    let r = if extra_bin {
                        ours.client.put(&w, &key, &[Bin::new("n", 0i64)])
                    } else {
                        ours.put(i)
                            .then_some(())
                            .ok_or(aerospike_blocking::Error::Closed)
                    };
                    r.expect("load");
                    i += threads;
                }
            });
        }
    });
}

/// `one`: a single workload of a single client, printed, for profiling
/// under strace/perf/callgrind (use `AEROSPIKE_HOSTS` to keep the server
/// out of the traced process tree).
fn one(o: &Opts) {
    let server = Server::start(1);
    let ours = Arc::new(kv::Ours::connect(&server.seeds));
    load(&ours, kv::SET, o.records, false);
    let mix = match o.mix.as_str() {
        "put" => Mix::Put,
        "half" => Mix::Half,
        _ => Mix::Get,
    };
    let dur = Duration::from_secs_f64(o.secs);
    let r = match o.client.as_str() {
        "official" => kv::run(
            &kv::Official::connect(&server.hosts()),
            mix,
            o.threads,
            o.records,
            dur,
        ),
        "raw" => kv::run(
            &kv::Raw::new(&server.seeds[0]),
            mix,
            o.threads,
            o.records,
            dur,
        ),
        "hop" => kv::run(
            &kv::OursHop::new(ours.clone()),
            mix,
            o.threads,
            o.records,
            dur,
        ),
        _ => kv::run(&*ours, mix, o.threads, o.records, dur),
    };
    println!(
        "{} {} x{}: {:.0} ops/s, p50 {:.0} µs, p99 {:.0} µs, p99.9 {:.0} µs, CPU {:.1} µs/op, {:.2} ctx switches/op, {} errors",
        o.client,
        o.mix,
        o.threads,
        r.ops_per_sec(),
        r.lat.quantile_us(0.5),
        r.lat.quantile_us(0.99),
        r.lat.quantile_us(0.999),
        r.cpu_us_per_op(),
        r.ctx_per_op(),
        r.errors
    );
}

/// Batch reads of 100 and 5,000 keys and full scans, both clients, on a
/// 3-node cluster.
fn bulk_section(o: &Opts, report: &mut String) {
    eprintln!("bulk: starting a 3-node server");
    let server = Server::start(3);
    let ours = kv::Ours::connect(&server.seeds);
    let official = kv::Official::connect(&server.hosts());
    eprintln!("bulk: loading {} records", o.records);
    load(&ours, kv::SET, o.records, false);
    let _ = writeln!(
        report,
        "\n## Batch reads (3 nodes, random keys of {} records, all bins)\n",
        o.records
    );
    let dur = Duration::from_secs_f64(o.secs);
    let mut rows = Vec::new();
    for size in [100usize, 5000] {
        for round in 0..o.rounds {
            // The order of the clients alternates per round.
            let ours_first = round % 2 == 0;
            for pass in 0..2 {
                if (pass == 0) == ours_first {
                    let r = bulk::batch_run(
                        &|ids| bulk::ours_batch(&ours.client, ids),
                        size,
                        o.records,
                        dur,
                    );
                    rows.push(("aerospike-blocking", size, r));
                } else {
                    let r = bulk::batch_run(
                        &|ids| bulk::official_batch(&official.client, ids),
                        size,
                        o.records,
                        dur,
                    );
                    rows.push(("official aerospike 3", size, r));
                }
            }
        }
    }
    bulk::batch_table(report, &rows);
    let _ = writeln!(
        report,
        "\n## Full scans (3 nodes; records of an int and a 100-byte blob; each scan in a fresh child process)\n"
    );
    let mut rows = Vec::new();
    let mut loaded = 0;
    for &n in &o.scan_records {
        eprintln!("bulk: loading the scan set to {n} records");
        bulk::load_scan_set(&ours, loaded, n);
        loaded = loaded.max(n);
        for which in ["ours-stream", "official", "ours-collect"] {
            let r = bulk::scan_run(which, &server.hosts());
            let name = match which {
                "ours-stream" => "aerospike-blocking `stream()`",
                "ours-collect" => "aerospike-blocking `records()`",
                _ => "official aerospike 3 `Recordset`",
            };
            rows.push((name.to_owned(), n, r));
        }
    }
    bulk::scan_table(report, &rows);
}

/// The key-value tables; `timed: false` gives the allocation table alone.
fn kv_section(o: &Opts, report: &mut String, timed: bool) {
    eprintln!("kv: starting a 1-node server");
    let server = Server::start(1);
    let ours = Arc::new(kv::Ours::connect(&server.seeds));
    let official = kv::Official::connect(&server.hosts());
    let hop = kv::OursHop::new(ours.clone());
    // The floor: hand-written requests on one socket per thread (one node).
    let raw = kv::Raw::new(&server.seeds[0]);
    let t = Instant::now();
    load(&ours, kv::SET, o.records, false);
    eprintln!("kv: loaded {} records in {:.1?}", o.records, t.elapsed());
    let dur = Duration::from_secs_f64(o.secs);
    let spid = server.pid().map(|p| p.to_string());
    if timed {
        let _ = writeln!(
        report,
        "## Key-value, 1 node, {} records (int + 20-char string + 100-byte blob), random keys, {} rounds of {:.0} s per client\n",
        o.records, o.rounds, o.secs
    );
        let _ = writeln!(
        report,
        "| workload | client | ops/s (median round) | k ops/s of each round | p50 µs | p99 µs (median of the rounds) | p99 µs of each round | p99.9 µs | client CPU µs/op (median of the rounds) | ctx switches/op | server CPU µs/op | errors | ops/s vs official |"
    );
        let _ = writeln!(
            report,
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
    }
    let workloads = [
        ("get, 1 thread", Mix::Get, 1usize),
        ("put, 1 thread", Mix::Put, 1),
        ("50/50, 8 threads", Mix::Half, 8),
        ("50/50, 32 threads", Mix::Half, 32),
    ];
    let workloads = if timed { &workloads[..] } else { &[] };
    for &(name, mix, threads) in workloads {
        let mut clients: Vec<(&str, &dyn KvClient)> = vec![
            ("aerospike-blocking", &*ours),
            ("official aerospike 3", &official),
            ("raw socket loop (floor)", &raw),
        ];
        if threads <= 8 {
            clients.push(("aerospike-blocking via node worker (hop)", &hop));
        }
        // Rounds rotate the order of the clients; each client's row is its
        // median round by ops/s (the machine is shared and noisy).
        let mut runs: Vec<Vec<(KvResult, Duration)>> = clients.iter().map(|_| Vec::new()).collect();
        for round in 0..o.rounds {
            for k in 0..clients.len() {
                let i = (k + round) % clients.len();
                let (cname, c) = clients[i];
                // Warm up connections and caches, then measure.
                kv::run(c, mix, threads, o.records, Duration::from_millis(300));
                let s0 = spid.as_deref().map(stats::cpu_of);
                let r = kv::run(c, mix, threads, o.records, dur);
                let scpu = match (s0, spid.as_deref().map(stats::cpu_of)) {
                    (Some(a), Some(b)) => b.saturating_sub(a),
                    _ => Duration::ZERO,
                };
                eprintln!(
                    "kv: {name} / {cname} / round {round}: {:.0} ops/s",
                    r.ops_per_sec()
                );
                runs[i].push((r, scpu));
            }
        }
        // Tails and CPU move from round to round more than ops/s: their
        // figures are the median over the rounds, each round shown.
        let mut rows: Vec<(&str, KvResult, Duration, String, f64, String, f64)> = Vec::new();
        for ((cname, _), mut rs) in clients.iter().zip(runs) {
            let p99s: Vec<f64> = rs.iter().map(|(r, _)| r.lat.quantile_us(0.99)).collect();
            let p99_rounds = p99s
                .iter()
                .map(|p| format!("{p:.0}"))
                .collect::<Vec<_>>()
                .join("/");
            let p99 = stats::median_f64(p99s);
            let cpu = stats::median_f64(rs.iter().map(|(r, _)| r.cpu_us_per_op()).collect());
            rs.sort_by(|a, b| a.0.ops_per_sec().total_cmp(&b.0.ops_per_sec()));
            let spread = rs
                .iter()
                .map(|(r, _)| format!("{:.0}", r.ops_per_sec() / 1000.0))
                .collect::<Vec<_>>()
                .join("/");
            let (r, scpu) = rs.swap_remove(rs.len() / 2);
            rows.push((cname, r, scpu, spread, p99, p99_rounds, cpu));
        }
        let official_ops = rows
            .iter()
            .find(|(n, ..)| n.starts_with("official"))
            .map_or(f64::NAN, |(_, r, ..)| r.ops_per_sec());
        for (cname, r, scpu, spread, p99, p99_rounds, cpu) in &rows {
            let _ = writeln!(
                report,
                "| {name} | {cname} | {:.0} | {spread} | {:.0} | {p99:.0} | {p99_rounds} | {:.0} | {cpu:.1} | {:.2} | {} | {} | {:.2}× |",
                r.ops_per_sec(),
                r.lat.quantile_us(0.5),
                r.lat.quantile_us(0.999),
                r.ctx_per_op(),
                if spid.is_some() {
                    format!("{:.1}", scpu.as_secs_f64() * 1e6 / r.ops.max(1) as f64)
                } else {
                    "n/a".into()
                },
                r.errors,
                r.ops_per_sec() / official_ops,
            );
        }
    }
    let _ = writeln!(report);
    allocs_table(
        report,
        &[
            ("aerospike-blocking", &*ours),
            ("official aerospike 3", &official),
            ("raw socket loop (floor)", &raw),
        ],
        o.records,
    );
    drop(hop);
    let _ = official.client.close();
    ours.client.close();
}

/// Heap allocations per get and per put of each client, counted over 20,000
/// operations on one thread (every thread of the process counted).
fn allocs_table(report: &mut String, clients: &[(&str, &dyn KvClient)], records: u64) {
    const OPS: u64 = 20_000;
    let _ = writeln!(
        report,
        "### Heap allocations per operation (1 thread, {OPS} operations, all threads of the process counted)\n"
    );
    let _ = writeln!(
        report,
        "| client | allocations per get | bytes per get | allocations per put | bytes per put |"
    );
    let _ = writeln!(report, "|---|---:|---:|---:|---:|");
    for (name, c) in clients {
        let (ga, gb) = kv::allocs_per_op(*c, Mix::Get, records, OPS);
        let (pa, pb) = kv::allocs_per_op(*c, Mix::Put, records, OPS);
        eprintln!("kv: allocations / {name}: get {ga:.1}, put {pa:.1}");
        let _ = writeln!(report, "| {name} | {ga:.1} | {gb:.0} | {pa:.1} | {pb:.0} |");
    }
    let _ = writeln!(report);
}

fn jobs_section(o: &Opts, report: &mut String) {
    eprintln!("jobs: starting a 3-node server");
    let server = Server::start(3);
    let ours = kv::Ours::connect(&server.seeds);
    let official = aerospike::Client::new(&aerospike::ClientPolicy::default(), &server.hosts())
        .expect("official: connect");
    load(&ours, jobs::SMALL_SET, 100, true);
    load(&ours, jobs::BIG_SET, o.job_records, true);
    load(&ours, jobs::LONG_SET, jobs::LONG_SET_RECORDS, true);
    // The max of the lag needs many short jobs; each wait of the official
    // client takes 1 s, so it gets fewer (its lag is the same every time).
    let detect_reps = 30;
    eprintln!("jobs: starts, alternating");
    let [our_starts, their_starts] = jobs::alternate_starts(&ours.client, &official, o.reps);
    eprintln!("jobs: ours");
    let mine = jobs_ours::run(&ours.client, detect_reps).with_starts(our_starts);
    eprintln!("jobs: official");
    let theirs = jobs::official::run(&official, &ours.client, 3).with_starts(their_starts);
    let _ = writeln!(
        report,
        "## Background jobs, 3 nodes (one `add` op; {} starts per client on a 100-record set, the clients alternating; end to end on {} records)\n",
        o.reps, o.job_records
    );
    let _ = writeln!(
        report,
        "| measure | aerospike-blocking | official aerospike 3 |"
    );
    let _ = writeln!(report, "|---|---:|---:|");
    let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
    let lag = |l: Option<u64>| l.map_or("n/a".to_owned(), |l| format!("{l} ms"));
    let _ = writeln!(
        report,
        "| job start, median | {} | {} |",
        ms(mine.start_median),
        ms(theirs.start_median)
    );
    let _ = writeln!(
        report,
        "| job start, p90 | {} | {} |",
        ms(mine.start_p90),
        ms(theirs.start_p90)
    );
    let us = |d: Duration| format!("{:.0} µs", d.as_secs_f64() * 1e6);
    let _ = writeln!(
        report,
        "| job start, client CPU (all threads of the process), median | {} | {} |",
        us(mine.start_cpu_median),
        us(theirs.start_cpu_median)
    );
    let detect = |v: &[(Duration, u64)]| {
        if v.is_empty() {
            return "n/a".to_owned();
        }
        let waits = stats::median(v.iter().map(|x| x.0).collect());
        let mut lags: Vec<u64> = v.iter().map(|x| x.1).collect();
        lags.sort_unstable();
        format!(
            "wait {} / lag median {} ms, max {} ms",
            ms(waits),
            lags[lags.len() / 2],
            lags[lags.len() - 1]
        )
    };
    let _ = writeln!(
        report,
        "| short job: `wait()` default options (wait time / time from last node done to return; {} / {} jobs) | {} | {} |",
        mine.detect_default.len(),
        theirs.detect_default.len(),
        detect(&mine.detect_default),
        detect(&theirs.detect_default)
    );
    let _ = writeln!(
        report,
        "| short job: `wait()` smallest interval (1 ms) | {} | same as default (fixed 1 s sleep before each poll) |",
        detect(&mine.detect_fast),
    );
    let _ = writeln!(
        report,
        "| long job ({} records/s per node, 3000 records, ~10 s), default `wait()`: status requests per node per second, 2–5 s into the wait / whole wait (poll interval) | {:.2} / {:.2} ({:?}) | {:.2} / {:.2} ({:?}) |",
        jobs::LONG_JOB_RPS,
        mine.long_job_polls_steady,
        mine.long_job_polls_whole,
        mine.long_job_interval,
        theirs.long_job_polls_steady,
        theirs.long_job_polls_whole,
        theirs.long_job_interval
    );
    let _ = writeln!(
        report,
        "| the same long job: status requests per node per second over the whole wait, counted by the client (`ExecuteTask::status_requests`) | {} | not counted by that client |",
        mine.long_job_counted.map_or("n/a".into(), |v| format!("{v:.2}"))
    );
    let _ = writeln!(
        report,
        "| end to end: update {} records, start + wait (of which after the job ended) | {} ({}) | {} ({}) |\n",
        o.job_records,
        ms(mine.end_to_end),
        lag(mine.end_to_end_lag_ms),
        ms(theirs.end_to_end),
        lag(theirs.end_to_end_lag_ms),
    );
    let _ = official.close();
    ours.client.close();
}

fn footprint_section(o: &Opts, report: &mut String) {
    eprintln!(
        "footprint: minimal programs (cold release builds: {})",
        o.build
    );
    let ours = footprint::build("ours", o.build);
    let theirs = footprint::build("official", o.build);
    eprintln!("footprint: idle processes against a 3-node server");
    let server = Server::start(3);
    let hosts = server.hosts();
    let _ = writeln!(report, "## Footprint\n");
    let _ = writeln!(
        report,
        "| measure | aerospike-blocking | official aerospike 3 |"
    );
    let _ = writeln!(report, "|---|---:|---:|");
    let minimal = |b: &footprint::Build| {
        b.bin
            .as_deref()
            .and_then(|bin| footprint::idle_minimal(bin, &hosts))
    };
    let (ma, mb) = (minimal(&ours), minimal(&theirs));
    let cell = |m: Option<(u64, u64)>, f: fn((u64, u64)) -> String| m.map_or("n/a".into(), f);
    let _ = writeln!(
        report,
        "| minimal program (connect + one get), idle 3 s connected to 3 nodes: RSS | {} | {} |",
        cell(ma, |m| format!("{} KiB", m.0)),
        cell(mb, |m| format!("{} KiB", m.0)),
    );
    let _ = writeln!(
        report,
        "| same: threads | {} | {} |",
        cell(ma, |m| m.1.to_string()),
        cell(mb, |m| m.1.to_string()),
    );
    let a = footprint::idle("ours", &hosts);
    let b = footprint::idle("official", &hosts);
    let cell = |i: &Option<footprint::Idle>, f: fn(&footprint::Idle) -> String| {
        i.as_ref().map_or("n/a".into(), f)
    };
    let _ = writeln!(
        report,
        "| bench binary (links both clients), idle 3 s connected to 3 nodes: RSS (before connecting) | {} | {} |",
        cell(&a, |i| format!("{} KiB ({} KiB)", i.rss_kib, i.base_rss_kib)),
        cell(&b, |i| format!("{} KiB ({} KiB)", i.rss_kib, i.base_rss_kib)),
    );
    let _ = writeln!(
        report,
        "| same: threads (before connecting) | {} | {} |",
        cell(&a, |i| format!("{} ({})", i.threads, i.base_threads)),
        cell(&b, |i| format!("{} ({})", i.threads, i.base_threads)),
    );
    drop(server);
    let kib = |b: &footprint::Build| {
        b.stripped_bytes
            .map_or("n/a".into(), |s| format!("{} KiB", s / 1024))
    };
    let secs = |b: &footprint::Build| {
        b.cold_build
            .map_or("n/a".into(), |d| format!("{:.1} s", d.as_secs_f64()))
    };
    let _ = writeln!(
        report,
        "| stripped release binary, connect + one get | {} | {} |",
        kib(&ours),
        kib(&theirs)
    );
    let _ = writeln!(
        report,
        "| `cargo tree -e normal` lines (unique crates) | {} ({}) | {} ({}) |",
        ours.tree_lines, ours.tree_unique, theirs.tree_lines, theirs.tree_unique
    );
    let _ = writeln!(
        report,
        "| cold release build of the minimal program (fresh target dir, sources already downloaded, {} CPUs, machine shared) | {} | {} |\n",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        secs(&ours),
        secs(&theirs)
    );
}
