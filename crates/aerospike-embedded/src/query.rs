//! Handling of scan, query and background-job start messages (messages
//! without a digest field).
//!
//! The message kind follows the server: UDF fields make a UDF query (UDF_OP 1
//! aggregation, 2 background), otherwise the WRITE bit makes a background ops
//! job and anything else is a foreground ("basic") scan or query. Each kind
//! checks its fields in the server's order, so a bad request gets the same
//! result code. Background starts answer one 30-byte message (LAST on
//! success, no LAST on error) and run on a thread; foreground queries stream
//! record messages of the requested partitions this node holds a copy of
//! (master or replica, as the server serves them), partition-done markers for
//! the requested partitions it holds no copy of, and a final LAST message.
//!
//! Known differences from a real server:
//!
//! * One thread per job, visiting partitions in order and records in digest
//!   order; throttling paces records exactly at the requested rate (the
//!   server caps each sleep at 10 ms, so below 100 records per second it runs
//!   faster than asked).
//! * A background job works on the partitions the node masters when it
//!   starts; later ownership changes do not move it.
//! * Stream UDFs (aggregation, UDF_OP 1) are not run: the function is called
//!   with a stream whose operators only chain, and the query is answered
//!   with one `FAILURE` value (its Lua error, as the server reports it, or
//!   an "unsupported" message) and a LAST message with result code 1.
//! * Geo (`geo2dsphere`) index queries match no record; CDT-context and
//!   expression indexes are not supported. String and blob index values
//!   (bval) use a different hash than the server's.
//! * A rejected record counts in `recs-filtered-meta` when the filter reads
//!   only metadata, else in `recs-filtered-bins` (the server can also decide
//!   mixed filters from metadata).

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::ctx::NodeCtx;
use super::exp_eval;
use super::jobs::{self, Abandon, Action, Job, JobKind, Work};
use super::sindex::{self, IndexRange, IndexType};
use super::store::{now_citrusleaf, Namespace, Partition, StoredRecord, PARTITIONS};
use super::{kv, udf};
use aerospike_proto::exp::pack::unpack;
use aerospike_proto::exp::Node;
use aerospike_proto::wire::message::{field, info1, info2, info3, op, Field, Header, Message, Op};
use aerospike_proto::wire::{msgpack, particle, proto};
use aerospike_proto::ResultCode;
use aerospike_proto::Value;

/// Set names must be shorter than this.
const SET_NAME_MAX: usize = 64;
/// A foreground reply frame is sent once it grows past this size.
const CHUNK_LIMIT: usize = 1024 * 1024;
/// The socket timeout a query reports when the request has none.
const DEFAULT_SOCKET_TIMEOUT_MS: u32 = 10_000;

/// Which records of a namespace a scan, query or job visits.
#[derive(Debug, Clone)]
pub(crate) struct Selection {
    /// "" for every set.
    pub(crate) set: String,
    /// The secondary-index range and index type, for index queries.
    pub(crate) index: Option<(IndexRange, IndexType)>,
}

impl Selection {
    /// True when a record of `set` belongs to the selection.
    pub(crate) fn accepts_set(&self, set: &str) -> bool {
        self.set.is_empty() || self.set == set
    }

    /// The live, selected records of one partition, in digest order, with
    /// the index value each matched through (0 without an index).
    pub(crate) fn pick(&self, part: &Partition, now: u32) -> Vec<([u8; 20], i64)> {
        let mut picked: Vec<([u8; 20], i64)> = part
            .iter()
            .filter(|(_, r)| !r.is_expired(now) && self.accepts_set(&r.set))
            .filter_map(|(d, r)| match &self.index {
                None => Some((*d, 0)),
                Some((range, itype)) => range.matches(*itype, r).map(|b| (*d, b)),
            })
            .collect();
        picked.sort_unstable_by_key(|p| p.0);
        picked
    }
}

