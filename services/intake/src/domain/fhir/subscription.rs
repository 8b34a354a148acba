//! A FHIR R4 `Subscription` to referrals' Tasks (rest-hook), read once at
//! the edge with every problem named by FHIRPath, and written back.
//!
//! - `criteria`: `Task?requester=[system|]<practice code>`, optionally
//!   `&owner=[system|]<board>`; nothing else is supported.
//! - `channel.type`: `rest-hook`; `channel.endpoint`: an https URL (the
//!   board's outbound rules are the application's to apply).
//! - `channel.payload`: absent (an empty POST to the endpoint) or
//!   `application/fhir+json` (the Task PUT to `<endpoint>/Task/<id>`, as
//!   R4's rest-hook does).
//! - `channel.header`: `Name: value` strings sent with every notification.

use serde_json::{Value, json};

use super::Issue;
use super::search::TaskSearch;

pub const CRITERIA_PATH: &str = "Subscription.criteria";
pub const ENDPOINT_PATH: &str = "Subscription.channel.endpoint";
const MAX_HEADERS: usize = 10;
/// Headers a subscriber may not set: the request's own framing and routing.
const RESERVED_HEADERS: [&str; 7] = [
    "host",
    "content-length",
    "content-type",
    "transfer-encoding",
    "connection",
    "te",
    "upgrade",
];

/// The payload a notification carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// An empty POST: "look again".
    Empty,
    /// The Task itself, as FHIR JSON.
    FhirJson,
}

impl Payload {
    pub fn mime(self) -> Option<&'static str> {
        match self {
            Payload::Empty => None,
            Payload::FhirJson => Some("application/fhir+json"),
        }
    }

    pub fn from_mime(mime: Option<&str>) -> Self {
        match mime {
            Some(_) => Payload::FhirJson,
            None => Payload::Empty,
        }
    }
}

/// A Subscription as asked for, parsed.
#[derive(Clone, PartialEq, Eq)]
pub struct SubscriptionRequest {
    pub criteria: String,
    pub practice_code: String,
    pub board: Option<String>,
    pub reason: String,
    pub endpoint: String,
    pub payload: Payload,
    /// `Name: value`, as given.
    pub headers: Vec<String>,
}

/// The headers may hold the subscriber's credentials.
impl std::fmt::Debug for SubscriptionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionRequest")
            .field("criteria", &self.criteria)
            .field("endpoint", &self.endpoint)
            .field("payload", &self.payload)
            .field("headers", &self.headers.len())
            .finish_non_exhaustive()
    }
}

/// Whether `issues` say the body was not a Subscription at all (a 400,
/// rather than a 422).
pub fn not_a_subscription(issues: &[Issue]) -> bool {
    issues.iter().any(|i| i.code == "structure")
}

/// A header `Name: value` split, if it is one a subscriber may set.
pub fn split_header(header: &str) -> Option<(&str, &str)> {
    let (name, value) = header.split_once(':')?;
    let (name, value) = (name.trim(), value.trim());
    let token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    let printable = value
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b));
    (token && printable && !RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()))
        .then_some((name, value))
}

fn criteria(text: &str) -> Result<(String, Option<String>), Issue> {
    let bad = |why: &str| Issue::new("value", CRITERIA_PATH, format!("criteria: {why}"));
    let Some(query) = text.strip_prefix("Task?") else {
        return Err(bad(
            "only Task?requester=<practice code> (optionally &owner=<board>) is supported",
        ));
    };
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    if let Some((name, _)) = pairs
        .iter()
        .find(|(name, _)| name != "requester" && name != "owner")
    {
        return Err(bad(&format!(
            "the parameter {name} is not supported: only requester and owner"
        )));
    }
    let search = TaskSearch::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(
        |issues| {
            let why: Vec<String> = issues.into_iter().map(|i| i.diagnostics).collect();
            bad(&why.join("; "))
        },
    )?;
    let practice = search
        .practice_code
        .ok_or_else(|| bad("requester=<practice code> is needed"))?;
    Ok((practice, search.board))
}

