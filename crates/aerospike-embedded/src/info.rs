//! Info (type 1) commands of an embedded node, answered in the formats a real
//! Aerospike CE 8.1.2.0 node uses (see the fixtures `info-tend-*.txt`).

use std::sync::atomic::Ordering;

use super::ctx::{Member, NodeCtx};
use super::store::{now_citrusleaf, now_nanos, StoredRecord, CITRUSLEAF_EPOCH, PARTITIONS};
use super::{jobs, sindex, udf};

/// `features` of a CE 8.1.2.0 node.
const FEATURES: &str = "batch-any;batch-index;blob-bits;cdt-index;cdt-list;cdt-map;cluster-stable;\
float;geo;sindex-exists;peers;pipelining;pquery;pscans;query-show;relaxed-sc;replicas;replicas-all;\
replicas-master;replicas-max;truncate-namespace;udf";
const EDITION: &str = "Aerospike Community Edition";
/// Commands a Community server refuses with ENTERPRISE_ONLY (`thr_info.c`
/// SPECS entries with `ee_only`).
const EE_ONLY: &[&str] = &[
    "alumni-tls-alt",
    "alumni-tls-std",
    "feature-key",
    "masking",
    "masking-show",
    "peers-tls-alt",
    "peers-tls-std",
    "quiesce",
    "quiesce-undo",
    "rack-ids",
    "racks",
    "revive",
    "roster",
    "roster-set",
    "service-tls-alt",
    "service-tls-std",
];
const BUILD_SHA: &str = "05b91c64f5fa7836a36e52e3797da34dc0325649";
const BUILD_OS: &str = "debian12";
const BUILD_ARCH: &str = "x86_64";
const BUILD_TIME: &str = "Sun Nov 22 04:32:46 UTC 2026";
const COMPATIBILITY_ID: &str = "15";
/// The port `peers-clear-std` names as the default (a real node prints its
/// configured service port, 3000 in the captures, whatever port clients
/// reach it on); a peer on this port is listed without one, like the server.
const PEERS_DEFAULT_PORT: u16 = 3000;
/// Every key of `namespace/<ns>`, in the server's order, with the values of
/// an idle namespace; the ones that depend on state are filled in.
const NAMESPACE_TEMPLATE: &str = include_str!("namespace_stats.txt");
/// Every key of `get-config:context=namespace`, in the server's order, with
/// a CE 8.1.2.0 namespace's values (`storage-engine memory`); the ones this
/// cluster sets are filled in.
const NAMESPACE_CONFIG_TEMPLATE: &str = include_str!("namespace_config.txt");
/// Every key of `statistics`, in the server's order.
const STATISTICS_TEMPLATE: &str = include_str!("statistics.txt");

/// Answers an info request body with the reply body.
///
/// Each command must end with `\n`; text after the last `\n` is ignored. An
/// empty body is answered with the node's summary.
pub(crate) fn handle(node: &NodeCtx, body: &[u8]) -> Vec<u8> {
    if body.is_empty() {
        return summary(node).into_bytes();
    }
    let mut out = String::new();
    for command in aerospike_proto::wire::info::parse_request(body) {
        let value = answer(node, &command);
        out.push_str(&command);
        out.push('\t');
        out.push_str(&value);
        out.push('\n');
    }
    out.into_bytes()
}

/// Answers an info request body with an error line for every command (the
/// `ResultCode` fault).
pub(crate) fn error_reply(body: &[u8], code: u8) -> Vec<u8> {
    aerospike_proto::wire::info::parse_request(body)
        .iter()
        .map(|c| format!("{c}\tERROR:{code}:injected fault\n"))
        .collect::<String>()
        .into_bytes()
}

