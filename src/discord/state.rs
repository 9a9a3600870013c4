//! The state every Discord event handler shares, in one place: the engine answering now, the
//! config, the gate (flood control and answer memory), feedback, metrics and the bot's own id,
//! with the few helpers more than one kind of event needs (asking the engine off the runtime,
//! answering an interaction, logging a miss, who moderates).
//!
//! It imports no event module and no reload code, so every event module (and `reload`) can
//! depend on it without a cycle.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use serenity::all::{
    CommandInteraction, ComponentInteraction, Context, CreateInteractionResponse,
    CreateInteractionResponseFollowup, Member, Permissions,
};
use tracing::warn;

use super::feedback::{self, Feedback};
use super::gate::Gate;
use super::render::{self, AspectMenu, Rated, Under};
use super::send;
use crate::config::Config;
use crate::engine::{Answer, Engine};
use crate::metrics::Metrics;
use crate::misses::Record;
use crate::reply::Reply;
use crate::Status;

/// The engine answering now; a reload swaps the inner `Arc` and in-flight answers finish on
/// the engine they started with.
pub type SharedEngine = Arc<RwLock<Arc<Engine>>>;

/// What every event handler reads and updates. One per run: it survives reconnects (including
/// the one without the message-content intent), so the gate and answer memory do too.
pub(crate) struct Shared {
    engine: SharedEngine,
    pub(crate) config: Config,
    /// `auto_answer_channels`, for a lookup per message.
    pub(crate) auto_channels: HashSet<u64>,
    gate: Mutex<Gate>,
    /// The bot's own user id (0 until known), to recognise mentions.
    bot_id: AtomicU64,
    pub(crate) metrics: Arc<Metrics>,
    /// The misses log, 👎 and proposed alternates, and recent questions.
    pub(crate) feedback: Feedback,
    /// Questions being matched at once: one per core. A burst queues here instead of
    /// growing the blocking pool to hundreds of threads fighting for two cores.
    matching: Arc<tokio::sync::Semaphore>,
}

