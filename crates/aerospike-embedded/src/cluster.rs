//! The embedded cluster: its nodes, membership changes and partition
//! ownership.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use parking_lot::Mutex;

use super::ctx::{ClusterConfig, Member, NodeCtx, PartitionTable, Shared};
use super::faults::{Fault, FaultScope, Faults};
use super::node::Server;
use super::store::{NamespaceConfig, Store, PARTITIONS};
use aerospike_proto::{Error, Result};

/// Node ids are this many hex digits.
const NODE_ID_SUFFIX: &str = "01000000FC02";
/// The first node's id prefix (the single node of the fixtures is
/// `BB901000000FC02`).
const FIRST_NODE_PREFIX: usize = 0xBB9;

/// An in-process Aerospike-compatible cluster: every node is a real TCP
/// listener on 127.0.0.1 that speaks the Aerospike wire protocol.
///
/// All nodes share one record store, so a write through any node is seen by
/// every node, as in a healthy replicated cluster. Dropping the cluster (or
/// calling [`shutdown`](Self::shutdown)) stops every node and joins every
/// thread.
///
/// # Examples
/// ```
/// use aerospike_embedded::EmbeddedCluster;
///
/// let cluster = EmbeddedCluster::start(3)?;
/// assert_eq!(cluster.seeds().len(), 3);
/// let node = cluster.nodes()[1].name();
/// cluster.stop_node(&node)?;
/// assert_eq!(cluster.nodes().len(), 2);
/// cluster.restart_node(&node)?;
/// assert_eq!(cluster.nodes().len(), 3);
/// # Ok::<(), aerospike_proto::Error>(())
/// ```
#[derive(Debug)]
pub struct EmbeddedCluster {
    shared: Arc<Shared>,
    namespaces: Vec<NamespaceConfig>,
    slots: Mutex<Vec<Slot>>,
}

/// One node the cluster has ever had.
#[derive(Debug)]
struct Slot {
    name: String,
    port: u16,
    faults: Arc<Faults>,
    server: Option<Server>,
    removed: bool,
}

impl Slot {
    fn handle(&self) -> NodeHandle {
        NodeHandle {
            name: self.name.clone(),
            address: SocketAddr::from(([127, 0, 0, 1], self.port)),
            faults: self.faults.clone(),
        }
    }
}

/// A node of an [`EmbeddedCluster`]: its id, its address and its faults.
///
/// ```
/// use aerospike_embedded::EmbeddedCluster;
///
/// let cluster = EmbeddedCluster::start(1)?;
/// let node = &cluster.nodes()[0];
/// assert_eq!(node.name().len(), 15);
/// assert_eq!(node.address().ip().to_string(), "127.0.0.1");
/// # Ok::<(), aerospike_proto::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct NodeHandle {
    name: String,
    address: SocketAddr,
    faults: Arc<Faults>,
}

impl NodeHandle {
    /// The node id, 15 upper-case hex digits like `BB901000000FC02`.
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let ec = EmbeddedCluster::start(1)?;
    /// assert_eq!(ec.nodes()[0].name().len(), 15);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn name(&self) -> String {
        self.name.clone()
    }

    /// The node's listening address (127.0.0.1 and its port).
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let ec = EmbeddedCluster::start(1)?;
    /// assert!(ec.nodes()[0].address().ip().is_loopback());
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Makes every message reply of this node misbehave as `fault` says,
    /// until [`clear_faults`](Self::clear_faults). Replaces faults set before.
    ///
    /// ```
    /// use aerospike_embedded::{EmbeddedCluster, Fault};
    /// use aerospike_blocking::ResultCode;
    ///
    /// let cluster = EmbeddedCluster::start(1)?;
    /// cluster.nodes()[0].set_fault(Fault::ResultCode(ResultCode::DEVICE_OVERLOAD));
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn set_fault(&self, fault: Fault) {
        self.faults.clear();
        self.faults.add(FaultScope::Messages, fault, None);
    }

    /// Adds a fault for the requests of `scope`; `times` limits it to that
    /// many requests (`None`: until cleared). When several faults match a
    /// request, the one set first applies.
    ///
    /// ```
    /// use aerospike_embedded::{EmbeddedCluster, Fault, FaultScope};
    ///
    /// let cluster = EmbeddedCluster::start(1)?;
    /// cluster.nodes()[0].set_fault_for(FaultScope::All, Fault::DropConnection, Some(1));
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn set_fault_for(&self, scope: FaultScope, fault: Fault, times: Option<usize>) {
        self.faults.add(scope, fault, times);
    }

    /// Removes every fault of this node.
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let cluster = EmbeddedCluster::start(1)?;
    /// cluster.nodes()[0].clear_faults();
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn clear_faults(&self) {
        self.faults.clear();
    }
}

