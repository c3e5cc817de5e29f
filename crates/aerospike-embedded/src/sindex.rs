//! Secondary indexes of an embedded cluster, their info commands, and the
//! index-range field (22) of queries.
//!
//! An index here is a definition: lookups walk a partition's records and
//! compare the indexed bin, which selects the same records the server's index
//! trees do. Indexes are cluster-wide, like the server's system metadata.

use std::time::{Duration, Instant};

use parking_lot::RwLock;
use ripemd::{Digest, Ripemd160};

use super::ctx::NodeCtx;
use super::geo::Shape;
use super::store::StoredRecord;
use aerospike_proto::wire::info::parse_pairs;
use aerospike_proto::wire::particle::types;
use aerospike_proto::ResultCode;
use aerospike_proto::Value;

/// How long a new index stays write-only (`state=WO`) before queries can use
/// it, standing in for the server's background population.
const BUILD_TIME: Duration = Duration::from_millis(250);

/// Longest bin name the server accepts (15 bytes).
const MAX_BIN_NAME: usize = 15;

/// The type of the indexed values (`type=` of `sindex-create`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyType {
    Numeric,
    String,
    Blob,
    Geo,
}

impl KeyType {
    fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "numeric" => Some(KeyType::Numeric),
            "string" => Some(KeyType::String),
            "blob" => Some(KeyType::Blob),
            "geo2dsphere" => Some(KeyType::Geo),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            KeyType::Numeric => "numeric",
            KeyType::String => "string",
            KeyType::Blob => "blob",
            KeyType::Geo => "geo2dsphere",
        }
    }

    /// The key type a query's particle type asks for.
    fn from_particle(p: u8) -> Option<Self> {
        match p {
            types::INTEGER => Some(KeyType::Numeric),
            types::STRING => Some(KeyType::String),
            types::BLOB => Some(KeyType::Blob),
            types::GEOJSON => Some(KeyType::Geo),
            _ => None,
        }
    }
}

/// Which part of a bin is indexed (`indextype=`, field 26 of a query).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IndexType {
    Default,
    List,
    MapKeys,
    MapValues,
}

impl IndexType {
    fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "default" => Some(IndexType::Default),
            "list" => Some(IndexType::List),
            "mapkeys" => Some(IndexType::MapKeys),
            "mapvalues" => Some(IndexType::MapValues),
            _ => None,
        }
    }

    /// The index type of the wire code in field 26.
    pub(crate) fn from_code(c: u8) -> Option<Self> {
        match c {
            0 => Some(IndexType::Default),
            1 => Some(IndexType::List),
            2 => Some(IndexType::MapKeys),
            3 => Some(IndexType::MapValues),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            IndexType::Default => "default",
            IndexType::List => "list",
            IndexType::MapKeys => "mapkeys",
            IndexType::MapValues => "mapvalues",
        }
    }
}

/// One secondary index.
#[derive(Debug, Clone)]
pub(crate) struct Sindex {
    pub(crate) ns: String,
    pub(crate) name: String,
    /// "" for an index over the whole namespace.
    pub(crate) set: String,
    pub(crate) bin: String,
    pub(crate) ktype: KeyType,
    pub(crate) itype: IndexType,
    created: Instant,
}

impl Sindex {
    /// True once the index may serve queries (`state=RW`).
    pub(crate) fn readable(&self) -> bool {
        self.created.elapsed() >= BUILD_TIME
    }

    /// The values `rec` adds to this index (none when the record is in
    /// another set or its bin holds nothing of the index's type), each once.
    fn keys_of(&self, rec: &StoredRecord) -> Vec<Value> {
        if !self.set.is_empty() && rec.set != self.set {
            return Vec::new();
        }
        let Some(bin) = rec.bin(&self.bin) else {
            return Vec::new();
        };
        let candidates: Vec<&Value> = match (self.itype, bin) {
            (IndexType::Default, v) => vec![v],
            (IndexType::List, Value::List(items)) => items.iter().collect(),
            (IndexType::MapKeys, Value::Map(pairs)) => pairs.iter().map(|(k, _)| k).collect(),
            (IndexType::MapValues, Value::Map(pairs)) => pairs.iter().map(|(_, v)| v).collect(),
            _ => Vec::new(),
        };
        let mut keys: Vec<Value> = Vec::new();
        for v in candidates {
            let of_type = matches!(
                (self.ktype, v),
                (KeyType::Numeric, Value::Int(_))
                    | (KeyType::String, Value::String(_))
                    | (KeyType::Blob, Value::Blob(_))
                    | (KeyType::Geo, Value::GeoJson(_))
            );
            if of_type && !keys.contains(v) {
                keys.push(v.clone());
            }
        }
        keys
    }