/// The interaction a reply answers.
#[derive(Clone, Copy)]
pub(crate) enum InteractionRef<'a> {
    Command(&'a CommandInteraction),
    Component(&'a ComponentInteraction),
}

impl Shared {
    /// The state of one run; the gate starts empty and the bot id unknown (0).
    pub(crate) fn new(
        engine: SharedEngine,
        config: Config,
        metrics: Arc<Metrics>,
        feedback: Feedback,
    ) -> Shared {
        Shared {
            engine,
            metrics,
            feedback,
            auto_channels: config
                .discord
                .auto_answer_channels
                .iter()
                .copied()
                .collect(),
            gate: Mutex::new(Gate::new(&config.discord)),
            config,
            bot_id: AtomicU64::new(0),
            matching: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, usize::from),
            )),
        }
    }

    /// Records the bot's user id (known from the token check, and again at READY).
    pub(crate) fn set_bot_id(&self, id: u64) {
        self.bot_id.store(id, Ordering::Relaxed);
    }

    /// The bot's user id, 0 until known.
    pub(crate) fn bot_id(&self) -> u64 {
        self.bot_id.load(Ordering::Relaxed)
    }

    /// The engine answering now; a question keeps it to the end even if a reload swaps it.
    pub(crate) fn engine(&self) -> Arc<Engine> {
        Arc::clone(&self.engine.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The gate, locked: an admission and the repeat check after it need one lock.
    pub(crate) fn gate(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Logs a failed interaction response and counts it; there is nobody else to tell.
    pub(crate) fn logged(&self, result: serenity::Result<()>, what: &str) {
        if let Err(e) = result {
            self.metrics.rest_error();
            warn!("could not answer the {what} interaction: {e}");
        }
    }

    /// Asks `engine`. With semantic matching, on the blocking pool, one question per core at
    /// a time: embedding a question takes milliseconds of CPU, which on a runtime worker
    /// would hold up the gateway's heartbeats and every other event behind it. By words
    /// alone a decision takes microseconds, less than the hop to another thread. `None` only
    /// if the matching panicked (a bug, logged).
    pub(crate) async fn ask(&self, engine: &Arc<Engine>, question: &str) -> Option<Answer> {
        if engine.semantic().is_none() {
            return Some(engine.ask(question));
        }
        // The semaphore is never closed, so a permit always comes.
        let _permit = Arc::clone(&self.matching).acquire_owned().await.ok();
        let (engine, question) = (Arc::clone(engine), question.to_string());
        match tokio::task::spawn_blocking(move || engine.ask(&question)).await {
            Ok(answer) => Some(answer),
            Err(e) => {
                warn!("matching a question failed: {e}");
                None
            }
        }
    }

    /// Logs an addressed question that was not answered outright (suggestions or nothing), so
    /// the owner sees what the knowledge lacks.
    pub(crate) fn log_miss(&self, engine: &Engine, question: &str, answer: &Answer, user: u64) {
        if answer.decision.status == Status::Answered {
            return;
        }
        let (entry, aspect) = ids(engine, answer);
        self.feedback.miss(Record {
            time: feedback::now(),
            question: question.to_string(),
            outcome: match answer.decision.status {
                Status::Suggested => "suggested",
                _ => "none",
            }
            .to_string(),
            entry,
            aspect,
            confidence: answer.decision.confidence(),
            user: self.feedback.user(user),
        });
    }

    /// What 👍/👎 under `answer` rate, when it is an answer and the buttons are on.
    pub(crate) fn rated(&self, engine: &Engine, answer: &Answer) -> Option<Rated> {
        if !self.config.discord.feedback_buttons || answer.decision.status != Status::Answered {
            return None;
        }
        let (entry, aspect) = ids(engine, answer);
        Some(Rated {
            entry: entry?,
            aspect,
        })
    }

    /// Whether `reply` to an interaction in `channel` goes privately (ephemeral): a "no
    /// answer" note always, as only the asker needs it; any other reply when the channel has
    /// had its share of public replies (checked, and counted, only for a public one). A busy
    /// channel thus still answers the member, privately, instead of refusing them.
    pub(crate) fn private(&self, reply: &Reply, channel: u64) -> bool {
        reply.status == Status::None || !self.gate().admit_channel(channel)
    }

    /// Sends `reply` as the interaction's response (and followups), `ephemeral` or not, with
    /// the components `under` says; true if the response was accepted.
    pub(crate) async fn send_interaction_reply(
        &self,
        ctx: &Context,
        to: InteractionRef<'_>,
        reply: &Reply,
        under: Under<'_>,
        ephemeral: bool,
    ) -> bool {
        let (response, followups) = render::interaction_messages(reply, under, ephemeral);
        self.respond(
            ctx,
            to,
            CreateInteractionResponse::Message(response),
            followups,
        )
        .await
    }

    /// Answers an interaction with a private note (a refusal, a thanks, something no longer
    /// there): one attempt, a failure logged and counted under `what`.
    pub(crate) async fn note(&self, ctx: &Context, to: InteractionRef<'_>, text: &str, what: &str) {
        let note = CreateInteractionResponse::Message(render::ephemeral_note(text));
        let result = match to {
            InteractionRef::Command(c) => c.create_response(&ctx.http, note).await,
            InteractionRef::Component(c) => c.create_response(&ctx.http, note).await,
        };
        self.logged(result, what);
    }

    /// Sends an interaction's response, then its followups in order; true if the response was
    /// accepted. Retried like channel replies: a 5xx on the callback still leaves time in
    /// Discord's 3-second window.
    pub(crate) async fn respond(
        &self,
        ctx: &Context,
        to: InteractionRef<'_>,
        response: CreateInteractionResponse,
        followups: Vec<CreateInteractionResponseFollowup>,
    ) -> bool {
        let result = send::retried(|| async {
            match to {
                InteractionRef::Command(c) => c.create_response(&ctx.http, response.clone()).await,
                InteractionRef::Component(c) => {
                    c.create_response(&ctx.http, response.clone()).await
                }
            }
        })
        .await;
        if result.is_err() {
            self.logged(result, "answer");
            return false;
        }
        for followup in followups {
            let sent = send::retried(|| async {
                match to {
                    InteractionRef::Command(c) => {
                        c.create_followup(&ctx.http, followup.clone()).await
                    }
                    InteractionRef::Component(c) => {
                        c.create_followup(&ctx.http, followup.clone()).await
                    }
                }
            })
            .await;
            if let Err(e) = sent {
                self.metrics.rest_error();
                warn!("could not send the rest of an answer: {e}");
                break;
            }
        }
        true
    }
}

/// The aspects to offer under the answer for `entry` (and `aspect`): those of a comparison
/// answered as a whole, so a reader can open one without another command; `None` for one
/// aspect or a plain entry.
pub(crate) fn aspect_menu(
    engine: &Engine,
    entry: &str,
    aspect: Option<&str>,
) -> Option<AspectMenu> {
    if aspect.is_some() {
        return None;
    }
    let e = engine.knowledge().entries.iter().find(|e| e.id == entry)?;
    (!e.aspects.is_empty()).then(|| AspectMenu {
        entry: e.id.clone(),
        aspects: e
            .aspects
            .iter()
            .map(|a| (a.id.clone(), a.title.clone()))
            .collect(),
    })
}

/// [`aspect_menu`] for the entry `answer` answered, if it answered.
pub(crate) fn answer_menu(engine: &Engine, answer: &Answer) -> Option<AspectMenu> {
    if answer.decision.status != Status::Answered {
        return None;
    }
    match ids(engine, answer) {
        (Some(entry), None) => aspect_menu(engine, &entry, None),
        _ => None,
    }
}

/// Whether `member` may moderate: Manage Messages (or Administrator) in the channel.
/// Checked here as well as by Discord, since server admins can change who sees a command.
pub(crate) fn moderator(member: Option<&Member>) -> bool {
    member
        .and_then(|m| m.permissions)
        .is_some_and(|p| p.intersects(Permissions::MANAGE_MESSAGES | Permissions::ADMINISTRATOR))
}

/// The entry and aspect ids of `answer`'s best candidate.
pub(crate) fn ids(engine: &Engine, answer: &Answer) -> (Option<String>, Option<String>) {
    let Some(best) = answer.decision.best.as_ref() else {
        return (None, None);
    };
    let Some(entry) = engine.knowledge().entries.get(best.entry) else {
        return (None, None);
    };
    let aspect = best
        .aspect
        .and_then(|a| entry.aspects.get(a))
        .map(|a| a.id.clone());
    (Some(entry.id.clone()), aspect)
}
