//! Vetting's tables and the row functions both the use cases and the
//! consumer call: the worklist (one row per referral on the pathway, with no
//! patient identifier), information requests, the outcomes clinicians
//! recorded, each board's settings as last published, the patients'
//! erasures and restrictions ([`patients`]), and the migrations.
//! The clinicians' free text in them is encrypted at rest ([`encrypted`]).

pub mod clinical_text;
pub mod encrypted;
pub mod information_request;
pub mod migrations;
pub mod outcome;
pub mod patients;
pub mod retention;
pub mod worklist;

pub use migrations::Migrator;
/// Each board's settings: the shared `pathway_common::board_settings`,
/// which decision keeps too.
pub use pathway_common::board_settings;
