//! Batch reads and full scans, both clients in one run against the same
//! server: batch gets of 100 and 5,000 keys (batches/s, keys/s, p99), and a
//! scan of every record of a set (records/s and the client's peak RSS while
//! it runs: our stream, our `records()` that collects, the official
//! `Recordset`).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::kv;
use crate::stats::{nanos, Latencies, XorShift};

/// Set holding the scan's records (the KV set is reused for batches).
const SCAN_SET: &str = "bench_scan";

/// One batch workload's figures.
pub struct BatchResult {
    pub batches: u64,
    pub keys: u64,
    pub elapsed: Duration,
    pub lat: Latencies,
    pub missing: u64,
}

/// Runs batches of `size` random keys out of `records` for `dur`.
pub fn batch_run(
    get: &dyn Fn(&[u64]) -> u64,
    size: usize,
    records: u64,
    dur: Duration,
) -> BatchResult {
    let mut rng = XorShift::new(size as u64 * 7919);
    let mut samples = Vec::new();
    let (mut batches, mut missing) = (0u64, 0u64);
    let start = Instant::now();
    while start.elapsed() < dur {
        let ids: Vec<u64> = (0..size).map(|_| rng.next() % records).collect();
        let t = Instant::now();
        let found = get(&ids);
        samples.push(nanos(t.elapsed()));
        missing += size as u64 - found;
        batches += 1;
    }
    BatchResult {
        batches,
        keys: batches * size as u64,
        elapsed: start.elapsed(),
        lat: Latencies::new(samples),
        missing,
    }
}

/// Ours: `batch_get` of all bins; returns how many keys were found.
pub fn ours_batch(client: &aerospike_blocking::Client, ids: &[u64]) -> u64 {
    use aerospike_blocking::batch::BatchPolicy;
    use aerospike_blocking::{Bins, Key};
    let keys: Vec<Key> = ids
        .iter()
        .map(|&i| Key::new(kv::NS, kv::SET, i as i64).expect("key"))
        .collect();
    let got = client
        .batch_get(&BatchPolicy::default(), &keys, Bins::All)
        .expect("ours: batch_get");
    got.iter().filter(|r| r.record().is_some()).count() as u64
}

/// The official client: `batch` of reads of all bins.
pub fn official_batch(client: &aerospike::Client, ids: &[u64]) -> u64 {
    use aerospike::{BatchOperation, BatchPolicy, BatchReadPolicy, Bins, Key, Value};
    let rp = BatchReadPolicy::default();
    let mut ops: Vec<BatchOperation> = ids
        .iter()
        .map(|&i| {
            let key = Key::new(kv::NS, kv::SET, Value::from(i as i64)).expect("key");
            BatchOperation::read(&rp, key, Bins::All)
        })
        .collect();
    client
        .batch(&BatchPolicy::default(), &mut ops)
        .expect("official: batch");
    ops.iter().filter(|o| o.record().is_some()).count() as u64
}

/// One scan's figures, measured in a child process of its own so that the
/// peak resident size (`VmHWM`) belongs to that scan alone.
pub struct ScanResult {
    pub records: u64,
    pub elapsed: Duration,
    /// Resident size after connecting, before the scan.
    pub base_kib: u64,
    /// Peak resident size of the whole child process.
    pub peak_kib: u64,
}

/// `VmRSS` or `VmHWM` of this process, in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Child mode `scan <ours-stream|ours-collect|official> <hosts>`: connects,
/// scans the set and prints `records secs base_kib peak_kib`.
pub fn scan_child(which: &str, hosts: &str) {
    let run: Box<dyn Fn() -> u64> = match which {
        "official" => {
            let c = kv::Official::connect(hosts);
            Box::new(move || official_scan(&c.client))
        }
        other => {
            let seeds: Vec<String> = hosts.split(',').map(str::to_owned).collect();
            let c = kv::Ours::connect(&seeds);
            let collect = other == "ours-collect";
            Box::new(move || {
                if collect {
                    ours_collect(&c.client)
                } else {
                    ours_stream(&c.client)
                }
            })
        }
    };
    let base = status_kib("VmRSS:");
    let t = Instant::now();
    let n = run();
    let secs = t.elapsed().as_secs_f64();
    println!("{n} {secs} {base} {}", status_kib("VmHWM:"));
}