    /// The reply to `sindex-stat` on `node` (`sindex.c`
    /// `as_sindex_stats_str`): entries are the (value, record) pairs of the
    /// records this node holds; the per-value and per-record averages round
    /// as the server's `ROUND_FRACTION`. `used_bytes` is the first 16 MiB
    /// arena stage a real server reports for a small index.
    fn stats(&self, node: &NodeCtx) -> String {
        let (mut entries, mut records) = (0u64, 0u64);
        let mut values: Vec<Value> = Vec::new();
        super::info::for_each_local_record(node, &self.ns, |rec| {
            let keys = self.keys_of(rec);
            if !keys.is_empty() {
                records += 1;
                entries += keys.len() as u64;
                for k in keys {
                    if !values.contains(&k) {
                        values.push(k);
                    }
                }
            }
        });
        let round = |n: u64, d: u64| {
            if d == 0 {
                0
            } else {
                (n as f64 / d as f64 + 0.5) as u64
            }
        };
        let per_rec = match self.itype {
            IndexType::Default => u64::from(entries != 0),
            _ => round(entries, records),
        };
        let built = self.created.elapsed().min(BUILD_TIME);
        let load_pct = built.as_millis() * 100 / BUILD_TIME.as_millis();
        let load_time = if self.readable() {
            BUILD_TIME.as_millis()
        } else {
            0
        };
        format!(
            "entries={entries};used_bytes=16777216;entries_per_bval={};entries_per_rec={per_rec};\
             load_pct={load_pct};load_time={load_time};stat_gc_recs=0",
            round(entries, values.len() as u64)
        )
    }

    fn same_definition(&self, other: &Sindex) -> bool {
        self.ns == other.ns
            && self.set == other.set
            && self.bin == other.bin
            && self.ktype == other.ktype
            && self.itype == other.itype
    }

    fn list_entry(&self) -> String {
        format!(
            "ns={}:indexname={}:set={}:bin={}:type={}:indextype={}:context=null:exp=null:state={}",
            self.ns,
            self.name,
            if self.set.is_empty() {
                "null"
            } else {
                &self.set
            },
            self.bin,
            self.ktype.name(),
            self.itype.name(),
            if self.readable() { "RW" } else { "WO" }
        )
    }
}

/// Every secondary index of the cluster.
#[derive(Debug, Default)]
pub(crate) struct SindexRegistry {
    indexes: RwLock<Vec<Sindex>>,
}

impl SindexRegistry {
    /// Adds an index. A name already in use is ignored (the server answers
    /// `ok` and keeps the old index); a new name for an existing definition
    /// renames that index.
    /// Adds `def` (renames an index of the same definition); refused when
    /// its name is taken by another definition.
    fn create(&self, def: Sindex) -> Result<(), ()> {
        let mut all = self.indexes.write();
        if let Some(same_name) = all.iter().find(|s| s.ns == def.ns && s.name == def.name) {
            return if same_name.same_definition(&def) {
                Ok(())
            } else {
                Err(())
            };
        }
        match all.iter_mut().find(|s| s.same_definition(&def)) {
            Some(existing) => existing.name = def.name,
            None => all.push(def),
        }
        Ok(())
    }

    fn delete(&self, ns: &str, name: &str) {
        self.indexes
            .write()
            .retain(|s| !(s.ns == ns && s.name == name));
    }

    fn exists(&self, ns: &str, name: &str) -> bool {
        self.indexes
            .read()
            .iter()
            .any(|s| s.ns == ns && s.name == name)
    }

    /// The index a query over `set` needs: one on that set, else one over the
    /// whole namespace.
    pub(crate) fn find(
        &self,
        ns: &str,
        set: &str,
        bin: &str,
        ktype: KeyType,
        itype: IndexType,
    ) -> Option<Sindex> {
        let all = self.indexes.read();
        let matching = |wanted_set: &str| {
            all.iter()
                .find(|s| {
                    s.ns == ns
                        && s.set == wanted_set
                        && s.bin == bin
                        && s.ktype == ktype
                        && s.itype == itype
                })
                .cloned()
        };
        matching(set).or_else(|| if set.is_empty() { None } else { matching("") })
    }

