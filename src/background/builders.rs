//! The fluent builders of background jobs: pick a verb (update, delete, touch,
//! UDF), narrow the records, set the options, then `execute()`.

use std::time::Duration;

use crate::exp::Expression;
use crate::operations::{self, Operation};
use crate::policy::Expiration;
use crate::query::Filter;
use crate::task::{ExecuteTask, TaskKind};
use crate::Value;
use crate::{Error, Result};

use super::request::{random_task_id, JobAction, Scope, StartRequest};
use super::session::{DataSet, Session};
use super::start;

/// Default limit on the start call (the official clients' write timeout).
const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_millis(1_000);
/// Default socket timeout the server applies to the job's connection.
const DEFAULT_SOCKET_TIMEOUT: Duration = Duration::from_millis(30_000);

/// Picks what a background job does. Get one from
/// [`Session::background_task`].
///
/// # Examples
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// # use aerospike_blocking::background::DataSet;
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
/// let users = DataSet::of("test", "users");
/// let bg = client.session().background_task();
/// let task = bg.delete(&users).where_ael("$.last_login < 1700000000").execute()?;
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BackgroundTaskSession {
    session: Session,
}

impl BackgroundTaskSession {
    pub(crate) fn new(session: Session) -> Self {
        BackgroundTaskSession { session }
    }

    /// An update of the records of `dataset`: add bin operations with
    /// [`bin`](BackgroundOperationBuilder::bin) or
    /// [`operation`](BackgroundOperationBuilder::operation). Executing an
    /// update without any bin operation is an error.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.update(&DataSet::of("test", "users")).bin("visits").add(1).execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn update(&self, dataset: &DataSet) -> BackgroundOperationBuilder {
        BackgroundOperationBuilder::new(self.session.clone(), dataset, Verb::Update)
    }

    /// Deletes the records of `dataset` (that match the filters).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.delete(&DataSet::of("test", "users")).where_ael("$.active == false").execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn delete(&self, dataset: &DataSet) -> BackgroundOperationBuilder {
        BackgroundOperationBuilder::new(self.session.clone(), dataset, Verb::Delete)
    }

    /// Touches the records of `dataset`: resets their time to live (the
    /// namespace default, or what an expiry method sets).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.touch(&DataSet::of("test", "users")).never_expire().execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn touch(&self, dataset: &DataSet) -> BackgroundOperationBuilder {
        BackgroundOperationBuilder::new(self.session.clone(), dataset, Verb::Touch)
    }

    /// Calls a Lua function of a registered module on every record of
    /// `dataset`.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.execute_udf(&DataSet::of("test", "users")).function("stats", "bump").arg(1).execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn execute_udf(&self, dataset: &DataSet) -> BackgroundUdfFunctionBuilder {
        BackgroundUdfFunctionBuilder {
            session: self.session.clone(),
            dataset: dataset.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Update,
    Delete,
    Touch,
}

/// Options shared by the operation and UDF builders.
#[derive(Debug, Clone)]
struct JobOptions {
    ael: Option<String>,
    filter_exp: Option<Expression>,
    index_filter: Option<Filter>,
    expiration: Expiration,
    durable_delete: bool,
    records_per_second: u32,
    task_id: Option<u64>,
    node: Option<String>,
    total_timeout: Duration,
    socket_timeout: Duration,
    /// A mistake found while building, reported by `execute`.
    invalid: Option<String>,
}

impl Default for JobOptions {
    fn default() -> Self {
        JobOptions {
            ael: None,
            filter_exp: None,
            index_filter: None,
            expiration: Expiration::NamespaceDefault,
            durable_delete: false,
            records_per_second: 0,
            task_id: None,
            node: None,
            total_timeout: DEFAULT_TOTAL_TIMEOUT,
            socket_timeout: DEFAULT_SOCKET_TIMEOUT,
            invalid: None,
        }
    }
}

impl JobOptions {
    /// Validates the options and builds the start request.
    fn into_request(
        self,
        dataset: &DataSet,
        action: JobAction,
    ) -> Result<(StartRequest, Option<String>)> {
        if let Some(msg) = self.invalid {
            return Err(Error::invalid(msg));
        }
        let ms = |d: Duration, what: &str| -> Result<u32> {
            u32::try_from(d.as_millis())
                .map_err(|_| Error::invalid(format!("{what} {d:?} is too long")))
        };
        let scope = Scope {
            records_per_second: self.records_per_second,
            socket_timeout_ms: ms(self.socket_timeout, "socket timeout")?,
            ..Scope::new(
                dataset,
                self.index_filter,
                self.ael.as_deref(),
                self.filter_exp,
            )?
        };
        let req = StartRequest {
            scope,
            task_id: self.task_id.unwrap_or_else(random_task_id),
            action,
            record_ttl: self.expiration.checked_ttl()?,
            durable_delete: self.durable_delete,
            total_timeout_ms: ms(self.total_timeout, "timeout")?,
        };
        req.validate()?;
        Ok((req, self.node))
    }
}

