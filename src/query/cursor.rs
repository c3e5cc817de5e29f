//! Where a foreground scan or query stands, partition by partition, so an
//! interrupted one (or one read in pages with `max_records`) resumes where
//! it stopped instead of starting over.

use std::collections::BTreeMap;

use super::PartitionFilter;
use crate::{Error, Result};

/// Marks the start of [`PartitionCursor::to_bytes`] output, with its version.
const MAGIC: &[u8; 5] = b"ASPC\x01";

/// How far one unfinished partition was read: after which record to go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Resume {
    /// Digest of the last record delivered from this partition.
    digest: Option<[u8; 20]>,
    /// Secondary-index value of that record (index queries only).
    bval: Option<i64>,
}

/// The partitions of a scan or query that are not finished yet, and for each
/// one, the last record delivered from it.
///
/// Get one from [`RecordStream::cursor`](super::RecordStream::cursor) at any
/// time (it describes exactly the records the stream has yielded so far),
/// keep it (in memory, or as bytes with [`to_bytes`](Self::to_bytes)), and
/// give it to [`Query::resume`](super::Query::resume) to read the rest.
///
/// # Examples
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// use aerospike_blocking::background::DataSet;
/// use aerospike_blocking::query::PartitionCursor;
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
/// let users = DataSet::of("test", "users");
/// // Pages of at most 1000 records.
/// let mut cursor: Option<PartitionCursor> = None;
/// loop {
///     let mut query = client.query(&users).max_records(1000);
///     if let Some(c) = cursor.take() {
///         query = query.resume(c);
///     }
///     let mut page = query.stream()?;
///     for record in page.by_ref() {
///         println!("{:?}", record?.key);
///     }
///     let c = page.cursor();
///     if c.is_complete() {
///         break;
///     }
///     cursor = Some(c);
/// }
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionCursor {
    namespace: String,
    requested: u16,
    unfinished: BTreeMap<u16, Resume>,
}

impl PartitionCursor {
    /// A cursor at the start of the partitions `filter` names; give it to
    /// [`Query::resume`](super::Query::resume) to read them (the same as
    /// [`Query::partitions`](super::Query::partitions), but the cursor then
    /// follows the reading).
    ///
    /// ```
    /// use aerospike_blocking::query::{PartitionCursor, PartitionFilter};
    /// let cursor = PartitionCursor::new("test", PartitionFilter::range(7, 3))?;
    /// assert_eq!(cursor.unfinished(), vec![7, 8, 9]);
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn new(namespace: &str, filter: PartitionFilter) -> Result<Self> {
        Ok(Self::start(namespace, filter.partitions()?))
    }

    /// A cursor at the start of exactly these partitions (any set of ids
    /// below 4096, each once), for example the share of a node a background
    /// job lost (`Outcome::Lost`).
    ///
    /// ```
    /// use aerospike_blocking::query::PartitionCursor;
    /// let cursor = PartitionCursor::from_partitions("test", &[9, 2, 4000])?;
    /// assert_eq!(cursor.unfinished(), vec![2, 9, 4000]);
    /// assert!(PartitionCursor::from_partitions("test", &[4096]).is_err());
    /// assert!(PartitionCursor::from_partitions("test", &[1, 1]).is_err());
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn from_partitions(namespace: &str, partitions: &[u16]) -> Result<Self> {
        let mut sorted = partitions.to_vec();
        sorted.sort_unstable();
        if sorted.is_empty() {
            return Err(Error::InvalidArgument("no partition given".into()));
        }
        if sorted
            .last()
            .is_some_and(|p| *p >= super::partition::PARTITIONS)
        {
            return Err(Error::InvalidArgument(
                "partition ids go from 0 to 4095".into(),
            ));
        }
        if sorted.windows(2).any(|w| w[0] == w[1]) {
            return Err(Error::InvalidArgument("a partition given twice".into()));
        }
        Ok(Self::start(namespace, sorted))
    }

    /// A cursor at the start of `partitions` of `namespace`.
    pub(crate) fn start(namespace: &str, partitions: impl IntoIterator<Item = u16>) -> Self {
        let unfinished: BTreeMap<u16, Resume> = partitions
            .into_iter()
            .map(|p| (p, Resume::default()))
            .collect();
        PartitionCursor {
            namespace: namespace.to_owned(),
            requested: u16::try_from(unfinished.len()).unwrap_or(u16::MAX),
            unfinished,
        }
    }

