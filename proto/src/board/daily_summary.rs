//! A board's daily summary to its service manager: yesterday's counts
//! (referrals received, vetted, decided by outcome, withdrawn; waiting at the
//! day's end; failed deliveries), no patient data at all, e-mailed once a
//! Scottish day at the hour the board chose. It is
//! `notification.daily_summary` in the board's settings: analytics reads it
//! to know whether and when to count, notification to know where to send.

use serde::{Deserialize, Serialize};

/// The hour (Scottish time) the summary goes out unless the board sets one.
pub const DEFAULT_HOUR: u8 = 7;

/// Where and when the summary goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DailySummary {
    /// The service manager's e-mail address.
    pub email: String,
    /// The hour of the Scottish day, 0 to 23, from which the previous day's
    /// summary is sent; 7 (07:00) unless set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hour: Option<u8>,
}

impl DailySummary {
    /// The hour it goes out, on Scotland's clock.
    pub fn hour(&self) -> u8 {
        self.hour.unwrap_or(DEFAULT_HOUR)
    }

    /// Every problem with it, as `(field, reason)`.
    pub(super) fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(reason) = email_problem(&self.email) {
            out.push(("notification.daily_summary.email".into(), reason.into()));
        }
        if self.hour.is_some_and(|hour| hour > 23) {
            out.push((
                "notification.daily_summary.hour".into(),
                "must be an hour of the day, 0 to 23 (Scottish time)".into(),
            ));
        }
        out
    }

    /// What production refuses besides [`Self::problems`]: an address at a
    /// domain reserved for examples and tests, which no manager reads.
    pub(super) fn production_problems(&self) -> Vec<(String, String)> {
        let domain = self
            .email
            .rsplit_once('@')
            .map(|(_, domain)| domain.to_ascii_lowercase())
            .unwrap_or_default();
        // RFC 2606 and RFC 6761: the example domains and the reserved
        // top-level names, and any name under them.
        let reserved = [
            "example.org",
            "example.com",
            "example.net",
            "example",
            "invalid",
            "test",
            "localhost",
        ]
        .iter()
        .any(|name| domain == *name || domain.ends_with(&format!(".{name}")));
        if reserved {
            vec![(
                "notification.daily_summary.email".into(),
                "must be a real mailbox in production: the domain is reserved for examples and tests"
                    .into(),
            )]
        } else {
            Vec::new()
        }
    }
}

/// Why `email` is not an e-mail address a message can go to, if it is not:
/// one `@` between a local part and a domain with a dot, no spaces or
/// control characters, at most 254 characters (RFC 5321's path limit).
fn email_problem(email: &str) -> Option<&'static str> {
    const SHAPE: &str =
        "must be an e-mail address: name@domain, with no spaces, at most 254 characters";
    if email.is_empty() || email.len() > 254 {
        return Some(SHAPE);
    }
    if email
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
    {
        return Some(SHAPE);
    }
    let Some((local, domain)) = email.split_once('@') else {
        return Some(SHAPE);
    };
    let labels_ok = domain.split('.').all(|label| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if local.is_empty() || local.len() > 64 || !domain.contains('.') || !labels_ok {
        return Some(SHAPE);
    }
    None
}

#[cfg(test)]
#[path = "../tests/daily_summary.rs"]
mod tests;