/// The option methods both job builders share.
macro_rules! job_options {
    () => {
        /// Only records matching this AEL where-clause, e.g.
        /// `"$.active == true and $.age >= 18"`. Combines (AND) with
        /// [`filter_expression`](Self::filter_expression) and with an
        /// [`index_filter`](Self::index_filter). Parse errors are reported by
        /// `execute`.
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// let task = bg.touch(&DataSet::of("test", "users")).where_ael("$.age >= 18").execute()?;
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn where_ael(mut self, text: &str) -> Self {
            self.opts.ael = Some(text.to_owned());
            self
        }

        /// Only records for which `expression` is true.
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// use aerospike_blocking::exp;
        /// let adults = exp::ge(exp::int_bin("age"), exp::int_val(18));
        /// let task = bg.touch(&DataSet::of("test", "users")).filter_expression(adults).execute()?;
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn filter_expression(mut self, expression: Expression) -> Self {
            self.opts.filter_exp = Some(expression);
            self
        }

        /// Only records a secondary index finds (an index on the bin must
        /// exist). Combines with a where-clause.
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// use aerospike_blocking::query::Filter;
        /// let task = bg.touch(&DataSet::of("test", "users")).index_filter(Filter::equal("city", "Oslo")).execute()?;
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn index_filter(mut self, filter: Filter) -> Self {
            self.opts.index_filter = Some(filter);
            self
        }

        /// Records the job writes expire `after` from now (whole seconds,
        /// rounded up; at least 1 s).
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// use std::time::Duration;
        /// let task = bg.touch(&DataSet::of("test", "users")).expire_record_after(Duration::from_secs(86_400)).execute()?;
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn expire_record_after(mut self, after: Duration) -> Self {
            let secs = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            match u32::try_from(secs) {
                Ok(s) if s > 0 && s <= Expiration::MAX_SECONDS => {
                    self.opts.expiration = Expiration::Seconds(s)
                }
                _ => {
                    self.opts.invalid = Some(format!(
                        "expire_record_after({after:?}) must be between 1 s and 10 years \
                         (the server's limit)"
                    ))
                }
            }
            self
        }

        /// Records the job writes never expire.
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// let task = bg.touch(&DataSet::of("test", "users")).never_expire().execute()?;
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn never_expire(mut self) -> Self {
            self.opts.expiration = Expiration::NeverExpire;
            self
        }

        /// Records keep their current expiry.
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// let task = bg.update(&DataSet::of("test", "users")).bin("n").add(1).keep_expiry().execute()?;
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn keep_expiry(mut self) -> Self {
            self.opts.expiration = Expiration::DontUpdate;
            self
        }

        /// Same as [`keep_expiry`](Self::keep_expiry).
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// let task = bg.update(&DataSet::of("test", "users")).bin("n").add(1).dont_update_expiry().execute()?;
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn dont_update_expiry(self) -> Self {
            self.keep_expiry()
        }

        /// Records get the namespace's default time to live (the default).
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// let task = bg.touch(&DataSet::of("test", "users")).default_expiry().execute()?;
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn default_expiry(mut self) -> Self {
            self.opts.expiration = Expiration::NamespaceDefault;
            self
        }

        /// Deletes leave tombstones (Enterprise servers), so that deleted
        /// records do not come back after a restart.
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// let task = bg.delete(&DataSet::of("test", "old")).durable_delete(true).execute()?;
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn durable_delete(mut self, durable: bool) -> Self {
            self.opts.durable_delete = durable;
            self
        }

        /// Limits the job to `rps` records per second **on each node**
        /// (at most 10,000, the server's default `background-query-max-rps`;
        /// 0, the default, means the server maximum).
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// let task = bg.touch(&DataSet::of("test", "users")).records_per_second(500).execute()?;
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn records_per_second(mut self, rps: u32) -> Self {
            self.opts.records_per_second = rps;
            self
        }

        /// Uses `id` (non-zero) as the task id instead of a random one, e.g.
        /// to find the job later with [`ExecuteTask::attach`].
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// let task = bg.touch(&DataSet::of("test", "users")).task_id(42).execute()?;
        /// assert_eq!(task.task_id(), 42);
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn task_id(mut self, id: u64) -> Self {
            self.opts.task_id = Some(id);
            self
        }

        /// Runs the job on node `name` only (it processes the partitions that
        /// node masters).
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// let node = client.nodes()[0].name.clone();
        /// let task = bg.touch(&DataSet::of("test", "users")).on_node(&node).execute()?;
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn on_node(mut self, name: &str) -> Self {
            self.opts.node = Some(name.to_owned());
            self
        }

        /// Limit on the start call itself (default 1 s).
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// use std::time::Duration;
        /// let task = bg.touch(&DataSet::of("test", "users")).timeout(Duration::from_secs(5)).execute()?;
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn timeout(mut self, total: Duration) -> Self {
            self.opts.total_timeout = total;
            self
        }

        /// Socket timeout the server applies to the job (default 30 s).
        ///
        /// ```no_run
        /// # use aerospike_blocking::{Client, ClientPolicy};
        /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
        /// use aerospike_blocking::background::DataSet;
        /// let bg = client.session().background_task();
        /// use std::time::Duration;
        /// let task = bg.touch(&DataSet::of("test", "users")).socket_timeout(Duration::from_secs(60)).execute()?;
        /// # Ok::<(), aerospike_blocking::Error>(())
        /// ```
        pub fn socket_timeout(mut self, timeout: Duration) -> Self {
            self.opts.socket_timeout = timeout;
            self
        }
    };
}