/// Settings for an [`EmbeddedCluster`].
///
/// ```
/// use aerospike_embedded::EmbeddedCluster;
///
/// let cluster = EmbeddedCluster::builder()
///     .nodes(2)
///     .namespace("test", 2)
///     .namespace("bar", 1)
///     .default_ttl(3600)
///     .cluster_name("my-tests")
///     .start()?;
/// assert_eq!(cluster.nodes().len(), 2);
/// # Ok::<(), aerospike_proto::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct EmbeddedClusterBuilder {
    nodes: usize,
    namespaces: Vec<(String, usize)>,
    default_ttl: u32,
    ports: Vec<u16>,
    config: ClusterConfig,
}

impl Default for EmbeddedClusterBuilder {
    fn default() -> Self {
        EmbeddedClusterBuilder {
            nodes: 1,
            namespaces: Vec::new(),
            default_ttl: 0,
            ports: Vec::new(),
            config: ClusterConfig::default(),
        }
    }
}

impl EmbeddedClusterBuilder {
    /// Number of nodes to start (default 1).
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let ec = EmbeddedCluster::builder().nodes(2).start()?;
    /// assert_eq!(ec.nodes().len(), 2);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = n;
        self
    }

    /// Adds a namespace with `replication_factor` copies of each partition
    /// (capped by the number of running nodes). Without any call the cluster
    /// has one namespace `test` with replication factor `min(2, nodes)`.
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let ec = EmbeddedCluster::builder().namespace("test", 1).namespace("bar", 2).start()?;
    /// # drop(ec);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn namespace(mut self, name: &str, replication_factor: usize) -> Self {
        self.namespaces.push((name.to_owned(), replication_factor));
        self
    }

    /// Default time to live in seconds of every namespace, used by writes
    /// that ask for the namespace default (default 0: never expire).
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let ec = EmbeddedCluster::builder().default_ttl(3600).start()?;
    /// # drop(ec);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn default_ttl(mut self, secs: u32) -> Self {
        self.default_ttl = secs;
        self
    }

    /// Ports of the nodes, in order; 0 or a missing entry means any free
    /// port.
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// // The first node on any free port, like a zero entry.
    /// let ec = EmbeddedCluster::builder().ports(vec![0]).start()?;
    /// assert_ne!(ec.nodes()[0].address().port(), 0);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn ports(mut self, ports: Vec<u16>) -> Self {
        self.ports = ports;
        self
    }

    /// What `cluster-name` reports (default `embedded`).
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let ec = EmbeddedCluster::builder().cluster_name("batch").start()?;
    /// # drop(ec);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn cluster_name(mut self, name: &str) -> Self {
        self.config.cluster_name = name.to_owned();
        self
    }

    /// What `build` reports (default `8.1.2.0`).
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// // A node that says it is an older server.
    /// let ec = EmbeddedCluster::builder().build("7.2.0.1").start()?;
    /// # drop(ec);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn build(mut self, build: &str) -> Self {
        self.config.build = build.to_owned();
        self
    }

    /// Finished jobs each node keeps for `query-show` (default 100).
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let ec = EmbeddedCluster::builder().query_max_done(10).start()?;
    /// # drop(ec);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn query_max_done(mut self, n: usize) -> Self {
        self.config.query_max_done = n;
        self
    }

    /// Highest records-per-second a background job may ask for (default
    /// 10000).
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let ec = EmbeddedCluster::builder().background_query_max_rps(500).start()?;
    /// # drop(ec);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn background_query_max_rps(mut self, n: u32) -> Self {
        self.config.background_query_max_rps = n;
        self
    }

    /// Starts the cluster.
    ///
    /// Fails with [`Error::InvalidArgument`] for zero nodes, a namespace
    /// without a name or with replication factor 0, and with [`Error::Io`]
    /// when a port cannot be bound.
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let ec = EmbeddedCluster::builder().nodes(3).namespace("test", 2).start()?;
    /// assert_eq!(ec.seeds().len(), 3);
    /// assert!(EmbeddedCluster::builder().nodes(0).start().is_err());
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn start(self) -> Result<EmbeddedCluster> {
        if self.nodes == 0 {
            return Err(Error::invalid(
                "an embedded cluster needs at least one node",
            ));
        }
        let mut namespaces = self.namespaces.clone();
        if namespaces.is_empty() {
            namespaces.push(("test".into(), self.nodes.min(2)));
        }
        let mut configs: Vec<NamespaceConfig> = Vec::new();
        for (name, rf) in namespaces {
            if name.is_empty() || name.len() > 31 || rf == 0 {
                return Err(Error::invalid(format!(
                    "bad namespace {name:?} with replication factor {rf}"
                )));
            }
            if configs.iter().any(|c| c.name == name) {
                return Err(Error::invalid(format!("namespace {name:?} given twice")));
            }
            configs.push(NamespaceConfig {
                name,
                replication_factor: rf,
                default_ttl: self.default_ttl,
            });
        }
        let shared = Arc::new(Shared::new(self.config, Store::new(configs.clone())));
        let cluster = EmbeddedCluster {
            shared,
            namespaces: configs,
            slots: Mutex::new(Vec::new()),
        };
        {
            let mut slots = cluster.slots.lock();
            for i in 0..self.nodes {
                let port = self.ports.get(i).copied().unwrap_or(0);
                let slot = cluster.launch(&mut slots, port)?;
                slots.push(slot);
            }
            cluster.rebalance(&slots);
        }
        // A freshly formed cluster reports generation 0, like a real one.
        cluster
            .shared
            .partition_generation
            .store(0, Ordering::SeqCst);
        cluster.shared.peers_generation.store(0, Ordering::SeqCst);
        cluster.shared.formed.store(true, Ordering::SeqCst);
        Ok(cluster)
    }
}

