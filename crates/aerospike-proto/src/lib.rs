//! The Aerospike wire protocol, sans-IO, in both directions.
//!
//! Everything here turns bytes into values and values into bytes: no
//! sockets, threads or clocks. The blocking client
//! ([`aerospike-blocking`](https://docs.rs/aerospike-blocking)) and the
//! embedded test server (`aerospike-embedded`) share this one codec, so both
//! speak exactly the same protocol; a tool that wants to decode a capture, or
//! a proxy that rewrites frames, can use it alone.
//!
//! * [`wire`]: proto frames, message headers, fields and operations,
//!   particles, msgpack, digests, info text, base64, and the frame splitter.
//! * [`Value`], [`Key`] (with its RIPEMD-160 digest), [`Bin`], [`Record`].
//! * [`ResultCode`] (unknown codes are kept as sent) and the one [`Error`]
//!   type of the whole SDK, with [`TimeoutPhase`].
//! * [`exp`]: filter expressions: the typed builder, their msgpack encoding
//!   and decoding, and the AEL text language.
//! * [`operations`]: record operations, list and map (CDT) operations with
//!   their contexts, and expression read/write operations.
//!
//! ```
//! use aerospike_proto::wire::message::{Header, Message};
//! use aerospike_proto::Key;
//!
//! // The digest that routes a key to its partition, as every client computes it.
//! let key = Key::new("test", "users", "ann")?;
//! assert_eq!(key.digest().len(), 20);
//! assert!(key.partition() < 4096);
//!
//! // A message survives an encode / decode round trip byte for byte.
//! let msg = Message { header: Header::default(), fields: Vec::new(), ops: Vec::new() };
//! let frame = msg.encode(); // 8-byte proto header, then the message
//! let (back, used) = Message::decode(&frame[8..])?;
//! assert_eq!((back, used), (msg, frame.len() - 8));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod error;
pub mod exp;
#[doc(hidden)]
pub mod fixtures;
mod key;
pub mod operations;
mod record;
mod seeds;
mod value;
pub mod wire;

pub use error::{Error, Result, ResultCode, TimeoutPhase};
pub use key::Key;
pub use record::{Bin, Bins, Record};
pub use seeds::{hosts_from_env, HOSTS_VAR};
pub use value::Value;