/// Runs one scan in a child process (this binary in `scan` mode).
pub fn scan_run(which: &str, hosts: &str) -> ScanResult {
    let exe = std::env::current_exe().expect("own executable");
    let out = std::process::Command::new(exe)
        .args(["scan", which, hosts])
        .output()
        .expect("run the scan child");
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(
        f.len(),
        4,
        "scan child said: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    ScanResult {
        records: f[0].parse().expect("records"),
        elapsed: Duration::from_secs_f64(f[1].parse().expect("secs")),
        base_kib: f[2].parse().expect("base"),
        peak_kib: f[3].parse().expect("peak"),
    }
}

/// Ours, streamed: counts the records without keeping them.
pub fn ours_stream(client: &aerospike_blocking::Client) -> u64 {
    use aerospike_blocking::background::DataSet;
    let mut n = 0;
    for r in client
        .query(&DataSet::of(kv::NS, SCAN_SET))
        .stream()
        .expect("ours: stream")
    {
        r.expect("ours: record");
        n += 1;
    }
    n
}

/// Ours, collected in a `Vec` (what a stream avoids).
pub fn ours_collect(client: &aerospike_blocking::Client) -> u64 {
    use aerospike_blocking::background::DataSet;
    client
        .query(&DataSet::of(kv::NS, SCAN_SET))
        .records()
        .expect("ours: records")
        .len() as u64
}

/// The official client: a `Recordset` iterated as it fills.
pub fn official_scan(client: &aerospike::Client) -> u64 {
    use aerospike::{PartitionFilter, QueryPolicy, Statement};
    let rs = client
        .query(
            &QueryPolicy::default(),
            PartitionFilter::all(),
            Statement::new(kv::NS, SCAN_SET, aerospike::Bins::All),
        )
        .expect("official: query");
    let mut n = 0;
    for r in &*rs {
        r.expect("official: record");
        n += 1;
    }
    n
}

/// Loads records `from..n` (an int and a 100-byte blob) into the scan set.
pub fn load_scan_set(ours: &kv::Ours, from: u64, n: u64) {
    use aerospike_blocking::{Bin, Key, Value, WritePolicy};
    let threads = 8u64;
    std::thread::scope(|s| {
        for t in 0..threads {
            s.spawn(move || {
                let w = WritePolicy::default();
                let blob = Value::Blob(vec![7u8; 100]);
                let mut i = from + t;
                while i < n {
                    let key = Key::new(kv::NS, SCAN_SET, i as i64).expect("key");
                    let bins = [Bin::new("i", i as i64), Bin::new("b", blob.clone())];
                    ours.client.put(&w, &key, &bins).expect("load");
                    i += threads;
                }
            });
        }
    });
}

/// Appends the batch table.
pub fn batch_table(report: &mut String, rows: &[(&str, usize, BatchResult)]) {
    let _ = writeln!(
        report,
        "| client | keys per batch | batches/s | keys/s | p50 | p99 | keys missing |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for (name, size, r) in rows {
        let secs = r.elapsed.as_secs_f64();
        let _ = writeln!(
            report,
            "| {name} | {size} | {:.0} | {:.0} | {:.2} ms | {:.2} ms | {} |",
            r.batches as f64 / secs,
            r.keys as f64 / secs,
            r.lat.quantile_us(0.5) / 1000.0,
            r.lat.quantile_us(0.99) / 1000.0,
            r.missing
        );
    }
}

/// Appends the scan table.
pub fn scan_table(report: &mut String, rows: &[(String, u64, ScanResult)]) {
    let _ = writeln!(
        report,
        "| client | records in the set | records read | records/s | RSS after connect | peak RSS | growth |\n|---|---:|---:|---:|---:|---:|---:|"
    );
    for (name, size, r) in rows {
        let _ = writeln!(
            report,
            "| {name} | {size} | {} | {:.0} | {:.1} MiB | {:.1} MiB | {:.1} MiB |",
            r.records,
            r.records as f64 / r.elapsed.as_secs_f64(),
            r.base_kib as f64 / 1024.0,
            r.peak_kib as f64 / 1024.0,
            r.peak_kib.saturating_sub(r.base_kib) as f64 / 1024.0
        );
    }
}
