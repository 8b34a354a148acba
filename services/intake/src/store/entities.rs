//! Intake's tables, a module each. Only intake stores patient identifiers,
//! and only here. Statuses and routes are stored as the text they always
//! were, read and written through active enums that mirror the domain's.

use sea_orm::entity::prelude::*;

use crate::domain::Status;
use crate::domain::referral::Route;

/// [`Status`] as the `status` columns hold it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum StoredStatus {
    #[sea_orm(string_value = "awaiting_vetting")]
    AwaitingVetting,
    #[sea_orm(string_value = "routed_standard")]
    RoutedStandard,
    #[sea_orm(string_value = "in_vetting")]
    InVetting,
    #[sea_orm(string_value = "info_requested")]
    InfoRequested,
    #[sea_orm(string_value = "vetted")]
    Vetted,
    #[sea_orm(string_value = "decided")]
    Decided,
    #[sea_orm(string_value = "notified")]
    Notified,
    #[sea_orm(string_value = "awaiting_opt_in")]
    AwaitingOptIn,
    #[sea_orm(string_value = "seen")]
    Seen,
    #[sea_orm(string_value = "closed")]
    Closed,
    #[sea_orm(string_value = "withdrawn")]
    Withdrawn,
}

impl From<Status> for StoredStatus {
    fn from(status: Status) -> Self {
        match status {
            Status::AwaitingVetting => Self::AwaitingVetting,
            Status::RoutedStandard => Self::RoutedStandard,
            Status::InVetting => Self::InVetting,
            Status::InfoRequested => Self::InfoRequested,
            Status::Vetted => Self::Vetted,
            Status::Decided => Self::Decided,
            Status::Notified => Self::Notified,
            Status::AwaitingOptIn => Self::AwaitingOptIn,
            Status::Seen => Self::Seen,
            Status::Closed => Self::Closed,
            Status::Withdrawn => Self::Withdrawn,
        }
    }
}

impl From<StoredStatus> for Status {
    fn from(status: StoredStatus) -> Self {
        match status {
            StoredStatus::AwaitingVetting => Self::AwaitingVetting,
            StoredStatus::RoutedStandard => Self::RoutedStandard,
            StoredStatus::InVetting => Self::InVetting,
            StoredStatus::InfoRequested => Self::InfoRequested,
            StoredStatus::Vetted => Self::Vetted,
            StoredStatus::Decided => Self::Decided,
            StoredStatus::Notified => Self::Notified,
            StoredStatus::AwaitingOptIn => Self::AwaitingOptIn,
            StoredStatus::Seen => Self::Seen,
            StoredStatus::Closed => Self::Closed,
            StoredStatus::Withdrawn => Self::Withdrawn,
        }
    }
}

/// [`Route`] as the `route` column holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum StoredRoute {
    #[sea_orm(string_value = "remote_pathway")]
    RemotePathway,
    #[sea_orm(string_value = "standard")]
    Standard,
    #[sea_orm(string_value = "paediatric")]
    Paediatric,
}

impl From<Route> for StoredRoute {
    fn from(route: Route) -> Self {
        match route {
            Route::RemotePathway => Self::RemotePathway,
            Route::Standard => Self::Standard,
            Route::Paediatric => Self::Paediatric,
        }
    }
}

impl From<StoredRoute> for Route {
    fn from(route: StoredRoute) -> Self {
        match route {
            StoredRoute::RemotePathway => Self::RemotePathway,
            StoredRoute::Standard => Self::Standard,
            StoredRoute::Paediatric => Self::Paediatric,
        }
    }
}

pub mod referral {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "referrals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub board: String,
        pub status: super::StoredStatus,
        pub route: super::StoredRoute,
        pub patient_pseudonym: String,
        /// Token subject of the referrer who sent it.
        pub referrer_subject: String,
        pub practice_code: String,
        /// The validated referral (identifiable) as JSON.
        #[sea_orm(column_type = "Text")]
        pub document: String,
        pub received_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// Bumped by every change; the ETag.
        pub version: i64,
        /// The year from whose first day a child's referral may go
        /// (`crate::domain::retention::KeepUntil`): 0 for an adult's, null
        /// until worked out from the document (at start, for referrals
        /// stored before the column). Never the date of birth.
        pub keep_until_year: Option<i32>,
        /// When the patient's data was erased at their request: the
        /// document and pseudonym are empty from then on.
        pub erased_at: Option<DateTimeUtc>,
        /// Since when processing is restricted at the patient's request
        /// (`None` when it is not).
        pub restricted_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod history {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "referral_history")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub event_id: String,
        pub referral_id: String,
        /// e.g. `referral.received`, `vetting.claimed`.
        pub kind: String,
        /// Status after the event.
        pub status: super::StoredStatus,
        pub occurred_at: DateTimeUtc,
        pub actor: String,
        /// Non-identifying detail, as JSON.
        #[sea_orm(column_type = "Text", nullable)]
        pub detail: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod open_referral {
    use sea_orm::entity::prelude::*;

    /// One row per patient and board with a referral still open: the primary
    /// key makes a racing duplicate fail in the database, not only in a check.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "open_referrals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub board: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub patient_pseudonym: String,
        pub referral_id: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod idempotency {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub caller: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        /// SHA-256 of the request body: the same key with another body is refused.
        pub request_hash: String,
        pub status_code: i32,
        #[sea_orm(column_type = "Text")]
        pub response: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod information_request {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "information_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub referral_id: String,
        pub requested_by: String,
        pub requested_at: DateTimeUtc,
        /// What the clinician asked (clinical free text; added by
        /// `m0003_board_settings`, so older requests have none).
        #[sea_orm(column_type = "Text", nullable)]
        pub question: Option<String>,
        #[sea_orm(column_type = "Text", nullable)]
        pub answer: Option<String>,
        pub answered_by: Option<String>,
        pub answered_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod pathway_change {
    use sea_orm::entity::prelude::*;

    /// Every switch on or off, kept: analytics needs the adoption date.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "pathway_changes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub board: String,
        pub enabled: bool,
        pub effective_date: Date,
        pub changed_by: String,
        pub changed_at: DateTimeUtc,
        pub reason: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod board_settings_change {
    use sea_orm::entity::prelude::*;

    /// Every settings document a board admin stored, kept: the latest is in
    /// force, the others say who changed what and when.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "board_settings_changes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub board: String,
        /// The whole `BoardSettings` document as stored, as JSON.
        #[sea_orm(column_type = "Text")]
        pub settings_json: String,
        pub changed_by: String,
        pub changed_at: DateTimeUtc,
        /// The Scottish day from which it is in force; `None` on changes
        /// kept before the column existed (in force from the day saved).
        pub effective_date: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod postcode {
    use sea_orm::entity::prelude::*;

    /// The board-loaded lookup from postcode to de-identified area attributes.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "postcode_attributes")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub postcode: String,
        /// Scottish Government 6-fold urban/rural class, 1-6.
        pub urban_rural_class: i32,
        /// SIMD quintile, 1 (most deprived) to 5.
        pub simd_quintile: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
