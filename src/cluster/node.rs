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
use crate::error::{Error, Result, TimeoutPhase};
use crate::net::{Connection, Deadline, Pool};
use crate::policy::ClientPolicy;
use crate::wire::message::{info3, Message};
use crate::wire::{info, proto};

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
        conn.send(&info::encode_request(commands), &deadline)?;
        let (h, body) = conn.read_frame(&deadline)?;
        if h.kind != proto::TYPE_INFO {
            return Err(self.protocol(format!("info reply of proto type {}", h.kind)));
        }
        let pairs = info::parse_response(body);
        conn.release();
        Ok(pairs)
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
        conn.send(&info::encode_request(commands), &deadline)?;
        let (h, body) = conn.read_frame(&deadline)?;
        if h.kind != proto::TYPE_INFO {
            return Err(self.protocol(format!("info reply of proto type {}", h.kind)));
        }
        let pairs = info::parse_response(body);
        *slot = Some(conn);
        Ok(pairs)
    }

    /// Sends one request frame and reads one reply frame's messages.
    pub(crate) fn request(&self, frame: &[u8], deadline: Deadline) -> Result<Vec<Message>> {
        let mut conn = self.pool.checkout(&deadline)?;
        conn.send(frame, &deadline)?;
        let (h, body) = conn.read_frame(&deadline)?;
        if h.kind != proto::TYPE_MESSAGE {
            return Err(self.protocol(format!("message reply of proto type {}", h.kind)));
        }
        let msgs = Message::decode_all(body).map_err(|e| self.protocol(e.message()))?;
        conn.release();
        Ok(msgs)
    }

    /// Sends one request frame and streams reply messages until one has the
    /// LAST bit; `f` returns false to stop early (the connection is then
    /// closed, as the rest of the stream is unread).
    pub(crate) fn stream(
        &self,
        frame: &[u8],
        deadline: Deadline,
        f: &mut dyn FnMut(Message) -> Result<bool>,
    ) -> Result<()> {
        let mut conn = self.pool.checkout(&deadline)?;
        conn.send(frame, &deadline)?;
        loop {
            let (h, body) = conn.read_frame(&deadline)?;
            if h.kind != proto::TYPE_MESSAGE {
                return Err(self.protocol(format!("stream frame of proto type {}", h.kind)));
            }
            let msgs = Message::decode_all(body).map_err(|e| self.protocol(e.message()))?;
            for m in msgs {
                let last = m.header.info3 & info3::LAST != 0;
                if !f(m)? {
                    return Ok(());
                }
                if last {
                    conn.release();
                    return Ok(());
                }
            }
        }
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
