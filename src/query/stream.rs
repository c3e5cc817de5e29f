//! Streaming a foreground scan or query: records as the nodes send them,
//! through a bounded buffer, with the partitions tracked for resuming.
//!
//! One thread per node reads that node's reply and hands each record to the
//! buffer; when the buffer is full the thread waits, so it stops reading its
//! socket and the server pauses (back-pressure). A coordinator thread runs the
//! rounds: partitions a node could not serve (they moved) or whose node failed
//! are asked again of their current master, from the last record delivered.
//! These threads are the stream's own, not the node workers: a long scan never
//! holds up the key-value calls queued for a node.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};

use crate::background::request::random_task_id;
use crate::cluster::{Cluster, Node};
use crate::command::kv;
use crate::net::Deadline;
use crate::wire::message::{field, info3, Header, MessageView};
use crate::{Error, Key, Record, Result, ResultCode, TimeoutPhase};

use super::cursor::PartitionCursor;
use super::scan::{QuerySpec, ResumePoint};

/// Rounds for partitions a node could not serve (after a partition moved) or
/// whose node failed mid-stream.
const MAX_ROUNDS: u32 = 6;
/// First pause before such a round, so the partition map can refresh; it
/// doubles each round (50 ms to 800 ms, 1.55 s in all: more than the default
/// 1 s tend interval).
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// What the stream's threads hand to the consumer, in order per node.
enum Event {
    /// A record, with its partition, digest and index value.
    Record(Box<Record>, u16, [u8; 20], Option<i64>),
    /// These partitions were read to their end (every record of theirs that
    /// was sent is ahead of this event in the buffer).
    Finished(Vec<u16>),
    /// The stream failed.
    Failed(Error),
    /// Every round is over.
    End,
}

/// Records of a scan or query as the nodes send them. Get one from
/// [`Query::stream`](super::Query::stream).
///
/// Each item is a record or the error that ended the stream (it is the last
/// item). Memory stays bounded: at most [`Query::buffer`](super::Query::buffer)
/// records wait in the stream; while it is full, the nodes' sockets are not
/// read and the servers pause. Dropping the stream stops the query on every
/// node (its connections are closed). [`cursor`](Self::cursor) tells which
/// partitions are finished, for [`Query::resume`](super::Query::resume).
///
/// # Examples
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// use aerospike_blocking::background::DataSet;
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
/// let mut total = 0i64;
/// for record in client.query(&DataSet::of("test", "orders")).stream()? {
///     total += record?.bin("amount").and_then(|v| v.as_int()).unwrap_or(0);
/// }
/// println!("{total}");
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug)]
pub struct RecordStream {
    rx: Option<Receiver<Event>>,
    cancel: Arc<AtomicBool>,
    cursor: PartitionCursor,
    /// Records still to yield (`max_records`), or `None` for no limit.
    left: Option<u64>,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Record(_, pid, ..) => write!(f, "Record(partition {pid})"),
            Event::Finished(p) => write!(f, "Finished({} partitions)", p.len()),
            Event::Failed(e) => write!(f, "Failed({e})"),
            Event::End => write!(f, "End"),
        }
    }
}

impl RecordStream {
    /// Starts the stream: the coordinator runs in its own thread.
    pub(crate) fn start(
        cluster: Arc<Cluster>,
        spec: QuerySpec,
        cursor: PartitionCursor,
        buffer: usize,
        deadline: Deadline,
    ) -> RecordStream {
        let (tx, rx) = crossbeam_channel::bounded(buffer.max(1));
        let cancel = Arc::new(AtomicBool::new(false));
        let left = (spec.max_records > 0).then_some(spec.max_records);
        let run = Run {
            cluster,
            spec: Arc::new(spec),
            deadline,
            tx,
            cancel: cancel.clone(),
        };
        let points: Vec<ResumePoint> = cursor.resume_points().collect();
        thread::Builder::new()
            .name("aerospike-query".into())
            .spawn(move || run.rounds(points))
            .map_or_else(
                |e| RecordStream {
                    rx: Some(failed(thread_error(e))),
                    cancel: Arc::new(AtomicBool::new(true)),
                    cursor: cursor.clone(),
                    left,
                },
                |_| RecordStream {
                    rx: Some(rx),
                    cancel,
                    cursor: cursor.clone(),
                    left,
                },
            )
    }

    /// Where the stream stands: exactly the records yielded so far are behind
    /// the cursor. Give it to [`Query::resume`](super::Query::resume) to read
    /// the rest, now or in another run (see
    /// [`PartitionCursor::to_bytes`](PartitionCursor::to_bytes)).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// use aerospike_blocking::background::DataSet;
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let mut stream = client.query(&DataSet::of("test", "users")).stream()?;
    /// let first_ten: Vec<_> = stream.by_ref().take(10).collect();
    /// let cursor = stream.cursor();
    /// drop(stream);
    /// std::fs::write("users.cursor", cursor.to_bytes())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cursor(&self) -> PartitionCursor {
        self.cursor.clone()
    }

    /// Stops the threads and closes the connections.
    fn stop(&mut self) {
        self.cancel.store(true, Ordering::Release);
        self.rx = None;
    }
}

