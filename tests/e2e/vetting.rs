//! End-to-end tests of vetting (to be written).
