//! Plumbing that every Pathway service shares, and nothing else: no rule of
//! any one service lives here.
//!
//! - [`settings`]: typed settings from defaults, a file and `PATHWAY_*` variables.
//! - [`db`]: the database connection (SQLite by default, PostgreSQL by URL) and
//!   the plumbing tables every service migrates ([`db::PlumbingMigration`]).
//! - [`bus`]: the NATS connection and the JetStream streams.
//! - [`outbox`]: events written in the state change's transaction, and the
//!   relay that publishes them with `Nats-Msg-Id` and waits for the ack.
//! - [`inbox`]: durable pull consumers that handle each event exactly once,
//!   with bounded redelivery and dead letters.
//! - [`audit`]: the append-only audit trail.
//! - [`background`]: a service's relay, consumers and sweeps beside its HTTP server.
//! - [`auth`]: bearer tokens (JWT), roles and boards.
//! - [`intake_client`]: reading a referral's identifiable data from intake.
//! - [`pages`]: the web pages' stylesheet and sign-in.
//! - [`http`]: the error type every API answers with, JSON bodies, health,
//!   readiness and Prometheus metrics.
//! - [`telemetry`]: tracing, OpenTelemetry export and trace context in NATS headers.
//! - [`shutdown`]: SIGTERM / Ctrl-C.

pub mod audit;
pub mod auth;
pub mod background;
pub mod bus;
pub mod db;
pub mod http;
pub mod inbox;
pub mod intake_client;
pub mod metrics;
pub mod outbox;
pub mod pages;
pub mod pii;
pub mod platform;
pub mod settings;
pub mod shutdown;
pub mod telemetry;
