//! Each board's notification channels and templates, as its board settings
//! last set them (`board.settings_changed`, kept in `board_notification`), or
//! this service's own configuration for a board that never set them.
//!
//! The table is the truth, read in the transaction that uses it, so every
//! instance of the service sees a change at once; the rendered-and-checked
//! templates are cached per board by the event that set them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use pathway_proto::BoardCode;
use pathway_proto::board::NotificationSettings;
use sea_orm::ConnectionTrait;

use crate::channels::Channels;
use crate::domain::BoardChannels;
use crate::domain::board::{EmailGateway, MessageGateway};
use crate::domain::handoff::HandoffRoutes;
use crate::settings::Settings;
use crate::store::{board_notification, boards};
use crate::templates::Templates;

/// Why a board's configuration cannot be had.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    #[error("cannot read the board's notification settings")]
    Database(#[from] sea_orm::DbErr),
    /// The stored settings are unreadable or no longer usable here.
    #[error(transparent)]
    Unusable(anyhow::Error),
}

/// What one board's messages go out on, and what they say.
#[derive(Debug)]
pub struct BoardConfig {
    pub channels: BoardChannels,
    pub templates: Arc<Templates>,
    /// Where the board hands referrals on; their URLs are also among the
    /// channels' receiving services, under the routes' reserved codes.
    pub routes: HandoffRoutes,
}

pub struct Boards {
    settings: Arc<Settings>,
    /// Pathway's own templates, checked at start-up.
    defaults: Arc<Templates>,
    /// By board: the event that set its settings, and what they gave.
    cache: Mutex<HashMap<BoardCode, (String, Arc<BoardConfig>)>>,
}

impl Boards {
    pub fn new(settings: Arc<Settings>, defaults: Arc<Templates>) -> Self {
        Self {
            settings,
            defaults,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// A board's configuration from its settings' `notification` section,
    /// every template rendered and checked; an error says why it cannot be
    /// used (a template that fails, a gateway this deployment lacks).
    pub fn build(
        &self,
        channels: &Channels,
        section: &NotificationSettings,
    ) -> anyhow::Result<BoardConfig> {
        let mut board = BoardChannels::from(section);
        let routes = HandoffRoutes::from(section);
        board.receiving_services.extend(routes.urls());
        channels.check(&board)?;
        let templates = if section.templates.is_empty() {
            self.defaults.clone()
        } else {
            Arc::new(Templates::with_overrides(&section.templates)?)
        };
        Ok(BoardConfig {
            channels: board,
            templates,
            routes,
        })
    }

    /// `board`'s configuration now, read through `db` (the caller's
    /// transaction, when there is one).
    pub async fn of<C: ConnectionTrait>(
        &self,
        db: &C,
        channels: &Channels,
        board: BoardCode,
    ) -> Result<Arc<BoardConfig>, BoardError> {
        let row = boards::find(db, board).await?;
        let (version, section) = match row {
            Some(board_notification::Model {
                notification_json: Some(json),
                event_id,
                ..
            }) => (event_id, json),
            _ => {
                return Ok(Arc::new(BoardConfig {
                    channels: self.settings.board(board).clone(),
                    templates: self.defaults.clone(),
                    routes: HandoffRoutes::default(),
                }));
            }
        };
        if let Some((cached, config)) = self.cache_get(board)
            && cached == version
        {
            return Ok(config);
        }
        let section: NotificationSettings = serde_json::from_str(&section)
            .context("the stored notification settings are unreadable")
            .map_err(BoardError::Unusable)?;
        let config = Arc::new(
            self.build(channels, &section)
                .context("the stored notification settings are not usable")
                .map_err(BoardError::Unusable)?,
        );
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(board, (version, config.clone()));
        }
        Ok(config)
    }

    fn cache_get(&self, board: BoardCode) -> Option<(String, Arc<BoardConfig>)> {
        self.cache.lock().ok()?.get(&board).cloned()
    }
}

impl Channels {
    /// Whether this deployment has every gateway and account `board` uses.
    pub fn check(&self, board: &BoardChannels) -> anyhow::Result<()> {
        let notify_name = board.notify_account();
        let smtp_name = board.smtp_server();
        anyhow::ensure!(
            self.knows_notify_account(notify_name),
            "the board names the Notify account {notify_name}, but this deployment has none of that name (notify_accounts.{notify_name})"
        );
        anyhow::ensure!(
            self.knows_smtp_server(smtp_name),
            "the board names the SMTP server {smtp_name}, but this deployment has none of that name (smtp_servers.{smtp_name})"
        );
        let notify = board.messages == MessageGateway::Notify
            || board.email_gateway() == EmailGateway::Notify;
        anyhow::ensure!(
            !notify || self.has_notify(notify_name),
            "the board sends through the Notify account {notify_name}, but it has no api_key in this deployment"
        );
        anyhow::ensure!(
            board.email_gateway() != EmailGateway::Smtp || self.has_smtp(smtp_name),
            "the board sends e-mail over the SMTP server {smtp_name}, but it has no host in this deployment"
        );
        Ok(())
    }
}
