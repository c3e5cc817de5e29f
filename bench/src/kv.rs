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

/// Allocations and bytes allocated per operation over `n` operations of
/// `mix` on the calling thread (after `n / 10` untimed ones to warm up).
pub fn allocs_per_op(client: &dyn KvClient, mix: Mix, records: u64, n: u64) -> (f64, f64) {
    let mut rng = XorShift::new(7);
    let mut one = || {
        let r = rng.next();
        let put = match mix {
            Mix::Get => false,
            Mix::Put => true,
            Mix::Half => r >> 63 == 1,
        };
        if put {
            client.put(r % records);
        } else {
            client.get(r % records);
        }
    };
    for _ in 0..n / 10 {
        one();
    }
    let (allocs, bytes) = crate::allocs::count(|| (0..n).for_each(|_| one()));
    (allocs as f64 / n as f64, bytes as f64 / n as f64)
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

/// The floor: no client at all. Each thread keeps one socket to the (single)
/// node and does by hand what any client must: the key's digest, the
/// request bytes, one write, one read, and the decoding of the reply's bins.
pub struct Raw {
    addr: String,
}

thread_local! {
    static RAW_CONN: std::cell::RefCell<Option<std::net::TcpStream>> =
        const { std::cell::RefCell::new(None) };
}

/// A decoded bin value of the raw loop (kept so the decoding is not
/// optimised away).
#[allow(dead_code)]
enum RawValue {
    Int(i64),
    Str(String),
    Blob(Vec<u8>),
    Other(Vec<u8>),
}

impl Raw {
    pub fn new(seed: &str) -> Raw {
        Raw {
            addr: seed.to_owned(),
        }
    }

    /// Appends a field (size, type, data).
    fn field(out: &mut Vec<u8>, kind: u8, data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32 + 1).to_be_bytes());
        out.push(kind);
        out.extend_from_slice(data);
    }

    /// Appends a bin operation (size, op, particle type, version, name, value).
    fn op(out: &mut Vec<u8>, kind: u8, particle: u8, name: &str, value: &[u8]) {
        out.extend_from_slice(&((4 + name.len() + value.len()) as u32).to_be_bytes());
        out.extend_from_slice(&[kind, particle, 0, name.len() as u8]);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(value);
    }

    /// One request for record `id`: a write of the three bins, or a read of
    /// all bins.
    fn request(id: u64, put: bool) -> Vec<u8> {
        let key = aerospike_blocking::Key::new(NS, SET, id as i64).expect("key");
        let (info1, info2, n_ops): (u8, u8, u16) = if put { (0, 1, 3) } else { (3, 0, 0) };
        let mut body = Vec::with_capacity(256);
        body.extend_from_slice(&[22, info1, info2, 0, 0, 0]);
        body.extend_from_slice(&0u32.to_be_bytes()); // generation
        body.extend_from_slice(&0u32.to_be_bytes()); // record ttl
        body.extend_from_slice(&1000u32.to_be_bytes()); // transaction ttl
        body.extend_from_slice(&3u16.to_be_bytes());
        body.extend_from_slice(&n_ops.to_be_bytes());
        Self::field(&mut body, 0, NS.as_bytes());
        Self::field(&mut body, 1, SET.as_bytes());
        Self::field(&mut body, 4, key.digest());
        if put {
            Self::op(&mut body, 2, 1, "int", &42i64.to_be_bytes());
            Self::op(&mut body, 2, 3, "str", STR20.as_bytes());
            Self::op(&mut body, 2, 4, "blob", &blob());
        }
        let mut frame = Vec::with_capacity(8 + body.len());
        frame.extend_from_slice(&((2u64 << 56) | (3u64 << 48) | body.len() as u64).to_be_bytes());
        frame.extend_from_slice(&body);
        frame
    }

    /// Sends `frame` and reads the reply; returns the result code and the
    /// decoded bins.
    fn exchange(&self, frame: &[u8]) -> Option<(u8, Vec<(String, RawValue)>)> {
        use std::io::{Read, Write};
        RAW_CONN.with(|c| {
            let mut c = c.borrow_mut();
            if c.is_none() {
                let s = std::net::TcpStream::connect(&self.addr).ok()?;
                s.set_nodelay(true).ok()?;
                *c = Some(s);
            }
            let s = c.as_mut()?;
            s.write_all(frame).ok()?;
            let mut head = [0u8; 8];
            s.read_exact(&mut head).ok()?;
            let len = (u64::from_be_bytes(head) & 0xffff_ffff_ffff) as usize;
            let mut body = vec![0u8; len];
            s.read_exact(&mut body).ok()?;
            let rc = body[5];
            let n_fields = u16::from_be_bytes([body[18], body[19]]);
            let n_ops = u16::from_be_bytes([body[20], body[21]]);
            let mut at = 22;
            for _ in 0..n_fields {
                let size = u32::from_be_bytes(body[at..at + 4].try_into().ok()?) as usize;
                at += 4 + size;
            }
            let mut bins = Vec::with_capacity(usize::from(n_ops));
            for _ in 0..n_ops {
                let size = u32::from_be_bytes(body[at..at + 4].try_into().ok()?) as usize;
                let particle = body[at + 5];
                let name_len = usize::from(body[at + 7]);
                let name = String::from_utf8_lossy(&body[at + 8..at + 8 + name_len]).into_owned();
                let value = &body[at + 8 + name_len..at + 4 + size];
                let v = match particle {
                    1 => RawValue::Int(i64::from_be_bytes(value.try_into().ok()?)),
                    3 => RawValue::Str(String::from_utf8_lossy(value).into_owned()),
                    4 => RawValue::Blob(value.to_vec()),
                    _ => RawValue::Other(value.to_vec()),
                };
                bins.push((name, v));
                at += 4 + size;
            }
            Some((rc, bins))
        })
    }
}

impl KvClient for Raw {
    fn put(&self, id: u64) -> bool {
        matches!(self.exchange(&Self::request(id, true)), Some((0, _)))
    }
    fn get(&self, id: u64) -> bool {
        matches!(self.exchange(&Self::request(id, false)), Some((0, b)) if b.len() == 3)
    }
}
