//! Policies: how the client connects ([`ClientPolicy`]) and how each read
//! ([`ReadPolicy`]) or write ([`WritePolicy`]) is sent, timed and retried.
//!
//! Every policy has a `Default` that matches the official clients' defaults
//! where they exist; change fields with struct update syntax.

use std::time::Duration;

use crate::exp::Expression;

/// How the client connects to and watches the cluster.
///
/// ```
/// use aerospike_blocking::ClientPolicy;
/// use std::time::Duration;
/// let p = ClientPolicy { tend_interval: Duration::from_millis(250), ..ClientPolicy::default() };
/// assert_eq!(p.workers_per_node, 1);
/// ```
#[derive(Debug, Clone)]
pub struct ClientPolicy {
    /// Longest time to open one TCP connection. Default 1 s.
    pub connect_timeout: Duration,
    /// Total timeout of each info request: the tend thread's, and those of
    /// `Client::info`, `info_on`, `truncate` and the index calls. Default 1 s.
    pub info_timeout: Duration,
    /// Pause between two tend cycles. Default 1 s.
    pub tend_interval: Duration,
    /// Most connections open to one node at once (the pool bound). A command
    /// that finds them all busy waits for one until its deadline, then fails
    /// with a `Queue` timeout. Default 100.
    pub max_connections_per_node: usize,
    /// Idle connections older than this are closed instead of reused (keep it
    /// below the server's `proto-fd-idle-ms`). Zero keeps them forever.
    /// Default 55 s.
    pub idle_timeout: Duration,
    /// Worker threads per node, which run fan-out work (background job starts,
    /// status polls, scans, info to all nodes). Default 1.
    pub workers_per_node: usize,
    /// Jobs that may wait in one node's worker queue. When the queue is full a
    /// fan-out waits until its deadline, then fails that node with a `Queue`
    /// timeout. Default 256.
    pub node_queue_capacity: usize,
    /// When set, nodes that report another `cluster-name` are refused.
    pub cluster_name: Option<String>,
    /// Consecutive failed tends after which a node is dropped. Default 3.
    pub max_tend_failures: u32,
    /// When true (the default), `Client::connect` fails unless a seed answered.
    pub fail_if_not_connected: bool,
}

impl Default for ClientPolicy {
    fn default() -> Self {
        ClientPolicy {
            connect_timeout: Duration::from_secs(1),
            info_timeout: Duration::from_secs(1),
            tend_interval: Duration::from_secs(1),
            max_connections_per_node: 100,
            idle_timeout: Duration::from_secs(55),
            workers_per_node: 1,
            node_queue_capacity: 256,
            cluster_name: None,
            max_tend_failures: 3,
            fail_if_not_connected: true,
        }
    }
}

/// Which copy of a partition serves a read.
///
/// ```
/// use aerospike_blocking::Replica;
/// assert_eq!(Replica::default(), Replica::Master);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Replica {
    /// Always the master.
    #[default]
    Master,
    /// The master first, then each replica in turn on retries.
    Sequence,
}

/// How a read is sent.
///
/// ```
/// use aerospike_blocking::ReadPolicy;
/// use std::time::Duration;
/// let p = ReadPolicy { total_timeout: Duration::from_millis(200), max_retries: 5, ..ReadPolicy::default() };
/// assert_eq!(p.socket_timeout, Duration::from_secs(30));
/// ```
#[derive(Debug, Clone)]
pub struct ReadPolicy {
    /// Budget of the whole command across retries; also sent to the server
    /// as the transaction timeout. Zero = no limit. Default 1 s.
    pub total_timeout: Duration,
    /// Longest single socket read or write (capped by what remains of the
    /// total). Zero = no limit. Default 30 s.
    pub socket_timeout: Duration,
    /// Retries after the first attempt (network errors, socket timeouts,
    /// partition unavailable). Default 2.
    pub max_retries: u32,
    /// Pause before each retry. Default 0.
    pub sleep_between_retries: Duration,
    /// Only records matching the expression are read; others answer
    /// `FILTERED_OUT`.
    pub filter_expression: Option<Expression>,
    /// Which copy serves the read. Default master.
    pub replica: Replica,
    /// Send the user key along with its digest. Default false.
    pub send_key: bool,
}