/// Answers one scan/query/background message from the client at `peer`
/// (shown as `from=` by `query-show`; `127.0.0.1+0` when unknown), writing
/// every reply frame to `out`.
pub(crate) fn handle_from(
    node: &NodeCtx,
    msg: &Message,
    peer: Option<SocketAddr>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let ns = match msg
        .field(field::NAMESPACE)
        .and_then(Field::as_str)
        .and_then(|n| node.shared.store.namespace(n))
    {
        Some(ns) => Arc::clone(ns),
        None => return out.write_all(&fin(ResultCode::INVALID_NAMESPACE)),
    };
    let started = if msg.field(field::UDF_PACKAGE_NAME).is_some() {
        match msg.field(field::UDF_OP).map(|f| f.data.as_slice()) {
            Some([1]) => return aggregation(node, msg, &ns, peer, out),
            Some([2]) => start_udf(node, msg, &ns, peer),
            _ => Err(ResultCode::PARAMETER_ERROR),
        }
    } else if msg.header.info2 & info2::WRITE != 0 {
        start_ops(node, msg, &ns, peer)
    } else {
        return foreground(node, msg, &ns, peer, out);
    };
    out.write_all(&fin(started.err().unwrap_or(ResultCode::OK)))
}

/// The 30-byte answer to a start: LAST with rc 0, or the error code alone.
fn fin(rc: ResultCode) -> Vec<u8> {
    closing(rc, rc == ResultCode::OK)
}

/// A 30-byte message with `rc`, flagged LAST or not.
fn closing(rc: ResultCode, last: bool) -> Vec<u8> {
    Message {
        header: Header {
            info3: if last { info3::LAST } else { 0 },
            result_code: rc.0,
            ..Header::default()
        },
        ..Message::default()
    }
    .encode()
}

/// The job id of a request. Like the server, it reads 8 bytes from the start
/// of the trid field even when the field is shorter; the missing bytes are
/// whatever follows in the message, with sizes already in the server's
/// (little-endian) byte order. 0 when there is no trid field.
fn trid_of(msg: &Message) -> u64 {
    let Some(i) = msg.fields.iter().position(|f| f.kind == field::TRID) else {
        return 0;
    };
    let mut b = msg.fields[i].data.clone();
    for f in &msg.fields[i + 1..] {
        if b.len() >= 8 {
            break;
        }
        b.extend_from_slice(&((f.data.len() + 1) as u32).to_le_bytes());
        b.push(f.kind);
        b.extend_from_slice(&f.data);
    }
    for o in &msg.ops {
        if b.len() >= 8 {
            break;
        }
        b.extend_from_slice(&((4 + o.name.len() + o.data.len()) as u32).to_le_bytes());
        b.extend_from_slice(&[o.kind, o.particle, 0, o.name.len() as u8]);
        b.extend_from_slice(o.name.as_bytes());
        b.extend_from_slice(&o.data);
    }
    b.resize(b.len().max(8), 0);
    let mut id = [0u8; 8];
    id.copy_from_slice(&b[..8]);
    u64::from_be_bytes(id)
}

/// The request's trid, or a server-assigned one.
fn job_id(node: &NodeCtx, msg: &Message) -> u64 {
    match trid_of(msg) {
        0 => node.jobs.assign_trid(),
        id => id,
    }
}

/// The set name ("" for the whole namespace).
fn set_of(msg: &Message) -> Result<String, ResultCode> {
    match msg.field(field::SET) {
        None => Ok(String::new()),
        Some(f) if f.data.len() >= SET_NAME_MAX => Err(ResultCode::PARAMETER_ERROR),
        Some(f) => f
            .as_str()
            .map(str::to_owned)
            .ok_or(ResultCode::PARAMETER_ERROR),
    }
}

/// True when `set` of `ns` exists: an index was defined on it, or it holds
/// records now or did when this node last looked (sets outlive their
/// records, as on the server).
fn set_exists(node: &NodeCtx, ns: &Namespace, set: &str) -> bool {
    node.shared.sindexes.has_set(&ns.config.name, set)
        || node.jobs.set_known(&ns.config.name, set, || {
            (0..PARTITIONS).any(|p| ns.partition(p).read().values().any(|r| r.set == set))
        })
}

/// The index range (field 22) and index type (field 26), if any.
fn range_of(msg: &Message) -> Result<Option<(IndexRange, IndexType)>, ResultCode> {
    let Some(f) = msg.field(field::INDEX_RANGE) else {
        return Ok(None);
    };
    let range = IndexRange::parse(&f.data).ok_or(ResultCode::PARAMETER_ERROR)?;
    let itype = match msg.field(field::INDEX_TYPE) {
        None => IndexType::Default,
        Some(t) => t
            .data
            .first()
            .and_then(|c| IndexType::from_code(*c))
            .ok_or(ResultCode::PARAMETER_ERROR)?,
    };
    Ok(Some((range, itype)))
}

