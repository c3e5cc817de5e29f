//! Handling of scan, query and background-job start messages (messages
//! without a digest field).
//!
//! Skeleton: filled in by the jobs work.

use std::io::{self, Write};

use super::ctx::NodeCtx;
use crate::wire::message::Message;

/// Answers one scan/query/background message, writing every reply frame to
/// `out`.
pub(crate) fn handle(_node: &NodeCtx, _msg: &Message, _out: &mut dyn Write) -> io::Result<()> {
    Ok(())
}
