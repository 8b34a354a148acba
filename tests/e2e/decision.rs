//! End-to-end tests of decision (to be written).
