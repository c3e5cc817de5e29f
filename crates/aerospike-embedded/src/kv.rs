//! Single-record messages (those with a digest field): read, exists, write,
//! delete, touch and operate.
//!
//! [`apply_ops`] holds the record semantics and touches nothing but the
//! record it is given, so background jobs apply their operations with it too.
//! [`handle`] wraps it with the message plumbing: namespace and digest
//! fields, the partition lock, the filter expression and the reply header.

use super::ctx::NodeCtx;
use super::geo;
use super::store::{void_time_for, NamespaceConfig, StoredRecord};
use super::udf::{self, UdfCall};
use aerospike_proto::wire::message::{field, info1, info2, info3, op, Header, Message, Op};
use aerospike_proto::wire::{msgpack, particle};
use aerospike_proto::ResultCode;
use aerospike_proto::Value;

/// Longest bin name the server accepts.
const MAX_BIN_NAME: usize = 15;
/// Longest set name the server accepts.
const MAX_SET_NAME: usize = 63;
/// The namespace's `max-record-size` (the server's default, 1 MiB).
const MAX_RECORD_SIZE: u64 = 1024 * 1024;

/// Answers one single-record message at time `now` (seconds since
/// 2010-01-01). Never fails: errors become a reply carrying the result code.
pub(crate) fn handle(node: &NodeCtx, msg: &Message, now: u32) -> Message {
    let (result_code, generation, record_ttl, ops) = match execute(node, msg, now) {
        Ok(done) => (done.result_code, done.generation, done.void_time, done.ops),
        Err((rc, generation)) => (rc, generation, 0, Vec::new()),
    };
    count(node, msg, result_code);
    Message {
        header: Header {
            result_code: result_code.0,
            generation: u32::from(generation),
            record_ttl,
            ..Header::default()
        },
        fields: Vec::new(),
        ops,
    }
}

/// What a message that ran leaves behind for its reply (a failed record UDF
/// runs too: its reply carries the error code and a `FAILURE` bin).
struct Done {
    result_code: ResultCode,
    generation: u16,
    void_time: u32,
    ops: Vec<Op>,
}

/// Runs one message; an error carries the result code and the generation of
/// the record as it was (0 when there is none), which the server reports.
fn execute(node: &NodeCtx, msg: &Message, now: u32) -> Result<Done, (ResultCode, u16)> {
    let fail = |rc: ResultCode| (rc, 0);
    let ns = msg
        .field(field::NAMESPACE)
        .and_then(|f| f.as_str())
        .and_then(|name| node.shared.store.namespace(name))
        .ok_or(fail(ResultCode::INVALID_NAMESPACE))?;
    let digest: [u8; 20] = msg
        .field(field::DIGEST)
        .and_then(|f| f.data.as_slice().try_into().ok())
        .ok_or(fail(ResultCode::PARAMETER_ERROR))?;
    let set = match msg.field(field::SET) {
        Some(f) => f
            .as_str()
            .filter(|s| s.len() <= MAX_SET_NAME)
            .ok_or(fail(ResultCode::PARAMETER_ERROR))?,
        None => "",
    };
    let user_key = match msg.field(field::KEY) {
        Some(f) => Some(decode_key(&f.data).ok_or(fail(ResultCode::PARAMETER_ERROR))?),
        None => None,
    };

    let mut partition = ns.partition_of(&digest).write();
    let current = partition.get(&digest).filter(|r| !r.is_expired(now));
    let changes = msg.header.info2 & (info2::WRITE | info2::DELETE) != 0;
    // A failed write reports the record's generation; a failed read 0.
    let error_generation = current.filter(|_| changes).map_or(0, |r| r.generation);
    let fail = |rc: ResultCode| (rc, error_generation);
    if let (Some(rec), Some(filter)) = (current, msg.field(field::FILTER_EXP)) {
        if !filter_allows(&filter.data, rec, &digest, now).map_err(fail)? {
            return Err(fail(ResultCode::FILTERED_OUT));
        }
    }
    let stored_key = current.and_then(|r| r.key.as_ref());
    if let (Some(stored), Some(sent)) = (stored_key, user_key.as_ref()) {
        if stored != sent {
            return Err(fail(ResultCode::KEY_MISMATCH));
        }
    }
    let mut slot = current.cloned();
    let (result_code, ops) = if msg.field(field::UDF_PACKAGE_NAME).is_some() {
        record_udf(node, msg, &ns.config, &mut slot, set, &digest, now).map_err(fail)?
    } else {
        let ops = apply_ops(
            &ns.config,
            &mut slot,
            set,
            &digest,
            &msg.header,
            &msg.ops,
            now,
        )
        .map_err(fail)?;
        (ResultCode::OK, ops)
    };
    if let Some(rec) = slot.as_mut().filter(|_| changes) {
        if rec.key.is_none() {
            rec.key = user_key;
        }
    }
    let (generation, void_time) = slot
        .as_ref()
        .map_or((0, 0), |r| (r.generation, r.void_time));
    if changes {
        match slot {
            Some(rec) => {
                partition.insert(digest, rec);
            }
            None => {
                partition.remove(&digest);
            }
        }
    }
    Ok(Done {
        result_code,
        generation,
        void_time,
        ops,
    })
}

/// Runs a record UDF (fields 30 module, 31 function, 32 argument list) on
/// `slot`. The reply holds one bin: `SUCCESS` with the return value, or
/// `FAILURE` with the error text and the error's result code. On failure
/// `slot` is left as it was.
fn record_udf(
    node: &NodeCtx,
    msg: &Message,
    ns: &NamespaceConfig,
    slot: &mut Option<StoredRecord>,
    set: &str,
    digest: &[u8; 20],
    now: u32,
) -> Result<(ResultCode, Vec<Op>), ResultCode> {
    let text = |kind| {
        msg.field(kind)
            .and_then(|f| f.as_str())
            .filter(|s| !s.is_empty())
            .ok_or(ResultCode::PARAMETER_ERROR)
    };
    let module = text(field::UDF_PACKAGE_NAME)?;
    let function = text(field::UDF_FUNCTION)?;
    let args = match msg.field(field::UDF_ARGLIST) {
        Some(f) => match aerospike_proto::wire::msgpack::from_slice(&f.data) {
            Ok(Value::List(args)) => args,
            _ => return Err(ResultCode::PARAMETER_ERROR),
        },
        None => Vec::new(),
    };
    let call = UdfCall {
        module,
        function,
        args: &args,
        set,
        now,
        digest: Some(*digest),
        default_ttl: ns.default_ttl,
        record_ttl: msg.header.record_ttl,
    };
    Ok(match udf::apply_call(&node.shared.udfs, &call, slot) {
        Ok(value) => (ResultCode::OK, vec![bin_op("SUCCESS", &value)]),
        Err(e) => (e.code, vec![bin_op("FAILURE", &Value::String(e.message))]),
    })
}