impl Default for ReadPolicy {
    fn default() -> Self {
        ReadPolicy {
            total_timeout: Duration::from_secs(1),
            socket_timeout: Duration::from_secs(30),
            max_retries: 2,
            sleep_between_retries: Duration::ZERO,
            filter_expression: None,
            replica: Replica::Master,
            send_key: false,
        }
    }
}

impl ReadPolicy {
    /// This policy, reading only records that match an AEL where-clause
    /// (sets [`filter_expression`](Self::filter_expression)). Bad text is an
    /// [`Error::Expression`](crate::Error::Expression) naming its position.
    ///
    /// ```
    /// use aerospike_blocking::ReadPolicy;
    /// let p = ReadPolicy::default().where_ael("$.age >= 18")?;
    /// assert_eq!(p.filter_expression.unwrap().to_string(), "$.age >= 18");
    /// assert!(ReadPolicy::default().where_ael("$.age >=").is_err());
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn where_ael(mut self, text: &str) -> crate::Result<Self> {
        self.filter_expression = Some(Expression::from_ael(text)?);
        Ok(self)
    }
}

/// A record's time to live, set by a write.
///
/// ```
/// use aerospike_blocking::Expiration;
/// assert_eq!(Expiration::NeverExpire.to_ttl(), 0xFFFF_FFFF);
/// assert_eq!(Expiration::Seconds(60).to_ttl(), 60);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Expiration {
    /// The namespace's `default-ttl` (wire value 0).
    #[default]
    NamespaceDefault,
    /// Expire this many seconds from now.
    Seconds(u32),
    /// Never expire (wire value -1).
    NeverExpire,
    /// Keep the record's current expiration (wire value -2).
    DontUpdate,
}

impl Expiration {
    /// The longest time to live a server accepts: 10 years
    /// (`MAX_ALLOWED_TTL`; a longer one fails the write with a parameter
    /// error, and in a background job fails every record).
    ///
    /// ```
    /// use aerospike_blocking::Expiration;
    /// assert_eq!(Expiration::MAX_SECONDS, 10 * 365 * 24 * 3600);
    /// ```
    pub const MAX_SECONDS: u32 = 10 * 365 * 24 * 3600;

    /// The wire value, or an error before anything is sent when the server
    /// would refuse it ([`Expiration::Seconds`] above [`Expiration::MAX_SECONDS`]).
    ///
    /// ```
    /// use aerospike_blocking::Expiration;
    /// assert_eq!(Expiration::Seconds(3600).checked_ttl()?, 3600);
    /// assert!(Expiration::Seconds(Expiration::MAX_SECONDS + 1).checked_ttl().is_err());
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a TTL over 10 years.
    pub fn checked_ttl(self) -> crate::Result<u32> {
        match self {
            Expiration::Seconds(s) if s > Self::MAX_SECONDS => Err(crate::Error::invalid(format!(
                "expiration of {s} s is over the server's limit of {} s (10 years)",
                Self::MAX_SECONDS
            ))),
            _ => Ok(self.to_ttl()),
        }
    }

    /// The value sent in the message header's record TTL.
    ///
    /// ```
    /// use aerospike_blocking::Expiration;
    /// assert_eq!(Expiration::DontUpdate.to_ttl(), 0xFFFF_FFFE);
    /// ```
    pub fn to_ttl(self) -> u32 {
        match self {
            Expiration::NamespaceDefault => 0,
            Expiration::Seconds(s) => s,
            Expiration::NeverExpire => u32::MAX,
            Expiration::DontUpdate => u32::MAX - 1,
        }
    }
}

