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
    pub line: usize,
    pub column: usize,
}

/// An expression error at `pos`.
pub(super) fn err(pos: Pos, message: impl Into<String>) -> Error {
    Error::Expression {
        line: pos.line,
        column: pos.column,
        message: message.into(),
    }
}

/// Parses and types the where-clause `text` (it must be boolean), binding
/// placeholders to `params`.
pub(super) fn parse(text: &str, params: &[Value]) -> Result<Expression, Error> {
    parse_as(text, params, typing::build_filter)
}

/// Parses and types `text` as an expression of any type, binding
/// placeholders to `params`.
pub(super) fn parse_value(text: &str, params: &[Value]) -> Result<Expression, Error> {
    parse_as(text, params, typing::build_value)
}

fn parse_as(
    text: &str,
    params: &[Value],
    build: fn(&parser::Ast) -> Result<super::Node, Error>,
) -> Result<Expression, Error> {
    let tokens = lexer::lex(text)?;
    let ast = parser::Parser::new(tokens, params).parse_all()?;
    build(&ast).map(Expression::new)
}
