//! An in-process, Aerospike-compatible cluster for tests and examples.

pub(crate) mod ctx;
pub(crate) mod exp_eval;
pub(crate) mod jobs;
pub(crate) mod query;
pub(crate) mod sindex;
pub(crate) mod store;
pub(crate) mod udf;
