//! Messages held until another delivery has ended: the referrer's message
//! of a decision, a withdrawal or an opt-in window's close waits for the
//! patient's, so that it says how (and on which Scottish day) the patient
//! was told, or that they could not be reached.
//! The transaction that records the patient's delivery's end rewrites the
//! held message's words and makes it due; a crash before its commit leaves
//! both as they were, for the next attempt.

use chrono::{DateTime, Utc};
use pathway_proto::days;
use sea_orm::ConnectionTrait;

use super::{Error, Notifications};
use crate::domain::{Cause, ChannelKind, Planned, Recipient, told};
use crate::store::{deliveries, delivery};

impl Notifications {
    /// The patient's delivery `patient_id` ended at `now`, `sent` or not:
    /// the messages held for it say so and are due.
    pub(super) async fn release_told<C: ConnectionTrait>(
        &self,
        txn: &C,
        patient_id: &str,
        sent: bool,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let held = deliveries::held_by(txn, &self.cipher, patient_id).await?;
        if held.is_empty() {
            return Ok(());
        }
        let channel = deliveries::find(txn, &self.cipher, patient_id)
            .await?
            .and_then(|row| ChannelKind::parse(&row.channel))
            .unwrap_or(ChannelKind::Letter);
        let words = told::words(channel, sent, days::day_of(now));
        for row in held {
            let reworded = delivery::Model {
                subject: told::reword(&row.subject, &words),
                body: told::reword(&row.body, &words),
                document: row.document.as_deref().map(|d| told::reword(d, &words)),
                waits_for: None,
                updated_at: now,
                ..row
            };
            deliveries::release_reworded(txn, &self.cipher, reworded, patient_id).await?;
        }
        Ok(())
    }
}

/// What the referrer's message says of the patient.
pub(super) enum PatientTold {
    /// Nothing: the patient is not told of this (or the referrer's message
    /// does not speak of them).
    Nothing,
    /// Known now: the patient's delivery has nowhere to go, or the
    /// referrer's message cannot wait for it (it has nowhere to go either).
    Known(String),
    /// Once the patient's delivery `patient_id` has ended: the referrer's
    /// message is held until then.
    Held { patient_id: String },
}

impl PatientTold {
    pub(super) fn of(cause: &Cause, planned: &[Planned], ids: &[String]) -> Self {
        // The messages to the referrer that speak of the patient: a
        // decision, the close of an opt-in window, a withdrawal.
        if !matches!(
            cause,
            Cause::Decision(_) | Cause::OptInClosed | Cause::Withdrawn { .. }
        ) {
            return PatientTold::Nothing;
        }
        let Some((patient, id)) = planned
            .iter()
            .zip(ids)
            .find(|(p, _)| p.recipient == Recipient::Patient)
        else {
            return PatientTold::Nothing;
        };
        let referrer_addressed = planned
            .iter()
            .any(|p| p.recipient == Recipient::Referrer && p.address.is_ok());
        match (&patient.address, referrer_addressed) {
            (Err(_), _) => PatientTold::Known(told::words(
                patient.channel,
                false,
                pathway_proto::days::today(),
            )),
            (Ok(_), false) => PatientTold::Known(told::being_told(patient.channel)),
            (Ok(_), true) => PatientTold::Held {
                patient_id: id.clone(),
            },
        }
    }
}