impl EmbeddedCluster {
    /// A builder with the defaults: one node, namespace `test`.
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let cluster = EmbeddedCluster::builder().nodes(2).start()?;
    /// assert_eq!(cluster.seeds().len(), 2);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn builder() -> EmbeddedClusterBuilder {
        EmbeddedClusterBuilder::default()
    }

    /// Starts `nodes` nodes on free ports with namespace `test` (replication
    /// factor `min(2, nodes)`).
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let cluster = EmbeddedCluster::start(1)?;
    /// assert!(cluster.seed().starts_with("127.0.0.1:"));
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn start(nodes: usize) -> Result<EmbeddedCluster> {
        Self::builder().nodes(nodes).start()
    }

    /// `127.0.0.1:port` of every running node.
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let cluster = EmbeddedCluster::start(2)?;
    /// assert_eq!(cluster.seeds().len(), 2);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn seeds(&self) -> Vec<String> {
        self.nodes()
            .iter()
            .map(|n| n.address().to_string())
            .collect()
    }

    /// `127.0.0.1:port` of the first running node (empty when none runs).
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let cluster = EmbeddedCluster::start(1)?;
    /// assert_eq!(cluster.seed(), cluster.seeds()[0]);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn seed(&self) -> String {
        self.seeds().into_iter().next().unwrap_or_default()
    }

    /// The running nodes, in the order they were first started.
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let cluster = EmbeddedCluster::start(3)?;
    /// assert_eq!(cluster.nodes().len(), 3);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn nodes(&self) -> Vec<NodeHandle> {
        self.slots
            .lock()
            .iter()
            .filter(|s| s.server.is_some())
            .map(Slot::handle)
            .collect()
    }

    /// Starts a new node on a free port; it joins and partitions rebalance.
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let cluster = EmbeddedCluster::start(1)?;
    /// let node = cluster.add_node()?;
    /// assert_eq!(cluster.nodes().len(), 2);
    /// assert!(cluster.seeds().contains(&node.address().to_string()));
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn add_node(&self) -> Result<NodeHandle> {
        let mut slots = self.slots.lock();
        let slot = self.launch(&mut slots, 0)?;
        let handle = slot.handle();
        slots.push(slot);
        self.rebalance(&slots);
        Ok(handle)
    }

    /// Stops node `name` for good: it leaves the cluster and partitions
    /// rebalance. Its name can not come back.
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let cluster = EmbeddedCluster::start(2)?;
    /// let name = cluster.nodes()[0].name();
    /// cluster.remove_node(&name)?;
    /// assert!(cluster.restart_node(&name).is_err());
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn remove_node(&self, name: &str) -> Result<()> {
        let mut slots = self.slots.lock();
        let slot = find(&mut slots, name)?;
        slot.removed = true;
        let server = slot.server.take();
        self.rebalance(&slots);
        drop(slots);
        if let Some(s) = server {
            s.stop();
        }
        Ok(())
    }

    /// Stops node `name`: its listener and connections close and it leaves
    /// the cluster (partitions rebalance), but it remembers its name and port
    /// so [`restart_node`](Self::restart_node) can bring it back.
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let cluster = EmbeddedCluster::start(2)?;
    /// let name = cluster.nodes()[0].name();
    /// cluster.stop_node(&name)?;
    /// assert_eq!(cluster.nodes().len(), 1);
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn stop_node(&self, name: &str) -> Result<()> {
        let mut slots = self.slots.lock();
        let server = find(&mut slots, name)?.server.take();
        let Some(server) = server else {
            return Err(Error::invalid(format!("node {name} is not running")));
        };
        self.rebalance(&slots);
        drop(slots);
        server.stop();
        Ok(())
    }

    /// Starts node `name` again (stopping it first if it runs) with the same
    /// name and port; it forgets its jobs. Partitions rebalance.
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let cluster = EmbeddedCluster::start(2)?;
    /// let before = cluster.nodes()[0].clone();
    /// let after = cluster.restart_node(&before.name())?;
    /// assert_eq!(before.address(), after.address());
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn restart_node(&self, name: &str) -> Result<NodeHandle> {
        let mut slots = self.slots.lock();
        let old = find(&mut slots, name)?.server.take();
        if let Some(server) = old {
            server.stop();
        }
        let slot = find(&mut slots, name)?;
        let ctx = Arc::new(self.node_ctx(name));
        let server =
            Server::start(ctx, slot.port, slot.faults.clone()).map_err(|e| io_error(name, e));
        match server {
            Ok(server) => {
                slot.server = Some(server);
                let handle = slot.handle();
                self.rebalance(&slots);
                Ok(handle)
            }
            Err(e) => {
                self.rebalance(&slots);
                Err(e)
            }
        }
    }

    /// Makes `to_node` the master of `partition` of `namespace`; the old
    /// master becomes a replica. Lasts until the next membership change,
    /// which rebalances every partition.
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let cluster = EmbeddedCluster::start(2)?;
    /// let to = cluster.nodes()[1].name();
    /// cluster.move_partition("test", 7, &to)?;
    /// assert!(cluster.move_partition("test", 4096, &to).is_err());
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn move_partition(&self, namespace: &str, partition: u16, to_node: &str) -> Result<()> {
        let slots = self.slots.lock();
        if !slots
            .iter()
            .any(|s| s.name == to_node && s.server.is_some())
        {
            return Err(Error::invalid(format!("node {to_node} is not running")));
        }
        let pid = usize::from(partition);
        if pid >= PARTITIONS {
            return Err(Error::invalid(format!(
                "partition {partition} out of range"
            )));
        }
        let rf = self
            .namespaces
            .iter()
            .find(|c| c.name == namespace)
            .map(|c| c.replication_factor)
            .ok_or_else(|| Error::invalid(format!("unknown namespace {namespace}")))?;
        let mut tables = self.shared.partitions.read().clone();
        let Some(owners) = tables
            .get_mut(namespace)
            .and_then(|t| t.owners.get_mut(pid))
        else {
            return Err(Error::invalid(format!("unknown namespace {namespace}")));
        };
        owners.retain(|n| n != to_node);
        owners.insert(0, to_node.to_owned());
        let running = slots.iter().filter(|s| s.server.is_some()).count();
        owners.truncate(rf.clamp(1, running.max(1)));
        self.shared.set_partitions(tables);
        Ok(())
    }

    /// Stops every node and joins every thread (what dropping does).
    ///
    /// ```
    /// use aerospike_embedded::EmbeddedCluster;
    /// let cluster = EmbeddedCluster::start(1)?;
    /// let seed = cluster.seed();
    /// cluster.shutdown();
    /// assert!(std::net::TcpStream::connect(seed).is_err());
    /// # Ok::<(), aerospike_proto::Error>(())
    /// ```
    pub fn shutdown(self) {
        drop(self);
    }

    /// A fresh context for node `name` (empty job table, zero counters).
    fn node_ctx(&self, name: &str) -> NodeCtx {
        NodeCtx::new(name, self.shared.clone())
    }

    /// Starts a new node on `port` (0 = any) with the next free id.
    /// A port picked by the system never lands on a stopped node's port,
    /// which stays reserved for its restart.
    fn launch(&self, slots: &mut [Slot], port: u16) -> Result<Slot> {
        let name = format!("{:03X}{NODE_ID_SUFFIX}", FIRST_NODE_PREFIX + slots.len());
        let faults = Arc::new(Faults::default());
        let reserved = |p: u16| slots.iter().any(|s| s.port == p && !s.removed);
        // Listeners on reserved ports are held until a free one is found, so
        // the system does not hand the same port out again.
        let mut discarded = Vec::new();
        let server = loop {
            let ctx = Arc::new(self.node_ctx(&name));
            let server =
                Server::start(ctx, port, faults.clone()).map_err(|e| io_error(&name, e))?;
            if port != 0 || !reserved(server.addr().port()) || discarded.len() >= 16 {
                break server;
            }
            discarded.push(server);
        };
        drop(discarded);
        Ok(Slot {
            port: server.addr().port(),
            name,
            faults,
            server: Some(server),
            removed: false,
        })
    }

    /// Recomputes membership and partition ownership from the running nodes.
    fn rebalance(&self, slots: &[Slot]) {
        let mut members: Vec<Member> = slots
            .iter()
            .filter(|s| s.server.is_some())
            .map(|s| Member {
                name: s.name.clone(),
                port: s.port,
            })
            .collect();
        members.sort_by(|a, b| a.name.cmp(&b.name));
        let names: Vec<String> = members.iter().map(|m| m.name.clone()).collect();
        let tables: HashMap<String, PartitionTable> = self
            .namespaces
            .iter()
            .map(|c| {
                (
                    c.name.clone(),
                    PartitionTable::balanced(&names, c.replication_factor),
                )
            })
            .collect();
        *self.shared.members.write() = members;
        self.shared.set_partitions(tables);
        self.shared.peers_generation.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        let servers: Vec<Server> = self
            .slots
            .lock()
            .iter_mut()
            .filter_map(|s| s.server.take())
            .collect();
        for s in servers {
            s.stop();
        }
    }
}

/// The slot of a node that was not removed.
fn find<'a>(slots: &'a mut [Slot], name: &str) -> Result<&'a mut Slot> {
    slots
        .iter_mut()
        .find(|s| s.name == name && !s.removed)
        .ok_or_else(|| Error::invalid(format!("no node {name} in this cluster")))
}

fn io_error(node: &str, source: std::io::Error) -> Error {
    Error::Io {
        node: node.to_owned(),
        source,
        in_doubt: false,
    }
}
