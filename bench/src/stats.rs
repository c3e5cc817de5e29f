//! Measurement helpers: latency percentiles and the process's own CPU time,
//! context switches, RSS and thread count read from /proc/self.

use std::fs;
use std::time::Duration;

/// Clock ticks per second of `/proc/self/stat` (USER_HZ, 100 on Linux).
const TICKS_PER_SEC: f64 = 100.0;

/// CPU time (user + system) of this whole process so far, all threads,
/// including threads that already ended.
pub fn process_cpu() -> Duration {
    cpu_of("self")
}

/// CPU time (user + system) of this whole process so far, to the
/// nanosecond (`CLOCK_PROCESS_CPUTIME_ID`): for spans too short for the
/// 10 ms ticks of [`process_cpu`].
pub fn process_cpu_precise() -> Duration {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

/// CPU time (user + system) of process `pid` ("self" for this one).
pub fn cpu_of(pid: &str) -> Duration {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)` part: state is field 3; utime 14, stime 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // `rest` starts at field 3, so field N is index N - 3.
    Duration::from_secs_f64((ticks(14 - 3) + ticks(15 - 3)) / TICKS_PER_SEC)
}

/// Sum of voluntary + involuntary context switches of the live threads.
pub fn context_switches() -> u64 {
    let mut total = 0;
    if let Ok(dir) = fs::read_dir("/proc/self/task") {
        for t in dir.flatten() {
            total += switches_in(&t.path().join("status"));
        }
    }
    total
}

/// Context switches of the calling thread so far.
pub fn thread_context_switches() -> u64 {
    switches_in(std::path::Path::new("/proc/thread-self/status"))
}

fn switches_in(path: &std::path::Path) -> u64 {
    let status = fs::read_to_string(path).unwrap_or_default();
    status
        .lines()
        .filter_map(|line| {
            line.strip_prefix("voluntary_ctxt_switches:")
                .or_else(|| line.strip_prefix("nonvoluntary_ctxt_switches:"))
        })
        .filter_map(|v| v.trim().parse::<u64>().ok())
        .sum()
}

/// `(VmRSS in KiB, Threads)` of this process.
pub fn rss_and_threads() -> (u64, u64) {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("Threads:"))
}

/// Latencies of one run, sorted.
pub struct Latencies(Vec<u32>);

impl Latencies {
    /// Sorts the samples (nanoseconds, capped at u32::MAX).
    pub fn new(mut samples: Vec<u32>) -> Latencies {
        samples.sort_unstable();
        Latencies(samples)
    }

    /// The `q` quantile (0..=1) in microseconds.
    pub fn quantile_us(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let i = ((self.0.len() as f64 - 1.0) * q).round() as usize;
        self.0[i.min(self.0.len() - 1)] as f64 / 1000.0
    }
}

/// Nanoseconds of `d`, saturated to u32 (4.29 s).
pub fn nanos(d: Duration) -> u32 {
    u32::try_from(d.as_nanos()).unwrap_or(u32::MAX)
}

/// Median of durations.
pub fn median(mut v: Vec<Duration>) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    v[v.len() / 2]
}

/// The median of `v` (the mean of the middle two for an even count).
pub fn median_f64(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A tiny xorshift generator: random keys without a crate.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> XorShift {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}