    /// How many indexes are defined on `set` of `ns` (the `sindexes` of
    /// `sets`).
    pub(crate) fn count_on(&self, ns: &str, set: &str) -> usize {
        self.indexes
            .read()
            .iter()
            .filter(|s| s.ns == ns && s.set == set)
            .count()
    }

    /// True when an index was defined on `set` of `ns` (defining an index
    /// creates its set, as on the server).
    pub(crate) fn has_set(&self, ns: &str, set: &str) -> bool {
        self.indexes
            .read()
            .iter()
            .any(|s| s.ns == ns && s.set == set)
    }
}

/// The value range of a query's index-range field (22).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexRange {
    pub(crate) bin: String,
    pub(crate) particle: u8,
    pub(crate) bounds: Bounds,
}

/// The values an [`IndexRange`] accepts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Bounds {
    /// Integers from `start` to `end`, both included.
    Int(i64, i64),
    /// Exactly this string.
    Str(String),
    /// Exactly these bytes.
    Blob(Vec<u8>),
    /// A GeoJSON region (points within it match) or point (regions that
    /// contain it match).
    Geo(Shape),
}

impl IndexRange {
    /// Parses field 22: `count(1)=1, name_len(1), name, particle(1)`, then for
    /// integers `len(4)=8, start(8), len(4)=8, end(8)` and for strings, blobs
    /// and GeoJSON `len(4), bytes` (the repeated end value is ignored, as the
    /// server does). `None` for anything malformed (a parameter error).
    pub(crate) fn parse(data: &[u8]) -> Option<IndexRange> {
        let (&count, rest) = data.split_first()?;
        if count != 1 {
            return None;
        }
        let (&name_len, rest) = rest.split_first()?;
        let name_len = usize::from(name_len);
        if name_len == 0 || name_len > MAX_BIN_NAME || rest.len() < name_len {
            return None;
        }
        let bin = std::str::from_utf8(&rest[..name_len]).ok()?.to_owned();
        let (&particle, rest) = rest[name_len..].split_first()?;
        let be32 = |b: &[u8]| -> Option<usize> {
            Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?) as usize)
        };
        let bounds = match particle {
            types::INTEGER => {
                if rest.len() < 24 || be32(rest)? != 8 || be32(&rest[12..])? != 8 {
                    return None;
                }
                let start = i64::from_be_bytes(rest[4..12].try_into().ok()?);
                let end = i64::from_be_bytes(rest[16..24].try_into().ok()?);
                if start > end {
                    return None;
                }
                Bounds::Int(start, end)
            }
            types::STRING | types::BLOB | types::GEOJSON => {
                let len = be32(rest)?;
                let bytes = rest.get(4..4 + len)?;
                match particle {
                    types::STRING => Bounds::Str(String::from_utf8(bytes.to_vec()).ok()?),
                    types::BLOB => Bounds::Blob(bytes.to_vec()),
                    _ => Bounds::Geo(Shape::parse(std::str::from_utf8(bytes).ok()?)?),
                }
            }
            _ => return None,
        };
        Some(IndexRange {
            bin,
            particle,
            bounds,
        })
    }

    /// The key type of the index this range needs.
    pub(crate) fn key_type(&self) -> Option<KeyType> {
        KeyType::from_particle(self.particle)
    }

    /// The index value (bval) through which `rec` matches, `None` when it does
    /// not match. Integers are their own bval; strings and blobs hash to one.
    pub(crate) fn matches(&self, itype: IndexType, rec: &StoredRecord) -> Option<i64> {
        let bin = rec.bin(&self.bin)?;
        match (itype, bin) {
            (IndexType::Default, v) => self.value_bval(v),
            (IndexType::List, Value::List(items)) => items.iter().find_map(|v| self.value_bval(v)),
            (IndexType::MapKeys, Value::Map(pairs)) => {
                pairs.iter().find_map(|(k, _)| self.value_bval(k))
            }
            (IndexType::MapValues, Value::Map(pairs)) => {
                pairs.iter().find_map(|(_, v)| self.value_bval(v))
            }
            _ => None,
        }
    }

    fn value_bval(&self, v: &Value) -> Option<i64> {
        match (&self.bounds, v) {
            (Bounds::Int(lo, hi), Value::Int(i)) if lo <= i && i <= hi => Some(*i),
            (Bounds::Str(s), Value::String(x)) if s == x => Some(hash_bval(s.as_bytes())),
            (Bounds::Blob(b), Value::Blob(x)) if b == x => Some(hash_bval(b)),
            (Bounds::Geo(query), Value::GeoJson(json)) => Shape::parse(json)
                .filter(|shape| shape.matches(query))
                .map(|_| hash_bval(json.as_bytes())),
            _ => None,
        }
    }
}

