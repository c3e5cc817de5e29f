//! Minimal program for the binary-size comparison: connect, one get.
//! Seeds from `AEROSPIKE_HOSTS` (default 127.0.0.1:3000). With
//! `BENCH_IDLE_SECS=N` it then stays connected and idle N seconds and prints
//! its `VmRSS` and `Threads` lines (the bench's idle-footprint figure).

use aerospike::{Bins, Client, ClientPolicy, Key, ReadPolicy, Value};

fn main() -> Result<(), aerospike::Error> {
    let hosts = std::env::var("AEROSPIKE_HOSTS").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let client = Client::new(&ClientPolicy::default(), &hosts)?;
    let key = Key::new("test", "bench", Value::from(1i64))?;
    let rec = client.get(&ReadPolicy::default(), &key, Bins::All);
    println!("{:?}", rec.map(|r| r.bins.len()).ok());
    idle();
    client.close()?;
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
