//! A background update with a where-clause, end to end, on an embedded
//! 3-node cluster: load users, give every active user aged 30 or more ten
//! points, wait for the job, check the result with a foreground query.
//!
//! ```text
//! cargo run --example background_update
//! ```

use aerospike_blocking::background::DataSet;
use aerospike_blocking::task::WaitOptions;
use aerospike_blocking::{Bin, Client, ClientPolicy, Key, Value, WritePolicy};
use aerospike_embedded::TestCluster;

fn main() -> aerospike_blocking::Result<()> {
    // The cluster named by AEROSPIKE_HOSTS, or an embedded 3-node one.
    let cluster = TestCluster::from_env(3)?;
    let client = Client::connect(cluster.seeds(), &ClientPolicy::default())?;
    client.truncate("test", "users", None)?;

    let users = DataSet::of("test", "users");
    let wp = WritePolicy::default();
    for i in 0..1_000i64 {
        let key = Key::new("test", "users", i)?;
        let bins = [
            Bin::new("age", 18 + i % 60),
            Bin::new("active", i % 3 != 0),
            Bin::new("score", 0),
        ];
        client.put(&wp, &key, &bins)?;
    }

    let task = client
        .session()
        .background_task()
        .update(&users)
        .where_ael("$.active == true and $.age >= 30")
        .bin("score")
        .add(10)
        .bin("segment")
        .set_to("engaged")
        .execute()?;
    println!(
        "started background job {} on {} nodes",
        task.task_id(),
        task.nodes().len()
    );

    let outcome = task.wait(WaitOptions::default())?;
    let progress = task.progress()?;
    println!(
        "{outcome}: {} records updated, {} filtered out, in {:?}",
        progress.succeeded, progress.filtered_bins, progress.run_time
    );
    for row in &progress.nodes {
        if let Some(info) = &row.info {
            println!(
                "  node {}: {} updated ({})",
                row.node, info.recs_succeeded, info.status
            );
        }
    }

    let updated = client
        .query(&users)
        .where_ael("$.segment == 'engaged'")
        .records()?;
    let all_have_points = updated
        .iter()
        .all(|r| r.bin("score") == Some(&Value::from(10)));
    println!(
        "foreground query: {} engaged users, all with 10 points: {all_have_points}",
        updated.len()
    );
    assert_eq!(updated.len() as u64, progress.succeeded);
    assert!(all_have_points);
    client.close();
    Ok(())
}
