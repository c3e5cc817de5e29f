//! Foreground scans and queries: every record of a set (or the ones a
//! secondary index finds), read from the partitions' masters in parallel.

use std::sync::Arc;
use std::time::Duration;

use crate::background::request::Scope;
use crate::background::DataSet;
use crate::client::Client;
use crate::exp::Expression;
use crate::net::Deadline;
use crate::wire::message::{field, info1, info3, op, Field, Header, Message, Op};
use crate::Record;
use crate::{Error, Result};

use super::{Filter, PartitionCursor, PartitionFilter, RecordStream};

/// Records a stream holds for its consumer by default (see [`Query::buffer`]).
const DEFAULT_BUFFER: usize = 1_000;

/// A partition to read, and the digest and index value of the last record
/// already read from it, to go on after.
pub(crate) type ResumePoint = (u16, Option<[u8; 20]>, Option<i64>);

/// Everything in one node's request.
#[derive(Debug, Clone)]
pub(crate) struct QuerySpec {
    pub(crate) scope: Scope,
    bins: Option<Vec<String>>,
    pub(crate) max_records: u64,
    total_timeout_ms: u32,
}

impl QuerySpec {
    /// The request for `points`, laid out as scan-single.txt shows:
    /// ns, set, [rps], socket-timeout, trid, [index-range], [filter-exp],
    /// [pid-array], [digest-array, [bval-array]], [max-records]; a read op
    /// per selected bin. Partitions read part-way go in the digest array
    /// (the server goes on after that digest; an index query also needs
    /// the index value, query.c `get_query_pids`). Each round of a query
    /// needs a new `task_id`: a node refuses an id it still remembers
    /// (PARAMETER_ERROR).
    pub(crate) fn message(&self, task_id: u64, points: &[ResumePoint]) -> Message {
        let mut fields = self.scope.fields(task_id);
        let pids: Vec<u8> = points
            .iter()
            .filter(|p| p.1.is_none())
            .flat_map(|p| p.0.to_le_bytes())
            .collect();
        if !pids.is_empty() {
            fields.push(Field::new(field::PID_ARRAY, pids));
        }
        let resumed: Vec<&ResumePoint> = points.iter().filter(|p| p.1.is_some()).collect();
        if !resumed.is_empty() {
            let digests: Vec<u8> = resumed
                .iter()
                .flat_map(|p| p.1.unwrap_or_default())
                .collect();
            fields.push(Field::new(field::DIGEST_ARRAY, digests));
            if self.scope.index_filter.is_some() {
                let bvals: Vec<u8> = resumed
                    .iter()
                    .flat_map(|p| p.2.unwrap_or(0).to_le_bytes())
                    .collect();
                fields.push(Field::new(field::BVAL_ARRAY, bvals));
            }
        }
        if self.max_records > 0 {
            fields.push(Field::new(
                field::MAX_RECORDS,
                self.max_records.to_be_bytes(),
            ));
        }
        let ops = self
            .bins
            .iter()
            .flatten()
            .map(|b| Op {
                kind: op::READ,
                particle: 0,
                name: b.clone(),
                data: Vec::new(),
            })
            .collect();
        Message {
            header: Header {
                info1: info1::READ,
                info3: info3::PARTITION_DONE,
                record_ttl: u32::MAX,
                transaction_ttl: self.total_timeout_ms,
                ..Header::default()
            },
            fields,
            ops,
        }
    }
}

/// A foreground scan or query. Get one from [`Client::query`] or
/// [`Session::query`](crate::background::Session::query).
///
/// # Examples
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// use aerospike_blocking::background::DataSet;
/// use aerospike_blocking::query::Filter;
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
/// let records = client
///     .query(&DataSet::of("test", "users"))
///     .filter(Filter::range("age", 18, 30))
///     .where_ael("$.active == true")
///     .bins(&["name", "age"])
///     .records()?;
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Query {
    client: Client,
    dataset: DataSet,
    filter: Option<Filter>,
    ael: Option<String>,
    filter_exp: Option<Expression>,
    bins: Option<Vec<String>>,
    partitions: PartitionFilter,
    cursor: Option<PartitionCursor>,
    buffer: usize,
    max_records: u64,
    records_per_second: u32,
    total_timeout: Duration,
    socket_timeout: Duration,
}

impl Query {
    pub(crate) fn new(client: &Client, dataset: &DataSet) -> Query {
        Query {
            client: client.clone(),
            dataset: dataset.clone(),
            filter: None,
            ael: None,
            filter_exp: None,
            bins: None,
            partitions: PartitionFilter::all(),
            cursor: None,
            buffer: DEFAULT_BUFFER,
            max_records: 0,
            records_per_second: 0,
            total_timeout: Duration::ZERO,
            socket_timeout: Duration::from_secs(30),
        }
    }