/// Bumps the node's counters for one transaction the way the server does: a
/// node that does not own the record's partition (master for writes, any copy
/// for reads) proxies the request and counts only `client_proxy_complete`.
fn count(node: &NodeCtx, msg: &Message, rc: ResultCode) {
    let Some(ns) = msg.field(field::NAMESPACE).and_then(|f| f.as_str()) else {
        return;
    };
    if node.shared.store.namespace(ns).is_none() {
        return;
    }
    let pid = msg
        .field(field::DIGEST)
        .and_then(|f| <[u8; 20]>::try_from(f.data.as_slice()).ok())
        .map(|d| usize::from(aerospike_proto::wire::digest::partition_id(&d)));
    let h = &msg.header;
    let delete = h.info2 & info2::DELETE != 0;
    let write = h.info2 & info2::WRITE != 0;
    let owner = pid.is_some_and(|pid| {
        if write || delete {
            node.is_master(ns, pid)
        } else {
            node.has_copy(ns, pid)
        }
    });
    let udf = msg.field(field::UDF_PACKAGE_NAME).is_some();
    let stat = match (owner, delete, write, rc) {
        (false, ..) => "client_proxy_complete",
        (_, _, _, ResultCode::OK) if udf => "client_udf_complete",
        _ if udf => "client_udf_error",
        (_, true, _, ResultCode::OK) => "client_delete_success",
        (_, true, _, ResultCode::KEY_NOT_FOUND) => "client_delete_not_found",
        (_, true, _, ResultCode::FILTERED_OUT) => "client_delete_filtered_out",
        (_, true, _, _) => "client_delete_error",
        (_, _, true, ResultCode::OK) => "client_write_success",
        (_, _, true, ResultCode::FILTERED_OUT) => "client_write_filtered_out",
        (_, _, true, _) => "client_write_error",
        (_, _, _, ResultCode::OK) => "client_read_success",
        (_, _, _, ResultCode::KEY_NOT_FOUND) => "client_read_not_found",
        (_, _, _, ResultCode::FILTERED_OUT) => "client_read_filtered_out",
        _ => "client_read_error",
    };
    node.stats.bump(ns, stat);
    match (owner, rc) {
        (true, ResultCode::GENERATION_ERROR) => node.stats.bump(ns, "fail_generation"),
        (true, ResultCode::RECORD_TOO_BIG) => node.stats.bump(ns, "fail_record_too_big"),
        _ => {}
    }
}

/// Decodes a KEY field: one particle-type byte, then the particle.
fn decode_key(data: &[u8]) -> Option<Value> {
    let (&ptype, rest) = data.split_first()?;
    match particle::decode(ptype, rest).ok()? {
        v @ (Value::Int(_) | Value::String(_) | Value::Blob(_)) => Some(v),
        _ => None,
    }
}