/// Read a `Subscription` from `body`, naming every problem.
pub fn parse(body: &[u8]) -> Result<SubscriptionRequest, Vec<Issue>> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        vec![Issue::new(
            "structure",
            "Subscription",
            format!("not JSON: {e}"),
        )]
    })?;
    if value["resourceType"] != "Subscription" {
        return Err(vec![Issue::new(
            "structure",
            "Subscription",
            "the body must be a FHIR R4 Subscription (resourceType Subscription)",
        )]);
    }
    let mut issues = Vec::new();
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let found = match text(&value["criteria"]) {
        Some(c) => criteria(c.trim())
            .map_err(|i| issues.push(i))
            .ok()
            .map(|found| (c.trim().to_owned(), found)),
        None => {
            issues.push(Issue::new(
                "required",
                CRITERIA_PATH,
                "criteria is needed: Task?requester=<practice code>",
            ));
            None
        }
    };
    let reason = text(&value["reason"])
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "Referral status changes".to_owned());
    let channel = &value["channel"];
    if channel["type"] != "rest-hook" {
        issues.push(Issue::new(
            "value",
            "Subscription.channel.type",
            "channel.type must be rest-hook",
        ));
    }
    let endpoint = match text(&channel["endpoint"]).map(|e| e.trim().to_owned()) {
        Some(e) if url::Url::parse(&e).is_ok() => Some(e),
        _ => {
            issues.push(Issue::new(
                "value",
                ENDPOINT_PATH,
                "channel.endpoint must be an https:// URL",
            ));
            None
        }
    };
    let payload = match &channel["payload"] {
        Value::Null => Payload::Empty,
        Value::String(p) if p == "application/fhir+json" => Payload::FhirJson,
        _ => {
            issues.push(Issue::new(
                "value",
                "Subscription.channel.payload",
                "channel.payload must be absent (an empty notification) or application/fhir+json",
            ));
            Payload::Empty
        }
    };
    let mut headers = Vec::new();
    match &channel["header"] {
        Value::Null => {}
        Value::Array(given) if given.len() <= MAX_HEADERS => {
            for (i, header) in given.iter().enumerate() {
                match header.as_str().filter(|h| split_header(h).is_some()) {
                    Some(h) => headers.push(h.trim().to_owned()),
                    None => issues.push(Issue::new(
                        "value",
                        format!("Subscription.channel.header[{i}]"),
                        "a header is `Name: value` in visible ASCII, and not one of Host, Content-Type, Content-Length, Transfer-Encoding, Connection, TE, Upgrade",
                    )),
                }
            }
        }
        _ => issues.push(Issue::new(
            "value",
            "Subscription.channel.header",
            format!("channel.header is a list of at most {MAX_HEADERS} strings"),
        )),
    }
    match (found, endpoint) {
        (Some((criteria, (practice_code, board))), Some(endpoint)) if issues.is_empty() => {
            Ok(SubscriptionRequest {
                criteria,
                practice_code,
                board,
                reason,
                endpoint,
                payload,
                headers,
            })
        }
        _ => Err(issues),
    }
}

/// A stored Subscription, as the resource.
#[derive(Clone, PartialEq, Eq)]
pub struct SubscriptionView {
    pub id: String,
    pub criteria: String,
    pub reason: String,
    pub endpoint: String,
    pub payload: Payload,
    pub headers: Vec<String>,
    /// `active` or `error`.
    pub status: String,
    pub error: Option<String>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// The `Subscription` resource. The headers' values are not echoed (they
/// may be credentials): their names only, values masked.
pub fn resource(view: &SubscriptionView) -> Value {
    let mut channel = json!({"type": "rest-hook", "endpoint": view.endpoint});
    if let Some(mime) = view.payload.mime() {
        channel["payload"] = json!(mime);
    }
    let headers: Vec<String> = view
        .headers
        .iter()
        .filter_map(|h| split_header(h).map(|(name, _)| format!("{name}: ***")))
        .collect();
    if !headers.is_empty() {
        channel["header"] = json!(headers);
    }
    let mut subscription = json!({
        "resourceType": "Subscription",
        "id": view.id,
        "meta": {"lastUpdated": view.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)},
        "status": view.status,
        "reason": view.reason,
        "criteria": view.criteria,
        "channel": channel,
    });
    if let Some(error) = &view.error {
        subscription["error"] = json!(error);
    }
    subscription
}

#[cfg(test)]
#[path = "tests/subscription.rs"]
mod tests;
