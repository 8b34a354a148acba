//! `pathway token`: print a development token signed with the local key, for
//! curl, the clinician pages and the dashboard.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use pathway_common::auth::Role;

use crate::args::TokenArgs;
use crate::dev_token::{self, Grant};

pub fn run(key_file: &Path, args: TokenArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    let subject = args
        .subject
        .unwrap_or_else(|| subject_for(args.role, args.name.as_deref()));
    let token = dev_token::sign(
        key_file,
        Grant {
            role: args.role,
            boards: args.boards,
            subject: &subject,
            name: args.name,
            ttl: Duration::from_secs(args.minutes.saturating_mul(60)),
        },
    )?;
    writeln!(out, "{token}")?;
    Ok(())
}

/// The subject when none is given: the name as a slug ("Dr Jane Doe" is
/// `dr-jane-doe`), or `dev-<role>`.
fn subject_for(role: Role, name: Option<&str>) -> String {
    match name {
        Some(name) => name
            .to_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join("-"),
        None => format!("dev-{role}"),
    }
}
