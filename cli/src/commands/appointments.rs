//! `pathway appointments import`: a PAS extract of first appointments sent
//! to intake, all of it or nothing.

use std::io::Write;

use anyhow::Context;
use pathway_common::auth::Role;

use crate::args::AppointmentsAction;
use crate::client::{Client, Service};

pub async fn run(
    client: &Client,
    action: AppointmentsAction,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match action {
        AppointmentsAction::Import { file, board } => {
            let csv =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let token = client.token_for(Role::HospitalSystem, &board, "cli-hospital-system")?;
            let answer = client
                .post(
                    Service::Intake,
                    &format!("/v1/boards/{board}/appointments.csv"),
                )?
                .bearer(&token)
                .body("text/csv", csv)
                .send()
                .await?
                .require(200)
                .with_context(|| format!("{} was not recorded", file.display()))?;
            let published = answer["published"]
                .as_object()
                .map(|kinds| {
                    kinds
                        .iter()
                        .map(|(kind, n)| format!("{} {kind}", n.as_u64().unwrap_or(0)))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .filter(|text| !text.is_empty())
                .unwrap_or_else(|| "nothing new".to_owned());
            writeln!(
                out,
                "{board}: {} rows from {}: {published}; {} unchanged",
                answer["rows"].as_u64().unwrap_or(0),
                file.display(),
                answer["unchanged"].as_u64().unwrap_or(0),
            )?;
        }
    }
    Ok(())
}
