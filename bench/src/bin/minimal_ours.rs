//! Minimal program for the binary-size comparison: connect, one get.
//! Seeds from `AEROSPIKE_HOSTS` (default 127.0.0.1:3000). With
//! `BENCH_IDLE_SECS=N` it then stays connected and idle N seconds and prints
//! its `VmRSS` and `Threads` lines (the bench's idle-footprint figure).

use aerospike_blocking::{Bins, Client, ClientPolicy, Key, ReadPolicy};

fn main() -> Result<(), aerospike_blocking::Error> {
    let hosts = std::env::var("AEROSPIKE_HOSTS").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let seeds: Vec<&str> = hosts.split(',').collect();
    let client = Client::connect(&seeds, &ClientPolicy::default())?;
    let rec = client.get(
        &ReadPolicy::default(),
        &Key::new("test", "bench", 1)?,
        Bins::All,
    )?;
    println!("{:?}", rec.map(|r| r.bins.len()));
    idle();
    client.close();
    Ok(())
}

fn idle() {
    if let Some(secs) = std::env::var("BENCH_IDLE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        std::thread::sleep(std::time::Duration::from_secs(secs));
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        for line in status.lines() {
            if line.starts_with("VmRSS:") || line.starts_with("Threads:") {
                println!("{line}");
            }
        }
    }
}
