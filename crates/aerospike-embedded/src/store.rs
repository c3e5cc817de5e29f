//! In-memory record storage shared by every node of an embedded cluster.
//!
//! The cluster keeps one logical copy of each namespace: a write made through
//! any node is seen by all, which is what a healthy Aerospike cluster with
//! replication looks like from the outside. Records live in 4096 partitions,
//! each behind its own lock, so nodes serving different partitions do not
//! contend.

use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::RwLock;

use aerospike_proto::Value;

/// Number of partitions in a namespace.
pub(crate) const PARTITIONS: usize = 4096;

/// Seconds between the Unix epoch and the Aerospike epoch (2010-01-01 UTC).
pub(crate) const CITRUSLEAF_EPOCH: u64 = 1_262_304_000;

/// Seconds since the Aerospike epoch, the unit of void times.
pub(crate) fn now_citrusleaf() -> u32 {
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    unix.saturating_sub(CITRUSLEAF_EPOCH) as u32
}

/// Nanoseconds since the Unix epoch, the unit of last-update times.
pub(crate) fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

/// One stored record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredRecord {
    /// Bins in the order they were first written.
    pub(crate) bins: Vec<(String, Value)>,
    /// Generation, starting at 1 and wrapping like the server's 16-bit counter
    /// (it skips 0).
    pub(crate) generation: u16,
    /// Void time in seconds since 2010-01-01, 0 for never expires.
    pub(crate) void_time: u32,
    /// Last update in nanoseconds since the Unix epoch.
    pub(crate) last_update_ns: u64,
    /// The user key, when a write sent it.
    pub(crate) key: Option<Value>,
    /// The set name ("" for none).
    pub(crate) set: String,
    /// Order flags of list and map bins created ordered, which [`Value`]
    /// cannot hold: the flags of the msgpack ext element a server stores
    /// first (1 ordered list or key-ordered map, 3 key/value-ordered map).
    /// Only top-level bins keep them; a bin written whole loses them.
    pub(crate) orders: Vec<(String, u8)>,
}

impl StoredRecord {
    /// A new, empty record in `set`.
    pub(crate) fn new(set: &str) -> Self {
        StoredRecord {
            bins: Vec::new(),
            generation: 0,
            void_time: 0,
            last_update_ns: 0,
            key: None,
            set: set.to_owned(),
            orders: Vec::new(),
        }
    }

    /// The value of bin `name`.
    pub(crate) fn bin(&self, name: &str) -> Option<&Value> {
        self.bins.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Sets bin `name`; `Value::Nil` removes it. The bin is unordered after.
    pub(crate) fn set_bin(&mut self, name: &str, value: Value) {
        self.orders.retain(|(n, _)| n != name);
        let pos = self.bins.iter().position(|(n, _)| n == name);
        match (pos, value) {
            (Some(i), Value::Nil) => {
                self.bins.remove(i);
            }
            (Some(i), v) => self.bins[i].1 = v,
            (None, Value::Nil) => {}
            (None, v) => self.bins.push((name.to_owned(), v)),
        }
    }

    /// Removes every bin.
    pub(crate) fn clear_bins(&mut self) {
        self.bins.clear();
        self.orders.clear();
    }

    /// The order flags of bin `name` (0: unordered or not a container).
    pub(crate) fn order_of(&self, name: &str) -> u8 {
        self.orders
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, f)| *f)
    }

    /// Sets the order flags of list or map bin `name` (0 for unordered).
    pub(crate) fn set_order(&mut self, name: &str, flags: u8) {
        self.orders.retain(|(n, _)| n != name);
        if flags != 0 && matches!(self.bin(name), Some(Value::List(_) | Value::Map(_))) {
            self.orders.push((name.to_owned(), flags));
        }
    }

    /// True when the record's void time has passed.
    pub(crate) fn is_expired(&self, now: u32) -> bool {
        self.void_time != 0 && self.void_time <= now
    }

    /// Marks a successful write: bumps the generation and the update time.
    pub(crate) fn touch_write(&mut self) {
        self.generation = match self.generation.wrapping_add(1) {
            0 => 1,
            g => g,
        };
        self.last_update_ns = now_nanos();
    }

    /// Approximate stored size in bytes, for `recordSize()` / `deviceSize()`.
    pub(crate) fn size(&self) -> u64 {
        let mut n = 36u64;
        for (name, v) in &self.bins {
            n += name.len() as u64 + 2;
            let mut buf = Vec::new();
            aerospike_proto::wire::particle::encode(v, &mut buf);
            n += buf.len() as u64;
        }
        n
    }
}

