//! Unit tests of `opt_in.rs`.

use super::*;
use chrono::TimeZone;
use proptest::prelude::*;

fn key(byte: u8) -> OptInKey {
    OptInKey::new(&[byte; 32]).expect("any length is a key")
}

fn token() -> OptInToken {
    OptInToken {
        decision_id: Uuid::now_v7(),
        closes_at: Utc
            .with_ymd_and_hms(2026, 3, 20, 23, 59, 59)
            .single()
            .expect("a real instant"),
    }
}

#[test]
fn a_signed_token_verifies_with_its_key_only() {
    let token = token();
    let text = token.sign(&key(1));
    assert_eq!(OptInToken::verify(&key(1), &text), Ok(token));
    assert_eq!(
        OptInToken::verify(&key(2), &text),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn a_changed_token_is_refused() {
    let token = token();
    let text = token.sign(&key(1));
    let later = OptInToken {
        closes_at: token.closes_at + chrono::TimeDelta::days(30),
        ..token
    };
    // The later window with the first one's signature.
    let forged = format!("{}{}", &later.sign(&key(1))[..32], &text[32..]);
    assert_eq!(
        OptInToken::verify(&key(1), &forged),
        Err(TokenError::BadSignature)
    );
    for bad in ["", "abc", "not base64 !", &"A".repeat(500), &text[..40]] {
        assert_eq!(
            OptInToken::verify(&key(1), bad),
            Err(TokenError::Malformed),
            "{bad:?}"
        );
    }
}

#[test]
fn the_window_is_open_until_it_closes() {
    let token = token();
    assert!(token.is_open_at(token.closes_at - chrono::TimeDelta::seconds(1)));
    assert!(!token.is_open_at(token.closes_at));
}

#[test]
fn a_short_code_is_stable_and_reads_forgivingly() {
    let id = Uuid::now_v7();
    let code = ShortCode::for_decision(&key(1), id);
    assert_eq!(code, ShortCode::for_decision(&key(1), id));
    assert_ne!(code, ShortCode::for_decision(&key(2), id));
    let printed = code.printed();
    assert_eq!(printed.len(), CODE_LENGTH + 1);
    assert_eq!(ShortCode::parse(&printed), Ok(code.clone()));
    assert_eq!(
        ShortCode::parse(&printed.to_lowercase().replace('-', " ")),
        Ok(code.clone())
    );
    assert_eq!(
        ShortCode::parse("oil0o-11111").map(|c| c.printed()),
        Ok("01100-11111".into())
    );
    assert!(ShortCode::parse("").is_err());
    assert!(ShortCode::parse("ABCDE").is_err());
    assert!(
        ShortCode::parse("ABCDE-FGHJU").is_err(),
        "U is not in the alphabet"
    );
    assert!(ShortCode::parse("ABCDE-FGHJ<").is_err());
    assert_eq!(code.hash().len(), 64);
    assert!(!format!("{code:?}").contains(&printed[..5]));
}

proptest! {
    #[test]
    fn any_text_is_read_without_panicking(text in ".{0,200}") {
        let _ = OptInToken::verify(&key(1), &text);
        let _ = ShortCode::parse(&text);
    }

    #[test]
    fn every_code_parses_back(seed in any::<u128>()) {
        let code = ShortCode::for_decision(&key(1), Uuid::from_u128(seed));
        prop_assert_eq!(ShortCode::parse(&code.printed()), Ok(code));
    }
}
