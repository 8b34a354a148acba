//! Reading parsed YAML by path, for the deployment files' checks.

use serde_norway::Value;

/// The value at `path` (keys separated by dots) under `value`.
pub fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(value, |value, key| value.get(key))
}

/// A scalar as the text a container would see.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// The text at `path`.
pub fn text_at(value: &Value, path: &str) -> Option<String> {
    at(value, path).and_then(text)
}

/// The sequence at `path`, empty when there is none.
pub fn seq_at<'a>(value: &'a Value, path: &str) -> &'a [Value] {
    at(value, path)
        .and_then(Value::as_sequence)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// The texts of the sequence at `path`.
pub fn texts_at(value: &Value, path: &str) -> Vec<String> {
    seq_at(value, path).iter().filter_map(text).collect()
}

/// A URL's port and path: `http://127.0.0.1:8081/healthz` is `(8081, "/healthz")`.
pub fn port_and_path(url: &str) -> Option<(u16, String)> {
    let rest = url.split_once("://")?.1;
    let (authority, path) = rest.split_at(rest.find('/')?);
    let port = authority.rsplit_once(':')?.1.parse().ok()?;
    Some((port, path.to_owned()))
}

/// The hosts of a comma-separated list of server URLs.
pub fn hosts(urls: &str) -> Vec<String> {
    urls.split(',')
        .filter_map(|url| url.trim().split_once("://"))
        .map(|(_, rest)| rest.split(':').next().unwrap_or(rest).to_owned())
        .collect()
}
