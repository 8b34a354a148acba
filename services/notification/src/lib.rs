//! The notification service.
