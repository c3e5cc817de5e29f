//! Batch-index requests (field 41), answered as a server does
//! (`as/src/base/batch.c`): every key runs as its own single-record
//! transaction, and each answer is one message whose transaction-ttl slot
//! carries the key's index in the request; a LAST message ends the reply.
//!
//! Field 41: `count (4) | flags (1)`, then per key `index (4) | digest (20) |
//! repeat (1)`. A repeat byte with bit 0 set reuses the previous key's
//! namespace, fields and operations; otherwise `info1 (1)` follows, then
//! `info2, info3` (bit 1), `info4` (bit 4), `generation (2)` (bit 2),
//! `record ttl (4)` (bit 3), `n_fields (2) | n_ops (2)`, the fields (the
//! namespace first) and the operations.

use std::io::{self, Write};

use aerospike_proto::wire::message::{field, info2, info3, op, Field, Header, Message};
use aerospike_proto::wire::proto;
use aerospike_proto::ResultCode;

use super::ctx::NodeCtx;
use super::kv;
use super::node::error_message;
use super::store::now_citrusleaf;

const REPEAT: u8 = 0x01;
const HAS_EXTRA_INFO: u8 = 0x02;
const HAS_GENERATION: u8 = 0x04;
const HAS_RECORD_TTL: u8 = 0x08;
const HAS_INFO4: u8 = 0x10;
/// Parent flag: every key's error is reported, and the batch still ends OK.
const REPORT_ALL_ERRORS: u8 = 0x04;

/// One key of a batch: its index in the request and its message.
struct Row {
    index: u32,
    msg: Message,
}

/// Reads a big-endian integer of `N` bytes at `*at`.
fn take<const N: usize>(data: &[u8], at: &mut usize) -> Option<[u8; N]> {
    let bytes = data.get(*at..*at + N)?.try_into().ok()?;
    *at += N;
    Some(bytes)
}

/// Splits field 41 into rows; `None` when it is malformed (a parameter
/// error for the whole batch).
fn parse(data: &[u8], parent: &Header) -> Option<(u8, Vec<Row>)> {
    let mut at = 0;
    let count = u32::from_be_bytes(take(data, &mut at)?);
    // An empty batch is a parameter error (`as_batch_queue_task`).
    if count == 0 {
        return None;
    }
    let [flags] = take(data, &mut at)?;
    let mut rows: Vec<Row> = Vec::new();
    let mut template: Option<Message> = None;
    for _ in 0..count {
        let index = u32::from_be_bytes(take(data, &mut at)?);
        let digest: [u8; 20] = take(data, &mut at)?;
        let [repeat] = take(data, &mut at)?;
        let mut msg = if repeat & REPEAT != 0 {
            template.clone()?
        } else {
            let [info1] = take(data, &mut at)?;
            let mut header = Header {
                info1,
                transaction_ttl: parent.transaction_ttl,
                ..Header::default()
            };
            if repeat & HAS_EXTRA_INFO != 0 {
                let [info2, info3] = take(data, &mut at)?;
                header.info2 = info2;
                header.info3 = info3;
            }
            if repeat & HAS_INFO4 != 0 {
                let [info4] = take(data, &mut at)?;
                header.info4 = info4;
            }
            if repeat & HAS_GENERATION != 0 {
                header.generation = u32::from(u16::from_be_bytes(take(data, &mut at)?));
            }
            if repeat & HAS_RECORD_TTL != 0 {
                header.record_ttl = u32::from_be_bytes(take(data, &mut at)?);
            }
            let n_fields = u16::from_be_bytes(take(data, &mut at)?);
            let n_ops = u16::from_be_bytes(take(data, &mut at)?);
            // The fields and operations have the layout of a message's: let
            // the message decoder read them behind a header that counts them.
            let mut body = Vec::with_capacity(22 + data.len() - at);
            Message {
                header: Header {
                    transaction_ttl: 0,
                    ..header
                },
                fields: Vec::new(),
                ops: Vec::new(),
            }
            .encode_body(&mut body);
            body[18..20].copy_from_slice(&n_fields.max(1).to_be_bytes());
            body[20..22].copy_from_slice(&n_ops.to_be_bytes());
            body.extend_from_slice(&data[at..]);
            let (mut msg, used) = Message::decode(&body).ok()?;
            at += used - 22;
            msg.header = header;
            if msg.fields.first().map(|f| f.kind) != Some(field::NAMESPACE) {
                return None;
            }
            msg
        };
        template = Some(msg.clone());
        msg.fields.retain(|f| f.kind != field::DIGEST);
        msg.fields.push(Field::new(field::DIGEST, digest.to_vec()));
        rows.push(Row { index, msg });
    }
    Some((flags, rows))
}

/// Answers a batch request message into `out`.
pub(crate) fn handle(node: &NodeCtx, msg: &Message, out: &mut dyn Write) -> io::Result<()> {
    let Some((flags, rows)) = msg
        .field(field::BATCH_INDEX)
        .and_then(|f| parse(&f.data, &msg.header))
    else {
        return out.write_all(&last(ResultCode::PARAMETER_ERROR));
    };
    // A filter expression on the batch applies to every key without its own.
    let filter = msg.field(field::FILTER_EXP).cloned();
    let now = now_citrusleaf();
    let mut body = Vec::new();
    let mut batch_rc = ResultCode::OK;
    for mut row in rows {
        if let Some(f) = &filter {
            if row.msg.field(field::FILTER_EXP).is_none() {
                row.msg.fields.push(f.clone());
            }
        }
        let writes = row.msg.header.info2 & info2::WRITE != 0;
        let mut reply = kv::handle(node, &row.msg, now);
        // Reads answer with READ operations (`as_batch_add_result`); writes
        // with their own reply, operations echoed (`as_batch_add_made_result`).
        if !writes {
            for o in &mut reply.ops {
                o.kind = op::READ;
            }
        }
        reply.header.transaction_ttl = row.index;
        let rc = ResultCode(reply.header.result_code);
        let expected = matches!(
            rc,
            ResultCode::OK | ResultCode::KEY_NOT_FOUND | ResultCode::FILTERED_OUT
        );
        if flags & REPORT_ALL_ERRORS == 0 && !expected {
            batch_rc = rc;
        }
        reply.encode_body(&mut body);
    }
    out.write_all(&proto::frame(proto::TYPE_MESSAGE, &body))?;
    out.write_all(&last(batch_rc))
}

/// The message that ends a batch reply.
fn last(rc: ResultCode) -> Vec<u8> {
    let mut reply = error_message(rc);
    reply[proto::HEADER_SIZE + 3] = info3::LAST;
    reply
}
