//! Analytics' migrations: the plumbing every service has, then its own
//! tables.

use pathway_common::db::{create_index, create_table};
use pathway_common::plumbing::PlumbingMigration;
use sea_orm_migration::prelude::*;

use super::{
    aggregates, fact, fact_snapshot, fact_snapshot_row, metric_counter, pathway_change,
    settings_change,
};

struct AnalyticsTables;

impl MigrationName for AnalyticsTables {
    fn name(&self) -> &str {
        "m0002_analytics"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for AnalyticsTables {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, fact::Entity).await?;
        create_index(
            manager,
            "referral_facts",
            "referral_facts_board_received",
            &["board", "received_at"],
            false,
        )
        .await?;
        create_table(manager, pathway_change::Entity).await?;
        create_table(manager, settings_change::Entity).await?;
        Ok(())
    }
}

/// The referral's first appointment, from the hospital's system's
/// `appointment.*` events: five columns of the fact.
struct FirstAppointments;

impl MigrationName for FirstAppointments {
    fn name(&self) -> &str {
        "m0003_first_appointments"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for FirstAppointments {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `m0002_analytics` creates the table from today's entity, so a new
        // database already has the columns; one made before it has not.
        let columns = [
            ColumnDef::new(Alias::new("first_appointment_id"))
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(Alias::new("first_appointment_booked_for"))
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Alias::new("first_appointment_attended_at"))
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Alias::new("first_appointment_clinic"))
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(Alias::new("first_appointment_dna"))
                .integer()
                .not_null()
                .default(0)
                .to_owned(),
        ];
        for mut column in columns {
            let name = column.get_column_name();
            if manager.has_column("referral_facts", &name).await? {
                continue;
            }
            // SQLite adds one column per statement.
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("referral_facts"))
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// The referring GP practice's code, for feedback to referrers: one
/// column of the fact, empty in the facts made before it until a rebuild
/// from the stream fills them.
struct PracticeCodes;

impl MigrationName for PracticeCodes {
    fn name(&self) -> &str {
        "m0004_practice_codes"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for PracticeCodes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager
            .has_column("referral_facts", "practice_code")
            .await?
        {
            return Ok(());
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("referral_facts"))
                    .add_column(
                        ColumnDef::new(Alias::new("practice_code"))
                            .string()
                            .not_null()
                            .default(""),
                    )
                    .to_owned(),
            )
            .await
    }
}

/// The metrics' counters ([`crate::domain::aggregates`]), worked out from
/// the facts already there.
struct MetricCounters;

impl MigrationName for MetricCounters {
    fn name(&self) -> &str {
        "m0007_metric_counters"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for MetricCounters {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, metric_counter::Entity).await?;
        aggregates::recompute_all(manager.get_connection())
            .await
            .map_err(|e| DbErr::Migration(format!("{e:#}")))
    }
}

/// Indexes for the re-referrals a metrics query counts from the facts:
/// the referrals closed with advice by outcome and vetting time, and a
/// patient's referrals by pseudonym and receipt.
struct ReReferralIndexes;

impl MigrationName for ReReferralIndexes {
    fn name(&self) -> &str {
        "m0008_re_referral_indexes"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for ReReferralIndexes {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_index(
            manager,
            "referral_facts",
            "referral_facts_outcome_vetted",
            &["outcome", "vetted_at"],
            false,
        )
        .await?;
        create_index(
            manager,
            "referral_facts",
            "referral_facts_patient_received",
            &["patient_pseudonym", "received_at"],
            false,
        )
        .await
    }
}

/// The metrics' counters also kept by month
/// ([`aggregates::by_month`]), summed from those by day already there.
struct MonthlyCounters;

impl MigrationName for MonthlyCounters {
    fn name(&self) -> &str {
        "m0009_monthly_counters"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for MonthlyCounters {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DELETE FROM metric_counters WHERE dimension LIKE '%:month'")
            .await?;
        db.execute_unprepared(
            "INSERT INTO metric_counters (dimension, board, day, group_name, counter, n) \
             SELECT dimension || ':month', board, substr(day, 1, 7), group_name, counter, SUM(n) \
             FROM metric_counters WHERE day <> '' \
             GROUP BY dimension, board, substr(day, 1, 7), group_name, counter",
        )
        .await?;
        Ok(())
    }
}

/// The facts' demo mark: one column, false for every fact already there.
struct DemoFacts;

impl MigrationName for DemoFacts {
    fn name(&self) -> &str {
        "m0006_demo_facts"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for DemoFacts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.has_column("referral_facts", "demo").await? {
            return Ok(());
        }
        let column = ColumnDef::new(Alias::new("demo"))
            .boolean()
            .not_null()
            .default(false)
            .to_owned();
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("referral_facts"))
                    .add_column(column)
                    .to_owned(),
            )
            .await
    }
}

