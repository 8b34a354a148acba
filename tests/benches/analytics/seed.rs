//! Filling the fact table directly, with the rows the service itself would
//! write, for the query figures.

use super::*;

/// Each board's switch-on and settings, as the consumer would have kept them.
pub(crate) async fn seed_boards(db: &DatabaseConnection) {
    for (i, board) in BOARD_CODES.iter().enumerate() {
        let changed_at = Utc.from_utc_datetime(
            &(adoption(i) - chrono::Days::new(30))
                .and_hms_opt(12, 0, 0)
                .expect("noon"),
        );
        pathway_change::Entity::insert(pathway_change::ActiveModel {
            event_id: sea_orm::Set(Uuid::now_v7().to_string()),
            board: sea_orm::Set((*board).to_owned()),
            enabled: sea_orm::Set(true),
            effective_date: sea_orm::Set(adoption(i)),
            changed_at: sea_orm::Set(changed_at),
        })
        .exec(db)
        .await
        .expect("insert a pathway change");
        settings_change::Entity::insert(settings_change::ActiveModel {
            event_id: sea_orm::Set(Uuid::now_v7().to_string()),
            board: sea_orm::Set((*board).to_owned()),
            settings_json: sea_orm::Set(board_settings_json(i)),
            changed_at: sea_orm::Set(changed_at),
            effective_date: sea_orm::Set(None),
        })
        .exec(db)
        .await
        .expect("insert a settings change");
    }
}

/// Insert `count` more facts, generated on a thread of their own while the
/// database writes the previous batch.
pub(crate) async fn seed_facts(
    backend: &Backend,
    db: &DatabaseConnection,
    rng: &mut Rng,
    patients: u64,
    count: u64,
    already: u64,
) {
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Vec<fact::Model>>(8);
    let mut generator = Rng(rng.next());
    let producer = std::thread::spawn(move || {
        let mut batch = Vec::with_capacity(ROWS_PER_INSERT);
        for _ in 0..count {
            let referral = referral(&mut generator, patients);
            let board = pathway_proto::BoardCode::parse(referral.board).expect("a board code");
            let mut current = Fact::new(&referral.id, board);
            for event in &referral.events {
                current.apply(event).expect("a generated event applies");
            }
            batch.push(row(&current));
            if batch.len() == ROWS_PER_INSERT {
                let full = std::mem::replace(&mut batch, Vec::with_capacity(ROWS_PER_INSERT));
                if sender.blocking_send(full).is_err() {
                    return;
                }
            }
        }
        if !batch.is_empty() {
            let _ = sender.blocking_send(batch);
        }
    });
    let started = Instant::now();
    let mut inserted = 0u64;
    let mut last_report = Instant::now();
    let mut txn = db.begin().await.expect("begin");
    let mut in_txn = 0;
    while let Some(batch) = receiver.recv().await {
        let n = batch.len();
        fact::Entity::insert_many(batch.into_iter().map(IntoActiveModel::into_active_model))
            .exec(&txn)
            .await
            .expect("insert facts");
        inserted += n as u64;
        in_txn += n;
        if in_txn >= ROWS_PER_TRANSACTION {
            txn.commit().await.expect("commit");
            txn = db.begin().await.expect("begin");
            in_txn = 0;
        }
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!(
                "{}: seeded {} of {} facts ({:.0}/s)",
                backend.name(),
                already + inserted,
                already + count,
                inserted as f64 / started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
    }
    txn.commit().await.expect("commit");
    producer.join().expect("the generator finishes");
    assert_eq!(inserted, count);
    eprintln!(
        "{}: {} facts in the table; {count} inserted in {:.1} s ({:.0}/s)",
        backend.name(),
        already + count,
        started.elapsed().as_secs_f64(),
        count as f64 / started.elapsed().as_secs_f64()
    );
}

/// The row the service writes for `fact`: every column, so a change to the
/// table fails to compile here.
pub(crate) fn row(fact: &Fact) -> fact::Model {
    fact::Model {
        referral_id: fact.referral_id.clone(),
        board: fact.board.code().to_owned(),
        route: fact.route.map(|r| r.as_str().to_owned()),
        received_at: fact.received_at,
        age_band: fact.attributes.age_band.clone(),
        sex: fact.attributes.sex.clone(),
        urban_rural_class: i16::from(fact.attributes.urban_rural_class),
        simd_quintile: i16::from(fact.attributes.simd_quintile),
        patient_pseudonym: fact.attributes.patient_pseudonym.clone(),
        red_flags: i32::try_from(fact.red_flags).expect("a few red flags"),
        re_referral: fact.re_referral,
        claimed_at: fact.claimed_at,
        pauses_json: serde_json::to_string(&fact.pauses).expect("pauses serialise"),
        vetted_at: fact.vetted_at,
        decided_at: fact.decided_at,
        outcome: fact.outcome.clone(),
        priority: fact.priority.clone(),
        notified_at: fact.notified_at,
        notification_failures: i32::try_from(fact.notification_failures).expect("a few failures"),
        withdrawn_at: fact.withdrawn_at,
        closed_at: fact.closed_at,
        closed_reason: fact.closed_reason.clone(),
        first_appointment_id: fact.first_appointment.appointment_id.clone(),
        first_appointment_booked_for: fact.first_appointment.booked_for,
        first_appointment_attended_at: fact.first_appointment.attended_at,
        first_appointment_clinic: fact.first_appointment.clinic_type.clone(),
        first_appointment_dna: i32::try_from(fact.first_appointment.did_not_attend)
            .expect("a few misses"),
        practice_code: fact.practice_code.clone(),
        demo: fact.demo,
        // Worked out from the patients' facts once they are all in, as
        // a migration or a restored snapshot does (`recompute_all`).
        re_referred_6m: 0,
        re_referred_12m: 0,
    }
}
