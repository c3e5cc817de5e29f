//! The AEL where-clause language: lexer, parser and type inference.
//!
//! Text goes through [`lexer::lex`], then [`parser::Parser`] builds an untyped
//! tree, then [`typing`] gives bins and list/map reads their types and builds
//! the expression.

mod lexer;
mod parser;
mod typing;

use crate::error::Error;
use crate::value::Value;

use super::Expression;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pos {
    pub(super) line: usize,
    pub(super) column: usize,
}

/// An expression error at `pos`.
pub(super) fn err(pos: Pos, message: impl Into<String>) -> Error {
    Error::Expression {
        line: pos.line,
        column: pos.column,
        message: message.into(),
    }
}

/// Parses and types `text`, binding placeholders to `params`.
pub(super) fn parse(text: &str, params: &[Value]) -> Result<Expression, Error> {
    let tokens = lexer::lex(text)?;
    let ast = parser::Parser::new(tokens, params).parse_all()?;
    typing::build_filter(&ast).map(Expression::new)
}
