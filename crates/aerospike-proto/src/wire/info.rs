//! Info (type 1) requests and replies: newline-separated commands, answered by
//! `command\tvalue\n` lines.

use crate::error::ResultCode;

use super::proto;

/// The whole frame for a request of `commands`, each followed by `\n`.
pub fn encode_request<S: AsRef<str>>(commands: &[S]) -> Vec<u8> {
    let mut body = Vec::new();
    for c in commands {
        body.extend_from_slice(c.as_ref().as_bytes());
        body.push(b'\n');
    }
    proto::frame(proto::TYPE_INFO, &body)
}

/// Splits a reply body into `(command, value)` pairs, in order. A line with
/// no tab yields an empty value. Invalid UTF-8 is replaced, never fatal.
pub fn parse_response(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('\n')
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('\t') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (l.to_owned(), String::new()),
        })
        .collect()
}
/// Splits the request body of an info frame into commands. Text after the last
/// `\n` is not a command (the server ignores it).
pub fn parse_request(body: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    let mut parts: Vec<&str> = text.split('\n').collect();
    parts.pop();
    parts.into_iter().map(str::to_owned).collect()
}

/// Parses `ERROR:<code>:<message>` (also `FAIL:`); `None` for other values.
pub fn parse_error(value: &str) -> Option<(ResultCode, String)> {
    let rest = value
        .strip_prefix("ERROR")
        .or_else(|| value.strip_prefix("FAIL"))?;
    let rest = rest.strip_prefix(':').unwrap_or(rest);
    let (code, msg) = match rest.split_once(':') {
        Some((c, m)) => (c, m),
        None => (rest, ""),
    };
    let code = code
        .trim()
        .parse::<u8>()
        .unwrap_or(ResultCode::SERVER_ERROR.0);
    Some((ResultCode(code), msg.to_owned()))
}

/// Parses `k1=v1<sep>k2=v2...` into ordered pairs.
pub fn parse_pairs(value: &str, sep: char) -> Vec<(&str, &str)> {
    value
        .split(sep)
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes() {
        // From kv-single.txt: the client's first tend request.
        let f = encode_request(&["node", "partition-generation", "build"]);
        let hex: String = f.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "02010000000000206e6f64650a706172746974696f6e2d67656e65726174696f6e0a6275696c640a"
        );
    }

    #[test]
    fn response_and_errors() {
        let r = parse_response(b"node\tBB9\nbuild\t8.1.2.0\n");
        assert_eq!(r[1], ("build".into(), "8.1.2.0".into()));
        assert_eq!(
            parse_error("ERROR:2:job not found"),
            Some((ResultCode::KEY_NOT_FOUND, "job not found".into()))
        );
        assert_eq!(parse_error("ok"), None);
        assert_eq!(parse_request(b"a\nb"), vec!["a".to_string()]);
    }
}
