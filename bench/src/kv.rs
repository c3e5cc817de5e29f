//! Key-value workloads run the same way against each client.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::stats::{self, Latencies, XorShift};

pub const NS: &str = "test";
pub const SET: &str = "bench";
const STR20: &str = "abcdefghijklmnopqrst";

/// One client under test. Every call builds its key from `id` (the digest
/// is part of the cost of an operation in both clients).
pub trait KvClient: Send + Sync {
    fn put(&self, id: u64) -> bool;
    fn get(&self, id: u64) -> bool;
}

/// What one workload run measured.
pub struct KvResult {
    pub ops: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub cpu: Duration,
    pub ctx_switches: u64,
    pub lat: Latencies,
}

impl KvResult {
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }
    pub fn cpu_us_per_op(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e6 / self.ops.max(1) as f64
    }
    pub fn ctx_per_op(&self) -> f64 {
        self.ctx_switches as f64 / self.ops.max(1) as f64
    }
}

/// The mix of a workload.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mix {
    Get,
    Put,
    Half,
}

/// Runs `threads` threads for `dur` doing `mix` over random keys in
/// `0..records`. With one thread the work runs on the calling thread.
pub fn run(
    client: &dyn KvClient,
    mix: Mix,
    threads: usize,
    records: u64,
    dur: Duration,
) -> KvResult {
    let stop = AtomicBool::new(false);
    let cpu0 = stats::process_cpu();
    let ctx0 = stats::context_switches();
    let t0 = Instant::now();
    // Worker threads of a multi-thread run end before the totals are read,
    // so they count their own switches.
    let worker = |seed: u64| {
        let own0 = (threads > 1).then(stats::thread_context_switches);
        let mut rng = XorShift::new(seed + 1);
        let mut lat = Vec::with_capacity(1 << 16);
        let mut errors = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let r = rng.next();
            let id = r % records;
            let put = match mix {
                Mix::Get => false,
                Mix::Put => true,
                Mix::Half => r >> 63 == 1,
            };
            let s = Instant::now();
            let ok = if put { client.put(id) } else { client.get(id) };
            lat.push(stats::nanos(s.elapsed()));
            errors += u64::from(!ok);
        }
        let own = own0.map_or(0, |c| stats::thread_context_switches().saturating_sub(c));
        (lat, errors, own)
    };
    let outcomes: Vec<(Vec<u32>, u64, u64)> = if threads == 1 {
        let timer = {
            let stop = &stop;
            move || {
                thread::sleep(dur);
                stop.store(true, Ordering::Relaxed);
            }
        };
        thread::scope(|s| {
            s.spawn(timer);
            vec![worker(0)]
        })
    } else {
        thread::scope(|s| {
            let hs: Vec<_> = (0..threads as u64)
                .map(|i| s.spawn(move || worker(i)))
                .collect();
            thread::sleep(dur);
            stop.store(true, Ordering::Relaxed);
            hs.into_iter().map(|h| h.join().expect("worker")).collect()
        })
    };
    let elapsed = t0.elapsed();
    let cpu = stats::process_cpu().saturating_sub(cpu0);
    let mut ctx_switches = stats::context_switches().saturating_sub(ctx0);
    let mut all = Vec::new();
    let mut errors = 0;
    for (l, e, own) in outcomes {
        all.extend(l);
        errors += e;
        ctx_switches += own;
    }
    KvResult {
        ops: all.len() as u64,
        errors,
        elapsed,
        cpu,
        ctx_switches,
        lat: Latencies::new(all),
    }
}

fn blob() -> Vec<u8> {
    (0..100u8).collect()
}

/// aerospike-blocking, single-record calls on the caller's thread.
pub struct Ours {
    pub client: aerospike_blocking::Client,
    bins: Vec<aerospike_blocking::Bin>,
    read: aerospike_blocking::ReadPolicy,
    write: aerospike_blocking::WritePolicy,
}

impl Ours {
    pub fn connect(seeds: &[String]) -> Ours {
        use aerospike_blocking::{Bin, Client, ClientPolicy};
        let client = Client::connect(seeds, &ClientPolicy::default()).expect("ours: connect");
        Ours {
            client,
            bins: vec![
                Bin::new("int", 42i64),
                Bin::new("str", STR20),
                Bin::new("blob", blob()),
            ],
            read: Default::default(),
            write: Default::default(),
        }
    }

    fn key(id: u64) -> aerospike_blocking::Key {
        aerospike_blocking::Key::new(NS, SET, id as i64).expect("key")
    }
}

impl KvClient for Ours {
    fn put(&self, id: u64) -> bool {
        self.client
            .put(&self.write, &Self::key(id), &self.bins)
            .is_ok()
    }
    fn get(&self, id: u64) -> bool {
        matches!(
            self.client
                .get(&self.read, &Self::key(id), aerospike_blocking::Bins::All),
            Ok(Some(_))
        )
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// aerospike-blocking with every single-record call hopped to a per-node
/// worker thread and the result sent back — the shape of `Cluster::fan_out`
/// (bounded crossbeam queue per node, one worker, unbounded reply channel),
/// to measure what running single-record calls on node workers would cost.
pub struct OursHop {
    ours: Arc<Ours>,
    queue: Option<crossbeam_channel::Sender<Job>>,
    worker: Option<thread::JoinHandle<()>>,
}

impl OursHop {
    pub fn new(ours: Arc<Ours>) -> OursHop {
        let (tx, rx) = crossbeam_channel::bounded::<Job>(256);
        let worker = thread::spawn(move || {
            for job in rx {
                job();
            }
        });
        OursHop {
            ours,
            queue: Some(tx),
            worker: Some(worker),
        }
    }

    fn hop(&self, id: u64, put: bool) -> bool {
        let (tx, rx) = crossbeam_channel::unbounded();
        let ours = self.ours.clone();
        let job: Job = Box::new(move || {
            let ok = if put { ours.put(id) } else { ours.get(id) };
            let _ = tx.send(ok);
        });
        let q = self.queue.as_ref().expect("open");
        q.send(job).is_ok() && rx.recv().unwrap_or(false)
    }
}

impl Drop for OursHop {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl KvClient for OursHop {
    fn put(&self, id: u64) -> bool {
        self.hop(id, true)
    }
    fn get(&self, id: u64) -> bool {
        self.hop(id, false)
    }
}

/// The official `aerospike` 3.x blocking client.
pub struct Official {
    pub client: aerospike::Client,
    bins: Vec<aerospike::Bin>,
    read: aerospike::ReadPolicy,
    write: aerospike::WritePolicy,
}

impl Official {
    pub fn connect(hosts: &str) -> Official {
        use aerospike::{as_bin, Client, ClientPolicy, Value};
        let client =
            Client::new(&ClientPolicy::default(), &hosts.to_owned()).expect("official: connect");
        Official {
            client,
            bins: vec![
                as_bin!("int", 42i64),
                as_bin!("str", STR20),
                aerospike::Bin::new("blob", Value::Blob(blob())),
            ],
            read: Default::default(),
            write: Default::default(),
        }
    }

    fn key(id: u64) -> aerospike::Key {
        aerospike::Key::new(NS, SET, aerospike::Value::from(id as i64)).expect("key")
    }
}

impl KvClient for Official {
    fn put(&self, id: u64) -> bool {
        self.client
            .put(&self.write, &Self::key(id), &self.bins)
            .is_ok()
    }
    fn get(&self, id: u64) -> bool {
        self.client
            .get(&self.read, &Self::key(id), aerospike::Bins::All)
            .is_ok()
    }
}
