//! `analytics`: Pathway's analytics service.

fn main() {}
