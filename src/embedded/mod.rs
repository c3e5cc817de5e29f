//! An in-process, Aerospike-compatible cluster for tests and examples.

pub(crate) mod ctx;
pub(crate) mod jobs;
pub(crate) mod lua;
pub(crate) mod query;
pub(crate) mod sindex;
pub(crate) mod store;
pub(crate) mod udf;
