//! A blocking, synchronous client for the [Aerospike](https://aerospike.com)
//! database, built for batch programs with no async runtime: it runs
//! server-side **background jobs** (update, delete, touch or a Lua UDF over a
//! whole set or namespace) and watches, waits for and cancels them, with plain
//! threads and `std::net`.
//!
//! # Quick start
//!
//! ```no_run
//! use aerospike_blocking::background::DataSet;
//! use aerospike_blocking::task::WaitOptions;
//! use aerospike_blocking::{Bin, Bins, Client, ClientPolicy, Key, ReadPolicy, WritePolicy};
//!
//! // Seeds as `host:port`; the client finds the other nodes itself.
//! let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
//!
//! // Key-value: each command goes to the node that owns the key's partition.
//! let key = Key::new("test", "users", "ann")?;
//! client.put(&WritePolicy::default(), &key, &[Bin::new("age", 31), Bin::new("active", true)])?;
//! let record = client.get(&ReadPolicy::default(), &key, Bins::All)?.expect("just written");
//! assert_eq!(record.bin("age").and_then(|v| v.as_int()), Some(31));
//!
//! // A background job over the whole set, then wait for it on every node.
//! let task = client
//!     .session()
//!     .background_task()
//!     .update(&DataSet::of("test", "users"))
//!     .where_ael("$.active == true and $.age >= 30")
//!     .bin("score")
//!     .add(10)
//!     .execute()?;
//! let outcome = task.wait(WaitOptions::default())?;
//! println!("{outcome}: {} records", task.progress()?.succeeded);
//! client.close();
//! # Ok::<(), aerospike_blocking::Error>(())
//! ```
//!
//! # Where things are
//!
//! * [`Client`]: connect, key-value verbs ([`put`](Client::put),
//!   [`get`](Client::get), [`exists`](Client::exists), [`delete`](Client::delete),
//!   [`touch`](Client::touch), [`operate`](Client::operate), ...), raw
//!   [`info`](Client::info), [`truncate`](Client::truncate), secondary indexes
//!   ([`create_index`](Client::create_index), [`drop_index`](Client::drop_index)),
//!   UDF modules, [`nodes`](Client::nodes) and [`close`](Client::close).
//!   `Client` is `Send + Sync + Clone`; clones share one cluster.
//! * Policies: [`ClientPolicy`] (connect/info timeouts, tend interval, pool and
//!   queue sizes), [`ReadPolicy`] and [`WritePolicy`] (total and socket
//!   timeouts, retries, [`Replica`], [`Expiration`], [`GenerationPolicy`],
//!   [`RecordExistsAction`], send key, durable delete).
//! * Data: [`Key`], [`Bin`], [`Bins`], [`Record`], [`Value`].
//! * [`operations`]: operations for [`Client::operate`], with
//!   [`operations::list`] and [`operations::map`] for collection data types.
//! * [`exp`]: typed filter expressions and the AEL where-clause language.
//! * [`batch`]: [`Client::batch_get`], [`Client::batch_exists`],
//!   [`Client::batch_operate`], [`Client::batch_delete`] — one result per key.
//! * [`background`]: [`background::Session`], [`background::DataSet`] and the
//!   background job builders.
//! * [`task`]: [`task::ExecuteTask`], the handle of a running job (status,
//!   wait, progress, cancel, re-attach).
//! * [`query`]: secondary-index [`query::Filter`]s, partition filters and
//!   foreground queries.
//! * The `aerospike-embedded` crate (a dev-dependency): an in-process
//!   Aerospike-compatible cluster for tests and examples, with node control
//!   and fault injection. The wire format lives in `aerospike-proto`, which
//!   both crates share; [`exp`], [`operations`], [`Value`], [`Key`] and
//!   [`Error`] are re-exported from it.
//!
//! # Errors and time
//!
//! Every call returns [`Result`]. Server result codes come back as
//! [`Error::Server`] with a [`ResultCode`] (unknown codes are kept as sent); a
//! call that runs out of time returns [`Error::Timeout`] naming the
//! [`TimeoutPhase`] that ran out (connect, queue, send, receive, total, ...).
//! A write whose outcome is unknown (it was sent, then the connection broke or
//! time ran out) is flagged [`Error::in_doubt`].
//!
//! # Threads
//!
//! One tend thread per client refreshes the nodes and the partition map (every
//! second by default); each node has worker threads fed by a bounded queue for
//! fan-out work. Single-record commands run on the caller's thread.
//! [`Client::close`], or dropping the last clone, stops and joins them all.
//!
//! # Server versions
//!
//! Built and checked against Aerospike CE 8.1. Older servers keep working
//! where the protocol allows: the partition map is read with `replicas`,
//! `replicas-all` or `replicas-master`, whichever the node's `features` offer,
//! and job status uses `query-show:id=` (8.1+), `query-show:trid=` (6.0 to 8.0)
//! or the `jobs:` command (older). See `docs/client.md`.

pub mod background;
pub mod batch;
mod client;
pub(crate) mod cluster;
pub(crate) mod command;
pub(crate) mod net;
mod policy;
pub mod query;
pub mod task;
mod udf;

use aerospike_proto::wire;

pub use aerospike_proto::{exp, list, map, operations};
pub use aerospike_proto::{hosts_from_env, HOSTS_VAR};
pub use aerospike_proto::{Bin, Bins, Key, Record, Value};
pub use aerospike_proto::{Error, Result, ResultCode, TimeoutPhase};
pub use client::{Client, IndexType, NodeInfo};
pub use policy::{
    ClientPolicy, Expiration, GenerationPolicy, ReadPolicy, RecordExistsAction, Replica,
    WritePolicy,
};
pub use udf::{UdfLanguage, UdfModule};

/// The README's Rust example, compiled as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
