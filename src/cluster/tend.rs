//! Tending: observe every node, decide (a pure function of what was seen),
//! then apply.
//!
//! One cycle:
//! 1. **observe**: each known node is asked `node`, `peers-generation` and
//!    `partition-generation` in one info request. When the peers generation
//!    changed, `peers-clear-std` is read; when the partition generation
//!    changed, `replicas` (or the older forms, see `partition`).
//! 2. **plan** ([`plan`]): which peers to add, which nodes to drop (after
//!    `max_tend_failures` consecutive failures, or when no other healthy node
//!    lists them as a peer any more).
//! 3. **apply**: validate and add new nodes, drop the others, rebuild the
//!    partition map and swap the new `ClusterState` in.

use std::collections::HashSet;

use crate::cluster::peers::Peer;

/// What the plan needs to know about one known node.
#[derive(Debug, Clone)]
pub(crate) struct NodeView<'a> {
    pub(crate) name: &'a str,
    /// Consecutive failed tends, this cycle included.
    pub(crate) failures: u32,
    /// The node answered this cycle.
    pub(crate) healthy: bool,
    /// Its last known peers; `None` when never read.
    pub(crate) peers: Option<&'a [Peer]>,
}

/// What a tend cycle does.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Plan {
    /// Peers to validate and add.
    pub(crate) add: Vec<Peer>,
    /// Names of nodes to drop.
    pub(crate) remove: Vec<String>,
}

/// Decides which nodes to add and drop.
///
/// * A peer listed by a healthy node and not known yet is added.
/// * A node is dropped after `max_failures` consecutive failed tends.
/// * A healthy node is dropped when other healthy nodes exist, all of them
///   have reported their peers, and none lists it: it left the cluster.
pub(crate) fn plan(nodes: &[NodeView<'_>], max_failures: u32) -> Plan {
    let known: HashSet<&str> = nodes.iter().map(|n| n.name).collect();
    let mut plan = Plan::default();
    let mut seen = HashSet::new();
    for n in nodes.iter().filter(|n| n.healthy) {
        for p in n.peers.unwrap_or(&[]) {
            if !known.contains(p.name.as_str()) && seen.insert(p.name.as_str()) {
                plan.add.push(p.clone());
            }
        }
    }
    for n in nodes {
        if n.failures >= max_failures.max(1) {
            plan.remove.push(n.name.to_owned());
            continue;
        }
        if !n.healthy {
            continue;
        }
        let others: Vec<&NodeView<'_>> = nodes
            .iter()
            .filter(|o| o.healthy && o.name != n.name)
            .collect();
        let all_known = others.iter().all(|o| o.peers.is_some());
        let listed = others
            .iter()
            .any(|o| o.peers.unwrap_or(&[]).iter().any(|p| p.name == n.name));
        if !others.is_empty() && all_known && !listed {
            plan.remove.push(n.name.to_owned());
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(name: &str) -> Peer {
        Peer {
            name: name.into(),
            addresses: vec![format!("{name}:3000")],
        }
    }

    fn view<'a>(name: &'a str, failures: u32, peers: Option<&'a [Peer]>) -> NodeView<'a> {
        NodeView {
            name,
            failures,
            healthy: failures == 0,
            peers,
        }
    }

    #[test]
    fn single_node_stays_and_adds_nothing() {
        let p = plan(&[view("A", 0, Some(&[]))], 3);
        assert_eq!(p, Plan::default());
    }

    #[test]
    fn seed_discovers_its_peers_once() {
        let a_peers = [peer("B"), peer("C")];
        let p = plan(&[view("A", 0, Some(&a_peers))], 3);
        assert_eq!(p.add, vec![peer("B"), peer("C")]);
        assert!(p.remove.is_empty());
        // B also lists C: C is added once.
        let b_peers = [peer("A"), peer("C")];
        let p = plan(
            &[view("A", 0, Some(&a_peers)), view("B", 0, Some(&b_peers))],
            3,
        );
        assert_eq!(p.add, vec![peer("C")]);
    }

    #[test]
    fn failing_node_is_dropped_after_max_failures() {
        let a = [peer("B")];
        let b = [peer("A")];
        let p = plan(&[view("A", 0, Some(&a)), view("B", 2, Some(&b))], 3);
        assert!(p.remove.is_empty());
        let p = plan(&[view("A", 0, Some(&a)), view("B", 3, Some(&b))], 3);
        assert_eq!(p.remove, vec!["B".to_string()]);
        // A failing node's peers are not trusted for adding.
        let b = [peer("A"), peer("Z")];
        let p = plan(&[view("A", 0, Some(&a)), view("B", 1, Some(&b))], 3);
        assert!(p.add.is_empty());
    }

    #[test]
    fn node_no_one_lists_is_dropped() {
        // C left: A and B no longer list it, though it still answers.
        let a = [peer("B")];
        let b = [peer("A")];
        let c = [peer("A"), peer("B")];
        let p = plan(
            &[
                view("A", 0, Some(&a)),
                view("B", 0, Some(&b)),
                view("C", 0, Some(&c)),
            ],
            3,
        );
        assert_eq!(p.remove, vec!["C".to_string()]);
        assert!(p.add.is_empty());
    }

    #[test]
    fn unknown_peers_of_others_keep_a_node() {
        // B was just added and its peers are not known yet: A stays.
        let a = [peer("B")];
        let p = plan(&[view("A", 0, Some(&a)), view("B", 0, None)], 3);
        assert!(p.remove.is_empty());
        // A no longer lists B: B left.
        let a: [Peer; 0] = [];
        let p = plan(&[view("A", 0, Some(&a)), view("B", 0, None)], 3);
        assert_eq!(p.remove, vec!["B".to_string()]);
    }
}
