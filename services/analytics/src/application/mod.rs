//! Analytics' use cases, one file each, over the service's state
//! ([`Analytics`]): each answers a domain outcome or an [`Error`], never a
//! status code.
//!
//! - [`metrics`]: the metrics for boards, dates and a grouping, if the caller may see them.
//! - [`phs`]: waits to first appointment as Public Health Scotland counts them.
//! - [`practices`]: feedback to referrers, per GP practice of one board.
//! - [`publication`]: the fixed quarterly tables, for evaluators of every board.
//! - [`baseline`]: a board's referrals from before adoption, loaded from its file.
//! - [`rebuild`]: every fact again from the latest snapshot and the stream
//!   after it, in the running service (pausing the live consumer) or with
//!   it stopped.
//! - [`daily_summary`]: each board's counts of yesterday, for its service
//!   manager, published once a Scottish day at the board's hour.
//! - [`snapshot`]: the facts kept with the stream sequence they hold, daily
//!   and on an operator's request.

use std::sync::Arc;

use pathway_common::auth::AuthError;
use pathway_common::platform::Platform;
use pathway_common::validation::FieldError;

use crate::domain::metrics::MetricRules;
use crate::store::boards::ContextCache;

pub mod baseline;
pub mod daily_summary;
pub mod metrics;
pub mod phs;
pub mod practices;
pub mod publication;
pub mod rebuild;
pub mod snapshot;

pub use rebuild::Rebuilder;

/// The analytics service's state.
#[derive(Clone)]
pub struct Analytics {
    pub platform: Platform,
    pub rules: MetricRules,
    /// The live consumer, and rebuilds that pause it.
    pub rebuilder: Rebuilder,
    /// The boards' contexts, kept between queries and checked against the
    /// boards' histories each time.
    pub contexts: Arc<ContextCache>,
}

impl Analytics {
    pub fn new(platform: Platform, rules: MetricRules) -> Self {
        Self {
            rebuilder: Rebuilder::new(platform.clone()),
            platform,
            rules,
            contexts: Arc::default(),
        }
    }
}

/// Why a use case did not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A baseline file with rows that cannot be loaded: every problem, by
    /// line and column (`line N.column`); nothing was loaded.
    #[error("{rejected_rows} rows of the file cannot be loaded")]
    InvalidFile {
        fields: Vec<FieldError>,
        rejected_rows: usize,
    },
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The facts are being rebuilt: anything computed from them now would be
    /// half-built.
    #[error("analytics is rebuilding its facts from the stream")]
    Rebuilding { handled: u64, remaining: u64 },
    /// A rebuild was asked for while one is running.
    #[error("a rebuild is running already")]
    RebuildRunning { handled: u64, remaining: u64 },
    /// A rebuild would lose facts: messages it needs have left the stream
    /// and no snapshot holds them. The reason says what is missing and how
    /// to go on.
    #[error("{0}")]
    RebuildRefused(String),
    /// The database did not answer; nothing was changed.
    #[error("the database did not answer")]
    Unavailable(#[source] anyhow::Error),
    /// Our own fault: the cause goes to the log.
    #[error(transparent)]
    Unexpected(anyhow::Error),
}

impl From<AuthError> for Error {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Forbidden(_) => Self::Forbidden(error.to_string()),
            other => Self::Unexpected(anyhow::Error::new(other)),
        }
    }
}

/// A database that did not answer is [`Error::Unavailable`], wherever it is
/// in the chain of causes; anything else is [`Error::Unexpected`].
impl From<anyhow::Error> for Error {
    fn from(error: anyhow::Error) -> Self {
        let unavailable = error
            .chain()
            .filter_map(|cause| cause.downcast_ref::<sea_orm::DbErr>())
            .any(pathway_common::db::is_unavailable);
        if unavailable {
            Self::Unavailable(error)
        } else {
            Self::Unexpected(error)
        }
    }
}

impl From<sea_orm::DbErr> for Error {
    fn from(error: sea_orm::DbErr) -> Self {
        anyhow::Error::new(error).into()
    }
}
