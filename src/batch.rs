//! Batch commands: many keys in one request per node.
//!
//! Keys are grouped by the node that masters their partition; each node's
//! share goes as one batch-index request (`aerospike_proto::wire::batch`, the
//! official clients' layout) through that node's worker thread, all nodes in
//! parallel. Every key gets its own [`BatchRecord`], in the caller's order: a
//! record, not found, filtered out, or failed with its reason (a node that
//! cannot be reached fails its keys, never drops them).
//!
//! ```no_run
//! use aerospike_blocking::batch::{BatchPolicy, BatchResult};
//! use aerospike_blocking::{Bins, Client, ClientPolicy, Key};
//!
//! let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
//! let keys: Vec<Key> = (0..100).map(|i| Key::new("test", "users", i)).collect::<Result<_, _>>()?;
//! for r in client.batch_get(&BatchPolicy::default(), &keys, Bins::All)? {
//!     match r.result {
//!         BatchResult::Found(rec) => println!("{}: {:?}", r.key, rec.bins),
//!         BatchResult::NotFound => println!("{}: missing", r.key),
//!         other => println!("{}: {other:?}", r.key),
//!     }
//! }
//! # Ok::<(), aerospike_blocking::Error>(())
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::command::kv;
use crate::exp::Expression;
use crate::net::Deadline;
use crate::operations::Operation;
use crate::wire::batch::{self, BatchEntry, INLINE_IN_MEMORY, REPORT_ALL_ERRORS, REPORT_ERROR_REC};
use crate::wire::message::{field, info1, info2, info3, op, Field, Header, Message, Op};
use crate::{Bins, Client, Error, Key, Record, Result, ResultCode, Value, WritePolicy};

/// Most keys one batch call takes (the server's default
/// `batch-max-requests` is unlimited; this bounds one request's memory).
pub const MAX_KEYS: usize = 100_000;

/// How a batch runs.
///
/// ```
/// use aerospike_blocking::batch::BatchPolicy;
/// use std::time::Duration;
/// let p = BatchPolicy { total_timeout: Duration::from_secs(5), ..BatchPolicy::default() }
///     .where_ael("$.active == true")?;
/// assert!(p.filter_expression.is_some());
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BatchPolicy {
    /// Budget of the whole batch, every node included; also sent as the
    /// transaction timeout. Default 1 s.
    pub total_timeout: Duration,
    /// Longest single socket read or write. Default 30 s.
    pub socket_timeout: Duration,
    /// Every key's error is reported in its record and the batch goes on
    /// (the official clients' default); off, a node stops reporting at its
    /// first unexpected error and the remaining keys fail. Default true.
    pub respond_all_keys: bool,
    /// Only records matching the expression are read or written; the others
    /// are [`BatchResult::FilteredOut`].
    pub filter_expression: Option<Expression>,
    /// Write settings of `batch_operate` and `batch_delete`: expiration,
    /// generation check, record-exists action, durable delete.
    pub write: WritePolicy,
    /// How many nodes are sent their share at once: 0 (the default) sends
    /// every node's share in parallel; 1 asks one node after the other.
    pub concurrent_nodes: usize,
}

impl Default for BatchPolicy {
    fn default() -> Self {
        BatchPolicy {
            total_timeout: Duration::from_secs(1),
            socket_timeout: Duration::from_secs(30),
            respond_all_keys: true,
            filter_expression: None,
            write: WritePolicy::default(),
            concurrent_nodes: 0,
        }
    }
}

impl BatchPolicy {
    /// Sets the filter from AEL where-clause text.
    ///
    /// ```
    /// use aerospike_blocking::batch::BatchPolicy;
    /// assert!(BatchPolicy::default().where_ael("$.a ==").is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::Expression`] with the position of the problem.
    pub fn where_ael(mut self, text: &str) -> Result<Self> {
        self.filter_expression = Some(Expression::from_ael(text)?);
        Ok(self)
    }
}

