//! Filter expressions.
//!
//! CONTRACT (to be replaced by the full module): `Expression` is Clone + Debug +
//! PartialEq + Display, and `Expression::pack(&self) -> Vec<u8>` returns the
//! msgpack bytes of field 43 (FILTER_EXP).

use std::fmt;

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    packed: Vec<u8>,
}

impl Expression {
    /// The packed bytes sent as the filter field.
    pub(crate) fn pack(&self) -> Vec<u8> {
        self.packed.clone()
    }
}

impl fmt::Display for Expression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<expression {} bytes>", self.packed.len())
    }
}