/// A stable 64-bit index value for a string or blob key. The server uses a
/// different hash (wyhash); clients treat the value as opaque.
fn hash_bval(bytes: &[u8]) -> i64 {
    let d = Ripemd160::digest(bytes);
    let mut b = [0u8; 8];
    b.copy_from_slice(&d[..8]);
    i64::from_le_bytes(b)
}

/// Parses `sindex-create` arguments in the 8.1 form (`bin=..;type=..`) or
/// the older `indexdata=<bin>,<type>` form, with the server's checks in its
/// order (`sindex_manager.c` `as_sindex_manager_sindex_create`). Like the
/// server, an unknown namespace is not checked here (no node creates it).
fn parse_create(args: &str) -> Result<Sindex, String> {
    const TYPES: &str = "must be one of 'numeric', 'string', 'blob', 'geo2dsphere'";
    let name = required_param(args, &["indexname"], 64)?;
    let ns = required_param(args, &["namespace", "ns"], 32)?;
    let pairs = parse_pairs(args, ';');
    if pairs
        .iter()
        .any(|(k, v)| *k == "indextype" && v.eq_ignore_ascii_case("set"))
    {
        return Err("ERROR:4:set indexes are not kept by the embedded cluster".into());
    }
    let set = optional_param(args, &["set"], 64)?.unwrap_or("");
    if optional_param(args, &["context"], 1024)?.is_some() {
        return Err("ERROR:4:'context' indexes are not kept by the embedded cluster".into());
    }
    let itype = match optional_param(args, &["indextype"], 64)? {
        None => IndexType::Default,
        Some(t) => IndexType::parse(t).ok_or(
            "ERROR:4:bad 'indextype' - must be one of 'default', 'list', 'mapkeys', 'mapvalues'",
        )?,
    };
    let indexdata = optional_param(args, &["indexdata"], 64 + 16)?;
    let ktype = optional_param(args, &["type"], 16)?;
    let (bin, ktype) = match (indexdata, ktype) {
        (None, None) => return Err("ERROR:4:both 'indexdata' and 'type' are missing".into()),
        (Some(_), Some(_)) => {
            return Err("ERROR:4:both 'indexdata' and 'type' are specified".into())
        }
        (None, Some(t)) => {
            let ktype = KeyType::parse(t).ok_or_else(|| format!("ERROR:4:bad 'type' - {TYPES}"))?;
            let bin = optional_param(args, &["bin"], MAX_BIN_NAME + 1)?;
            let exp = optional_param(args, &["exp"], 4096)?;
            match (bin, exp) {
                (Some(_), Some(_)) => {
                    return Err("ERROR:4:both 'bin' and 'exp' are specified".into())
                }
                (None, None) => return Err("ERROR:4:both 'bin' and 'exp' are missing".into()),
                (None, Some(_)) => {
                    return Err("ERROR:4:'exp' indexes are not kept by the embedded cluster".into())
                }
                (Some(bin), None) => (bin, ktype),
            }
        }
        (Some(data), None) => {
            let (bin, t) = data
                .split_once(',')
                .ok_or("ERROR:4:'indexdata' missing bin type")?;
            if bin.is_empty() {
                return Err("ERROR:4:'indexdata' missing bin name".into());
            }
            if bin.len() > MAX_BIN_NAME {
                return Err("ERROR:4:'indexdata' bin name too long".into());
            }
            let ktype = KeyType::parse(t)
                .ok_or_else(|| format!("ERROR:4:bad 'indexdata' bin type - {TYPES}"))?;
            (bin, ktype)
        }
    };
    if itype == IndexType::MapKeys && ktype == KeyType::Geo {
        return Err("ERROR:4:bad 'indexdata' bin type for 'indextype' 'mapkeys' - must be one of 'numeric', 'string', 'blob'".into());
    }
    Ok(Sindex {
        ns: ns.to_owned(),
        name: name.to_owned(),
        set: set.to_owned(),
        bin: bin.to_owned(),
        ktype,
        itype,
        created: Instant::now(),
    })
}

