//! The fuzz targets, one module per parser. Each runs a bounded number of
//! generated inputs under `cargo test` (about a second's worth in a debug
//! build, set in the target); `make fuzz` raises the count
//! (`BOLERO_RANDOM_ITERATIONS`, `BOLERO_RANDOM_TEST_TIME_MS`), and a failure
//! prints the `BOLERO_RANDOM_SEED` that replays it.

mod baseline;
mod board_settings;
mod chi;
mod referral;