/// Applies the header flags and operations of a single-record message to
/// `rec` (the record as stored, `None` when there is none), at time `now`.
///
/// Returns the operations of the reply. On success `rec` holds the record as
/// it must be stored (`None`: delete it); on error `rec` is left as it was
/// (an expired record counts as none). Pure: no locks, clocks or I/O.
pub(crate) fn apply_ops(
    ns: &NamespaceConfig,
    rec: &mut Option<StoredRecord>,
    set: &str,
    digest: &[u8; 20],
    header: &Header,
    ops: &[Op],
    now: u32,
) -> Result<Vec<Op>, ResultCode> {
    let ev = ExpEnv { digest, now };
    if rec.as_ref().is_some_and(|r| r.is_expired(now)) {
        *rec = None;
    }
    let respond_all = header.info2 & info2::RESPOND_ALL_OPS != 0;
    // A message naming a set must name the record's set.
    if rec
        .as_ref()
        .is_some_and(|r| !set.is_empty() && r.set != set)
    {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    let durable = header.info2 & info2::DURABLE_DELETE != 0;
    if header.info2 & info2::DELETE != 0 {
        // Community Edition refuses a durable delete before looking for the
        // record (`delete.c` `as_delete_start`, `rw_utils_ce.c`).
        if durable {
            return Err(ResultCode::ENTERPRISE_ONLY);
        }
        let current = rec.as_ref().ok_or(ResultCode::KEY_NOT_FOUND)?;
        check_generation(header, current)?;
        *rec = None;
        return Ok(Vec::new());
    }
    if header.info2 & info2::WRITE == 0 {
        let current = rec.as_ref().ok_or(ResultCode::KEY_NOT_FOUND)?;
        return read_only(current, header, ops, respond_all, ev);
    }

    let must_not_create = validate_write(header, ops)?;
    match rec.as_ref() {
        Some(current) => {
            check_generation(header, current)?;
            if header.info2 & info2::CREATE_ONLY != 0 {
                return Err(ResultCode::KEY_EXISTS);
            }
        }
        None if must_not_create => return Err(ResultCode::KEY_NOT_FOUND),
        None => {}
    }
    let created = rec.is_none();
    let mut work = rec.clone().unwrap_or_else(|| StoredRecord::new(set));
    if !created && header.info3 & (info3::CREATE_OR_REPLACE | info3::REPLACE_ONLY) != 0 {
        work.clear_bins();
    }
    let mut out = Vec::new();
    // As on the server, a nameless READ reads every bin only with GET_ALL
    // (a header read sends it with NOBINDATA and gets no bins).
    let read_all = header.info1 & info1::GET_ALL != 0;
    for o in ops {
        let before = out.len();
        apply_one(&mut work, o, read_all, respond_all, ev, &mut out)?;
        echo_op_type(o, &mut out[before..]);
    }
    if work.bins.is_empty() {
        // A write that leaves no bins deletes the record; one that would
        // create a record without bins (a touch of a missing record, say)
        // finds nothing to act on.
        if created {
            return Err(ResultCode::KEY_NOT_FOUND);
        }
        // A write that deletes is a delete: durable is Enterprise-only
        // (`write.c` `validate_delete_durability`). Background delete jobs
        // fail every record this way.
        if durable {
            return Err(ResultCode::ENTERPRISE_ONLY);
        }
        *rec = None;
        return Ok(out);
    }
    if work.size() > MAX_RECORD_SIZE {
        return Err(ResultCode::RECORD_TOO_BIG);
    }
    let current_void = (!created).then_some(work.void_time);
    work.void_time = void_time_for(header.record_ttl, ns.default_ttl, current_void, now);
    work.touch_write();
    *rec = Some(work);
    Ok(out)
}

/// Longest TTL a write may ask for (10 years), besides the special values.
const MAX_TTL: u32 = 10 * 365 * 24 * 3600;

/// Checks a write's flags and operations against each other the way the
/// server does before touching the record; returns whether the write must
/// not create a record (update-only, replace-only, or a touch).
fn validate_write(header: &Header, ops: &[Op]) -> Result<bool, ResultCode> {
    let ttl = header.record_ttl;
    if ops.is_empty() || (ttl > MAX_TTL && ttl < u32::MAX - 1) {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    let replace = header.info3 & (info3::CREATE_OR_REPLACE | info3::REPLACE_ONLY) != 0;
    let respond_all = header.info2 & info2::RESPOND_ALL_OPS != 0;
    let mut must_not_create = header.info3 & (info3::UPDATE_ONLY | info3::REPLACE_ONLY) != 0;
    let (mut has_read, mut read_alls, mut response_bins) = (false, 0, false);
    for o in ops {
        if o.kind == op::TOUCH {
            if replace {
                return Err(ResultCode::PARAMETER_ERROR);
            }
            must_not_create = true;
            continue;
        }
        if o.name.len() > MAX_BIN_NAME {
            return Err(ResultCode::BIN_NAME_TOO_LONG);
        }
        let deletes_bin = o.kind == op::WRITE && o.particle == particle::types::NULL;
        let modifies = matches!(
            o.kind,
            op::INCR | op::APPEND | op::PREPEND | op::DELETE | op::CDT_MODIFY
        );
        if replace && (deletes_bin || modifies) {
            return Err(ResultCode::PARAMETER_ERROR);
        }
        if o.kind == op::READ && o.name.is_empty() {
            read_alls += 1;
            if respond_all || read_alls > 1 {
                return Err(ResultCode::PARAMETER_ERROR);
            }
        }
        if op::is_read(o.kind) {
            has_read = true;
        }
        if (op::is_read(o.kind) && !o.name.is_empty()) || o.kind == op::CDT_MODIFY {
            response_bins = true;
        }
    }
    let get_all = header.info1 & info1::GET_ALL != 0;
    if (has_read && header.info1 & info1::READ == 0)
        || (read_alls > 0 && response_bins)
        || (get_all && read_alls == 0)
    {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    Ok(must_not_create)
}

/// GENERATION: the record's generation must equal the request's;
/// GENERATION_GT: the request's must be greater.
fn check_generation(header: &Header, rec: &StoredRecord) -> Result<(), ResultCode> {
    let current = u32::from(rec.generation);
    let fails = (header.info2 & info2::GENERATION != 0 && header.generation != current)
        || (header.info2 & info2::GENERATION_GT != 0 && header.generation <= current);
    if fails {
        Err(ResultCode::GENERATION_ERROR)
    } else {
        Ok(())
    }
}

/// A read without the WRITE bit: all bins, selected bins, or only metadata.
fn read_only(
    rec: &StoredRecord,
    header: &Header,
    ops: &[Op],
    respond_all: bool,
    ev: ExpEnv<'_>,
) -> Result<Vec<Op>, ResultCode> {
    let mut out = Vec::new();
    if header.info1 & info1::NOBINDATA != 0 {
        return Ok(out);
    }
    if header.info1 & info1::GET_ALL != 0 {
        push_all_bins(rec, &mut out);
        return Ok(out);
    }
    if ops.is_empty() {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    for o in ops {
        if !op::is_read(o.kind) {
            return Err(ResultCode::PARAMETER_ERROR);
        }
        let before = out.len();
        read_op(rec, o, false, respond_all, ev, &mut out)?;
        echo_op_type(o, &mut out[before..]);
    }
    Ok(out)
}

/// The server answers an operation with the request's own op type (a
/// CDT read with 3, a CDT write with 4, ...: `as_msg_make_response_msg`
/// copies `ops[i]->op`); only a read of every bin answers with READ.
fn echo_op_type(o: &Op, answers: &mut [Op]) {
    if o.kind == op::READ && o.name.is_empty() {
        return;
    }
    for a in answers {
        a.kind = o.kind;
    }
}

/// Appends every bin of `rec` as a READ reply operation.
fn push_all_bins(rec: &StoredRecord, out: &mut Vec<Op>) {
    out.extend(rec.bins.iter().map(|(name, v)| stored_bin_op(rec, name, v)));
}

/// Bin `name` of `rec` as a reply operation, for read, scan and query
/// replies; an ordered list or map keeps its order header, as the server
/// sends it.
pub(crate) fn stored_bin_op(rec: &StoredRecord, name: &str, value: &Value) -> Op {
    flagged_bin_op(name, value, rec.order_of(name))
}

/// A reply operation whose list or map carries container flags `flags` as
/// its ext header (none when 0).
fn flagged_bin_op(name: &str, value: &Value, flags: u8) -> Op {
    if flags == 0 {
        return bin_op(name, value);
    }
    let mut data = Vec::new();
    let particle = super::store::encode_with_flags(value, flags, &mut data);
    Op {
        kind: op::READ,
        particle,
        name: name.to_owned(),
        data,
    }
}

/// A reply operation carrying `value` for bin `name`, as a server sends
/// values (a GeoJSON point carries its S2 cell).
pub(crate) fn bin_op(name: &str, value: &Value) -> Op {
    let mut data = Vec::new();
    let particle = match value {
        Value::GeoJson(json) => {
            geo::encode_particle(json, &mut data);
            value.particle_type()
        }
        _ => particle::encode(value, &mut data),
    };
    Op {
        kind: op::READ,
        particle,
        name: name.to_owned(),
        data,
    }
}

/// One read operation against the record as it is now. A READ without a
/// bin name reads every bin only inside a write (`read_all`); in a plain read
/// the GET_ALL flag does that.
fn read_op(
    rec: &StoredRecord,
    o: &Op,
    read_all: bool,
    respond_all: bool,
    ev: ExpEnv<'_>,
    out: &mut Vec<Op>,
) -> Result<(), ResultCode> {
    match o.kind {
        op::READ if read_all && o.name.is_empty() => push_all_bins(rec, out),
        op::READ => match rec.bin(&o.name) {
            Some(v) => out.push(stored_bin_op(rec, &o.name, v)),
            None if respond_all => out.push(bin_op(&o.name, &Value::Nil)),
            None => {}
        },
        op::CDT_READ => match rec.bin(&o.name) {
            // Like the server, a nil result (nothing found) is left out of
            // the reply unless every op must answer.
            Some(bin) => {
                let result = cdt_read(&o.data, bin, rec.order_of(&o.name))?;
                if respond_all || !result.is_nil() {
                    let flags = super::cdt::result_map_flags(&o.data);
                    out.push(flagged_bin_op(&o.name, &result, flags));
                }
            }
            None if respond_all => out.push(bin_op(&o.name, &Value::Nil)),
            None => {}
        },
        op::EXP_READ => {
            let (exp, flags) = exp_op_parts(&o.data, EXP_EVAL_NO_FAIL)?;
            let result = match ev.eval(exp, rec)? {
                Some(v) => v,
                None if flags & EXP_EVAL_NO_FAIL != 0 => Value::Nil,
                None => return Err(ResultCode::OP_NOT_APPLICABLE),
            };
            if respond_all || !result.is_nil() {
                out.push(bin_op(&o.name, &result));
            }
        }
        _ => return Err(ResultCode::PARAMETER_ERROR),
    }
    Ok(())
}

/// What an expression operation is evaluated with besides the record.
#[derive(Clone, Copy)]
struct ExpEnv<'a> {
    digest: &'a [u8; 20],
    now: u32,
}

impl ExpEnv<'_> {
    /// The value of the packed expression `exp` for `rec`; `None` when unknown.
    fn eval(self, exp: &[u8], rec: &StoredRecord) -> Result<Option<Value>, ResultCode> {
        super::exp_eval::eval_value(exp, rec, self.digest, self.now)
    }
}

/// Expression operation flags (aerospike-client-java `ExpWriteFlags` and
/// `ExpReadFlags`).
const EXP_CREATE_ONLY: i64 = 1;
const EXP_UPDATE_ONLY: i64 = 2;
const EXP_ALLOW_DELETE: i64 = 4;
const EXP_POLICY_NO_FAIL: i64 = 8;
const EXP_EVAL_NO_FAIL: i64 = 16;
/// Every flag an expression write knows.
const EXP_MODIFY_FLAGS: i64 = 31;

/// Splits an expression operation's value, `[exp]` or `[exp, flags]`
/// (flags default to 0), refusing flag bits the operation does not know
/// (`allowed`), as the server's `as_exp_op_parse` does.
fn exp_op_parts(data: &[u8], allowed: i64) -> Result<(&[u8], i64), ResultCode> {
    let bad = |_| ResultCode::PARAMETER_ERROR;
    let mut r = msgpack::Reader::new(data);
    let n = r.array_len().map_err(bad)?;
    if !(1..=2).contains(&n) {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    let exp = r.value_bytes().map_err(bad)?;
    let flags = if n == 2 { r.int().map_err(bad)? } else { 0 };
    if r.remaining() != 0 || flags & !allowed != 0 {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    Ok((exp, flags))
}

/// EXP_MODIFY: writes the value of `exp` to bin `name` under `flags`, in the
/// server's order (`as_exp_modify_tr`): CREATE_ONLY on an existing bin
/// (BIN_EXISTS) and UPDATE_ONLY on a missing one (BIN_NOT_FOUND) are refused
/// before evaluating, unless POLICY_NO_FAIL; an evaluation that fails is
/// OP_NOT_APPLICABLE unless EVAL_NO_FAIL; a nil result deletes an existing
/// bin only with ALLOW_DELETE, and otherwise leaves it and fails with
/// OP_NOT_APPLICABLE — unless any flag is set, because the server tests
/// `flags && POLICY_NO_FAIL != 0` there, which is true for every non-zero
/// `flags`.
fn exp_modify(
    rec: &mut StoredRecord,
    name: &str,
    data: &[u8],
    ev: ExpEnv<'_>,
) -> Result<(), ResultCode> {
    if name.is_empty() {
        return Err(ResultCode::PARAMETER_ERROR);
    }
    let (exp, flags) = exp_op_parts(data, EXP_MODIFY_FLAGS)?;
    let existed = rec.bin(name).is_some();
    let refused = if flags & EXP_CREATE_ONLY != 0 && existed {
        Some(ResultCode::BIN_EXISTS)
    } else if flags & EXP_UPDATE_ONLY != 0 && !existed {
        Some(ResultCode::BIN_NOT_FOUND)
    } else {
        None
    };
    match refused {
        Some(_) if flags & EXP_POLICY_NO_FAIL != 0 => return Ok(()),
        Some(rc) => return Err(rc),
        None => {}
    }
    let value = match ev.eval(exp, rec)? {
        Some(v) => v,
        None if flags & EXP_EVAL_NO_FAIL != 0 => return Ok(()),
        None => return Err(ResultCode::OP_NOT_APPLICABLE),
    };
    if value.is_nil() && existed && flags & EXP_ALLOW_DELETE == 0 {
        return if flags != 0 {
            Ok(())
        } else {
            Err(ResultCode::OP_NOT_APPLICABLE)
        };
    }
    rec.set_bin(name, value);
    Ok(())
}

/// One operation inside a write (operate) message.
fn apply_one(
    rec: &mut StoredRecord,
    o: &Op,
    read_all: bool,
    respond_all: bool,
    ev: ExpEnv<'_>,
    out: &mut Vec<Op>,
) -> Result<(), ResultCode> {
    if op::is_read(o.kind) {
        return read_op(rec, o, read_all, respond_all, ev, out);
    }
    let operand = || particle::decode(o.particle, &o.data).map_err(|_| ResultCode::PARAMETER_ERROR);
    match o.kind {
        op::WRITE => {
            if o.name.is_empty() {
                return Err(ResultCode::PARAMETER_ERROR);
            }
            let mut value = operand()?;
            super::cdt::key_order(&mut value, true)?;
            rec.set_bin(&o.name, value);
        }
        op::INCR => {
            let sum = match (rec.bin(&o.name), operand()?) {
                (None, v @ (Value::Int(_) | Value::Float(_))) => v,
                (Some(Value::Int(a)), Value::Int(b)) => Value::Int(a.wrapping_add(b)),
                (Some(Value::Float(a)), Value::Float(b)) => Value::Float(a + b),
                _ => return Err(ResultCode::BIN_TYPE_ERROR),
            };
            rec.set_bin(&o.name, sum);
        }
        op::APPEND | op::PREPEND => {
            let front = o.kind == op::PREPEND;
            let joined = match (rec.bin(&o.name), operand()?) {
                (None, v @ (Value::String(_) | Value::Blob(_))) => v,
                (Some(Value::String(a)), Value::String(b)) => {
                    Value::String(if front { b + a } else { format!("{a}{b}") })
                }
                (Some(Value::Blob(a)), Value::Blob(b)) => {
                    let (first, second) = if front { (&b, a) } else { (a, &b) };
                    Value::Blob([first.as_slice(), second.as_slice()].concat())
                }
                _ => return Err(ResultCode::BIN_TYPE_ERROR),
            };
            rec.set_bin(&o.name, joined);
        }
        op::TOUCH => {}
        op::DELETE => rec.clear_bins(),
        op::EXP_MODIFY => exp_modify(rec, &o.name, &o.data, ev)?,
        op::CDT_MODIFY => {
            let mut bin = rec.bin(&o.name).cloned().unwrap_or_default();
            let mut order = rec.order_of(&o.name);
            let result = cdt_modify(&o.data, &mut bin, &mut order)?;
            rec.set_bin(&o.name, bin);
            rec.set_order(&o.name, order);
            if respond_all || !result.is_nil() {
                let flags = super::cdt::result_map_flags(&o.data);
                out.push(flagged_bin_op(&o.name, &result, flags));
            }
            return Ok(());
        }
        _ => return Err(ResultCode::PARAMETER_ERROR),
    }
    if respond_all {
        out.push(bin_op(&o.name, &Value::Nil));
    }
    Ok(())
}

/// Evaluates a filter expression (field 43) against an existing record.
fn filter_allows(
    packed: &[u8],
    rec: &StoredRecord,
    digest: &[u8; 20],
    now: u32,
) -> Result<bool, ResultCode> {
    super::exp_eval::filter_matches(packed, rec, digest, now)
}

/// A CDT_MODIFY operation on `bin` with order flags `order`; returns the
/// operation's result.
fn cdt_modify(data: &[u8], bin: &mut Value, order: &mut u8) -> Result<Value, ResultCode> {
    super::cdt::modify(data, bin, order)
}

/// A CDT_READ operation on `bin` with order flags `order`.
fn cdt_read(data: &[u8], bin: &Value, order: u8) -> Result<Value, ResultCode> {
    super::cdt::read(data, bin, order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aerospike_proto::wire::particle::types;

    const NOW: u32 = 1_000_000;

    fn ns() -> NamespaceConfig {
        NamespaceConfig {
            name: "test".into(),
            replication_factor: 1,
            default_ttl: 0,
        }
    }

    fn write_header() -> Header {
        Header {
            info2: info2::WRITE,
            ..Header::default()
        }
    }

    fn read_header() -> Header {
        Header {
            info1: info1::READ | info1::GET_ALL,
            ..Header::default()
        }
    }

    fn wop(kind: u8, name: &str, v: &Value) -> Op {
        let mut data = Vec::new();
        let particle = particle::encode(v, &mut data);
        Op {
            kind,
            particle,
            name: name.into(),
            data,
        }
    }

    fn put(name: &str, v: impl Into<Value>) -> Op {
        wop(op::WRITE, name, &v.into())
    }

    fn get(name: &str) -> Op {
        Op {
            kind: op::READ,
            particle: 0,
            name: name.into(),
            data: Vec::new(),
        }
    }

    fn apply(rec: &mut Option<StoredRecord>, h: Header, ops: &[Op]) -> Result<Vec<Op>, ResultCode> {
        apply_ops(&ns(), rec, "s", &[0; 20], &h, ops, NOW)
    }

    fn stored(bins: &[(&str, Value)]) -> Option<StoredRecord> {
        let mut rec = None;
        let ops: Vec<Op> = bins.iter().map(|(n, v)| wop(op::WRITE, n, v)).collect();
        apply(&mut rec, write_header(), &ops).unwrap();
        rec
    }

    fn values(ops: &[Op]) -> Vec<(String, Value)> {
        ops.iter()
            .map(|o| {
                (
                    o.name.clone(),
                    particle::decode(o.particle, &o.data).unwrap(),
                )
            })
            .collect()
    }

    fn exp_w(bin: &str, ael: &str, flags: aerospike_proto::operations::ExpWriteFlags) -> Op {
        let e = aerospike_proto::exp::Expression::from_ael_value(ael).unwrap();
        aerospike_proto::operations::exp_write(bin, &e, flags).to_wire()
    }

    fn exp_r(name: &str, ael: &str, flags: aerospike_proto::operations::ExpReadFlags) -> Op {
        let e = aerospike_proto::exp::Expression::from_ael_value(ael).unwrap();
        aerospike_proto::operations::exp_read(name, &e, flags).to_wire()
    }

    fn bin_of(rec: &Option<StoredRecord>, name: &str) -> Option<Value> {
        rec.as_ref().unwrap().bin(name).cloned()
    }

    #[test]
    fn exp_modify_writes_the_value() {
        use aerospike_proto::operations::ExpWriteFlags as F;
        let mut rec = stored(&[("a", Value::Int(2)), ("b", Value::Int(5))]);
        let out = apply(
            &mut rec,
            write_header(),
            &[exp_w("sum", "$.a + $.b", F::DEFAULT)],
        )
        .unwrap();
        assert!(out.is_empty());
        assert_eq!(bin_of(&rec, "sum"), Some(Value::Int(7)));
        assert_eq!(rec.as_ref().unwrap().generation, 2);
        // Overwrite, reading the bin being written.
        apply(
            &mut rec,
            write_header(),
            &[exp_w("sum", "$.sum * 10", F::DEFAULT)],
        )
        .unwrap();
        assert_eq!(bin_of(&rec, "sum"), Some(Value::Int(70)));
        // RESPOND_ALL_OPS: a write op answers nil under its bin.
        let h = Header {
            info2: info2::WRITE | info2::RESPOND_ALL_OPS,
            ..Header::default()
        };
        let out = apply(&mut rec, h, &[exp_w("c", "$.a - 1", F::DEFAULT)]).unwrap();
        assert_eq!(values(&out), vec![("c".into(), Value::Nil)]);
        assert_eq!(bin_of(&rec, "c"), Some(Value::Int(1)));
    }

    #[test]
    fn exp_modify_flags() {
        use aerospike_proto::operations::ExpWriteFlags as F;
        let mut rec = stored(&[("a", Value::Int(2))]);
        let w = |rec: &mut Option<StoredRecord>, o: Op| apply(rec, write_header(), &[o]);
        // CREATE_ONLY on an existing bin.
        assert_eq!(
            w(&mut rec, exp_w("a", "3", F::CREATE_ONLY)),
            Err(ResultCode::BIN_EXISTS)
        );
        w(
            &mut rec,
            exp_w("a", "3", F::CREATE_ONLY | F::POLICY_NO_FAIL),
        )
        .unwrap();
        assert_eq!(bin_of(&rec, "a"), Some(Value::Int(2)));
        w(&mut rec, exp_w("n", "3", F::CREATE_ONLY)).unwrap();
        assert_eq!(bin_of(&rec, "n"), Some(Value::Int(3)));
        // UPDATE_ONLY on a missing bin.
        assert_eq!(
            w(&mut rec, exp_w("m", "3", F::UPDATE_ONLY)),
            Err(ResultCode::BIN_NOT_FOUND)
        );
        w(
            &mut rec,
            exp_w("m", "3", F::UPDATE_ONLY | F::POLICY_NO_FAIL),
        )
        .unwrap();
        assert_eq!(bin_of(&rec, "m"), None);
        w(&mut rec, exp_w("a", "$.a + 1", F::UPDATE_ONLY)).unwrap();
        assert_eq!(bin_of(&rec, "a"), Some(Value::Int(3)));
        // Unknown (missing bin) result.
        let missing = "$.nope + 1";
        assert_eq!(
            w(&mut rec, exp_w("x", missing, F::DEFAULT)),
            Err(ResultCode::OP_NOT_APPLICABLE)
        );
        w(&mut rec, exp_w("x", missing, F::EVAL_NO_FAIL)).unwrap();
        assert_eq!(bin_of(&rec, "x"), None);
        // A failed op leaves the record as it was.
        let before = rec.clone();
        let ops = [put("y", 1), exp_w("x", missing, F::DEFAULT)];
        assert_eq!(
            apply(&mut rec, write_header(), &ops),
            Err(ResultCode::OP_NOT_APPLICABLE)
        );
        assert_eq!(rec, before);
    }

    #[test]
    fn exp_modify_nil_result() {
        use aerospike_proto::exp;
        use aerospike_proto::operations::{exp_write, ExpWriteFlags as F};
        let mut rec = stored(&[("a", Value::Int(2)), ("gone", Value::Int(1))]);
        let nil = exp::Expression::new(exp::Node::Val(Value::Nil));
        let w = |rec: &mut Option<StoredRecord>, f: F| {
            apply(rec, write_header(), &[exp_write("gone", &nil, f).to_wire()])
        };
        assert_eq!(w(&mut rec, F::DEFAULT), Err(ResultCode::OP_NOT_APPLICABLE));
        w(&mut rec, F::POLICY_NO_FAIL).unwrap();
        assert_eq!(bin_of(&rec, "gone"), Some(Value::Int(1)));
        // The server silences this refusal for any non-zero flags
        // (`flags && AS_EXP_FLAG_POLICY_NO_FAIL != 0` in expop.c).
        w(&mut rec, F::EVAL_NO_FAIL).unwrap();
        assert_eq!(bin_of(&rec, "gone"), Some(Value::Int(1)));
        w(&mut rec, F::ALLOW_DELETE).unwrap();
        assert_eq!(bin_of(&rec, "gone"), None);
        // Nil for a bin that does not exist: nothing to do, no error.
        w(&mut rec, F::DEFAULT).unwrap();
        assert_eq!(bin_of(&rec, "gone"), None);
        assert_eq!(bin_of(&rec, "a"), Some(Value::Int(2)));
    }

    #[test]
    fn exp_modify_checks_create_and_update_only_before_evaluating() {
        use aerospike_proto::exp::Expression;
        use aerospike_proto::operations::{exp_write, ExpWriteFlags as F};
        let mut rec = stored(&[("a", Value::Int(2))]);
        // `$.missing + 1` cannot evaluate; the bin checks come first.
        let fails = Expression::from_ael_value("$.missing + 1").unwrap();
        let w = |rec: &mut Option<StoredRecord>, bin: &str, f: F| {
            apply(rec, write_header(), &[exp_write(bin, &fails, f).to_wire()])
        };
        assert_eq!(
            w(&mut rec, "a", F::CREATE_ONLY),
            Err(ResultCode::BIN_EXISTS)
        );
        assert_eq!(
            w(&mut rec, "b", F::UPDATE_ONLY),
            Err(ResultCode::BIN_NOT_FOUND)
        );
        assert_eq!(
            w(&mut rec, "b", F::DEFAULT),
            Err(ResultCode::OP_NOT_APPLICABLE)
        );
    }

    #[test]
    fn exp_read_returns_the_value() {
        use aerospike_proto::operations::ExpReadFlags as F;
        let mut rec = stored(&[("a", Value::Int(2)), ("b", Value::Int(5))]);
        let h = Header {
            info1: info1::READ,
            info2: info2::RESPOND_ALL_OPS,
            ..Header::default()
        };
        let out = apply(&mut rec, h, &[exp_r("sum", "$.a + $.b", F::DEFAULT)]).unwrap();
        assert_eq!(values(&out), vec![("sum".into(), Value::Int(7))]);
        assert_eq!(bin_of(&rec, "sum"), None);
        let unknown = exp_r("v", "$.nope * 2", F::DEFAULT);
        assert_eq!(
            apply(&mut rec, h, &[unknown]),
            Err(ResultCode::OP_NOT_APPLICABLE)
        );
        let out = apply(&mut rec, h, &[exp_r("v", "$.nope * 2", F::EVAL_NO_FAIL)]).unwrap();
        assert_eq!(values(&out), vec![("v".into(), Value::Nil)]);
        // Inside a write, after the write it reads.
        let hw = Header {
            info1: info1::READ,
            info2: info2::WRITE | info2::RESPOND_ALL_OPS,
            ..Header::default()
        };
        let ops = [put("a", 10), exp_r("sum", "$.a + $.b", F::DEFAULT)];
        let out = apply(&mut rec, hw, &ops).unwrap();
        assert_eq!(
            values(&out),
            vec![("a".into(), Value::Nil), ("sum".into(), Value::Int(15))]
        );
    }

    #[test]
    fn exp_op_operand_must_be_well_formed() {
        let mut rec = stored(&[("a", Value::Int(2))]);
        let bad = |data: Vec<u8>| Op {
            kind: op::EXP_MODIFY,
            particle: types::BLOB,
            name: "x".into(),
            data,
        };
        let true_exp = 0xc3; // the expression `true`, one byte
        for data in [
            vec![],
            vec![0x90],
            vec![0x92, 0xc1, 0x00],
            vec![0x92, 0x01],
            vec![0x93, true_exp, 0x00, 0x00],
            // Flag bits the server does not know (as_exp_op_parse).
            vec![0x92, true_exp, 0x20],
        ] {
            assert_eq!(
                apply(&mut rec, write_header(), &[bad(data)]),
                Err(ResultCode::PARAMETER_ERROR)
            );
        }
        // The flags element is optional (default 0).
        apply(&mut rec, write_header(), &[bad(vec![0x91, true_exp])]).unwrap();
        assert_eq!(bin_of(&rec, "x"), Some(Value::Bool(true)));
    }

    #[test]
    fn write_then_read_all_and_selected() {
        let mut rec = stored(&[("a", Value::Int(1)), ("b", Value::from("x"))]);
        let r = rec.as_ref().unwrap();
        assert_eq!((r.generation, r.void_time, r.set.as_str()), (1, 0, "s"));
        let all = apply(&mut rec, read_header(), &[]).unwrap();
        assert_eq!(
            values(&all),
            vec![("a".into(), Value::Int(1)), ("b".into(), Value::from("x"))]
        );
        let h = Header {
            info1: info1::READ,
            ..Header::default()
        };
        let some = apply(&mut rec, h, &[get("b"), get("missing")]).unwrap();
        assert_eq!(values(&some), vec![("b".into(), Value::from("x"))]);
        let meta = Header {
            info1: info1::READ | info1::NOBINDATA,
            ..Header::default()
        };
        assert!(apply(&mut rec, meta, &[]).unwrap().is_empty());
        // Without GET_ALL a read must name its bins; an empty name is a bin
        // that does not exist.
        assert_eq!(apply(&mut rec, h, &[]), Err(ResultCode::PARAMETER_ERROR));
        assert!(apply(&mut rec, h, &[get("")]).unwrap().is_empty());
    }

    #[test]
    fn missing_records() {
        let mut rec = None;
        assert_eq!(
            apply(&mut rec, read_header(), &[]),
            Err(ResultCode::KEY_NOT_FOUND)
        );
        let del = Header {
            info2: info2::WRITE | info2::DELETE,
            ..Header::default()
        };
        assert_eq!(apply(&mut rec, del, &[]), Err(ResultCode::KEY_NOT_FOUND));
        let touch = Op {
            kind: op::TOUCH,
            particle: 0,
            name: String::new(),
            data: Vec::new(),
        };
        assert_eq!(
            apply(&mut rec, write_header(), &[touch]),
            Err(ResultCode::KEY_NOT_FOUND)
        );
        for bit in [info3::UPDATE_ONLY, info3::REPLACE_ONLY] {
            let h = Header {
                info3: bit,
                ..write_header()
            };
            assert_eq!(
                apply(&mut rec, h, &[put("a", 1)]),
                Err(ResultCode::KEY_NOT_FOUND)
            );
        }
        assert!(rec.is_none());
    }

    #[test]
    fn expired_record_is_missing() {
        let mut rec = stored(&[("a", Value::Int(1))]);
        rec.as_mut().unwrap().void_time = NOW - 1;
        assert_eq!(
            apply(&mut rec, read_header(), &[]),
            Err(ResultCode::KEY_NOT_FOUND)
        );
        let create = Header {
            info2: info2::WRITE | info2::CREATE_ONLY,
            ..Header::default()
        };
        apply(&mut rec, create, &[put("b", 2)]).unwrap();
        let r = rec.unwrap();
        assert_eq!((r.generation, r.bins.len()), (1, 1));
    }

    #[test]
    fn delete_and_generation_checks() {
        let mut rec = stored(&[("a", Value::Int(1))]);
        let eq = |g| Header {
            info2: info2::WRITE | info2::GENERATION,
            generation: g,
            ..Header::default()
        };
        assert_eq!(
            apply(&mut rec, eq(2), &[put("a", 2)]),
            Err(ResultCode::GENERATION_ERROR)
        );
        apply(&mut rec, eq(1), &[put("a", 2)]).unwrap();
        let gt = |g| Header {
            info2: info2::WRITE | info2::GENERATION_GT,
            generation: g,
            ..Header::default()
        };
        assert_eq!(
            apply(&mut rec, gt(2), &[put("a", 3)]),
            Err(ResultCode::GENERATION_ERROR)
        );
        apply(&mut rec, gt(3), &[put("a", 3)]).unwrap();
        assert_eq!(rec.as_ref().unwrap().generation, 3);
        let del = Header {
            info2: info2::WRITE | info2::DELETE | info2::GENERATION,
            generation: 9,
            ..Header::default()
        };
        assert_eq!(apply(&mut rec, del, &[]), Err(ResultCode::GENERATION_ERROR));
        let del = Header {
            generation: 3,
            ..del
        };
        assert_eq!(apply(&mut rec, del, &[]), Ok(Vec::new()));
        assert!(rec.is_none());
    }

    #[test]
    fn exists_actions() {
        let mut rec = stored(&[("a", Value::Int(1)), ("b", Value::Int(2))]);
        let create = Header {
            info2: info2::WRITE | info2::CREATE_ONLY,
            ..Header::default()
        };
        assert_eq!(
            apply(&mut rec, create, &[put("c", 3)]),
            Err(ResultCode::KEY_EXISTS)
        );
        let update = Header {
            info3: info3::UPDATE_ONLY,
            ..write_header()
        };
        apply(&mut rec, update, &[put("c", 3)]).unwrap();
        assert_eq!(rec.as_ref().unwrap().bins.len(), 3);
        for bit in [info3::REPLACE_ONLY, info3::CREATE_OR_REPLACE] {
            let mut r = rec.clone();
            let h = Header {
                info3: bit,
                ..write_header()
            };
            apply(&mut r, h, &[put("z", 9)]).unwrap();
            assert_eq!(r.unwrap().bins, vec![("z".to_string(), Value::Int(9))]);
        }
    }

    #[test]
    fn ttl_rules() {
        let with_ttl = |ttl| Header {
            record_ttl: ttl,
            ..write_header()
        };
        let mut rec = None;
        apply(&mut rec, with_ttl(3600), &[put("a", 1)]).unwrap();
        assert_eq!(rec.as_ref().unwrap().void_time, NOW + 3600);
        apply(&mut rec, with_ttl(u32::MAX - 1), &[put("a", 2)]).unwrap();
        assert_eq!(rec.as_ref().unwrap().void_time, NOW + 3600);
        apply(&mut rec, with_ttl(0), &[put("a", 3)]).unwrap();
        assert_eq!(rec.as_ref().unwrap().void_time, 0);
        apply(&mut rec, with_ttl(100), &[put("a", 3)]).unwrap();
        apply(&mut rec, with_ttl(u32::MAX), &[put("a", 4)]).unwrap();
        assert_eq!(rec.as_ref().unwrap().void_time, 0);
        let mut fresh = None;
        let cfg = NamespaceConfig {
            default_ttl: 50,
            ..ns()
        };
        apply_ops(
            &cfg,
            &mut fresh,
            "s",
            &[0; 20],
            &with_ttl(0),
            &[put("a", 1)],
            NOW,
        )
        .unwrap();
        assert_eq!(fresh.unwrap().void_time, NOW + 50);
    }

    #[test]
    fn incr_append_prepend() {
        let mut rec = stored(&[
            ("i", Value::Int(1)),
            ("f", Value::Float(1.5)),
            ("s", Value::from("b")),
            ("y", Value::Blob(vec![2])),
        ]);
        let h = Header {
            info1: info1::READ,
            ..write_header()
        };
        let ops = [
            wop(op::INCR, "i", &Value::Int(5)),
            wop(op::INCR, "f", &Value::Float(1.0)),
            wop(op::INCR, "new", &Value::Int(-3)),
            wop(op::APPEND, "s", &Value::from("c")),
            wop(op::PREPEND, "s", &Value::from("a")),
            wop(op::APPEND, "y", &Value::Blob(vec![3])),
            wop(op::PREPEND, "y", &Value::Blob(vec![1])),
            get("i"),
            get("f"),
            get("new"),
            get("s"),
            get("y"),
        ];
        let out = apply(&mut rec, h, &ops).unwrap();
        assert_eq!(
            values(&out),
            vec![
                ("i".into(), Value::Int(6)),
                ("f".into(), Value::Float(2.5)),
                ("new".into(), Value::Int(-3)),
                ("s".into(), Value::from("abc")),
                ("y".into(), Value::Blob(vec![1, 2, 3])),
            ]
        );
        assert_eq!(rec.as_ref().unwrap().generation, 2);
    }

    #[test]
    fn type_errors_leave_the_record_alone() {
        let mut rec = stored(&[("i", Value::Int(1)), ("s", Value::from("x"))]);
        let before = rec.clone();
        for o in [
            wop(op::INCR, "s", &Value::Int(1)),
            wop(op::INCR, "i", &Value::Float(1.0)),
            wop(op::INCR, "i", &Value::from("x")),
            wop(op::APPEND, "i", &Value::from("x")),
            wop(op::PREPEND, "s", &Value::Blob(vec![1])),
        ] {
            let ops = [put("other", 5), o];
            assert_eq!(
                apply(&mut rec, write_header(), &ops),
                Err(ResultCode::BIN_TYPE_ERROR)
            );
            assert_eq!(rec, before);
        }
    }

    #[test]
    fn parameter_errors() {
        let mut rec = stored(&[("i", Value::Int(1))]);
        let bad_float = Op {
            kind: op::WRITE,
            particle: types::FLOAT,
            name: "f".into(),
            data: vec![1, 2],
        };
        let cdt = Op {
            kind: op::CDT_MODIFY,
            particle: 0,
            name: "l".into(),
            // An unknown CDT op code (63).
            data: vec![0x91, 0x3f],
        };
        for o in [bad_float, cdt, put("", 1), wop(99, "x", &Value::Int(1))] {
            assert_eq!(
                apply(&mut rec, write_header(), &[o]),
                Err(ResultCode::PARAMETER_ERROR)
            );
        }
        // A write op in a read-only message (GET_ALL would ignore the ops).
        let read = Header {
            info1: info1::READ,
            ..Header::default()
        };
        assert_eq!(
            apply(&mut rec, read, &[put("a", 1)]),
            Err(ResultCode::PARAMETER_ERROR)
        );
    }

    #[test]
    fn name_and_size_limits() {
        let mut rec = None;
        assert_eq!(
            apply(&mut rec, write_header(), &[put("sixteen-chars-xx", 1)]),
            Err(ResultCode::BIN_NAME_TOO_LONG)
        );
        apply(&mut rec, write_header(), &[put("fifteen-chars-x", 1)]).unwrap();
        let big = Value::Blob(vec![0; MAX_RECORD_SIZE as usize]);
        assert_eq!(
            apply(&mut rec, write_header(), &[wop(op::WRITE, "b", &big)]),
            Err(ResultCode::RECORD_TOO_BIG)
        );
    }

    #[test]
    fn removing_bins_and_delete_op() {
        let mut rec = stored(&[("a", Value::Int(1)), ("b", Value::Int(2))]);
        apply(&mut rec, write_header(), &[put("a", Value::Nil)]).unwrap();
        assert_eq!(rec.as_ref().unwrap().bins.len(), 1);
        apply(&mut rec, write_header(), &[put("b", Value::Nil)]).unwrap();
        assert!(rec.is_none(), "removing the last bin deletes the record");

        let mut rec = stored(&[("a", Value::Int(1))]);
        let del = Op {
            kind: op::DELETE,
            particle: 0,
            name: String::new(),
            data: Vec::new(),
        };
        apply(&mut rec, write_header(), &[del.clone(), put("n", 7)]).unwrap();
        assert_eq!(
            rec.as_ref().unwrap().bins,
            vec![("n".to_string(), Value::Int(7))]
        );
        apply(&mut rec, write_header(), &[del]).unwrap();
        assert!(rec.is_none());
    }

    #[test]
    fn touch_and_respond_all_ops() {
        let mut rec = stored(&[("a", Value::Int(1))]);
        let touch = Op {
            kind: op::TOUCH,
            particle: 0,
            name: String::new(),
            data: Vec::new(),
        };
        let h = Header {
            record_ttl: 600,
            ..write_header()
        };
        assert!(apply(&mut rec, h, &[touch]).unwrap().is_empty());
        let r = rec.as_ref().unwrap();
        assert_eq!((r.generation, r.void_time), (2, NOW + 600));

        let h = Header {
            info1: info1::READ,
            info2: info2::WRITE | info2::RESPOND_ALL_OPS,
            ..Header::default()
        };
        let out = apply(&mut rec, h, &[put("b", 2), get("b"), get("nope")]).unwrap();
        assert_eq!(
            values(&out),
            vec![
                ("b".into(), Value::Nil),
                ("b".into(), Value::Int(2)),
                ("nope".into(), Value::Nil),
            ]
        );
    }

    #[test]
    fn nil_cdt_results_answer_only_with_respond_all_ops() {
        use aerospike_proto::operations::map::{self, MapReturnType};
        let mut rec = stored(&[("m", Value::Map(vec![(Value::from("a"), Value::Int(1))]))]);
        let lookup = |key: &str| map::get_by_key("m", key, MapReturnType::VALUE).to_wire();
        let read = Header {
            info1: info1::READ,
            ..Header::default()
        };
        let all = Header {
            info2: info2::RESPOND_ALL_OPS,
            ..read
        };
        // Found: answered either way.
        let out = apply(&mut rec, read, &[lookup("a")]).unwrap();
        assert_eq!(values(&out), vec![("m".into(), Value::Int(1))]);
        // Not found: a nil result is left out unless every op must answer.
        assert!(apply(&mut rec, read, &[lookup("zz")]).unwrap().is_empty());
        let out = apply(&mut rec, all, &[lookup("zz")]).unwrap();
        assert_eq!(values(&out), vec![("m".into(), Value::Nil)]);
    }

    #[test]
    fn ordered_containers_keep_their_order_and_header() {
        use aerospike_proto::operations::list::{self, ListOrder, ListPolicy, ListWriteFlags};
        use aerospike_proto::operations::map::{self, MapOrder, MapPolicy, MapWriteFlags};
        let ordered = ListPolicy::new(ListOrder::Ordered, ListWriteFlags::DEFAULT);
        let ko = MapPolicy::new(MapOrder::KeyOrdered, MapWriteFlags::DEFAULT);
        let mut rec = None;
        let ops = [
            list::append_with_policy(&ordered, "l", 5).to_wire(),
            list::append("l", 1).to_wire(),
            map::put(&ko, "m", "b", 1).to_wire(),
            map::put(&MapPolicy::default(), "m", "a", 2).to_wire(),
            list::append("u", 3).to_wire(),
        ];
        apply(&mut rec, write_header(), &ops).unwrap();
        let get_all = Header {
            info1: info1::READ | info1::GET_ALL,
            ..Header::default()
        };
        let out = apply(&mut rec, get_all, &[]).unwrap();
        let data: Vec<(&str, &[u8])> = out
            .iter()
            .map(|o| (o.name.as_str(), o.data.as_slice()))
            .collect();
        // An ordered list: [ext(1), 1, 5]; a key-ordered map: {ext(1): nil,
        // "a": 2, "b": 1}; an unordered list stays plain.
        assert_eq!(
            data,
            [
                ("l", &[0x93, 0xc7, 0x00, 0x01, 0x01, 0x05][..]),
                (
                    "m",
                    &[
                        0x83, 0xc7, 0x00, 0x01, 0xc0, 0xa2, 0x03, b'a', 0x02, 0xa2, 0x03, b'b',
                        0x01
                    ][..]
                ),
                ("u", &[0x91, 0x03][..]),
            ]
        );
        // Writing the bin whole makes it a plain list again.
        apply(
            &mut rec,
            write_header(),
            &[put("l", Value::List(vec![Value::Int(9), Value::Int(0)]))],
        )
        .unwrap();
        apply(&mut rec, write_header(), &[list::append("l", 4).to_wire()]).unwrap();
        let r = rec.as_ref().unwrap();
        assert_eq!(r.order_of("l"), 0);
        assert_eq!(
            r.bin("l"),
            Some(&Value::List(vec![9.into(), 0.into(), 4.into()]))
        );
    }

    #[test]
    fn write_validation_like_the_server() {
        let mut rec = stored(&[("a", Value::Int(1))]);
        let before = rec.clone();
        let touch = Op {
            kind: op::TOUCH,
            particle: 0,
            name: String::new(),
            data: Vec::new(),
        };
        let read_all = get("");
        let replace = Header {
            info3: info3::REPLACE_ONLY,
            ..write_header()
        };
        let read = Header {
            info1: info1::READ,
            ..write_header()
        };
        let cases: Vec<(Header, Vec<Op>, ResultCode)> = vec![
            (write_header(), vec![], ResultCode::PARAMETER_ERROR),
            (
                Header {
                    record_ttl: MAX_TTL + 1,
                    ..write_header()
                },
                vec![put("a", 2)],
                ResultCode::PARAMETER_ERROR,
            ),
            (replace, vec![touch.clone()], ResultCode::PARAMETER_ERROR),
            (
                replace,
                vec![put("a", Value::Nil)],
                ResultCode::PARAMETER_ERROR,
            ),
            (
                replace,
                vec![wop(op::INCR, "a", &Value::Int(1))],
                ResultCode::PARAMETER_ERROR,
            ),
            // A read op needs the READ bit.
            (
                write_header(),
                vec![put("a", 2), get("a")],
                ResultCode::PARAMETER_ERROR,
            ),
            // Read-all mixes with nothing that answers per bin.
            (
                read,
                vec![read_all.clone(), get("a")],
                ResultCode::PARAMETER_ERROR,
            ),
            (
                read,
                vec![read_all.clone(), read_all.clone()],
                ResultCode::PARAMETER_ERROR,
            ),
            (
                Header {
                    info1: info1::READ | info1::GET_ALL,
                    ..write_header()
                },
                vec![put("a", 2), get("a")],
                ResultCode::PARAMETER_ERROR,
            ),
            (
                read,
                vec![get("sixteen-chars-xx")],
                ResultCode::BIN_NAME_TOO_LONG,
            ),
        ];
        for (h, ops, rc) in cases {
            assert_eq!(apply(&mut rec, h, &ops), Err(rc), "{ops:?}");
            assert_eq!(rec, before);
        }
        // Allowed: read-all after writes, and keep-ttl / never-expire.
        let h = Header {
            info1: info1::READ | info1::GET_ALL,
            record_ttl: u32::MAX - 1,
            ..write_header()
        };
        let out = apply(&mut rec, h, &[put("b", 2), read_all]).unwrap();
        assert_eq!(out.len(), 2);
        // Touch never creates.
        let mut none = None;
        assert_eq!(
            apply(&mut none, write_header(), &[touch, put("a", 1)]),
            Err(ResultCode::KEY_NOT_FOUND)
        );
    }

    #[test]
    fn writing_over_another_set_is_refused() {
        let mut rec = stored(&[("a", Value::Int(1))]);
        let before = rec.clone();
        let h = write_header();
        assert_eq!(
            apply_ops(&ns(), &mut rec, "other", &[0; 20], &h, &[put("a", 2)], NOW),
            Err(ResultCode::PARAMETER_ERROR)
        );
        assert_eq!(rec, before);
        // Reads and deletes check the set too.
        let del = Header {
            info2: info2::WRITE | info2::DELETE,
            ..Header::default()
        };
        for h in [read_header(), del] {
            assert_eq!(
                apply_ops(&ns(), &mut rec, "other", &[0; 20], &h, &[], NOW),
                Err(ResultCode::PARAMETER_ERROR)
            );
        }
        // No set in the message: allowed.
        apply_ops(&ns(), &mut rec, "", &[0; 20], &h, &[put("a", 2)], NOW).unwrap();
        assert_eq!(rec.unwrap().set, "s");
    }
}
