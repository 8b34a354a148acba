//! The vetting service.
