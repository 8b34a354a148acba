//! `vetting`: Pathway's vetting service.

fn main() {}
