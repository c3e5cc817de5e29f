//! The handle of a running background job: status, progress, wait, cancel,
//! re-attach and listing.
//!
//! `ExecuteTask` (execute_task.rs) is wired in once the client core lands.

mod status;
mod wait;

pub use status::{JobInfo, JobResult, NodeJobState, NodeProgress, Outcome, ParsedStatus, Progress};
pub use wait::WaitOptions;
