//! `referral_facts`: one de-identified fact per referral.
//!
//! A row is also kept as JSON in analytics' snapshots
//! ([`super::snapshots`]): a column added later takes `#[serde(default)]`
//! (an `Option` needs nothing), so a snapshot taken before it still restores.

use sea_orm::entity::prelude::*;

/// One referral, de-identified. Times are UTC; milestones keep their
/// first time, the outcome its latest value.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "referral_facts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub referral_id: String,
    pub board: String,
    /// `remote` or `standard`; null until the referral's receipt is seen.
    pub route: Option<String>,
    pub received_at: Option<DateTimeUtc>,
    pub age_band: String,
    pub sex: String,
    pub urban_rural_class: i16,
    pub simd_quintile: i16,
    pub patient_pseudonym: String,
    pub red_flags: i32,
    pub re_referral: bool,
    pub claimed_at: Option<DateTimeUtc>,
    /// The information requests and their answers, as JSON.
    #[sea_orm(column_type = "Text")]
    pub pauses_json: String,
    pub vetted_at: Option<DateTimeUtc>,
    pub decided_at: Option<DateTimeUtc>,
    pub outcome: Option<String>,
    pub priority: Option<String>,
    pub notified_at: Option<DateTimeUtc>,
    pub notification_failures: i32,
    pub withdrawn_at: Option<DateTimeUtc>,
    pub closed_at: Option<DateTimeUtc>,
    pub closed_reason: Option<String>,
    /// The PAS's id of the first appointment (added by `m0003_first_appointments`).
    pub first_appointment_id: Option<String>,
    /// When the first appointment now booked is for.
    pub first_appointment_booked_for: Option<DateTimeUtc>,
    /// When the first appointment was attended.
    pub first_appointment_attended_at: Option<DateTimeUtc>,
    /// Its clinic type, e.g. `pain_clinic`, `physiotherapy`.
    pub first_appointment_clinic: Option<String>,
    /// First appointments not attended.
    #[sea_orm(default_value = 0)]
    pub first_appointment_dna: i32,
    /// The referring GP practice's code, empty when not named (added by
    /// `m0004_practice_codes`).
    #[sea_orm(default_value = "")]
    pub practice_code: String,
    /// Built from demo data (added by `m0006_demo_facts`).
    #[sea_orm(default_value = false)]
    pub demo: bool,
    /// For a referral closed with advice, the boards (bits by board index)
    /// its patient was referred to again within 6 months (added by
    /// `m0012_re_referral_sets`).
    #[sea_orm(default_value = 0)]
    #[serde(default)]
    pub re_referred_6m: i32,
    /// The same within 12 months.
    #[sea_orm(default_value = 0)]
    #[serde(default)]
    pub re_referred_12m: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