/// The value for one command.
pub(crate) fn answer(node: &NodeCtx, command: &str) -> String {
    let (name, args) = command.split_once(':').unwrap_or((command, ""));
    let shared = &node.shared;
    match name {
        // `name` is the deprecated spelling of `node`.
        "node" | "name" => node.name.clone(),
        "status" => "ok".into(),
        "build" => shared.config.build.clone(),
        "version" => format!("{EDITION} build {}", shared.config.build),
        "edition" => EDITION.into(),
        "release" => format!(
            "edition={EDITION};version={};os={BUILD_OS};arch={BUILD_ARCH};sha={BUILD_SHA}",
            shared.config.build
        ),
        "build_sha" => BUILD_SHA.into(),
        "build_os" => BUILD_OS.into(),
        "build_arch" => BUILD_ARCH.into(),
        "build_time" => BUILD_TIME.into(),
        "build_ee_sha" | "service-clear-alt" => String::new(),
        "services" | "services-alumni" => peers(node)
            .iter()
            .map(|m| format!("127.0.0.1:{}", m.port))
            .collect::<Vec<_>>()
            .join(";"),
        "compatibility-id" => COMPATIBILITY_ID.into(),
        "features" => FEATURES.into(),
        "partitions" => PARTITIONS.to_string(),
        "cluster-name" => shared.config.cluster_name.clone(),
        "partition-generation" => partition_generation(node).to_string(),
        "rebalance-generation" => (partition_generation(node) + 1).to_string(),
        "peers-generation" => shared.peers_generation.load(Ordering::SeqCst).to_string(),
        "peers-clear-std" | "peers-clear-alt" => peers_clear(node),
        "service-clear-std" | "service" => node
            .port()
            .map(|p| format!("127.0.0.1:{p}"))
            .unwrap_or_default(),
        "namespaces" => shared.store.names().join(";"),
        "replicas" => replicas(node, args),
        "replicas-all" => replicas_all(node),
        "replicas-master" => replicas_master(node),
        "cluster-stable" => cluster_stable(node, args),
        "statistics" => statistics(node),
        "truncate" => truncate(node, args, false),
        "truncate-namespace" => truncate(node, args, true),
        "truncate-undo" => truncate_undo(node, args, false),
        "truncate-namespace-undo" => truncate_undo(node, args, true),
        "get-config" => get_config(node, args),
        "user-agent-set" => "ok".into(),
        n if EE_ONLY.contains(&n) => "ERROR:25:enterprise only".into(),
        _ => {
            if let Some(rest) = name.strip_prefix("namespace/") {
                return namespace_stats(node, rest);
            }
            if name == "sets" || name.starts_with("sets/") {
                return sets(node, name.strip_prefix("sets/").unwrap_or(""));
            }
            let hooked = match name {
                "query-show" | "query-abort" | "query-abort-all" => jobs::info(node, name, args),
                n if n.starts_with("sindex-") => sindex::info(node, name, args),
                n if n.starts_with("udf-") => udf::info(node, name, args),
                _ => None,
            };
            hooked.unwrap_or_else(|| "ERROR:4:unrecognized command".into())
        }
    }
}

/// The reply to an empty request: a summary of several values.
fn summary(node: &NodeCtx) -> String {
    [
        "features",
        "node",
        "compatibility-id",
        "edition",
        "build_ee_sha",
        "build_sha",
        "build_arch",
        "build_time",
        "build_os",
        "build",
        "version",
        "statistics",
        "services-alumni",
        "services",
        "partition-generation",
    ]
    .iter()
    .map(|c| format!("{c}\t{}\n", answer(node, c)))
    .collect()
}

fn partition_generation(node: &NodeCtx) -> u64 {
    node.shared.partition_generation.load(Ordering::SeqCst)
}

/// The other running nodes, highest id first (the server's order).
fn peers(node: &NodeCtx) -> Vec<Member> {
    let mut others: Vec<Member> = node
        .shared
        .members
        .read()
        .iter()
        .filter(|m| m.name != node.name)
        .cloned()
        .collect();
    others.sort_by(|a, b| b.name.cmp(&a.name));
    others
}

/// `gen,default-port,[[ID,,[127.0.0.1:PORT]],...]` over [`peers`].
fn peers_clear(node: &NodeCtx) -> String {
    let list: Vec<String> = peers(node)
        .iter()
        .map(|m| match m.port {
            PEERS_DEFAULT_PORT => format!("[{},,[127.0.0.1]]", m.name),
            port => format!("[{},,[127.0.0.1:{port}]]", m.name),
        })
        .collect();
    format!(
        "{},{PEERS_DEFAULT_PORT},[{}]",
        node.shared.peers_generation.load(Ordering::SeqCst),
        list.join(",")
    )
}

/// One bitmap per copy index (0 = master): bit `p` set when this node holds
/// that copy of partition `p`. Bits run from the high bit of byte 0.
fn bitmaps(node: &NodeCtx, ns: &str, copies: usize) -> Vec<String> {
    let tables = node.shared.partitions.read();
    let owners = tables.get(ns).map(|t| t.owners.as_slice()).unwrap_or(&[]);
    (0..copies)
        .map(|copy| {
            let mut bits = vec![0u8; PARTITIONS / 8];
            for (pid, o) in owners.iter().enumerate().take(PARTITIONS) {
                if o.get(copy).is_some_and(|n| *n == node.name) {
                    bits[pid >> 3] |= 0x80 >> (pid & 7);
                }
            }
            aerospike_proto::wire::base64::encode(&bits)
        })
        .collect()
}

