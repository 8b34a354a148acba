//! The `deliveries` table: one message to one recipient on one channel.

use sea_orm::entity::prelude::*;

use crate::domain;

/// One message to one recipient on one channel. Its id is the gateway
/// `reference`, so a send in doubt can be looked up.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub referral_id: String,
    pub board: String,
    /// The event that caused it: a `decision.recorded` or a `vetting.info_requested`.
    pub cause_event_id: String,
    /// `decision` or `information_request`.
    pub cause: String,
    /// `referrer`, `patient` or `receiving_service`.
    pub recipient: String,
    /// `sms`, `email`, `letter` or `webhook`.
    pub channel: String,
    /// The receiving service's code, for onward referrals.
    pub receiving_service: Option<String>,
    /// Template name, e.g. `patient/accept`.
    pub template: String,
    /// The one contact this delivery needs (a mobile number, an e-mail
    /// address, a postal address or a webhook URL); emptied once sent.
    #[sea_orm(column_type = "Text")]
    pub address: String,
    #[sea_orm(column_type = "Text")]
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    /// The webhook's JSON document (webhooks only).
    #[sea_orm(column_type = "Text", nullable)]
    pub document: Option<String>,
    /// `planned`, `sending`, `sent` or `failed`.
    pub status: Status,
    /// Requests made to the gateway.
    pub attempts: i32,
    /// Times a worker took it; a worker finishes it only if nobody took it since.
    pub claims: i32,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    /// Which gateway took it (`notify`, `webhook`, `sink`) and its own id.
    pub gateway: Option<String>,
    /// The Notify account or SMTP server (by name) it goes out through,
    /// set when it is planned and again when it is taken to be sent; a
    /// send in doubt is looked up there. `None` is `default`, or a
    /// gateway with no accounts (webhooks, the folder).
    pub account: Option<String>,
    pub gateway_id: Option<String>,
    /// What the gateway last said of it through its status callback
    /// (Notify: `delivered`, `permanent-failure`, ...), and when.
    pub gateway_status: Option<String>,
    pub gateway_status_at: Option<DateTimeUtc>,
    /// While `sending`: until when the worker holds it.
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
    /// A referrer's notice of a hand-off, held (planned, not yet due) until
    /// the forward with this id has ended: then sent or dropped.
    pub waits_for: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// A delivery's status as stored: the same text as ever (`planned`,
/// `sending`, `sent`, `failed`), read into [`domain::Status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Status {
    #[sea_orm(string_value = "planned")]
    Planned,
    #[sea_orm(string_value = "sending")]
    Sending,
    #[sea_orm(string_value = "sent")]
    Sent,
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl From<domain::Status> for Status {
    fn from(status: domain::Status) -> Self {
        match status {
            domain::Status::Planned => Status::Planned,
            domain::Status::Sending => Status::Sending,
            domain::Status::Sent => Status::Sent,
            domain::Status::Failed => Status::Failed,
        }
    }
}

impl From<Status> for domain::Status {
    fn from(status: Status) -> Self {
        match status {
            Status::Planned => domain::Status::Planned,
            Status::Sending => domain::Status::Sending,
            Status::Sent => domain::Status::Sent,
            Status::Failed => domain::Status::Failed,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(domain::Status::from(*self).as_str())
    }
}