    /// Only records a secondary index finds.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let query = client.session().query(&DataSet::of("test", "users"));
    /// use aerospike_blocking::query::Filter;
    /// let adults = query.filter(Filter::range("age", 18, 200)).records()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Only records matching an AEL where-clause (ANDed with
    /// [`filter_expression`](Self::filter_expression)).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let query = client.session().query(&DataSet::of("test", "users"));
    /// let active = query.where_ael("$.active == true").records()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn where_ael(mut self, text: &str) -> Self {
        self.ael = Some(text.to_owned());
        self
    }

    /// Only records for which `expression` is true.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let query = client.session().query(&DataSet::of("test", "users"));
    /// use aerospike_blocking::exp;
    /// let rows = query.filter_expression(exp::ge(exp::int_bin("age"), exp::int_val(18))).records()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn filter_expression(mut self, expression: Expression) -> Self {
        self.filter_exp = Some(expression);
        self
    }

    /// Only these bins (default: all).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let query = client.session().query(&DataSet::of("test", "users"));
    /// let names = query.bins(&["name"]).records()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn bins(mut self, names: &[&str]) -> Self {
        self.bins = Some(names.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    /// Only these partitions (default: all).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let query = client.session().query(&DataSet::of("test", "users"));
    /// use aerospike_blocking::query::PartitionFilter;
    /// let first_half = query.partitions(PartitionFilter::range(0, 2048)).records()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn partitions(mut self, filter: PartitionFilter) -> Self {
        self.partitions = filter;
        self
    }

    /// At most `n` records (0, the default, means no limit).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let query = client.session().query(&DataSet::of("test", "users"));
    /// let sample = query.max_records(10).records()?;
    /// assert!(sample.len() <= 10);
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn max_records(mut self, n: u64) -> Self {
        self.max_records = n;
        self
    }

    /// At most `rps` records per second on each node (0 = no limit).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let query = client.session().query(&DataSet::of("test", "users"));
    /// let gentle = query.records_per_second(1000).records()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn records_per_second(mut self, rps: u32) -> Self {
        self.records_per_second = rps;
        self
    }

    /// Limit on the whole query (default: none).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let query = client.session().query(&DataSet::of("test", "users"));
    /// let rows = query.timeout(std::time::Duration::from_secs(30)).records()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn timeout(mut self, total: Duration) -> Self {
        self.total_timeout = total;
        self
    }

    /// Limit on each socket read (default 30 s).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let query = client.session().query(&DataSet::of("test", "users"));
    /// let rows = query.socket_timeout(std::time::Duration::from_secs(5)).records()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn socket_timeout(mut self, timeout: Duration) -> Self {
        self.socket_timeout = timeout;
        self
    }

    fn spec(&self) -> Result<QuerySpec> {
        let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        let scope = Scope {
            records_per_second: self.records_per_second,
            socket_timeout_ms: ms(self.socket_timeout),
            ..Scope::new(
                &self.dataset,
                self.filter.clone(),
                self.ael.as_deref(),
                self.filter_exp.clone(),
            )?
        };
        Ok(QuerySpec {
            scope,
            bins: self.bins.clone(),
            max_records: self.max_records,
            total_timeout_ms: ms(self.total_timeout),
        })
    }

    /// Goes on from `cursor` (from [`RecordStream::cursor`] or
    /// [`PartitionCursor::new`]): reads only its unfinished partitions, each
    /// from after the last record already delivered. Replaces
    /// [`partitions`](Self::partitions). The query must be the same as the one
    /// the cursor came from (same dataset, filters and bins), or the records
    /// it skips are not the ones already read.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// use aerospike_blocking::query::PartitionCursor;
    /// let saved = std::fs::read("users.cursor")?;
    /// let cursor = PartitionCursor::from_bytes(&saved)?;
    /// let rest = client.query(&DataSet::of("test", "users")).resume(cursor).records()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resume(mut self, cursor: PartitionCursor) -> Self {
        self.cursor = Some(cursor);
        self
    }

    /// How many records a [`stream`](Self::stream) holds for a consumer that
    /// has not taken them yet (default 1000, at least 1). When it is full, the
    /// nodes' sockets are not read until the consumer catches up.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let stream = client.query(&DataSet::of("test", "users")).buffer(256).stream()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn buffer(mut self, records: usize) -> Self {
        self.buffer = records;
        self
    }

    /// Runs the query on the masters of the chosen partitions, in parallel,
    /// and yields records as they arrive (see [`RecordStream`]). Bad input
    /// (an AEL text, a partition range, a cursor of another namespace) is an
    /// error here, before anything is sent.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// for record in client.query(&DataSet::of("test", "users")).stream()? {
    ///     println!("{:?}", record?.bin("name"));
    /// }
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn stream(self) -> Result<RecordStream> {
        let spec = self.spec()?;
        let cursor = match self.cursor {
            Some(c) if c.namespace() != spec.scope.namespace => {
                return Err(Error::InvalidArgument(format!(
                    "the cursor is of namespace {:?}, the query reads {:?}",
                    c.namespace(),
                    spec.scope.namespace
                )))
            }
            Some(c) => c,
            None => PartitionCursor::new(&spec.scope.namespace, self.partitions)?,
        };
        let deadline = Deadline::after(self.total_timeout).with_socket_timeout(self.socket_timeout);
        Ok(RecordStream::start(
            Arc::clone(self.client.cluster()),
            spec,
            cursor,
            self.buffer,
            deadline,
        ))
    }

    /// Runs the query on the masters of the chosen partitions, in parallel,
    /// and returns the records. Partitions a node could not serve (they moved)
    /// are asked again of their new master. For a large set, [`stream`](Self::stream)
    /// does not hold every record in memory.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let query = client.session().query(&DataSet::of("test", "users"));
    /// for record in query.records()? {
    ///     println!("{:?}", record.bin("name"));
    /// }
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn records(self) -> Result<Vec<Record>> {
        self.stream()?.collect()
    }
}

