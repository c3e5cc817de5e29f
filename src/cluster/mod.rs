//! The cluster: seeds, the tend thread, the immutable [`ClusterState`]
//! snapshot (nodes + partition map) and fan-out to node workers.

pub(crate) mod node;
pub(crate) mod partition;
pub(crate) mod peers;
pub(crate) mod tend;
pub(crate) mod version;

#[cfg(test)]
mod prop_tests;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{RecvTimeoutError, Sender};
use parking_lot::{Mutex, RwLock};

use crate::net::Deadline;
use crate::policy::ClientPolicy;
use crate::wire::info;
use crate::{Error, Result};

pub(crate) use node::Node;
use partition::{parse_replicas, PartitionMap};
use tend::NodeView;

/// An immutable snapshot: the active nodes and who owns which partition.
#[derive(Debug, Default)]
pub(crate) struct ClusterState {
    pub(crate) nodes: Vec<Arc<Node>>,
    pub(crate) partitions: PartitionMap<Arc<Node>>,
    /// Each namespace's master partitions grouped by node, built on first
    /// use ([`ClusterState::master_shares`]).
    shares: Mutex<HashMap<String, Arc<MasterShares>>>,
}

/// The partitions each node masters in one namespace, in partition order.
pub(crate) type MasterShares = Vec<(Arc<Node>, Arc<[u16]>)>;

impl ClusterState {
    fn new(nodes: Vec<Arc<Node>>, partitions: PartitionMap<Arc<Node>>) -> Self {
        ClusterState {
            nodes,
            partitions,
            shares: Mutex::default(),
        }
    }

    /// The partitions of `ns` each node masters in this snapshot. The first
    /// call per namespace groups the map (one pass over its partitions);
    /// later ones, e.g. each job start while the cluster is stable, share
    /// the result.
    pub(crate) fn master_shares(&self, ns: &str) -> Arc<MasterShares> {
        if let Some(s) = self.shares.lock().get(ns) {
            return s.clone();
        }
        let masters = self.partitions.masters(ns);
        let mut grouped: Vec<(Arc<Node>, Vec<u16>)> = Vec::new();
        for (pid, owner) in masters.iter().enumerate() {
            let Some(owner) = owner else { continue };
            // The map holds the node list's own handles: match by pointer.
            let i = match grouped.iter().position(|(n, _)| Arc::ptr_eq(n, owner)) {
                Some(i) => i,
                None => {
                    grouped.push((owner.clone(), Vec::new()));
                    grouped.len() - 1
                }
            };
            grouped[i].1.push(pid as u16);
        }
        let shares: Arc<MasterShares> = Arc::new(
            grouped
                .into_iter()
                .map(|(n, pids)| (n, Arc::from(pids)))
                .collect(),
        );
        self.shares.lock().insert(ns.to_owned(), shares.clone());
        shares
    }
}

/// The client's view of the cluster.
#[derive(Debug)]
pub(crate) struct Cluster {
    seeds: Vec<String>,
    policy: ClientPolicy,
    state: RwLock<Arc<ClusterState>>,
    /// Serializes tend cycles (connect runs the first ones).
    tending: Mutex<()>,
    /// Wakes the tend thread early (a full channel means a wake is already
    /// pending); dropping it stops the thread.
    wake: Mutex<Option<Sender<()>>>,
    tend_thread: Mutex<Option<JoinHandle<()>>>,
    closed: AtomicBool,
}

