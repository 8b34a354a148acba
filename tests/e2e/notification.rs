//! End-to-end tests of notification.