impl Client {
    /// A foreground scan or query over `dataset`; see [`Query`].
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// use aerospike_blocking::background::DataSet;
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
    /// let all = client.query(&DataSet::of("test", "users")).records()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn query(&self, dataset: &DataSet) -> Query {
        Query::new(self, dataset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn spec() -> QuerySpec {
        let scope = Scope::new(&DataSet::of("test", "scan"), None, None, None).unwrap();
        QuerySpec {
            scope: Scope {
                socket_timeout_ms: 30_000,
                ..scope
            },
            bins: None,
            max_records: 0,
            total_timeout_ms: 0,
        }
    }

    fn points(r: std::ops::Range<u16>) -> Vec<ResumePoint> {
        r.map(|p| (p, None, None)).collect()
    }

    fn pid_hex(r: std::ops::Range<u16>) -> String {
        r.flat_map(|p| p.to_le_bytes())
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn golden_scan_frames() {
        // scan-single.txt (4): partition 4095 only.
        let f = spec()
            .message(9282972243227032782, &points(4095..4096))
            .encode();
        assert_eq!(hex(&f), "020300000000004516010004000000000000ffffffff000000000005000000000005007465737400000005017363616e000000050900007530000000090780d3be12695bbcce000000030bff0f");
        // (1): every partition.
        let f = spec()
            .message(3888633846676344489, &points(0..4096))
            .encode();
        let want = format!(
            "020300000000204316010004000000000000ffffffff000000000005000000000005007465737400000005017363616e000000050900007530000000090735f733e174b44ea9000020010b{}",
            pid_hex(0..4096)
        );
        assert_eq!(hex(&f), want);
        // (3): select('i'), max_records 5.
        let mut s = spec();
        s.bins = Some(vec!["i".into()]);
        s.max_records = 5;
        let f = s.message(4054104576723630118, &points(0..4096)).encode();
        let want = format!(
            "020300000000205916010004000000000000ffffffff000000000006000100000005007465737400000005017363616e0000000509000075300000000907384312a209e5b826000020010b{}000000090d0000000000000005000000050100000169",
            pid_hex(0..4096)
        );
        assert_eq!(hex(&f), want);
    }

    #[test]
    fn golden_sindex_query_frame() {
        // sindex-single.txt: where(equals('age', 7)).results().
        let mut s = spec();
        s.scope.set = "bgops".into();
        s.scope.index_filter = Some(Filter::equal("age", 7));
        let f = s.message(2643109259149142761, &points(0..4096)).encode();
        let want = format!(
            "020300000000206716010004000000000000ffffffff0000000000060000000000050074657374000000060162676f7073000000050900007530000000090724ae35de0e216ae90000001f16010361676501000000080000000000000007000000080000000000000007000020010b{}",
            pid_hex(0..4096)
        );
        assert_eq!(hex(&f), want);
    }
}
