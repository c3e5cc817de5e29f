//! Values and durations as shell users write them.

use std::time::Duration;

use aerospike_blocking::Value;

/// A command-line value: an integer, a float, `true`/`false`, JSON (lists,
/// maps, quoted strings, `null`), or else the text itself as a string.
pub(crate) fn parse_value(text: &str) -> Value {
    if let Ok(i) = text.parse::<i64>() {
        return Value::Int(i);
    }
    if let Ok(f) = text.parse::<f64>() {
        if text.contains(['.', 'e', 'E']) {
            return Value::Float(f);
        }
    }
    match text {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if text.starts_with(['[', '{', '"']) || text == "null" {
        if let Ok(json) = serde_json::from_str::<serde_json::Value>(text) {
            return from_json(&json);
        }
    }
    Value::String(text.to_owned())
}

/// The Aerospike value of a JSON value.
pub(crate) fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(items) => Value::List(items.iter().map(from_json).collect()),
        serde_json::Value::Object(m) => Value::Map(
            m.iter()
                .map(|(k, v)| (Value::String(k.clone()), from_json(v)))
                .collect(),
        ),
    }
}

/// `bin=value` split at the first `=`.
pub(crate) fn bin_value(text: &str) -> Result<(String, Value), String> {
    let (bin, value) = text
        .split_once('=')
        .ok_or_else(|| format!("expected BIN=VALUE, got {text:?}"))?;
    if bin.is_empty() {
        return Err(format!("no bin name in {text:?}"));
    }
    Ok((bin.to_owned(), parse_value(value)))
}

/// A duration like `90`, `90s`, `15m`, `12h`, `30d`.
pub(crate) fn duration(text: &str) -> Result<Duration, String> {
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("expected a duration like 30s, 15m, 12h or 30d, got {text:?}"))?;
    let secs = match unit {
        "" | "s" => 1,
        "ms" => return Ok(Duration::from_millis(n)),
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "unknown duration unit {unit:?} in {text:?} (ms, s, m, h, d)"
            ))
        }
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

/// `ns.set` (or `ns` for the whole namespace).
pub(crate) fn target(text: &str) -> Result<(String, String), String> {
    let (ns, set) = text.split_once('.').unwrap_or((text, ""));
    if ns.is_empty() {
        return Err(format!("expected NAMESPACE.SET, got {text:?}"));
    }
    Ok((ns.to_owned(), set.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_as_users_expect() {
        assert_eq!(parse_value("42"), Value::Int(42));
        assert_eq!(parse_value("-3"), Value::Int(-3));
        assert_eq!(parse_value("1.5"), Value::Float(1.5));
        assert_eq!(parse_value("true"), Value::Bool(true));
        assert_eq!(parse_value("hello"), Value::from("hello"));
        assert_eq!(parse_value("\"42\""), Value::from("42"));
        assert_eq!(
            parse_value("[1, \"a\"]"),
            Value::List(vec![Value::Int(1), Value::from("a")])
        );
        assert_eq!(
            parse_value("{\"k\": 2}"),
            Value::Map(vec![(Value::from("k"), Value::Int(2))])
        );
        assert_eq!(parse_value("[not json"), Value::from("[not json"));
        assert_eq!(parse_value("inf"), Value::from("inf"));
    }

    #[test]
    fn durations_and_targets() {
        assert_eq!(duration("30d"), Ok(Duration::from_secs(30 * 86_400)));
        assert_eq!(duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert!(duration("3w").is_err() && duration("x").is_err());
        assert_eq!(target("test.users"), Ok(("test".into(), "users".into())));
        assert_eq!(target("test"), Ok(("test".into(), String::new())));
        assert!(target(".users").is_err());
        assert_eq!(bin_value("a=b=c"), Ok(("a".into(), Value::from("b=c"))));
        assert!(bin_value("nobin").is_err());
    }
}
