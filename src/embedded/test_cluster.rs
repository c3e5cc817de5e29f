//! Choosing the cluster a test or example runs on: a real one named by
//! `AEROSPIKE_HOSTS`, or a freshly started embedded one.

use super::cluster::EmbeddedCluster;
use crate::error::Result;
use crate::seeds::hosts_from_env;

/// The cluster a test or example should use.
///
/// With `AEROSPIKE_HOSTS` set (for example `127.0.0.1:3000,127.0.0.1:3010`)
/// it names that cluster; otherwise it starts an embedded cluster and keeps it
/// running until this value is dropped. Code written against
/// [`TestCluster::seeds`] runs unchanged on both.
///
/// ```
/// use aerospike_blocking::embedded::TestCluster;
/// use aerospike_blocking::{Client, ClientPolicy};
///
/// let cluster = TestCluster::from_env(3)?;
/// let client = Client::connect(cluster.seeds(), &ClientPolicy::default())?;
/// assert!(!client.nodes().is_empty());
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug)]
pub struct TestCluster {
    seeds: Vec<String>,
    embedded: Option<EmbeddedCluster>,
}

impl TestCluster {
    /// The cluster named by `AEROSPIKE_HOSTS`, or an embedded cluster of
    /// `nodes` nodes (namespace `test`) when the variable is unset or empty.
    ///
    /// # Errors
    /// When the embedded cluster cannot start (no free port, ...).
    pub fn from_env(nodes: usize) -> Result<TestCluster> {
        if let Some(seeds) = hosts_from_env() {
            return Ok(TestCluster {
                seeds,
                embedded: None,
            });
        }
        let cluster = EmbeddedCluster::start(nodes)?;
        Ok(TestCluster {
            seeds: cluster.seeds(),
            embedded: Some(cluster),
        })
    }

    /// Seeds to connect to.
    pub fn seeds(&self) -> &[String] {
        &self.seeds
    }

    /// The embedded cluster, when no real cluster was named.
    pub fn embedded(&self) -> Option<&EmbeddedCluster> {
        self.embedded.as_ref()
    }

    /// True when running on a real cluster named by `AEROSPIKE_HOSTS`.
    pub fn is_real(&self) -> bool {
        self.embedded.is_none()
    }
}
