//! A blocking, synchronous Aerospike client built around server-side
//! background jobs.

mod error;
mod value;
pub(crate) mod wire;

pub use error::{Error, Result, ResultCode, TimeoutPhase};
pub use value::Value;
