//! [`Client`]: the entry point.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::cluster::Cluster;
use crate::command::{self, kv};
use crate::net::Deadline;
use crate::operations::Operation;
use crate::policy::{ClientPolicy, ReadPolicy, WritePolicy};
use crate::Key;
use crate::{Bin, Bins, Record, Value};
use crate::{Error, Result, ResultCode, TimeoutPhase};

use crate::wire::message::{op, Message, MessageView};

/// A connected client. Cheap to clone: clones share the cluster view, the
/// connection pools and the threads. `close()`, or dropping the last clone,
/// stops and joins every thread the client started.
///
/// Single-record commands run on the calling thread; background-job and
/// scan work fans out to per-node worker threads.
///
/// # Examples
/// ```no_run
/// use aerospike_blocking::{Bin, Bins, Client, ClientPolicy, Key, ReadPolicy, WritePolicy};
/// let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
/// let key = Key::new("test", "demo", "k1")?;
/// client.put(&WritePolicy::default(), &key, &[Bin::new("a", 1)])?;
/// let rec = client.get(&ReadPolicy::default(), &key, Bins::All)?.expect("just written");
/// assert_eq!(rec.bin("a").and_then(|v| v.as_int()), Some(1));
/// client.close();
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    cluster: Arc<Cluster>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.cluster.close();
    }
}

/// One node as the client sees it.
///
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
/// for n in client.nodes() {
///     println!("{} at {} runs {}", n.name, n.address, n.build);
/// }
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The node id, e.g. `BB901000000FC02`.
    pub name: String,
    /// The address the client talks to.
    pub address: SocketAddr,
    /// The server build, e.g. `8.1.2.0`.
    pub build: String,
}

/// The type of a secondary index.
///
/// ```
/// use aerospike_blocking::IndexType;
/// assert_eq!(IndexType::Numeric.as_str(), "numeric");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexType {
    /// Integer bin values.
    Numeric,
    /// String bin values.
    String,
}

impl IndexType {
    /// The name used in `sindex-create`.
    ///
    /// ```
    /// use aerospike_blocking::IndexType;
    /// assert_eq!(IndexType::String.as_str(), "string");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            IndexType::Numeric => "numeric",
            IndexType::String => "string",
        }
    }
}

/// How long index creation waits for every node to report the index ready.
const INDEX_SETTLE: Duration = Duration::from_secs(30);

fn server_error(rc: u8, is_write: bool) -> Error {
    let code = ResultCode(rc);
    Error::server(code, is_write && code == ResultCode::TIMEOUT)
}