impl Cluster {
    /// Seeds the cluster, tends until the node list settles, then starts the
    /// tend thread.
    pub(crate) fn connect(seeds: Vec<String>, policy: ClientPolicy) -> Result<Arc<Cluster>> {
        if seeds.is_empty() {
            return Err(Error::invalid("no seed given"));
        }
        let cluster = Arc::new(Cluster {
            seeds,
            policy,
            state: RwLock::new(Arc::new(ClusterState::default())),
            tending: Mutex::new(()),
            wake: Mutex::new(None),
            tend_thread: Mutex::new(None),
            closed: AtomicBool::new(false),
        });
        // New nodes found in a cycle are tended in the next: a few cycles
        // reach every node of a healthy cluster.
        for _ in 0..4 {
            if !cluster.tend() {
                break;
            }
        }
        if cluster.state().nodes.is_empty() && cluster.policy.fail_if_not_connected {
            cluster.close();
            return Err(Error::NoNode(format!(
                "no seed answered: {}",
                cluster.seeds.join(", ")
            )));
        }
        let (tx, rx) = crossbeam_channel::bounded::<()>(1);
        let weak = Arc::downgrade(&cluster);
        let interval = cluster.policy.tend_interval;
        let handle = std::thread::Builder::new()
            .name("aerospike-tend".into())
            .spawn(move || loop {
                match rx.recv_timeout(interval) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => match weak.upgrade() {
                        Some(c) => {
                            c.tend();
                        }
                        None => return,
                    },
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            })
            .map_err(|e| Error::Io {
                node: "tend thread".into(),
                source: e,
                in_doubt: false,
            });
        match handle {
            Ok(h) => {
                *cluster.wake.lock() = Some(tx);
                *cluster.tend_thread.lock() = Some(h);
                Ok(cluster)
            }
            Err(e) => {
                cluster.close();
                Err(e)
            }
        }
    }

    /// Asks the tend thread for a cycle now (after a command found a node
    /// gone or a partition unavailable). Several requests coalesce.
    pub(crate) fn wake_tend(&self) {
        if let Some(tx) = self.wake.lock().as_ref() {
            let _ = tx.try_send(());
        }
    }

    /// The policy the client was created with.
    pub(crate) fn policy(&self) -> &ClientPolicy {
        &self.policy
    }

    /// The current snapshot.
    pub(crate) fn state(&self) -> Arc<ClusterState> {
        self.state.read().clone()
    }

    /// Active nodes.
    pub(crate) fn nodes(&self) -> Vec<Arc<Node>> {
        self.state().nodes.clone()
    }

    /// The active node named `name`.
    pub(crate) fn node(&self, name: &str) -> Option<Arc<Node>> {
        self.state()
            .nodes
            .iter()
            .find(|n| n.name() == name)
            .cloned()
    }

    /// The master of a partition.
    pub(crate) fn master_node(&self, ns: &str, partition: u16) -> Result<Arc<Node>> {
        self.replica_node(ns, partition, 0)
    }

