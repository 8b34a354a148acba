//! Handing a referral on, with no I/O: a referral the remote pathway does not
//! take (its board is not on the pathway, the patient is a child) and a
//! `redirect` decision are forwarded to the board's route as a webhook
//! delivery like any other, and the referrer is told where it went. A board
//! with no route set still tells the referrer; the forward is planned as a
//! failed delivery whose reason names the missing setting, so the board sees
//! it on its failed deliveries and can retry it once the route is set.

use std::collections::BTreeMap;

use pathway_common::pii::Pii;
use pathway_proto::board::NotificationSettings;
use pathway_proto::board::handoff::{
    HandoffRoute, PAEDIATRIC_ROUTE, REASON_BOARD_NOT_ON_PATHWAY, REASON_PAEDIATRIC, STANDARD_ROUTE,
};

use super::board::{BoardChannels, ReferrerChannel};
use super::plan::{Address, Contacts, Planned, address_for};
use super::{ChannelKind, Recipient};

/// The name a delivery keeps of a hand-off as its cause.
pub const CAUSE: &str = "handoff";
/// The hand-off reason of a `redirect` decision.
pub const REASON_REDIRECT: &str = "redirect";
/// The template of the referral forwarded to the route.
pub const ROUTE_TEMPLATE: &str = "receiving_service/handoff";
/// The template of the referrer's message saying where it went.
pub const REFERRER_TEMPLATE: &str = "referrer/handoff";
/// The template of the referrer's message saying it could not be passed on
/// yet.
pub const REFERRER_FAILED_TEMPLATE: &str = "referrer/handoff_failed";

/// The referrer's two possible notices of a hand-off, both planned with it
/// and held until the forward to the route has ended: the one that says
/// what happened is sent, the other dropped. Answers `(send, drop)`.
pub fn notice_once_ended(route_sent: bool) -> (&'static str, &'static str) {
    if route_sent {
        (REFERRER_TEMPLATE, REFERRER_FAILED_TEMPLATE)
    } else {
        (REFERRER_FAILED_TEMPLATE, REFERRER_TEMPLATE)
    }
}

/// Which of the board's routes takes a referral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteTo {
    Standard,
    Paediatric,
}

impl RouteTo {
    /// The receiving-service code its deliveries are kept under, which is
    /// also the name of its setting under `notification`.
    pub fn code(self) -> &'static str {
        match self {
            RouteTo::Standard => STANDARD_ROUTE,
            RouteTo::Paediatric => PAEDIATRIC_ROUTE,
        }
    }

    /// The route a `referral.routed_standard` with `reason` goes to: a
    /// child's to the paediatric service, any other to the standard route.
    pub fn for_routed(reason: &str) -> Self {
        if reason == REASON_PAEDIATRIC {
            RouteTo::Paediatric
        } else {
            RouteTo::Standard
        }
    }
}

/// A referral to hand on: where, why, and the referral as the route needs it.
#[derive(Debug, Clone)]
pub struct Handoff {
    pub route: RouteTo,
    /// `board_not_on_pathway`, `paediatric_patient` or `redirect`.
    pub reason: String,
    /// The decision that redirected it, for a redirect.
    pub decision_id: Option<String>,
    /// True when that decision corrects an earlier one.
    pub correction: bool,
    /// The referral's identifiers, contact details, referrer and clinical
    /// content, as the route is sent them.
    pub referral: Pii<serde_json::Value>,
}

impl Handoff {
    /// A referral intake routed away at receipt, for `reason`.
    pub fn routed(reason: &str, referral: Pii<serde_json::Value>) -> Self {
        let reason = match reason.trim() {
            "" => REASON_BOARD_NOT_ON_PATHWAY,
            reason => reason,
        };
        Handoff {
            route: RouteTo::for_routed(reason),
            reason: reason.to_owned(),
            decision_id: None,
            correction: false,
            referral,
        }
    }

    /// A referral a `redirect` decision sends to the standard route.
    pub fn redirect(decision_id: &str, referral: Pii<serde_json::Value>) -> Self {
        Handoff {
            route: RouteTo::Standard,
            reason: REASON_REDIRECT.to_owned(),
            decision_id: Some(decision_id.to_owned()),
            correction: false,
            referral,
        }
    }
}

/// A board's routes, as its settings name them.
#[derive(Debug, Clone, Default)]
pub struct HandoffRoutes {
    pub standard: Option<HandoffRoute>,
    pub paediatric: Option<HandoffRoute>,
}

impl From<&NotificationSettings> for HandoffRoutes {
    fn from(section: &NotificationSettings) -> Self {
        HandoffRoutes {
            standard: section.standard_route.clone(),
            paediatric: section.paediatric_route.as_ref().map(|p| p.route()),
        }
    }
}

impl HandoffRoutes {
    pub fn get(&self, route: RouteTo) -> Option<&HandoffRoute> {
        match route {
            RouteTo::Standard => self.standard.as_ref(),
            RouteTo::Paediatric => self.paediatric.as_ref(),
        }
    }

    /// The routes' URLs by their receiving-service codes, so that a
    /// delivery to a route is addressed (and readdressed on a retry) as any
    /// receiving service's.
    pub fn urls(&self) -> BTreeMap<String, String> {
        [RouteTo::Standard, RouteTo::Paediatric]
            .into_iter()
            .filter_map(|to| Some((to.code().to_owned(), self.get(to)?.url.clone())))
            .collect()
    }
}

/// The deliveries a hand-off needs: the referral to the route, and the
/// referrer's two possible notices ([`notice_once_ended`]): that it was
/// passed to the route, or that it could not be passed on yet. The referrer
/// is never told "passed to" before the route has it.
pub fn plan(handoff: &Handoff, contacts: &Contacts, board: &BoardChannels) -> Vec<Planned> {
    let code = handoff.route.code();
    let to_route = Planned {
        recipient: Recipient::ReceivingService,
        channel: ChannelKind::Webhook,
        template: ROUTE_TEMPLATE.to_owned(),
        receiving_service: Some(code.to_owned()),
        address: board
            .receiving_services
            .get(code)
            .map(|url| Address::Webhook(url.clone()))
            .ok_or_else(|| missing_route(handoff)),
    };
    let channel = match board.referrer_channel {
        ReferrerChannel::Webhook => ChannelKind::Webhook,
        ReferrerChannel::Email => ChannelKind::Email,
    };
    let to_referrer = |template: &str| Planned {
        recipient: Recipient::Referrer,
        channel,
        template: template.to_owned(),
        receiving_service: None,
        address: address_for(Recipient::Referrer, channel, None, contacts, board),
    };
    vec![
        to_route,
        to_referrer(REFERRER_TEMPLATE),
        to_referrer(REFERRER_FAILED_TEMPLATE),
    ]
}

/// Why a hand-off has nowhere to go: the setting the board has not made.
pub fn missing_route(handoff: &Handoff) -> String {
    let code = handoff.route.code();
    let what = match handoff.route {
        RouteTo::Standard => "the board's standard route",
        RouteTo::Paediatric => "the board's paediatric service",
    };
    format!(
        "the referral ({}) goes to {what}, but the board's settings set no notification.{code}: set it, then retry this delivery",
        handoff.reason
    )
}

#[cfg(test)]
#[path = "tests/handoff.rs"]
mod tests;
