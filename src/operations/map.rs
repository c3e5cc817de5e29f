//! Map operations (CDT).
