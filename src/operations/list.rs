//! List operations (CDT).
