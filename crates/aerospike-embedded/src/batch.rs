//! Batch-index requests (field 41), answered as a server does
//! (`as/src/base/batch.c`): every key runs as its own single-record
//! transaction, and each answer is one message whose transaction-ttl slot
//! carries the key's index in the request; a LAST message ends the reply.
//! The request layout is `aerospike_proto::wire::batch`.

use std::io::{self, Write};

use aerospike_proto::wire::batch::{self, REPORT_ALL_ERRORS};
use aerospike_proto::wire::message::{field, info2, op, Message};
use aerospike_proto::wire::proto;
use aerospike_proto::ResultCode;

use super::ctx::NodeCtx;
use super::kv;
use super::store::now_citrusleaf;

/// Answers a batch request message into `out`.
pub(crate) fn handle(node: &NodeCtx, msg: &Message, out: &mut dyn Write) -> io::Result<()> {
    let Some((flags, entries)) = msg
        .field(field::BATCH_INDEX)
        .and_then(|f| batch::parse(&f.data).ok())
    else {
        return out.write_all(&batch::last(ResultCode::PARAMETER_ERROR.0));
    };
    // A filter expression on the batch applies to every key without its own.
    let filter = msg.field(field::FILTER_EXP).cloned();
    let now = now_citrusleaf();
    let mut body = Vec::new();
    let mut batch_rc = ResultCode::OK;
    for entry in entries {
        let mut sub = entry.message(msg.header.transaction_ttl);
        if let Some(f) = &filter {
            if sub.field(field::FILTER_EXP).is_none() {
                sub.fields.push(f.clone());
            }
        }
        let mut reply = kv::handle(node, &sub, now);
        // Reads answer with READ operations (`as_batch_add_result`); writes
        // with their own reply, operations echoed (`as_batch_add_made_result`).
        if sub.header.info2 & info2::WRITE == 0 {
            for o in &mut reply.ops {
                o.kind = op::READ;
            }
        }
        reply.header.transaction_ttl = entry.index;
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
    out.write_all(&batch::last(batch_rc.0))
}
