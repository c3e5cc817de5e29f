//! Single-record request encoding and reply decoding, byte for byte as the
//! official client lays them out (see the kv-single fixture).
//!
//! Field order: namespace, set (when not empty), digest, user key (when
//! sent), filter expression. Header: `transaction_ttl` is the total timeout
//! in milliseconds, `record_ttl` the write's expiration.

use std::collections::HashMap;

use crate::exp::Expression;
use crate::operations::Operation;
use crate::policy::{GenerationPolicy, ReadPolicy, RecordExistsAction, WritePolicy};
use crate::wire::message::{
    field, info1, info2, info3, op, Field, Header, Message, MessageWriter, OpRef,
};
use crate::wire::particle;
use crate::Key;
use crate::Value;
use crate::{Bin, Bins, Record};
use crate::{Error, Result};

/// Longest bin name the server accepts, in bytes.
pub(crate) const MAX_BIN_NAME_LEN: usize = 15;

fn millis(d: std::time::Duration) -> u32 {
    u32::try_from(d.as_millis()).unwrap_or(u32::MAX)
}

/// The key's fields in the server's order, each handed to `emit` as
/// (type, data).
fn key_fields(
    key: &Key,
    send_key: bool,
    filter: Option<&Expression>,
    emit: &mut dyn FnMut(u8, &[u8]),
) {
    emit(field::NAMESPACE, key.namespace().as_bytes());
    if !key.set().is_empty() {
        emit(field::SET, key.set().as_bytes());
    }
    emit(field::DIGEST, key.digest());
    if send_key {
        if let Some(k) = key.user_key() {
            let mut data = vec![0];
            data[0] = particle::encode(k, &mut data);
            emit(field::KEY, &data);
        }
    }
    if let Some(e) = filter {
        emit(field::FILTER_EXP, &e.pack());
    }
}

fn fields(key: &Key, send_key: bool, filter: Option<&Expression>) -> Vec<Field> {
    let mut f = Vec::with_capacity(5);
    key_fields(key, send_key, filter, &mut |kind, data| {
        f.push(Field::new(kind, data));
    });
    f
}

/// Starts a request frame in `buf` with the key's fields.
fn start_frame<'b>(
    buf: &'b mut Vec<u8>,
    header: &Header,
    key: &Key,
    send_key: bool,
    filter: Option<&Expression>,
) -> MessageWriter<'b> {
    let mut w = MessageWriter::frame(buf, header);
    key_fields(key, send_key, filter, &mut |kind, data| w.field(kind, data));
    w
}

