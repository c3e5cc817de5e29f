//! Partition ownership: parsing a node's `replicas` value and merging every
//! node's answer into one map of namespace → replica → partition → node.
//!
//! `replicas` (servers that list the `replicas` feature, 5.0 and later):
//! `ns:regime,count,<bitmap replica 0>,<bitmap replica 1>...;ns2:...`.
//! `replicas-all` (older): `ns:count,<bitmaps>...`. `replicas-master`
//! (oldest): `ns:<bitmap>`. A bitmap is the base64 of 512 bytes; bit `p` (most
//! significant first within each byte) says the node holds partition `p`.

use std::collections::HashMap;

use crate::wire::base64;

/// Partitions per namespace.
pub(crate) const PARTITIONS: usize = 4096;
const BITMAP_BYTES: usize = PARTITIONS / 8;

/// Which info command a node is asked for its partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplicasCommand {
    /// `replicas` (regime, count, bitmaps).
    Replicas,
    /// `replicas-all` (count, bitmaps).
    All,
    /// `replicas-master` (one bitmap).
    Master,
}

impl ReplicasCommand {
    /// The best command a node supports, from its `features` list.
    pub(crate) fn for_features(features: &[String]) -> Self {
        let has = |f: &str| features.iter().any(|x| x == f);
        if has("replicas") {
            ReplicasCommand::Replicas
        } else if has("replicas-all") {
            ReplicasCommand::All
        } else {
            ReplicasCommand::Master
        }
    }

    /// The command text.
    pub(crate) fn command(self) -> &'static str {
        match self {
            ReplicasCommand::Replicas => "replicas",
            ReplicasCommand::All => "replicas-all",
            ReplicasCommand::Master => "replicas-master",
        }
    }
}

/// One namespace as one node reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NsReplicas {
    pub(crate) regime: u32,
    /// One 512-byte bitmap per replica index (0 = master).
    pub(crate) bitmaps: Vec<Vec<u8>>,
}

/// Everything one node reports, by namespace.
pub(crate) type NodeReplicas = HashMap<String, NsReplicas>;

fn bitmap(b64: &str) -> Result<Vec<u8>, String> {
    let b = base64::decode(b64.trim().as_bytes()).ok_or("partition bitmap is not base64")?;
    if b.len() != BITMAP_BYTES {
        return Err(format!(
            "partition bitmap of {} bytes, expected {BITMAP_BYTES}",
            b.len()
        ));
    }
    Ok(b)
}

/// Parses a `replicas`, `replicas-all` or `replicas-master` value.
pub(crate) fn parse_replicas(value: &str, cmd: ReplicasCommand) -> Result<NodeReplicas, String> {
    let mut out = HashMap::new();
    for part in value.trim().split(';').filter(|p| !p.trim().is_empty()) {
        let (ns, rest) = part
            .split_once(':')
            .ok_or_else(|| format!("no ':' in replicas entry {part:?}"))?;
        let mut items = rest.split(',');
        let num = |s: Option<&str>| -> Result<u32, String> {
            s.and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| format!("bad number in replicas entry for {ns}"))
        };
        let (regime, count) = match cmd {
            ReplicasCommand::Replicas => (num(items.next())?, num(items.next())?),
            ReplicasCommand::All => (0, num(items.next())?),
            ReplicasCommand::Master => (0, 1),
        };
        let bitmaps = items.map(bitmap).collect::<Result<Vec<_>, _>>()?;
        if bitmaps.len() != count as usize {
            return Err(format!(
                "namespace {ns}: {count} replicas announced, {} bitmaps given",
                bitmaps.len()
            ));
        }
        out.insert(ns.trim().to_owned(), NsReplicas { regime, bitmaps });
    }
    Ok(out)
}

fn has_bit(bitmap: &[u8], pid: usize) -> bool {
    bitmap[pid >> 3] & (0x80 >> (pid & 7)) != 0
}

#[derive(Debug, Clone)]
struct NsMap<T> {
    /// `[replica][partition]`.
    owners: Vec<Vec<Option<T>>>,
    regimes: Vec<Vec<u32>>,
}

/// Which node holds each copy of each partition.
#[derive(Debug, Clone)]
pub(crate) struct PartitionMap<T> {
    namespaces: HashMap<String, NsMap<T>>,
}

impl<T> Default for PartitionMap<T> {
    fn default() -> Self {
        PartitionMap {
            namespaces: HashMap::new(),
        }
    }
}

