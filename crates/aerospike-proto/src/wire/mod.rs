//! Sans-IO encoding and decoding of the Aerospike wire protocol.
//!
//! Nothing here touches a socket, a thread or a clock: functions take and
//! return bytes. The `net` layer moves those bytes; the embedded cluster and
//! the client share this one codec.
//!
//! ```text
//! proto header (8 bytes)
//! +---------+------+--------------------------------+
//! | version | type | body length (48-bit big-endian) |
//! |  1 (=2) |  1   |              6                 |
//! +---------+------+--------------------------------+
//! type 1 = info (text "name\tvalue\n" lines), 3 = message, 4 = compressed message
//!
//! message header (22 bytes), then fields, then operations
//! +----+-------+-------+-------+-------+----+------------+------------+-----------------+----------+-------+
//! | 22 | info1 | info2 | info3 | info4 | rc | generation | record ttl | transaction ttl | n_fields | n_ops |
//! | 1  |   1   |   1   |   1   |   1   | 1  |     4      |     4      |        4        |    2     |   2   |
//! +----+-------+-------+-------+-------+----+------------+------------+-----------------+----------+-------+
//! field:     size (4, counts type + data) | type (1) | data
//! operation: size (4, counts the rest)    | op (1) | particle type (1) | 0 (1) | name len (1) | name | value
//! ```
//!
//! A scan or query reply frame holds several messages back to back; the last
//! one of a stream has the LAST bit (info3 bit 0).

pub mod base64;
pub mod batch;
pub mod digest;
pub mod info;
pub mod message;
pub mod msgpack;
pub mod particle;
pub mod proto;

pub use digest::digest;

use std::fmt;

/// Bytes that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(String);

impl DecodeError {
    /// An error described by `msg`.
    pub fn new(msg: impl Into<String>) -> Self {
        DecodeError(msg.into())
    }

    /// The description.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
mod prop_tests;
