//! State shared by the parts of an embedded node: the cluster-wide store,
//! partition ownership, secondary indexes and UDF modules, and the node's own
//! job table.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use super::jobs::JobTable;
use super::sindex::SindexRegistry;
use super::store::{Store, PARTITIONS};
use super::udf::UdfRegistry;

/// Settings every node of an embedded cluster shares.
#[derive(Debug, Clone)]
pub(crate) struct ClusterConfig {
    /// Reported by `cluster-name`.
    pub(crate) cluster_name: String,
    /// Reported by `build` (and `version`, `release`).
    pub(crate) build: String,
    /// Finished jobs kept per node before the oldest is evicted.
    pub(crate) query_max_done: usize,
    /// Largest records-per-second a background job may ask for.
    pub(crate) background_query_max_rps: u32,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            cluster_name: "embedded".into(),
            build: "8.1.2.0".into(),
            query_max_done: 100,
            background_query_max_rps: 10_000,
        }
    }
}

/// Which node holds each copy of each partition.
///
/// `owners[pid]` lists node names, master first, then replicas; its length is
/// the effective replication factor.
#[derive(Debug, Clone, Default)]
pub(crate) struct PartitionTable {
    pub(crate) owners: Vec<Vec<String>>,
}

impl PartitionTable {
    /// Spreads `PARTITIONS` partitions over `nodes` (sorted names), with up to
    /// `replication_factor` copies each, rotating masters so every node gets
    /// an even share.
    pub(crate) fn balanced(nodes: &[String], replication_factor: usize) -> Self {
        if nodes.is_empty() {
            return PartitionTable {
                owners: vec![Vec::new(); PARTITIONS],
            };
        }
        let rf = replication_factor.clamp(1, nodes.len());
        let owners = (0..PARTITIONS)
            .map(|pid| {
                let start = partition_hash(pid) % nodes.len();
                (0..rf)
                    .map(|i| nodes[(start + i) % nodes.len()].clone())
                    .collect()
            })
            .collect();
        PartitionTable { owners }
    }

    /// The master of `pid`.
    pub(crate) fn master(&self, pid: usize) -> Option<&str> {
        self.owners.get(pid)?.first().map(String::as_str)
    }

    /// Partitions whose master is `node`.
    pub(crate) fn masters_of(&self, node: &str) -> Vec<u16> {
        (0..self.owners.len())
            .filter(|p| self.master(*p) == Some(node))
            .map(|p| p as u16)
            .collect()
    }

    /// True when `node` holds any copy of `pid`.
    pub(crate) fn has_copy(&self, node: &str, pid: usize) -> bool {
        self.owners
            .get(pid)
            .is_some_and(|o| o.iter().any(|n| n == node))
    }
}

/// A stable spread of partition ids, so masters are not striped in order.
fn partition_hash(pid: usize) -> usize {
    let mut x = pid as u64 ^ 0x9e37_79b9_7f4a_7c15;
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (x ^ (x >> 31)) as usize
}

/// Cluster-wide state.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: ClusterConfig,
    pub(crate) store: Store,
    /// Partition ownership per namespace name.
    pub(crate) partitions: RwLock<std::collections::HashMap<String, PartitionTable>>,
    /// Bumped whenever ownership changes (`partition-generation`).
    pub(crate) partition_generation: AtomicU64,
    /// Bumped whenever nodes join or leave (`peers-generation`).
    pub(crate) peers_generation: AtomicU64,
    pub(crate) sindexes: SindexRegistry,
    pub(crate) udfs: UdfRegistry,
    /// Running nodes (name and service port), for `peers-clear-std` and
    /// cluster-wide statistics.
    pub(crate) members: RwLock<Vec<Member>>,
    /// False until the starting cluster has formed (ownership computed,
    /// generations set): connections accepted before wait, as a real node
    /// serves clients only once it has joined its cluster. A client that
    /// read an empty partition map at generation 0 would otherwise never
    /// see the generation change.
    pub(crate) formed: std::sync::atomic::AtomicBool,
}

/// A running node as its peers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    /// Node id.
    pub(crate) name: String,
    /// Service port on 127.0.0.1.
    pub(crate) port: u16,
}

