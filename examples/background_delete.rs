//! A background delete of the records matching a where-clause, with a
//! records-per-second limit, on an embedded cluster.
//!
//! ```text
//! cargo run --example background_delete
//! ```

use aerospike_blocking::background::DataSet;
use aerospike_blocking::task::WaitOptions;
use aerospike_blocking::{Bin, Client, ClientPolicy, Key, WritePolicy};
use aerospike_embedded::TestCluster;

fn main() -> aerospike_blocking::Result<()> {
    // The cluster named by AEROSPIKE_HOSTS, or an embedded 3-node one.
    let cluster = TestCluster::from_env(3)?;
    let client = Client::connect(cluster.seeds(), &ClientPolicy::default())?;
    client.truncate("test", "sessions", None)?;
    let sessions = DataSet::of("test", "sessions");
    let wp = WritePolicy::default();
    for i in 0..500i64 {
        let key = Key::new("test", "sessions", i)?;
        client.put(
            &wp,
            &key,
            &[Bin::new("last_seen", i), Bin::new("user", format!("u{i}"))],
        )?;
    }

    let task = client
        .session()
        .background_task()
        .delete(&sessions)
        .where_ael("$.last_seen < 200")
        .records_per_second(2_000)
        .execute()?;
    let outcome = task.wait(WaitOptions::default())?;
    let left = client.query(&sessions).records()?.len();
    println!(
        "job {}: {outcome}; deleted {}, {left} sessions left",
        task.task_id(),
        task.progress()?.succeeded
    );
    assert_eq!(left, 300);
    client.close();
    Ok(())
}
