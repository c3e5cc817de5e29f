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

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crate::cluster::node::Node;
use crate::command::kv;
use crate::exp::Expression;
use crate::net::Deadline;
use crate::operations::Operation;
use crate::wire::batch::{self, BatchEntry, INLINE_IN_MEMORY, REPORT_ALL_ERRORS, REPORT_ERROR_REC};
use crate::wire::message::{field, info1, info2, info3, op, Header, MessageView, Op};
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

/// One key's request: its batch entry (the index is set by
/// [`Batch::new`]) and whether it writes.
struct Item {
    key: Key,
    entry: BatchEntry,
    writes: bool,
}

/// What a key's reply is decoded against: the key and whether its request
/// writes.
#[derive(Clone)]
struct Target {
    key: Key,
    writes: bool,
}

/// The keys of a batch: their targets, shared with the node workers, and
/// their request entries, built once and encoded again by a retry.
struct Batch {
    targets: Arc<Vec<Target>>,
    /// Entry `i` is key `i`'s, with index `i`.
    entries: Vec<BatchEntry>,
}

impl Batch {
    /// Splits `items` into targets and entries, entry `i` given index `i`.
    fn new(items: Vec<Item>) -> Self {
        let (targets, entries) = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let target = Target {
                    key: item.key,
                    writes: item.writes,
                };
                (
                    target,
                    BatchEntry {
                        index: i as u32,
                        ..item.entry
                    },
                )
            })
            .unzip();
        Batch {
            targets: Arc::new(targets),
            entries,
        }
    }
}

/// Each node's request frame: the entries `members[n]` of `entries`.
fn frames(
    entries: &[BatchEntry],
    members: &[Vec<usize>],
    flags: u8,
    timeout_ms: u32,
    filter: Option<&[u8]>,
) -> Vec<Vec<u8>> {
    members
        .iter()
        .map(|mine| {
            let share = mine.iter().map(|&i| &entries[i]);
            batch::request(share, flags, timeout_ms, filter)
        })
        .collect()
}

/// `Round::owner` of a key not sent in the round.
const NOT_SENT: u32 = u32::MAX;

/// One round's requests, shared with the node workers that send them.
struct Round {
    targets: Arc<Vec<Target>>,
    /// The nodes asked; `frames[n]` and `members[n]` are node `n`'s.
    nodes: Vec<Arc<Node>>,
    frames: Vec<Vec<u8>>,
    /// The keys sent to each node, in request order.
    members: Vec<Vec<usize>>,
    /// The node each key was sent to, or [`NOT_SENT`].
    owner: Vec<u32>,
}

