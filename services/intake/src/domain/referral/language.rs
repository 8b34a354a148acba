//! The language a patient wants their letters, e-mails and texts in.

use serde::{Deserialize, Serialize};

/// An ISO 639 language code as Pathway keeps it: two or three lower-case
/// letters (`en`, `gd`, `sco`). A BCP 47 tag's region or script (`en-GB`)
/// is dropped, since a message's wording varies by language only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Language(String);

impl Language {
    /// `text` as a language code, or why not.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let primary = text.trim().split(['-', '_']).next().unwrap_or_default();
        if (2..=3).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(Self(primary.to_ascii_lowercase()))
        } else {
            Err("is not an ISO 639 language code (two or three letters, e.g. en or gd)")
        }
    }

    pub fn code(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Language {
    type Error = &'static str;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Language> for String {
    fn from(language: Language) -> Self {
        language.0
    }
}
