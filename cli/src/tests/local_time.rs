use super::*;

#[test]
fn half_past_midnight_is_shown_on_scotlands_clock_either_side_of_each_change() {
    for (utc, shown) in [
        // The night before the clocks go forward, and the night after.
        ("2026-03-29T00:30:00Z", "2026-03-29T00:30:00+00:00"),
        ("2026-03-29T23:30:00Z", "2026-03-30T00:30:00+01:00"),
        // The night the clocks go back, and the night after.
        ("2026-10-24T23:30:00Z", "2026-10-25T00:30:00+01:00"),
        ("2026-10-26T00:30:00Z", "2026-10-26T00:30:00+00:00"),
        // New Year's Eve and New Year's Day.
        ("2026-12-31T23:30:00Z", "2026-12-31T23:30:00+00:00"),
        ("2027-01-01T00:30:00.250Z", "2027-01-01T00:30:00+00:00"),
        // A summer time given with another offset is the same instant.
        ("2026-07-01T01:30:00+02:00", "2026-07-01T00:30:00+01:00"),
    ] {
        assert_eq!(time(utc), shown, "{utc}");
    }
}

#[test]
fn what_is_not_an_instant_is_shown_as_given() {
    assert_eq!(time("soon"), "soon");
    assert_eq!(time_of(&Value::Null, "-"), "-");
    assert_eq!(
        time_of(&Value::String("2026-06-30T23:00:00Z".into()), "-"),
        "2026-07-01T00:00:00+01:00"
    );
}
