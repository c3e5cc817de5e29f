//! Background jobs: server-side updates, deletes, touches and Lua UDF calls
//! over a whole set, started with one call and tracked with an
//! [`ExecuteTask`](crate::task::ExecuteTask).
//!
//! ```no_run
//! use aerospike_blocking::{Client, ClientPolicy};
//! use aerospike_blocking::background::DataSet;
//! # fn main() -> aerospike_blocking::Result<()> {
//! let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default())?;
//! let task = client
//!     .session()
//!     .background_task()
//!     .update(&DataSet::of("test", "users"))
//!     .where_ael("$.active == true")
//!     .bin("score").add(1)
//!     .execute()?;
//! let outcome = task.wait(Default::default())?;
//! println!("{outcome}");
//! # Ok(()) }
//! ```

mod builders;
pub(crate) mod request;
mod session;
mod start;

pub use builders::{
    BackgroundOperationBuilder, BackgroundTaskSession, BackgroundUdfBuilder,
    BackgroundUdfFunctionBuilder, BackgroundWriteBinBuilder,
};
pub use session::{DataSet, Session};
