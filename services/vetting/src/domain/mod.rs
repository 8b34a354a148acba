//! Vetting's domain, pure rules and types with no I/O: where a referral is
//! in vetting and how it moves ([`status`]), who may act on it ([`claim`]),
//! what makes an outcome complete ([`outcome`]) and a question
//! to the referrer ([`question`]), how long it has waited
//! ([`wait`]), the working calendar that wait is counted on, and dates and
//! times as people read them, on Scotland's clock ([`when`]).

/// The working calendar lives with the board settings it reads.
pub use pathway_proto::calendar;
pub mod claim;
pub mod outcome;
pub mod question;
pub mod status;
pub mod wait;
pub mod when;

/// `RED_FLAG_HISTORY_OF_CANCER` → `history_of_cancer`.
pub fn red_flag_code(flag: pathway_proto::v1::RedFlag) -> String {
    flag.as_str_name()
        .trim_start_matches("RED_FLAG_")
        .to_ascii_lowercase()
}

/// `history_of_cancer` → `History of cancer`.
pub fn in_words(code: &str) -> String {
    let words = code.replace(['_', '-'], " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
#[path = "tests/domain.rs"]
mod tests;
