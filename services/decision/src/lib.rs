//! The decision service.
