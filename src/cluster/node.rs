//! [`Node`]: one server, its connection pool and its worker threads.

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crossbeam_channel::{SendTimeoutError, Sender};
use parking_lot::Mutex;

use crate::cluster::partition::{NodeReplicas, ReplicasCommand};
use crate::cluster::peers::Peer;
use crate::cluster::version::Version;
use crate::net::{Connection, Deadline, Pool};
use crate::policy::ClientPolicy;
use crate::wire::message::{info3, Message, MessageView};
use crate::wire::{info, proto};
use crate::{Error, Result, TimeoutPhase};

/// Work for a node's worker thread.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// What the tend thread remembers about a node between cycles.
#[derive(Debug, Default)]
pub(crate) struct TendState {
    pub(crate) failures: u32,
    pub(crate) peers_generation: Option<u64>,
    pub(crate) partition_generation: Option<u64>,
    pub(crate) peers: Vec<Peer>,
    pub(crate) replicas: Arc<NodeReplicas>,
}

/// One cluster node.
#[derive(Debug)]
pub(crate) struct Node {
    name: String,
    address: SocketAddr,
    build: String,
    version: Version,
    features: Vec<String>,
    pool: Pool,
    /// The tend thread's own connection, outside the pool, so a pool
    /// exhausted by commands never makes the node look dead.
    tend_conn: Mutex<Option<Connection>>,
    pub(crate) tend: Mutex<TendState>,
    queue: Mutex<Option<Sender<Job>>>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    commands: AtomicU64,
}