impl Iterator for RecordStream {
    type Item = Result<Record>;

    fn next(&mut self) -> Option<Result<Record>> {
        loop {
            if self.left == Some(0) {
                self.stop();
                return None;
            }
            let event = self.rx.as_ref()?.recv().unwrap_or(Event::End);
            match event {
                Event::Record(record, pid, digest, bval) => {
                    self.cursor.advance(pid, digest, bval);
                    if let Some(n) = self.left.as_mut() {
                        *n -= 1;
                    }
                    return Some(Ok(*record));
                }
                Event::Finished(pids) => self.cursor.finish(&pids),
                Event::Failed(e) => {
                    self.stop();
                    return Some(Err(e));
                }
                Event::End => {
                    self.stop();
                    return None;
                }
            }
        }
    }
}

impl Drop for RecordStream {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A thread that could not be started.
fn thread_error(source: std::io::Error) -> Error {
    Error::Io {
        node: "local".into(),
        source,
        in_doubt: false,
    }
}

/// A receiver holding only `error`.
fn failed(error: Error) -> Receiver<Event> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let _ = tx.send(Event::Failed(error));
    rx
}

/// The coordinator's state.
struct Run {
    cluster: Arc<Cluster>,
    spec: Arc<QuerySpec>,
    deadline: Deadline,
    tx: Sender<Event>,
    cancel: Arc<AtomicBool>,
}

/// How one node's part of a round ended.
struct NodeOutcome {
    /// Partitions to ask again, from where this node got to.
    again: Vec<ResumePoint>,
    /// The error that ended the node's stream, if any.
    error: Option<Error>,
}

impl Run {
    /// Runs rounds until every partition is finished, the stream fails or is
    /// dropped, or the rounds run out; then tells the consumer.
    fn rounds(self, mut pending: Vec<ResumePoint>) {
        let end = match self.run_rounds(&mut pending) {
            Ok(()) => Event::End,
            Err(e) => Event::Failed(e),
        };
        let _ = self.tx.send(end);
    }

    fn run_rounds(&self, pending: &mut Vec<ResumePoint>) -> Result<()> {
        for round in 0..MAX_ROUNDS {
            if pending.is_empty() || self.cancelled() {
                return Ok(());
            }
            if round > 0 {
                thread::sleep(RETRY_PAUSE * 2u32.pow(round - 1));
                self.cluster.wake_tend();
            }
            let mut by_node: HashMap<String, (Arc<Node>, Vec<ResumePoint>)> = HashMap::new();
            for point in pending.drain(..) {
                let node = self
                    .cluster
                    .master_node(&self.spec.scope.namespace, point.0)?;
                by_node
                    .entry(node.name().to_owned())
                    .or_insert_with(|| (node.clone(), Vec::new()))
                    .1
                    .push(point);
            }
            let task_id = random_task_id();
            let scope = &self.spec.scope;
            let key_template = Key::from_digest(&scope.namespace, &scope.set, [0; 20])?;
            let handles: Vec<_> = by_node
                .into_values()
                .map(|(node, points)| {
                    let reader = NodeReader {
                        spec: self.spec.clone(),
                        key_template: key_template.clone(),
                        tx: self.tx.clone(),
                        cancel: self.cancel.clone(),
                        deadline: self.deadline,
                    };
                    let name = format!("aerospike-query-{}", node.name());
                    thread::Builder::new()
                        .name(name)
                        .spawn(move || reader.read(&node, task_id, points))
                        .map_err(thread_error)
                })
                .collect::<Result<_>>()?;
            let mut last_error = None;
            for h in handles {
                let outcome = h.join().map_err(|_| Error::Protocol {
                    node: "local".into(),
                    message: "a query reader thread panicked".into(),
                })?;
                pending.extend(outcome.again);
                if let Some(e) = outcome.error {
                    if !retryable(&e) {
                        return Err(e);
                    }
                    last_error = Some(e);
                }
            }
            if round + 1 == MAX_ROUNDS && !pending.is_empty() && !self.cancelled() {
                return Err(last_error.unwrap_or(Error::Server {
                    code: ResultCode::PARTITION_UNAVAILABLE,
                    in_doubt: false,
                }));
            }
        }
        Ok(())
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Acquire)
    }
}