impl Shared {
    /// Builds shared state over `store`.
    pub(crate) fn new(config: ClusterConfig, store: Store) -> Self {
        Shared {
            config,
            store,
            partitions: RwLock::new(Default::default()),
            partition_generation: AtomicU64::new(0),
            peers_generation: AtomicU64::new(0),
            sindexes: SindexRegistry::default(),
            udfs: UdfRegistry::default(),
            members: RwLock::new(Vec::new()),
            formed: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Replaces the ownership table of every namespace and bumps the
    /// partition generation.
    pub(crate) fn set_partitions(&self, tables: std::collections::HashMap<String, PartitionTable>) {
        *self.partitions.write() = tables;
        self.partition_generation.fetch_add(1, Ordering::SeqCst);
    }
}

/// Counters of one node under the server's names: per namespace for
/// `namespace/<ns>` (`client_read_success`, `client_proxy_complete`, ...),
/// and node-wide under the empty namespace name for `statistics`
/// (`client_connections_opened`, ...).
#[derive(Debug, Default)]
pub(crate) struct NodeStats {
    counters: Mutex<HashMap<(String, &'static str), u64>>,
}

impl NodeStats {
    /// Adds one to counter `key` of namespace `ns`.
    pub(crate) fn bump(&self, ns: &str, key: &'static str) {
        *self
            .counters
            .lock()
            .entry((ns.to_owned(), key))
            .or_default() += 1;
    }

    /// Every counter of `ns` that is not zero.
    pub(crate) fn of(&self, ns: &str) -> Vec<(&'static str, u64)> {
        self.counters
            .lock()
            .iter()
            .filter(|((n, _), _)| n == ns)
            .map(|((_, k), v)| (*k, *v))
            .collect()
    }
}

/// One node's view: its name, the shared state, its own jobs and counters.
#[derive(Debug)]
pub(crate) struct NodeCtx {
    /// Node id, 15 upper-case hex digits like `BB901000000FC02`.
    pub(crate) name: String,
    pub(crate) shared: Arc<Shared>,
    /// Background and foreground query jobs of this node (a restart clears it).
    pub(crate) jobs: JobTable,
    /// Transaction counters of this node (a restart clears them), shared
    /// with its background-job threads.
    pub(crate) stats: Arc<NodeStats>,
}

impl NodeCtx {
    /// A freshly started node `name`: no jobs, counters at zero.
    pub(crate) fn new(name: &str, shared: Arc<Shared>) -> Self {
        NodeCtx {
            name: name.to_owned(),
            shared,
            jobs: JobTable::default(),
            stats: Arc::default(),
        }
    }

    /// This node's service port, when it is running.
    pub(crate) fn port(&self) -> Option<u16> {
        self.shared
            .members
            .read()
            .iter()
            .find(|m| m.name == self.name)
            .map(|m| m.port)
    }

    /// Partitions of `ns` this node masters.
    pub(crate) fn masters(&self, ns: &str) -> Vec<u16> {
        self.shared
            .partitions
            .read()
            .get(ns)
            .map(|t| t.masters_of(&self.name))
            .unwrap_or_default()
    }

    /// True when this node masters `pid` of `ns`.
    pub(crate) fn is_master(&self, ns: &str, pid: usize) -> bool {
        self.shared
            .partitions
            .read()
            .get(ns)
            .and_then(|t| t.master(pid).map(|m| m == self.name))
            .unwrap_or(false)
    }

    /// True when this node holds any copy of `pid` of `ns`.
    pub(crate) fn has_copy(&self, ns: &str, pid: usize) -> bool {
        self.shared
            .partitions
            .read()
            .get(ns)
            .is_some_and(|t| t.has_copy(&self.name, pid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_split() {
        let nodes: Vec<String> = ["A", "B", "C"].iter().map(|s| s.to_string()).collect();
        let t = PartitionTable::balanced(&nodes, 2);
        let counts: Vec<usize> = nodes.iter().map(|n| t.masters_of(n).len()).collect();
        assert_eq!(counts.iter().sum::<usize>(), PARTITIONS);
        assert!(counts.iter().all(|c| *c > 1200 && *c < 1550), "{counts:?}");
        assert!((0..PARTITIONS).all(|p| t.owners[p].len() == 2 && t.owners[p][0] != t.owners[p][1]));
    }
}
