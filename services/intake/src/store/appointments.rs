//! `appointments`: each appointment the board's hospital system reported,
//! as it last reported it, keyed by board and the PAS's own id; and the
//! migration that adds the table.

use chrono::{DateTime, Utc};
use pathway_common::db::{create_index, create_table};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use sea_orm_migration::prelude::*;

pub mod appointment {
    use sea_orm::entity::prelude::*;

    /// One appointment, as the PAS last reported it. No participant, no
    /// patient identifier: the referral holds those.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "appointments")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub board: String,
        /// The PAS's own id of the appointment.
        #[sea_orm(primary_key, auto_increment = false)]
        pub appointment_id: String,
        pub referral_id: String,
        /// FHIR's status code: `booked`, `arrived`, `fulfilled`, `noshow`, `cancelled`.
        pub status: String,
        /// The instant it is for, when known.
        pub starts_at: Option<DateTimeUtc>,
        /// The Scottish day it is for, when known.
        pub day: Option<Date>,
        /// `pain-clinic`, `pain-psychology`, `physiotherapy`, `pain-management-programme`.
        pub clinic_type: String,
        pub first_appointment: bool,
        /// Who reported it last (the token's subject).
        pub reported_by: String,
        pub recorded_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The appointment `appointment_id` of `board`, if one was reported.
pub async fn find<C: ConnectionTrait>(
    db: &C,
    board: &str,
    appointment_id: &str,
) -> Result<Option<appointment::Model>, DbErr> {
    appointment::Entity::find_by_id((board.to_owned(), appointment_id.to_owned()))
        .one(db)
        .await
}

/// The first appointments reported for `referral_id` (one, or a cancelled
/// one and its replacement).
pub async fn first_appointments<C: ConnectionTrait>(
    db: &C,
    referral_id: &str,
) -> Result<Vec<appointment::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    appointment::Entity::find()
        .filter(appointment::Column::ReferralId.eq(referral_id))
        .filter(appointment::Column::FirstAppointment.eq(true))
        .all(db)
        .await
}

/// Store `row`: an insert when `existed` is false, else an update.
pub async fn save<C: ConnectionTrait>(
    db: &C,
    row: appointment::Model,
    existed: bool,
) -> Result<appointment::Model, DbErr> {
    let active = appointment::ActiveModel {
        board: Set(row.board),
        appointment_id: Set(row.appointment_id),
        referral_id: Set(row.referral_id),
        status: Set(row.status),
        starts_at: Set(row.starts_at),
        day: Set(row.day),
        clinic_type: Set(row.clinic_type),
        first_appointment: Set(row.first_appointment),
        reported_by: Set(row.reported_by),
        recorded_at: Set(row.recorded_at),
        updated_at: Set(row.updated_at),
    };
    if existed {
        active.update(db).await
    } else {
        active.insert(db).await
    }
}

/// The time a row was first recorded, kept on update.
pub fn recorded_at(existing: Option<&appointment::Model>, now: DateTime<Utc>) -> DateTime<Utc> {
    existing.map_or(now, |row| row.recorded_at)
}

/// `m0004_appointments`: the appointments table.
pub struct AppointmentTables;

impl MigrationName for AppointmentTables {
    fn name(&self) -> &str {
        "m0004_appointments"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AppointmentTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, appointment::Entity).await?;
        create_index(
            manager,
            "appointments",
            "appointments_referral",
            &["referral_id"],
            false,
        )
        .await
    }
}
