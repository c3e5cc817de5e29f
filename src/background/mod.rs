//! Background jobs: server-side updates, deletes, touches and Lua UDF calls
//! over a whole set, started with one call and tracked with an
//! `ExecuteTask`.
//!
//! The builders (builders.rs, session.rs, start.rs) are wired in once the
//! client core lands.

pub(crate) mod request;
