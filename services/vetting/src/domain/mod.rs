//! Vetting's domain: where a referral is in vetting, the working calendar
//! its wait is counted on, and what makes an outcome complete.

/// The working calendar lives with the board settings it reads.
pub use pathway_proto::calendar;
pub mod outcome;

/// Where a referral is, as vetting sees it.
pub mod status {
    pub const AWAITING_VETTING: &str = "awaiting_vetting";
    pub const IN_VETTING: &str = "in_vetting";
    pub const INFO_REQUESTED: &str = "info_requested";
    pub const VETTED: &str = "vetted";
    pub const WITHDRAWN: &str = "withdrawn";
    pub const CLOSED: &str = "closed";

    /// Every status, in the order a referral usually passes through them.
    pub const ALL: [&str; 6] = [
        AWAITING_VETTING,
        IN_VETTING,
        INFO_REQUESTED,
        VETTED,
        WITHDRAWN,
        CLOSED,
    ];

    /// The statuses a worklist shows unless asked otherwise.
    pub const WAITING: [&str; 3] = [AWAITING_VETTING, IN_VETTING, INFO_REQUESTED];
}

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
