//! Single-record messages (those with a digest field): read, exists, write,
//! delete, touch and operate.
//!
//! [`apply_ops`] holds the record semantics and touches nothing but the
//! record it is given, so background jobs apply their operations with it too.
//! [`handle`] wraps it with the message plumbing: namespace and digest
//! fields, the partition lock, the filter expression and the reply header.

use super::ctx::NodeCtx;
use super::store::{void_time_for, NamespaceConfig, StoredRecord};
use crate::error::ResultCode;
use crate::value::Value;
use crate::wire::message::{field, info1, info2, info3, op, Header, Message, Op};
use crate::wire::particle;

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
        Ok(done) => (ResultCode::OK, done.generation, done.void_time, done.ops),
        Err((rc, generation)) => (rc, generation, 0, Vec::new()),
    };
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

/// What a successful message leaves behind for its reply.
struct Done {
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
    let old_generation = current.map_or(0, |r| r.generation);
    if let (Some(rec), Some(filter)) = (current, msg.field(field::FILTER_EXP)) {
        if !filter_allows(&filter.data, rec, &digest, now).map_err(|rc| (rc, old_generation))? {
            return Err((ResultCode::FILTERED_OUT, old_generation));
        }
    }
    let mut slot = current.cloned();
    let ops = apply_ops(&ns.config, &mut slot, set, &msg.header, &msg.ops, now)
        .map_err(|rc| (rc, old_generation))?;

