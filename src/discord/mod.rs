//! The Discord adapter: qabot as a bot on the real gateway, a thin layer over [`Engine`].
//!
//! [`Bot::builder`] takes an engine and the config ([`Bot::from_live`] files it can reload);
//! [`Bot::run`] connects and answers until [`ShutdownHandle::shutdown`] (or a fatal error),
//! finishing the replies in flight first. Everything Discord-specific lives here,
//! one concept per file: `token` (where the token comes from, never printed), `gate`
//! (flood control and repeats), `commands` (the slash-command set), `render` (replies as
//! serenity builders), `handler` (the dispatcher, and the connection's own events), one
//! module per kind of event (`messages`, `slash`, `autocomplete`, `components`,
//! `context_menu`) over `state` (what they share), `invite` (the OAuth2 link),
//! `feedback` (misses, 👎 and proposed alternates, written off the runtime),
//! `metrics_endpoint` (the optional `GET /metrics`), `reload` (`/reload`, SIGHUP, the file
//! watch), `send` (message posts with a bounded retry), `shutdown` (draining the events in
//! flight), `guilds` (the `allowed_guilds` list) and `shards` (starting, watching and closing
//! this process's gateway shards).
//!
//! ```no_run
//! # async fn start(engine: qabot::Engine, config: qabot::Config) -> Result<(), qabot::discord::BotError> {
//! let bot = qabot::discord::Bot::builder(engine, config).build()?;
//! let stop = bot.shutdown_handle();
//! tokio::spawn(async move {
//!     let _ = tokio::signal::ctrl_c().await;
//!     stop.shutdown();
//! });
//! bot.run().await
//! # }
//! ```

mod autocomplete;
pub mod commands;
mod components;
mod context_menu;
pub mod feedback;
pub mod gate;
mod guilds;
mod handler;
pub mod invite;
mod messages;
mod metrics_endpoint;
pub mod reload;
pub mod render;
mod send;
mod shards;
mod shutdown;
mod slash;
mod state;
pub mod token;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serenity::all::{EventHandler, GatewayIntents, Http, HttpBuilder};
use serenity::gateway::GatewayError;
use serenity::http::HttpError;
use tokio::sync::watch;
use tracing::warn;

pub use commands::Registration;
pub use reload::{ReloadError, ReloadHandle};
pub use state::SharedEngine;
pub use token::{Token, TokenError};

use crate::live::Live;
use crate::metrics::Metrics;
use crate::sharding::{Sharding, ShardingError};
use crate::{Config, Engine};

/// The environment variable that overrides `api_proxy`.
pub const API_PROXY_ENV: &str = "QABOT_API_PROXY";

/// Guild messages and DMs, and their content. Slash commands need no intent.
pub const INTENTS: GatewayIntents = GatewayIntents::GUILD_MESSAGES
    .union(GatewayIntents::DIRECT_MESSAGES)
    .union(GatewayIntents::MESSAGE_CONTENT);

/// How long a shutdown waits for the gateway to close cleanly.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Why the bot could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// No usable token (missing, unreadable or malformed).
    #[error(transparent)]
    Token(#[from] TokenError),
    /// Discord refused the token.
    #[error(
        "Discord rejected the bot token (401 Unauthorized): it was reset, revoked or copied \
         incompletely. Get a new one at https://discord.com/developers/applications \
         (your application > Bot > Reset Token) and set DISCORD_TOKEN to it"
    )]
    Unauthorized,
    /// Any other failure talking to Discord.
    #[error("Discord: {0}")]
    Discord(Box<serenity::Error>),
    /// The sharding settings make no sense (`shards`, `shard_range`, `total_shards`, or the
    /// command-line flags overriding them).
    #[error("sharding: {0}")]
    Sharding(#[from] ShardingError),
    /// `metrics_addr` could not be listened on (in use, or not an address of this host).
    #[error("cannot serve metrics on {addr} (`metrics_addr` in the config): {source}")]
    Metrics {
        /// The configured address.
        addr: SocketAddr,
        /// Why binding failed.
        source: std::io::Error,
    },
}

