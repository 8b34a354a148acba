//! End-to-end tests of analytics.