impl Node {
    /// A node and its worker threads.
    pub(crate) fn new(
        name: String,
        address: SocketAddr,
        build: &str,
        features: Vec<String>,
        policy: &ClientPolicy,
    ) -> Result<Arc<Node>> {
        let (tx, rx) = crossbeam_channel::bounded::<Job>(policy.node_queue_capacity.max(1));
        let node = Arc::new(Node {
            pool: Pool::new(
                address,
                policy.max_connections_per_node,
                policy.idle_timeout,
                policy.connect_timeout,
            ),
            name,
            address,
            build: build.to_owned(),
            version: Version::parse(build),
            features,
            tend_conn: Mutex::new(None),
            tend: Mutex::new(TendState::default()),
            queue: Mutex::new(Some(tx)),
            workers: Mutex::new(Vec::new()),
            commands: AtomicU64::new(0),
        });
        let mut handles = Vec::new();
        for i in 0..policy.workers_per_node.max(1) {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("aerospike-{}-w{i}", node.name))
                .spawn(move || {
                    while let Ok(job) = rx.recv() {
                        // A panicking job must not take the worker down with it;
                        // its result sender is dropped, which its caller sees.
                        let _ = catch_unwind(AssertUnwindSafe(job));
                    }
                });
            match spawned {
                Ok(h) => handles.push(h),
                Err(e) => {
                    *node.workers.lock() = handles;
                    node.shutdown();
                    return Err(Error::Io {
                        node: node.name.clone(),
                        source: e,
                        in_doubt: false,
                    });
                }
            }
        }
        *node.workers.lock() = handles;
        Ok(node)
    }

    /// The node id, e.g. `BB901000000FC02`.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The address the client talks to.
    pub(crate) fn address(&self) -> SocketAddr {
        self.address
    }

    /// The server version, from `build`.
    // Part of the crate-internal node API (docs/architecture.md); background
    // jobs pick their status command by version.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn version(&self) -> &Version {
        &self.version
    }

    /// The `build` value as the node reported it.
    pub(crate) fn build(&self) -> &str {
        &self.build
    }

    /// True when the node listed `feature` in `features`.
    pub(crate) fn has_feature(&self, feature: &str) -> bool {
        self.features.iter().any(|f| f == feature)
    }

    /// The partition command this node understands.
    pub(crate) fn replicas_command(&self) -> ReplicasCommand {
        ReplicasCommand::for_features(&self.features)
    }

    /// The connection pool.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Counts one single-record command sent to this node.
    pub(crate) fn count_command(&self) {
        self.commands.fetch_add(1, Ordering::Relaxed);
    }

    /// Single-record commands sent to this node so far.
    #[cfg(test)]
    pub(crate) fn command_count(&self) -> u64 {
        self.commands.load(Ordering::Relaxed)
    }

    fn protocol(&self, message: impl Into<String>) -> Error {
        Error::Protocol {
            node: self.name.clone(),
            message: message.into(),
        }
    }

    /// Sends info `commands` in one request; returns the `(command, value)`
    /// pairs of the reply in order.
    pub(crate) fn info(
        &self,
        commands: &[&str],
        deadline: Deadline,
    ) -> Result<Vec<(String, String)>> {
        let mut conn = self.pool.checkout(&deadline)?;
        let pairs = conn.info(commands, &deadline)?;
        conn.release();
        Ok(pairs)
    }

    /// Sends one info command on a pooled connection and returns its value.
    pub(crate) fn info_value(&self, command: &str, deadline: Deadline) -> Result<String> {
        let pairs = self.info(&[command], deadline)?;
        self.value_in(command, pairs)
    }

    /// The value of `command` in an info reply: an `ERROR:` value is
    /// `Error::Info`, a missing one a protocol error.
    pub(crate) fn value_in(&self, command: &str, pairs: Vec<(String, String)>) -> Result<String> {
        let v = pairs
            .into_iter()
            .find(|(k, _)| k == command)
            .map(|(_, v)| v)
            .ok_or_else(|| self.protocol(format!("no {command} in the info reply")))?;
        match info::parse_error(&v) {
            Some((code, message)) => Err(Error::Info {
                command: command.to_owned(),
                code,
                message,
            }),
            None => Ok(v),
        }
    }

    /// Keeps `conn` as the tend connection.
    pub(crate) fn set_tend_connection(&self, conn: Connection) {
        *self.tend_conn.lock() = Some(conn);
    }

    /// Info for the tend thread, on its own connection (opened when needed,
    /// dropped after any error).
    pub(crate) fn tend_info(
        &self,
        commands: &[&str],
        connect_timeout: std::time::Duration,
        deadline: Deadline,
    ) -> Result<Vec<(String, String)>> {
        let mut slot = self.tend_conn.lock();
        let mut conn = match slot.take() {
            Some(c) => c,
            None => Connection::connect(self.address, connect_timeout, &deadline)?,
        };
        let pairs = conn.info(commands, &deadline)?;
        *slot = Some(conn);
        Ok(pairs)
    }

    /// Sends one request frame and reads one reply frame's messages.
    // Crate-internal node API (docs/architecture.md), used by tests.
    #[cfg(test)]
    pub(crate) fn request(&self, frame: &[u8], deadline: Deadline) -> Result<Vec<Message>> {
        self.send_request(frame, &deadline)?.reply(&deadline)
    }

    /// Sends one request frame on a pooled connection and returns without
    /// waiting for the reply: the caller can send to other nodes first, then
    /// read every reply ([`Sent::reply`]).
    // Crate-internal node API (docs/architecture.md), used by job starts.
    pub(crate) fn send_request(&self, frame: &[u8], deadline: &Deadline) -> Result<Sent<'_>> {
        let mut conn = self.pool.checkout(deadline)?;
        conn.send(frame, deadline)?;
        Ok(Sent { node: self, conn })
    }

    /// Sends one request frame and streams reply messages (read in place)
    /// until one has the LAST bit; `f` returns false to stop early (the connection is then
    /// closed, as the rest of the stream is unread).
    // Crate-internal node API (docs/architecture.md), used by batches and queries.
    pub(crate) fn stream(
        &self,
        frame: &[u8],
        deadline: Deadline,
        f: &mut dyn FnMut(&MessageView<'_>) -> Result<bool>,
    ) -> Result<()> {
        let mut conn = self.pool.checkout(&deadline)?;
        conn.send(frame, &deadline)?;
        // One message at a time, read in place as it arrives: a 1 MiB frame
        // of small records is never held, copied or decoded all at once.
        let mut last = false;
        let mut each = |bytes: &[u8]| {
            let (m, used) = MessageView::parse(bytes).map_err(|e| self.protocol(e.message()))?;
            if used != bytes.len() {
                return Err(self.protocol("a message is shorter than its parts"));
            }
            last = m.header.info3 & info3::LAST != 0;
            Ok(f(&m)? && !last)
        };
        while conn.read_messages(&deadline, &mut each)? {}
        // Stopped by `f` or at the LAST message: reusable only when nothing
        // is left unread (`release` checks).
        if last {
            conn.release();
        }
        Ok(())
    }

    /// Queues `job` for a worker thread, waiting while the queue is full until
    /// the deadline (then a `Queue` timeout).
    pub(crate) fn submit(&self, job: Job, deadline: &Deadline) -> Result<()> {
        let tx = self.queue.lock().clone().ok_or(Error::Closed)?;
        match deadline.remaining() {
            Some(r) => tx.send_timeout(job, r).map_err(|e| match e {
                SendTimeoutError::Timeout(_) => deadline.timeout(TimeoutPhase::Queue, false),
                SendTimeoutError::Disconnected(_) => Error::Closed,
            }),
            None => tx.send(job).map_err(|_| Error::Closed),
        }
    }

    /// Stops accepting work, lets the workers finish what is queued, joins
    /// them and closes the idle connections.
    pub(crate) fn shutdown(&self) {
        drop(self.queue.lock().take());
        let handles = std::mem::take(&mut *self.workers.lock());
        let me = std::thread::current().id();
        for h in handles {
            if h.thread().id() != me {
                let _ = h.join();
            }
        }
        self.pool.close();
        drop(self.tend_conn.lock().take());
    }
}

