//! A blocking, synchronous Aerospike client built around server-side
//! background jobs.

pub mod background;
mod client;
pub(crate) mod cluster;
pub(crate) mod command;
mod error;
pub mod exp;
mod key;
pub(crate) mod net;
pub mod operations;
mod policy;
pub mod query;
mod record;
mod seeds;
pub mod task;
mod udf;
mod value;
pub(crate) mod wire;

#[cfg(feature = "embedded")]
pub mod embedded;

pub use client::{Client, IndexType, NodeInfo};
pub use error::{Error, Result, ResultCode, TimeoutPhase};
pub use key::Key;
pub use policy::{
    ClientPolicy, Expiration, GenerationPolicy, ReadPolicy, RecordExistsAction, Replica,
    WritePolicy,
};
pub use record::{Bin, Bins, Record};
pub use seeds::{hosts_from_env, HOSTS_VAR};
pub use udf::{UdfLanguage, UdfModule};
pub use value::Value;
