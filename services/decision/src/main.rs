//! `decision`: Pathway's decision service.

fn main() {}
