//! The dispatcher: serenity's events in, each handed to the module that owns its kind
//! (`messages`, `slash`, `autocomplete`, `components`, `context_menu`, `reload` for
//! `/reload`). A session's READY and a guild arriving (GUILD_CREATE) are handled here;
//! resumes, reconnects and shard state belong to `shards`.
//!
//! One handler serves every connection of a run (including the reconnect without the
//! message-content intent), so the shared state survives reconnects.

use std::sync::Arc;

use serenity::all::{CommandType, Context, EventHandler, Guild, Interaction, Message, Ready};
use serenity::async_trait;
use tokio::sync::watch;
use tracing::info;

use super::commands::{self, Registration};
use super::feedback::Feedback;
use super::guilds::AllowedGuilds;
use super::reload::{self, Reloader};
use super::shutdown::InFlight;
use super::state::{Shared, SharedEngine};
use super::{autocomplete, components, context_menu, messages, slash};
use crate::config::Config;
use crate::metrics::Metrics;

/// Routes events; owns what only the connection's lifecycle needs.
pub(crate) struct Handler {
    shared: Shared,
    registrations: watch::Sender<Vec<Registration>>,
    /// `/reload`, and the HTTP client it registers commands with after a reload.
    reloader: Arc<Reloader>,
    /// Events being handled, for a clean shutdown; refuses new ones once stopping.
    in_flight: Arc<InFlight>,
    /// `allowed_guilds`: guilds to leave.
    allowed_guilds: AllowedGuilds,
}

impl Handler {
    /// The handler of one run, shared by every connection it makes.
    pub(crate) fn new(
        engine: SharedEngine,
        config: Config,
        registrations: watch::Sender<Vec<Registration>>,
        reloader: Arc<Reloader>,
        in_flight: Arc<InFlight>,
        metrics: Arc<Metrics>,
        feedback: Feedback,
    ) -> Handler {
        Handler {
            allowed_guilds: AllowedGuilds::new(&config.discord.allowed_guilds),
            shared: Shared::new(engine, config, metrics, feedback),
            registrations,
            reloader,
            in_flight,
        }
    }

    /// Flushes the feedback files at shutdown (see [`Feedback::close`]).
    pub(crate) async fn close_feedback(&self, within: std::time::Duration) {
        self.shared.feedback.close(within).await;
    }

    /// Records the bot's user id (known from the token check, and again at READY).
    pub(crate) fn set_bot_id(&self, id: u64) {
        self.shared.set_bot_id(id);
    }

    /// A shard's READY (reconnects and shard state are counted in `shards`). Commands are
    /// registered at shard 0's READY only: once per bot, by whichever process runs shard 0.
    async fn on_ready(&self, ctx: &Context, ready: &Ready) {
        self.set_bot_id(ready.user.id.get());
        info!(
            user = ready.user.name,
            guilds = ready.guilds.len(),
            shard = ctx.shard_id.0,
            "connected to Discord"
        );
        self.reloader.set_http(Arc::clone(&ctx.http));
        for guild in &ready.guilds {
            self.allowed_guilds.check(&ctx.http, guild.id.get()).await;
        }
        if ctx.shard_id.0 != 0 {
            return;
        }
        let knowledge = self.shared.engine();
        let guilds = &self.shared.config.discord.guilds;
        reload::register(
            &ctx.http,
            guilds,
            knowledge.knowledge(),
            &self.registrations,
        )
        .await;
    }
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        self.on_ready(&ctx, &ready).await;
    }

    async fn guild_create(&self, ctx: Context, guild: Guild, _is_new: Option<bool>) {
        self.allowed_guilds.check(&ctx.http, guild.id.get()).await;
    }

    async fn message(&self, ctx: Context, message: Message) {
        let Some(_working) = self.in_flight.start() else {
            return;
        };
        messages::on_message(&self.shared, &ctx, &message).await;
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let Some(_working) = self.in_flight.start() else {
            return;
        };
        let shared = &self.shared;
        match &interaction {
            Interaction::Command(command) if command.data.name == commands::RELOAD => {
                self.reloader.on_command(&ctx, command).await;
            }
            Interaction::Command(command) if command.data.kind == CommandType::Message => {
                context_menu::on_command(shared, &ctx, command).await;
            }
            Interaction::Command(command) => slash::on_command(shared, &ctx, command).await,
            Interaction::Autocomplete(command) => {
                autocomplete::on_autocomplete(shared, &ctx, command).await;
            }
            Interaction::Component(component) => {
                components::on_component(shared, &ctx, component).await;
            }
            _ => {}
        }
    }
}