impl From<serenity::Error> for BotError {
    fn from(e: serenity::Error) -> BotError {
        match &e {
            serenity::Error::Http(HttpError::UnsuccessfulRequest(r))
                if r.status_code.as_u16() == 401 =>
            {
                BotError::Unauthorized
            }
            serenity::Error::Gateway(GatewayError::InvalidAuthentication) => BotError::Unauthorized,
            _ => BotError::Discord(Box::new(e)),
        }
    }
}

/// The token from `DISCORD_TOKEN`, else from the config's `token_file`.
pub fn token_from_env(config: &Config) -> Result<Token, TokenError> {
    let env = std::env::var(token::TOKEN_ENV).ok();
    Token::find(env.as_deref(), config.discord.token_file.as_deref())
}

/// The REST base replacing `https://discord.com`: `QABOT_API_PROXY`, else `api_proxy`.
pub fn api_base_from_env(config: &Config) -> Option<String> {
    std::env::var(API_PROXY_ENV)
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| config.discord.api_proxy.clone())
}

/// An HTTP client for `token`, sending to `api_base` instead of `https://discord.com` when
/// given. With a base, serenity's own rate limiter is off: a rate-limit proxy does that job
/// (and serenity ignores the base while its limiter is on).
pub fn http(token: &Token, api_base: Option<&str>) -> Http {
    let builder = HttpBuilder::new(token.secret());
    match api_base {
        Some(base) => builder
            .proxy(base.trim_end_matches('/'))
            .ratelimiter_disabled(true)
            .build(),
        None => builder.build(),
    }
}

/// Resolves once a shutdown is asked for (the guard `wait_for` returns is not `Send`, so it
/// is dropped here rather than held across the shutdown).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Stops a running [`Bot`]; cheap to clone and usable from any task.
#[derive(Clone, Debug)]
pub struct ShutdownHandle(Arc<watch::Sender<bool>>);

impl ShutdownHandle {
    /// Asks the bot to close its gateway connection; [`Bot::run`] then returns `Ok`.
    pub fn shutdown(&self) {
        self.0.send_replace(true);
    }
}

/// Sets up a [`Bot`]; see [`Bot::builder`].
pub struct BotBuilder {
    engine: Arc<Engine>,
    /// Where reloads read from; `None` for a bot built from an engine alone.
    live: Option<Arc<Live>>,
    config: Config,
    token: Option<Token>,
    api_base: Option<String>,
    sharding: Option<Sharding>,
}

impl BotBuilder {
    /// Where to serve `/metrics` instead of the config's `metrics_addr` (`qabot run
    /// --metrics-addr`): processes sharing a host and a config file each need their own port.
    pub fn metrics_addr(mut self, addr: SocketAddr) -> BotBuilder {
        self.config.discord.metrics_addr = Some(addr);
        self
    }

    /// The shards to run instead of the config's `shards` / `shard_range` / `total_shards`
    /// (`qabot run --shard-range`), so processes sharing one config file run different shards.
    pub fn sharding(mut self, sharding: Sharding) -> BotBuilder {
        self.sharding = Some(sharding);
        self
    }

    /// The token to use instead of `DISCORD_TOKEN` / `token_file`.
    pub fn token(mut self, token: Token) -> BotBuilder {
        self.token = Some(token);
        self
    }

    /// The REST base (e.g. a rate-limit proxy, or a test's fake Discord) instead of
    /// `QABOT_API_PROXY` / `api_proxy`.
    pub fn api_base(mut self, base: impl Into<String>) -> BotBuilder {
        self.api_base = Some(base.into());
        self
    }