/// The records-per-second field (10): a 4-byte value, not allowed on short
/// queries. 0 when absent.
fn rps_of(msg: &Message) -> Result<u32, ResultCode> {
    let Some(f) = msg.field(field::RECORDS_PER_SECOND) else {
        return Ok(0);
    };
    if msg.header.info1 & info1::SHORT_QUERY != 0 || f.data.len() != 4 {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    Ok(f.as_u64().unwrap_or(0) as u32)
}

/// A filter expression (field 43) the server accepted.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    packed: Vec<u8>,
    /// True when it reads only record metadata (no bin, no key): the server
    /// decides it from the index entry, and a record it rejects counts in
    /// `recs-filtered-meta` instead of `recs-filtered-bins`.
    pub(crate) metadata_only: bool,
}

impl Filter {
    /// Checks `packed` the way the server does when a job starts.
    fn parse(packed: &[u8]) -> Result<Filter, ResultCode> {
        exp_eval::validate(packed)?;
        let node = unpack(packed).map_err(|_| ResultCode::PARAMETER_ERROR)?;
        Ok(Filter {
            packed: packed.to_vec(),
            metadata_only: reads_only_metadata(&node),
        })
    }

    /// `None` when `rec` passes, else the counter of the job that counts the
    /// rejection. An expression that cannot be evaluated rejects the record.
    pub(crate) fn rejects<'j>(
        &self,
        job: &'j Job,
        rec: &StoredRecord,
        digest: &[u8; 20],
        now: u32,
    ) -> Option<&'j AtomicU64> {
        match exp_eval::filter_matches(&self.packed, rec, digest, now) {
            Ok(true) => None,
            _ if self.metadata_only => Some(&job.filtered_meta),
            _ => Some(&job.filtered_bins),
        }
    }
}

/// True when an expression reads no bin and no user key.
fn reads_only_metadata(node: &Node) -> bool {
    match node {
        Node::Bin(..) | Node::BinType(_) | Node::Key(_) => false,
        Node::Val(_) | Node::Meta(_) | Node::DigestModulo(_) | Node::Var(_) => true,
        Node::Cmd(_, args) => args.iter().all(reads_only_metadata),
        Node::Let(vars, body) => {
            vars.iter().all(|(_, n)| reads_only_metadata(n)) && reads_only_metadata(body)
        }
        Node::Call(call) => {
            reads_only_metadata(&call.bin) && call.args.iter().all(reads_only_metadata)
        }
    }
}

/// The filter expression (field 43), if any.
fn filter_of(msg: &Message) -> Result<Option<Filter>, ResultCode> {
    msg.field(field::FILTER_EXP)
        .map(|f| Filter::parse(&f.data))
        .transpose()
}

/// What every background start shares, checked in the server's order.
struct Background {
    trid: u64,
    selection: Selection,
    sindex: Option<String>,
    rps: u32,
    filter: Option<Filter>,
}

