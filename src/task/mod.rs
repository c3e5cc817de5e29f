//! The handle of a running background job: status, progress, wait, cancel,
//! re-attach and listing.

mod execute_task;
mod status;
mod wait;

pub(crate) use execute_task::abort_command;
pub use execute_task::{ExecuteTask, TaskKind};
pub use status::{JobInfo, JobResult, NodeJobState, NodeProgress, Outcome, ParsedStatus, Progress};
pub use wait::WaitOptions;