    /// Resolves the token, API base and shards; fails when there is no usable token or the
    /// sharding settings make no sense, so a misconfigured bot stops before connecting.
    pub fn build(self) -> Result<Bot, BotError> {
        let sharding = match self.sharding {
            Some(sharding) => sharding,
            None => self.config.discord.sharding()?,
        };
        let token = match self.token {
            Some(token) => token,
            None => token_from_env(&self.config)?,
        };
        let api_base = self.api_base.or_else(|| api_base_from_env(&self.config));
        let (registrations, _) = watch::channel(Vec::new());
        let engine = Arc::new(RwLock::new(self.engine));
        let metrics: Arc<Metrics> = Arc::default();
        let reloader = reload::Reloader::new(
            self.live,
            Arc::clone(&engine),
            self.config.discord.clone(),
            registrations.clone(),
            Arc::clone(&metrics),
        );
        let shutdown = Arc::new(watch::Sender::new(false));
        // Bound here, not in `run`, so a taken port stops the bot before it connects and the
        // bound address (port 0 picks one) is known to callers.
        let metrics_listener = self
            .config
            .discord
            .metrics_addr
            .map(|addr| {
                std::net::TcpListener::bind(addr)
                    .and_then(|l| l.set_nonblocking(true).map(|()| l))
                    .map_err(|source| BotError::Metrics { addr, source })
            })
            .transpose()?;
        Ok(Bot {
            metrics,
            metrics_listener,
            feedback_written: watch::Sender::new(0),
            engine,
            reloader: Arc::new(reloader),
            in_flight: Arc::new(shutdown::InFlight::new(Arc::clone(&shutdown))),
            config: self.config,
            token,
            api_base,
            sharding,
            shutdown,
            registrations,
        })
    }
}

/// qabot on Discord.
pub struct Bot {
    engine: SharedEngine,
    reloader: Arc<reload::Reloader>,
    in_flight: Arc<shutdown::InFlight>,
    config: Config,
    token: Token,
    api_base: Option<String>,
    sharding: Sharding,
    shutdown: Arc<watch::Sender<bool>>,
    registrations: watch::Sender<Vec<Registration>>,
    metrics: Arc<Metrics>,
    metrics_listener: Option<std::net::TcpListener>,
    feedback_written: watch::Sender<u64>,
}

impl Bot {
    /// A bot answering from `engine`, behaving as `config.discord` says. The token and API
    /// base come from the environment and config unless set on the builder.
    pub fn builder(engine: Engine, config: Config) -> BotBuilder {
        BotBuilder {
            engine: Arc::new(engine),
            live: None,
            config,
            token: None,
            api_base: None,
            sharding: None,
        }
    }

    /// A bot answering from `live`'s engine with its config, that can reload them from their
    /// files (`/reload`, [`ReloadHandle`], `watch = true`).
    pub fn from_live(live: Arc<Live>) -> BotBuilder {
        BotBuilder {
            engine: live.engine(),
            config: Config::clone(&live.config()),
            live: Some(live),
            token: None,
            api_base: None,
            sharding: None,
        }
    }

    /// A handle that reloads the knowledge of this bot, as `/reload` does (SIGHUP uses it).
    pub fn reload_handle(&self) -> ReloadHandle {
        ReloadHandle(Arc::clone(&self.reloader))
    }