    /// The namespace the scan or query reads.
    ///
    /// ```
    /// use aerospike_blocking::query::{PartitionCursor, PartitionFilter};
    /// let cursor = PartitionCursor::new("test", PartitionFilter::range(7, 3)).unwrap();
    /// assert_eq!(cursor.namespace(), "test");
    /// ```
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Whether every partition was read to its end.
    ///
    /// ```
    /// use aerospike_blocking::query::{PartitionCursor, PartitionFilter};
    /// let cursor = PartitionCursor::new("test", PartitionFilter::range(7, 3)).unwrap();
    /// assert!(!cursor.is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        self.unfinished.is_empty()
    }

    /// The partitions not read to their end yet, in order.
    ///
    /// ```
    /// use aerospike_blocking::query::{PartitionCursor, PartitionFilter};
    /// let cursor = PartitionCursor::new("test", PartitionFilter::range(7, 3)).unwrap();
    /// assert_eq!(cursor.unfinished(), vec![7, 8, 9]);
    /// ```
    pub fn unfinished(&self) -> Vec<u16> {
        self.unfinished.keys().copied().collect()
    }

    /// How many of the requested partitions were read to their end.
    ///
    /// ```
    /// use aerospike_blocking::query::{PartitionCursor, PartitionFilter};
    /// let cursor = PartitionCursor::new("test", PartitionFilter::range(7, 3)).unwrap();
    /// assert_eq!(cursor.finished_count(), 0);
    /// ```
    pub fn finished_count(&self) -> usize {
        usize::from(self.requested).saturating_sub(self.unfinished.len())
    }

    /// The cursor as bytes, to keep in a file between runs; read back with
    /// [`from_bytes`](Self::from_bytes).
    ///
    /// ```
    /// use aerospike_blocking::query::{PartitionCursor, PartitionFilter};
    /// let cursor = PartitionCursor::new("test", PartitionFilter::all())?;
    /// let bytes = cursor.to_bytes();
    /// assert_eq!(PartitionCursor::from_bytes(&bytes)?, cursor);
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.push(u8::try_from(self.namespace.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(self.namespace.as_bytes());
        out.extend_from_slice(&self.requested.to_be_bytes());
        let n = u16::try_from(self.unfinished.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&n.to_be_bytes());
        for (pid, r) in &self.unfinished {
            out.extend_from_slice(&pid.to_be_bytes());
            out.push(u8::from(r.digest.is_some()) | (u8::from(r.bval.is_some()) << 1));
            if let Some(d) = r.digest {
                out.extend_from_slice(&d);
            }
            if let Some(b) = r.bval {
                out.extend_from_slice(&b.to_be_bytes());
            }
        }
        out
    }

    /// Reads a cursor written by [`to_bytes`](Self::to_bytes); anything else
    /// is an `InvalidArgument` error.
    ///
    /// ```
    /// use aerospike_blocking::query::PartitionCursor;
    /// assert!(PartitionCursor::from_bytes(b"not a cursor").is_err());
    /// ```
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |why: &str| Error::InvalidArgument(format!("partition cursor: {why}"));
        let mut r = Reader(bytes);
        if r.take(MAGIC.len()).ok_or_else(|| bad("too short"))? != MAGIC {
            return Err(bad("not a cursor of this version"));
        }
        let ns_len = usize::from(r.u8().ok_or_else(|| bad("too short"))?);
        let namespace = std::str::from_utf8(r.take(ns_len).ok_or_else(|| bad("too short"))?)
            .map_err(|_| bad("namespace is not UTF-8"))?
            .to_owned();
        let requested = r.u16().ok_or_else(|| bad("too short"))?;
        let n = r.u16().ok_or_else(|| bad("too short"))?;
        let mut unfinished = BTreeMap::new();
        for _ in 0..n {
            let pid = r.u16().ok_or_else(|| bad("too short"))?;
            if pid >= super::partition::PARTITIONS {
                return Err(bad("partition id out of range"));
            }
            let flags = r.u8().ok_or_else(|| bad("too short"))?;
            let digest = if flags & 1 != 0 {
                let d = r.take(20).ok_or_else(|| bad("too short"))?;
                Some(<[u8; 20]>::try_from(d).map_err(|_| bad("digest"))?)
            } else {
                None
            };
            let bval = if flags & 2 != 0 {
                let b = r.take(8).ok_or_else(|| bad("too short"))?;
                Some(i64::from_be_bytes(b.try_into().map_err(|_| bad("bval"))?))
            } else {
                None
            };
            if unfinished.insert(pid, Resume { digest, bval }).is_some() {
                return Err(bad("partition listed twice"));
            }
        }
        if !r.0.is_empty() {
            return Err(bad("trailing bytes"));
        }
        if usize::from(requested) < unfinished.len() {
            return Err(bad("more unfinished partitions than requested"));
        }
        Ok(PartitionCursor {
            namespace,
            requested,
            unfinished,
        })
    }

    /// Records that the record with `digest` (and index value `bval`) of
    /// partition `pid` was delivered.
    pub(crate) fn advance(&mut self, pid: u16, digest: [u8; 20], bval: Option<i64>) {
        if let Some(r) = self.unfinished.get_mut(&pid) {
            r.digest = Some(digest);
            r.bval = bval;
        }
    }

    /// Marks `pids` read to their end.
    pub(crate) fn finish(&mut self, pids: &[u16]) {
        for p in pids {
            self.unfinished.remove(p);
        }
    }

    /// The unfinished partitions with the digest and index value to resume
    /// after, if any.
    pub(crate) fn resume_points(
        &self,
    ) -> impl Iterator<Item = (u16, Option<[u8; 20]>, Option<i64>)> + '_ {
        self.unfinished.iter().map(|(p, r)| (*p, r.digest, r.bval))
    }
}

/// A forward-only reader over a byte slice.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_and_truncations_are_refused() {
        let mut c = PartitionCursor::start("test", 0..4096);
        c.advance(3, [7; 20], Some(-5));
        c.advance(4, [8; 20], None);
        c.finish(&(10..4096).collect::<Vec<_>>());
        let b = c.to_bytes();
        assert_eq!(PartitionCursor::from_bytes(&b).unwrap(), c);
        assert_eq!(c.finished_count(), 4086);
        for n in 0..b.len() {
            assert!(PartitionCursor::from_bytes(&b[..n]).is_err(), "{n}");
        }
        let mut longer = b.clone();
        longer.push(0);
        assert!(PartitionCursor::from_bytes(&longer).is_err());
    }

    #[test]
    fn advance_only_touches_unfinished_partitions() {
        let mut c = PartitionCursor::start("test", [1, 2]);
        c.finish(&[1]);
        c.advance(1, [1; 20], None);
        c.advance(2, [2; 20], Some(4));
        let points: Vec<_> = c.resume_points().collect();
        assert_eq!(points, vec![(2, Some([2; 20]), Some(4))]);
    }
}
