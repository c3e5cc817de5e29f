//! A blocking, synchronous Aerospike client built around server-side
//! background jobs.

mod error;
pub mod exp;
pub mod operations;
mod value;
pub(crate) mod wire;

#[cfg(feature = "embedded")]
pub mod embedded;

pub use error::{Error, Result, ResultCode, TimeoutPhase};
pub use value::Value;
