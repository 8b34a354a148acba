//! End-to-end tests of browser (to be written).
