//! Helpers shared by the integration tests: a minimal client-side wire codec
//! and the fixture-file parser. Each test crate uses a different subset.
#![allow(dead_code, unreachable_pub)]

pub mod fixtures;
pub mod wire;
