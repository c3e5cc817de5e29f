//! The handle of a running background job: status, progress, wait, cancel,
//! re-attach and listing.

mod status;
mod wait;

pub use status::{JobInfo, JobResult, NodeJobState, NodeProgress, Outcome, ParsedStatus, Progress};
pub use wait::WaitOptions;
