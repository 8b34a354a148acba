//! The referral (intake's validation): a generated request, mostly valid with
//! a damaged field now and then, and the same request as JSON with a
//! character damaged. Validation never panics; a refusal names each field
//! and why; an accepted referral keeps every rule, and the referral it
//! became, sent again, is accepted as the same referral.

use std::collections::BTreeSet;

use bolero::check;
use chrono::{Datelike, NaiveDate};
use pathway_fuzz::Draw;
use pathway_intake::domain::referral::{
    AccessibilityNeed, AddressRequest, ClinicalRequest, ContactChannel, ContactRequest,
    ImpactRequest, NewReferral, PainSite, PatientRequest, RedFlag, ReferralRequest,
    ReferrerRequest, RejectionReason, ReplyTo,
};
use pathway_intake::domain::{ChiNumber, Postcode, Sex, luhn_check_digit, modulus_11_check_digit};
use pathway_proto::board::BOARD_CODES;

/// `valid` most of the time; otherwise missing, junk, or damaged. An input
/// that has run out of bytes is all valid.
fn field(draw: &mut Draw, valid: impl FnOnce(&mut Draw) -> String) -> Option<String> {
    let valid = valid(draw);
    match draw.below(40) {
        37 => None,
        38 => Some(draw.text(12)),
        39 => Some(draw.mangle(&valid)),
        _ => Some(valid),
    }
}