/// Builds a background update, delete or touch. See [`BackgroundTaskSession`].
///
/// # Examples
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// # use aerospike_blocking::background::DataSet;
/// # use aerospike_blocking::query::Filter;
/// # use std::time::Duration;
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
/// let task = client
///     .session()
///     .background_task()
///     .update(&DataSet::of("test", "users"))
///     .index_filter(Filter::range("age", 18, 30))
///     .where_ael("$.active == true")
///     .bin("visits").add(1)
///     .bin("segment").set_to("young")
///     .expire_record_after(Duration::from_secs(86_400))
///     .records_per_second(5_000)
///     .execute()?;
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BackgroundOperationBuilder {
    session: Session,
    dataset: DataSet,
    verb: Verb,
    ops: Vec<Operation>,
    opts: JobOptions,
}

impl BackgroundOperationBuilder {
    fn new(session: Session, dataset: &DataSet, verb: Verb) -> Self {
        BackgroundOperationBuilder {
            session,
            dataset: dataset.clone(),
            verb,
            ops: Vec::new(),
            opts: JobOptions::default(),
        }
    }

    /// Starts a write step on bin `name`.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.update(&DataSet::of("test", "users")).bin("status").set_to("archived").execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn bin(self, name: &str) -> BackgroundWriteBinBuilder {
        BackgroundWriteBinBuilder {
            parent: self,
            bin: name.to_owned(),
        }
    }

    /// Adds any write operation: list and map modify operations
    /// ([`operations::list`], [`operations::map`]), expression writes, ...
    /// Read operations are refused by `execute`.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// use aerospike_blocking::operations;
    /// let task = bg.update(&DataSet::of("test", "users")).operation(operations::put("flag", true)).execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn operation(mut self, op: Operation) -> Self {
        self.ops.push(op);
        self
    }

    job_options!();

    /// Validates everything, then starts the job on every target node in
    /// parallel with one task id. If the start fails on some node, the job is
    /// aborted on the nodes where it started and an [`Error::PerNode`] tells
    /// each node's outcome: no orphan job is left running.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// use aerospike_blocking::task::WaitOptions;
    /// let task = bg.update(&DataSet::of("test", "users")).bin("n").add(1).execute()?;
    /// task.wait(WaitOptions::default())?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn execute(self) -> Result<ExecuteTask> {
        let ops = match self.verb {
            Verb::Update if self.ops.is_empty() => {
                return Err(Error::invalid(
                    "a background update needs at least one bin operation \
                     (use .bin(name).set_to(..) or .operation(..))",
                ))
            }
            Verb::Update => self.ops,
            Verb::Delete | Verb::Touch if !self.ops.is_empty() => {
                return Err(Error::invalid(format!(
                    "a background {} takes no bin operations",
                    if self.verb == Verb::Delete {
                        "delete"
                    } else {
                        "touch"
                    }
                )))
            }
            Verb::Delete => vec![operations::delete()],
            Verb::Touch => vec![operations::touch()],
        };
        let (req, node) = self.opts.into_request(&self.dataset, JobAction::Ops(ops))?;
        start::start(
            self.session.client(),
            req,
            node.as_deref(),
            TaskKind::QueryExecute,
        )
    }
}

