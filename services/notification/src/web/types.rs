//! The API's request and response bodies, converted from and into the
//! application's own types here.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use pathway_common::validation::FieldError;
use pathway_proto::BoardCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::application::{Delivery, GatewayCallback, Page, PageRequest};
use crate::domain::{ChannelKind, Recipient, Status};

/// One delivery, as a service manager sees it: no contact details, no text.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: String,
    pub referral_id: String,
    pub board: BoardCode,
    /// `decision` or `information_request`.
    pub cause: String,
    pub cause_event_id: String,
    pub recipient: Recipient,
    pub channel: ChannelKind,
    /// The receiving service's code, for an onward referral.
    pub receiving_service: Option<String>,
    pub template: String,
    pub status: Status,
    /// Requests made to the gateway.
    pub attempts: i32,
    pub last_error: Option<String>,
    /// `notify`, `webhook` or `sink`, once sent, with the gateway's own id.
    pub gateway: Option<String>,
    pub gateway_id: Option<String>,
    /// What the gateway last said of it (e.g. `delivered`), through its callback.
    pub gateway_status: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            referral_id: d.referral_id,
            board: d.board,
            cause: d.cause,
            cause_event_id: d.cause_event_id,
            recipient: d.recipient,
            channel: d.channel,
            receiving_service: d.receiving_service,
            template: d.template,
            status: d.status,
            attempts: d.attempts,
            last_error: d.last_error,
            gateway: d.gateway,
            gateway_id: d.gateway_id,
            gateway_status: d.gateway_status,
            created_at: d.created_at,
            updated_at: d.updated_at,
            sent_at: d.sent_at,
        }
    }
}

/// A list of deliveries.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<DeliveryView>,
}

impl From<Vec<Delivery>> for DeliveryList {
    fn from(deliveries: Vec<Delivery>) -> Self {
        Self {
            deliveries: deliveries.into_iter().map(DeliveryView::from).collect(),
        }
    }
}

/// A page of deliveries, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryView>,
    /// Pass as `before` for the next page; absent on the last page.
    pub next_before: Option<String>,
}

impl From<Page> for DeliveryPage {
    fn from(page: Page) -> Self {
        Self {
            deliveries: page
                .deliveries
                .into_iter()
                .map(DeliveryView::from)
                .collect(),
            next_before: page.next_before,
        }
    }
}

/// `GET /v1/deliveries`' query.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // documents the query; it is parsed by `ListQuery::parse`
pub struct ListParams {
    /// `planned`, `sending`, `sent` or `failed`; every status when absent.
    status: Option<String>,
    /// One of the token's boards; all of them when absent.
    board: Option<String>,
    /// Deliveries in the page: 1 to 500, 50 when left out.
    limit: Option<u64>,
    /// The id of the last delivery of the previous page (its `next_before`):
    /// only older ones follow.
    before: Option<String>,
}

/// `GET /v1/deliveries`' query, parsed.
#[derive(Debug)]
pub struct ListQuery {
    pub status: Option<String>,
    pub board: Option<String>,
    pub page: PageRequest,
}

impl ListQuery {
    /// The query, or every malformed paging parameter at once.
    pub fn parse(raw: &BTreeMap<String, String>) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let limit = match pathway_common::page::limit(raw.get("limit").map(String::as_str)) {
            Ok(limit) => limit,
            Err(error) => {
                errors.push(error);
                pathway_common::page::DEFAULT_LIMIT
            }
        };
        let before = match raw.get("before").map(|v| Uuid::parse_str(v.trim())) {
            None => None,
            Some(Ok(id)) => Some(id),
            Some(Err(_)) => {
                errors.push(FieldError::new(
                    "before",
                    "must be a delivery id (a UUID): the next_before of the previous page",
                ));
                None
            }
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self {
            status: raw.get("status").cloned(),
            board: raw.get("board").cloned(),
            page: PageRequest { limit, before },
        })
    }
}

/// A status callback from a Notify-compatible gateway.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = GatewayCallback)]
pub struct GatewayCallbackBody {
    /// The gateway's id of the notification.
    pub id: String,
    /// The reference Pathway gave: the delivery id.
    pub reference: Option<String>,
    /// `delivered`, `permanent-failure`, `temporary-failure` or `technical-failure`
    /// (Notify's final states); others are kept as they come.
    pub status: String,
}

impl From<GatewayCallbackBody> for GatewayCallback {
    fn from(body: GatewayCallbackBody) -> Self {
        Self {
            id: body.id,
            reference: body.reference,
            status: body.status,
        }
    }
}