/// Copies of each partition of `ns` the cluster keeps now.
fn copies(node: &NodeCtx, ns: &str) -> usize {
    node.shared
        .partitions
        .read()
        .get(ns)
        .and_then(|t| t.owners.iter().map(Vec::len).max())
        .unwrap_or(0)
}

/// `replicas[:max=N]`: `ns:regime,copies,bitmap,...` per namespace, joined
/// by `;`. The regime is 0 (no strong consistency).
fn replicas(node: &NodeCtx, args: &str) -> String {
    let max = aerospike_proto::wire::info::parse_pairs(args, ';')
        .into_iter()
        .find(|(k, _)| *k == "max")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    node.shared
        .store
        .names()
        .iter()
        .map(|ns| {
            let n = max.map_or(copies(node, ns), |m| m.min(copies(node, ns)));
            let mut parts = vec!["0".to_string(), n.to_string()];
            parts.extend(bitmaps(node, ns, n));
            format!("{ns}:{}", parts.join(","))
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// `replicas-all`: `ns:copies,bitmap,...` per namespace.
fn replicas_all(node: &NodeCtx) -> String {
    node.shared
        .store
        .names()
        .iter()
        .map(|ns| {
            let n = copies(node, ns);
            let mut parts = vec![n.to_string()];
            parts.extend(bitmaps(node, ns, n));
            format!("{ns}:{}", parts.join(","))
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// `replicas-master`: `ns:bitmap` per namespace.
fn replicas_master(node: &NodeCtx) -> String {
    node.shared
        .store
        .names()
        .iter()
        .map(|ns| format!("{ns}:{}", bitmaps(node, ns, 1).concat()))
        .collect::<Vec<_>>()
        .join(";")
}

/// A 12-hex-digit key that changes whenever the membership or the partition
/// map changes.
fn cluster_key(node: &NodeCtx) -> String {
    let mut x = partition_generation(node)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(node.shared.peers_generation.load(Ordering::SeqCst))
        ^ 0x8cef_6e9b_b028;
    x = (x ^ (x >> 29)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    format!("{:012X}", (x ^ (x >> 32)) & 0xffff_ffff_ffff)
}

/// `cluster-stable[:size=N;ignore-migrations=B;namespace=NS]`: the cluster
/// key, or the server's errors in its order (`thr_info.c`
/// `cmd_cluster_stable`; migrations are always done here).
fn cluster_stable(node: &NodeCtx, args: &str) -> String {
    cluster_stable_checked(node, args).unwrap_or_else(|e| e)
}

fn cluster_stable_checked(node: &NodeCtx, args: &str) -> Result<String, String> {
    if let Some(size) = sindex::optional_param(args, &["size"], 4)? {
        let size: u32 = size.parse().map_err(|_| "ERROR:4:bad size")?;
        if size as usize != node.shared.members.read().len() {
            return Err("ERROR:7:cluster not specified size".into());
        }
    }
    let ignore = match sindex::optional_param(args, &["ignore-migrations"], 6)? {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err("ERROR:4:bad ignore migrations".into()),
    };
    if !ignore {
        if let Some(ns) = sindex::optional_param(args, &["namespace"], 32)? {
            if node.shared.store.namespace(ns).is_none() {
                return Err("ERROR:20:namespace not found on node".into());
            }
        }
    }
    Ok(cluster_key(node))
}

/// Records of `ns` on this node: (master copies, replica copies).
fn object_counts(node: &NodeCtx, ns: &str) -> (usize, usize) {
    let (mut master, mut prole) = (0, 0);
    for_each_local_partition(node, ns, |is_master, records| {
        let n = records.count();
        if is_master {
            master += n;
        } else {
            prole += n;
        }
    });
    (master, prole)
}

/// Runs `f` on every partition of namespace `ns` that `node` holds a copy
/// of, with whether it is the master copy and the live records in it.
fn for_each_local_partition(
    node: &NodeCtx,
    ns: &str,
    mut f: impl FnMut(bool, &mut dyn Iterator<Item = &StoredRecord>),
) {
    let Some(namespace) = node.shared.store.namespace(ns) else {
        return;
    };
    let now = now_citrusleaf();
    let tables = node.shared.partitions.read();
    let Some(table) = tables.get(ns) else {
        return;
    };
    for (pid, owners) in table.owners.iter().enumerate() {
        let Some(pos) = owners.iter().position(|n| *n == node.name) else {
            continue;
        };
        let partition = namespace.partition(pid).read();
        f(
            pos == 0,
            &mut partition.values().filter(|r| !r.is_expired(now)),
        );
    }
}

/// Runs `f` on every live record of `ns` that `node` holds (master or
/// replica copy), as the node's own statistics and indexes count them.
pub(crate) fn for_each_local_record(node: &NodeCtx, ns: &str, mut f: impl FnMut(&StoredRecord)) {
    for_each_local_partition(node, ns, |_, records| records.for_each(&mut f));
}

/// Fills `template` (one `key=value` a line) with `values` and joins the
/// pairs with `;`.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    template
        .lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let key = line.split_once('=').map_or(line, |(k, _)| k);
            match values.iter().find(|(k, _)| *k == key) {
                Some((k, v)) => format!("{k}={v}"),
                None => line.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// `namespace/<ns>`: the server's keys in its order; counts, sizes and
/// settings reflect this cluster.
fn namespace_stats(node: &NodeCtx, ns: &str) -> String {
    let Some(namespace) = node.shared.store.namespace(ns) else {
        // The server answers an unknown namespace this way, not with an error.
        return "type=unknown".into();
    };
    let cfg = &namespace.config;
    let (master, prole) = object_counts(node, ns);
    let size = node.shared.members.read().len();
    let effective = copies(node, ns);
    let mut values = vec![
        ("ns_cluster_size", size.to_string()),
        ("effective_replication_factor", effective.to_string()),
        ("objects", (master + prole).to_string()),
        ("master_objects", master.to_string()),
        ("prole_objects", prole.to_string()),
        ("current_time", now_citrusleaf().to_string()),
        ("default-ttl", cfg.default_ttl.to_string()),
        ("replication-factor", cfg.replication_factor.to_string()),
        (
            "background-query-max-rps",
            node.shared.config.background_query_max_rps.to_string(),
        ),
    ];
    values.extend(
        node.stats
            .of(ns)
            .into_iter()
            .map(|(k, v)| (k, v.to_string())),
    );
    fill(NAMESPACE_TEMPLATE, &values)
}

/// `statistics`: the server's keys in its order; cluster and object values
/// reflect this cluster.
fn statistics(node: &NodeCtx) -> String {
    let members = node.shared.members.read().clone();
    let principal = members
        .iter()
        .map(|m| m.name.clone())
        .max()
        .unwrap_or_default();
    let objects: usize = node
        .shared
        .store
        .names()
        .iter()
        .map(|ns| {
            let (m, p) = object_counts(node, ns);
            m + p
        })
        .sum();
    // Node-wide counters live under the empty namespace name.
    let node_stat = |key: &str| {
        let all = node.stats.of("");
        all.iter().find(|(k, _)| *k == key).map_or(0, |(_, v)| *v)
    };
    let opened = node_stat("client_connections_opened");
    let closed = node_stat("client_connections_closed");
    fill(
        STATISTICS_TEMPLATE,
        &[
            (
                "client_connections",
                opened.saturating_sub(closed).to_string(),
            ),
            ("client_connections_opened", opened.to_string()),
            ("client_connections_closed", closed.to_string()),
            ("cluster_size", members.len().to_string()),
            ("cluster_key", cluster_key(node)),
            (
                "cluster_generation",
                node.shared
                    .peers_generation
                    .load(Ordering::SeqCst)
                    .to_string(),
            ),
            ("cluster_principal", principal.clone()),
            ("paxos_principal", principal),
            ("objects", objects.to_string()),
        ],
    )
}

/// `truncate:namespace=NS;set=SET[;lut=NANOS]` and
/// `truncate-namespace:namespace=NS[;lut=NANOS]`: removes the records last
/// updated before `lut` (now when absent).
fn truncate(node: &NodeCtx, args: &str, whole_namespace: bool) -> String {
    let run = || -> Result<(), String> {
        let (ns, set) = truncate_target(args, whole_namespace)?;
        let lut = sindex::optional_param(args, &["lut"], 24)?;
        let now = now_nanos();
        let before = match lut {
            None => now,
            // Like the server's strtoul: digits up to the first other byte.
            Some(v) => {
                let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
                let l = digits.parse::<u64>().unwrap_or(u64::MAX);
                if l / 1_000_000_000 <= CITRUSLEAF_EPOCH {
                    return Err("ERROR:4:would truncate to 0".into());
                }
                if l > now {
                    return Err("ERROR:4:would truncate in the future".into());
                }
                l
            }
        };
        // An unknown namespace is accepted (the server passes the command
        // to every node through its metadata module) and truncates nothing.
        if let Some(namespace) = node.shared.store.namespace(ns) {
            namespace.truncate(set, Some(before.saturating_add(1)));
        }
        Ok(())
    };
    match run() {
        Ok(()) => "ok".into(),
        Err(e) => e,
    }
}

/// The namespace and set of a `truncate*` command (`thr_info.c`): the set
/// is required, or refused when the whole namespace is meant.
fn truncate_target(args: &str, whole_namespace: bool) -> Result<(&str, Option<&str>), String> {
    let ns = sindex::required_param(args, &["namespace"], 32)?;
    if whole_namespace {
        if aerospike_proto::wire::info::parse_pairs(args, ';')
            .iter()
            .any(|(k, _)| *k == "set")
        {
            return Err("ERROR:4:unexpected set name".into());
        }
        return Ok((ns, None));
    }
    Ok((ns, Some(sindex::required_param(args, &["set"], 64)?)))
}

/// `truncate-undo` and `truncate-namespace-undo` (`truncate.c`
/// `as_truncate_undo_cmd`): the truncation threshold is forgotten; an
/// unknown namespace or set is accepted.
fn truncate_undo(node: &NodeCtx, args: &str, whole_namespace: bool) -> String {
    match truncate_target(args, whole_namespace) {
        Ok((ns, set)) => {
            if let (Some(namespace), Some(set)) = (node.shared.store.namespace(ns), set) {
                namespace.undo_truncate(set);
            }
            "ok".into()
        }
        Err(e) => e,
    }
}

/// `sets`, `sets/<ns>`, `sets/<ns>/<set>` (`thr_info.c` `cmd_sets`,
/// `namespace.c` `append_set_props`): each set's counts on this node and
/// its configuration. An unknown namespace answers `ns_type=unknown`, an
/// unknown set nothing.
fn sets(node: &NodeCtx, args: &str) -> String {
    let (ns_name, set_name) = match args.split_once('/') {
        Some((ns, set)) => (ns, Some(set)),
        None => (args, None),
    };
    let namespaces: Vec<String> = if ns_name.is_empty() {
        node.shared.store.names()
    } else if node.shared.store.namespace(ns_name).is_some() {
        vec![ns_name.to_owned()]
    } else {
        return "ns_type=unknown".into();
    };
    let mut out = String::new();
    for ns in namespaces {
        let Some(namespace) = node.shared.store.namespace(&ns) else {
            continue;
        };
        let known = namespace.set_names();
        let wanted: Vec<&String> = match set_name {
            Some(s) => known.iter().filter(|k| *k == s).collect(),
            None => known.iter().collect(),
        };
        for set in wanted {
            let (mut objects, mut bytes) = (0u64, 0u64);
            for_each_local_record(node, &ns, |r| {
                if r.set == *set {
                    objects += 1;
                    bytes += r.size();
                }
            });
            let sindexes = node.shared.sindexes.count_on(&ns, set);
            if set_name.is_none() {
                out.push_str(&format!("ns={ns}:set={set}:"));
            }
            out.push_str(&format!(
                "objects={objects}:tombstones=0:data_used_bytes={bytes}:truncate_lut={}:\
                 sindexes={sindexes}:index_populating=false:truncating=false:\
                 default-read-touch-ttl-pct=0:default-ttl=0:disable-eviction=false:\
                 enable-index=false:stop-writes-count=0:stop-writes-size=0;",
                namespace.truncate_lut(set)
            ));
        }
    }
    out
}

/// `get-config:context=namespace;id=<ns>` (`cfg_info.c`): the namespace's
/// configuration in the server's order. Other contexts (service, network,
/// security, xdr) are not kept by the embedded cluster.
fn get_config(node: &NodeCtx, args: &str) -> String {
    let run = || -> Result<String, String> {
        let context = sindex::required_param(args, &["context"], 1024)?;
        match context {
            "namespace" => {}
            // Empty on a Community server (security_ce.c, xdr_ce.c).
            "security" | "xdr" => return Ok(String::new()),
            "service" | "network" => {
                return Err(format!(
                    "ERROR:4:context '{context}' is not kept by the embedded cluster"
                ))
            }
            _ => return Err("ERROR:4:invalid context".into()),
        }
        let ns = sindex::required_param(args, &["namespace", "id"], 32)?;
        let namespace = node
            .shared
            .store
            .namespace(ns)
            .ok_or("ERROR:20:namespace not found on node")?;
        let cfg = &namespace.config;
        let values = [
            ("default-ttl", cfg.default_ttl.to_string()),
            ("replication-factor", cfg.replication_factor.to_string()),
            (
                "background-query-max-rps",
                node.shared.config.background_query_max_rps.to_string(),
            ),
        ];
        Ok(fill(NAMESPACE_CONFIG_TEMPLATE, &values))
    };
    run().unwrap_or_else(|e| e)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use super::*;
    use crate::ctx::{ClusterConfig, PartitionTable, Shared};
    use crate::store::{NamespaceConfig, Store, StoredRecord};

    /// Nodes `names` (ports 3000, 3010, ...) over one namespace `test`; the
    /// context of the first.
    fn cluster(names: &[&str], rf: usize) -> NodeCtx {
        let store = Store::new(vec![NamespaceConfig {
            name: "test".into(),
            replication_factor: rf,
            default_ttl: 0,
        }]);
        let shared = Arc::new(Shared::new(ClusterConfig::default(), store));
        let owned: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        *shared.members.write() = owned
            .iter()
            .enumerate()
            .map(|(i, n)| Member {
                name: n.clone(),
                port: 3000 + 10 * i as u16,
            })
            .collect();
        let mut sorted = owned.clone();
        sorted.sort();
        let mut tables = HashMap::new();
        tables.insert("test".to_string(), PartitionTable::balanced(&sorted, rf));
        shared.set_partitions(tables);
        NodeCtx::new(&owned[0], shared)
    }

    fn reply(node: &NodeCtx, body: &str) -> String {
        String::from_utf8(handle(node, body.as_bytes())).unwrap()
    }

    #[test]
    fn single_node_replicas_match_the_fixture() {
        let node = cluster(&["BB901000000FC02"], 1);
        let full = format!("{}8=", "/".repeat(682));
        assert_eq!(answer(&node, "replicas"), format!("test:0,1,{full}"));
        assert_eq!(answer(&node, "replicas:max=1"), format!("test:0,1,{full}"));
        assert_eq!(answer(&node, "replicas-all"), format!("test:1,{full}"));
        assert_eq!(answer(&node, "replicas-master"), format!("test:{full}"));
        assert_eq!(answer(&node, "peers-clear-std"), "0,3000,[]");
        assert_eq!(answer(&node, "service-clear-std"), "127.0.0.1:3000");
    }

    #[test]
    fn cluster_replicas_and_peers() {
        let node = cluster(
            &["C1D01000000FC02", "C2701000000FC02", "C3101000000FC02"],
            2,
        );
        assert_eq!(
            answer(&node, "peers-clear-std"),
            "0,3000,[[C3101000000FC02,,[127.0.0.1:3020]],[C2701000000FC02,,[127.0.0.1:3010]]]"
        );
        // A peer on the default port is listed without a port.
        let second = NodeCtx::new("C2701000000FC02", Arc::clone(&node.shared));
        assert_eq!(
            answer(&second, "peers-clear-std"),
            "0,3000,[[C3101000000FC02,,[127.0.0.1:3020]],[C1D01000000FC02,,[127.0.0.1]]]"
        );
        let r = answer(&node, "replicas");
        let parts: Vec<&str> = r.strip_prefix("test:").unwrap().split(',').collect();
        assert_eq!(&parts[..2], &["0", "2"]);
        assert_eq!(parts.len(), 4);
        let one = answer(&node, "replicas:max=1");
        assert_eq!(one, format!("test:0,1,{}", parts[2]));
        // Master bits of this node are exactly the partitions it masters.
        let table = node.shared.partitions.read().get("test").cloned().unwrap();
        let masters = table.masters_of(&node.name).len();
        assert!(masters > 1000 && masters < 1700, "{masters}");
        assert_eq!(
            answer(&node, "replicas-master"),
            format!("test:{}", parts[2])
        );
    }

    #[test]
    fn framing_and_errors() {
        let node = cluster(&["BB901000000FC02"], 1);
        assert_eq!(
            reply(&node, "node\nbuild\n"),
            "node\tBB901000000FC02\nbuild\t8.1.2.0\n"
        );
        assert_eq!(reply(&node, "node"), "");
        assert_eq!(reply(&node, "node\nbuild"), "node\tBB901000000FC02\n");
        assert_eq!(
            reply(&node, "no-such-command\n"),
            "no-such-command\tERROR:4:unrecognized command\n"
        );
        assert_eq!(
            reply(&node, "user-agent-set:value=MSxweXRob24=\n"),
            "user-agent-set:value=MSxweXRob24=\tok\n"
        );
        let keys: Vec<String> = aerospike_proto::wire::info::parse_response(&handle(&node, b""))
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys.first().map(String::as_str), Some("features"));
        assert_eq!(keys.len(), 15);
        assert_eq!(
            String::from_utf8(error_reply(b"node\nbuild\n", 9)).unwrap(),
            "node\tERROR:9:injected fault\nbuild\tERROR:9:injected fault\n"
        );
    }

    #[test]
    fn namespace_and_statistics_keys() {
        let node = cluster(&["BB901000000FC02"], 1);
        let ns = answer(&node, "namespace/test");
        let pairs = aerospike_proto::wire::info::parse_pairs(&ns, ';');
        assert_eq!(pairs.len(), NAMESPACE_TEMPLATE.lines().count());
        assert_eq!(pairs[0], ("ns_cluster_size", "1"));
        assert!(pairs.contains(&("replication-factor", "1")));
        // info-extra-single.txt: not an error on a real server.
        assert_eq!(answer(&node, "namespace/nope"), "type=unknown");
        let stats = answer(&node, "statistics");
        assert!(stats.contains(";cluster_size=1;"), "{stats}");
        assert!(stats.contains("cluster_principal=BB901000000FC02"));
        let key = answer(&node, "cluster-stable:namespace=test");
        assert_eq!(key.len(), 12);
        assert!(key
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()));
        // thr_info.c cmd_cluster_stable, in its order.
        for (args, want) in [
            ("size=3", "ERROR:7:cluster not specified size"),
            ("size=x", "ERROR:4:bad size"),
            ("size=", "ERROR:4:missing 'size' value"),
            (
                "size=1;ignore-migrations=maybe",
                "ERROR:4:bad ignore migrations",
            ),
            ("namespace=nope", "ERROR:20:namespace not found on node"),
        ] {
            assert_eq!(answer(&node, &format!("cluster-stable:{args}")), want);
        }
        assert_eq!(
            answer(
                &node,
                "cluster-stable:size=1;ignore-migrations=true;namespace=nope"
            ),
            key
        );
        // cfg_info.c as_cfg_info_cmd_get_config_with_params.
        for (args, want) in [
            ("context=nope", "ERROR:4:invalid context"),
            ("context=", "ERROR:4:missing 'context' value"),
            ("id=test", "ERROR:4:missing 'context'"),
            ("context=namespace", "ERROR:20:missing 'namespace'"),
            (
                "context=namespace;id=nope",
                "ERROR:20:namespace not found on node",
            ),
            ("context=security", ""),
            ("context=xdr", ""),
        ] {
            assert_eq!(answer(&node, &format!("get-config:{args}")), want);
        }
        let cfg = answer(&node, "get-config:context=namespace;id=test");
        assert!(cfg.contains("replication-factor=1"), "{cfg}");
        assert_eq!(answer(&node, "status"), "ok");
        assert_eq!(answer(&node, "name"), "BB901000000FC02");
        assert_eq!(
            answer(&node, "roster:namespace=test"),
            "ERROR:25:enterprise only"
        );
        assert_eq!(answer(&node, "peers-tls-std"), "ERROR:25:enterprise only");
    }

    #[test]
    fn sindex_commands_answer_as_the_server() {
        let node = cluster(&["BB901000000FC02"], 1);
        let create = "sindex-create:namespace=test;set=s;indexname=i;bin=b;type=numeric";
        // sindex_manager.c, in its order.
        for (args, want) in [
            ("namespace=test;bin=b;type=numeric", "ERROR:4:missing 'indexname'"),
            ("indexname=i;bin=b;type=numeric", "ERROR:20:missing 'namespace'"),
            ("ns=test;indexname=i;bin=b", "ERROR:4:both 'indexdata' and 'type' are missing"),
            (
                "ns=test;indexname=i;type=numeric;indexdata=b,numeric",
                "ERROR:4:both 'indexdata' and 'type' are specified",
            ),
            ("ns=test;indexname=i;type=numeric", "ERROR:4:both 'bin' and 'exp' are missing"),
            ("ns=test;indexname=i;indexdata=b", "ERROR:4:'indexdata' missing bin type"),
            ("ns=test;indexname=i;bin=b;type=numeric;indextype=none", "ERROR:4:bad 'indextype' - must be one of 'default', 'list', 'mapkeys', 'mapvalues'"),
            ("ns=test;indexname=i;bin=b;type=int", "ERROR:4:bad 'type' - must be one of 'numeric', 'string', 'blob', 'geo2dsphere'"),
            ("ns=nope;indexname=i;bin=b;type=numeric", "ok"),
        ] {
            assert_eq!(answer(&node, &format!("sindex-create:{args}")), want, "{args}");
        }
        assert_eq!(
            answer(&node, "sindex-exists:ns=nope;indexname=i"),
            "ERROR:20:namespace not found on node"
        );
        assert_eq!(answer(&node, "sindex-exists:ns=test;indexname=i"), "false");
        assert_eq!(answer(&node, create), "ok");
        assert_eq!(answer(&node, create), "ok");
        assert_eq!(
            answer(&node, &create.replace("bin=b", "bin=c")),
            "ERROR:200:'indexname' already exists with different definition"
        );
        assert_eq!(
            answer(&node, "sindex-exists:namespace=test;indexname=i"),
            "true"
        );
        assert_eq!(
            answer(&node, "sindex-exists:namespace=test"),
            "ERROR:4:missing 'indexname'"
        );
        assert_eq!(answer(&node, "sindex-delete:ns=nope;indexname=i"), "ok");
        assert_eq!(
            answer(&node, "sindex-delete:indexname=i"),
            "ERROR:20:missing 'namespace'"
        );
        assert_eq!(answer(&node, "sindex-delete:ns=test;indexname=i"), "ok");
        assert_eq!(answer(&node, "sindex-exists:ns=test;indexname=i"), "false");
    }

    /// Writes records 0 and 1 in set `a` and 2 in set `b` of namespace test.
    fn two_in_a_one_in_b(node: &NodeCtx) -> std::sync::Arc<super::super::store::Namespace> {
        let ns = node.shared.store.namespace("test").unwrap().clone();
        for (i, set) in ["a", "a", "b"].iter().enumerate() {
            let d =
                aerospike_proto::wire::digest(set, &aerospike_proto::Value::Int(i as i64)).unwrap();
            let mut r = StoredRecord::new(set);
            r.set_bin("x", aerospike_proto::Value::Int(1));
            r.touch_write();
            ns.partition_of(&d).write().insert(d, r);
        }
        ns
    }

    #[test]
    fn truncate_commands() {
        let node = cluster(&["BB901000000FC02"], 1);
        let ns = two_in_a_one_in_b(&node);
        // 2015-01-01: nothing is that old.
        let old = "truncate:namespace=test;set=a;lut=1420070400000000000";
        assert_eq!(answer(&node, old), "ok");
        assert_eq!(ns.count(None), 3);
        assert!(answer(&node, "truncate:namespace=test;lut=1").starts_with("ERROR:4:"));
        assert_eq!(answer(&node, "truncate:namespace=test;set=a"), "ok");
        assert_eq!(ns.count(None), 1);
        assert_eq!(answer(&node, "truncate-namespace:namespace=test"), "ok");
        assert_eq!(ns.count(None), 0);
        // The server's parameter errors (thr_info.c cmd_truncate).
        assert_eq!(
            answer(&node, "truncate:set=a"),
            "ERROR:20:missing 'namespace'"
        );
        assert_eq!(
            answer(&node, "truncate:namespace=test;set="),
            "ERROR:4:missing 'set' value"
        );
        assert_eq!(
            answer(&node, "truncate:namespace=nope"),
            "ERROR:4:missing 'set'"
        );
        // info-extra-single.txt: an unknown namespace is accepted.
        assert_eq!(answer(&node, "truncate:namespace=nope;set=x"), "ok");
        assert_eq!(
            answer(
                &node,
                "truncate:namespace=test;set=a;lut=99999999999999999999"
            ),
            "ERROR:4:would truncate in the future"
        );
        assert_eq!(
            answer(&node, "truncate-namespace:namespace=test;set=a"),
            "ERROR:4:unexpected set name"
        );
        // truncate-undo forgets the set's threshold (sets' truncate_lut).
        assert_ne!(ns.truncate_lut("a"), 0);
        assert_eq!(answer(&node, "truncate-undo:namespace=test;set=a"), "ok");
        assert_eq!(ns.truncate_lut("a"), 0);
        assert_eq!(
            answer(&node, "truncate-undo:namespace=test"),
            "ERROR:4:missing 'set'"
        );
        assert_eq!(answer(&node, "truncate-undo:namespace=nope;set=x"), "ok");
        assert_eq!(
            answer(&node, "truncate-namespace-undo:namespace=test"),
            "ok"
        );
        assert_eq!(
            answer(&node, "truncate-namespace-undo:namespace=test;set=a"),
            "ERROR:4:unexpected set name"
        );
    }

    #[test]
    fn sets_list_counts_and_truncation() {
        let node = cluster(&["BB901000000FC02"], 1);
        two_in_a_one_in_b(&node);
        let a = answer(&node, "sets/test/a");
        assert!(a.starts_with("objects=2:tombstones=0:"), "{a}");
        assert!(a.contains(":truncate_lut=0:") && a.ends_with(":stop-writes-size=0;"));
        let all = answer(&node, "sets");
        assert!(all.starts_with("ns=test:set=a:objects=2:"), "{all}");
        assert!(all.contains(";ns=test:set=b:objects=1:"), "{all}");
        assert_eq!(answer(&node, "sets/test"), all);
        assert_eq!(answer(&node, "sets/test/never"), "");
        assert_eq!(answer(&node, "sets/nope"), "ns_type=unknown");
        // A truncated set stays listed, empty, with its threshold.
        assert_eq!(answer(&node, "truncate:namespace=test;set=a"), "ok");
        let a = answer(&node, "sets/test/a");
        assert!(a.starts_with("objects=0:"), "{a}");
        assert!(!a.contains(":truncate_lut=0:"), "{a}");
    }
}