/// One write step on one bin of a background update; each method returns the
/// update builder.
///
/// # Examples
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// # use aerospike_blocking::background::DataSet;
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
/// let builder = client.session().background_task().update(&DataSet::of("test", "s"))
///     .bin("name").prepend("Dr. ")
///     .bin("tmp").remove();
/// ```
#[derive(Debug, Clone)]
pub struct BackgroundWriteBinBuilder {
    parent: BackgroundOperationBuilder,
    bin: String,
}

impl BackgroundWriteBinBuilder {
    fn push(self, op: Operation) -> BackgroundOperationBuilder {
        self.parent.operation(op)
    }

    /// Writes `value` to the bin.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.update(&DataSet::of("test", "users")).bin("tier").set_to(2).execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn set_to(self, value: impl Into<Value>) -> BackgroundOperationBuilder {
        let op = operations::put(&self.bin, value);
        self.push(op)
    }

    /// Adds `delta` (integer or float) to the bin.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.update(&DataSet::of("test", "users")).bin("score").add(10).execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn add(self, delta: impl Into<Value>) -> BackgroundOperationBuilder {
        let op = operations::add(&self.bin, delta);
        self.push(op)
    }

    /// Appends a string (or bytes) to the bin.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.update(&DataSet::of("test", "users")).bin("log").append(";seen").execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn append(self, value: impl Into<Value>) -> BackgroundOperationBuilder {
        let op = operations::append(&self.bin, value);
        self.push(op)
    }

    /// Prepends a string (or bytes) to the bin.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.update(&DataSet::of("test", "users")).bin("name").prepend("Dr. ").execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn prepend(self, value: impl Into<Value>) -> BackgroundOperationBuilder {
        let op = operations::prepend(&self.bin, value);
        self.push(op)
    }

    /// Removes the bin.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.update(&DataSet::of("test", "users")).bin("tmp").remove().execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn remove(self) -> BackgroundOperationBuilder {
        let op = operations::remove_bin(&self.bin);
        self.push(op)
    }
}

/// Picks the module and function of a background UDF job.
///
/// # Examples
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy};
/// # use aerospike_blocking::background::DataSet;
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
/// let task = client.session().background_task()
///     .execute_udf(&DataSet::of("test", "users"))
///     .function("mypkg", "expire_old")
///     .passing([30])
///     .execute()?;
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BackgroundUdfFunctionBuilder {
    session: Session,
    dataset: DataSet,
}

impl BackgroundUdfFunctionBuilder {
    /// Calls `function` of the registered module `package` (its name without
    /// `.lua`). Empty names are refused by `execute`.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.execute_udf(&DataSet::of("test", "users")).function("stats", "reset").execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn function(self, package: &str, function: &str) -> BackgroundUdfBuilder {
        BackgroundUdfBuilder {
            session: self.session,
            dataset: self.dataset,
            package: package.to_owned(),
            function: function.to_owned(),
            args: Vec::new(),
            opts: JobOptions::default(),
        }
    }
}

/// Arguments, filters and options of a background UDF job.
///
/// # Examples
/// ```no_run
/// # use aerospike_blocking::{Client, ClientPolicy, Value};
/// # use aerospike_blocking::background::DataSet;
/// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
/// let task = client.session().background_task()
///     .execute_udf(&DataSet::of("test", "users"))
///     .function("bgudf", "set_bin")
///     .arg("u")
///     .arg(7)
///     .where_ael("$.active == true")
///     .execute()?;
/// # Ok::<(), aerospike_blocking::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BackgroundUdfBuilder {
    session: Session,
    dataset: DataSet,
    package: String,
    function: String,
    args: Vec<Value>,
    opts: JobOptions,
}

