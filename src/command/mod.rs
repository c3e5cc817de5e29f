//! Commands: encode a request, pick its node, run it with retries.
//!
//! Single-record commands run on the **caller's thread** with a pooled
//! connection of the partition's owner; nothing hops to another thread.
//! Fan-out commands use `Cluster::fan_out` (node worker threads).

pub(crate) mod kv;

use std::time::Duration;

use crate::cluster::{Cluster, Node};
use crate::net::Deadline;
use crate::policy::{ReadPolicy, Replica, WritePolicy};
use crate::wire::message::MessageView;
use crate::wire::proto;
use crate::Key;
use crate::{Error, Result, ResultCode, TimeoutPhase};

/// The retry and timing part of a policy.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry {
    pub(crate) total_timeout: Duration,
    pub(crate) socket_timeout: Duration,
    pub(crate) max_retries: u32,
    pub(crate) sleep_between_retries: Duration,
    pub(crate) replica: Replica,
}

impl From<&ReadPolicy> for Retry {
    fn from(p: &ReadPolicy) -> Self {
        Retry {
            total_timeout: p.total_timeout,
            socket_timeout: p.socket_timeout,
            max_retries: p.max_retries,
            sleep_between_retries: p.sleep_between_retries,
            replica: p.replica,
        }
    }
}

impl From<&WritePolicy> for Retry {
    fn from(p: &WritePolicy) -> Self {
        Retry {
            total_timeout: p.total_timeout,
            socket_timeout: p.socket_timeout,
            max_retries: p.max_retries,
            sleep_between_retries: p.sleep_between_retries,
            replica: Replica::Master,
        }
    }
}

/// Marks a network error or timeout as "the write may have been applied".
fn in_doubt(e: Error, is_write: bool) -> Error {
    if !is_write {
        return e;
    }
    match e {
        Error::Timeout { phase, elapsed, .. } => Error::Timeout {
            phase,
            elapsed,
            in_doubt: true,
        },
        Error::Io { node, source, .. } => Error::Io {
            node,
            source,
            in_doubt: true,
        },
        other => other,
    }
}

/// Errors worth another attempt (possibly on another node).
fn retryable(e: &Error) -> bool {
    match e {
        Error::Io { .. } | Error::NoNode(_) | Error::Protocol { .. } => true,
        Error::Timeout { phase, .. } => *phase != TimeoutPhase::Total,
        _ => false,
    }
}

/// What one exchange brought back.
enum Reply<T> {
    /// `PARTITION_UNAVAILABLE`, to be retried (not decoded).
    Unavailable,
    /// The reply's result code and what `decode` made of it.
    Decoded(u8, T),
}

/// Sends `frame` to `node` on a pooled connection, reads the one reply
/// message and hands it to `decode` in place (in the connection's buffer).
/// The connection goes back to the pool only after a whole reply.
fn exchange<T>(
    node: &Node,
    frame: &[u8],
    deadline: &Deadline,
    is_write: bool,
    retry_unavailable: bool,
    decode: &mut impl FnMut(&MessageView<'_>) -> T,
) -> Result<Reply<T>> {
    let mut conn = node.pool().checkout(deadline)?;
    node.count_command();
    conn.send(frame, deadline)
        .map_err(|e| in_doubt(e, is_write))?;
    let (h, body) = conn
        .read_frame(deadline)
        .map_err(|e| in_doubt(e, is_write))?;
    let protocol = |message: String| Error::Protocol {
        node: node.name().to_owned(),
        message,
    };
    if h.kind != proto::TYPE_MESSAGE {
        return Err(protocol(format!("reply of proto type {}", h.kind)));
    }
    let (msg, used) = MessageView::parse(body).map_err(|e| protocol(e.message().to_owned()))?;
    if used != body.len() {
        return Err(protocol(format!(
            "{} bytes after the reply message",
            body.len() - used
        )));
    }
    let rc = msg.header.result_code;
    let reply = if retry_unavailable && rc == ResultCode::PARTITION_UNAVAILABLE.0 {
        Reply::Unavailable
    } else {
        Reply::Decoded(rc, decode(&msg))
    };
    conn.release();
    Ok(reply)
}

/// Runs a single-record command: routes `frame` to the owner of `key`'s
/// partition and retries per `retry` (network errors, socket timeouts, no
/// node, partition unavailable) on the map current at each attempt. Hands
/// the reply to `decode` where it was read (no copy), whatever its result
/// code, except a retried `PARTITION_UNAVAILABLE` that persists, which is
/// decoded as is.
pub(crate) fn execute_with<T>(
    cluster: &Cluster,
    key: &Key,
    frame: &[u8],
    retry: Retry,
    is_write: bool,
    mut decode: impl FnMut(&MessageView<'_>) -> T,
) -> Result<T> {
    let deadline = Deadline::after(retry.total_timeout).with_socket_timeout(retry.socket_timeout);
    let pid = key.partition();
    let mut doubt = false;
    let mut attempt = 0u32;
    loop {
        let node = match retry.replica {
            Replica::Master => cluster.master_node(key.namespace(), pid),
            Replica::Sequence => cluster.replica_node(key.namespace(), pid, attempt as usize),
        };
        let last = attempt >= retry.max_retries;
        let outcome =
            node.and_then(|node| exchange(&node, frame, &deadline, is_write, !last, &mut decode));
        match outcome {
            Ok(Reply::Unavailable) => cluster.wake_tend(),
            Ok(Reply::Decoded(rc, decoded)) => {
                if doubt && rc != 0 {
                    return Err(Error::server(ResultCode(rc), true));
                }
                return Ok(decoded);
            }
            Err(e) => {
                doubt |= e.in_doubt();
                if matches!(e, Error::Io { .. } | Error::NoNode(_)) {
                    cluster.wake_tend();
                }
                if last || !retryable(&e) || deadline.expired() {
                    return Err(in_doubt(e, doubt));
                }
            }
        }
        attempt += 1;
        if !retry.sleep_between_retries.is_zero() {
            let pause = match deadline.remaining() {
                Some(r) => r.min(retry.sleep_between_retries),
                None => retry.sleep_between_retries,
            };
            std::thread::sleep(pause);
        }
        if deadline.expired() {
            return Err(deadline.timeout(TimeoutPhase::Total, doubt));
        }
    }
}
