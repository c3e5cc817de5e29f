//! Shared test harness.
//!
//! With `AEROSPIKE_HOSTS` set (comma-separated `host:port`), tests run
//! against that cluster; otherwise they start an embedded 3-node cluster
//! (`aerospike-embedded`, a dev-dependency). Tests must use their own set names ([`unique_set`])
//! and never assume node names or ports.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aerospike_blocking::{Client, ClientPolicy};

use aerospike_embedded::EmbeddedCluster;

/// The namespace every test uses.
pub(crate) const NAMESPACE: &str = "test";

/// A cluster to test against and a client connected to it.
pub(crate) struct TestEnv {
    /// Seeds of the cluster.
    pub(crate) seeds: Vec<String>,
    /// The embedded cluster, when no `AEROSPIKE_HOSTS` was given.
    pub(crate) embedded: Option<EmbeddedCluster>,
    /// A connected client.
    pub(crate) client: Client,
}

/// The hosts from `AEROSPIKE_HOSTS`, if set and not empty.
pub(crate) fn real_hosts() -> Option<Vec<String>> {
    aerospike_blocking::hosts_from_env()
}

/// Seeds and, when no real cluster is configured, the embedded cluster
/// serving them (`nodes` nodes).
pub(crate) fn test_seeds_n(nodes: usize) -> (Vec<String>, Option<EmbeddedCluster>) {
    match real_hosts() {
        Some(h) => (h, None),
        None => {
            let c = EmbeddedCluster::start(nodes).expect("embedded cluster starts");
            (c.seeds(), Some(c))
        }
    }
}

/// Seeds of the cluster under test (3 embedded nodes by default).
pub(crate) fn test_seeds() -> (Vec<String>, Option<EmbeddedCluster>) {
    test_seeds_n(3)
}

/// A client policy with a short tend interval, so tests see changes fast.
pub(crate) fn client_policy() -> ClientPolicy {
    ClientPolicy {
        tend_interval: std::time::Duration::from_millis(100),
        ..ClientPolicy::default()
    }
}

impl TestEnv {
    /// Connects to the cluster under test.
    pub(crate) fn new() -> TestEnv {
        let (seeds, embedded) = test_seeds();
        let client = Client::connect(&seeds, &client_policy()).expect("client connects");
        TestEnv {
            seeds,
            embedded,
            client,
        }
    }
}

/// A set name no other test (or earlier run) uses.
pub(crate) fn unique_set(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() % 1_000_000_000);
    format!(
        "{prefix}_{}_{t}_{}",
        std::process::id() % 100_000,
        N.fetch_add(1, Ordering::Relaxed)
    )
}
