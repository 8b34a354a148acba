//! Which version of a template a patient's message uses: the patient's
//! language first, then the format their needs ask for, each falling back to
//! the plainer one when a board or Pathway has no such version.
//!
//! Names: `<name>` is English in the standard format (`patient/accept`); a
//! format is a suffix (`patient/accept.easy_read`); a language other than
//! English is a folder in front (`gd/patient/accept`), both together
//! `gd/patient/accept.easy_read`. Easy read is wording, so it applies on
//! every channel; large print is a letter's layout (a phone or a mail
//! reader enlarges its own text), so it applies to letters only. A patient
//! who needs both gets easy read, whose documents are set large anyway.
//! Only messages to the patient vary: the referrer and the receiving
//! service read Pathway's standard English.

use serde::Serialize;

use super::{ChannelKind, Recipient};

/// A message format other than the standard one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    EasyRead,
    LargePrint,
}

impl Format {
    pub const ALL: &'static [Format] = &[Format::EasyRead, Format::LargePrint];

    /// The suffix of a template name in this format, without its dot.
    pub fn suffix(self) -> &'static str {
        match self {
            Format::EasyRead => "easy_read",
            Format::LargePrint => "large_print",
        }
    }
}

/// What the referral says about how the patient reads and speaks, as far as
/// the messages about it need; a receiving service is sent it, as `needs`,
/// to book what the patient needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Needs {
    /// ISO 639 code of the language of written messages; `None` is English.
    #[serde(rename = "preferred_language")]
    pub language: Option<String>,
    pub easy_read: bool,
    pub large_print: bool,
    /// The language an interpreter is needed for, when one is.
    #[serde(rename = "interpreter_language")]
    pub interpreter: Option<String>,
    pub british_sign_language: bool,
}

/// English, the language of the templates without a language folder.
pub const ENGLISH: &str = "en";

impl Needs {
    /// From intake's codes: unknown need codes are skipped (a reader must
    /// accept a code it does not know), and an interpreter is needed when
    /// the referral says so and names the language.
    pub fn from_intake(
        codes: &[String],
        interpreter_language: Option<&str>,
        preferred_language: Option<&str>,
    ) -> Self {
        let has = |code: &str| codes.iter().any(|c| c.trim() == code);
        let text = |t: Option<&str>| Some(t?.trim().to_owned()).filter(|t| !t.is_empty());
        Needs {
            language: text(preferred_language)
                .map(|l| l.to_ascii_lowercase())
                .filter(|l| l != ENGLISH),
            easy_read: has("easy_read"),
            large_print: has("large_print"),
            interpreter: text(interpreter_language).filter(|_| has("interpreter")),
            british_sign_language: has("british_sign_language"),
        }
    }

    /// The format a message on `channel` is best in, if not the standard.
    pub fn format(&self, channel: ChannelKind) -> Option<Format> {
        if self.easy_read {
            Some(Format::EasyRead)
        } else if self.large_print && channel == ChannelKind::Letter {
            Some(Format::LargePrint)
        } else {
            None
        }
    }
}

/// The names to try for `base` to `recipient` on `channel`, best first,
/// ending with `base` itself: language and format, language alone, format
/// alone, the standard.
pub fn candidates(
    base: &str,
    recipient: Recipient,
    channel: ChannelKind,
    needs: &Needs,
) -> Vec<String> {
    if recipient != Recipient::Patient {
        return vec![base.to_owned()];
    }
    let format = needs.format(channel);
    let formatted = |name: &str| format.map(|f| format!("{name}.{}", f.suffix()));
    let mut out = Vec::with_capacity(4);
    if let Some(language) = &needs.language {
        let translated = format!("{language}/{base}");
        out.extend(formatted(&translated));
        out.push(translated);
    }
    out.extend(formatted(base));
    out.push(base.to_owned());
    out
}

/// The first of [`candidates`] that `exists`, else `base`.
pub fn choose(
    base: &str,
    recipient: Recipient,
    channel: ChannelKind,
    needs: &Needs,
    exists: impl Fn(&str) -> bool,
) -> String {
    candidates(base, recipient, channel, needs)
        .into_iter()
        .find(|name| exists(name))
        .unwrap_or_else(|| base.to_owned())
}

/// The template a variant's name is a version of
/// (`gd/patient/accept.easy_read` → `patient/accept`), as board settings
/// name them.
pub use pathway_proto::board::template_base as base_of;

#[cfg(test)]
#[path = "tests/variants.rs"]
mod tests;