fn codes(draw: &mut Draw, all: &[&'static str], at_least: usize) -> Vec<String> {
    let count = at_least + draw.below(4);
    let mut out = Vec::new();
    for _ in 0..count {
        out.push(field(draw, |draw| draw.pick(all).to_owned()).unwrap_or_default());
    }
    out
}

fn chi_for(draw: &mut Draw, born: NaiveDate, sex: &str) -> String {
    let parity = match sex {
        "male" => 1,
        "female" => 0,
        _ => draw.byte() % 2,
    };
    let sex_digit = (draw.byte() % 5) * 2 + parity;
    let first_nine = format!("{}{}{sex_digit}", born.format("%d%m%y"), draw.digits(2));
    let digits: Vec<u32> = first_nine.chars().filter_map(|c| c.to_digit(10)).collect();
    let check = match modulus_11_check_digit(&digits) {
        Some(check) if draw.chance(128) => check,
        _ => luhn_check_digit(&digits),
    };
    format!("{first_nine}{check}")
}

/// A request for `today`, built from the engine's bytes.
fn request(draw: &mut Draw, today: NaiveDate) -> ReferralRequest {
    let age_days = draw.range(0, 130 * 365);
    let born = today - chrono::Days::new(u64::try_from(age_days).unwrap_or(0));
    let sex = draw.pick(&["female", "male", "not_known"]);
    let chi = chi_for(draw, born, sex);
    let preferred = draw.pick(&["sms", "email", "letter"]);
    let mut needs = codes(
        draw,
        &AccessibilityNeed::ALL
            .iter()
            .map(|n| n.code())
            .collect::<Vec<_>>(),
        0,
    );
    needs.truncate(draw.below(3));
    let contact = ContactRequest {
        preferred: field(draw, |_| preferred.into()),
        mobile: (preferred == "sms" || draw.chance(64))
            .then(|| {
                draw.pick(&[
                    "07700 900123",
                    "+447700900456",
                    "07700-900-789",
                    "(07700) 900000",
                ])
            })
            .and_then(|m| field(draw, |_| m.into())),
        email: (preferred == "email" || draw.chance(64))
            .then(|| draw.pick(&["morag@example.org", " ann.smith@example.co.uk "]))
            .and_then(|e| field(draw, |_| e.into())),
        address: (preferred == "letter" || draw.chance(64)).then(|| AddressRequest {
            lines: (0..1 + draw.below(3))
                .map(|_| field(draw, draw_line).unwrap_or_default())
                .collect(),
            postcode: field(draw, |draw| draw.pick(&POSTCODES).into()),
        }),
    };
    let patient = PatientRequest {
        chi: field(draw, |_| chi),
        given_name: field(draw, |draw| {
            draw.pick(&["Morag", " Seán ", "Ann-Marie"]).into()
        }),
        family_name: field(draw, |draw| {
            draw.pick(&["MacLeod", "Ó Briain", "Smith"]).into()
        }),
        date_of_birth: field(draw, |_| born.format("%Y-%m-%d").to_string()),
        sex: field(draw, |_| sex.into()),
        postcode: field(draw, |draw| draw.pick(&POSTCODES).into()),
        contact: (!draw.chance(6)).then_some(contact),
        interpreter_language: (needs.iter().any(|n| n == "interpreter") || draw.chance(20))
            .then(|| draw.pick(&["Gaelic", "Polish", " "]))
            .and_then(|l| field(draw, |_| l.into())),
        accessibility_needs: needs,
        preferred_language: draw
            .chance(20)
            .then(|| draw.pick(&["gd", "en-GB", "Gaelic", " ", "sco"]))
            .and_then(|l| field(draw, |_| l.into())),
    };
    let channel = draw.pick(&["email", "webhook"]);
    let address = if channel == "email" {
        draw.pick(&["gp.practice@example.org", " reply@nhs.example.scot"])
    } else {
        draw.pick(&[
            "https://gp.example.org/referrals",
            "http://localhost:8080/hook",
            "https://[::1]/a?b=c#d",
            "HTTPS://GP.Example.ORG:443/a/../b",
        ])
    };
    let referrer = ReferrerRequest {
        practice_code: field(draw, |draw| draw.digits(5)),
        clinician_name: field(draw, |draw| {
            draw.pick(&["Dr Ann Smith", "Dr Ewan Ross"]).into()
        }),
        reply_channel: field(draw, |_| channel.into()),
        reply_address: field(draw, |_| address.into()),
    };
    let sites: Vec<&str> = PainSite::ALL.iter().map(|s| s.code()).collect();
    let flags: Vec<&str> = RedFlag::ALL.iter().map(|f| f.code()).collect();
    let levels = ["none", "mild", "moderate", "severe"];
    let clinical = ClinicalRequest {
        pain_duration_months: (!draw.chance(4)).then(|| draw.around(0, 1200)),
        pain_sites: (!draw.chance(4)).then(|| {
            let at_least = usize::from(!draw.chance(8));
            codes(draw, &sites, at_least)
        }),
        pain_intensity: (!draw.chance(4)).then(|| draw.around(0, 10)),
        impact: (!draw.chance(4)).then(|| ImpactRequest {
            function: field(draw, |draw| draw.pick(&levels).into()),
            sleep: field(draw, |draw| draw.pick(&levels).into()),
            mood: field(draw, |draw| draw.pick(&levels).into()),
        }),
        red_flags: (!draw.chance(4)).then(|| codes(draw, &flags, 0)),
        current_treatments: (0..draw.below(3)).map(|_| draw.text(20)).collect(),
        previous_treatments: (0..draw.below(3)).map(|_| draw_line(draw)).collect(),
        question: field(draw, |draw| {
            draw.pick(&["Is this neuropathic?", "  Please advise.  "])
                .into()
        }),
    };
    ReferralRequest {
        board: field(draw, |draw| draw.pick(&BOARD_CODES).into()),
        patient: (!draw.chance(4)).then_some(patient),
        referrer: (!draw.chance(4)).then_some(referrer),
        clinical: (!draw.chance(4)).then_some(clinical),
        consent_to_remote_pathway: draw.pick(&[
            Some(true),
            Some(true),
            Some(true),
            Some(false),
            None,
        ]),
        re_referral: draw.chance(32),
    }
}

const POSTCODES: [&str; 5] = ["IV2 3UJ", "eh11yz", "KW15 1BX", " G1 1AA ", "ZE1 0AA"];

fn draw_line(draw: &mut Draw) -> String {
    draw.pick(&["1 High Street", "Flat 2/1", "Inverness"])
        .into()
}

fn today(draw: &mut Draw) -> NaiveDate {
    NaiveDate::from_ymd_opt(2020, 1, 1).expect("a date")
        + chrono::Days::new(u64::try_from(draw.below(20 * 366)).unwrap_or(0))
}

/// The request a GP system would send for `referral`, field by field.
fn request_of(referral: &NewReferral) -> ReferralRequest {
    let p = &referral.patient;
    let sex = match p.sex {
        Sex::Male => "male",
        Sex::Female => "female",
        Sex::NotKnown => "not_known",
    };
    let preferred = match p.contact.preferred {
        ContactChannel::Sms => "sms",
        ContactChannel::Email => "email",
        ContactChannel::Letter => "letter",
    };
    let (reply_channel, reply_address) = match &referral.referrer.reply {
        ReplyTo::Email(address) => ("email", address),
        ReplyTo::Webhook(url) => ("webhook", url),
    };
    let k = &referral.clinical;
    ReferralRequest {
        board: Some(referral.board.code().into()),
        patient: Some(PatientRequest {
            chi: Some(p.chi.expose().into()),
            given_name: Some(p.given_name.expose().clone()),
            family_name: Some(p.family_name.expose().clone()),
            date_of_birth: Some(p.date_of_birth.expose().format("%Y-%m-%d").to_string()),
            sex: Some(sex.into()),
            postcode: Some(p.postcode.as_str().into()),
            contact: Some(ContactRequest {
                preferred: Some(preferred.into()),
                mobile: p.contact.mobile.as_ref().map(|m| m.expose().clone()),
                email: p.contact.email.as_ref().map(|e| e.expose().clone()),
                address: p.contact.address.as_ref().map(|a| AddressRequest {
                    lines: a.lines.expose().clone(),
                    postcode: Some(a.postcode.as_str().into()),
                }),
            }),
            accessibility_needs: p
                .accessibility_needs
                .iter()
                .map(|n| n.code().into())
                .collect(),
            interpreter_language: p.interpreter_language.clone(),
            preferred_language: p.preferred_language.clone().map(String::from),
        }),
        referrer: Some(ReferrerRequest {
            practice_code: Some(referral.referrer.practice_code.clone()),
            clinician_name: Some(referral.referrer.clinician_name.clone()),
            reply_channel: Some(reply_channel.into()),
            reply_address: Some(reply_address.clone()),
        }),
        clinical: Some(ClinicalRequest {
            pain_duration_months: Some(i64::from(k.pain_duration_months)),
            pain_sites: Some(k.pain_sites.iter().map(|s| s.code().into()).collect()),
            pain_intensity: Some(i64::from(k.pain_intensity)),
            impact: Some(ImpactRequest {
                function: Some(k.impact.function.code().into()),
                sleep: Some(k.impact.sleep.code().into()),
                mood: Some(k.impact.mood.code().into()),
            }),
            red_flags: Some(k.red_flags.iter().map(|f| f.code().into()).collect()),
            current_treatments: k.current_treatments.clone(),
            previous_treatments: k.previous_treatments.clone(),
            question: Some(k.question.clone()),
        }),
        consent_to_remote_pathway: Some(true),
        re_referral: referral.re_referral,
    }
}

/// What every accepted referral must be.
fn assert_keeps_the_rules(referral: &NewReferral, today: NaiveDate) {
    let p = &referral.patient;
    let born = *p.date_of_birth.expose();
    assert_eq!(ChiNumber::parse(p.chi.expose()).as_ref(), Ok(&p.chi));
    assert!(p.chi.agrees_with_birth_date(born) && p.chi.agrees_with_sex(p.sex));
    assert!(born <= today && born.year() >= today.year() - 130);
    for postcode in
        std::iter::once(&p.postcode).chain(p.contact.address.as_ref().map(|a| &a.postcode))
    {
        assert_eq!(Postcode::parse(postcode.as_str()).as_ref(), Some(postcode));
    }
    for name in [
        p.given_name.expose(),
        p.family_name.expose(),
        &referral.referrer.clinician_name,
    ] {
        assert!(
            !name.is_empty() && name.trim() == name && name.chars().count() <= 200,
            "{name:?}"
        );
    }
    let contact = &p.contact;
    match contact.preferred {
        ContactChannel::Sms => assert!(contact.mobile.is_some()),
        ContactChannel::Email => assert!(contact.email.is_some()),
        ContactChannel::Letter => assert!(contact.address.is_some()),
    }
    if let Some(mobile) = &contact.mobile {
        let m = mobile.expose();
        assert!(
            m.len() == 11 && m.starts_with("07") && m.bytes().all(|b| b.is_ascii_digit()),
            "{m}"
        );
    }
    if p.accessibility_needs
        .contains(&AccessibilityNeed::Interpreter)
    {
        assert!(
            p.interpreter_language
                .as_ref()
                .is_some_and(|l| !l.trim().is_empty())
        );
    }
    let r = &referral.referrer;
    assert!(r.practice_code.len() == 5 && r.practice_code.bytes().all(|b| b.is_ascii_digit()));
    if let ReplyTo::Webhook(url) = &r.reply {
        assert!(
            url.starts_with("https://") || url.starts_with("http://"),
            "{url}"
        );
    }
    let k = &referral.clinical;
    assert!(k.pain_duration_months <= 1200 && k.pain_intensity <= 10);
    assert!(!k.pain_sites.is_empty());
    assert!(!k.question.is_empty() && k.question.trim() == k.question);
}

/// Validate `request` and check the outcome; the JSON form of the request
/// must validate the same way.
fn check_request(request: &ReferralRequest, today: NaiveDate) {
    let outcome = request.validate(today);
    let json = serde_json::to_vec(request).expect("a request serialises");
    let again: ReferralRequest = serde_json::from_slice(&json).expect("and reads back");
    assert_eq!(again.validate(today), outcome);
    match outcome {
        Ok(referral) => {
            assert_eq!(request.consent_to_remote_pathway, Some(true));
            assert_keeps_the_rules(&referral, today);
            let resent = request_of(&referral).validate(today);
            assert_eq!(
                resent.as_ref(),
                Ok(&referral),
                "the accepted referral, sent again"
            );
            let json = serde_json::to_string(&referral).expect("a referral serialises");
            let back: NewReferral = serde_json::from_str(&json).expect("and reads back");
            assert_eq!(back, referral);
        }
        Err(errors) => {
            assert!(!errors.is_empty(), "refused without a reason");
            let roots: BTreeSet<&str> = [
                "board",
                "consent_to_remote_pathway",
                "patient",
                "referrer",
                "clinical",
            ]
            .into();
            for error in &errors {
                let root = error.field.split(['.', '[']).next().unwrap_or_default();
                assert!(roots.contains(root), "{error:?}");
                assert!(!error.reason.trim().is_empty(), "{error:?}");
            }
            let inappropriate =
                RejectionReason::of_invalid(request) == RejectionReason::Inappropriate;
            assert_eq!(
                inappropriate,
                request.consent_to_remote_pathway == Some(false)
            );
        }
    }
}

#[test]
fn referral_validation_accepts_only_what_keeps_the_rules() {
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    check!().with_iterations(5_000).for_each(|bytes: &[u8]| {
        let mut draw = Draw::new(bytes);
        let today = today(&mut draw);
        let request = request(&mut draw, today);
        if request.validate(today).is_ok() {
            accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        check_request(&request, today);
    });
    // The generator must reach the accepted path, or the run proves little.
    assert!(
        accepted.into_inner() > 0,
        "no generated referral was accepted"
    );
}

#[test]
fn referral_json_with_a_damaged_character_never_panics() {
    check!().with_iterations(5_000).for_each(|bytes: &[u8]| {
        let mut draw = Draw::new(bytes);
        let today = today(&mut draw);
        let json = serde_json::to_string(&request(&mut draw, today)).expect("a request serialises");
        let damaged = draw.mangle(&json);
        if let Ok(request) = serde_json::from_str::<ReferralRequest>(&damaged) {
            check_request(&request, today);
        }
    });
}
