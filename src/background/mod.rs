//! Background jobs: server-side updates, deletes, touches and Lua UDF calls
//! over a whole set, started with one call and tracked with an
//! [`ExecuteTask`](crate::task::ExecuteTask).

pub(crate) mod request;
