//! `notification`: Pathway's notification service.

fn main() {}