fn background(node: &NodeCtx, msg: &Message, ns: &Namespace) -> Result<Background, ResultCode> {
    if msg.header.info1 & info1::SHORT_QUERY != 0 {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    let trid = job_id(node, msg);
    let set = set_of(msg)?;
    let index = range_of(msg)?;
    let rps = rps_of(msg)?;
    if !set.is_empty() && !set_exists(node, ns, &set) {
        return Err(ResultCode::KEY_NOT_FOUND);
    }
    let max_rps = node.shared.config.background_query_max_rps;
    let rps = match rps {
        0 => max_rps,
        r if r > max_rps => return Err(ResultCode::PARAMETER_ERROR),
        r => r,
    };
    let sindex = match &index {
        Some((range, itype)) => {
            Some(sindex::lookup(node, &ns.config.name, &set, range, *itype)?.name)
        }
        None => None,
    };
    let filter = filter_of(msg)?;
    Ok(Background {
        trid,
        selection: Selection { set, index },
        sindex,
        rps,
        filter,
    })
}

fn masters(node: &NodeCtx, ns: &Namespace) -> Vec<bool> {
    let mut m = vec![false; PARTITIONS];
    for p in node.masters(&ns.config.name) {
        if let Some(slot) = m.get_mut(usize::from(p)) {
            *slot = true;
        }
    }
    m
}

fn launch(
    node: &NodeCtx,
    ns: &Arc<Namespace>,
    peer: Option<SocketAddr>,
    bg: Background,
    kind: JobKind,
    action: Action,
) -> Result<(), ResultCode> {
    let job = Job::new(
        bg.trid,
        &ns.config.name,
        &bg.selection.set,
        bg.sindex,
        bg.rps,
        kind,
        peer,
    );
    let work = Work {
        namespace: Arc::clone(ns),
        selection: bg.selection,
        masters: masters(node, ns),
        filter: bg.filter,
        action,
    };
    jobs::start_background(node, job, work)
}

fn start_ops(
    node: &NodeCtx,
    msg: &Message,
    ns: &Arc<Namespace>,
    peer: Option<SocketAddr>,
) -> Result<(), ResultCode> {
    let bg = background(node, msg, ns)?;
    let h = &msg.header;
    if h.info1 & info1::READ != 0
        || msg.ops.is_empty()
        || msg.ops.iter().any(|o| op::is_read(o.kind))
    {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    let header = Header {
        info2: info2::WRITE | (h.info2 & info2::DURABLE_DELETE),
        info3: info3::UPDATE_ONLY | (h.info3 & info3::REPLACE_ONLY),
        record_ttl: h.record_ttl,
        ..Header::default()
    };
    let action = Action::Ops {
        header,
        ops: msg.ops.clone(),
    };
    launch(node, ns, peer, bg, JobKind::Ops, action)
}

fn start_udf(
    node: &NodeCtx,
    msg: &Message,
    ns: &Arc<Namespace>,
    peer: Option<SocketAddr>,
) -> Result<(), ResultCode> {
    let bg = background(node, msg, ns)?;
    let text = |kind| {
        msg.field(kind)
            .and_then(Field::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or(ResultCode::PARAMETER_ERROR)
    };
    let module = text(field::UDF_PACKAGE_NAME)?;
    let function = text(field::UDF_FUNCTION)?;
    let arglist = msg
        .field(field::UDF_ARGLIST)
        .ok_or(ResultCode::PARAMETER_ERROR)?;
    let args = parse_args(&arglist.data).ok_or(ResultCode::PARAMETER_ERROR)?;
    let kind = JobKind::Udf {
        module: module.clone(),
        function: function.clone(),
    };
    let action = Action::Udf {
        module,
        function,
        args,
        record_ttl: msg.header.record_ttl,
    };
    launch(node, ns, peer, bg, kind, action)
}

/// The UDF argument list: a msgpack array (bytes after it are ignored).
fn parse_args(data: &[u8]) -> Option<Vec<Value>> {
    let mut r = msgpack::Reader::new(data);
    let n = r.array_len().ok()?;
    (0..n).map(|_| r.value().ok()).collect()
}

/// A stream-UDF (aggregation) query. The embedded cluster has no stream UDF
/// runtime: it runs the function up to building its stream and answers like
/// a server whose aggregation fails, with one FAILURE value (the error of
/// [`udf::stream_error`]) and a final LAST message with rc 1, and remembers
/// the job as `done(abandoned-unknown)`.
fn aggregation(
    node: &NodeCtx,
    msg: &Message,
    ns: &Namespace,
    peer: Option<SocketAddr>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let set = match set_of(msg) {
        Ok(s) => s,
        Err(rc) => return out.write_all(&fin(rc)),
    };
    let socket_timeout = socket_timeout_of(msg).unwrap_or(DEFAULT_SOCKET_TIMEOUT_MS);
    let job = Arc::new(Job::new(
        job_id(node, msg),
        &ns.config.name,
        &set,
        None,
        0,
        JobKind::Aggregation { socket_timeout },
        peer,
    ));
    if let Err(rc) = node.jobs.start(Arc::clone(&job)) {
        return out.write_all(&fin(rc));
    }
    let text = |kind| msg.field(kind).and_then(Field::as_str).unwrap_or("");
    let args = msg
        .field(field::UDF_ARGLIST)
        .and_then(|f| parse_args(&f.data))
        .unwrap_or_default();
    let error = udf::stream_error(
        &node.shared.udfs,
        text(field::UDF_PACKAGE_NAME),
        text(field::UDF_FUNCTION),
        &args,
    );
    let mut data = Vec::new();
    particle::encode(&Value::from(error.message), &mut data);
    let failure = Message {
        ops: vec![Op {
            kind: op::READ,
            particle: particle::types::STRING,
            name: "FAILURE".into(),
            data,
        }],
        ..Message::default()
    }
    .encode();
    let last = closing(ResultCode::SERVER_ERROR, true);
    job.net_io_bytes
        .store((failure.len() + last.len()) as u64, Ordering::Relaxed);
    job.succeeded.store(1, Ordering::Relaxed);
    job.abandon(Abandon::Unknown);
    let written = out.write_all(&failure).and_then(|()| out.write_all(&last));
    node.jobs.finish(&job, node.shared.config.query_max_done);
    node.stats.bump(&ns.config.name, "pi_query_aggr_error");
    written
}

/// The socket-timeout field (9) in milliseconds (0 for none); `Err` when it
/// is not 4 bytes.
fn socket_timeout_of(msg: &Message) -> Result<u32, ResultCode> {
    match msg.field(field::SOCKET_TIMEOUT) {
        None => Ok(DEFAULT_SOCKET_TIMEOUT_MS),
        Some(f) if f.data.len() == 4 => Ok(f.as_u64().unwrap_or(0) as u32),
        Some(_) => Err(ResultCode::PARAMETER_ERROR),
    }
}

/// A foreground scan or query, parsed.
struct Foreground {
    trid: u64,
    short: bool,
    selection: Selection,
    sindex: Option<String>,
    /// Requested partitions, and where to resume in each (after this digest).
    requested: Vec<Option<Option<[u8; 20]>>>,
    n_pids: usize,
    n_keyds: usize,
    rps: u32,
    socket_timeout: u32,
    max_records: u64,
    bins: Option<Vec<String>>,
    no_bin_data: bool,
    filter: Option<Filter>,
}

fn parse_foreground(
    node: &NodeCtx,
    msg: &Message,
    ns: &Namespace,
) -> Result<Foreground, ResultCode> {
    let h = &msg.header;
    if h.info3 & info3::PARTITION_DONE == 0 {
        return Err(ResultCode::UNSUPPORTED_FEATURE);
    }
    let short = h.info1 & info1::SHORT_QUERY != 0;
    let trid = job_id(node, msg);
    let set = set_of(msg)?;
    let index = range_of(msg)?;
    let mut requested: Vec<Option<Option<[u8; 20]>>> = vec![None; PARTITIONS];
    let (mut n_pids, mut n_keyds) = (0, 0);
    if let Some(f) = msg.field(field::PID_ARRAY) {
        let n = f.data.len() / 2;
        if n == 0 || n > PARTITIONS {
            return Err(ResultCode::PARAMETER_ERROR);
        }
        for c in f.data.chunks_exact(2) {
            let pid = usize::from(u16::from_le_bytes([c[0], c[1]]));
            match requested.get_mut(pid) {
                Some(slot @ None) => *slot = Some(None),
                _ => return Err(ResultCode::PARAMETER_ERROR),
            }
            n_pids += 1;
        }
    }
    if let Some(f) = msg.field(field::DIGEST_ARRAY) {
        let n = f.data.len() / 20;
        if n == 0 || n > PARTITIONS {
            return Err(ResultCode::PARAMETER_ERROR);
        }
        if index.is_some() {
            let bvals = msg
                .field(field::BVAL_ARRAY)
                .ok_or(ResultCode::PARAMETER_ERROR)?;
            if bvals.data.len() / 8 != n {
                return Err(ResultCode::PARAMETER_ERROR);
            }
        }
        for c in f.data.chunks_exact(20) {
            let mut d = [0u8; 20];
            d.copy_from_slice(c);
            let pid = usize::from(aerospike_proto::wire::digest::partition_id(&d));
            match requested.get_mut(pid) {
                Some(slot @ None) => *slot = Some(Some(d)),
                _ => return Err(ResultCode::PARAMETER_ERROR),
            }
            n_pids += 1;
            n_keyds += 1;
        }
    } else if msg.field(field::BVAL_ARRAY).is_some() {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    let rps = rps_of(msg)?;
    if n_pids == 0 {
        return Err(ResultCode::UNSUPPORTED_FEATURE);
    }
    let sindex = match &index {
        Some((range, itype)) => {
            Some(sindex::lookup(node, &ns.config.name, &set, range, *itype)?.name)
        }
        None => None,
    };
    let socket_timeout = socket_timeout_of(msg)?;
    let max_records = match msg.field(field::MAX_RECORDS) {
        None => 0,
        Some(f) if f.data.len() == 8 => f.as_u64().unwrap_or(0),
        Some(_) => return Err(ResultCode::PARAMETER_ERROR),
    };
    let bins = match (msg.field(field::QUERY_BINLIST), msg.ops.is_empty()) {
        (Some(_), false) => return Err(ResultCode::PARAMETER_ERROR),
        (Some(f), true) => Some(parse_binlist(&f.data)),
        (None, false) => Some(msg.ops.iter().map(|o| o.name.clone()).collect()),
        (None, true) => None,
    };
    let filter = filter_of(msg)?;
    Ok(Foreground {
        trid,
        short,
        selection: Selection { set, index },
        sindex,
        requested,
        n_pids,
        n_keyds,
        rps,
        socket_timeout,
        max_records,
        bins,
        no_bin_data: h.info1 & info1::NOBINDATA != 0,
        filter,
    })
}

/// The old bin-list field (40): a count, then length-prefixed names; bad
/// names are skipped.
fn parse_binlist(data: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    let Some((&n, mut rest)) = data.split_first() else {
        return names;
    };
    for _ in 0..n {
        let Some((&len, tail)) = rest.split_first() else {
            break;
        };
        let Some(name) = tail.get(..usize::from(len)) else {
            break;
        };
        if let Ok(s) = std::str::from_utf8(name) {
            names.push(s.to_owned());
        }
        rest = &tail[usize::from(len)..];
    }
    names
}

/// One record message of a scan or query reply.
fn record_message(
    ns: &str,
    digest: &[u8; 20],
    rec: &StoredRecord,
    bval: Option<i64>,
    q: &Foreground,
) -> Message {
    let mut fields = vec![
        Field::new(field::NAMESPACE, ns),
        Field::new(field::DIGEST, digest.to_vec()),
    ];
    if !rec.set.is_empty() {
        fields.push(Field::new(field::SET, rec.set.as_str()));
    }
    if let Some(key) = &rec.key {
        let mut data = Vec::new();
        let t = particle::encode(key, &mut data);
        data.insert(0, t);
        fields.push(Field::new(field::KEY, data));
    }
    if let Some(b) = bval {
        fields.push(Field::new(field::BVAL_ARRAY, b.to_le_bytes().to_vec()));
    }
    let read_op = |name: &str, v: &Value| kv::stored_bin_op(rec, name, v);
    let ops = match (&q.bins, q.no_bin_data) {
        (_, true) => Vec::new(),
        (None, false) => rec.bins.iter().map(|(n, v)| read_op(n, v)).collect(),
        (Some(names), false) => names
            .iter()
            .filter_map(|n| rec.bin(n).map(|v| read_op(n, v)))
            .collect(),
    };
    Message {
        header: Header {
            generation: u32::from(rec.generation),
            record_ttl: rec.void_time,
            ..Header::default()
        },
        fields,
        ops,
    }
}

fn partition_done(pid: usize) -> Message {
    Message {
        header: Header {
            info3: info3::PARTITION_DONE,
            result_code: ResultCode::PARTITION_UNAVAILABLE.0,
            generation: pid as u32,
            ..Header::default()
        },
        ..Message::default()
    }
}

/// Sends `body` (messages back to back) as one frame; returns its size.
fn send(out: &mut dyn Write, body: &mut Vec<u8>) -> io::Result<u64> {
    if body.is_empty() {
        return Ok(0);
    }
    let frame = proto::frame(proto::TYPE_MESSAGE, body);
    body.clear();
    out.write_all(&frame)?;
    Ok(frame.len() as u64)
}

/// A foreground scan or query.
fn foreground(
    node: &NodeCtx,
    msg: &Message,
    ns: &Namespace,
    peer: Option<SocketAddr>,
    out: &mut dyn Write,
) -> io::Result<()> {
    let q = match parse_foreground(node, msg, ns) {
        Ok(q) => q,
        Err(rc) => return out.write_all(&fin(rc)),
    };
    let job = Arc::new(Job::new(
        q.trid,
        &ns.config.name,
        &q.selection.set,
        q.sindex.clone(),
        q.rps,
        JobKind::Basic {
            n_pids: q.n_pids,
            n_keyds: q.n_keyds,
            socket_timeout: q.socket_timeout,
        },
        peer,
    ));
    if !q.short {
        if let Err(rc) = node.jobs.start(Arc::clone(&job)) {
            return out.write_all(&fin(rc));
        }
    }
    let streamed = stream(node, ns, &q, &job, out);
    if streamed.is_err() {
        job.abandon(Abandon::ResponseError);
    }
    if !q.short {
        node.jobs.finish(&job, node.shared.config.query_max_done);
    }
    node.stats
        .bump(&ns.config.name, basic_outcome_stat(&q, job.abandoned()));
    streamed
}

/// The namespace counter a finished foreground query adds to, under the
/// server's name (`pi_query_long_basic_complete`, ...).
fn basic_outcome_stat(q: &Foreground, how: Abandon) -> &'static str {
    match (q.sindex.is_some(), q.short, how) {
        (false, false, Abandon::None) => "pi_query_long_basic_complete",
        (false, false, Abandon::UserAborted) => "pi_query_long_basic_abort",
        (false, false, _) => "pi_query_long_basic_error",
        (false, true, Abandon::None) => "pi_query_short_basic_complete",
        (false, true, _) => "pi_query_short_basic_error",
        (true, false, Abandon::None) => "si_query_long_basic_complete",
        (true, false, Abandon::UserAborted) => "si_query_long_basic_abort",
        (true, false, _) => "si_query_long_basic_error",
        (true, true, Abandon::None) => "si_query_short_basic_complete",
        (true, true, _) => "si_query_short_basic_error",
    }
}

fn stream(
    node: &NodeCtx,
    ns: &Namespace,
    q: &Foreground,
    job: &Job,
    out: &mut dyn Write,
) -> io::Result<()> {
    let name = &ns.config.name;
    let set_known = q.selection.set.is_empty() || set_exists(node, ns, &q.selection.set);
    let mut body = Vec::new();
    let mut sent = 0u64;
    let mut count = 0u64;
    for (pid, req) in q.requested.iter().enumerate() {
        let Some(resume) = req else { continue };
        job.claim_partition(pid);
        if job.abandoned() != Abandon::None {
            break;
        }
        if !node.has_copy(name, pid) {
            partition_done(pid).encode_body(&mut body);
            continue;
        }
        // A requested partition is served from any full copy, replica or
        // master (query_job.c: `as_partition_reserve_query`).
        if !set_known {
            continue;
        }
        let now = now_citrusleaf();
        let mut found = Vec::new();
        {
            let part = ns.partition(pid).read();
            for (digest, bval) in q.selection.pick(&part, now) {
                if resume.is_some_and(|r| digest <= r) {
                    continue;
                }
                let Some(rec) = part.get(&digest) else {
                    continue;
                };
                if let Some(counter) = q
                    .filter
                    .as_ref()
                    .and_then(|f| f.rejects(job, rec, &digest, now))
                {
                    counter.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let bval = q.selection.index.as_ref().map(|_| bval);
                found.push(record_message(name, &digest, rec, bval, q));
            }
        }
        for m in found {
            if q.max_records != 0 && count >= q.max_records {
                break;
            }
            job.throttle();
            m.encode_body(&mut body);
            count += 1;
            job.succeeded.fetch_add(1, Ordering::Relaxed);
            if body.len() > CHUNK_LIMIT {
                sent += send(out, &mut body)?;
            }
        }
    }
    sent += send(out, &mut body)?;
    let rc = match job.abandoned() {
        Abandon::None => ResultCode::OK,
        _ => ResultCode::QUERY_ABORTED,
    };
    let last = closing(rc, true);
    out.write_all(&last)?;
    job.net_io_bytes
        .store(sent + last.len() as u64, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctx::{ClusterConfig, PartitionTable, Shared};
    use crate::store::{NamespaceConfig, Store};
    use proptest::prelude::*;

    fn node() -> NodeCtx {
        let store = Store::new(vec![NamespaceConfig {
            name: "test".into(),
            replication_factor: 1,
            default_ttl: 0,
        }]);
        let shared = Arc::new(Shared::new(ClusterConfig::default(), store));
        let table = PartitionTable::balanced(&["A".to_string()], 1);
        shared.set_partitions([("test".to_string(), table)].into_iter().collect());
        let ns = shared.store.namespace("test").unwrap();
        let d = aerospike_proto::wire::digest("s", &Value::Int(1)).unwrap();
        let mut rec = StoredRecord::new("s");
        rec.set_bin("a", Value::Int(1));
        ns.partition_of(&d).write().insert(d, rec);
        NodeCtx::new("A", shared)
    }

    /// Every message of every frame written to `out`.
    fn replies(out: &[u8]) -> Vec<Message> {
        let mut msgs = Vec::new();
        let mut rest = out;
        while let Ok(proto::Split::Frame { body, consumed, .. }) = proto::split_frame(rest) {
            msgs.extend(Message::decode_all(body).unwrap());
            rest = &rest[consumed..];
        }
        assert!(rest.is_empty());
        msgs
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Any combination of fields and ops gets a well-formed answer that
        /// ends the exchange: an error without LAST, or a final LAST.
        #[test]
        fn any_request_is_answered(
            info1 in any::<u8>(),
            info2 in any::<u8>(),
            info3 in any::<u8>(),
            fields in proptest::collection::vec(
                (prop::sample::select(vec![0u8, 1, 7, 9, 10, 11, 12, 13, 15, 22, 26, 30, 31, 32, 33, 40, 43]),
                 proptest::collection::vec(any::<u8>(), 0..24)),
                0..8),
            ops in proptest::collection::vec((0u8..20, any::<u8>(), "[a-z]{0,3}", proptest::collection::vec(any::<u8>(), 0..9)), 0..3),
        ) {
            let node = node();
            let mut fields: Vec<Field> = fields.into_iter().map(|(k, d)| Field::new(k, d)).collect();
            fields.insert(0, Field::new(field::NAMESPACE, "test"));
            let msg = Message {
                header: Header { info1, info2, info3, ..Header::default() },
                fields,
                ops: ops.into_iter().map(|(kind, particle, name, data)| Op { kind, particle, name, data }).collect(),
            };
            let mut out = Vec::new();
            handle_from(&node, &msg, None, &mut out).unwrap();
            let msgs = replies(&out);
            let last = msgs.last().unwrap();
            prop_assert!(last.header.info3 & info3::LAST != 0 || (msgs.len() == 1 && last.header.result_code != 0));
            node.jobs.abort_all();
        }
    }

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn fin_bytes_match_the_server() {
        assert_eq!(
            fin(ResultCode::OK),
            hex("020300000000001616000001000000000000000000000000000000000000")
        );
        let e = fin(ResultCode::PARAMETER_ERROR);
        assert_eq!(e.len(), 30);
        assert_eq!((e[11], e[13]), (0, 4));
    }

    #[test]
    fn four_byte_trid_reads_into_the_ops() {
        // bg-errors-single.txt case 25: trid field 1902786c, then op write e='x'.
        let msg = Message {
            fields: vec![
                Field::new(field::NAMESPACE, "test"),
                Field::new(field::TRID, hex("1902786c")),
            ],
            ops: vec![Op {
                kind: op::WRITE,
                particle: 3,
                name: "e".into(),
                data: b"x".to_vec(),
            }],
            ..Message::default()
        };
        assert_eq!(trid_of(&msg), 1802135206254084096);
        let plain = Message {
            fields: vec![Field::new(field::TRID, 42u64.to_be_bytes().to_vec())],
            ..Message::default()
        };
        assert_eq!(trid_of(&plain), 42);
        assert_eq!(trid_of(&Message::default()), 0);
    }

    #[test]
    fn binlist_and_args() {
        assert_eq!(parse_binlist(&[2, 1, b'a', 2, b'b', b'c']), vec!["a", "bc"]);
        assert_eq!(parse_binlist(&[3, 1, b'a', 9]), vec!["a"]);
        // bg-errors-single.txt case 16 sends 92 a1 03 76 01.
        assert_eq!(
            parse_args(&hex("92a1037601")),
            Some(vec![Value::from(""), Value::Int(118)])
        );
        assert_eq!(parse_args(&hex("90")), Some(vec![]));
        assert_eq!(parse_args(&hex("c1")), None);
    }
}