/// Computes a record's void time from a request's record-ttl field.
///
/// `0` uses the namespace default, `u32::MAX` (-1) never expires, `u32::MAX - 1`
/// (-2) keeps the current void time, other values are seconds from now.
/// `None` for the keep-current case when the record is new and there is no
/// current value to keep: the namespace default applies then.
pub(crate) fn void_time_for(
    record_ttl: u32,
    default_ttl: u32,
    current: Option<u32>,
    now: u32,
) -> u32 {
    let from_secs = |s: u32| if s == 0 { 0 } else { now.saturating_add(s) };
    match record_ttl {
        0 => from_secs(default_ttl),
        u32::MAX => 0,
        x if x == u32::MAX - 1 => current.unwrap_or_else(|| from_secs(default_ttl)),
        s => from_secs(s),
    }
}

/// The records of one partition, keyed by digest.
pub(crate) type Partition = HashMap<[u8; 20], StoredRecord>;

/// Settings of a namespace.
#[derive(Debug, Clone)]
pub(crate) struct NamespaceConfig {
    /// Namespace name.
    pub(crate) name: String,
    /// Copies of each partition (1 = master only).
    pub(crate) replication_factor: usize,
    /// Default TTL in seconds for writes that ask for it (0 = never expire).
    pub(crate) default_ttl: u32,
}

/// A namespace's records, split into partitions.
#[derive(Debug)]
pub(crate) struct Namespace {
    pub(crate) config: NamespaceConfig,
    partitions: Vec<RwLock<Partition>>,
    /// Each truncated set and its last truncation threshold in milliseconds
    /// since 2010-01-01 (the `truncate_lut` of `sets`).
    truncated_sets: RwLock<Vec<(String, u64)>>,
}

impl Namespace {
    /// An empty namespace.
    pub(crate) fn new(config: NamespaceConfig) -> Self {
        Namespace {
            config,
            partitions: (0..PARTITIONS)
                .map(|_| RwLock::new(Partition::new()))
                .collect(),
            truncated_sets: RwLock::new(Vec::new()),
        }
    }

    /// The `truncate_lut` of `set`: 0 when it was never truncated.
    pub(crate) fn truncate_lut(&self, set: &str) -> u64 {
        self.truncated_sets
            .read()
            .iter()
            .find(|(s, _)| s == set)
            .map_or(0, |(_, lut)| *lut)
    }

    /// Every set with a record on any node or a truncation, sorted.
    pub(crate) fn set_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .truncated_sets
            .read()
            .iter()
            .map(|(s, _)| s.clone())
            .collect();
        for p in &self.partitions {
            for r in p.read().values() {
                if !r.set.is_empty() && !names.contains(&r.set) {
                    names.push(r.set.clone());
                }
            }
        }
        names.sort();
        names
    }

    /// The lock of partition `pid` (0..4096).
    pub(crate) fn partition(&self, pid: usize) -> &RwLock<Partition> {
        &self.partitions[pid % PARTITIONS]
    }

    /// The partition that holds `digest`.
    pub(crate) fn partition_of(&self, digest: &[u8; 20]) -> &RwLock<Partition> {
        self.partition(usize::from(aerospike_proto::wire::digest::partition_id(
            digest,
        )))
    }

    /// Forgets the truncation of `set` (`truncate-undo`): its `truncate_lut`
    /// is 0 again. Records already removed stay removed (a server removes
    /// them soon after the truncation too).
    pub(crate) fn undo_truncate(&self, set: &str) {
        self.truncated_sets.write().retain(|(s, _)| s != set);
    }

    /// Removes every record of `set` (all sets for `None`) last updated before
    /// `before_ns` (everything for `None`). Returns how many were removed.
    pub(crate) fn truncate(&self, set: Option<&str>, before_ns: Option<u64>) -> usize {
        if let (Some(set), Some(before)) = (set, before_ns) {
            let lut_ms = (before / 1_000_000).saturating_sub(CITRUSLEAF_EPOCH * 1000);
            let mut luts = self.truncated_sets.write();
            match luts.iter_mut().find(|(s, _)| s == set) {
                Some(entry) => entry.1 = entry.1.max(lut_ms),
                None => luts.push((set.to_owned(), lut_ms)),
            }
        }
        let mut n = 0;
        for p in &self.partitions {
            let mut p = p.write();
            let before = p.len();
            p.retain(|_, r| {
                let in_set = set.is_none_or(|s| r.set == s);
                let old = before_ns.is_none_or(|t| r.last_update_ns < t);
                !(in_set && old)
            });
            n += before - p.len();
        }
        n
    }
}