/// A request sent on a connection of `node`, its reply not read yet.
pub(crate) struct Sent<'a> {
    node: &'a Node,
    conn: crate::net::pool::PooledConnection<'a>,
}

impl Sent<'_> {
    /// Reads the reply frame's messages; the connection goes back to the pool
    /// only when the exchange succeeded.
    pub(crate) fn reply(mut self, deadline: &Deadline) -> Result<Vec<Message>> {
        let (h, body) = self.conn.read_frame(deadline)?;
        if h.kind != proto::TYPE_MESSAGE {
            return Err(self
                .node
                .protocol(format!("message reply of proto type {}", h.kind)));
        }
        let msgs = Message::decode_all(body).map_err(|e| self.node.protocol(e.message()))?;
        self.conn.release();
        Ok(msgs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::message::Header;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::time::Duration;

    fn msg(info3: u8, gen: u32) -> Vec<u8> {
        let m = Message {
            header: Header {
                info3,
                generation: gen,
                ..Header::default()
            },
            ..Message::default()
        };
        let mut b = Vec::new();
        m.encode_body(&mut b);
        b
    }

    /// A server that answers each request (any frame) with `replies[i]`.
    fn scripted(replies: Vec<Vec<Vec<u8>>>) -> (SocketAddr, std::thread::JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let h = std::thread::spawn(move || {
            let mut replies = replies.into_iter().peekable();
            // Serves the replies in order, over as many connections as the
            // client opens; ends when every reply was sent and the client
            // closed its connection.
            while let Ok((mut s, _)) = l.accept() {
                loop {
                    let mut head = [0u8; 8];
                    if s.read_exact(&mut head).is_err() {
                        break;
                    }
                    let len = proto::ProtoHeader::decode(&head).unwrap().length as usize;
                    let mut body = vec![0; len];
                    s.read_exact(&mut body).unwrap();
                    match replies.next() {
                        Some(frames) => {
                            for f in frames {
                                s.write_all(&f).unwrap();
                            }
                        }
                        None => break,
                    }
                }
                if replies.peek().is_none() {
                    return;
                }
            }
        });
        (addr, h)
    }

    fn node(addr: SocketAddr) -> Arc<Node> {
        Node::new(
            "N1".into(),
            addr,
            "8.1.2.0",
            vec!["peers".into()],
            &ClientPolicy::default(),
        )
        .unwrap()
    }

    fn d() -> Deadline {
        Deadline::after(Duration::from_secs(2))
    }

    #[test]
    fn request_stream_and_info_over_one_pooled_connection() {
        let two = [msg(0, 1), msg(0, 2)].concat();
        let (addr, h) = scripted(vec![
            vec![proto::frame(proto::TYPE_MESSAGE, &two)],
            vec![
                proto::frame(proto::TYPE_MESSAGE, &[msg(0, 3), msg(0, 4)].concat()),
                proto::frame(proto::TYPE_MESSAGE, &msg(info3::LAST, 5)),
            ],
            vec![proto::frame(
                proto::TYPE_INFO,
                b"node\tN1\nbuild\t8.1.2.0\n",
            )],
        ]);
        let n = node(addr);
        assert_eq!(
            (n.name(), n.build(), n.version().major),
            ("N1", "8.1.2.0", 8)
        );
        assert!(n.has_feature("peers") && !n.has_feature("x"));
        let msgs = n
            .request(&proto::frame(proto::TYPE_MESSAGE, b"req"), d())
            .unwrap();
        assert_eq!(
            msgs.iter().map(|m| m.header.generation).collect::<Vec<_>>(),
            vec![1, 2]
        );
        let mut seen = Vec::new();
        n.stream(&proto::frame(proto::TYPE_MESSAGE, b"scan"), d(), &mut |m| {
            seen.push(m.header.generation);
            Ok(true)
        })
        .unwrap();
        assert_eq!(seen, vec![3, 4, 5]);
        let info = n.info(&["node", "build"], d()).unwrap();
        assert_eq!(info[1], ("build".to_string(), "8.1.2.0".to_string()));
        assert_eq!(n.pool().open_count(), 1, "one connection served all three");
        n.shutdown();
        h.join().unwrap();
    }

    #[test]
    fn stopping_a_stream_early_closes_its_connection() {
        let (addr, h) = scripted(vec![vec![
            proto::frame(proto::TYPE_MESSAGE, &msg(0, 1)),
            proto::frame(proto::TYPE_MESSAGE, &msg(info3::LAST, 2)),
        ]]);
        let n = node(addr);
        let mut count = 0;
        n.stream(
            &proto::frame(proto::TYPE_MESSAGE, b"scan"),
            d(),
            &mut |_| {
                count += 1;
                Ok(false)
            },
        )
        .unwrap();
        assert_eq!(count, 1);
        assert_eq!(n.pool().open_count(), 0);
        n.shutdown();
        h.join().unwrap();
    }

    #[test]
    fn wrong_frame_types_and_bad_messages_are_protocol_errors() {
        let (addr, h) = scripted(vec![
            vec![proto::frame(proto::TYPE_INFO, b"x\n")],
            vec![proto::frame(proto::TYPE_MESSAGE, &[22, 0, 0])],
        ]);
        let n = node(addr);
        for _ in 0..2 {
            let r = n.request(&proto::frame(proto::TYPE_MESSAGE, b"r"), d());
            assert!(matches!(r, Err(Error::Protocol { .. })), "{r:?}");
            assert_eq!(n.pool().open_count(), 0);
        }
        drop(h);
        n.shutdown();
    }

    #[test]
    fn submitted_jobs_run_and_shutdown_joins() {
        let (addr, _h) = scripted(vec![]);
        let n = node(addr);
        let (tx, rx) = crossbeam_channel::unbounded();
        for i in 0..10 {
            let tx = tx.clone();
            n.submit(Box::new(move || tx.send(i).unwrap()), &d())
                .unwrap();
        }
        // A panicking job does not kill the worker.
        n.submit(Box::new(|| panic!("job panics")), &d()).unwrap();
        let tx2 = tx.clone();
        n.submit(Box::new(move || tx2.send(99).unwrap()), &d())
            .unwrap();
        n.shutdown();
        drop(tx);
        let got: Vec<i32> = rx.iter().collect();
        assert_eq!(got, (0..10).chain([99]).collect::<Vec<_>>());
        assert!(matches!(
            n.submit(Box::new(|| {}), &d()),
            Err(Error::Closed)
        ));
    }
}
