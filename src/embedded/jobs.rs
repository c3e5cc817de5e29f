//! Scans, queries and background jobs of an embedded node, and the job table
//! behind `query-show`, `query-abort` and `query-abort-all`.
//!
//! Skeleton: filled in by the jobs work.

use super::ctx::NodeCtx;

/// The jobs a node runs and remembers.
#[derive(Debug, Default)]
pub(crate) struct JobTable {}

/// Answers the job info commands (`query-show`, `query-abort`,
/// `query-abort-all`); `None` when `name` is not one of them.
pub(crate) fn info(_node: &NodeCtx, _name: &str, _args: &str) -> Option<String> {
    None
}
