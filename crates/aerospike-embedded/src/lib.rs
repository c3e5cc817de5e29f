//! An in-process, Aerospike-compatible cluster for tests and examples.
//!
//! [`EmbeddedCluster`] starts nodes that are real TCP listeners on 127.0.0.1
//! speaking the Aerospike wire protocol as a Community Edition 8.1.2.0 server
//! does: info commands, single-record reads and writes, scans, queries and
//! background jobs. Any Aerospike client can connect to [`EmbeddedCluster::seeds`].
//! Nodes can be added, removed, stopped and restarted, partitions moved, and
//! faults injected into replies ([`NodeHandle::set_fault`]).
//!
//! ```
//! use aerospike_embedded::EmbeddedCluster;
//!
//! let cluster = EmbeddedCluster::start(3)?;
//! println!("seeds: {:?}", cluster.seeds());
//! # Ok::<(), aerospike_proto::Error>(())
//! ```
//!
//! See `docs/embedded-cluster.md` for what it does and does not do.

mod batch;
pub(crate) mod cdt;
mod cluster;
pub(crate) mod ctx;
pub(crate) mod exp_eval;
mod faults;
mod geo;
mod info;
pub(crate) mod jobs;
pub(crate) mod kv;
pub(crate) mod lua;
mod node;
pub(crate) mod query;
pub(crate) mod sindex;
pub(crate) mod store;
mod test_cluster;
pub(crate) mod udf;

pub use cluster::{EmbeddedCluster, EmbeddedClusterBuilder, NodeHandle};
pub use faults::{Fault, FaultScope};
pub use test_cluster::TestCluster;
