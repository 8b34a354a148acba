//! Pathway end to end: the real services, a real `nats-server` (one for
//! this whole binary, an account per test), real SQLite files and PostgreSQL
//! databases, real local HTTP and SMTP servers, headless Chromium.
//!
//! One test binary, so the five services and the harness are linked once;
//! one module per service or concern:
//! [`intake`], [`vetting`], [`decision`], [`decision_retention`] (what decision
//! keeps of a finished referral, and for how long), [`notification`], [`analytics`],
//! [`appointments`] (first appointments from the hospital system, through to
//! analytics), [`fhir_round_trip`] (a FHIR referral from the GP to its first
//! appointment), [`fhir_subscription`] (a GP system told of its Tasks' changes), [`fhir_uk_core`] (UK Core profiles in and out), [`cli`] (every `pathway` command), [`api_fuzz`] (every service's API
//! fuzzed from its `/openapi.json`), [`contracts`] (the event and look-up
//! contracts), [`database_outage`] (a service's database away, then back:
//! nothing lost, nothing done twice), [`dead_letters`] (listed over HTTP, as
//! every service lists them), [`http_headers`] (what every answer carries),
//! [`inbox_batch`] (the messages that arrive together handled in one
//! transaction, each in a savepoint), [`request_timeout`] (a request over its time limit stopped, rolled back),
//! [`rate_limit`] (requests per token), [`chaos`] (a three-node NATS cluster,
//! two instances of every service, nodes and instances killed: nothing lost,
//! duplicated or made up), [`scale_out`] (two instances of each
//! service sharing a database, nothing done twice), [`sign_in`] (pasted tokens or single sign-on),
//! [`production`] (what the production profile refuses, service by service),
//! [`encryption_at_rest`] (no identifier in the raw database files),
//! [`nats_lockdown`] (TLS and a user per service, from `deploy/nats/`),
//! [`dead_letters_replay`] (replayed after the
//! fix, applied once), [`workers`] (a worker stopped, `/readyz` naming it,
//! restarted), [`clinician_pages`] and [`browser`] (the pages in Chromium).
//! Run one with a filter, e.g. `cargo test -p pathway-tests --test e2e intake::`.

mod analytics;
mod api_fuzz;
mod appointments;
mod browser;
mod chaos;
mod cli;
mod clinical_text;
mod clinician_pages;
mod contracts;
mod csrf;
mod database_outage;
mod dead_letters;
mod dead_letters_replay;
mod decision;
mod decision_retention;
mod encryption_at_rest;
mod fhir_referrals;
mod fhir_round_trip;
mod fhir_subscription;
mod fhir_task;
mod fhir_uk_core;
mod http_headers;
mod inbox_batch;
mod intake;
mod nats_lockdown;
mod notification;
mod patient_opt_in;
mod patient_opt_in_reminder;
mod patient_requests;
mod production;
mod rate_limit;
mod request_timeout;
mod scale_out;
mod sign_in;
mod vetting;
mod workers;
