//! Choosing the cluster a test or example runs on: a real one named by
//! `AEROSPIKE_HOSTS`, or a freshly started embedded one.

use super::cluster::EmbeddedCluster;
use aerospike_proto::hosts_from_env;
use aerospike_proto::Result;

/// The cluster a test or example should use.
///
/// With `AEROSPIKE_HOSTS` set (for example `127.0.0.1:3000,127.0.0.1:3010`)
/// it names that cluster; otherwise it starts an embedded cluster and keeps it
/// running until this value is dropped. Code written against
/// [`TestCluster::seeds`] runs unchanged on both.
///
/// ```
/// use aerospike_embedded::TestCluster;
/// use aerospike_blocking::{Client, ClientPolicy};
///
/// let cluster = TestCluster::from_env(3)?;
/// let client = Client::connect(cluster.seeds(), &ClientPolicy::default())?;
/// assert!(!client.nodes().is_empty());
/// # Ok::<(), aerospike_proto::Error>(())
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
    ///
    /// ```
    /// use aerospike_embedded::TestCluster;
    /// use aerospike_blocking::{Client, ClientPolicy};
    /// let tc = TestCluster::from_env(1)?;
    /// let client = Client::connect(tc.seeds(), &ClientPolicy::default())?;
    /// assert!(!client.nodes().is_empty());
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
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
    ///
    /// ```
    /// use aerospike_embedded::TestCluster;
    /// let tc = TestCluster::from_env(1)?;
    /// assert!(!tc.seeds().is_empty());
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn seeds(&self) -> &[String] {
        &self.seeds
    }

    /// The embedded cluster, when no real cluster was named.
    ///
    /// ```
    /// use aerospike_embedded::TestCluster;
    /// let tc = TestCluster::from_env(1)?;
    /// assert_eq!(tc.embedded().is_some(), !tc.is_real());
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn embedded(&self) -> Option<&EmbeddedCluster> {
        self.embedded.as_ref()
    }

    /// True when running on a real cluster named by `AEROSPIKE_HOSTS`.
    ///
    /// ```
    /// use aerospike_embedded::TestCluster;
    /// let tc = TestCluster::from_env(1)?;
    /// if !tc.is_real() {
    ///     // Faults can only be injected into embedded nodes.
    ///     assert!(tc.embedded().is_some());
    /// }
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn is_real(&self) -> bool {
        self.embedded.is_none()
    }
}