/// Snapshots of the facts, for a rebuild to start from
/// ([`super::snapshots`]): one daily snapshot a Scottish day at most.
struct FactSnapshots;

impl MigrationName for FactSnapshots {
    fn name(&self) -> &str {
        "m0010_fact_snapshots"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for FactSnapshots {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        create_table(manager, fact_snapshot::Entity).await?;
        create_index(
            manager,
            "fact_snapshots",
            "fact_snapshots_daily_on",
            &["daily_on"],
            true,
        )
        .await?;
        create_table(manager, fact_snapshot_row::Entity).await
    }
}

/// The boards each referral closed with advice saw its patient referred to
/// again within 6 and 12 months: two columns of the fact, empty until
/// [`ReReferralCounters`] works them out.
struct ReReferralSets;

impl MigrationName for ReReferralSets {
    fn name(&self) -> &str {
        "m0012_re_referral_sets"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for ReReferralSets {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in ["re_referred_6m", "re_referred_12m"] {
            if manager.has_column("referral_facts", name).await? {
                continue;
            }
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("referral_facts"))
                        .add_column(
                            ColumnDef::new(Alias::new(name))
                                .integer()
                                .not_null()
                                .default(0),
                        )
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// The re-referrals of the facts already there, and the counters worked
/// out again with them ([`aggregates::recompute_all`] does both).
struct ReReferralCounters;

impl MigrationName for ReReferralCounters {
    fn name(&self) -> &str {
        "m0013_re_referral_counters"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for ReReferralCounters {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        aggregates::recompute_all(manager.get_connection())
            .await
            .map_err(|e| DbErr::Migration(format!("{e:#}")))
    }
}

/// On SQLite, the counters kept in their key's own B-tree (`WITHOUT
/// ROWID`): a counter added to is found and changed in one tree instead of
/// an index and the table, which halves the pages a batch of events writes.
/// PostgreSQL keeps its table and primary-key index as they are.
struct CountersWithoutRowid;

impl MigrationName for CountersWithoutRowid {
    fn name(&self) -> &str {
        "m0014_counters_without_rowid"
    }
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for CountersWithoutRowid {
    /// All or nothing, with its record, on SQLite too: a crash between
    /// dropping the old table and renaming the new one would otherwise
    /// leave no `metric_counters` and a migration that cannot run again.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != sea_orm::DatabaseBackend::Sqlite {
            return Ok(());
        }
        db.execute_unprepared(
            "CREATE TABLE metric_counters_by_key (\
               dimension TEXT NOT NULL, board TEXT NOT NULL, day TEXT NOT NULL, \
               group_name TEXT NOT NULL, counter TEXT NOT NULL, n BIGINT NOT NULL, \
               PRIMARY KEY (dimension, board, day, group_name, counter)\
             ) WITHOUT ROWID; \
             INSERT INTO metric_counters_by_key \
               SELECT dimension, board, day, group_name, counter, n FROM metric_counters; \
             DROP TABLE metric_counters; \
             ALTER TABLE metric_counters_by_key RENAME TO metric_counters;",
        )
        .await?;
        Ok(())
    }
}

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(PlumbingMigration),
            Box::new(AnalyticsTables),
            Box::new(FirstAppointments),
            Box::new(PracticeCodes),
            // Before the counters: they read the settings' effective dates.
            Box::new(settings_change::EffectiveDates),
            Box::new(DemoFacts),
            Box::new(ReReferralSets),
            // After every column of today's entity: it reads the facts.
            Box::new(MetricCounters),
            Box::new(ReReferralIndexes),
            Box::new(MonthlyCounters),
            Box::new(FactSnapshots),
            Box::new(super::daily_summary::DailySummaries),
            Box::new(ReReferralCounters),
            Box::new(CountersWithoutRowid),
        ]
    }
}

#[cfg(test)]
#[path = "tests/migrations.rs"]
mod tests;