impl Client {
    /// Connects through `seeds` (`"host:port"` strings): validates the seeds,
    /// discovers their peers, reads the partition map and starts the tend
    /// thread.
    ///
    /// ```no_run
    /// use aerospike_blocking::{Client, ClientPolicy};
    /// let client = Client::connect(&["10.0.0.1:3000", "10.0.0.2:3000"], &ClientPolicy::default())?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn connect(seeds: &[impl AsRef<str>], policy: &ClientPolicy) -> Result<Client> {
        let seeds = seeds.iter().map(|s| s.as_ref().trim().to_owned()).collect();
        let cluster = Cluster::connect(seeds, policy.clone())?;
        Ok(Client {
            inner: Arc::new(Inner { cluster }),
        })
    }

    /// The cluster, for the crate's fan-out features (background jobs,
    /// scans, UDF management).
    pub(crate) fn cluster(&self) -> &Arc<Cluster> {
        &self.inner.cluster
    }

    /// Stops the tend thread and the node workers, joins them and closes the
    /// connections. Later calls fail with `Error::Closed`. Dropping the last
    /// clone does the same.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// client.close();
    /// assert!(!client.is_connected());
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn close(&self) {
        self.cluster().close();
    }

    /// True while the client is open and knows at least one node.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// assert!(client.is_connected());
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn is_connected(&self) -> bool {
        !self.cluster().nodes().is_empty()
    }

    /// The active nodes.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// assert!(!client.nodes().is_empty());
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn nodes(&self) -> Vec<NodeInfo> {
        self.inner
            .cluster
            .nodes()
            .iter()
            .map(|n| NodeInfo {
                name: n.name().to_owned(),
                address: n.address(),
                build: n.build().to_owned(),
            })
            .collect()
    }

    /// Writes `bins` (creating the record unless the policy says otherwise).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Bin, Client, ClientPolicy, Key, WritePolicy, Expiration};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let p = WritePolicy { expiration: Expiration::Seconds(3600), ..WritePolicy::default() };
    /// client.put(&p, &Key::new("test", "demo", 1)?, &[Bin::new("name", "Ann"), Bin::new("age", 31)])?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn put(&self, policy: &WritePolicy, key: &Key, bins: &[Bin]) -> Result<()> {
        self.write_ops(policy, key, op::WRITE, bins)
    }

    /// Appends strings or bytes to bins.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Bin, Client, ClientPolicy, Key, WritePolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// client.append(&WritePolicy::default(), &Key::new("test", "demo", 1)?, &[Bin::new("name", "!")])?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn append(&self, policy: &WritePolicy, key: &Key, bins: &[Bin]) -> Result<()> {
        self.write_ops(policy, key, op::APPEND, bins)
    }

    /// Prepends strings or bytes to bins.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Bin, Client, ClientPolicy, Key, WritePolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// client.prepend(&WritePolicy::default(), &Key::new("test", "demo", 1)?, &[Bin::new("name", ">")])?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn prepend(&self, policy: &WritePolicy, key: &Key, bins: &[Bin]) -> Result<()> {
        self.write_ops(policy, key, op::PREPEND, bins)
    }

    /// Adds integers or floats to bins (a missing bin counts as 0).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Bin, Client, ClientPolicy, Key, WritePolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// client.add(&WritePolicy::default(), &Key::new("test", "demo", 1)?, &[Bin::new("age", 1)])?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn add(&self, policy: &WritePolicy, key: &Key, bins: &[Bin]) -> Result<()> {
        self.write_ops(policy, key, op::INCR, bins)
    }

    fn write_ops(&self, policy: &WritePolicy, key: &Key, kind: u8, bins: &[Bin]) -> Result<()> {
        let request = |buf: &mut Vec<u8>| kv::write(policy, key, kind, bins, buf);
        self.run_with(key, request, policy.into(), true, |reply| {
            match reply.header.result_code {
                0 => Ok(()),
                rc => Err(server_error(rc, true)),
            }
        })?
    }

    /// Runs `msg` (a request built as a [`Message`]) and hands the reply to
    /// `decode` in place.
    fn run_message<T>(
        &self,
        key: &Key,
        msg: &Message,
        retry: command::Retry,
        is_write: bool,
        decode: impl FnMut(&MessageView<'_>) -> T,
    ) -> Result<T> {
        let request = |buf: &mut Vec<u8>| {
            msg.encode_into(buf);
            Ok(())
        };
        self.run_with(key, request, retry, is_write, decode)
    }

    /// Runs the request that `request` writes and hands the reply to
    /// `decode` in place. The request is written into a buffer kept per
    /// thread, so a thread's commands reuse one allocation.
    fn run_with<T>(
        &self,
        key: &Key,
        request: impl FnOnce(&mut Vec<u8>) -> Result<()>,
        retry: command::Retry,
        is_write: bool,
        decode: impl FnMut(&MessageView<'_>) -> T,
    ) -> Result<T> {
        thread_local! {
            static FRAME: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        /// A buffer grown past this (a big write) is not kept.
        const KEEP: usize = 64 * 1024;
        FRAME.with(|cell| {
            // A command run from inside another's decode (never today) gets
            // a buffer of its own.
            let mut own = Vec::new();
            let mut shared = cell.try_borrow_mut();
            let buf = match shared.as_deref_mut() {
                Ok(b) => b,
                Err(_) => &mut own,
            };
            let r = request(buf).and_then(|()| {
                command::execute_with(self.cluster(), key, buf, retry, is_write, decode)
            });
            if buf.capacity() > KEEP {
                *buf = Vec::new();
            }
            r
        })
    }

    /// Reads a record: all bins, some bins or only its header (generation
    /// and expiration). `Ok(None)` when the record does not exist.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Bins, Client, ClientPolicy, Key, ReadPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let key = Key::new("test", "demo", 1)?;
    /// if let Some(r) = client.get(&ReadPolicy::default(), &key, Bins::only(&["name"]))? {
    ///     println!("{:?} (generation {})", r.bin("name"), r.generation);
    /// }
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn get(&self, policy: &ReadPolicy, key: &Key, bins: Bins) -> Result<Option<Record>> {
        let request = |buf: &mut Vec<u8>| kv::read(policy, key, &bins, buf);
        self.run_with(key, request, policy.into(), false, |reply| {
            match reply.header.result_code {
                0 => kv::record_of(&reply.header, reply.ops(), key, false).map(Some),
                2 => Ok(None),
                rc => Err(server_error(rc, false)),
            }
        })?
    }

    /// True when the record exists.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy, Key, ReadPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let found = client.exists(&ReadPolicy::default(), &Key::new("test", "demo", 1)?)?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn exists(&self, policy: &ReadPolicy, key: &Key) -> Result<bool> {
        let request = |buf: &mut Vec<u8>| kv::read(policy, key, &Bins::None, buf);
        self.run_with(key, request, policy.into(), false, |reply| {
            match reply.header.result_code {
                0 => Ok(true),
                2 => Ok(false),
                rc => Err(server_error(rc, false)),
            }
        })?
    }

    /// Deletes a record; returns whether it existed.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy, Key, WritePolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let existed = client.delete(&WritePolicy::default(), &Key::new("test", "demo", 1)?)?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn delete(&self, policy: &WritePolicy, key: &Key) -> Result<bool> {
        let msg = kv::delete(policy, key)?;
        self.run_message(key, &msg, policy.into(), true, |reply| {
            match reply.header.result_code {
                0 => Ok(true),
                2 => Ok(false),
                rc => Err(server_error(rc, true)),
            }
        })?
    }

    /// Resets a record's time to live to the policy's expiration.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy, Expiration, Key, WritePolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let p = WritePolicy { expiration: Expiration::Seconds(600), ..WritePolicy::default() };
    /// client.touch(&p, &Key::new("test", "demo", 1)?)?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn touch(&self, policy: &WritePolicy, key: &Key) -> Result<()> {
        let msg = kv::touch(policy, key)?;
        self.run_message(key, &msg, policy.into(), true, |reply| {
            match reply.header.result_code {
                0 => Ok(()),
                rc => Err(server_error(rc, true)),
            }
        })?
    }

    /// Applies several operations to one record atomically and returns what
    /// the read operations read (a bin read several times holds a list).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{operations, Client, ClientPolicy, Key, WritePolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let rec = client.operate(&WritePolicy::default(), &Key::new("test", "demo", 1)?,
    ///     &[operations::add("n", 5), operations::get_bin("n")])?;
    /// println!("n is now {:?}", rec.bin("n"));
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn operate(&self, policy: &WritePolicy, key: &Key, ops: &[Operation]) -> Result<Record> {
        let (msg, writes) = kv::operate(policy, key, ops)?;
        let retry = if writes {
            command::Retry::from(policy)
        } else {
            command::Retry {
                max_retries: policy.max_retries.max(ReadPolicy::default().max_retries),
                ..command::Retry::from(policy)
            }
        };
        self.run_message(key, &msg, retry, writes, |reply| {
            match reply.header.result_code {
                0 => kv::record_of(&reply.header, reply.ops(), key, true),
                rc => Err(server_error(rc, writes)),
            }
        })?
    }

    /// Runs a registered Lua function on one record (creating it if the
    /// function writes to a missing record) and returns what the function
    /// returned (`None` for nil). A function that raises an error gives
    /// [`Error::Udf`] with the server's text; the record keeps none of its
    /// changes. The policy's filter expression, generation and exists
    /// settings apply as for any write.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy, Key, Value, WritePolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// client.register_udf("udf/counter.lua")?;
    /// let key = Key::new("test", "demo", 1)?;
    /// let n = client.execute_udf(&WritePolicy::default(), &key, "counter", "bump", &[Value::from(5)])?;
    /// println!("counter is now {n:?}");
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn execute_udf(
        &self,
        policy: &WritePolicy,
        key: &Key,
        module: &str,
        function: &str,
        args: &[Value],
    ) -> Result<Option<Value>> {
        let msg = kv::apply(policy, key, module, function, args)?;
        self.run_message(key, &msg, policy.into(), true, |reply| {
            match reply.header.result_code {
                0 | 100 => kv::udf_result(&reply.header, reply.ops(), key),
                rc => Err(server_error(rc, true)),
            }
        })?
    }

    fn info_deadline(&self) -> Deadline {
        Deadline::after(self.cluster().policy().info_timeout)
    }

    /// Sends one info command to any node and returns its value. An `ERROR:`
    /// answer is `Error::Info`.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// println!("namespaces: {}", client.info("namespaces")?);
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn info(&self, command: &str) -> Result<String> {
        let node = self.cluster().any_node()?;
        node.info_value(command, self.info_deadline())
    }

    /// Sends info `commands` to the node named `node_name`; returns the
    /// `(command, value)` pairs as the node answered them.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let name = client.nodes()[0].name.clone();
    /// for (k, v) in client.info_on(&name, &["build", "edition"])? {
    ///     println!("{k} = {v}");
    /// }
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn info_on(&self, node_name: &str, commands: &[&str]) -> Result<Vec<(String, String)>> {
        let node = self
            .inner
            .cluster
            .node(node_name)
            .ok_or_else(|| Error::NoNode(format!("no active node named {node_name:?}")))?;
        node.info(commands, self.info_deadline())
    }

    /// Removes every record of a set (or of the namespace when `set` is
    /// empty), or only those last updated before `before`. The server
    /// spreads the truncation to every node.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// client.truncate("test", "demo", None)?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn truncate(&self, namespace: &str, set: &str, before: Option<SystemTime>) -> Result<()> {
        let cmd = truncate_command(namespace, set, before)?;
        let v = self.info(&cmd)?;
        expect_ok(&cmd, &v)
    }

    /// Creates a secondary index on `bin` and waits until every node reports
    /// it readable (`state=RW` in `sindex-list`), for up to 30 s.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy, IndexType};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// client.create_index("test", "people", "idx_age", "age", IndexType::Numeric)?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn create_index(
        &self,
        namespace: &str,
        set: &str,
        index_name: &str,
        bin: &str,
        index_type: IndexType,
    ) -> Result<()> {
        let cmd = sindex_command("create", namespace, set, index_name)
            + &format!(";bin={bin};type={}", index_type.as_str());
        let v = self.info(&cmd)?;
        expect_ok(&cmd, &v)?;
        self.wait_for_index(namespace, index_name)
    }

    fn wait_for_index(&self, namespace: &str, index_name: &str) -> Result<()> {
        let start = Instant::now();
        let list_cmd = format!("sindex-list:ns={namespace}");
        let mut pause = Duration::from_millis(2);
        loop {
            let nodes = self.cluster().nodes();
            let cmd = list_cmd.clone();
            let out = self
                .inner
                .cluster
                .fan_out(&nodes, self.info_deadline(), move |node, d| {
                    node.info_value(&cmd, d)
                });
            let mut ready = !out.is_empty();
            for (_, r) in out {
                ready &= index_ready(&r?, index_name);
            }
            if ready {
                return Ok(());
            }
            if start.elapsed() >= INDEX_SETTLE {
                return Err(Error::Timeout {
                    phase: TimeoutPhase::Settle,
                    elapsed: start.elapsed(),
                    in_doubt: false,
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(200));
        }
    }

    /// Drops a secondary index. Dropping a missing index succeeds, as on the
    /// server.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// client.drop_index("test", "people", "idx_age")?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn drop_index(&self, namespace: &str, set: &str, index_name: &str) -> Result<()> {
        let cmd = sindex_command("delete", namespace, set, index_name);
        let v = self.info(&cmd)?;
        expect_ok(&cmd, &v)
    }
}