impl<T: Clone> PartitionMap<T> {
    /// Merges every node's report. For each copy of each partition the node
    /// with the highest regime wins; on a tie the later node in `reports`.
    pub(crate) fn build<'a>(reports: impl IntoIterator<Item = (T, &'a NodeReplicas)>) -> Self {
        let mut namespaces: HashMap<String, NsMap<T>> = HashMap::new();
        for (node, rep) in reports {
            for (ns, r) in rep {
                let m = namespaces.entry(ns.clone()).or_insert_with(|| NsMap {
                    owners: Vec::new(),
                    regimes: Vec::new(),
                });
                while m.owners.len() < r.bitmaps.len() {
                    m.owners.push(vec![None; PARTITIONS]);
                    m.regimes.push(vec![0; PARTITIONS]);
                }
                for (i, bm) in r.bitmaps.iter().enumerate() {
                    for pid in (0..PARTITIONS).filter(|p| has_bit(bm, *p)) {
                        if m.owners[i][pid].is_none() || r.regime >= m.regimes[i][pid] {
                            m.owners[i][pid] = Some(node.clone());
                            m.regimes[i][pid] = r.regime;
                        }
                    }
                }
            }
        }
        PartitionMap { namespaces }
    }

    /// The master of every partition of `ns`, indexed by partition id (empty
    /// when the namespace is unknown).
    pub(crate) fn masters(&self, ns: &str) -> &[Option<T>] {
        self.namespaces
            .get(ns)
            .and_then(|m| m.owners.first())
            .map_or(&[], Vec::as_slice)
    }

    /// The node holding copy `replica % copies` of a partition, or its master
    /// when that copy is unknown: one namespace lookup (this runs on every
    /// single-record command).
    pub(crate) fn replica_or_master(&self, ns: &str, replica: usize, pid: u16) -> Option<&T> {
        let owners = &self.namespaces.get(ns)?.owners;
        let pid = usize::from(pid);
        let copy = owners.get(replica % owners.len().max(1))?;
        copy.get(pid)?
            .as_ref()
            .or_else(|| owners.first()?.get(pid)?.as_ref())
    }

    /// The node holding copy `replica` (0 = master) of a partition.
    pub(crate) fn owner(&self, ns: &str, replica: usize, pid: u16) -> Option<&T> {
        self.namespaces
            .get(ns)?
            .owners
            .get(replica)?
            .get(usize::from(pid))?
            .as_ref()
    }

    /// How many copies the map knows for `ns` (0 when the namespace is unknown).
    pub(crate) fn replica_count(&self, ns: &str) -> usize {
        self.namespaces.get(ns).map_or(0, |m| m.owners.len())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::wire::info;
    use aerospike_proto::fixtures;

    /// `replicas` values from a fixture, by the node named in the `# conn` line.
    pub(in crate::cluster) fn replies(file: &str, cmd: &str) -> Vec<String> {
        let text = fixtures::read(file);
        let mut out = Vec::new();
        for line in text.lines() {
            if let Some(h) = line.strip_prefix("S>C ") {
                let f = fixtures::unhex(h.trim());
                for (k, v) in info::parse_response(&f[8..]) {
                    if k == cmd {
                        out.push(v);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn single_node_owns_everything() {
        let v = &replies("info-tend-single.txt", "replicas")[0];
        let r = parse_replicas(v, ReplicasCommand::Replicas).unwrap();
        assert_eq!(r["test"].regime, 0);
        assert_eq!(r["test"].bitmaps.len(), 1);
        let m = PartitionMap::build([("A", &r)]);
        assert!((0..4096u16).all(|p| m.owner("test", 0, p) == Some(&"A")));
        assert_eq!(m.owner("other", 0, 0), None);
        let all = &replies("info-tend-single.txt", "replicas-all")[0];
        assert_eq!(
            parse_replicas(all, ReplicasCommand::All).unwrap()["test"].bitmaps,
            r["test"].bitmaps
        );
        let master = &replies("info-tend-single.txt", "replicas-master")[0];
        assert_eq!(
            parse_replicas(master, ReplicasCommand::Master).unwrap()["test"].bitmaps,
            r["test"].bitmaps
        );
        let max1 = &replies("info-tend-single.txt", "replicas:max=1")[0];
        assert_eq!(
            parse_replicas(max1, ReplicasCommand::Replicas).unwrap()["test"].bitmaps,
            r["test"].bitmaps
        );
    }

    #[test]
    fn three_nodes_split_every_partition_exactly_once_per_copy() {
        // Each `replicas` reply in info-tend-cluster.txt, one per node, in the
        // order :3100 (first two identical replies), :3110, :3120.
        let mut vals = replies("info-tend-cluster.txt", "replicas");
        vals.dedup();
        assert_eq!(vals.len(), 3);
        let reps: Vec<NodeReplicas> = vals
            .iter()
            .map(|v| parse_replicas(v, ReplicasCommand::Replicas).unwrap())
            .collect();
        for copy in 0..2 {
            for pid in 0..PARTITIONS {
                let holders = reps
                    .iter()
                    .filter(|r| has_bit(&r["test"].bitmaps[copy], pid))
                    .count();
                assert_eq!(holders, 1, "partition {pid} copy {copy}");
            }
        }
        let m = PartitionMap::build(["a", "b", "c"].into_iter().zip(reps.iter()));
        assert_eq!(m.replica_count("test"), 2);
        for pid in 0..4096u16 {
            let master = m.owner("test", 0, pid).unwrap();
            let prole = m.owner("test", 1, pid).unwrap();
            assert_ne!(master, prole, "partition {pid}");
        }
        let per_node: Vec<usize> = ["a", "b", "c"]
            .iter()
            .map(|n| {
                (0..4096u16)
                    .filter(|p| m.owner("test", 0, *p) == Some(n))
                    .count()
            })
            .collect();
        assert_eq!(per_node.iter().sum::<usize>(), 4096);
        assert!(per_node.iter().all(|c| *c > 1000), "{per_node:?}");
    }

    /// `replica_or_master` and `masters` agree with `owner`: the copy asked
    /// for (wrapping past the copies known), the master where that copy is
    /// unknown, nothing for an unknown namespace.
    #[test]
    fn replica_or_master_and_masters_agree_with_owner() {
        let full = base64::encode(&[0xff; 512]);
        let none = base64::encode(&[0; 512]);
        let half = base64::encode(&[[0xff; 256], [0; 256]].concat());
        let a = parse_replicas(
            &format!("test:1,2,{full},{none}"),
            ReplicasCommand::Replicas,
        )
        .unwrap();
        let b = parse_replicas(
            &format!("test:1,2,{none},{half}"),
            ReplicasCommand::Replicas,
        )
        .unwrap();
        let m = PartitionMap::build([("a", &a), ("b", &b)]);
        assert_eq!(m.replica_or_master("test", 0, 5), Some(&"a"));
        assert_eq!(m.replica_or_master("test", 1, 5), Some(&"b"));
        assert_eq!(
            m.replica_or_master("test", 3, 5),
            Some(&"b"),
            "3 wraps to copy 1"
        );
        assert_eq!(
            m.replica_or_master("test", 1, 4095),
            Some(&"a"),
            "copy 1 unknown"
        );
        assert_eq!(m.replica_or_master("other", 0, 5), None);
        let masters = m.masters("test");
        assert_eq!(masters.len(), PARTITIONS);
        assert!((0..4096u16).all(|p| masters[usize::from(p)].as_ref() == m.owner("test", 0, p)));
        assert!(m.masters("other").is_empty());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "[a-z0-9:,;/+=A-Z]{0,80}") {
            for cmd in [ReplicasCommand::Replicas, ReplicasCommand::All, ReplicasCommand::Master] {
                let _ = parse_replicas(&s, cmd);
            }
        }
    }

    #[test]
    fn higher_regime_wins_and_bad_values_fail() {
        let full = base64::encode(&[0xff; 512]);
        let a = parse_replicas(&format!("test:5,1,{full}"), ReplicasCommand::Replicas).unwrap();
        let b = parse_replicas(&format!("test:4,1,{full}"), ReplicasCommand::Replicas).unwrap();
        let m = PartitionMap::build([("a", &a), ("b", &b)]);
        assert_eq!(m.owner("test", 0, 7), Some(&"a"));
        assert!(parse_replicas("test:0,2,AAAA", ReplicasCommand::Replicas).is_err());
        assert!(parse_replicas(&format!("test:0,2,{full}"), ReplicasCommand::Replicas).is_err());
        assert!(parse_replicas("test", ReplicasCommand::Replicas).is_err());
        assert!(parse_replicas("test:x,1,", ReplicasCommand::Replicas).is_err());
        assert!(parse_replicas("", ReplicasCommand::Replicas)
            .unwrap()
            .is_empty());
    }
}
