//! Plumbing that every Pathway service shares, and nothing else: no rule of
//! any one service lives here.
//!
//! - [`settings`]: typed settings from defaults, a file and `PATHWAY_*` variables.
//! - [`db`]: the database connection (SQLite by default, PostgreSQL by URL) and
//!   the helpers migrations use.
//! - [`plumbing`]: the tables every service migrates first ([`plumbing::PlumbingMigration`]).
//! - [`platform`]: what every service starts with — its migrated database,
//!   NATS and the streams, metrics, the outbox signal and the authenticator.
//! - [`bus`]: the NATS connection and the JetStream streams.
//! - [`outbox`]: events written in the state change's transaction, and the
//!   relay that publishes them with `Nats-Msg-Id` and waits for the ack.
//! - [`inbox`]: durable pull consumers that handle each event exactly once,
//!   waiting out faults that may heal and dead-lettering poison.
//! - [`audit`]: the append-only audit trail.
//! - [`pii`]: personal data wrapped so that `Debug` and logs mask it.
//! - [`board_settings`]: each board's latest settings document, as the
//!   services that follow `board.settings_changed` keep it.
//! - [`background`]: a service's relay, consumers and sweeps beside its HTTP server.
//! - [`supervisor`]: background workers restarted when they stop, and named
//!   by `/readyz` while they are down.
//! - [`auth`]: bearer tokens (JWT), roles and boards.
//! - [`intake_client`]: reading a referral's identifiable data from intake.
//! - [`service_token`]: the token a service presents to another, renewed by itself.
//! - [`page`]: how many items one page of any list holds.
//! - [`pages`]: the web pages' stylesheet and sign-in.
//! - [`csrf`]: a token in every page form and a check that it came from the
//!   service's own origin.
//! - [`http`]: the error type every API answers with, JSON bodies, the
//!   caller from the token, health, readiness and Prometheus metrics, and the
//!   tail of every router.
//! - [`metrics`]: Prometheus metrics, one registry per running service.
//! - [`telemetry`]: tracing, OpenTelemetry export and trace context in NATS headers.
//! - [`tls`]: ring as the process's rustls crypto provider.
//! - [`shutdown`]: SIGTERM / Ctrl-C.
//! - [`startup`]: the start-up sequence every service runs ([`startup::Service`]
//!   is what a service declares of its own).
//! - [`profile`]: `PATHWAY_PROFILE=production`, which refuses to start on a
//!   missing or unsafe setting.
//! - [`crypto`]: envelope encryption of identifiable columns: a data key per
//!   board wrapped by a key-encryption key, rotation by re-wrapping.
//! - [`keys`]: key files of at least 32 bytes, created atomically.
//! - [`csv_cell`]: CSV cells a spreadsheet will not run as formulas.
//! - [`rpc`]: serving an authenticated request/reply endpoint over NATS.
//! - [`erasure`]: the report each service gives of its part in erasing a
//!   patient's data.
//! - [`validation`]: what a caller sent wrong, field by field, in no web terms.

/// mimalloc is the allocator of every binary that links this crate (each
/// service, the CLI, the tests and benches): a batch of events builds and
/// drops thousands of short-lived strings and query values, and under the
/// system allocator freeing and merging them took about a fifth of the
/// analytics consumer's time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod audit;
pub mod auth;
pub mod background;
pub mod board_settings;
pub mod bus;
pub mod clinical_text_client;
pub mod crypto;
pub mod csrf;
pub mod csv_cell;
pub mod db;
pub mod erasure;
pub mod http;
pub mod inbox;
pub mod intake_client;
pub mod keys;
pub mod metrics;
pub mod outbound;
pub mod outbox;
pub mod page;
pub mod pages;
pub mod pii;
pub mod platform;
pub mod plumbing;
pub mod profile;
pub mod replay;
pub mod retention;
pub mod rpc;
pub mod service_token;
pub mod settings;
pub mod shutdown;
pub mod startup;
pub mod supervisor;
pub mod telemetry;
#[cfg(test)]
mod test_databases;
pub mod tls;
pub mod validation;