/// The info command of `Client::truncate`.
fn truncate_command(namespace: &str, set: &str, before: Option<SystemTime>) -> Result<String> {
    let mut cmd = if set.is_empty() {
        format!("truncate-namespace:namespace={namespace}")
    } else {
        format!("truncate:namespace={namespace};set={set}")
    };
    if let Some(t) = before {
        let nanos = t
            .duration_since(UNIX_EPOCH)
            .map_err(|_| Error::invalid("truncate time is before 1970"))?
            .as_nanos();
        cmd.push_str(&format!(";lut={nanos}"));
    }
    Ok(cmd)
}

/// `sindex-<verb>:ns=..[;set=..];indexname=..`.
fn sindex_command(verb: &str, namespace: &str, set: &str, index_name: &str) -> String {
    let mut cmd = format!("sindex-{verb}:ns={namespace}");
    if !set.is_empty() {
        cmd.push_str(&format!(";set={set}"));
    }
    cmd.push_str(&format!(";indexname={index_name}"));
    cmd
}

/// True when a `sindex-list` value shows index `name` in state RW.
fn index_ready(list: &str, name: &str) -> bool {
    let needle = format!("indexname={name}");
    list.split(';').any(|entry| {
        let mut kv = entry.split(':');
        kv.clone().any(|p| p == needle) && kv.any(|p| p == "state=RW")
    })
}

