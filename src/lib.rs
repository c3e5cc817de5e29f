//! A blocking, synchronous Aerospike client built around server-side
//! background jobs.

pub mod background;
mod error;
pub mod exp;
pub mod operations;
pub mod query;
pub mod task;
mod value;
pub(crate) mod wire;

#[cfg(feature = "embedded")]
pub mod embedded;

pub use error::{Error, Result, ResultCode, TimeoutPhase};
pub use value::Value;
