//! Minimal program for the binary-size comparison: connect, one get.
//! Seeds from `AEROSPIKE_HOSTS` (default 127.0.0.1:3000).

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
    client.close();
    Ok(())
}