    /// A handle that stops [`Bot::run`].
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(Arc::clone(&self.shutdown))
    }

    /// The engine the bot answers from; replacing the inner `Arc` (a reload) takes effect
    /// for the next question.
    pub fn engine(&self) -> SharedEngine {
        Arc::clone(&self.engine)
    }

    /// Each slash-command registration check done at READY (where, and whether the set had
    /// changed and was sent), for health checks and tests.
    pub fn registrations(&self) -> watch::Receiver<Vec<Registration>> {
        self.registrations.subscribe()
    }

    /// The bot's counters: the handler counts questions, votes and REST errors; reload and
    /// reconnect code counts through [`Metrics::reload`] and [`Metrics::reconnect`].
    pub fn metrics(&self) -> Arc<Metrics> {
        Arc::clone(&self.metrics)
    }

    /// The address `/metrics` is served on (`metrics_addr`, with the port picked when it was
    /// 0), or `None` when off.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
    }

    /// How many feedback records (misses, 👎, proposed alternates) the writer has finished
    /// with, for health checks and tests.
    pub fn feedback_written(&self) -> watch::Receiver<u64> {
        self.feedback_written.subscribe()
    }

    /// Connects and answers until shut down. Checks the token first (a 401 is
    /// [`BotError::Unauthorized`]), then starts this process's shards as Discord's
    /// `GET /gateway/bot` allows (see `shards`). If Discord refuses the message-content intent
    /// (close code 4014), logs how to enable it and reconnects without it: mentions, DMs and
    /// slash commands keep working.
    pub async fn run(self) -> Result<(), BotError> {
        let mut stop = self.shutdown.subscribe();
        if *self.shutdown.borrow() {
            return Ok(());
        }
        let _metrics_endpoint = match (self.metrics_listener, self.config.discord.metrics_addr) {
            (Some(listener), Some(addr)) => {
                let listener = tokio::net::TcpListener::from_std(listener)
                    .map_err(|source| BotError::Metrics { addr, source })?;
                let serve = metrics_endpoint::serve(listener, Arc::clone(&self.metrics));
                Some(AbortOnDrop(tokio::spawn(serve)))
            }
            _ => None,
        };
        let handler = Arc::new(handler::Handler::new(
            Arc::clone(&self.engine),
            self.config.clone(),
            self.registrations.clone(),
            Arc::clone(&self.reloader),
            Arc::clone(&self.in_flight),
            Arc::clone(&self.metrics),
            feedback::Feedback::start(&self.config.misses, self.feedback_written.clone()),
        ));
        let watch = Arc::new(shards::Watch::new(Arc::clone(&self.metrics)));
        let handlers: Vec<Arc<dyn EventHandler>> = vec![
            Arc::clone(&handler) as Arc<dyn EventHandler>,
            Arc::clone(&watch) as Arc<dyn EventHandler>,
        ];
        // One HTTP client for every shard: one connection pool, and behind `api_proxy` one
        // rate-limit proxy for all of them.
        let http = Arc::new(http(&self.token, self.api_base.as_deref()));
        let me = http.get_current_user().await?;
        handler.set_bot_id(me.id.get());
        let _watch = self.config.discord.watch.then(|| {
            let watch = Arc::clone(&self.reloader).watch(self.shutdown.subscribe());
            AbortOnDrop(tokio::spawn(watch))
        });
        let mut intents = INTENTS | guilds::intents(&self.config.discord.allowed_guilds);
        loop {
            let Some((plan, gateway)) =
                shards::when_allowed(&http, self.sharding, &mut stop).await?
            else {
                handler.close_feedback(shutdown::DRAIN).await;
                return Ok(());
            };
            let mut started =
                shards::Started::start(&plan, &gateway, &http, intents, handlers.clone(), &watch)
                    .await;
            let ended = tokio::select! {
                ended = started.ended() => ended,
                () = stopped(&mut stop) => {
                    // New events are refused from here on (see `shutdown`); the replies
                    // being sent get their time before the gateway closes.
                    if !self.in_flight.drained(shutdown::DRAIN).await {
                        warn!("replies still in flight after {:?}; closing anyway", shutdown::DRAIN);
                    }
                    if tokio::time::timeout(SHUTDOWN_GRACE, started.shutdown()).await.is_err() {
                        warn!("the gateway did not close within {SHUTDOWN_GRACE:?}; stopping anyway");
                    }
                    handler.close_feedback(shutdown::DRAIN).await;
                    return Ok(());
                }
            };
            match ended {
                Ok(()) => {
                    started.shutdown().await;
                    return Ok(());
                }
                Err(GatewayError::DisallowedGatewayIntents)
                    if intents.contains(GatewayIntents::MESSAGE_CONTENT) =>
                {
                    started.abandon().await;
                    warn!(
                        "Discord refused the Message Content intent (close code 4014); \
                         reconnecting without it: mentions, DMs and slash commands still \
                         work, but auto-answer channels and the prefix do not. Enable it at \
                         https://discord.com/developers/applications > your application > Bot > \
                         Privileged Gateway Intents > Message Content Intent"
                    );
                    intents.remove(GatewayIntents::MESSAGE_CONTENT);
                }
                Err(e) => {
                    started.abandon().await;
                    return Err(serenity::Error::Gateway(e).into());
                }
            }
        }
    }
}

/// Stops a background task (the metrics endpoint) when [`Bot::run`] returns, however it
/// returns.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The shipped pack by words alone, for the event modules' unit tests.
#[cfg(test)]
pub(crate) fn engine() -> crate::Engine {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    crate::Engine::load(&dir, crate::config::Matching::default()).unwrap_or_else(|e| panic!("{e}"))
}