    /// The holder of copy `replica` of a partition, falling back to the
    /// master when that copy is unknown.
    pub(crate) fn replica_node(
        &self,
        ns: &str,
        partition: u16,
        replica: usize,
    ) -> Result<Arc<Node>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        // The read guard, not a clone of the state's `Arc`: two atomic
        // operations fewer on a line every command thread shares.
        let st = self.state.read();
        if let Some(node) = st.partitions.replica_or_master(ns, replica, partition) {
            return Ok(node.clone());
        }
        let count = st.partitions.replica_count(ns);
        Err(if count == 0 {
            Error::NoNode(format!("namespace {ns:?} is not known to any node"))
        } else {
            Error::NoNode(format!(
                "no node holds partition {partition} of namespace {ns:?}"
            ))
        })
    }

    /// Any active node (the first), for cluster-wide info commands.
    pub(crate) fn any_node(&self) -> Result<Arc<Node>> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        self.nodes()
            .into_iter()
            .next()
            .ok_or_else(|| Error::NoNode("the cluster has no active node".into()))
    }

    /// Runs `f` on every node's worker thread in parallel; returns each node's
    /// outcome, in the order of `nodes`.
    ///
    /// A node whose queue stays full until the deadline gets a `Queue`
    /// timeout. `f` must not fan out to the same nodes itself (their workers
    /// could all be busy running `f`).
    pub(crate) fn fan_out<T: Send + 'static>(
        &self,
        nodes: &[Arc<Node>],
        deadline: Deadline,
        f: impl Fn(&Node, Deadline) -> Result<T> + Send + Sync + 'static,
    ) -> Vec<(Arc<Node>, Result<T>)> {
        let f = Arc::new(f);
        let (tx, rx) = crossbeam_channel::unbounded::<(usize, Result<T>)>();
        let mut results: Vec<Option<Result<T>>> = nodes.iter().map(|_| None).collect();
        let mut pending = 0usize;
        for (i, node) in nodes.iter().enumerate() {
            if self.closed.load(Ordering::Acquire) {
                results[i] = Some(Err(Error::Closed));
                continue;
            }
            let (f, tx, n) = (f.clone(), tx.clone(), node.clone());
            let job = Box::new(move || {
                let r = f(&n, deadline);
                let _ = tx.send((i, r));
            });
            match node.submit(job, &deadline) {
                Ok(()) => pending += 1,
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        drop(tx);
        while pending > 0 {
            match rx.recv() {
                Ok((i, r)) => {
                    results[i] = Some(r);
                    pending -= 1;
                }
                Err(_) => break,
            }
        }
        nodes
            .iter()
            .zip(results)
            .map(|(n, r)| {
                let r = r.unwrap_or_else(|| {
                    Err(Error::Protocol {
                        node: n.name().to_owned(),
                        message: "the worker stopped before finishing the job".into(),
                    })
                });
                (n.clone(), r)
            })
            .collect()
    }

    /// Stops the tend thread and every node's workers, and joins them all.
    pub(crate) fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        drop(self.wake.lock().take());
        if let Some(h) = self.tend_thread.lock().take() {
            if h.thread().id() != std::thread::current().id() {
                let _ = h.join();
            }
        }
        let _guard = self.tending.lock();
        let old = std::mem::take(&mut *self.state.write());
        for n in &old.nodes {
            n.shutdown();
        }
    }

    fn info_deadline(&self) -> Deadline {
        Deadline::after(self.policy.info_timeout)
    }

    /// Connects to `addr`, validates the node and reads its peers and
    /// partitions. `expected` is the name a peer list gave it.
    fn validate(&self, addr: SocketAddr, expected: Option<&str>) -> Result<Arc<Node>> {
        let mut cmds = vec![
            "node",
            "build",
            "features",
            "partition-generation",
            "peers-generation",
        ];
        if self.policy.cluster_name.is_some() {
            cmds.push("cluster-name");
        }
        let d = self.info_deadline();
        let mut conn = crate::net::Connection::connect(addr, self.policy.connect_timeout, &d)?;
        let values: HashMap<String, String> = conn.info(&cmds, &d)?.into_iter().collect();
        let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
        let name = get("node").trim();
        if name.is_empty() || info::parse_error(name).is_some() {
            return Err(Error::Protocol {
                node: addr.to_string(),
                message: format!("no node name in {values:?}"),
            });
        }
        if let Some(exp) = expected {
            if exp != name {
                return Err(Error::Protocol {
                    node: addr.to_string(),
                    message: format!("expected node {exp}, found {name}"),
                });
            }
        }
        if let Some(want) = &self.policy.cluster_name {
            if get("cluster-name") != want {
                return Err(Error::Protocol {
                    node: addr.to_string(),
                    message: format!("cluster name {:?}, expected {want:?}", get("cluster-name")),
                });
            }
        }
        let features = get("features")
            .split(';')
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        let node = Node::new(name.to_owned(), addr, get("build"), features, &self.policy)?;
        node.set_tend_connection(conn);
        if let Err(e) = self.follow_up(&node, get("peers-generation"), get("partition-generation"))
        {
            node.shutdown();
            return Err(e);
        }
        Ok(node)
    }

    /// Reads peers and partitions when their generations changed. Returns
    /// true when the node's partitions changed.
    fn follow_up(&self, node: &Node, peers_gen: &str, part_gen: &str) -> Result<bool> {
        let bad = |what: &str, v: &str| Error::Protocol {
            node: node.name().to_owned(),
            message: format!("bad {what} {v:?}"),
        };
        let peers_gen: u64 = peers_gen
            .trim()
            .parse()
            .map_err(|_| bad("peers-generation", peers_gen))?;
        let part_gen: u64 = part_gen
            .trim()
            .parse()
            .map_err(|_| bad("partition-generation", part_gen))?;
        let (need_peers, need_parts) = {
            let t = node.tend.lock();
            (
                t.peers_generation != Some(peers_gen),
                t.partition_generation != Some(part_gen),
            )
        };
        if need_peers && node.has_feature("peers") {
            let v = self.info_value(node, "peers-clear-std")?;
            let p = peers::parse(&v).ok_or_else(|| bad("peers-clear-std", &v))?;
            let mut t = node.tend.lock();
            t.peers = p.peers;
            t.peers_generation = Some(peers_gen);
        } else if need_peers {
            // Servers without peer discovery: this node only knows itself.
            let mut t = node.tend.lock();
            t.peers.clear();
            t.peers_generation = Some(peers_gen);
        }
        if need_parts {
            let cmd = node.replicas_command();
            let v = self.info_value(node, cmd.command())?;
            let r = parse_replicas(&v, cmd).map_err(|e| bad(cmd.command(), &e))?;
            let mut t = node.tend.lock();
            t.replicas = Arc::new(r);
            t.partition_generation = Some(part_gen);
        }
        Ok(need_parts)
    }

    fn info_value(&self, node: &Node, cmd: &str) -> Result<String> {
        let pairs = node.tend_info(&[cmd], self.policy.connect_timeout, self.info_deadline())?;
        node.value_in(cmd, pairs)
    }

    /// One observation of a known node: true when it answered.
    fn refresh(&self, node: &Node) -> Result<bool> {
        let pairs = node.tend_info(
            &["node", "peers-generation", "partition-generation"],
            self.policy.connect_timeout,
            self.info_deadline(),
        )?;
        let values: HashMap<String, String> = pairs.into_iter().collect();
        let get = |k: &str| values.get(k).map(String::as_str).unwrap_or("");
        if get("node") != node.name() {
            return Err(Error::Protocol {
                node: node.name().to_owned(),
                message: format!("the address now answers as node {:?}", get("node")),
            });
        }
        self.follow_up(node, get("peers-generation"), get("partition-generation"))
    }

    fn seed_nodes(&self) -> Vec<Arc<Node>> {
        let mut found: Vec<Arc<Node>> = Vec::new();
        for seed in &self.seeds {
            for addr in peers::resolve(seed) {
                match self.validate(addr, None) {
                    Ok(n) if found.iter().any(|f| f.name() == n.name()) => n.shutdown(),
                    Ok(n) => {
                        found.push(n);
                        break;
                    }
                    Err(e) => log::warn!("seed {seed} ({addr}): {e}"),
                }
            }
        }
        found
    }

    /// One tend cycle. Returns true when the node list changed.
    pub(crate) fn tend(&self) -> bool {
        let _guard = self.tending.lock();
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        let old = self.state();
        let mut nodes = old.nodes.clone();
        let mut changed = false;
        let mut parts_changed = false;
        if nodes.is_empty() {
            nodes = self.seed_nodes();
            changed = !nodes.is_empty();
            parts_changed = changed;
        }
        // Observe.
        let mut healthy = Vec::with_capacity(nodes.len());
        for n in &nodes {
            match self.refresh(n) {
                Ok(p) => {
                    parts_changed |= p;
                    n.tend.lock().failures = 0;
                    healthy.push(true);
                }
                Err(e) => {
                    log::debug!("tend of node {}: {e}", n.name());
                    n.tend.lock().failures += 1;
                    healthy.push(false);
                }
            }
        }
        // Plan.
        let snapshots: Vec<(u32, Option<Vec<peers::Peer>>)> = nodes
            .iter()
            .map(|n| {
                let t = n.tend.lock();
                (t.failures, t.peers_generation.map(|_| t.peers.clone()))
            })
            .collect();
        let views: Vec<NodeView<'_>> = nodes
            .iter()
            .zip(&snapshots)
            .zip(&healthy)
            .map(|((n, (failures, peers)), h)| NodeView {
                name: n.name(),
                failures: *failures,
                healthy: *h,
                peers: peers.as_deref(),
            })
            .collect();
        let plan = tend::plan(&views, self.policy.max_tend_failures);
        // Apply.
        let mut removed = Vec::new();
        if !plan.remove.is_empty() {
            let (gone, kept): (Vec<_>, Vec<_>) = nodes
                .into_iter()
                .partition(|n| plan.remove.iter().any(|r| r == n.name()));
            nodes = kept;
            removed = gone;
            changed = true;
            parts_changed = true;
        }
        for peer in plan.add {
            let added = peer
                .addresses
                .iter()
                .flat_map(|a| peers::resolve(a))
                .find_map(|addr| match self.validate(addr, Some(&peer.name)) {
                    Ok(n) => Some(n),
                    Err(e) => {
                        log::debug!("peer {} at {addr}: {e}", peer.name);
                        None
                    }
                });
            if let Some(n) = added {
                nodes.push(n);
                changed = true;
                parts_changed = true;
            }
        }
        if changed || parts_changed {
            // Failing nodes first, so that on equal regimes the claims of
            // healthy nodes (which may have taken their partitions) win.
            let mut reports: Vec<(u32, Arc<Node>, Arc<partition::NodeReplicas>)> = nodes
                .iter()
                .map(|n| {
                    let t = n.tend.lock();
                    (t.failures, n.clone(), t.replicas.clone())
                })
                .collect();
            reports.sort_by_key(|r| std::cmp::Reverse(r.0));
            let partitions = PartitionMap::build(reports.iter().map(|(_, n, r)| (n.clone(), &**r)));
            *self.state.write() = Arc::new(ClusterState::new(nodes, partitions));
        }
        for n in removed {
            log::info!("node {} left the cluster", n.name());
            n.shutdown();
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::partition::{tests::replies, ReplicasCommand};
    use super::*;

    #[test]
    fn master_shares_split_the_map_by_node_and_are_built_once() {
        // The three nodes' `replicas` replies of a real 3-node cluster.
        let mut vals = replies("info-tend-cluster.txt", "replicas");
        vals.dedup();
        let reps: Vec<_> = vals
            .iter()
            .map(|v| parse_replicas(v, ReplicasCommand::Replicas).unwrap())
            .collect();
        let policy = ClientPolicy::default();
        let nodes: Vec<Arc<Node>> = (0..reps.len())
            .map(|i| {
                let addr: SocketAddr = format!("127.0.0.1:{}", 1 + i).parse().unwrap();
                Node::new(format!("N{i}"), addr, "8.1.2.0", Vec::new(), &policy).unwrap()
            })
            .collect();
        let map = PartitionMap::build(nodes.iter().cloned().zip(reps.iter()));
        let state = ClusterState::new(nodes.clone(), map);
        let shares = state.master_shares("test");
        assert_eq!(shares.len(), 3);
        let mut all: Vec<u16> = Vec::new();
        for (node, pids) in shares.iter() {
            assert!(pids.windows(2).all(|w| w[0] < w[1]), "{}", node.name());
            assert!((1000..1800).contains(&pids.len()), "{}", pids.len());
            for pid in pids.iter() {
                let owner = state.partitions.owner("test", 0, *pid).unwrap();
                assert!(Arc::ptr_eq(owner, node), "partition {pid}");
            }
            all.extend(pids.iter());
        }
        all.sort_unstable();
        assert_eq!(all, (0..4096).collect::<Vec<u16>>());
        // Later calls share the first grouping; an unknown namespace has none.
        assert!(Arc::ptr_eq(&shares, &state.master_shares("test")));
        assert!(state.master_shares("nope").is_empty());
        for n in nodes {
            n.shutdown();
        }
    }
}
