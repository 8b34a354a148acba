//! The clinicians' free text an event's messages quote: the question put to
//! the referrer, a decision's advice and its reason for a redirect or
//! decline. Events carry only the texts' ids; the application reads the
//! texts from vetting before its transaction
//! (`application::texts`), as it reads contact details from intake.

use std::fmt;

/// The texts of one event, each `None` when the event names none.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CauseTexts {
    pub question: Option<String>,
    pub advice: Option<String>,
    pub reason: Option<String>,
}

/// Free text may hold identifiers: logs see only which texts there are.
impl fmt::Debug for CauseTexts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |text: &Option<String>| text.as_ref().map(|_| "***");
        f.debug_struct("CauseTexts")
            .field("question", &shown(&self.question))
            .field("advice", &shown(&self.advice))
            .field("reason", &shown(&self.reason))
            .finish()
    }
}