/// Whether an error of one node's stream is worth another round from where
/// it got to: the connection failed, not the query.
fn retryable(e: &Error) -> bool {
    match e {
        Error::Io { .. } | Error::Protocol { .. } => true,
        Error::Timeout { phase, .. } => !matches!(phase, TimeoutPhase::Total),
        _ => false,
    }
}

/// Reads one node's part of a round.
struct NodeReader {
    spec: Arc<QuerySpec>,
    /// A key of the scope's namespace and set; each record's key shares its names.
    key_template: Key,
    tx: Sender<Event>,
    cancel: Arc<AtomicBool>,
    deadline: Deadline,
}

impl NodeReader {
    fn read(self, node: &Node, task_id: u64, points: Vec<ResumePoint>) -> NodeOutcome {
        let frame = self.spec.message(task_id, &points).encode();
        // Where each partition got to, as sent to the consumer.
        let mut progress: HashMap<u16, ResumePoint> = points.iter().map(|p| (p.0, *p)).collect();
        let mut unavailable = Vec::new();
        let mut sent = 0u64;
        let mut stopped = false;
        let result = node.stream(&frame, self.deadline, &mut |m: &MessageView<'_>| {
            if self.cancel.load(Ordering::Acquire) {
                stopped = true;
                return Ok(false);
            }
            let rc = ResultCode(m.header.result_code);
            if m.header.info3 & info3::PARTITION_DONE != 0 {
                if rc != ResultCode::OK {
                    unavailable.push(partition_of_marker(node, &m.header)?);
                }
                return Ok(true);
            }
            if m.header.info3 & info3::LAST != 0 {
                return match rc {
                    ResultCode::OK | ResultCode::KEY_NOT_FOUND => Ok(true),
                    code => Err(Error::server(code, false)),
                };
            }
            if rc != ResultCode::OK {
                return Err(Error::server(rc, false));
            }
            let (record, pid, digest, bval) = self.decode(node, m)?;
            if self
                .tx
                .send(Event::Record(Box::new(record), pid, digest, bval))
                .is_err()
            {
                stopped = true;
                return Ok(false);
            }
            progress.insert(pid, (pid, Some(digest), bval));
            sent += 1;
            Ok(true)
        });
        if stopped {
            return NodeOutcome {
                again: Vec::new(),
                error: None,
            };
        }
        match result {
            Ok(()) => {
                let limited = self.spec.max_records > 0 && sent >= self.spec.max_records;
                if limited {
                    // The node stopped at the limit: which partitions it had
                    // finished cannot be known; the cursor keeps them all.
                    return NodeOutcome {
                        again: Vec::new(),
                        error: None,
                    };
                }
                let finished: Vec<u16> = points
                    .iter()
                    .map(|p| p.0)
                    .filter(|p| !unavailable.contains(p))
                    .collect();
                let _ = self.tx.send(Event::Finished(finished));
                NodeOutcome {
                    again: unavailable
                        .iter()
                        .filter_map(|p| progress.get(p).copied())
                        .collect(),
                    error: None,
                }
            }
            Err(e) => NodeOutcome {
                again: progress.into_values().collect(),
                error: Some(e),
            },
        }
    }

    /// A record message's record, partition, digest and index value, read
    /// in place.
    fn decode(
        &self,
        node: &Node,
        m: &MessageView<'_>,
    ) -> Result<(Record, u16, [u8; 20], Option<i64>)> {
        let (mut digest, mut bval, mut set) = (None, None, None);
        for f in m.fields() {
            match f.kind {
                field::DIGEST => digest = <[u8; 20]>::try_from(f.data).ok(),
                field::BVAL_ARRAY => {
                    bval = <[u8; 8]>::try_from(f.data).ok().map(i64::from_le_bytes);
                }
                field::SET => set = std::str::from_utf8(f.data).ok(),
                _ => {}
            }
        }
        let digest = digest.ok_or_else(|| Error::Protocol {
            node: node.name().to_owned(),
            message: "query record without a 20-byte digest".into(),
        })?;
        // Records of the scope's set share its names (no allocation).
        let key = match set {
            Some(s) if s != self.key_template.set() => {
                Key::from_digest(&self.spec.scope.namespace, s, digest)?
            }
            _ => self.key_template.with_digest(digest),
        };
        let pid = key.partition();
        Ok((
            kv::record_of(&m.header, m.ops(), &key, false)?,
            pid,
            digest,
            bval,
        ))
    }
}

/// The partition a partition-done marker names (in its generation field).
fn partition_of_marker(node: &Node, h: &Header) -> Result<u16> {
    u16::try_from(h.generation)
        .ok()
        .filter(|p| *p < super::partition::PARTITIONS)
        .ok_or_else(|| Error::Protocol {
            node: node.name().to_owned(),
            message: format!("partition-done marker for partition {}", h.generation),
        })
}