/// Whether a write checks the record's generation first.
///
/// ```
/// use aerospike_blocking::GenerationPolicy;
/// assert_eq!(GenerationPolicy::default(), GenerationPolicy::None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GenerationPolicy {
    /// No check.
    #[default]
    None,
    /// Fail with `GENERATION_ERROR` unless the generation equals this.
    ExpectEqual(u32),
    /// Fail with `GENERATION_ERROR` unless this value is greater than the
    /// record's generation (the server compares `value > generation`).
    ExpectGreater(u32),
}

/// What a write does depending on whether the record exists.
///
/// ```
/// use aerospike_blocking::RecordExistsAction;
/// assert_eq!(RecordExistsAction::default(), RecordExistsAction::Update);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordExistsAction {
    /// Create or update; other bins are kept.
    #[default]
    Update,
    /// Update only; fails with `KEY_NOT_FOUND` when missing.
    UpdateOnly,
    /// Create or replace all bins.
    Replace,
    /// Replace only; fails with `KEY_NOT_FOUND` when missing.
    ReplaceOnly,
    /// Create only; fails with `KEY_EXISTS` when present.
    CreateOnly,
}

/// How a write is sent.
///
/// ```
/// use aerospike_blocking::{Expiration, GenerationPolicy, WritePolicy};
/// let p = WritePolicy {
///     expiration: Expiration::Seconds(3600),
///     generation: GenerationPolicy::ExpectEqual(2),
///     send_key: true,
///     ..WritePolicy::default()
/// };
/// assert_eq!(p.max_retries, 0);
/// ```
#[derive(Debug, Clone)]
pub struct WritePolicy {
    /// Budget of the whole command across retries, also sent to the server.
    /// Zero = no limit. Default 1 s.
    pub total_timeout: Duration,
    /// Longest single socket call. Zero = no limit. Default 30 s.
    pub socket_timeout: Duration,
    /// Retries after the first attempt. Writes are not idempotent in general,
    /// so the default is 0; a retried write that had been applied may apply
    /// twice.
    pub max_retries: u32,
    /// Pause before each retry. Default 0.
    pub sleep_between_retries: Duration,
    /// Only records matching the expression are written; others answer
    /// `FILTERED_OUT`.
    pub filter_expression: Option<Expression>,
    /// The record's new time to live. Default: the namespace default.
    pub expiration: Expiration,
    /// Generation check. Default none.
    pub generation: GenerationPolicy,
    /// Store the user key with the record. Default false.
    pub send_key: bool,
    /// Deletes leave a tombstone (Enterprise; CE accepts the flag).
    pub durable_delete: bool,
    /// What to do depending on whether the record exists. Default update.
    pub record_exists_action: RecordExistsAction,
    /// `operate` returns one result per operation, writes included.
    pub respond_all_ops: bool,
}

impl Default for WritePolicy {
    fn default() -> Self {
        WritePolicy {
            total_timeout: Duration::from_secs(1),
            socket_timeout: Duration::from_secs(30),
            max_retries: 0,
            sleep_between_retries: Duration::ZERO,
            filter_expression: None,
            expiration: Expiration::NamespaceDefault,
            generation: GenerationPolicy::None,
            send_key: false,
            durable_delete: false,
            record_exists_action: RecordExistsAction::Update,
            respond_all_ops: false,
        }
    }
}

impl WritePolicy {
    /// This policy, writing only records that match an AEL where-clause
    /// (sets [`filter_expression`](Self::filter_expression)); other records
    /// answer `FILTERED_OUT`. Bad text is an
    /// [`Error::Expression`](crate::Error::Expression) naming its position.
    ///
    /// ```
    /// use aerospike_blocking::WritePolicy;
    /// let p = WritePolicy::default().where_ael("$.tier == 'free'")?;
    /// assert!(p.filter_expression.is_some());
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn where_ael(mut self, text: &str) -> crate::Result<Self> {
        self.filter_expression = Some(Expression::from_ael(text)?);
        Ok(self)
    }
}