impl Round {
    /// Reads one message of node `n`'s reply: a key's answer goes to `found`
    /// when the key was sent to that node (any other index is ignored), the
    /// LAST message's result code to `end_code`.
    fn read(
        &self,
        n: usize,
        m: &MessageView<'_>,
        found: &mut Vec<(usize, BatchResult)>,
        end_code: &mut u8,
    ) {
        if m.header.info3 & info3::LAST != 0 {
            *end_code = m.header.result_code;
            return;
        }
        let i = m.header.transaction_ttl as usize;
        if self.owner.get(i) == Some(&(n as u32)) {
            let t = &self.targets[i];
            found.push((i, outcome(m, &t.key, t.writes)));
        }
    }
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
            entry: BatchEntry::new(0, k, header, ops.clone()),
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
            let header = Header {
                info2: msg.header.info2 | info2::RESPOND_ALL_OPS,
                transaction_ttl: 0,
                ..msg.header
            };
            Ok(Item {
                key: key.clone(),
                entry: BatchEntry::new(0, key, header, Vec::new()),
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

/// A key's answer in its reply message, read in place.
fn outcome(m: &MessageView<'_>, key: &Key, writes: bool) -> BatchResult {
    match ResultCode(m.header.result_code) {
        // A record UDF that failed: its error text is in the FAILURE bin.
        ResultCode::UDF_BAD_RESPONSE => BatchResult::Failed {
            code: Some(ResultCode::UDF_BAD_RESPONSE),
            message: match kv::udf_result(&m.header, m.ops(), key) {
                Err(Error::Udf { message }) => message,
                _ => "record UDF failed".to_owned(),
            },
            in_doubt: false,
        },
        // As the official clients report it: a bin answered several times
        // (a write's echo, then a read) holds its last answer.
        ResultCode::OK => match kv::record_of(&m.header, m.ops(), key, false) {
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
            header.transaction_ttl = 0;
            items.push(Item {
                key: key.clone(),
                entry: BatchEntry::new(0, key, header, msg.ops),
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
            let header = Header {
                transaction_ttl: 0,
                ..msg.header
            };
            let mut entry = BatchEntry::new(0, key, header, Vec::new());
            // The UDF fields follow the key's namespace and set.
            entry.fields.extend(msg.fields.into_iter().filter(|f| {
                matches!(
                    f.kind,
                    field::UDF_PACKAGE_NAME | field::UDF_FUNCTION | field::UDF_ARGLIST
                )
            }));
            items.push(Item {
                key: key.clone(),
                entry,
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
        let keys = Batch::new(items);
        let mut results: Vec<Option<BatchResult>> = vec![None; keys.entries.len()];
        let all: Vec<usize> = (0..keys.entries.len()).collect();
        let unreachable = self.batch_round(policy, &keys, &all, 0, &deadline, &mut results);
        // Reads whose node could not be reached go once more to the
        // partition's replica (writes are not resent: they may have been
        // applied).
        let retry: Vec<usize> = unreachable
            .into_iter()
            .filter(|&i| !keys.targets[i].writes)
            .collect();
        if !retry.is_empty() && !deadline.expired() {
            self.cluster().wake_tend();
            self.batch_round(policy, &keys, &retry, 1, &deadline, &mut results);
        }
        // A worker may not have dropped its share of the targets yet.
        let targets = Arc::try_unwrap(keys.targets).unwrap_or_else(|t| t.as_ref().clone());
        Ok(targets
            .into_iter()
            .zip(results)
            .map(|(t, r)| BatchRecord {
                key: t.key,
                result: r.expect("every key got a result"),
            })
            .collect())
    }

    /// Sends the keys `which` of `keys` to the copy `replica` of their
    /// partitions (0 = master), node by node in parallel, and records each
    /// key's result; each reply is decoded in place as it streams in, on the
    /// node's worker. Returns the keys whose node could not be reached.
    fn batch_round(
        &self,
        policy: &BatchPolicy,
        keys: &Batch,
        which: &[usize],
        replica: usize,
        deadline: &Deadline,
        results: &mut [Option<BatchResult>],
    ) -> Vec<usize> {
        let cluster = self.cluster();
        let mut nodes: Vec<Arc<Node>> = Vec::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut owner = vec![NOT_SENT; keys.entries.len()];
        for &i in which {
            let key = &keys.targets[i].key;
            match cluster.replica_node(key.namespace(), key.partition(), replica) {
                Ok(node) => {
                    let n = match by_name.get(node.name()) {
                        Some(&n) => n,
                        None => {
                            by_name.insert(node.name().to_owned(), nodes.len());
                            nodes.push(node);
                            members.push(Vec::new());
                            nodes.len() - 1
                        }
                    };
                    members[n].push(i);
                    owner[i] = n as u32;
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
        let frames = frames(
            &keys.entries,
            &members,
            flags,
            timeout_ms,
            filter.as_deref(),
        );
        let round = Arc::new(Round {
            targets: keys.targets.clone(),
            nodes,
            frames,
            members,
            owner,
        });
        let group = match policy.concurrent_nodes {
            0 => round.nodes.len().max(1),
            n => n,
        };
        let mut answers = Vec::with_capacity(round.nodes.len());
        for some in round.nodes.chunks(group) {
            let round = round.clone();
            answers.extend(cluster.fan_out(some, *deadline, move |node, dl| {
                let n = round
                    .nodes
                    .iter()
                    .position(|x| x.name() == node.name())
                    .ok_or_else(|| Error::Protocol {
                        node: node.name().to_owned(),
                        message: "no batch request for this node".into(),
                    })?;
                let mut found = Vec::with_capacity(round.members[n].len());
                let mut end_code = 0;
                node.stream(&round.frames[n], dl, &mut |m| {
                    round.read(n, m, &mut found, &mut end_code);
                    Ok(true)
                })?;
                Ok((found, end_code))
            }));
        }
        // `fan_out` answers in the order of its nodes: answer n is node n's.
        let mut unreachable = Vec::new();
        for (mine, (node, answer)) in round.members.iter().zip(answers) {
            match answer {
                Ok((found, end_code)) => {
                    for (i, r) in found {
                        results[i] = Some(r);
                    }
                    for &i in mine {
                        results[i].get_or_insert_with(|| BatchResult::Failed {
                            code: (end_code != 0).then_some(ResultCode(end_code)),
                            message: format!("node {} did not answer this key", node.name()),
                            in_doubt: keys.targets[i].writes,
                        });
                    }
                }
                Err(e) => {
                    let reached = !matches!(e, Error::Io { .. } | Error::Timeout { .. });
                    for &i in mine {
                        results[i] = Some(failed(&e, keys.targets[i].writes));
                        if !reached {
                            unreachable.push(i);
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

    /// The frame of one node sent every key of `items`.
    fn frame(items: Vec<Item>) -> Vec<u8> {
        let entries = Batch::new(items).entries;
        let flags = INLINE_IN_MEMORY | REPORT_ERROR_REC | REPORT_ALL_ERRORS;
        let all = [(0..entries.len()).collect()];
        frames(&entries, &all, flags, 1000, None).remove(0)
    }

    #[test]
    fn requests_are_the_official_clients_byte_for_byte() {
        let key = |i: i64| Key::new("test", "cfx_batch", i).unwrap();
        let keys: Vec<Key> = [0, 1, 2, 7, 3].into_iter().map(key).collect();
        let sent = captured();
        assert_eq!(frame(read_items(&keys, &Bins::All).unwrap()), sent[0]);
        assert_eq!(
            frame(read_items(&keys, &Bins::only(&["a"])).unwrap()),
            sent[1]
        );
        assert_eq!(frame(read_items(&keys, &Bins::None).unwrap()), sent[2]);
        let removed = delete_items(&WritePolicy::default(), &[key(3), key(7)]).unwrap();
        assert_eq!(frame(removed), sent[4]);
    }

    /// A reply message as the server sends it: key `index`'s result code and
    /// one string bin.
    fn reply(index: u32, result_code: u8, info3: u8, bin: (&str, &str)) -> Vec<u8> {
        crate::wire::message::Message {
            header: Header {
                info3,
                result_code,
                transaction_ttl: index,
                ..Header::default()
            },
            fields: Vec::new(),
            ops: vec![Op {
                kind: op::READ,
                particle: 3,
                name: bin.0.into(),
                data: bin.1.as_bytes().to_vec(),
            }],
        }
        .encode()
    }

    #[test]
    fn a_reply_is_decoded_only_for_the_keys_sent_to_its_node() {
        let key = |i: i64| Key::new("test", "s", i).unwrap();
        let targets = (0..3)
            .map(|i| Target {
                key: key(i),
                writes: i == 2,
            })
            .collect();
        // Keys 0 and 2 went to node 0, key 1 to node 1.
        let round = Round {
            targets: Arc::new(targets),
            nodes: Vec::new(),
            frames: Vec::new(),
            members: vec![vec![0, 2], vec![1]],
            owner: vec![0, 1, 0],
        };
        let messages = [
            reply(0, 0, 0, ("a", "x")),
            reply(1, 0, 0, ("a", "node 1's")),
            reply(2, ResultCode::UDF_BAD_RESPONSE.0, 0, ("FAILURE", "boom")),
            reply(3, 0, 0, ("a", "out of range")),
            reply(u32::MAX, 0, 0, ("a", "out of range")),
            reply(0, 0, info3::LAST, ("a", "")),
        ];
        let (mut found, mut end_code) = (Vec::new(), 0xff);
        for m in &messages {
            let (view, _) = MessageView::parse(&m[8..]).unwrap();
            round.read(0, &view, &mut found, &mut end_code);
        }
        assert_eq!(end_code, 0);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].0, 0);
        let rec = match &found[0].1 {
            BatchResult::Found(rec) => rec,
            other => panic!("{other:?}"),
        };
        assert_eq!(rec.bin("a"), Some(&Value::from("x")));
        assert_eq!(rec.key, Some(key(0)));
        let udf_failed = BatchResult::Failed {
            code: Some(ResultCode::UDF_BAD_RESPONSE),
            message: "boom".into(),
            in_doubt: false,
        };
        assert_eq!(found[1], (2, udf_failed));
    }
}