impl BackgroundUdfBuilder {
    /// Replaces the arguments passed to the function (after the record).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.execute_udf(&DataSet::of("test", "users")).function("stats", "scale").passing([2, 3]).execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn passing<V: Into<Value>>(mut self, args: impl IntoIterator<Item = V>) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Adds one argument.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.execute_udf(&DataSet::of("test", "users")).function("stats", "tag").arg("vip").arg(1).execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn arg(mut self, value: impl Into<Value>) -> Self {
        self.args.push(value.into());
        self
    }

    job_options!();

    /// Validates everything, then starts the job like
    /// [`BackgroundOperationBuilder::execute`].
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let bg = client.session().background_task();
    /// let task = bg.execute_udf(&DataSet::of("test", "users")).function("stats", "bump").execute()?;
    /// println!("job {}", task.task_id());
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn execute(self) -> Result<ExecuteTask> {
        let action = JobAction::Udf {
            package: self.package,
            function: self.function,
            args: self.args,
        };
        let (req, node) = self.opts.into_request(&self.dataset, action)?;
        start::start(
            self.session.client(),
            req,
            node.as_deref(),
            TaskKind::QueryUdf,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exp;
    use crate::wire::message::info2;

    fn ds() -> DataSet {
        DataSet::of("test", "s")
    }

    fn ops() -> JobAction {
        JobAction::Ops(vec![operations::put("a", 1)])
    }

    #[test]
    fn options_map_onto_the_start_request() {
        let opts = JobOptions {
            expiration: Expiration::Seconds(60),
            durable_delete: true,
            records_per_second: 500,
            task_id: Some(42),
            node: Some("N1".into()),
            total_timeout: Duration::from_millis(2500),
            socket_timeout: Duration::from_secs(5),
            ..JobOptions::default()
        };
        let (req, node) = opts.into_request(&ds(), ops()).unwrap();
        assert_eq!(node.as_deref(), Some("N1"));
        assert_eq!(
            (req.record_ttl, req.scope.records_per_second, req.task_id),
            (60, 500, 42)
        );
        assert_eq!(
            (req.total_timeout_ms, req.scope.socket_timeout_ms),
            (2500, 5000)
        );
        let m = req.message();
        assert_eq!(m.header.info2, info2::WRITE | info2::DURABLE_DELETE);
        assert_eq!(m.header.transaction_ttl, 2500);

        let (req, node) = JobOptions::default().into_request(&ds(), ops()).unwrap();
        assert_eq!(node, None);
        assert_eq!((req.record_ttl, req.scope.records_per_second), (0, 0));
        assert_eq!(
            (req.total_timeout_ms, req.scope.socket_timeout_ms),
            (1000, 30_000)
        );
        assert_ne!(req.task_id, 0);
        assert_eq!(req.scope.filter_exp, None);
    }

    #[test]
    fn expiry_variants() {
        let ttl = |e| {
            let o = JobOptions {
                expiration: e,
                ..JobOptions::default()
            };
            o.into_request(&ds(), ops()).unwrap().0.record_ttl
        };
        assert_eq!(ttl(Expiration::NamespaceDefault), 0);
        assert_eq!(ttl(Expiration::NeverExpire), u32::MAX);
        assert_eq!(ttl(Expiration::DontUpdate), u32::MAX - 1);
        assert_eq!(
            ttl(Expiration::Seconds(Expiration::MAX_SECONDS)),
            Expiration::MAX_SECONDS
        );
        // Over 10 years every record would fail on the server: refused
        // before anything is sent.
        let over = JobOptions {
            expiration: Expiration::Seconds(Expiration::MAX_SECONDS + 1),
            ..JobOptions::default()
        };
        let err = over.into_request(&ds(), ops()).unwrap_err();
        assert!(err.to_string().contains("10 years"), "{err}");
    }

    #[test]
    fn where_clause_and_expression_are_anded() {
        let text = "$.a > 1";
        let extra = Expression::from_ael("$.b == 'x'").unwrap();
        let opts = JobOptions {
            ael: Some(text.into()),
            filter_exp: Some(extra.clone()),
            ..JobOptions::default()
        };
        let (req, _) = opts.into_request(&ds(), ops()).unwrap();
        let want = exp::and(vec![Expression::from_ael(text).unwrap(), extra.clone()]);
        assert_eq!(req.scope.filter_exp, Some(want.pack()));
        let only = JobOptions {
            filter_exp: Some(extra.clone()),
            ..JobOptions::default()
        };
        assert_eq!(
            only.into_request(&ds(), ops()).unwrap().0.scope.filter_exp,
            Some(extra.pack())
        );
        let bad = JobOptions {
            ael: Some("$.a >".into()),
            ..JobOptions::default()
        };
        assert!(matches!(
            bad.into_request(&ds(), ops()),
            Err(Error::Expression { .. })
        ));
    }

    #[test]
    fn deferred_builder_mistakes_are_reported() {
        let opts = JobOptions {
            invalid: Some("expire_record_after(0ns) must be between".into()),
            ..JobOptions::default()
        };
        let e = opts.into_request(&ds(), ops()).unwrap_err();
        assert!(e.to_string().contains("expire_record_after"));
    }
}
