//! Minimal program for the binary-size comparison: connect, one get.
//! Seeds from `AEROSPIKE_HOSTS` (default 127.0.0.1:3000).

use aerospike::{Bins, Client, ClientPolicy, Key, ReadPolicy, Value};

fn main() -> Result<(), aerospike::Error> {
    let hosts = std::env::var("AEROSPIKE_HOSTS").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let client = Client::new(&ClientPolicy::default(), &hosts)?;
    let key = Key::new("test", "bench", Value::from(1i64))?;
    let rec = client.get(&ReadPolicy::default(), &key, Bins::All);
    println!("{:?}", rec.map(|r| r.bins.len()).ok());
    client.close()?;
    Ok(())
}