/// Answers `sindex-create`, `sindex-delete`, `sindex-list`, `sindex-exists`;
/// `None` for other commands.
pub(crate) fn info(node: &NodeCtx, name: &str, args: &str) -> Option<String> {
    let registry = &node.shared.sindexes;
    // sindex_manager.c: the index name is checked first, then the namespace.
    let ns_and_name = || -> Result<(&str, &str), String> {
        let index = required_param(args, &["indexname"], 64)?;
        let ns = required_param(args, &["namespace", "ns"], 32)?;
        Ok((ns, index))
    };
    let answer = match name {
        "sindex-create" => match parse_create(args) {
            // Accepted for an unknown namespace, where no node builds it.
            Ok(def) if node.shared.store.namespace(&def.ns).is_none() => "ok".to_owned(),
            Ok(def) => match registry.create(def) {
                Ok(()) => "ok".to_owned(),
                Err(()) => {
                    "ERROR:200:'indexname' already exists with different definition".to_owned()
                }
            },
            Err(e) => e,
        },
        // An unknown namespace or index is no error.
        "sindex-delete" => match ns_and_name() {
            Ok((ns, index)) => {
                registry.delete(ns, index);
                "ok".to_owned()
            }
            Err(e) => e,
        },
        "sindex-exists" => match ns_and_name() {
            Ok((ns, _)) if node.shared.store.namespace(ns).is_none() => {
                "ERROR:20:namespace not found on node".to_owned()
            }
            Ok((ns, index)) => registry.exists(ns, index).to_string(),
            Err(e) => e,
        },
        "sindex-stat" => {
            let stat = || -> Result<String, String> {
                let index = required_param(args, &["indexname"], 64)?;
                let ns = required_param(args, &["namespace", "ns"], 32)?;
                if node.shared.store.namespace(ns).is_none() {
                    return Err("ERROR:20:namespace not found on node".into());
                }
                let all = registry.indexes.read();
                let si = all
                    .iter()
                    .find(|s| s.ns == ns && s.name == index)
                    .ok_or("ERROR:201:no index")?;
                Ok(si.stats(node))
            };
            stat().unwrap_or_else(|e| e)
        }
        "sindex-list" => {
            // The server lists secondary indexes, then set indexes, each
            // checking the namespace: an error comes twice.
            let ns = match optional_param(args, &["namespace", "ns"], 128) {
                Err(e) => return Some(format!("{e};{e}")),
                Ok(Some(ns)) if node.shared.store.namespace(ns).is_none() => {
                    let e = "ERROR:20:namespace not found on node";
                    return Some(format!("{e};{e}"));
                }
                Ok(ns) => ns,
            };
            registry
                .indexes
                .read()
                .iter()
                .filter(|s| ns.is_none_or(|n| n == s.ns))
                .map(Sindex::list_entry)
                .collect::<Vec<_>>()
                .join(";")
        }
        _ => return None,
    };
    Some(answer)
}

/// An optional info parameter as the server reads it
/// (`as_info_optional_param_is_ok`): the first of `names` present; an empty
/// value or one of `max_len` bytes or more is an error (code 20 for the
/// namespace, else 4).
pub(crate) fn optional_param<'a>(
    args: &'a str,
    names: &[&str],
    max_len: usize,
) -> Result<Option<&'a str>, String> {
    let pairs = parse_pairs(args, ';');
    let Some(value) = names
        .iter()
        .find_map(|n| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| *v))
    else {
        return Ok(None);
    };
    let code = if names[0] == "namespace" { 20 } else { 4 };
    if value.is_empty() {
        return Err(format!("ERROR:{code}:missing '{}' value", names[0]));
    }
    if value.len() >= max_len {
        return Err(format!("ERROR:{code}:'{}' value too long", names[0]));
    }
    Ok(Some(value))
}

/// A required info parameter (`as_info_required_param_is_ok`): as
/// [`optional_param`], and missing is an error too.
pub(crate) fn required_param<'a>(
    args: &'a str,
    names: &[&str],
    max_len: usize,
) -> Result<&'a str, String> {
    optional_param(args, names, max_len)?.ok_or_else(|| {
        let code = if names[0] == "namespace" { 20 } else { 4 };
        format!("ERROR:{code}:missing '{}'", names[0])
    })
}

