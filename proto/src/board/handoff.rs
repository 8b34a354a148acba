//! Where a board hands on the referrals the remote pathway does not take:
//! its standard route (a referral for a board not on the pathway, and a
//! `redirect` decision) and its paediatric service (a patient under the
//! board's age threshold on the Scottish day of receipt). Both are in the
//! `notification` section of the board's settings, as
//! `notification.standard_route` and `notification.paediatric_route`, beside
//! the board's other webhooks: notification forwards the referral there as a
//! signed delivery, and intake reads the paediatric age threshold at receipt.
//!
//! A route is either a signed webhook ([`RouteKind::Webhook`]), POSTed the
//! `pathway.handoff` document, or a FHIR R4 server ([`RouteKind::Fhir`]),
//! POSTed a `transaction` Bundle of the `Patient` and a UK Core
//! `ServiceRequest` at its base URL (`docs/decisions/0036-fhir-handoff-route.md`).
//! Either kind's URL is validated as every webhook URL of the board is
//! (https in production, `allowed_hosts`, private addresses), and either is
//! signed, retried and dead-lettered as any delivery.

use serde::{Deserialize, Serialize};

/// The receiving-service code a standard-route delivery is kept under.
pub const STANDARD_ROUTE: &str = "standard_route";
/// The receiving-service code a paediatric-route delivery is kept under.
pub const PAEDIATRIC_ROUTE: &str = "paediatric_route";
/// The `referral.routed_standard` reason of a referral for a board not on
/// the pathway on the Scottish day of receipt: handed to the standard route.
pub const REASON_BOARD_NOT_ON_PATHWAY: &str = "board_not_on_pathway";
/// The `referral.routed_standard` reason of a referral for a patient under
/// the board's paediatric age: handed to the paediatric route.
pub const REASON_PAEDIATRIC: &str = "paediatric_patient";
/// The age below which a patient is a child unless the board says otherwise.
pub const DEFAULT_PAEDIATRIC_UNDER_AGE: u32 = 16;

/// How a route takes a referral.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteKind {
    /// A signed HTTPS POST of the referral (`docs/webhooks.md`,
    /// `pathway.handoff`).
    #[default]
    Webhook,
    /// A FHIR R4 server: `url` is its base URL, POSTed a `transaction`
    /// Bundle (`application/fhir+json`) that creates the `Patient` and the
    /// referral's `ServiceRequest` unless the server already has them.
    Fhir,
}

/// A service a board hands referrals on to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffRoute {
    /// The service's name as the referrer is told it, e.g. "NHS Highland
    /// musculoskeletal service".
    pub name: String,
    #[serde(default)]
    pub kind: RouteKind,
    /// Where the referral is POSTed; its host must be on `allowed_hosts`.
    pub url: String,
}

/// The board's paediatric service, and who goes there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaediatricRoute {
    /// A patient younger than this, in whole years on the Scottish day the
    /// referral is received, goes to the paediatric service: 1 to 18, 16
    /// unless set.
    #[serde(default = "default_under_age")]
    pub under_age: u32,
    /// The service's name as the referrer is told it.
    pub name: String,
    #[serde(default)]
    pub kind: RouteKind,
    /// Where the referral is POSTed; its host must be on `allowed_hosts`.
    pub url: String,
}

fn default_under_age() -> u32 {
    DEFAULT_PAEDIATRIC_UNDER_AGE
}

impl HandoffRoute {
    /// Every problem with the route, as `(field, reason)` under `field`;
    /// `url_problem` says why the board may not send to a URL.
    pub(super) fn problems(
        &self,
        field: &str,
        url_problem: impl Fn(&str) -> Option<String>,
    ) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            out.push((
                format!("{field}.name"),
                "must be 1 to 120 characters".into(),
            ));
        }
        if let Some(reason) = url_problem(&self.url) {
            out.push((format!("{field}.url"), reason));
        }
        out
    }
}

impl PaediatricRoute {
    /// The service, as any route.
    pub fn route(&self) -> HandoffRoute {
        HandoffRoute {
            name: self.name.clone(),
            kind: self.kind,
            url: self.url.clone(),
        }
    }

    pub(super) fn problems(
        &self,
        field: &str,
        url_problem: impl Fn(&str) -> Option<String>,
    ) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if !(1..=18).contains(&self.under_age) {
            out.push((format!("{field}.under_age"), "must be 1 to 18 years".into()));
        }
        out.extend(self.route().problems(field, url_problem));
        out
    }
}

/// Every problem with the board's routes, as `(field, reason)`: each as
/// [`HandoffRoute::problems`], and no receiving service under a route's
/// reserved code.
pub(super) fn problems(section: &super::NotificationSettings) -> Vec<(String, String)> {
    let url_problem = |url: &str| section.webhook_url_problem(url);
    let mut out = Vec::new();
    if let Some(route) = &section.standard_route {
        out.extend(route.problems("notification.standard_route", url_problem));
    }
    if let Some(route) = &section.paediatric_route {
        out.extend(route.problems("notification.paediatric_route", url_problem));
    }
    for code in [STANDARD_ROUTE, PAEDIATRIC_ROUTE] {
        if section.receiving_services.contains_key(code) {
            out.push((
                format!("notification.receiving_services.{code}"),
                format!("{code} is reserved: set notification.{code} instead"),
            ));
        }
    }
    out
}

/// What production refuses of the routes: a URL in plain http.
pub(super) fn production_problems(
    section: &super::NotificationSettings,
    clear: &str,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (field, url) in [
        (
            "notification.standard_route.url",
            section.standard_route.as_ref().map(|r| r.url.as_str()),
        ),
        (
            "notification.paediatric_route.url",
            section.paediatric_route.as_ref().map(|p| p.url.as_str()),
        ),
    ] {
        if let Some(url) = url
            && !url.starts_with("https://")
        {
            out.push((field.into(), clear.into()));
        }
    }
    out
}

#[cfg(test)]
#[path = "../tests/handoff.rs"]
mod tests;
