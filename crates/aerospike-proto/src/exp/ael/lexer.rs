//! Splits AEL text into tokens with their line and column.

use super::{err, Pos};
use crate::error::Error;

/// One token.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// An integer literal's magnitude (the sign is a separate token), and
    /// whether it was written in decimal (not `0x…` or `0b…`).
    Int(u64, bool),
    Float(f64),
    Str(String),
    Ident(String),
    /// `?n`
    Placeholder(usize),
    /// `${name}`
    Var(String),
    /// `$.`
    Path,
    /// Punctuation and operators.
    Sym(&'static str),
    End,
}

impl Tok {
    /// How the token is named in error messages.
    pub(super) fn describe(&self) -> String {
        match self {
            Tok::Int(i, _) => format!("number {i}"),
            Tok::Float(x) => format!("number {x}"),
            Tok::Str(s) => format!("string '{s}'"),
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Placeholder(n) => format!("placeholder ?{n}"),
            Tok::Var(v) => format!("variable ${{{v}}}"),
            Tok::Path => "'$.'".to_owned(),
            Tok::Sym(s) => format!("'{s}'"),
            Tok::End => "end of input".to_owned(),
        }
    }
}

/// Symbols, longest first so `>>>` wins over `>>` and `>`.
const SYMBOLS: [&str; 30] = [
    ">>>", "**", "==", "!=", ">=", "<=", "<<", ">>", "=>", "(", ")", "[", "]", "{", "}", ",", ":",
    ".", "=", "<", ">", "&", "|", "^", "~", "+", "-", "*", "/", "%",
];
const MORE_SYMBOLS: [&str; 3] = ["!", "#", "?"];

/// Tokenizes `text`.
pub(super) fn lex(text: &str) -> Result<Vec<(Pos, Tok)>, Error> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line, mut col) = (0usize, 1usize, 1usize);
    let at = |i: usize| chars.get(i).copied();
    while i < chars.len() {
        let c = chars[i];
        let pos = Pos { line, column: col };
        let start = i;
        if c == '\n' {
            i += 1;
            line += 1;
            col = 1;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            col += 1;
            continue;
        }
        // A float without its leading zero (`.37`) where a value may start:
        // not after a name, a closing bracket or a value, where `.` is a step.
        let value_may_start = match out.last() {
            None => true,
            Some((_, Tok::Sym(s))) => !matches!(*s, "]" | "}" | ")"),
            _ => false,
        };
        let tok = if c == '.' && value_may_start && at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
            while at(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            let text: String = std::iter::once('0')
                .chain(chars[start..i].iter().copied())
                .collect();
            Tok::Float(text.parse().map_err(|_| err(pos, "bad float literal"))?)
        } else if c.is_ascii_digit() {
            // After a path's `.` a number is a map key: `.12.2` is two keys.
            let after_dot = matches!(out.last(), Some((_, Tok::Sym("."))));
            lex_number(&chars, &mut i, pos, !after_dot)?
        } else if c.is_ascii_alphabetic() || c == '_' {
            while at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                i += 1;
            }
            Tok::Ident(chars[start..i].iter().collect())
        } else if c == '\'' || c == '"' {
            i += 1;
            while at(i).is_some_and(|x| x != c) {
                i += 1;
            }
            if at(i).is_none() {
                return Err(err(pos, "expected a closing quote for this string"));
            }
            i += 1;
            let s: String = chars[start + 1..i - 1].iter().collect();
            if s.contains('\n') {
                return Err(err(pos, "strings cannot span lines"));
            }
            Tok::Str(s)
        } else if c == '$' && at(i + 1) == Some('.') {
            i += 2;
            Tok::Path
        } else if c == '$' && at(i + 1) == Some('{') {
            i += 2;
            let name_start = i;
            while at(i).is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                i += 1;
            }
            if i == name_start || at(i) != Some('}') {
                return Err(err(pos, "expected a variable name and '}' after '${'"));
            }
            i += 1;
            Tok::Var(chars[name_start..i - 1].iter().collect())
        } else if c == '?' && at(i + 1).is_some_and(|c| c.is_ascii_digit()) {
            i += 1;
            let n_start = i;
            while at(i).is_some_and(|c| c.is_ascii_digit()) {
                i += 1;
            }
            let digits: String = chars[n_start..i].iter().collect();
            let n = digits
                .parse()
                .map_err(|_| err(pos, "placeholder number too large"))?;
            Tok::Placeholder(n)
        } else {
            let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
            let sym = SYMBOLS
                .iter()
                .chain(MORE_SYMBOLS.iter())
                .find(|s| rest.starts_with(**s))
                .ok_or_else(|| err(pos, format!("unexpected character '{c}'")))?;
            i += sym.chars().count();
            Tok::Sym(sym)
        };
        col += i - start;
        out.push((pos, tok));
    }
    out.push((Pos { line, column: col }, Tok::End));
    Ok(out)
}

fn lex_number(chars: &[char], i: &mut usize, pos: Pos, allow_float: bool) -> Result<Tok, Error> {
    let at = |i: usize| chars.get(i).copied();
    let start = *i;
    let radix = match (at(*i), at(*i + 1)) {
        (Some('0'), Some('x' | 'X')) => 16,
        (Some('0'), Some('b' | 'B')) => 2,
        _ => 10,
    };
    if radix != 10 {
        *i += 2;
        let d_start = *i;
        while at(*i).is_some_and(|c| c.is_digit(radix)) {
            *i += 1;
        }
        let digits: String = chars[d_start..*i].iter().collect();
        if digits.is_empty() {
            return Err(err(pos, "expected digits after the number prefix"));
        }
        return u64::from_str_radix(&digits, radix)
            .map(|u| Tok::Int(u, false))
            .map_err(|_| err(pos, "integer literal does not fit in 64 bits"));
    }
    while at(*i).is_some_and(|c| c.is_ascii_digit()) {
        *i += 1;
    }
    let is_float =
        allow_float && at(*i) == Some('.') && at(*i + 1).is_some_and(|c| c.is_ascii_digit());
    if is_float {
        *i += 1;
        while at(*i).is_some_and(|c| c.is_ascii_digit()) {
            *i += 1;
        }
        let text: String = chars[start..*i].iter().collect();
        return text
            .parse()
            .map(Tok::Float)
            .map_err(|_| err(pos, "bad float literal"));
    }
    let text: String = chars[start..*i].iter().collect();
    // 2^63 itself is allowed so that `-9223372036854775808` can be written.
    text.parse::<u64>()
        .ok()
        .filter(|u| *u <= 1 << 63)
        .map(|u| Tok::Int(u, true))
        .ok_or_else(|| err(pos, "integer literal does not fit in 64 bits"))
}