    let changes = msg.header.info2 & (info2::WRITE | info2::DELETE) != 0;
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
        generation,
        void_time,
        ops,
    })
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
    header: &Header,
    ops: &[Op],
    now: u32,
) -> Result<Vec<Op>, ResultCode> {
    if rec.as_ref().is_some_and(|r| r.is_expired(now)) {
        *rec = None;
    }
    let respond_all = header.info2 & info2::RESPOND_ALL_OPS != 0;
    if header.info2 & info2::DELETE != 0 {
        let current = rec.as_ref().ok_or(ResultCode::KEY_NOT_FOUND)?;
        check_generation(header, current)?;
        *rec = None;
        return Ok(Vec::new());
    }
    if header.info2 & info2::WRITE == 0 {
        let current = rec.as_ref().ok_or(ResultCode::KEY_NOT_FOUND)?;
        return read_only(current, header, ops, respond_all);
    }

    match rec.as_ref() {
        Some(current) => {
            check_generation(header, current)?;
            if header.info2 & info2::CREATE_ONLY != 0 {
                return Err(ResultCode::KEY_EXISTS);
            }
        }
        None if header.info3 & (info3::UPDATE_ONLY | info3::REPLACE_ONLY) != 0 => {
            return Err(ResultCode::KEY_NOT_FOUND);
        }
        None => {}
    }
    let created = rec.is_none();
    let mut work = rec.clone().unwrap_or_else(|| StoredRecord::new(set));
    if !created && header.info3 & (info3::CREATE_OR_REPLACE | info3::REPLACE_ONLY) != 0 {
        work.bins.clear();
    }
    let mut out = Vec::new();
    for o in ops {
        apply_one(&mut work, o, respond_all, &mut out)?;
    }
    if work.bins.is_empty() {
        // A write that leaves no bins deletes the record; one that would
        // create a record without bins (a touch of a missing record, say)
        // finds nothing to act on.
        if created {
            return Err(ResultCode::KEY_NOT_FOUND);
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
) -> Result<Vec<Op>, ResultCode> {
    let mut out = Vec::new();
    if ops.is_empty() {
        if header.info1 & info1::NOBINDATA == 0 {
            push_all_bins(rec, &mut out);
        }
        return Ok(out);
    }
    for o in ops {
        if !op::is_read(o.kind) {
            return Err(ResultCode::PARAMETER_ERROR);
        }
        read_op(rec, o, respond_all, &mut out)?;
    }
    Ok(out)
}

/// Appends every bin of `rec` as a READ reply operation.
fn push_all_bins(rec: &StoredRecord, out: &mut Vec<Op>) {
    out.extend(rec.bins.iter().map(|(name, v)| value_op(name, v)));
}

/// A reply operation carrying `value` for bin `name`.
fn value_op(name: &str, value: &Value) -> Op {
    let mut data = Vec::new();
    let particle = particle::encode(value, &mut data);
    Op {
        kind: op::READ,
        particle,
        name: name.to_owned(),
        data,
    }
}

/// One read operation against the record as it is now.
fn read_op(
    rec: &StoredRecord,
    o: &Op,
    respond_all: bool,
    out: &mut Vec<Op>,
) -> Result<(), ResultCode> {
    match o.kind {
        op::READ if o.name.is_empty() => push_all_bins(rec, out),
        op::READ => match rec.bin(&o.name) {
            Some(v) => out.push(value_op(&o.name, v)),
            None if respond_all => out.push(value_op(&o.name, &Value::Nil)),
            None => {}
        },
        op::CDT_READ => {
            let bin = rec.bin(&o.name).cloned().unwrap_or_default();
            let result = cdt_read(&o.data, &bin)?;
            out.push(value_op(&o.name, &result));
        }
        _ => return Err(ResultCode::PARAMETER_ERROR),
    }
    Ok(())
}

/// One operation inside a write (operate) message.
fn apply_one(
    rec: &mut StoredRecord,
    o: &Op,
    respond_all: bool,
    out: &mut Vec<Op>,
) -> Result<(), ResultCode> {
    if op::is_read(o.kind) {
        return read_op(rec, o, respond_all, out);
    }
    if o.name.len() > MAX_BIN_NAME {
        return Err(ResultCode::BIN_NAME_TOO_LONG);
    }
    let operand = || particle::decode(o.particle, &o.data).map_err(|_| ResultCode::PARAMETER_ERROR);
    match o.kind {
        op::WRITE => {
            if o.name.is_empty() {
                return Err(ResultCode::PARAMETER_ERROR);
            }
            rec.set_bin(&o.name, operand()?);
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
        op::DELETE => rec.bins.clear(),
        op::CDT_MODIFY => {
            let mut bin = rec.bin(&o.name).cloned().unwrap_or_default();
            let result = cdt_modify(&o.data, &mut bin)?;
            rec.set_bin(&o.name, bin);
            out.push(value_op(&o.name, &result));
            return Ok(());
        }
        _ => return Err(ResultCode::PARAMETER_ERROR),
    }
    if respond_all {
        out.push(value_op(&o.name, &Value::Nil));
    }
    Ok(())
}

/// Evaluates a filter expression (field 43) against an existing record.
///
/// Hook for the expression evaluator: wire `exp_eval::filter_matches(packed,
/// rec, digest, now)` in here once it lands; until then every record matches.
fn filter_allows(
    _packed: &[u8],
    _rec: &StoredRecord,
    _digest: &[u8; 20],
    _now: u32,
) -> Result<bool, ResultCode> {
    Ok(true)
}

/// A CDT_MODIFY operation on `bin`; returns the operation's result.
///
/// Hook for the CDT engine: wire `cdt::modify(data, bin)` in here once it
/// lands; until then CDT operations are refused with PARAMETER_ERROR.
fn cdt_modify(_data: &[u8], _bin: &mut Value) -> Result<Value, ResultCode> {
    Err(ResultCode::PARAMETER_ERROR)
}

/// A CDT_READ operation on `bin`.
///
/// Hook for the CDT engine: wire `cdt::read(data, bin)` in here once it
/// lands; until then CDT operations are refused with PARAMETER_ERROR.
fn cdt_read(_data: &[u8], _bin: &Value) -> Result<Value, ResultCode> {
    Err(ResultCode::PARAMETER_ERROR)
}
