//! Sockets: deadlines, connections and the bounded connection pool of a node.

pub(crate) mod connection;
pub(crate) mod deadline;
pub(crate) mod pool;

pub(crate) use connection::Connection;
pub(crate) use deadline::Deadline;
pub(crate) use pool::Pool;
