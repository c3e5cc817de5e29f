//! A background Lua UDF job, rate-limited so it takes a few seconds, with a
//! progress bar drawn while it runs.
//!
//! ```text
//! cargo run --example background_udf
//! ```

use std::io::Write;
use std::time::Duration;

use aerospike_blocking::background::DataSet;
use aerospike_blocking::task::WaitOptions;
use aerospike_blocking::{Bin, Client, ClientPolicy, Key, UdfLanguage, WritePolicy};
use aerospike_embedded::TestCluster;

const MODULE: &str = r#"
function grant(rec, bonus)
  rec['credits'] = (rec['credits'] or 0) + bonus
  aerospike:update(rec)
end
"#;

fn main() -> aerospike_blocking::Result<()> {
    // The cluster named by AEROSPIKE_HOSTS, or an embedded 3-node one.
    let cluster = TestCluster::from_env(3)?;
    let client = Client::connect(cluster.seeds(), &ClientPolicy::default())?;
    client.truncate("test", "accounts", None)?;
    let accounts = DataSet::of("test", "accounts");
    let wp = WritePolicy::default();
    for i in 0..1_200i64 {
        client.put(
            &wp,
            &Key::new("test", "accounts", i)?,
            &[Bin::new("credits", i % 10)],
        )?;
    }
    client.register_udf_bytes("bonus.lua", MODULE.as_bytes(), UdfLanguage::Lua)?;

    let task = client
        .session()
        .background_task()
        .execute_udf(&accounts)
        .function("bonus", "grant")
        .arg(5)
        .records_per_second(200)
        .execute()?;

    let opts = WaitOptions::default()
        .poll_interval(Duration::from_millis(100))
        .timeout(Duration::from_secs(120));
    let outcome = task.wait_with_progress(opts, |p| {
        let filled = (p.percent / 5.0).round() as usize;
        print!(
            "\r[{:<20}] {:5.1}% {:>5} records {}",
            "#".repeat(filled.min(20)),
            p.percent,
            p.succeeded,
            p.status
        );
        let _ = std::io::stdout().flush();
    })?;
    println!("\njob {}: {outcome}", task.task_id());
    assert!(outcome.is_success());
    client.remove_udf("bonus.lua")?;
    client.close();
    Ok(())
}