/// What a batch found for one key.
///
/// ```
/// use aerospike_blocking::batch::BatchResult;
/// assert!(!BatchResult::NotFound.found());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum BatchResult {
    /// The record (only its metadata for `batch_exists`; for writes, the
    /// results of its read operations).
    Found(Record),
    /// No such record.
    NotFound,
    /// The record did not match the filter expression.
    FilteredOut,
    /// The key failed: a server result code, or a node that could not be
    /// reached or did not answer.
    Failed {
        /// The server's result code, when it sent one.
        code: Option<ResultCode>,
        /// Why.
        message: String,
        /// A write that may have been applied.
        in_doubt: bool,
    },
}

impl BatchResult {
    /// True for [`BatchResult::Found`].
    ///
    /// ```
    /// use aerospike_blocking::batch::BatchResult;
    /// assert!(!BatchResult::FilteredOut.found());
    /// ```
    pub fn found(&self) -> bool {
        matches!(self, BatchResult::Found(_))
    }
}

/// One key's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRecord {
    /// The key, as given.
    pub key: Key,
    /// What the batch found for it.
    pub result: BatchResult,
}

impl BatchRecord {
    /// The record, when one was found.
    ///
    /// ```
    /// use aerospike_blocking::batch::{BatchRecord, BatchResult};
    /// use aerospike_blocking::Key;
    /// let r = BatchRecord { key: Key::new("test", "s", 1)?, result: BatchResult::NotFound };
    /// assert!(r.record().is_none());
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn record(&self) -> Option<&Record> {
        match &self.result {
            BatchResult::Found(r) => Some(r),
            _ => None,
        }
    }
}

/// One key's request: its header and operations.
struct Item {
    key: Key,
    header: Header,
    /// Fields after the namespace and set (a UDF call's).
    fields: Vec<Field>,
    ops: Vec<Op>,
    writes: bool,
}

/// The items of a batch read: all bins, some bins or the header only, with
/// the official clients' info bits.
fn read_items(keys: &[Key], bins: &Bins) -> Result<Vec<Item>> {
    let (i1, ops) = match bins {
        Bins::All => (info1::READ | info1::GET_ALL, Vec::new()),
        Bins::None => (info1::READ | info1::NOBINDATA, Vec::new()),
        Bins::Only(names) => {
            let mut ops = Vec::with_capacity(names.len());
            for n in names {
                kv::check_bin(n)?;
                ops.push(Op {
                    kind: op::READ,
                    particle: 0,
                    name: n.clone(),
                    data: Vec::new(),
                });
            }
            (info1::READ, ops)
        }
    };
    let header = Header {
        info1: i1,
        ..Header::default()
    };
    Ok(keys
        .iter()
        .map(|k| Item {
            key: k.clone(),
            fields: Vec::new(),
            header,
            ops: ops.clone(),
            writes: false,
        })
        .collect())
}

/// The items of a batch delete: every operation answers, as the official
/// clients ask.
fn delete_items(write: &WritePolicy, keys: &[Key]) -> Result<Vec<Item>> {
    keys.iter()
        .map(|key| {
            let msg = kv::delete(write, key)?;
            Ok(Item {
                key: key.clone(),
                fields: Vec::new(),
                header: Header {
                    info2: msg.header.info2 | info2::RESPOND_ALL_OPS,
                    transaction_ttl: 0,
                    ..msg.header
                },
                ops: Vec::new(),
                writes: true,
            })
        })
        .collect()
}

fn failed(e: &Error, writes: bool) -> BatchResult {
    BatchResult::Failed {
        code: e.result_code(),
        message: e.to_string(),
        in_doubt: writes && (e.in_doubt() || matches!(e, Error::Io { .. } | Error::Timeout { .. })),
    }
}

/// A key's answer in its reply message.
fn outcome(msg: Message, key: &Key, writes: bool) -> BatchResult {
    match ResultCode(msg.header.result_code) {
        // A record UDF that failed: its error text is in the FAILURE bin.
        ResultCode::UDF_BAD_RESPONSE => BatchResult::Failed {
            code: Some(ResultCode::UDF_BAD_RESPONSE),
            message: match kv::udf_result(msg, key) {
                Err(Error::Udf { message }) => message,
                _ => "record UDF failed".to_owned(),
            },
            in_doubt: false,
        },
        // As the official clients report it: a bin answered several times
        // (a write's echo, then a read) holds its last answer.
        ResultCode::OK => match kv::record(&msg, key, false) {
            Ok(rec) => BatchResult::Found(rec),
            Err(e) => failed(&e, writes),
        },
        ResultCode::KEY_NOT_FOUND => BatchResult::NotFound,
        ResultCode::FILTERED_OUT => BatchResult::FilteredOut,
        code => BatchResult::Failed {
            code: Some(code),
            message: format!("server error {code}"),
            in_doubt: false,
        },
    }
}

