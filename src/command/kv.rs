//! Single-record request encoding and reply decoding, byte for byte as the
//! official client lays them out (see the kv-single fixture).
//!
//! Field order: namespace, set (when not empty), digest, user key (when
//! sent), filter expression. Header: `transaction_ttl` is the total timeout
//! in milliseconds, `record_ttl` the write's expiration.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::exp::Expression;
use crate::key::Key;
use crate::operations::Operation;
use crate::policy::{GenerationPolicy, ReadPolicy, RecordExistsAction, WritePolicy};
use crate::record::{Bin, Bins, Record};
use crate::value::Value;
use crate::wire::message::{field, info1, info2, info3, op, Field, Header, Message, Op};
use crate::wire::particle;

/// Longest bin name the server accepts, in bytes.
pub(crate) const MAX_BIN_NAME_LEN: usize = 15;

fn millis(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

fn fields(key: &Key, send_key: bool, filter: Option<&Expression>) -> Vec<Field> {
    let mut f = Vec::with_capacity(5);
    f.push(Field::new(field::NAMESPACE, key.namespace()));
    if !key.set().is_empty() {
        f.push(Field::new(field::SET, key.set()));
    }
    f.push(Field::new(field::DIGEST, key.digest().to_vec()));
    if send_key {
        if let Some(k) = key.user_key() {
            let mut data = vec![0];
            data[0] = particle::encode(k, &mut data);
            f.push(Field::new(field::KEY, data));
        }
    }
    if let Some(e) = filter {
        f.push(Field::new(field::FILTER_EXP, e.pack()));
    }
    f
}

fn check_bin(name: &str) -> Result<()> {
    if name.len() > MAX_BIN_NAME_LEN {
        return Err(Error::invalid(format!(
            "bin name {name:?} is longer than {MAX_BIN_NAME_LEN} bytes"
        )));
    }
    Ok(())
}

fn read_header(p: &ReadPolicy, info1: u8) -> Header {
    Header {
        info1,
        transaction_ttl: millis(p.total_timeout),
        ..Header::default()
    }
}

fn write_header(p: &WritePolicy, info1: u8, extra_info2: u8) -> Header {
    let mut h = Header {
        info1,
        info2: info2::WRITE | extra_info2,
        record_ttl: p.expiration.to_ttl(),
        transaction_ttl: millis(p.total_timeout),
        ..Header::default()
    };
    match p.generation {
        GenerationPolicy::None => {}
        GenerationPolicy::ExpectEqual(g) => {
            h.info2 |= info2::GENERATION;
            h.generation = g;
        }
        GenerationPolicy::ExpectGreater(g) => {
            h.info2 |= info2::GENERATION_GT;
            h.generation = g;
        }
    }
    match p.record_exists_action {
        RecordExistsAction::Update => {}
        RecordExistsAction::UpdateOnly => h.info3 |= info3::UPDATE_ONLY,
        RecordExistsAction::Replace => h.info3 |= info3::CREATE_OR_REPLACE,
        RecordExistsAction::ReplaceOnly => h.info3 |= info3::REPLACE_ONLY,
        RecordExistsAction::CreateOnly => h.info2 |= info2::CREATE_ONLY,
    }
    if p.durable_delete {
        h.info2 |= info2::DURABLE_DELETE;
    }
    h
}

/// `get`: all bins, some bins, or the header only.
pub(crate) fn read(p: &ReadPolicy, key: &Key, bins: &Bins) -> Result<Message> {
    let fields = fields(key, p.send_key, p.filter_expression.as_ref());
    Ok(match bins {
        Bins::All => Message {
            header: read_header(p, info1::READ | info1::GET_ALL),
            fields,
            ops: Vec::new(),
        },
        Bins::None => Message {
            header: read_header(p, info1::READ | info1::NOBINDATA),
            fields,
            ops: Vec::new(),
        },
        Bins::Only(names) => {
            let mut ops = Vec::with_capacity(names.len());
            for n in names {
                check_bin(n)?;
                ops.push(Op {
                    kind: op::READ,
                    particle: 0,
                    name: n.clone(),
                    data: Vec::new(),
                });
            }
            Message {
                header: read_header(p, info1::READ),
                fields,
                ops,
            }
        }
    })
}

/// `put`, `append`, `prepend` and `add`: one operation of `kind` per bin.
pub(crate) fn write(p: &WritePolicy, key: &Key, kind: u8, bins: &[Bin]) -> Result<Message> {
    if bins.is_empty() {
        return Err(Error::invalid("no bin to write"));
    }
    let mut ops = Vec::with_capacity(bins.len());
    for b in bins {
        check_bin(&b.name)?;
        let mut data = Vec::new();
        let particle = particle::encode(&b.value, &mut data);
        ops.push(Op {
            kind,
            particle,
            name: b.name.clone(),
            data,
        });
    }
    Ok(Message {
        header: write_header(p, 0, 0),
        fields: fields(key, p.send_key, p.filter_expression.as_ref()),
        ops,
    })
}

/// `delete`.
pub(crate) fn delete(p: &WritePolicy, key: &Key) -> Message {
    Message {
        header: write_header(p, 0, info2::DELETE),
        fields: fields(key, p.send_key, p.filter_expression.as_ref()),
        ops: Vec::new(),
    }
}

/// `touch`.
pub(crate) fn touch(p: &WritePolicy, key: &Key) -> Message {
    Message {
        header: write_header(p, 0, 0),
        fields: fields(key, p.send_key, p.filter_expression.as_ref()),
        ops: vec![crate::operations::touch().to_wire()],
    }
}

/// `operate`: reads set info1 READ (GET_ALL for a whole-record read), writes
/// set the write header; read-only lists send a read header.
pub(crate) fn operate(p: &WritePolicy, key: &Key, ops: &[Operation]) -> Result<(Message, bool)> {
    if ops.is_empty() {
        return Err(Error::invalid("operate needs at least one operation"));
    }
    let mut i1 = 0;
    let mut writes = false;
    for o in ops {
        check_bin(o.bin())?;
        if o.is_read() {
            i1 |= info1::READ;
            if o.kind == op::READ && o.bin().is_empty() {
                i1 |= info1::GET_ALL;
            }
        } else {
            writes = true;
        }
    }
    let header = if writes {
        let mut h = write_header(p, i1, 0);
        if p.respond_all_ops {
            h.info2 |= info2::RESPOND_ALL_OPS;
        }
        h
    } else {
        Header {
            info1: i1,
            transaction_ttl: millis(p.total_timeout),
            ..Header::default()
        }
    };
    let msg = Message {
        header,
        fields: fields(key, p.send_key, p.filter_expression.as_ref()),
        ops: ops.iter().map(Operation::to_wire).collect(),
    };
    Ok((msg, writes))
}

/// The record in a reply. With `merge`, a bin returned several times holds a
/// list of its results in order; otherwise the last one wins.
pub(crate) fn record(msg: Message, key: &Key, merge: bool) -> Result<Record> {
    let mut bins: HashMap<String, Value> = HashMap::with_capacity(msg.ops.len());
    let mut repeated: HashMap<String, usize> = HashMap::new();
    for o in msg.ops {
        let v = particle::decode(o.particle, &o.data).map_err(|e| Error::Protocol {
            node: format!("reply for {key}"),
            message: format!("bin {:?}: {}", o.name, e.message()),
        })?;
        let prev = bins.insert(o.name.clone(), v);
        if merge {
            if let Some(prev) = prev {
                let n = repeated.entry(o.name.clone()).or_insert(1);
                *n += 1;
                let cur = bins.remove(&o.name).unwrap_or_default();
                let merged = match prev {
                    Value::List(mut l) if *n > 2 => {
                        l.push(cur);
                        Value::List(l)
                    }
                    p => Value::List(vec![p, cur]),
                };
                bins.insert(o.name, merged);
            }
        }
    }
    Ok(Record {
        key: Some(key.clone()),
        bins,
        generation: msg.header.generation,
        expiration: msg.header.record_ttl,
    })
}
