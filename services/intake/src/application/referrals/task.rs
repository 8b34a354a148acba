//! A referral's status as a FHIR `Task`, one or a page of them: the same
//! readers as the native read (its referrer; clinicians of its board), and
//! an audit row for every referral shown.

use pathway_common::auth::{AuthError, Caller, Role};

use super::{load_for, stored_board};
use crate::application::{Error, Intake, audit_referral};
use crate::domain::appointment::AppointmentStatus;
use crate::domain::fhir::search::{Cursor, TaskSearch};
use crate::domain::fhir::task::{DecisionCodes, FirstAppointment, OpenQuestion, TaskFacts};
use crate::store::{appointments, queries, referral};

/// A page of Tasks, and where the next one starts if there is one.
#[derive(Debug, Clone)]
pub struct TaskPage {
    pub tasks: Vec<TaskFacts>,
    pub next: Option<Cursor>,
}

/// The latest decision in the referral's history, as codes.
fn decision(history: &[crate::store::history::Model]) -> Option<DecisionCodes> {
    let detail = history
        .iter()
        .rev()
        .filter(|h| h.kind == "decision.recorded")
        .find_map(|h| h.detail.as_deref())?;
    let detail: serde_json::Value = serde_json::from_str(detail).ok()?;
    let code = |name: &str| detail.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    Some(DecisionCodes {
        outcome: code("outcome"),
        priority: code("priority"),
        mode: code("mode"),
    })
}

/// What the Task of `row` says (also what a FHIR Subscription's notification carries).
pub(crate) async fn facts<C: sea_orm::ConnectionTrait>(
    txn: &C,
    row: referral::Model,
) -> Result<TaskFacts, Error> {
    let history = queries::history(txn, &row.id).await?;
    let open_questions = queries::open_information_requests(txn, &row.id)
        .await?
        .into_iter()
        .rev()
        .map(|r| OpenQuestion {
            id: r.id,
            requested_at: r.requested_at,
            question: r.question,
        })
        .collect();
    let first_appointment = FirstAppointment::current(
        appointments::first_appointments(txn, &row.id)
            .await?
            .into_iter()
            .filter_map(|a| {
                Some(FirstAppointment {
                    happened: AppointmentStatus::parse(&a.status)?.happened(),
                    day: a.day,
                    updated_at: a.updated_at,
                })
            }),
    );
    Ok(TaskFacts {
        board: stored_board(&row.board)?.code().to_owned(),
        referral_id: row.id,
        practice_code: row.practice_code,
        status: row.status.into(),
        received_at: row.received_at,
        updated_at: row.updated_at,
        version: row.version,
        decision: decision(&history),
        open_questions,
        first_appointment,
    })
}

impl Intake {
    /// The Task of referral `id`, as `caller` may see it.
    pub async fn referral_task(&self, caller: &Caller, id: &str) -> Result<TaskFacts, Error> {
        let txn = self.snapshot().await?;
        let row = load_for(&txn, caller, id).await?;
        audit_referral(
            &txn,
            caller,
            "referral.read",
            &row.id,
            &row.board,
            "view referral status (FHIR Task)",
        )
        .await?;
        let mut task = facts(&txn, row).await?;
        txn.commit().await?;
        let found = self
            .questions_from_vetting(
                task.open_questions
                    .iter()
                    .map(|q| (q.id.as_str(), q.question.as_deref())),
                "the referral's Task, for the referrer to answer",
            )
            .await;
        for open in &mut task.open_questions {
            if open.question.is_none() {
                open.question = found.get(&open.id).cloned();
            }
        }
        Ok(task)
    }

    /// A page of the Tasks `caller` may see that match `search`, least
    /// recently modified first: a referrer's own referrals, or a clinician's
    /// boards' referrals.
    pub async fn search_tasks(
        &self,
        caller: &Caller,
        search: &TaskSearch,
    ) -> Result<TaskPage, Error> {
        let (boards, referrer) = match caller.role {
            Role::Referrer => (caller.boards.clone(), Some(caller.subject.as_str())),
            Role::Clinician => (caller.boards.clone(), None),
            _ => {
                return Err(Error::Forbidden(AuthError::Forbidden(format!(
                    "the role {} cannot read referrals: only referrers and clinicians",
                    caller.role
                ))));
            }
        };
        // `None`: every board (a token for all of them).
        let boards: Option<Vec<String>> = match (&search.board, boards.contains("*")) {
            (Some(board), true) => Some(vec![board.clone()]),
            (Some(board), false) => Some(boards.into_iter().filter(|b| b == board).collect()),
            (None, true) => None,
            (None, false) => Some(boards.into_iter().collect()),
        };
        if boards.as_ref().is_some_and(Vec::is_empty) {
            return Ok(TaskPage {
                tasks: Vec::new(),
                next: None,
            });
        }
        let txn = self.snapshot().await?;
        let mut rows = queries::search_referrals(
            &txn,
            &queries::ReferralFilter {
                boards,
                referrer_subject: referrer,
                practice_code: search.practice_code.as_deref(),
                since: search.since,
                before: search.before,
                after: search
                    .cursor
                    .as_ref()
                    .map(|c| (c.updated_at, c.id.as_str())),
            },
            search.count + 1,
        )
        .await?;
        let more = rows.len() as u64 > search.count;
        rows.truncate(usize::try_from(search.count).unwrap_or(usize::MAX));
        let next = more.then(|| rows.last()).flatten().map(|last| Cursor {
            updated_at: last.updated_at,
            id: last.id.clone(),
        });
        let mut tasks = Vec::with_capacity(rows.len());
        for row in rows {
            audit_referral(
                &txn,
                caller,
                "referral.read",
                &row.id,
                &row.board,
                "search referral statuses (FHIR Task)",
            )
            .await?;
            tasks.push(facts(&txn, row).await?);
        }
        txn.commit().await?;
        Ok(TaskPage { tasks, next })
    }
}