fn expect_ok(command: &str, value: &str) -> Result<()> {
    if value.trim().eq_ignore_ascii_case("ok") {
        Ok(())
    } else {
        Err(Error::Info {
            command: command.to_owned(),
            code: ResultCode::SERVER_ERROR,
            message: value.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::cluster::partition::{parse_replicas, ReplicasCommand};
    use aerospike_embedded::EmbeddedCluster;

    /// Who each node says it masters, asked on a connection of its own.
    fn masters(client: &Client) -> HashMap<u16, String> {
        let mut owner = HashMap::new();
        for node in client.cluster().nodes() {
            let v = node
                .info_value("replicas", Deadline::after(Duration::from_secs(2)))
                .unwrap();
            let r = parse_replicas(&v, ReplicasCommand::Replicas).unwrap();
            let bm = &r["test"].bitmaps[0];
            for pid in 0..4096u16 {
                if bm[usize::from(pid) >> 3] & (0x80 >> (pid & 7)) != 0 {
                    assert!(
                        owner.insert(pid, node.name().to_owned()).is_none(),
                        "two masters for {pid}"
                    );
                }
            }
        }
        owner
    }

    fn counts(client: &Client) -> HashMap<String, u64> {
        client
            .cluster()
            .nodes()
            .iter()
            .map(|n| (n.name().to_owned(), n.command_count()))
            .collect()
    }

    #[test]
    fn ten_thousand_records_each_go_to_their_master() {
        let ec = EmbeddedCluster::start(3).unwrap();
        let client = Client::connect(&ec.seeds(), &ClientPolicy::default()).unwrap();
        assert_eq!(client.nodes().len(), 3);
        let owner = masters(&client);
        assert_eq!(owner.len(), 4096);
        let before = counts(&client);
        let mut expected: HashMap<String, u64> = HashMap::new();
        let wp = WritePolicy::default();
        for i in 0..10_000i64 {
            let key = Key::new("test", "route", i).unwrap();
            client.put(&wp, &key, &[Bin::new("i", i)]).unwrap();
            *expected.entry(owner[&key.partition()].clone()).or_default() += 2;
        }
        let rp = ReadPolicy::default();
        for i in 0..10_000i64 {
            let key = Key::new("test", "route", i).unwrap();
            let r = client.get(&rp, &key, Bins::All).unwrap().unwrap();
            assert_eq!(r.bin("i").and_then(crate::Value::as_int), Some(i));
        }
        let after = counts(&client);
        for (name, want) in &expected {
            assert_eq!(after[name] - before[name], *want, "node {name}");
        }
        assert_eq!(expected.len(), 3, "every node masters some keys");
    }

    #[test]
    fn moved_partition_is_followed_after_a_tend() {
        let ec = EmbeddedCluster::start(3).unwrap();
        let policy = ClientPolicy {
            tend_interval: Duration::from_millis(20),
            ..ClientPolicy::default()
        };
        let client = Client::connect(&ec.seeds(), &policy).unwrap();
        let key = Key::new("test", "move", "k").unwrap();
        let pid = key.partition();
        let old = client.cluster().master_node("test", pid).unwrap();
        let target = client
            .nodes()
            .into_iter()
            .find(|n| n.name != old.name())
            .unwrap()
            .name;
        ec.move_partition("test", pid, &target).unwrap();
        let start = Instant::now();
        while client.cluster().master_node("test", pid).unwrap().name() != target {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "map never refreshed"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let before = counts(&client);
        client
            .put(&WritePolicy::default(), &key, &[Bin::new("a", 1)])
            .unwrap();
        let after = counts(&client);
        assert_eq!(after[&target] - before[&target], 1);
    }

    #[test]
    fn fan_out_runs_on_every_node_and_reports_each() {
        let ec = EmbeddedCluster::start(3).unwrap();
        let client = Client::connect(&ec.seeds(), &ClientPolicy::default()).unwrap();
        let cluster = client.cluster();
        let nodes = cluster.nodes();
        let out = cluster.fan_out(
            &nodes,
            Deadline::after(Duration::from_secs(2)),
            |node, d| {
                let name = node.info_value("node", d)?;
                let thread = std::thread::current().name().unwrap_or("").to_owned();
                Ok((name, thread))
            },
        );
        assert_eq!(out.len(), 3);
        for (node, r) in out {
            let (name, thread) = r.unwrap();
            assert_eq!(name, node.name());
            assert!(
                thread.starts_with(&format!("aerospike-{}-w", node.name())),
                "{thread}"
            );
        }
        // Errors are per node.
        let out = cluster.fan_out(
            &nodes,
            Deadline::after(Duration::from_secs(2)),
            |node, _| {
                if node.name() == "never" {
                    Ok(())
                } else {
                    Err(Error::invalid(node.name().to_owned()))
                }
            },
        );
        assert!(out
            .iter()
            .all(|(n, r)| matches!(r, Err(Error::InvalidArgument(m)) if m == n.name())));
    }

    #[test]
    fn full_node_queue_times_out_in_queue_phase() {
        let ec = EmbeddedCluster::start(1).unwrap();
        let policy = ClientPolicy {
            workers_per_node: 1,
            node_queue_capacity: 1,
            ..ClientPolicy::default()
        };
        let client = Client::connect(&ec.seeds(), &policy).unwrap();
        let node = client.cluster().nodes()[0].clone();
        let (release_tx, release_rx) = crossbeam_channel::bounded::<()>(0);
        let d = Deadline::after(Duration::from_secs(5));
        // One job runs (blocked), one waits in the queue: the queue is full.
        node.submit(
            Box::new(move || {
                let _ = release_rx.recv();
            }),
            &d,
        )
        .unwrap();
        let start = Instant::now();
        while node
            .submit(Box::new(|| {}), &Deadline::after(Duration::from_millis(1)))
            .is_err()
        {
            assert!(start.elapsed() < Duration::from_secs(2));
        }
        let out = client.cluster().fan_out(
            std::slice::from_ref(&node),
            Deadline::after(Duration::from_millis(30)),
            |_, _| Ok(()),
        );
        match &out[0].1 {
            Err(Error::Timeout { phase, .. }) => assert_eq!(*phase, TimeoutPhase::Queue),
            other => panic!("expected a queue timeout, got {other:?}"),
        }
        drop(release_tx);
        client.close();
    }

    #[test]
    fn exhausted_pool_does_not_stop_tending() {
        let ec = EmbeddedCluster::start(2).unwrap();
        let policy = ClientPolicy {
            max_connections_per_node: 1,
            tend_interval: Duration::from_millis(10),
            max_tend_failures: 1,
            ..ClientPolicy::default()
        };
        let client = Client::connect(&ec.seeds(), &policy).unwrap();
        let nodes = client.cluster().nodes();
        let held: Vec<_> = nodes
            .iter()
            .map(|n| {
                n.pool()
                    .checkout(&Deadline::after(Duration::from_secs(1)))
                    .unwrap()
            })
            .collect();
        for _ in 0..5 {
            assert!(!client.cluster().tend(), "node list unchanged");
        }
        assert_eq!(client.nodes().len(), 2);
        // A command waits for the pool, then fails in the Queue phase.
        let key = Key::new("test", "pool", 1).unwrap();
        let rp = ReadPolicy {
            total_timeout: Duration::from_millis(30),
            ..ReadPolicy::default()
        };
        match client.get(&rp, &key, Bins::All) {
            Err(Error::Timeout { phase, .. }) => assert_eq!(phase, TimeoutPhase::Queue),
            other => panic!("expected a queue timeout, got {other:?}"),
        }
        drop(held);
        assert!(client
            .get(&ReadPolicy::default(), &key, Bins::All)
            .unwrap()
            .is_none());
    }

    #[test]
    fn sequence_reads_fall_back_to_the_replica() {
        use crate::policy::Replica;
        use aerospike_embedded::{Fault, FaultScope};
        let ec = EmbeddedCluster::start(3).unwrap();
        let client = Client::connect(&ec.seeds(), &ClientPolicy::default()).unwrap();
        let key = Key::new("test", "seq", "k").unwrap();
        client
            .put(&WritePolicy::default(), &key, &[Bin::new("a", 1)])
            .unwrap();
        let master = client
            .cluster()
            .master_node("test", key.partition())
            .unwrap();
        let replica = client
            .cluster()
            .replica_node("test", key.partition(), 1)
            .unwrap();
        assert_ne!(master.name(), replica.name());
        let handle = ec
            .nodes()
            .into_iter()
            .find(|n| n.name() == master.name())
            .unwrap();
        handle.set_fault_for(FaultScope::Messages, Fault::DropConnection, None);
        let one_retry = |replica| ReadPolicy {
            max_retries: 1,
            replica,
            ..ReadPolicy::default()
        };
        assert!(matches!(
            client.get(&one_retry(Replica::Master), &key, Bins::All),
            Err(Error::Io { .. })
        ));
        let before = replica.command_count();
        let r = client
            .get(&one_retry(Replica::Sequence), &key, Bins::All)
            .unwrap()
            .unwrap();
        assert_eq!(r.bin("a").and_then(crate::Value::as_int), Some(1));
        assert_eq!(replica.command_count() - before, 1);
    }

    #[test]
    fn closed_client_refuses_work() {
        let ec = EmbeddedCluster::start(1).unwrap();
        let client = Client::connect(&ec.seeds(), &ClientPolicy::default()).unwrap();
        let other = client.clone();
        client.close();
        let key = Key::new("test", "closed", 1).unwrap();
        assert!(matches!(
            other.get(&ReadPolicy::default(), &key, Bins::All),
            Err(Error::Closed)
        ));
        assert!(matches!(other.info("build"), Err(Error::Closed)));
        assert!(!other.is_connected());
    }
}

#[cfg(test)]
mod command_text_tests {
    use super::*;
    use crate::wire::info;
    use aerospike_proto::fixtures;

    #[test]
    fn index_state_from_the_fixture() {
        let text = fixtures::read("sindex-single.txt");
        let lists: Vec<String> = text
            .lines()
            .filter_map(|l| l.strip_prefix("S>C "))
            .flat_map(|h| info::parse_response(&fixtures::unhex(h.trim())[8..]))
            .filter(|(k, _)| k == "sindex-list:ns=test")
            .map(|(_, v)| v)
            .collect();
        assert!(lists.len() >= 2);
        assert!(lists[0].contains("state=WO"));
        assert!(!index_ready(&lists[0], "idx_age"));
        assert!(lists.iter().any(|l| index_ready(l, "idx_age")));
        assert!(!index_ready(&lists[1], "idx_ag"));
        assert!(!index_ready("", "idx_age"));
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone + 'static>() {}
        check::<Client>();
    }

    #[test]
    fn command_texts() {
        assert_eq!(
            truncate_command("test", "kv", None).unwrap(),
            "truncate:namespace=test;set=kv"
        );
        assert_eq!(
            truncate_command("test", "", Some(UNIX_EPOCH + Duration::from_secs(2))).unwrap(),
            "truncate-namespace:namespace=test;lut=2000000000"
        );
        // sindex-single.txt
        assert_eq!(
            sindex_command("create", "test", "bgops", "idx_age") + ";bin=age;type=numeric",
            "sindex-create:ns=test;set=bgops;indexname=idx_age;bin=age;type=numeric"
        );
        assert_eq!(
            sindex_command("delete", "test", "", "idx_age"),
            "sindex-delete:ns=test;indexname=idx_age"
        );
        assert!(expect_ok("x", "ok").is_ok());
        assert!(matches!(expect_ok("x", "no"), Err(Error::Info { .. })));
    }
}

#[cfg(test)]
mod timeout_phase_tests {
    use std::net::{TcpListener, TcpStream};

    use crate::net::{Connection, Deadline};
    use crate::{Error, TimeoutPhase};

    /// A listener whose accept queue is full: the kernel drops further SYNs,
    /// so a connect to it hangs until its timeout, like a silent host.
    fn silent_listener() -> (TcpListener, Vec<TcpStream>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let mut held = Vec::new();
        for _ in 0..4096 {
            match TcpStream::connect_timeout(&addr, std::time::Duration::from_millis(50)) {
                Ok(s) => held.push(s),
                Err(_) => return (l, held),
            }
        }
        panic!("the accept queue never filled");
    }

    #[test]
    fn a_connect_that_never_completes_is_a_connect_timeout() {
        let (l, _held) = silent_listener();
        let addr = l.local_addr().unwrap();
        let d = Deadline::after(std::time::Duration::from_secs(5));
        let start = std::time::Instant::now();
        match Connection::connect(addr, std::time::Duration::from_millis(100), &d) {
            Err(Error::Timeout {
                phase, in_doubt, ..
            }) => {
                assert_eq!(phase, TimeoutPhase::Connect);
                assert!(!in_doubt, "nothing was sent");
            }
            other => panic!("expected a connect timeout, got {:?}", other.err()),
        }
        let took = start.elapsed();
        assert!(took >= std::time::Duration::from_millis(100), "{took:?}");
        assert!(
            took < std::time::Duration::from_secs(2),
            "connect_timeout, not the total: {took:?}"
        );
    }

    #[test]
    fn a_request_the_server_never_reads_is_a_send_timeout() {
        // Accepts, then never reads: once the socket buffers are full a
        // write blocks until the socket timeout.
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || l.accept().map(|(s, _)| s));
        let d = Deadline::after(std::time::Duration::from_secs(10))
            .with_socket_timeout(std::time::Duration::from_millis(200));
        let mut c = Connection::connect(addr, std::time::Duration::from_secs(1), &d).unwrap();
        let _held = server.join().unwrap().unwrap();
        let big = vec![0u8; 64 << 20];
        let start = std::time::Instant::now();
        match c.send(&big, &d) {
            Err(Error::Timeout { phase, .. }) => assert_eq!(phase, TimeoutPhase::Send),
            other => panic!("expected a send timeout, got {:?}", other.err()),
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}

/// A server older than 8.1 that offers neither `replicas` nor peer discovery,
/// played by a minimal fake speaking the real protocol: the client must read
/// the partition map with `replicas-master` and keep working.
#[cfg(test)]
mod old_server_tests {
    use std::collections::HashMap;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::wire::message::{field, info2, Header};
    use crate::wire::proto::{self, Split};
    use crate::wire::{base64, info};

    type Seen = Arc<Mutex<Vec<String>>>;
    type Store = Arc<Mutex<HashMap<Vec<u8>, Vec<crate::wire::message::Op>>>>;

    fn answer(cmd: &str, all: &str) -> String {
        match cmd {
            "node" => "BB9000000000001".into(),
            "build" => "4.9.0.3".into(),
            "features" => "pipelining;batch-index;udf".into(),
            "partition-generation" | "peers-generation" => "1".into(),
            "replicas-master" => format!("test:{all}"),
            _ => String::new(),
        }
    }

    fn serve(mut s: TcpStream, seen: Seen, store: Store) {
        let all = base64::encode(&[0xff; 512]);
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            buf.extend_from_slice(&chunk[..n]);
            while let Ok(Split::Frame {
                header,
                body,
                consumed,
            }) = proto::split_frame(&buf)
            {
                let reply = if header.kind == proto::TYPE_INFO {
                    let mut out = String::new();
                    for c in info::parse_request(body) {
                        out.push_str(&format!("{c}\t{}\n", answer(&c, &all)));
                        seen.lock().unwrap().push(c);
                    }
                    proto::frame(proto::TYPE_INFO, out.as_bytes())
                } else {
                    let m = Message::decode_all(body).unwrap().remove(0);
                    let digest = m.field(field::DIGEST).unwrap().data.clone();
                    let mut store = store.lock().unwrap();
                    let (code, ops) = if m.header.info2 & info2::WRITE != 0 {
                        store.insert(digest, m.ops.clone());
                        (0, Vec::new())
                    } else {
                        match store.get(&digest) {
                            Some(ops) => (0, ops.clone()),
                            None => (ResultCode::KEY_NOT_FOUND.0, Vec::new()),
                        }
                    };
                    let ops = ops
                        .into_iter()
                        .map(|mut o| {
                            o.kind = op::READ;
                            o
                        })
                        .collect();
                    Message {
                        header: Header {
                            result_code: code,
                            generation: 1,
                            ..Header::default()
                        },
                        fields: Vec::new(),
                        ops,
                    }
                    .encode()
                };
                buf.drain(..consumed);
                if s.write_all(&reply).is_err() {
                    return;
                }
            }
        }
    }

    #[test]
    fn a_node_without_replicas_or_peers_features_is_served_through_replicas_master() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let seen: Seen = Arc::default();
        let store: Store = Arc::default();
        let (s2, st2) = (seen.clone(), store.clone());
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let (a, b) = (s2.clone(), st2.clone());
                std::thread::spawn(move || serve(s, a, b));
            }
        });
        let client = Client::connect(&[addr], &ClientPolicy::default()).unwrap();
        let nodes = client.nodes();
        assert_eq!(nodes.len(), 1);
        assert_eq!(nodes[0].build, "4.9.0.3");
        let key = Key::new("test", "old", 1).unwrap();
        client
            .put(&WritePolicy::default(), &key, &[Bin::new("a", 5)])
            .unwrap();
        let r = client
            .get(&ReadPolicy::default(), &key, Bins::All)
            .unwrap()
            .unwrap();
        assert_eq!(r.bin("a").and_then(crate::Value::as_int), Some(5));
        let missing = Key::new("test", "old", 2).unwrap();
        assert!(!client.exists(&ReadPolicy::default(), &missing).unwrap());
        let seen = seen.lock().unwrap();
        assert!(seen.iter().any(|c| c == "replicas-master"), "{seen:?}");
        assert!(
            !seen
                .iter()
                .any(|c| c == "replicas" || c == "replicas-all" || c == "peers-clear-std"),
            "asked an 8.1-only command: {seen:?}"
        );
        client.close();
    }
}