impl Client {
    /// Reads many records: all bins, some bins ([`Bins::Only`]) or the
    /// metadata only ([`Bins::None`]). One result per key, in order.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy, Key, Bins};
    /// # use aerospike_blocking::batch::BatchPolicy;
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let keys = [Key::new("test", "users", 1)?, Key::new("test", "users", 2)?];
    /// let found = client.batch_get(&BatchPolicy::default(), &keys, Bins::only(&["name"]))?;
    /// assert_eq!(found.len(), 2);
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    ///
    /// # Errors
    /// Bad input (too many keys, a bad bin name) before anything is sent;
    /// per-key failures are in the results.
    pub fn batch_get(
        &self,
        policy: &BatchPolicy,
        keys: &[Key],
        bins: Bins,
    ) -> Result<Vec<BatchRecord>> {
        self.batch(policy, read_items(keys, &bins)?)
    }

    /// Whether each record exists: its metadata only. A found key is
    /// [`BatchResult::Found`] with no bins.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy, Key};
    /// # use aerospike_blocking::batch::BatchPolicy;
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let keys = [Key::new("test", "users", 1)?];
    /// let there = client.batch_exists(&BatchPolicy::default(), &keys)?[0].result.found();
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Client::batch_get`].
    pub fn batch_exists(&self, policy: &BatchPolicy, keys: &[Key]) -> Result<Vec<BatchRecord>> {
        self.batch_get(policy, keys, Bins::None)
    }

    /// Runs each key's own operations (reads, writes, list and map
    /// operations; different per key). Writes follow `policy.write`; every
    /// operation answers, as the official clients ask.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy, Key};
    /// # use aerospike_blocking::batch::BatchPolicy;
    /// use aerospike_blocking::operations;
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let done = client.batch_operate(&BatchPolicy::default(), &[
    ///     (Key::new("test", "users", 1)?, vec![operations::add("visits", 1), operations::get_bin("visits")]),
    ///     (Key::new("test", "users", 2)?, vec![operations::get()]),
    /// ])?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Client::batch_get`]; a key without operations is bad input.
    pub fn batch_operate(
        &self,
        policy: &BatchPolicy,
        ops: &[(Key, Vec<Operation>)],
    ) -> Result<Vec<BatchRecord>> {
        let mut items = Vec::with_capacity(ops.len());
        for (key, key_ops) in ops {
            let (msg, writes) = kv::operate(&policy.write, key, key_ops)?;
            let mut header = msg.header;
            if writes {
                header.info2 |= info2::RESPOND_ALL_OPS;
            }
            items.push(Item {
                key: key.clone(),
                fields: Vec::new(),
                header: Header {
                    transaction_ttl: 0,
                    ..header
                },
                ops: msg.ops,
                writes,
            });
        }
        self.batch(policy, items)
    }

    /// Runs a registered Lua function on many records, each key's call in
    /// its own transaction. A key whose function returned is
    /// [`BatchResult::Found`] with the return value in its `SUCCESS` bin (no
    /// bin for nil); one whose function raised an error is
    /// [`BatchResult::Failed`] with code `UDF_BAD_RESPONSE` and the server's
    /// error text. Writes follow `policy.write`.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy, Key, Value};
    /// # use aerospike_blocking::batch::BatchPolicy;
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let keys = [Key::new("test", "users", 1)?, Key::new("test", "users", 2)?];
    /// for r in client.batch_execute_udf(&BatchPolicy::default(), &keys, "counter", "bump", &[Value::from(1)])? {
    ///     println!("{:?}: {:?}", r.key, r.record().and_then(|rec| rec.bin("SUCCESS")));
    /// }
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Client::batch_get`]; an empty module or function name is bad input.
    pub fn batch_execute_udf(
        &self,
        policy: &BatchPolicy,
        keys: &[Key],
        module: &str,
        function: &str,
        args: &[Value],
    ) -> Result<Vec<BatchRecord>> {
        let mut items = Vec::with_capacity(keys.len());
        for key in keys {
            let msg = kv::apply(&policy.write, key, module, function, args)?;
            items.push(Item {
                key: key.clone(),
                header: Header {
                    transaction_ttl: 0,
                    ..msg.header
                },
                // The UDF fields follow the key's namespace, set and digest.
                fields: msg
                    .fields
                    .into_iter()
                    .filter(|f| {
                        matches!(
                            f.kind,
                            field::UDF_PACKAGE_NAME | field::UDF_FUNCTION | field::UDF_ARGLIST
                        )
                    })
                    .collect(),
                ops: Vec::new(),
                writes: true,
            });
        }
        self.batch(policy, items)
    }

    /// Deletes many records. A deleted key is [`BatchResult::Found`] (with no
    /// bins), a missing one [`BatchResult::NotFound`].
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy, Key};
    /// # use aerospike_blocking::batch::BatchPolicy;
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let gone = client.batch_delete(&BatchPolicy::default(), &[Key::new("test", "users", 1)?])?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Client::batch_get`].
    pub fn batch_delete(&self, policy: &BatchPolicy, keys: &[Key]) -> Result<Vec<BatchRecord>> {
        self.batch(policy, delete_items(&policy.write, keys)?)
    }

    /// Groups `items` by master node, runs every node's request in parallel
    /// on the node workers, and gathers one result per key in order.
    fn batch(&self, policy: &BatchPolicy, items: Vec<Item>) -> Result<Vec<BatchRecord>> {
        if items.len() > MAX_KEYS {
            return Err(Error::InvalidArgument(format!(
                "{} keys in one batch; at most {MAX_KEYS}",
                items.len()
            )));
        }
        let deadline =
            Deadline::after(policy.total_timeout).with_socket_timeout(policy.socket_timeout);
        let mut results: Vec<Option<BatchResult>> = items.iter().map(|_| None).collect();
        let all: Vec<usize> = (0..items.len()).collect();
        let unreachable = self.batch_round(policy, &items, &all, 0, &deadline, &mut results);
        // Reads whose node could not be reached go once more to the
        // partition's replica (writes are not resent: they may have been
        // applied).
        let retry: Vec<usize> = unreachable
            .into_iter()
            .filter(|&i| !items[i].writes)
            .collect();
        if !retry.is_empty() && !deadline.expired() {
            self.cluster().wake_tend();
            self.batch_round(policy, &items, &retry, 1, &deadline, &mut results);
        }
        Ok(items
            .into_iter()
            .zip(results)
            .map(|(item, r)| BatchRecord {
                key: item.key,
                result: r.expect("every key got a result"),
            })
            .collect())
    }

    /// Sends the keys `which` of `items` to the copy `replica` of their
    /// partitions (0 = master), node by node in parallel, and records each
    /// key's result. Returns the keys whose node could not be reached.
    fn batch_round(
        &self,
        policy: &BatchPolicy,
        items: &[Item],
        which: &[usize],
        replica: usize,
        deadline: &Deadline,
        results: &mut [Option<BatchResult>],
    ) -> Vec<usize> {
        let cluster = self.cluster();
        let mut unreachable = Vec::new();
        let mut per_node: HashMap<String, (Arc<crate::cluster::node::Node>, Vec<BatchEntry>)> =
            HashMap::new();
        for &i in which {
            let item = &items[i];
            match cluster.replica_node(item.key.namespace(), item.key.partition(), replica) {
                Ok(node) => {
                    let mut entry =
                        BatchEntry::new(i as u32, &item.key, item.header, item.ops.clone());
                    entry.fields.extend(item.fields.iter().cloned());
                    per_node
                        .entry(node.name().to_owned())
                        .or_insert_with(|| (node, Vec::new()))
                        .1
                        .push(entry);
                }
                Err(e) => results[i] = Some(failed(&e, false)),
            }
        }
        let mut flags = INLINE_IN_MEMORY | REPORT_ERROR_REC;
        if policy.respond_all_keys {
            flags |= REPORT_ALL_ERRORS;
        }
        let timeout_ms = u32::try_from(policy.total_timeout.as_millis()).unwrap_or(u32::MAX);
        let filter = policy.filter_expression.as_ref().map(Expression::pack);
        let mut nodes = Vec::with_capacity(per_node.len());
        let mut frames: HashMap<String, Vec<u8>> = HashMap::with_capacity(per_node.len());
        let mut members: HashMap<String, HashSet<u32>> = HashMap::with_capacity(per_node.len());
        for (name, (node, entries)) in per_node {
            frames.insert(
                name.clone(),
                batch::request(&entries, flags, timeout_ms, filter.as_deref()),
            );
            members.insert(name, entries.iter().map(|e| e.index).collect());
            nodes.push(node);
        }
        let frames = Arc::new(frames);
        let group = match policy.concurrent_nodes {
            0 => nodes.len().max(1),
            n => n,
        };
        let mut answers = Vec::with_capacity(nodes.len());
        for some in nodes.chunks(group) {
            let frames = frames.clone();
            answers.extend(cluster.fan_out(some, *deadline, move |node, dl| {
                let frame = &frames[node.name()];
                let mut msgs = Vec::new();
                node.stream(frame, dl, &mut |m| {
                    msgs.push(m.to_message());
                    Ok(true)
                })?;
                Ok(msgs)
            }));
        }
        for (node, answer) in answers {
            let mine = &members[node.name()];
            match answer {
                Ok(msgs) => {
                    let mut end_code = 0;
                    for m in msgs {
                        if m.header.info3 & info3::LAST != 0 {
                            end_code = m.header.result_code;
                            continue;
                        }
                        let i = m.header.transaction_ttl as usize;
                        if mine.contains(&(i as u32)) {
                            results[i] = Some(outcome(m, &items[i].key, items[i].writes));
                        }
                    }
                    for &i in mine.iter() {
                        results[i as usize].get_or_insert_with(|| BatchResult::Failed {
                            code: (end_code != 0).then_some(ResultCode(end_code)),
                            message: format!("node {} did not answer this key", node.name()),
                            in_doubt: items[i as usize].writes,
                        });
                    }
                }
                Err(e) => {
                    let reached = !matches!(e, Error::Io { .. } | Error::Timeout { .. });
                    for &i in mine.iter() {
                        results[i as usize] = Some(failed(&e, items[i as usize].writes));
                        if !reached {
                            unreachable.push(i as usize);
                        }
                    }
                }
            }
        }
        unreachable
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aerospike_proto::fixtures;

    /// The request frames the official client sent in batch-single.txt.
    fn captured() -> Vec<Vec<u8>> {
        fixtures::client_messages("batch-single.txt")
    }

    fn frame(items: &[Item]) -> Vec<u8> {
        let entries: Vec<BatchEntry> = items
            .iter()
            .enumerate()
            .map(|(i, it)| BatchEntry::new(i as u32, &it.key, it.header, it.ops.clone()))
            .collect();
        let flags = INLINE_IN_MEMORY | REPORT_ERROR_REC | REPORT_ALL_ERRORS;
        batch::request(&entries, flags, 1000, None)
    }

    #[test]
    fn requests_are_the_official_clients_byte_for_byte() {
        let key = |i: i64| Key::new("test", "cfx_batch", i).unwrap();
        let keys: Vec<Key> = [0, 1, 2, 7, 3].into_iter().map(key).collect();
        let sent = captured();
        assert_eq!(frame(&read_items(&keys, &Bins::All).unwrap()), sent[0]);
        assert_eq!(
            frame(&read_items(&keys, &Bins::only(&["a"])).unwrap()),
            sent[1]
        );
        assert_eq!(frame(&read_items(&keys, &Bins::None).unwrap()), sent[2]);
        let removed = delete_items(&WritePolicy::default(), &[key(3), key(7)]).unwrap();
        assert_eq!(frame(&removed), sent[4]);
    }
}
