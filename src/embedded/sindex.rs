//! Secondary indexes of an embedded cluster and their info commands.
//!
//! Skeleton: filled in by the jobs work.

use super::ctx::NodeCtx;

/// Every secondary index of the cluster.
#[derive(Debug, Default)]
pub(crate) struct SindexRegistry {}

/// Answers `sindex-create`, `sindex-delete`, `sindex-list`, `sindex-exists`;
/// `None` for other commands.
pub(crate) fn info(_node: &NodeCtx, _name: &str, _args: &str) -> Option<String> {
    None
}
