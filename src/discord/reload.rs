//! Reloading the knowledge while the bot runs.
//!
//! `/reload`, SIGHUP (through [`ReloadHandle`]) and the optional file watch all end in
//! [`Reloader::reload`]: one reload at a time, the files validated whole by [`Live::reload`]
//! before the answering engine is swapped (so a bad edit never reaches users), every problem
//! logged as `path:line:column: message`, and the slash commands sent again only when the
//! aspects changed. [`Live`] is the one source of truth; the handler's [`SharedEngine`] is set
//! from it under the same lock, so the two never disagree for longer than one pointer swap.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use serenity::all::{
    CommandInteraction, Context, CreateInteractionResponse, CreateInteractionResponseMessage,
    EditInteractionResponse, Http, Permissions,
};
use tokio::sync::{watch, Mutex};
use tracing::{error, info, warn};

use super::commands::{self, Registration};
use super::render;
use super::state::SharedEngine;
use crate::config::Discord;
use crate::knowledge::Knowledge;
use crate::live::{Live, Reloaded};
use crate::metrics::Metrics;
use crate::problem::Problems;
use crate::reply::shorten;

/// How often the file watch looks at the files; a change is applied once the files have stayed
/// the same for one more tick, so an editor's save in several writes is read whole.
const WATCH_TICK: Duration = Duration::from_secs(1);

/// Discord's limit on a message's content.
const CONTENT_MAX: usize = 2_000;

/// Why a reload did not happen. In every case the previous knowledge keeps answering.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The bot was built from an engine rather than from files (see [`super::Bot::from_live`]).
    #[error("this bot was started without knowledge files to reload")]
    Unavailable,
    /// The files have mistakes, each located.
    #[error("{0}")]
    Problems(Problems),
    /// Reading the files panicked (a bug in qabot).
    #[error("the reload crashed: {0}")]
    Crashed(String),
    /// Reading the files took longer than `reload_timeout_secs`; the reading was given up.
    #[error("reading the knowledge took longer than {0:?} (`reload_timeout_secs` in [discord]); a file on a slow or stuck disk, or a pack far bigger than before?")]
    TimedOut(Duration),
}

/// Reloads on request; shared by the handler (`/reload`), the file watch and [`ReloadHandle`].
pub(crate) struct Reloader {
    live: Option<Arc<Live>>,
    engine: SharedEngine,
    /// The `[discord]` settings the bot started with: changing them needs a restart.
    discord: Discord,
    /// The client of the current gateway session (it knows the application id from READY);
    /// before the first READY, a reload only swaps, as READY registers anyway.
    http: RwLock<Option<Arc<Http>>>,
    registrations: watch::Sender<Vec<Registration>>,
    /// Two reloads at once (a SIGHUP during `/reload`) could otherwise swap in the older one.
    one_at_a_time: Mutex<()>,
    metrics: Arc<Metrics>,
}

impl Reloader {
    pub(crate) fn new(
        live: Option<Arc<Live>>,
        engine: SharedEngine,
        discord: Discord,
        registrations: watch::Sender<Vec<Registration>>,
        metrics: Arc<Metrics>,
    ) -> Reloader {
        Reloader {
            live,
            engine,
            discord,
            http: RwLock::new(None),
            registrations,
            one_at_a_time: Mutex::new(()),
            metrics,
        }
    }

    /// The client used to register commands again after a reload: the READY session's.
    pub(crate) fn set_http(&self, http: Arc<Http>) {
        *self.http.write().unwrap_or_else(PoisonError::into_inner) = Some(http);
    }

    /// Reads the knowledge and config again; on success swaps the engine and, if the aspects
    /// changed, registers the slash commands again. Logs the outcome either way.
    pub(crate) async fn reload(&self) -> Result<Reloaded, ReloadError> {
        let Some(live) = &self.live else {
            warn!("reload asked for, but this bot was started without knowledge files");
            return Err(ReloadError::Unavailable);
        };
        let _one = self.one_at_a_time.lock().await;
        let reading = Arc::clone(live);
        let limit = Duration::from_secs_f64(self.discord.reload_timeout_secs);
        // Past the limit the reading is left to finish on its own thread and dropped: it was
        // only prepared, never committed, so the previous knowledge stays whole.
        let until = std::time::Instant::now() + limit;
        let task = tokio::task::spawn_blocking(move || reading.prepare(Some(until)));
        let outcome = match tokio::time::timeout(limit, task).await {
            Err(_) => Err(ReloadError::TimedOut(limit)),
            Ok(Err(e)) => Err(ReloadError::Crashed(e.to_string())),
            Ok(Ok(read)) => read.map_err(ReloadError::Problems),
        };
        self.metrics.reload(outcome.is_ok());
        let reloaded = match outcome {
            Ok(prepared) => live.commit(prepared),
            Err(ReloadError::Problems(problems)) => {
                warn!(
                    "reload refused, still answering from the previous knowledge: {} problem(s)",
                    problems.0.len()
                );
                for problem in problems.0.iter().take(crate::problem::SHOWN) {
                    warn!("{problem}");
                }
                return Err(ReloadError::Problems(problems));
            }
            Err(other) => {
                error!("{other}; still answering from the previous knowledge");
                return Err(other);
            }
        };
        let engine = live.engine();
        *self.engine.write().unwrap_or_else(PoisonError::into_inner) = Arc::clone(&engine);
        info!(
            entries = reloaded.entries,
            commands_changed = reloaded.commands_changed,
            "knowledge reloaded"
        );
        if live.config().discord != self.discord {
            warn!("[discord] settings changed; they take effect when qabot restarts");
        }
        if reloaded.commands_changed {
            let http = self
                .http
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            if let Some(http) = http {
                register(
                    &http,
                    &self.discord.guilds,
                    engine.knowledge(),
                    &self.registrations,
                )
                .await;
            }
        }
        Ok(reloaded)
    }

