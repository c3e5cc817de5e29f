//! A background touch: gives every record of a set a fresh time to live of
//! one day, on an embedded cluster.
//!
//! ```text
//! cargo run --example background_touch
//! ```

use std::time::Duration;

use aerospike_blocking::background::DataSet;
use aerospike_blocking::task::WaitOptions;
use aerospike_blocking::{Bin, Client, ClientPolicy, Key, WritePolicy};
use aerospike_embedded::TestCluster;

fn main() -> aerospike_blocking::Result<()> {
    // The cluster named by AEROSPIKE_HOSTS, or an embedded 1-node one.
    let cluster = TestCluster::from_env(1)?;
    let client = Client::connect(cluster.seeds(), &ClientPolicy::default())?;
    client.truncate("test", "carts", None)?;
    let carts = DataSet::of("test", "carts");
    let wp = WritePolicy::default();
    for i in 0..200i64 {
        client.put(
            &wp,
            &Key::new("test", "carts", i)?,
            &[Bin::new("items", i % 7)],
        )?;
    }

    let task = client
        .session()
        .background_task()
        .touch(&carts)
        .expire_record_after(Duration::from_secs(86_400))
        .execute()?;
    println!(
        "touch job {}: {}",
        task.task_id(),
        task.wait(WaitOptions::default())?
    );

    let records = client.query(&carts).records()?;
    let ttls: Vec<u32> = records.iter().filter_map(|r| r.ttl()).collect();
    println!(
        "{} records, ttl between {:?} and {:?} seconds",
        records.len(),
        ttls.iter().min(),
        ttls.iter().max()
    );
    assert_eq!(ttls.len(), records.len());
    client.close();
    Ok(())
}
