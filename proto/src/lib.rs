//! Pathway's event contracts.
//!
//! The `.proto` files under `pathway/v1/` are the source of truth; `build.rs`
//! compiles them to the types in [`v1`] at build time. This crate also owns
//! the names every service agrees on: the subject of each event
//! ([`v1::Event::subject`]), the JetStream stream that holds them all
//! ([`stream`]) and the request/reply subjects between services ([`rpc`]);
//! and what more than one service needs to know of a board: its code
//! ([`BoardCode`], [`board_code`]), its settings ([`board`]) and its working
//! calendar ([`calendar`]); and the FHIR identifier systems more than one
//! service writes ([`fhir`]).

#[allow(clippy::all, clippy::pedantic, missing_docs)]
pub mod v1 {
    include!(concat!(env!("OUT_DIR"), "/pathway.v1.rs"));

    pub use event::Payload;

    use chrono::{DateTime, Utc};
    use uuid::Uuid;

    /// Subject prefix of major version 1.
    pub const SUBJECT_PREFIX: &str = "pathway.v1";

    impl Event {
        /// A new event with a fresh UUIDv7 and `occurred_at` = `at`.
        pub fn new(
            board: &str,
            referral_id: Option<Uuid>,
            actor: &str,
            at: DateTime<Utc>,
            payload: Payload,
        ) -> Self {
            Self {
                event_id: Uuid::now_v7().to_string(),
                referral_id: referral_id.map(|id| id.to_string()).unwrap_or_default(),
                board: board.to_owned(),
                occurred_at: Some(timestamp(at)),
                actor: actor.to_owned(),
                demo: false,
                payload: Some(payload),
            }
        }

        /// `(aggregate, event)` naming of the payload, e.g. `("referral", "received")`.
        pub fn kind(&self) -> Option<(&'static str, &'static str)> {
            self.payload.as_ref().map(Payload::kind)
        }

        /// `pathway.v1.<board>.<aggregate>.<event>`.
        pub fn subject(&self) -> Option<String> {
            self.kind()
                .map(|(aggregate, event)| subject(&self.board, aggregate, event))
        }

        /// `occurred_at` as a chrono time, if present and valid.
        pub fn occurred_at(&self) -> Option<DateTime<Utc>> {
            self.occurred_at.as_ref().and_then(from_timestamp)
        }
    }

    impl Payload {
        /// `(aggregate, event)` naming used in subjects and histories.
        pub fn kind(&self) -> (&'static str, &'static str) {
            match self {
                Payload::ReferralReceived(_) => ("referral", "received"),
                Payload::ReferralRoutedStandard(_) => ("referral", "routed_standard"),
                Payload::ReferralWithdrawn(_) => ("referral", "withdrawn"),
                Payload::ReferralInfoProvided(_) => ("referral", "info_provided"),
                Payload::ReferralOptedIn(_) => ("referral", "opted_in"),
                Payload::ReferralClosed(_) => ("referral", "closed"),
                Payload::ReferralErased(_) => ("referral", "erased"),
                Payload::ReferralRestrictionChanged(_) => ("referral", "restriction_changed"),
                Payload::BoardPathwayChanged(_) => ("board", "pathway_changed"),
                Payload::BoardSettingsChanged(_) => ("board", "settings_changed"),
                Payload::VettingClaimed(_) => ("vetting", "claimed"),
                Payload::VettingReleased(_) => ("vetting", "released"),
                Payload::VettingInfoRequested(_) => ("vetting", "info_requested"),
                Payload::VettingCompleted(_) => ("vetting", "completed"),
                Payload::VettingInfoRequestOverdue(_) => ("vetting", "info_request_overdue"),
                Payload::DecisionRecorded(_) => ("decision", "recorded"),
                Payload::DecisionOptInReminderDue(_) => ("decision", "opt_in_reminder_due"),
                Payload::DecisionOptInLapsed(_) => ("decision", "opt_in_lapsed"),
                Payload::NotificationSent(_) => ("notification", "sent"),
                Payload::NotificationFailed(_) => ("notification", "failed"),
                Payload::AppointmentBooked(_) => ("appointment", "booked"),
                Payload::AppointmentAttended(_) => ("appointment", "attended"),
                Payload::AppointmentDidNotAttend(_) => ("appointment", "did_not_attend"),
                Payload::AppointmentCancelled(_) => ("appointment", "cancelled"),
                Payload::AnalyticsDailySummary(_) => ("analytics", "daily_summary"),
            }
        }
    }

    /// `pathway.v1.<board>.<aggregate>.<event>`; `board` may be `*` in a filter.
    pub fn subject(board: &str, aggregate: &str, event: &str) -> String {
        format!("{SUBJECT_PREFIX}.{board}.{aggregate}.{event}")
    }

    /// Filter for one kind of event across every board, e.g. `pathway.v1.*.vetting.>`.
    pub fn filter_all_boards(aggregate: &str, event: Option<&str>) -> String {
        match event {
            Some(event) => subject("*", aggregate, event),
            None => format!("{SUBJECT_PREFIX}.*.{aggregate}.>"),
        }
    }

    pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
        prost_types::Timestamp {
            seconds: at.timestamp(),
            nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
        }
    }

    pub fn from_timestamp(ts: &prost_types::Timestamp) -> Option<DateTime<Utc>> {
        DateTime::from_timestamp(ts.seconds, u32::try_from(ts.nanos).ok()?)
    }
}

#[cfg(test)]
#[path = "tests/free_text.rs"]
mod free_text;

pub mod board;
pub mod board_code;
pub mod calendar;
pub mod days;
pub mod fhir;

pub use board_code::{BOARDS, BoardCode};

/// Request/reply subjects between services: queries, never facts, so never
/// on the stream.
pub mod rpc {
    /// Intake's identifiable look-up: a [`crate::v1::ReferralLookupRequest`]
    /// with an `Authorization: Bearer <service token>` header, answered with
    /// a [`crate::v1::ReferralLookupReply`] (`pathway/v1/lookup.proto`).
    pub const REFERRAL_LOOKUP: &str = "pathway.rpc.intake.referral.get";

    /// Vetting's clinical free text (questions, advice, reasons, rationale),
    /// by the ids events carry: a [`crate::v1::ClinicalTextRequest`] with an
    /// `Authorization: Bearer <service token>` header, answered with a
    /// [`crate::v1::ClinicalTextReply`] (`pathway/v1/clinical_text.proto`).
    pub const CLINICAL_TEXT: &str = "pathway.rpc.vetting.clinical_text.get";
}

/// The one JetStream stream that holds every pathway fact.
pub mod stream {
    use std::time::Duration;

    /// Stream name.
    pub const NAME: &str = "PATHWAY";
    /// Every subject of major version 1.
    pub const SUBJECTS: &str = "pathway.v1.>";
    /// Broker-side de-duplication window on `Nats-Msg-Id`. It must be longer
    /// than the outbox relay's retry horizon ([`RELAY_RETRY_HORIZON`]), so a
    /// re-published outbox row is always recognised as a duplicate.
    pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(2 * 60 * 60);
    /// How long the relay keeps re-publishing a row before it alerts; kept
    /// well inside [`DUPLICATE_WINDOW`].
    pub const RELAY_RETRY_HORIZON: Duration = Duration::from_secs(60 * 60);

    /// Where a consumer's replayed dead letters go:
    /// `pathway.v1.replay.for.<consumer>.<board>.<aggregate>.<event>`. Inside
    /// the stream's subjects, but matched by no consumer's filter on events
    /// (`pathway.v1.*.<aggregate>.>`: the fourth token is `for`), so only
    /// the consumer that refused the event reads its replay, and a service
    /// needs leave to publish only its own replays, not the events it reads.
    const REPLAY_PREFIX: &str = "pathway.v1.replay.for.";

    /// The subject a replay of `original` for `consumer` is published on.
    pub fn replay_subject(consumer: &str, original: &str) -> String {
        let rest = original.strip_prefix("pathway.v1.").unwrap_or(original);
        format!("{REPLAY_PREFIX}{consumer}.{rest}")
    }

    /// The filter that gives `consumer` its own replays.
    pub fn replay_filter(consumer: &str) -> String {
        format!("{REPLAY_PREFIX}{consumer}.>")
    }

    /// The subject an event was first published on: `subject` itself, or
    /// for a replay the subject it replays.
    pub fn original_subject(subject: &str) -> String {
        match subject
            .strip_prefix(REPLAY_PREFIX)
            .and_then(|rest| rest.split_once('.'))
        {
            Some((_consumer, rest)) => format!("pathway.v1.{rest}"),
            None => subject.to_owned(),
        }
    }

    /// Dead letters: a separate stream so that no pathway consumer sees them.
    pub const DEAD_LETTER_STREAM: &str = "PATHWAY_DEAD_LETTERS";
    /// `pathway.deadletter.v1.<consumer>`.
    pub const DEAD_LETTER_SUBJECTS: &str = "pathway.deadletter.v1.>";

    pub fn dead_letter_subject(consumer: &str) -> String {
        format!("pathway.deadletter.v1.{consumer}")
    }

    /// JetStream's advisories that it stopped redelivering a message of the
    /// pathway stream (`MAX_DELIVERIES`), kept until each is a dead letter.
    pub const ADVISORY_STREAM: &str = "PATHWAY_ADVISORIES";
    /// Every `MAX_DELIVERIES` advisory of a consumer on the pathway stream.
    pub const MAX_DELIVERIES_SUBJECTS: &str =
        "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.PATHWAY.*";
    /// How long an advisory is kept when no service takes it.
    pub const ADVISORY_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 60 * 60);

    /// The `MAX_DELIVERIES` advisories of `consumer` on the pathway stream.
    pub fn max_deliveries_subject(consumer: &str) -> String {
        format!("$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.{NAME}.{consumer}")
    }
}