    /// `/reload`: checks the member may (Discord's default permission can be changed by a
    /// server admin, so it is checked here too), then reloads and says how it went, privately.
    pub(crate) async fn on_command(&self, ctx: &Context, command: &CommandInteraction) {
        let user = command.user.id.get();
        let manager = command
            .member
            .as_ref()
            .and_then(|m| m.permissions)
            .is_some_and(|p| p.contains(Permissions::MANAGE_GUILD) || p.administrator());
        if !manager && !self.discord.admins.contains(&user) {
            info!(user, "refused /reload: not Manage Server, not in `admins`");
            let note = render::ephemeral_note(
                "Only members with Manage Server, or the bot's configured admins, can reload.",
            );
            if let Err(e) = command
                .create_response(&ctx.http, CreateInteractionResponse::Message(note))
                .await
            {
                warn!("could not answer the reload interaction: {e}");
            }
            return;
        }
        // A big knowledge base may take longer than Discord's 3 s to read: answer "thinking"
        // first, then edit in the outcome.
        let thinking = CreateInteractionResponseMessage::new().ephemeral(true);
        if let Err(e) = command
            .create_response(&ctx.http, CreateInteractionResponse::Defer(thinking))
            .await
        {
            warn!("could not answer the reload interaction: {e}");
        }
        let text = match self.reload().await {
            Ok(r) => {
                let noun = if r.entries == 1 { "entry" } else { "entries" };
                let commands = if r.commands_changed {
                    " The aspects changed, so the slash commands were updated."
                } else {
                    ""
                };
                format!("Reloaded: {} {noun}.{commands}", r.entries)
            }
            Err(ReloadError::Problems(problems)) => {
                let head = "Not reloaded: still answering from the previous knowledge. Fix \
                            these and run /reload again:\n```\n";
                let room = CONTENT_MAX - head.chars().count() - 4;
                format!("{head}{}\n```", shorten(&problems.to_string(), room))
            }
            Err(other) => format!("Not reloaded: {other}."),
        };
        let edit = EditInteractionResponse::new()
            .content(text)
            .allowed_mentions(render::no_pings());
        if let Err(e) = command.edit_response(&ctx.http, edit).await {
            warn!("could not tell how the reload went: {e}");
        }
    }

    /// The `watch = true` loop: polls the files' fingerprint every [`WATCH_TICK`] and reloads
    /// once a change has settled, until `stop`.
    pub(crate) async fn watch(self: Arc<Self>, mut stop: watch::Receiver<bool>) {
        let Some(live) = self.live.clone() else {
            warn!("`watch = true`, but this bot was started without knowledge files");
            return;
        };
        let fingerprint = || {
            let live = Arc::clone(&live);
            async move {
                tokio::task::spawn_blocking(move || live.fingerprint())
                    .await
                    .ok()
            }
        };
        let mut seen = fingerprint().await;
        let mut settling = false;
        let mut tick = tokio::time::interval(WATCH_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = super::stopped(&mut stop) => return,
            }
            let now = fingerprint().await;
            if now != seen {
                seen = now;
                settling = true;
            } else if settling {
                settling = false;
                // The outcome is logged by `reload`; the watch has nobody else to tell.
                let _ = self.reload().await;
            }
        }
    }
}

/// Triggers a reload of a running [`super::Bot`] from outside Discord (what SIGHUP does).
#[derive(Clone)]
pub struct ReloadHandle(pub(crate) Arc<Reloader>);

impl ReloadHandle {
    /// Reloads as `/reload` does; the outcome is also logged.
    pub async fn reload(&self) -> Result<Reloaded, ReloadError> {
        self.0.reload().await
    }
}

impl std::fmt::Debug for ReloadHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReloadHandle").finish_non_exhaustive()
    }
}

/// Makes the registered slash commands match `knowledge` (GET, then PUT only if they differ),
/// logs the outcome and records it in `registrations`.
pub(crate) async fn register(
    http: &Http,
    guilds: &[u64],
    knowledge: &Knowledge,
    registrations: &watch::Sender<Vec<Registration>>,
) {
    let set = commands::command_set(knowledge);
    let problems = commands::validate(&set);
    if !problems.is_empty() {
        error!(
            "slash commands not registered; run `qabot check` and fix: {}",
            problems.join("; ")
        );
        return;
    }
    match commands::register(http, guilds, &set).await {
        Ok(done) => {
            for r in &done {
                let place = r
                    .guild
                    .map_or_else(|| "globally".to_string(), |g| format!("in guild {g}"));
                if r.updated {
                    info!("registered {} slash commands {place}", set.len());
                } else {
                    info!("slash commands {place} are up to date");
                }
            }
            registrations.send_modify(|all| all.extend(done));
        }
        Err(e) => error!("could not register the slash commands: {e}"),
    }
}
