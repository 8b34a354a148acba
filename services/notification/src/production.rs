//! What the production profile refuses of notification's own settings:
//! patients' messages kept in the local file sink, and any gateway, GP
//! system or receiving service reached over plain http.

use pathway_common::profile::Problem;
use pathway_proto::board::{EmailGateway, MessageGateway, WebhookGateway};

use crate::settings::{BoardChannels, Settings};

/// Every setting of `settings` production refuses, the client credentials
/// it reads contact details from intake with included.
pub fn problems(settings: &Settings) -> Vec<Problem> {
    let mut problems = pathway_common::profile::service_token_problems(&settings.auth);
    problems.extend(settings.encryption.production_problems("notification"));
    let prefix = "PATHWAY_NOTIFICATION__";
    channels(
        &format!("{prefix}BOARD_DEFAULTS__"),
        &settings.board_defaults,
        &mut problems,
    );
    for (board, board_channels) in &settings.boards {
        channels(
            &format!("{prefix}BOARDS__{}__", board.to_uppercase()),
            board_channels,
            &mut problems,
        );
    }
    https(
        &format!("{prefix}NOTIFY__BASE_URL"),
        &settings.notify.base_url,
        &mut problems,
    );
    for (name, account) in &settings.notify_accounts {
        https(
            &format!("{prefix}NOTIFY_ACCOUNTS__{}__BASE_URL", name.to_uppercase()),
            &account.base_url,
            &mut problems,
        );
    }
    problems
}

fn channels(prefix: &str, channels: &BoardChannels, problems: &mut Vec<Problem>) {
    const SINK: &str = "the file sink keeps patients' messages on this machine and sends nothing";
    if channels.messages == MessageGateway::Sink {
        problems.push(Problem::new(
            format!("{prefix}MESSAGES"),
            format!("must be notify: {SINK}"),
        ));
    }
    if channels.email == Some(EmailGateway::Sink) {
        problems.push(Problem::new(
            format!("{prefix}EMAIL"),
            format!("must be notify or smtp: {SINK}"),
        ));
    }
    if channels.webhooks == WebhookGateway::Sink {
        problems.push(Problem::new(
            format!("{prefix}WEBHOOKS"),
            format!("must be http: {SINK}"),
        ));
    }
    if let Some(url) = &channels.gp_webhook_url {
        https(&format!("{prefix}GP_WEBHOOK_URL"), url, problems);
    }
    for (service, url) in &channels.receiving_services {
        https(
            &format!("{prefix}RECEIVING_SERVICES__{}", service.to_uppercase()),
            url,
            problems,
        );
    }
}

fn https(setting: &str, url: &str, problems: &mut Vec<Problem>) {
    if !url.starts_with("https://") {
        problems.push(Problem::new(
            setting,
            format!("must be https, not {url:?}: patient data never crosses a network in clear"),
        ));
    }
}