impl Namespace {
    /// Counts live records of `set` (all sets for `None`).
    #[cfg(test)]
    pub(crate) fn count(&self, set: Option<&str>) -> usize {
        let now = now_citrusleaf();
        self.partitions
            .iter()
            .map(|p| {
                p.read()
                    .values()
                    .filter(|r| !r.is_expired(now) && set.is_none_or(|s| r.set == s))
                    .count()
            })
            .sum()
    }
}

/// Every namespace of a cluster.
#[derive(Debug, Default)]
pub(crate) struct Store {
    namespaces: HashMap<String, std::sync::Arc<Namespace>>,
    /// Namespace names in configuration order (the order a server lists
    /// them in `namespaces`, `replicas`, ...).
    order: Vec<String>,
}

impl Store {
    /// A store with the given namespaces (a repeated name keeps its last
    /// configuration and its first place).
    pub(crate) fn new(configs: Vec<NamespaceConfig>) -> Self {
        let mut namespaces = HashMap::new();
        let mut order = Vec::new();
        for c in configs {
            if !namespaces.contains_key(&c.name) {
                order.push(c.name.clone());
            }
            namespaces.insert(c.name.clone(), std::sync::Arc::new(Namespace::new(c)));
        }
        Store { namespaces, order }
    }

    /// The namespace called `name`.
    pub(crate) fn namespace(&self, name: &str) -> Option<&std::sync::Arc<Namespace>> {
        self.namespaces.get(name)
    }

    /// Namespace names in configuration order.
    pub(crate) fn names(&self) -> Vec<String> {
        self.order.clone()
    }
}

/// Encodes `value` as a particle into `out` and returns its particle type; a
/// list or map with non-zero container flags `flags` starts with the
/// server's ext header (an extra element, or an extra entry with a nil value).
pub(crate) fn encode_with_flags(value: &Value, flags: u8, out: &mut Vec<u8>) -> u8 {
    use aerospike_proto::wire::msgpack::{pack_array_len, pack_map_len, pack_nil, pack_value};
    match value {
        Value::List(items) if flags != 0 => {
            pack_array_len(out, items.len() + 1);
            out.extend_from_slice(&[0xc7, 0x00, flags]);
            for v in items {
                pack_value(out, v);
            }
        }
        Value::Map(entries) if flags != 0 => {
            pack_map_len(out, entries.len() + 1);
            out.extend_from_slice(&[0xc7, 0x00, flags]);
            pack_nil(out);
            for (k, v) in entries {
                pack_value(out, k);
                pack_value(out, v);
            }
        }
        _ => return aerospike_proto::wire::particle::encode(value, out),
    }
    value.particle_type()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_keep_configuration_order() {
        let cfg = |name: &str| NamespaceConfig {
            name: name.into(),
            replication_factor: 1,
            default_ttl: 0,
        };
        let store = Store::new(vec![cfg("test"), cfg("bar"), cfg("alpha"), cfg("bar")]);
        assert_eq!(store.names(), ["test", "bar", "alpha"]);
    }

    #[test]
    fn bins_and_generation() {
        let mut r = StoredRecord::new("s");
        r.set_bin("a", Value::Int(1));
        r.set_bin("b", Value::Int(2));
        r.set_bin("a", Value::Nil);
        assert_eq!(r.bins, vec![("b".to_string(), Value::Int(2))]);
        r.generation = u16::MAX;
        r.touch_write();
        assert_eq!(r.generation, 1);
    }

    #[test]
    fn void_times() {
        assert_eq!(void_time_for(0, 0, None, 100), 0);
        assert_eq!(void_time_for(0, 50, None, 100), 150);
        assert_eq!(void_time_for(u32::MAX, 50, Some(7), 100), 0);
        assert_eq!(void_time_for(u32::MAX - 1, 0, Some(7), 100), 7);
        assert_eq!(void_time_for(3600, 0, Some(7), 100), 3700);
    }

    #[test]
    fn truncate_by_set() {
        let ns = Namespace::new(NamespaceConfig {
            name: "test".into(),
            replication_factor: 1,
            default_ttl: 0,
        });
        for (i, set) in ["a", "b", "a"].iter().enumerate() {
            let d = aerospike_proto::wire::digest(set, &Value::Int(i as i64)).unwrap();
            ns.partition_of(&d)
                .write()
                .insert(d, StoredRecord::new(set));
        }
        assert_eq!(ns.truncate(Some("a"), None), 2);
        let left: usize = (0..PARTITIONS).map(|p| ns.partition(p).read().len()).sum();
        assert_eq!(left, 1);
    }
}