/// The result code for a query whose range needs an index that is missing or
/// still being built.
pub(crate) fn lookup(
    node: &NodeCtx,
    ns: &str,
    set: &str,
    range: &IndexRange,
    itype: IndexType,
) -> Result<Sindex, ResultCode> {
    let ktype = range.key_type().ok_or(ResultCode::PARAMETER_ERROR)?;
    let si = node
        .shared
        .sindexes
        .find(ns, set, &range.bin, ktype, itype)
        .ok_or(ResultCode::INDEX_NOT_FOUND)?;
    if !si.readable() {
        return Err(ResultCode::INDEX_NOT_READABLE);
    }
    Ok(si)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int_range(bin: &str, lo: i64, hi: i64) -> Vec<u8> {
        let mut v = vec![1, bin.len() as u8];
        v.extend_from_slice(bin.as_bytes());
        v.push(types::INTEGER);
        v.extend_from_slice(&8u32.to_be_bytes());
        v.extend_from_slice(&lo.to_be_bytes());
        v.extend_from_slice(&8u32.to_be_bytes());
        v.extend_from_slice(&hi.to_be_bytes());
        v
    }

    #[test]
    fn parses_fixture_range() {
        // sindex-single.txt: between('age', 10, 20).
        let hex = concat!(
            "0103616765",
            "01",
            "00000008",
            "000000000000000a",
            "00000008",
            "0000000000000014"
        );
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let r = IndexRange::parse(&bytes).unwrap();
        assert_eq!(r.bin, "age");
        assert_eq!(r.bounds, Bounds::Int(10, 20));
        assert_eq!(IndexRange::parse(&int_range("age", 10, 20)), Some(r));
    }

    #[test]
    fn rejects_bad_ranges() {
        assert!(IndexRange::parse(&[]).is_none());
        assert!(IndexRange::parse(&int_range("age", 20, 10)).is_none());
        let mut two = int_range("age", 1, 2);
        two[0] = 2;
        assert!(IndexRange::parse(&two).is_none());
        let full = int_range("age", 1, 2);
        for n in 0..full.len() {
            assert!(IndexRange::parse(&full[..n]).is_none(), "prefix {n}");
        }
    }

    #[test]
    fn matches_values_and_elements() {
        let r = IndexRange::parse(&int_range("age", 10, 20)).unwrap();
        let mut rec = StoredRecord::new("s");
        rec.set_bin("age", Value::Int(15));
        assert_eq!(r.matches(IndexType::Default, &rec), Some(15));
        rec.set_bin("age", Value::Int(21));
        assert_eq!(r.matches(IndexType::Default, &rec), None);
        rec.set_bin("age", Value::List(vec![Value::Int(3), Value::Int(12)]));
        assert_eq!(r.matches(IndexType::List, &rec), Some(12));
        assert_eq!(r.matches(IndexType::Default, &rec), None);
        let mut s = vec![1, 1, b'n', types::STRING, 0, 0, 0, 2];
        s.extend_from_slice(b"ab");
        let sr = IndexRange::parse(&s).unwrap();
        rec.set_bin("n", Value::from("ab"));
        assert!(sr.matches(IndexType::Default, &rec).is_some());
        rec.set_bin("n", Value::from("abc"));
        assert!(sr.matches(IndexType::Default, &rec).is_none());
    }

    #[test]
    fn registry_renames_same_definition() {
        let reg = SindexRegistry::default();
        let def = |name: &str| Sindex {
            ns: "test".into(),
            name: name.into(),
            set: "s".into(),
            bin: "age".into(),
            ktype: KeyType::Numeric,
            itype: IndexType::Default,
            created: Instant::now(),
        };
        assert_eq!(reg.create(def("a")), Ok(()));
        assert_eq!(reg.create(def("a")), Ok(()));
        assert_eq!(reg.indexes.read().len(), 1);
        let mut other = def("a");
        other.bin = "other".into();
        assert_eq!(reg.create(other), Err(()));
        assert_eq!(reg.create(def("b")), Ok(()));
        assert!(!reg.exists("test", "a") && reg.exists("test", "b"));
        assert!(reg
            .find("test", "s", "age", KeyType::Numeric, IndexType::Default)
            .is_some());
        assert!(reg
            .find("test", "other", "age", KeyType::Numeric, IndexType::Default)
            .is_none());
        reg.delete("test", "b");
        assert!(!reg.has_set("test", "s"));
    }
}
