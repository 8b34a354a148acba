//! What the referrer's decision message says of the patient, and only once
//! it is known: the message is rendered with [`MARK`] where those words go
//! and held until the patient's delivery has ended; then the mark becomes
//! [`words`] and the message is due.

use chrono::NaiveDate;

use super::ChannelKind;

/// Where the words about the patient go in the held message (the
/// `patient_told` field while it is held).
pub const MARK: &str = "[[patient-told]]";

/// The words about the patient once their delivery on `channel` ended:
/// `sent` on the Scottish day `day`, or not at all.
pub fn words(channel: ChannelKind, sent: bool, day: NaiveDate) -> String {
    let by = by(channel);
    if sent {
        format!(
            "The patient has been told by {by} on {}.",
            day.format("%-d %B %Y")
        )
    } else {
        format!("The patient could not be reached by {by}: the board has been told.")
    }
}

/// The words about the patient while their delivery is still going.
pub fn being_told(channel: ChannelKind) -> String {
    format!("The patient is being told by {}.", by(channel))
}

fn by(channel: ChannelKind) -> &'static str {
    match channel {
        ChannelKind::Sms => "SMS",
        ChannelKind::Email => "e-mail",
        ChannelKind::Letter => "letter",
        ChannelKind::Webhook => "message",
    }
}

/// `text` with the mark replaced by `words`.
pub fn reword(text: &str, words: &str) -> String {
    text.replace(MARK, words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_referrer_reads_how_and_on_which_scottish_day_the_patient_was_told_or_that_they_were_not()
    {
        let day = NaiveDate::from_ymd_opt(2026, 3, 20).expect("a day");
        assert_eq!(
            words(ChannelKind::Sms, true, day),
            "The patient has been told by SMS on 20 March 2026."
        );
        assert_eq!(
            words(ChannelKind::Letter, false, day),
            "The patient could not be reached by letter: the board has been told."
        );
        let held = format!("Outcome: accept.\\n{MARK}");
        assert_eq!(
            reword(&held, &words(ChannelKind::Email, true, day)),
            "Outcome: accept.\\nThe patient has been told by e-mail on 20 March 2026."
        );
    }
}
