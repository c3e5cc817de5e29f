//! [`Session`], the entry point of the fluent API, and [`DataSet`], the
//! namespace and set a job or query covers.

use crate::client::Client;
use crate::query::Query;
use crate::task::JobInfo;
use crate::Result;

use super::builders::BackgroundTaskSession;

/// A namespace and a set: the records a background job or a query covers.
///
/// # Examples
/// ```
/// use aerospike_blocking::background::DataSet;
/// let users = DataSet::of("test", "users");
/// assert_eq!((users.namespace(), users.set()), ("test", "users"));
/// assert_eq!(DataSet::namespace_only("test").set(), "");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataSet {
    namespace: String,
    set: String,
}

impl DataSet {
    /// The records of set `set` in namespace `namespace`.
    ///
    /// ```
    /// use aerospike_blocking::background::DataSet;
    /// let ds = DataSet::of("test", "users");
    /// assert_eq!((ds.namespace(), ds.set()), ("test", "users"));
    /// ```
    pub fn of(namespace: &str, set: &str) -> DataSet {
        DataSet {
            namespace: namespace.to_owned(),
            set: set.to_owned(),
        }
    }

    /// Every record of namespace `namespace`, whatever its set.
    ///
    /// ```
    /// use aerospike_blocking::background::DataSet;
    /// assert_eq!(DataSet::namespace_only("test").set(), "");
    /// ```
    pub fn namespace_only(namespace: &str) -> DataSet {
        DataSet::of(namespace, "")
    }

    /// The namespace.
    ///
    /// ```
    /// use aerospike_blocking::background::DataSet;
    /// assert_eq!(DataSet::of("test", "users").namespace(), "test");
    /// ```
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The set ("" for the whole namespace).
    ///
    /// ```
    /// use aerospike_blocking::background::DataSet;
    /// assert_eq!(DataSet::of("test", "users").set(), "users");
    /// ```
    pub fn set(&self) -> &str {
        &self.set
    }
}

/// A handle on a [`Client`] that starts the fluent builders: background jobs,
/// queries and job listings. Cheap to clone.
///
/// # Examples
/// ```no_run
/// use aerospike_blocking::{Client, ClientPolicy};
/// use aerospike_blocking::background::DataSet;
/// # fn main() -> aerospike_blocking::Result<()> {
/// let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
/// let session = client.session();
/// let task = session
///     .background_task()
///     .update(&DataSet::of("test", "users"))
///     .where_ael("$.active == true")
///     .bin("score").add(1)
///     .execute()?;
/// task.wait(Default::default())?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Session {
    client: Client,
}

impl Session {
    /// A session on `client`.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::Session;
    /// let session = Session::new(&client);
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn new(client: &Client) -> Session {
        Session {
            client: client.clone(),
        }
    }

    /// The client.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// let session = client.session();
    /// assert_eq!(session.client().nodes().len(), client.nodes().len());
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Starts building a background job.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let task = client.session().background_task().touch(&DataSet::of("test", "users")).execute()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn background_task(&self) -> BackgroundTaskSession {
        BackgroundTaskSession::new(self.clone())
    }

    /// Starts building a foreground query over `dataset`.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// use aerospike_blocking::background::DataSet;
    /// let rows = client.session().query(&DataSet::of("test", "users")).max_records(5).records()?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn query(&self, dataset: &DataSet) -> Query {
        Query::new(&self.client, dataset)
    }

    /// Every job the cluster's nodes remember (running and recently finished),
    /// with the node that reports it. See [`Client::list_jobs`].
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
    /// for (node, job) in client.session().jobs()? {
    ///     println!("{node}: {} {}", job.task_id, job.status);
    /// }
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn jobs(&self) -> Result<Vec<(String, JobInfo)>> {
        self.client.list_jobs()
    }
}

impl Client {
    /// A [`Session`] on this client, to start background jobs and queries.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
    /// let session = client.session();
    /// let jobs = session.jobs().unwrap();
    /// ```
    pub fn session(&self) -> Session {
        Session::new(self)
    }
}
