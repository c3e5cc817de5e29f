//! Secondary-index filters, partition filters and foreground scans and queries.
//!
//! A [`Filter`] narrows a query or a background job to the records a
//! secondary index finds; a [`PartitionFilter`] limits a foreground scan to
//! some of the 4096 partitions. [`Query::stream`] yields records as the nodes
//! send them, and its [`PartitionCursor`] lets a stopped scan go on later.

mod cursor;
pub(crate) mod filter;
pub(crate) mod partition;
mod scan;
mod stream;

pub use cursor::PartitionCursor;
pub use filter::Filter;
pub use partition::PartitionFilter;
pub use scan::Query;
pub use stream::RecordStream;
