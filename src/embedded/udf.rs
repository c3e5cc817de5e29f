//! UDF modules registered with an embedded cluster, their info commands, and
//! running a record UDF.
//!
//! Skeleton: filled in by the Lua work.

use super::ctx::NodeCtx;

/// Every registered module.
#[derive(Debug, Default)]
pub(crate) struct UdfRegistry {}

/// Answers `udf-put`, `udf-list`, `udf-remove`, `udf-get`; `None` for other
/// commands.
pub(crate) fn info(_node: &NodeCtx, _name: &str, _args: &str) -> Option<String> {
    None
}
