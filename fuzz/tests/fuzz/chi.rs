//! The CHI number: any text is either refused with the first rule it breaks
//! or accepted as ten digits with a real date of birth and a check digit that
//! holds, and every nine digits with a real date are completed by either
//! scheme's check digit.

use bolero::check;
use chrono::NaiveDate;
use pathway_fuzz::Draw;
use pathway_intake::domain::{ChiError, ChiNumber, Sex, luhn_check_digit, modulus_11_check_digit};

/// Text that is often nearly a CHI number: a date, two digits, a sex digit
/// and a check digit from either scheme or none, sometimes damaged.
fn candidate(draw: &mut Draw) -> String {
    match draw.below(8) {
        0 => draw.text(14),
        1 => {
            let count = draw.below(13);
            draw.digits(count)
        }
        _ => {
            let first_nine = format!(
                "{:02}{:02}{:02}{}",
                draw.range(0, 32),
                draw.range(0, 13),
                draw.range(0, 99),
                draw.digits(3)
            );
            let digits = digits_of(&first_nine);
            let check = match draw.below(3) {
                0 => modulus_11_check_digit(&digits).unwrap_or(10),
                1 => luhn_check_digit(&digits),
                _ => u32::from(draw.byte() % 10),
            };
            let chi = format!("{first_nine}{check}");
            if draw.chance(40) {
                draw.mangle(&chi)
            } else {
                chi
            }
        }
    }
}

fn digits_of(text: &str) -> Vec<u32> {
    text.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// DDMMYY as a date in the 1900s or the 2000s, worked out here on its own.
fn birth_date(d: &[u32]) -> Option<NaiveDate> {
    let (day, month, year) = (d[0] * 10 + d[1], d[2] * 10 + d[3], d[4] * 10 + d[5]);
    let year = i32::try_from(year).ok()?;
    [1900, 2000]
        .into_iter()
        .find_map(|century| NaiveDate::from_ymd_opt(century + year, month, day))
}

/// Modulus 11 over all ten digits (weights 10..2, then 1 for the check digit).
fn modulus_11_holds(d: &[u32]) -> bool {
    let sum: u32 = d[..9]
        .iter()
        .zip((2..=10).rev())
        .map(|(digit, weight)| digit * weight)
        .sum();
    d[9] < 10 && (sum + d[9]).is_multiple_of(11)
}

/// Luhn over all ten digits, the check digit undoubled.
fn luhn_holds(d: &[u32]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &digit)| match (i % 2, digit * 2) {
            (0, _) => digit,
            (_, doubled) if doubled > 9 => doubled - 9,
            (_, doubled) => doubled,
        })
        .sum();
    sum.is_multiple_of(10)
}

#[test]
fn chi_parse_refuses_with_the_first_broken_rule_or_accepts_a_valid_number() {
    check!().with_iterations(50_000).for_each(|bytes: &[u8]| {
        let text = candidate(&mut Draw::new(bytes));
        let ten_digits = text.len() == 10 && text.bytes().all(|b| b.is_ascii_digit());
        let digits = digits_of(&text);
        let expected = if !ten_digits {
            Err(ChiError::NotTenDigits)
        } else if birth_date(&digits).is_none() {
            Err(ChiError::NotADate)
        } else if !(modulus_11_holds(&digits) || luhn_holds(&digits)) {
            Err(ChiError::CheckDigit)
        } else {
            Ok(())
        };
        match ChiNumber::parse(&text) {
            Err(error) => assert_eq!(Err(error), expected, "{text:?}"),
            Ok(chi) => {
                assert_eq!(expected, Ok(()), "{text:?} was accepted");
                assert_eq!(chi.expose(), text);
                let date = birth_date(&digits).expect("checked above");
                assert!(chi.agrees_with_birth_date(date));
                let odd = digits[8] % 2 == 1;
                assert_eq!(chi.agrees_with_sex(Sex::Male), odd);
                assert_eq!(chi.agrees_with_sex(Sex::Female), !odd);
                assert!(chi.agrees_with_sex(Sex::NotKnown));
                let json = serde_json::to_string(&chi).expect("a CHI number serialises");
                let back: ChiNumber = serde_json::from_str(&json).expect("and reads back");
                assert_eq!(back, chi);
                assert_eq!(ChiNumber::parse(chi.expose()), Ok(chi));
            }
        }
    });
}

#[test]
fn either_check_digit_completes_nine_digits_with_a_real_date() {
    check!().with_iterations(50_000).for_each(|bytes: &[u8]| {
        let mut draw = Draw::new(bytes);
        let date = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date")
            + chrono::Days::new(u64::try_from(draw.below(200 * 366)).unwrap_or(0));
        let first_nine = format!("{}{}", date.format("%d%m%y"), draw.digits(3));
        let digits = digits_of(&first_nine);
        let luhn = format!("{first_nine}{}", luhn_check_digit(&digits));
        assert!(ChiNumber::parse(&luhn).is_ok(), "{luhn}");
        match modulus_11_check_digit(&digits) {
            Some(check) => {
                let chi = format!("{first_nine}{check}");
                assert!(ChiNumber::parse(&chi).is_ok(), "{chi}");
            }
            // 10 is never issued: no digit completes the number by modulus 11.
            None => {
                assert!((0..10).all(|check| {
                    !modulus_11_holds(&digits_of(&format!("{first_nine}{check}")))
                }))
            }
        }
    });
}