pub(crate) fn check_bin(name: &str) -> Result<()> {
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

fn write_header(p: &WritePolicy, info1: u8, extra_info2: u8) -> Result<Header> {
    let mut h = Header {
        info1,
        info2: info2::WRITE | extra_info2,
        record_ttl: p.expiration.checked_ttl()?,
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
    Ok(h)
}

/// `get`: all bins, some bins, or the header only, as a frame in `buf`.
pub(crate) fn read(p: &ReadPolicy, key: &Key, bins: &Bins, buf: &mut Vec<u8>) -> Result<()> {
    let info1 = match bins {
        Bins::All => info1::READ | info1::GET_ALL,
        Bins::None => info1::READ | info1::NOBINDATA,
        Bins::Only(names) => {
            for n in names {
                check_bin(n)?;
            }
            info1::READ
        }
    };
    let filter = p.filter_expression.as_ref();
    let mut w = start_frame(buf, &read_header(p, info1), key, p.send_key, filter);
    if let Bins::Only(names) = bins {
        for n in names {
            w.op(op::READ, 0, n, &[]);
        }
    }
    w.finish();
    Ok(())
}

/// `put`, `append`, `prepend` and `add`: one operation of `kind` per bin, as
/// a frame in `buf`.
pub(crate) fn write(
    p: &WritePolicy,
    key: &Key,
    kind: u8,
    bins: &[Bin],
    buf: &mut Vec<u8>,
) -> Result<()> {
    if bins.is_empty() {
        return Err(Error::invalid("no bin to write"));
    }
    for b in bins {
        check_bin(&b.name)?;
    }
    let header = write_header(p, 0, 0)?;
    let filter = p.filter_expression.as_ref();
    let mut w = start_frame(buf, &header, key, p.send_key, filter);
    for b in bins {
        w.op_with(kind, &b.name, |data| particle::encode(&b.value, data));
    }
    w.finish();
    Ok(())
}

/// `delete`.
pub(crate) fn delete(p: &WritePolicy, key: &Key) -> Result<Message> {
    Ok(Message {
        header: write_header(p, 0, info2::DELETE)?,
        fields: fields(key, p.send_key, p.filter_expression.as_ref()),
        ops: Vec::new(),
    })
}

/// `touch`.
pub(crate) fn touch(p: &WritePolicy, key: &Key) -> Result<Message> {
    Ok(Message {
        header: write_header(p, 0, 0)?,
        fields: fields(key, p.send_key, p.filter_expression.as_ref()),
        ops: vec![crate::operations::touch().to_wire()],
    })
}

/// `operate`: reads set info1 READ (GET_ALL for a whole-record read,
/// NOBINDATA when only header reads read), writes set the write header;
/// read-only lists send a read header. RESPOND_ALL_OPS when the policy asks
/// or a map operation is present (aerospike-client-java `OperateArgs`).
pub(crate) fn operate(p: &WritePolicy, key: &Key, ops: &[Operation]) -> Result<(Message, bool)> {
    if ops.is_empty() {
        return Err(Error::invalid("operate needs at least one operation"));
    }
    // Map operations always ask for every result, and the policy's
    // respond_all_ops applies to reads too (aerospike-client-java OperateArgs).
    let respond_all = p.respond_all_ops || ops.iter().any(|o| o.respond_all_ops);
    let mut i1 = 0;
    let mut writes = false;
    let mut reads_bins = false;
    for o in ops {
        check_bin(o.bin())?;
        if o.is_read() {
            i1 |= info1::READ;
            reads_bins |= !o.header_only;
            if o.kind == op::READ && o.bin().is_empty() && !o.header_only {
                i1 |= info1::GET_ALL;
            }
        } else {
            writes = true;
        }
    }
    if i1 & info1::READ != 0 && !reads_bins {
        // Only header reads: metadata, no bin data.
        i1 |= info1::NOBINDATA;
    }
    let header = if writes {
        let mut h = write_header(p, i1, 0)?;
        if respond_all {
            h.info2 |= info2::RESPOND_ALL_OPS;
        }
        h
    } else {
        Header {
            info1: i1,
            info2: if respond_all {
                info2::RESPOND_ALL_OPS
            } else {
                0
            },
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

/// A record UDF call: the write header, the key's fields, then package,
/// function and argument list (aerospike-client-java `Command.setUdf`).
pub(crate) fn apply(
    p: &WritePolicy,
    key: &Key,
    package: &str,
    function: &str,
    args: &[Value],
) -> Result<Message> {
    if package.is_empty() || function.is_empty() {
        return Err(Error::invalid(
            "a UDF call needs a module and a function name",
        ));
    }
    let mut fields = fields(key, p.send_key, p.filter_expression.as_ref());
    fields.push(Field::new(field::UDF_PACKAGE_NAME, package));
    fields.push(Field::new(field::UDF_FUNCTION, function));
    fields.push(Field::new(field::UDF_ARGLIST, udf_arglist(args)));
    Ok(Message {
        header: write_header(p, 0, 0)?,
        fields,
        ops: Vec::new(),
    })
}

/// UDF arguments as the msgpack array the server unpacks.
pub(crate) fn udf_arglist(args: &[Value]) -> Vec<u8> {
    let mut out = Vec::new();
    crate::wire::msgpack::pack_array_len(&mut out, args.len());
    for a in args {
        crate::wire::msgpack::pack_value(&mut out, a);
    }
    out
}

/// What a record UDF returned (its reply's `SUCCESS` bin; `None` for nil),
/// or its error (the `FAILURE` bin of a `UDF_BAD_RESPONSE` reply), from the
/// reply's header and operations read in place.
pub(crate) fn udf_result<'a>(
    header: &Header,
    ops: impl ExactSizeIterator<Item = OpRef<'a>>,
    key: &Key,
) -> Result<Option<Value>> {
    let mut record = record_of(header, ops, key, false)?;
    if header.result_code == 100 {
        let message = match record.bins.remove("FAILURE") {
            Some(Value::String(s)) => s,
            other => format!("{other:?}"),
        };
        return Err(Error::Udf { message });
    }
    Ok(record.bins.remove("SUCCESS").filter(|v| *v != Value::Nil))
}

/// The record in a reply, from its header and operations read in place: one
/// allocation per bin name and value, none for the message itself. With
/// `merge`, a bin returned several times holds a list of its results in
/// order; otherwise the last one wins.
pub(crate) fn record_of<'a>(
    header: &Header,
    ops: impl ExactSizeIterator<Item = OpRef<'a>>,
    key: &Key,
    merge: bool,
) -> Result<Record> {
    let mut bins: HashMap<String, Value> = HashMap::with_capacity(ops.len());
    let mut repeated: HashMap<String, usize> = HashMap::new();
    for o in ops {
        let v = particle::decode(o.particle, o.data).map_err(|e| Error::Protocol {
            node: format!("reply for {key}"),
            message: format!("bin {:?}: {}", o.name, e.message()),
        })?;
        if merge {
            if let Some(slot) = bins.get_mut(o.name) {
                let n = repeated.entry(o.name.to_owned()).or_insert(1);
                *n += 1;
                *slot = match std::mem::take(slot) {
                    Value::List(mut l) if *n > 2 => {
                        l.push(v);
                        Value::List(l)
                    }
                    prev => Value::List(vec![prev, v]),
                };
                continue;
            }
        }
        bins.insert(o.name.to_owned(), v);
    }
    Ok(Record {
        key: Some(key.clone()),
        bins,
        generation: header.generation,
        expiration: header.record_ttl,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations;
    use crate::policy::Expiration;
    use crate::wire::message::Op;
    use aerospike_proto::fixtures;

    /// The record in a decoded reply.
    fn record(msg: &Message, key: &Key, merge: bool) -> Result<Record> {
        record_of(&msg.header, msg.ops.iter().map(Op::as_view), key, merge)
    }

    /// The frame [`super::read`] writes, decoded (the tests compare messages).
    fn read(p: &ReadPolicy, key: &Key, bins: &Bins) -> Result<Message> {
        let mut buf = Vec::new();
        super::read(p, key, bins, &mut buf)?;
        Ok(Message::decode(&buf[8..]).expect("a whole message").0)
    }

    /// The frame [`super::write`] writes, decoded.
    fn write(p: &WritePolicy, key: &Key, kind: u8, bins: &[Bin]) -> Result<Message> {
        let mut buf = Vec::new();
        super::write(p, key, kind, bins, &mut buf)?;
        Ok(Message::decode(&buf[8..]).expect("a whole message").0)
    }

    fn k(user: impl Into<Value>) -> Key {
        Key::new("test", "kv", user).unwrap()
    }

    fn v_map(pairs: Vec<(&str, Value)>) -> Value {
        Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (Value::from(k), v))
                .collect(),
        )
    }

    /// The per-thread request buffer is reused: a frame written over a
    /// longer earlier one is byte for byte a fresh frame.
    #[test]
    fn frames_written_into_a_used_buffer_are_exact() {
        let key = k("k1");
        let bins = [Bin::new("s", "x".repeat(300)), Bin::new("i", 7)];
        let mut fresh = Vec::new();
        super::read(&ReadPolicy::default(), &key, &Bins::All, &mut fresh).unwrap();
        let mut used = Vec::new();
        super::write(&WritePolicy::default(), &key, op::WRITE, &bins, &mut used).unwrap();
        let capacity = used.capacity();
        super::read(&ReadPolicy::default(), &key, &Bins::All, &mut used).unwrap();
        assert_eq!(used, fresh);
        assert_eq!(used.capacity(), capacity, "the allocation was kept");
        // A refused request writes nothing worth sending and says why.
        let long = [Bin::new("a_bin_name_too_long", 1)];
        assert!(super::write(&WritePolicy::default(), &key, op::WRITE, &long, &mut used).is_err());
    }

    /// Rebuilds every request of kv-single.txt, in order, from the inputs in
    /// its comments, and compares the bytes.
    #[test]
    #[allow(clippy::approx_constant)] // 3.14 is the value the fixture wrote
    fn kv_single_requests_are_byte_exact() {
        let rp = ReadPolicy::default();
        let wp = WritePolicy::default();
        let send = WritePolicy {
            send_key: true,
            ..WritePolicy::default()
        };
        let rsend = ReadPolicy {
            send_key: true,
            ..ReadPolicy::default()
        };
        let k1 = k("k1");
        let k2 = k("k2");
        let bytes_key = k(Value::Blob(vec![1, 2, b'k', b'b']));
        let all_types = vec![
            Bin::new("i", 1),
            Bin::new("neg", -42),
            Bin::new("big", i64::MAX),
            Bin::new("f", 3.14),
            Bin::new("s", "hello"),
            Bin::new("u", "héllo 世界"),
            Bin::new("e", ""),
            Bin::new("b", Value::Blob(vec![0, 1, 2, 0xff])),
            Bin::new("t", true),
            Bin::new("fl", false),
            Bin::new(
                "l",
                Value::List(vec![1.into(), "a".into(), 2.5.into(), Value::Nil]),
            ),
            Bin::new("m", v_map(vec![("x", 1.into()), ("y", "z".into())])),
            Bin::new(
                "n",
                v_map(vec![
                    (
                        "l",
                        Value::List(vec![1.into(), Value::List(vec![2.into(), 3.into()])]),
                    ),
                    (
                        "m",
                        v_map(vec![(
                            "k",
                            Value::List(vec![4.into(), v_map(vec![("z", Value::Blob(vec![5]))])]),
                        )]),
                    ),
                ]),
            ),
            Bin::new(
                "g",
                Value::GeoJson(r#"{"type": "Point", "coordinates": [-122.5, 37.5]}"#.into()),
            ),
        ];
        let ttl3600 = WritePolicy {
            expiration: Expiration::Seconds(3600),
            ..WritePolicy::default()
        };
        let ttl600 = WritePolicy {
            expiration: Expiration::Seconds(600),
            ..WritePolicy::default()
        };
        let gen99 = WritePolicy {
            generation: GenerationPolicy::ExpectEqual(99),
            ..WritePolicy::default()
        };
        let create = WritePolicy {
            record_exists_action: RecordExistsAction::CreateOnly,
            ..WritePolicy::default()
        };
        let a = |v: i64| vec![Bin::new("a", v)];
        let expected: Vec<Message> = vec![
            write(&wp, &k1, op::WRITE, &all_types).unwrap(),
            read(&rp, &k1, &Bins::All).unwrap(),
            write(&ttl3600, &k(42), op::WRITE, &a(1)).unwrap(),
            read(&rp, &k(42), &Bins::All).unwrap(),
            write(&send, &k2, op::WRITE, &a(2)).unwrap(),
            write(&send, &k(7), op::WRITE, &a(7)).unwrap(),
            write(&send, &bytes_key, op::WRITE, &a(3)).unwrap(),
            read(&rsend, &bytes_key, &Bins::All).unwrap(),
            read(&rsend, &k2, &Bins::All).unwrap(),
            read(&rp, &k1, &Bins::only(&["i", "s"])).unwrap(),
            read(&rp, &k1, &Bins::None).unwrap(),
            read(&rp, &k("nope"), &Bins::None).unwrap(),
            touch(&ttl600, &k1).unwrap(),
            operate(
                &wp,
                &k1,
                &[operations::add("i", 5), operations::get_bin("i")],
            )
            .unwrap()
            .0,
            write(&wp, &k1, op::APPEND, &[Bin::new("s", "!")]).unwrap(),
            write(&wp, &k1, op::PREPEND, &[Bin::new("s", ">")]).unwrap(),
            operate(
                &wp,
                &k1,
                &[
                    operations::append("s", "?"),
                    operations::prepend("s", "<"),
                    operations::get_bin("s"),
                ],
            )
            .unwrap()
            .0,
            write(&wp, &k1, op::WRITE, &[Bin::new("b", Value::Nil)]).unwrap(),
            read(&rp, &k1, &Bins::only(&["b", "i", "s"])).unwrap(),
            write(&gen99, &k1, op::WRITE, &a(9)).unwrap(),
            delete(&wp, &k1).unwrap(),
            read(&rp, &k1, &Bins::All).unwrap(),
            delete(&wp, &k1).unwrap(),
            write(&create, &k1, op::WRITE, &a(1)).unwrap(),
            write(&create, &k1, op::WRITE, &a(1)).unwrap(),
            delete(&wp, &k1).unwrap(),
            delete(&wp, &k2).unwrap(),
            delete(&wp, &k(42)).unwrap(),
            delete(&wp, &k(7)).unwrap(),
            delete(&wp, &bytes_key).unwrap(),
        ];
        let captured: Vec<(Vec<u8>, Message)> = fixtures::steps("kv-single.txt")
            .iter()
            .flat_map(|s| s.requests())
            .collect();
        assert_eq!(captured.len(), expected.len());
        for (i, ((frame, decoded), mine)) in captured.iter().zip(&expected).enumerate() {
            assert_eq!(
                &mine.encode(),
                frame,
                "request {i}: ours {mine:?}\ncaptured {decoded:?}"
            );
        }
    }

    #[test]
    fn kv_single_replies_decode() {
        let steps = fixtures::steps("kv-single.txt");
        let reply = |title: &str| {
            let s = steps
                .iter()
                .find(|s| s.title.starts_with(title))
                .expect(title);
            Message::decode(&s.replies()[0][8..]).unwrap().0
        };
        let r = record(&reply("get key 'k1' (all bins)"), &k("k1"), false).unwrap();
        assert_eq!(r.generation, 1);
        assert_eq!(r.expiration, 0);
        assert_eq!(r.bins.len(), 14);
        assert_eq!(r.bin("u"), Some(&Value::from("héllo 世界")));
        assert_eq!(r.bin("fl"), Some(&Value::Bool(false)));
        assert_eq!(
            r.bin("g"),
            Some(&Value::GeoJson(
                r#"{"type": "Point", "coordinates": [-122.5, 37.5]}"#.into()
            ))
        );
        let r = record(&reply("get key 42"), &k(42), false).unwrap();
        assert_eq!((r.generation, r.expiration), (1, 533_023_783));
        let m = reply("operate key 'k1' [append s '?'");
        assert_eq!(
            record(&m, &k("k1"), true).unwrap().bin("s"),
            Some(&Value::from("<>hello!?"))
        );
        let m = reply("put key 'k1' bins a=9 with policy gen=POLICY_GEN_EQ");
        assert_eq!(m.header.result_code, 3);
        let m = reply("exists key 'nope'");
        assert_eq!(m.header.result_code, 2);
    }

    #[test]
    fn repeated_bins_merge_into_a_list() {
        let op = |v: i64| Op {
            kind: op::READ,
            particle: 1,
            name: "i".into(),
            data: v.to_be_bytes().to_vec(),
        };
        let m = Message {
            ops: vec![op(1), op(2), op(3)],
            ..Message::default()
        };
        let r = record(&m, &k(1), true).unwrap();
        assert_eq!(
            r.bin("i"),
            Some(&Value::List(vec![1.into(), 2.into(), 3.into()]))
        );
        assert_eq!(
            record(&m, &k(1), false).unwrap().bin("i"),
            Some(&Value::from(3))
        );
        let bad = Message {
            ops: vec![Op {
                kind: op::READ,
                particle: 1,
                name: "i".into(),
                data: vec![1, 2, 3, 4, 5, 6, 7, 8, 9],
            }],
            ..Message::default()
        };
        assert!(matches!(
            record(&bad, &k(1), false),
            Err(Error::Protocol { .. })
        ));
    }

    #[test]
    fn header_bits_for_every_policy() {
        let key = k(1);
        let with = |p: WritePolicy| {
            write(&p, &key, op::WRITE, &[Bin::new("a", 1)])
                .unwrap()
                .header
        };
        let h = with(WritePolicy {
            record_exists_action: RecordExistsAction::UpdateOnly,
            ..WritePolicy::default()
        });
        assert_eq!((h.info2, h.info3), (info2::WRITE, info3::UPDATE_ONLY));
        let h = with(WritePolicy {
            record_exists_action: RecordExistsAction::Replace,
            ..WritePolicy::default()
        });
        assert_eq!(h.info3, info3::CREATE_OR_REPLACE);
        let h = with(WritePolicy {
            record_exists_action: RecordExistsAction::ReplaceOnly,
            ..WritePolicy::default()
        });
        assert_eq!(h.info3, info3::REPLACE_ONLY);
        let h = with(WritePolicy {
            generation: GenerationPolicy::ExpectGreater(4),
            durable_delete: true,
            expiration: Expiration::NeverExpire,
            total_timeout: std::time::Duration::from_millis(250),
            ..WritePolicy::default()
        });
        assert_eq!(
            h.info2,
            info2::WRITE | info2::GENERATION_GT | info2::DURABLE_DELETE
        );
        assert_eq!(
            (h.generation, h.record_ttl, h.transaction_ttl),
            (4, u32::MAX, 250)
        );
        let h = with(WritePolicy {
            expiration: Expiration::DontUpdate,
            ..WritePolicy::default()
        });
        assert_eq!(h.record_ttl, 0xFFFF_FFFE);
        let p = WritePolicy {
            respond_all_ops: true,
            ..WritePolicy::default()
        };
        let (m, writes) = operate(&p, &key, &[operations::put("a", 1), operations::get()]).unwrap();
        assert!(writes);
        assert_eq!(m.header.info1, info1::READ | info1::GET_ALL);
        assert_eq!(m.header.info2, info2::WRITE | info2::RESPOND_ALL_OPS);
        // The policy's RESPOND_ALL_OPS goes on reads too (OperateArgs).
        let (m, writes) = operate(&p, &key, &[operations::get_bin("a")]).unwrap();
        assert!(!writes);
        let read_all_ops = (info1::READ, info2::RESPOND_ALL_OPS);
        assert_eq!((m.header.info1, m.header.info2), read_all_ops);
        let d = WritePolicy::default();
        let (m, _) = operate(&d, &key, &[operations::get_bin("a")]).unwrap();
        assert_eq!((m.header.info1, m.header.info2), (info1::READ, 0));
        // Map operations always ask for every result; list operations do not.
        let size = operations::map::size("m");
        let (m, _) = operate(&d, &key, &[size]).unwrap();
        assert_eq!((m.header.info1, m.header.info2), read_all_ops);
        let (m, _) = operate(&d, &key, &[operations::map::clear("m")]).unwrap();
        assert_eq!(m.header.info2, info2::WRITE | info2::RESPOND_ALL_OPS);
        let (m, _) = operate(&d, &key, &[operations::list::clear("l")]).unwrap();
        assert_eq!(m.header.info2, info2::WRITE);
        // A header read asks for no bin data unless another op reads bins.
        let (m, _) = operate(&p, &key, &[operations::get_header()]).unwrap();
        assert_eq!(m.header.info1, info1::READ | info1::NOBINDATA);
        assert_eq!(m.ops, vec![operations::get().to_wire()]);
        let (m, _) = operate(&p, &key, &[operations::touch(), operations::get_header()]).unwrap();
        assert_eq!(m.header.info1, info1::READ | info1::NOBINDATA);
        let ops = [operations::get_header(), operations::get_bin("a")];
        let (m, _) = operate(&p, &key, &ops).unwrap();
        assert_eq!(m.header.info1, info1::READ);
        let d = delete(
            &WritePolicy {
                durable_delete: true,
                ..WritePolicy::default()
            },
            &key,
        )
        .unwrap();
        assert_eq!(
            d.header.info2,
            info2::WRITE | info2::DELETE | info2::DURABLE_DELETE
        );
    }

    #[test]
    fn filter_expression_is_the_last_field() {
        let e = crate::exp::gt(crate::exp::int_bin("a"), crate::exp::int_val(1));
        let p = ReadPolicy {
            send_key: true,
            filter_expression: Some(e.clone()),
            ..ReadPolicy::default()
        };
        let m = read(&p, &k("x"), &Bins::All).unwrap();
        let kinds: Vec<u8> = m.fields.iter().map(|f| f.kind).collect();
        assert_eq!(
            kinds,
            vec![
                field::NAMESPACE,
                field::SET,
                field::DIGEST,
                field::KEY,
                field::FILTER_EXP
            ]
        );
        assert_eq!(m.fields[4].data, e.pack());
    }

    #[test]
    fn empty_set_sends_no_set_field() {
        let key = Key::new("test", "", 1).unwrap();
        let m = read(&ReadPolicy::default(), &key, &Bins::All).unwrap();
        let kinds: Vec<u8> = m.fields.iter().map(|f| f.kind).collect();
        assert_eq!(kinds, vec![field::NAMESPACE, field::DIGEST]);
    }

    #[test]
    fn a_ttl_over_ten_years_is_refused_before_sending() {
        let key = Key::new("test", "t", 1).unwrap();
        let at = |secs| WritePolicy {
            expiration: Expiration::Seconds(secs),
            ..WritePolicy::default()
        };
        let limit = Expiration::MAX_SECONDS;
        assert_eq!(touch(&at(limit), &key).unwrap().header.record_ttl, limit);
        for p in [at(limit + 1), at(u32::MAX - 2)] {
            let bins = [Bin::new("a", 1)];
            let errors = [
                write(&p, &key, op::WRITE, &bins).unwrap_err(),
                delete(&p, &key).unwrap_err(),
                touch(&p, &key).unwrap_err(),
                operate(&p, &key, &[operations::add("a", 1)]).unwrap_err(),
            ];
            for e in errors {
                assert!(
                    matches!(&e, Error::InvalidArgument(m) if m.contains("10 years")),
                    "{e}"
                );
            }
        }
        // The special values stay valid.
        for e in [Expiration::NeverExpire, Expiration::DontUpdate] {
            let p = WritePolicy {
                expiration: e,
                ..WritePolicy::default()
            };
            assert!(touch(&p, &key).is_ok());
        }
    }
}
