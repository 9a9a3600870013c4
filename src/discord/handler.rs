//! The event handler: Discord events in, [`Engine`] calls, replies out.
//!
//! It decides only *whether* and *where* to answer (addressed or not, auto-answer rules,
//! cooldowns, repeats, who may delete); *what* to answer comes from the engine and is drawn by
//! `render`. One handler serves every connection of a run (including the reconnect without
//! the message-content intent), so its gate and answer memory survive reconnects.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use serenity::all::{
    CommandDataOptionValue, CommandInteraction, CommandType, ComponentInteraction,
    ComponentInteractionDataKind, Context, CreateAutocompleteResponse, CreateInteractionResponse,
    EventHandler, Guild, Interaction, Member, Message, MessageReference, Permissions, Ready,
    ResolvedTarget,
};
use serenity::async_trait;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::commands::{self, Registration};
use super::feedback::{self, without_mention, Alternate, Feedback};
use super::gate::{Admission, Gate};
use super::guilds::AllowedGuilds;
use super::reload::{self, Reloader};
use super::render::{self, Action, Rated};
use super::send;
use super::shutdown::InFlight;
use crate::config::Config;
use crate::engine::{Answer, Engine};
use crate::metrics::Metrics;
use crate::misses::Record;
use crate::reply::{shorten, Reply};
use crate::text::strip_noise;
use crate::Status;

/// The engine answering now; a reload swaps the inner `Arc` and in-flight answers finish on
/// the engine they started with.
pub type SharedEngine = Arc<RwLock<Arc<Engine>>>;

/// Discord's limits on autocomplete: choices, and characters in a choice's name and value.
const AUTOCOMPLETE_CHOICES: usize = 25;
const AUTOCOMPLETE_TEXT: usize = 100;
/// Discord's limit on the options of a select menu.
const MENU_OPTIONS: usize = 25;
/// The refusal of moderator-only actions.
const NOT_A_MODERATOR: &str = "Only moderators (Manage Messages) can add alternate questions.";

/// Words that make a message without a question mark read as a question.
const QUESTION_WORDS: &[&str] = &[
    "what", "which", "how", "why", "when", "where", "who", "whose", "is", "are", "can", "could",
    "should", "would", "do", "does", "did", "will", "was", "were", "has", "have", "any", "anyone",
];

/// How a message reached qabot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    /// Mention, DM or prefix: always answered, even if only to say there is no answer.
    Addressed,
    /// A message in an auto-answer channel: answered only when sure, silent otherwise.
    Auto,
}

/// The state every event shares.
pub(crate) struct Handler {
    engine: SharedEngine,
    config: Config,
    auto_channels: HashSet<u64>,
    gate: Mutex<Gate>,
    /// The bot's own user id (0 until known), to recognise mentions.
    bot_id: AtomicU64,
    registrations: watch::Sender<Vec<Registration>>,
    /// `/reload`.
    reloader: Arc<Reloader>,
    /// Events being handled, for a clean shutdown; refuses new ones once stopping.
    in_flight: Arc<InFlight>,
    /// `allowed_guilds`: guilds to leave.
    allowed_guilds: AllowedGuilds,
    metrics: Arc<Metrics>,
    /// The misses log, 👎 and proposed alternates, and recent questions.
    feedback: Feedback,
    /// Questions being matched at once: one per core. A burst queues here instead of
    /// growing the blocking pool to hundreds of threads fighting for two cores.
    matching: Arc<tokio::sync::Semaphore>,
}

impl Handler {
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
            engine,
            metrics,
            feedback,
            reloader,
            in_flight,
            allowed_guilds: AllowedGuilds::new(&config.discord.allowed_guilds),
            auto_channels: config
                .discord
                .auto_answer_channels
                .iter()
                .copied()
                .collect(),
            gate: Mutex::new(Gate::new(&config.discord)),
            config,
            bot_id: AtomicU64::new(0),
            registrations,
            matching: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, usize::from),
            )),
        }
    }

    /// Logs a failed interaction response and counts it; there is nobody else to tell.
    fn logged(&self, result: serenity::Result<()>, what: &str) {
        if let Err(e) = result {
            self.metrics.rest_error();
            warn!("could not answer the {what} interaction: {e}");
        }
    }

    /// Logs an addressed question that was not answered outright (suggestions or nothing), so
    /// the owner sees what the knowledge lacks.
    fn log_miss(&self, engine: &Engine, question: &str, answer: &Answer, user: u64) {
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
    fn rated(&self, engine: &Engine, answer: &Answer) -> Option<Rated> {
        if !self.config.discord.feedback_buttons || answer.decision.status != Status::Answered {
            return None;
        }
        let (entry, aspect) = ids(engine, answer);
        Some(Rated {
            entry: entry?,
            aspect,
        })
    }

    /// Records the bot's user id (known from the token check, and again at READY).
    /// Flushes the feedback files at shutdown (see [`Feedback::close`]).
    pub(crate) async fn close_feedback(&self, within: std::time::Duration) {
        self.feedback.close(within).await;
    }

    pub(crate) fn set_bot_id(&self, id: u64) {
        self.bot_id.store(id, Ordering::Relaxed);
    }

    fn engine(&self) -> Arc<Engine> {
        Arc::clone(&self.engine.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Asks `engine`. With semantic matching, on the blocking pool, one question per core at
    /// a time: embedding a question takes milliseconds of CPU, which on a runtime worker
    /// would hold up the gateway's heartbeats and every other event behind it. By words
    /// alone a decision takes microseconds, less than the hop to another thread. `None` only
    /// if the matching panicked (a bug, logged).
    async fn ask(&self, engine: &Arc<Engine>, question: &str) -> Option<Answer> {
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

    fn gate(&self) -> MutexGuard<'_, Gate> {
        self.gate.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The question in `message` and how it was asked, or `None` if qabot should not look at
    /// it.
    fn question<'m>(&self, message: &'m Message) -> Option<(&'m str, Trigger)> {
        let bot = self.bot_id.load(Ordering::Relaxed);
        let content = message.content.trim();
        let mentioned = message.mentions.iter().any(|u| u.id.get() == bot);
        if mentioned || message.guild_id.is_none() {
            // The mention itself is dropped by the matcher with the rest of the markup.
            return Some((content, Trigger::Addressed));
        }
        let prefix = self.config.discord.prefix.as_str();
        if !prefix.trim().is_empty() {
            if let Some(rest) = content.strip_prefix(prefix.trim_end()) {
                if rest.is_empty() || rest.starts_with(char::is_whitespace) {
                    return Some((rest, Trigger::Addressed));
                }
            }
        }
        self.auto_channels
            .contains(&message.channel_id.get())
            .then_some((content, Trigger::Auto))
    }

    /// Whether an unprompted answer is sure enough for an auto-answer channel.
    fn sure_enough(&self, question: &str, answer: &Answer) -> bool {
        let d = &self.config.discord;
        reads_as_question(question)
            && answer.decision.status == Status::Answered
            && answer.decision.confidence() >= d.auto_answer_threshold
            && answer.decision.margin() >= d.auto_answer_margin
    }

    async fn on_message(&self, ctx: &Context, message: &Message) {
        let bot = self.bot_id.load(Ordering::Relaxed);
        if message.author.bot || message.webhook_id.is_some() || message.author.id.get() == bot {
            return;
        }
        let Some((question, trigger)) = self.question(message) else {
            return;
        };
        let started = Instant::now();
        let engine = self.engine();
        let Some(answer) = self.ask(&engine, question).await else {
            return;
        };
        if trigger == Trigger::Auto && !self.sure_enough(question, &answer) {
            return;
        }
        let (user, channel) = (message.author.id.get(), message.channel_id.get());
        let key = answer_key(&engine, &answer);
        let now = Instant::now();
        // Under one lock: admission, and the repeat check with its claim. Until the answer is
        // posted, the claim points at the question (the answer appears right under it), so
        // the same question asked again meanwhile links there instead of answering twice.
        let earlier = {
            let mut gate = self.gate();
            if let refused @ (Admission::UserCooldown | Admission::ChannelBusy) =
                gate.admit(user, channel, now)
            {
                debug!(user, channel, ?refused, "message dropped by the cooldown");
                return;
            }
            let earlier = key
                .as_deref()
                .and_then(|k| gate.earlier_answer(channel, k, now));
            if let (None, Some(key)) = (earlier, &key) {
                gate.remember_answer(channel, key.clone(), message.id.get(), now);
            }
            earlier
        };
        // What the owner reads in the misses log: the question without the bot's mention.
        // Only addressed questions get here unanswered (auto-answer misses stay silent above).
        let asked = without_mention(question, bot);
        self.log_miss(&engine, &asked, &answer, user);
        self.feedback.remember(message.id.get(), &asked);
        if let Some(earlier) = earlier {
            let link = message_link(message.guild_id.map(|g| g.get()), channel, earlier);
            let note = render::channel_note(
                &format!("I answered this here a few minutes ago: {link}"),
                user,
            );
            if let Err(e) = send::message(
                &ctx.http,
                message.channel_id,
                note.reference_message(reply_to(message)),
            )
            .await
            {
                self.metrics.rest_error();
                warn!(channel, "could not send the link to an earlier answer: {e}");
            } else {
                self.metrics
                    .question(answer.decision.status, started.elapsed());
            }
            return;
        }
        let rated = self.rated(&engine, &answer);
        for (i, reply) in render::channel_messages(&answer.reply, user, rated.as_ref())
            .into_iter()
            .enumerate()
        {
            let reply = if i == 0 {
                reply.reference_message(reply_to(message))
            } else {
                reply
            };
            match send::message(&ctx.http, message.channel_id, reply).await {
                Ok(sent) => {
                    if i == 0 {
                        self.metrics
                            .question(answer.decision.status, started.elapsed());
                    }
                    if let (0, Some(key)) = (i, &key) {
                        self.gate().remember_answer(
                            channel,
                            key.clone(),
                            sent.id.get(),
                            Instant::now(),
                        );
                    }
                }
                Err(e) => {
                    self.metrics.rest_error();
                    warn!(channel, "could not send an answer: {e}");
                    return;
                }
            }
        }
    }

    async fn on_command(&self, ctx: &Context, command: &CommandInteraction) {
        let name = command.data.name.as_str();
        if name == commands::RELOAD {
            return self.reloader.on_command(ctx, command).await;
        }
        let (user, channel) = (command.user.id.get(), command.channel_id.get());
        if command.data.kind == CommandType::Message {
            if name == commands::ADD_ALTERNATE {
                self.on_add_alternate(ctx, command).await;
            }
            return;
        }
        let started = Instant::now();
        if name != commands::HELP {
            let admission = self.gate().admit(user, channel, Instant::now());
            if admission != Admission::Admitted {
                let text = match admission {
                    Admission::UserCooldown => "Slow down a little: ask again in a few seconds.",
                    _ => "This channel has had a lot of answers in the last minute; try again shortly.",
                };
                let note = CreateInteractionResponse::Message(render::ephemeral_note(text));
                self.logged(command.create_response(&ctx.http, note).await, name);
                return;
            }
        }
        let engine = self.engine();
        let (reply, rated) = match name {
            commands::HELP => {
                let help = render::help(
                    &self.config.discord.prefix,
                    self.config.discord.feedback_buttons,
                );
                let result = command
                    .create_response(&ctx.http, CreateInteractionResponse::Message(help))
                    .await;
                return self.logged(result, name);
            }
            commands::TOPICS => {
                let page = render::topics_page(engine.knowledge(), 0);
                let result = command
                    .create_response(&ctx.http, CreateInteractionResponse::Message(page))
                    .await;
                return self.logged(result, name);
            }
            commands::ASK => {
                let question = string_option(command, commands::QUESTION).unwrap_or_default();
                let Some(answer) = self.ask(&engine, question).await else {
                    let note = render::ephemeral_note(
                        "Something went wrong matching that question; please try other words.",
                    );
                    let result = command
                        .create_response(&ctx.http, CreateInteractionResponse::Message(note))
                        .await;
                    return self.logged(result, name);
                };
                self.log_miss(&engine, question, &answer, user);
                // The response message's id is not known here; a click on it finds the
                // question through the interaction id Discord puts on the message.
                self.feedback.remember(command.id.get(), question);
                let rated = self.rated(&engine, &answer);
                let to = InteractionRef::Command(command);
                if self
                    .send_interaction_reply(ctx, to, &answer.reply, user, rated.as_ref())
                    .await
                {
                    self.metrics
                        .question(answer.decision.status, started.elapsed());
                }
                return;
            }
            aspect => {
                let (reply, rated) =
                    aspect_reply(&engine, aspect, string_option(command, commands::TOPIC));
                (
                    reply,
                    rated.filter(|_| self.config.discord.feedback_buttons),
                )
            }
        };
        let to = InteractionRef::Command(command);
        self.send_interaction_reply(ctx, to, &reply, user, rated.as_ref())
            .await;
    }

    /// Sends `reply` as the interaction's response (and followups); true if the response
    /// was accepted.
    async fn send_interaction_reply(
        &self,
        ctx: &Context,
        to: InteractionRef<'_>,
        reply: &Reply,
        user: u64,
        rated: Option<&Rated>,
    ) -> bool {
        let ephemeral = reply.status == Status::None;
        let (response, followups) = render::interaction_messages(reply, user, ephemeral, rated);
        let response = CreateInteractionResponse::Message(response);
        // Retried like channel replies: a 5xx on the callback still leaves time in Discord's
        // 3-second window.
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

    async fn on_autocomplete(&self, ctx: &Context, command: &CommandInteraction) {
        let typed = command.data.autocomplete().map_or("", |o| o.value);
        let mut choices = CreateAutocompleteResponse::new();
        for question in ask_suggestions(&self.engine(), typed) {
            choices = choices.add_string_choice(question.clone(), question);
        }
        let result = command
            .create_response(&ctx.http, CreateInteractionResponse::Autocomplete(choices))
            .await;
        self.logged(result, "autocomplete");
    }

    async fn on_component(&self, ctx: &Context, component: &ComponentInteraction) {
        let user = component.user.id.get();
        let Some(action) = Action::parse(&component.data.custom_id) else {
            debug!(
                custom_id = component.data.custom_id,
                "a button qabot did not make"
            );
            return;
        };
        match action {
            Action::Show { entry, aspect } => {
                match self.engine().answer_for(&entry, aspect.as_deref()) {
                    Some(reply) => {
                        // The chosen answer's buttons rate it for the question that got
                        // the suggestions.
                        let question = self
                            .feedback
                            .question_of(&component.message, self.bot_id.load(Ordering::Relaxed));
                        self.feedback.remember(component.id.get(), &question);
                        let rated = Rated { entry, aspect };
                        let rated = self.config.discord.feedback_buttons.then_some(&rated);
                        let to = InteractionRef::Component(component);
                        self.send_interaction_reply(ctx, to, &reply, user, rated)
                            .await;
                    }
                    None => {
                        let note = render::ephemeral_note(
                            "That answer is no longer in my knowledge; try `/topics`.",
                        );
                        let result = component
                            .create_response(&ctx.http, CreateInteractionResponse::Message(note))
                            .await;
                        self.logged(result, "show");
                    }
                }
            }
            Action::Delete { asker } => {
                if user != asker && !moderator(component.member.as_ref()) {
                    let note = render::ephemeral_note(
                        "Only the person who asked (or a moderator) can delete this.",
                    );
                    let result = component
                        .create_response(&ctx.http, CreateInteractionResponse::Message(note))
                        .await;
                    return self.logged(result, "delete");
                }
                let ack = component
                    .create_response(&ctx.http, CreateInteractionResponse::Acknowledge)
                    .await;
                self.logged(ack, "delete");
                if let Err(e) = component
                    .channel_id
                    .delete_message(&ctx.http, component.message.id)
                    .await
                {
                    self.metrics.rest_error();
                    warn!("could not delete an answer: {e}");
                }
            }
            Action::Topics { page } => {
                let page = render::topics_page(self.engine().knowledge(), page);
                let result = component
                    .create_response(&ctx.http, CreateInteractionResponse::UpdateMessage(page))
                    .await;
                self.logged(result, "topics page");
            }
            Action::Vote { up, entry, aspect } => {
                self.metrics.vote(up);
                if !up {
                    let question = self
                        .feedback
                        .question_of(&component.message, self.bot_id.load(Ordering::Relaxed));
                    let confidence = self.engine().decide(&question).confidence();
                    self.feedback.miss(Record {
                        time: feedback::now(),
                        question,
                        outcome: "thumbs-down".to_string(),
                        entry: Some(entry),
                        aspect,
                        confidence,
                        user: self.feedback.user(user),
                    });
                }
                let note = render::ephemeral_note("Thanks for the feedback!");
                let result = component
                    .create_response(&ctx.http, CreateInteractionResponse::Message(note))
                    .await;
                self.logged(result, "vote");
            }
            Action::Alternate { message } => {
                self.on_alternate_pick(ctx, component, message).await;
            }
        }
    }

    /// "Add as alternate question…" on a message: moderators get a menu of the entries
    /// closest to its text.
    async fn on_add_alternate(&self, ctx: &Context, command: &CommandInteraction) {
        let target = match command.data.target() {
            Some(ResolvedTarget::Message(m)) => Some(m),
            _ => None,
        };
        let refusal = if !moderator(command.member.as_deref()) {
            Some(NOT_A_MODERATOR)
        } else if !self.feedback.pending_on() {
            Some("Proposed alternates are turned off (`[misses] pending_path` is empty).")
        } else if target.is_none_or(|m| m.content.trim().is_empty()) {
            Some("That message has no text I can use as a question.")
        } else {
            None
        };
        let response = match (refusal, target) {
            (None, Some(target)) => {
                let question = target.content.trim();
                self.feedback.remember(target.id.get(), question);
                let entries = closest_entries(&self.engine(), question);
                render::alternate_picker(target.id.get(), question, &entries)
            }
            (refusal, _) => render::ephemeral_note(refusal.unwrap_or_default()),
        };
        let result = command
            .create_response(&ctx.http, CreateInteractionResponse::Message(response))
            .await;
        self.logged(result, commands::ADD_ALTERNATE);
    }

    /// The entry a moderator picked for "Add as alternate question…": written to the pending
    /// file for the owner to review, never to the live knowledge.
    async fn on_alternate_pick(
        &self,
        ctx: &Context,
        component: &ComponentInteraction,
        message: u64,
    ) {
        let picked = match &component.data.kind {
            ComponentInteractionDataKind::StringSelect { values } => values.first(),
            _ => None,
        };
        let engine = self.engine();
        let entry = picked.and_then(|id| engine.knowledge().entries.iter().find(|e| &e.id == id));
        let question = self.feedback.recalled(message);
        let text = match (moderator(component.member.as_ref()), entry, question) {
            (false, _, _) => NOT_A_MODERATOR.to_string(),
            (true, None, _) => "That entry is no longer in my knowledge.".to_string(),
            (true, _, None) => {
                "I no longer remember that message; run the command on it again.".to_string()
            }
            (true, Some(entry), Some(question)) => {
                let note = format!(
                    "Saved “{}” as a proposed alternate question of **{}**, for the owner to review.",
                    shorten(&question, 200),
                    entry.title()
                );
                self.feedback.alternate(Alternate {
                    time: feedback::now(),
                    entry: entry.id.clone(),
                    question,
                    by: component.user.id.get(),
                });
                note
            }
        };
        let note = CreateInteractionResponse::Message(render::ephemeral_note(&text));
        let result = component.create_response(&ctx.http, note).await;
        self.logged(result, "alternate pick");
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
        let knowledge = self.engine();
        let guilds = &self.config.discord.guilds;
        reload::register(
            &ctx.http,
            guilds,
            knowledge.knowledge(),
            &self.registrations,
        )
        .await;
    }
}

/// The interaction a reply answers.
#[derive(Clone, Copy)]
enum InteractionRef<'a> {
    Command(&'a CommandInteraction),
    Component(&'a ComponentInteraction),
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        self.on_ready(&ctx, &ready).await;
    }

    async fn message(&self, ctx: Context, message: Message) {
        let Some(_working) = self.in_flight.start() else {
            return;
        };
        self.on_message(&ctx, &message).await;
    }

    async fn guild_create(&self, ctx: Context, guild: Guild, _is_new: Option<bool>) {
        self.allowed_guilds.check(&ctx.http, guild.id.get()).await;
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let Some(_working) = self.in_flight.start() else {
            return;
        };
        match &interaction {
            Interaction::Command(command) => self.on_command(&ctx, command).await,
            Interaction::Autocomplete(command) => self.on_autocomplete(&ctx, command).await,
            Interaction::Component(component) => self.on_component(&ctx, component).await,
            _ => {}
        }
    }
}

/// Whether `member` may moderate: Manage Messages (or Administrator) in the channel.
/// Checked here as well as by Discord, since server admins can change who sees a command.
fn moderator(member: Option<&Member>) -> bool {
    member
        .and_then(|m| m.permissions)
        .is_some_and(|p| p.intersects(Permissions::MANAGE_MESSAGES | Permissions::ADMINISTRATOR))
}

/// The entry and aspect ids of `answer`'s best candidate.
fn ids(engine: &Engine, answer: &Answer) -> (Option<String>, Option<String>) {
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

/// `(entry id, title)` of the entries to offer for `question` in "Add as alternate
/// question…": all when they fit in one menu, else the matcher's candidates first, then the
/// entries sharing the question's terms (most shared weight first, read from the index's
/// postings so a large knowledge costs no scan), then the rest in knowledge order; 25 in all.
fn closest_entries(engine: &Engine, question: &str) -> Vec<(String, String)> {
    let k = engine.knowledge();
    let mut order: Vec<usize> = Vec::new();
    if k.entries.len() > MENU_OPTIONS {
        let d = engine.decide(question);
        order.extend(
            d.best
                .iter()
                .chain(&d.suggestions)
                .chain(&d.runner_up)
                .map(|c| c.entry),
        );
        let index = engine.index();
        let mut shared: HashMap<usize, f32> = HashMap::new();
        for term in index.analyzer.terms(question) {
            if let Some(id) = index.lookup(&term).term {
                for (entry, weight) in index.postings(id) {
                    *shared.entry(entry as usize).or_default() += index.idf(id) * weight;
                }
            }
        }
        let mut shared: Vec<(usize, f32)> = shared.into_iter().collect();
        shared.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        order.extend(shared.into_iter().map(|(entry, _)| entry));
    }
    order.extend(0..k.entries.len());
    let mut seen = HashSet::new();
    order
        .into_iter()
        .filter(|&i| seen.insert(i))
        .take(MENU_OPTIONS)
        .filter_map(|i| k.entries.get(i))
        .map(|e| (e.id.clone(), e.title()))
        .collect()
}

/// A string option of a command, by name.
fn string_option<'c>(command: &'c CommandInteraction, name: &str) -> Option<&'c str> {
    command.data.options.iter().find_map(|o| match &o.value {
        CommandDataOptionValue::String(s) if o.name == name => Some(s.as_str()),
        _ => None,
    })
}

/// The reply to an aspect command: the chosen comparison's aspect, or the first comparison
/// that has it; with what 👍/👎 under it rate.
fn aspect_reply(engine: &Engine, aspect: &str, topic: Option<&str>) -> (Reply, Option<Rated>) {
    let commands = engine.knowledge().aspect_commands();
    let entries = commands
        .iter()
        .find(|(id, _)| id == aspect)
        .map(|(_, entries)| entries.as_slice())
        .unwrap_or_default();
    let entry = entries
        .iter()
        .find(|e| Some(e.id.as_str()) == topic)
        .or_else(|| entries.first());
    entry
        .and_then(|e| {
            let reply = engine.answer_for(&e.id, Some(aspect))?;
            let rated = Rated {
                entry: e.id.clone(),
                aspect: Some(aspect.to_string()),
            };
            Some((reply, Some(rated)))
        })
        .unwrap_or_else(|| (engine.ask("").reply, None))
}

/// Identifies an answer for the repeat memory: entry and aspect indexes.
fn answer_key(engine: &Engine, answer: &Answer) -> Option<String> {
    if answer.decision.status != Status::Answered {
        return None;
    }
    let best = answer.decision.best.as_ref()?;
    let entry = &engine.knowledge().entries.get(best.entry)?.id;
    Some(match best.aspect {
        Some(a) => format!("{entry}:{a}"),
        None => entry.clone(),
    })
}

/// A Discord reply to `message` that still posts (as a plain message) if the question was
/// deleted meanwhile, rather than failing.
fn reply_to(message: &Message) -> MessageReference {
    let mut reference = MessageReference::from(message);
    reference.fail_if_not_exists = Some(false);
    reference
}

/// A link to a message.
fn message_link(guild: Option<u64>, channel: u64, message: u64) -> String {
    let guild = guild.map_or_else(|| "@me".to_string(), |g| g.to_string());
    format!("https://discord.com/channels/{guild}/{channel}/{message}")
}

/// Whether a chat message reads as a question: it ends with `?` or starts with a question
/// word, ignoring code, quotes and mentions.
pub(crate) fn reads_as_question(text: &str) -> bool {
    let prose = strip_noise(text);
    let prose = prose.trim();
    if prose.ends_with('?') {
        return true;
    }
    prose
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .find(|w| !w.is_empty())
        .is_some_and(|w| QUESTION_WORDS.contains(&w.to_lowercase().as_str()))
}

/// Questions to offer while the user types `typed` into `/ask`: the entries the matcher
/// ranks highest, then every question or alternate containing the typed text, at most 25,
/// each at most 100 characters.
pub(crate) fn ask_suggestions(engine: &Engine, typed: &str) -> Vec<String> {
    let k = engine.knowledge();
    let typed = typed.trim();
    let mut out: Vec<String> = Vec::new();
    let mut push = |q: &str| {
        let q = shorten(q, AUTOCOMPLETE_TEXT);
        if out.len() < AUTOCOMPLETE_CHOICES && !q.is_empty() && !out.contains(&q) {
            out.push(q);
        }
    };
    if typed.is_empty() {
        k.entries.iter().for_each(|e| push(&e.question));
        return out;
    }
    let decision = engine.decide(typed);
    let ranked = decision
        .best
        .iter()
        .chain(&decision.suggestions)
        .chain(&decision.runner_up);
    for c in ranked {
        if let Some(e) = k.entries.get(c.entry) {
            push(&e.question);
        }
    }
    let needle = typed.to_lowercase();
    for e in &k.entries {
        for q in std::iter::once(e.question.as_str()).chain(&e.alternates) {
            if q.to_lowercase().contains(&needle) {
                push(q);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Matching;
    use std::path::Path;

    fn engine() -> Engine {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        Engine::load(&dir, Matching::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn questions_are_recognised() {
        for q in [
            "django or flask?",
            "How do I install Django",
            "is flask good",
            "what's up?",
        ] {
            assert!(reads_as_question(q), "{q}");
        }
        for s in [
            "I like flask",
            "django rocks",
            "```\nwhat?\n```",
            "> why?\nok then",
        ] {
            assert!(!reads_as_question(s), "{s}");
        }
    }

    #[test]
    fn suggestions_fit_discord_and_match_the_text() {
        let engine = engine();
        let got = ask_suggestions(&engine, "flask");
        assert!(!got.is_empty() && got.len() <= 25);
        assert!(got.iter().all(|q| q.chars().count() <= 100));
        assert!(got.iter().any(|q| q.to_lowercase().contains("flask")));
        let all = ask_suggestions(&engine, "");
        assert_eq!(all.len(), engine.knowledge().entries.len().min(25));
    }

    #[test]
    fn alternates_offer_the_closest_of_many_entries_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&format!(
                "[[entry]]\nid = \"topic-{i}\"\nquestion = \"How do I configure widget{i}?\"\nanswer = \"Like this.\"\n\n"
            ));
        }
        text.push_str("[[entry]]\nid = \"deploy\"\nquestion = \"How do I deploy to a server?\"\nanswer = \"Carefully.\"\n");
        std::fs::write(dir.path().join("k.toml"), text).unwrap();
        let engine =
            Engine::load(dir.path(), Matching::default()).unwrap_or_else(|e| panic!("{e}"));
        let offered = closest_entries(&engine, "deploying my app on a server");
        assert_eq!(offered.len(), 25);
        assert_eq!(offered[0].0, "deploy", "{offered:?}");
        let unique: HashSet<&str> = offered.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(unique.len(), 25, "no entry twice");
        let few = self::engine();
        assert_eq!(
            closest_entries(&few, "anything").len(),
            few.knowledge().entries.len().min(25)
        );
    }

    #[test]
    fn aspect_commands_default_to_the_first_comparison() {
        let engine = engine();
        let title = |r: (Reply, Option<Rated>)| r.0.messages[0].embeds[0].title.clone();
        let default = title(aspect_reply(&engine, "learning-curve", None));
        assert!(default.starts_with("Django vs Flask"), "{default}");
        let chosen = title(aspect_reply(
            &engine,
            "learning-curve",
            Some("django-vs-fastapi"),
        ));
        assert!(chosen.starts_with("Django vs FastAPI"), "{chosen}");
        let unknown = title(aspect_reply(&engine, "learning-curve", Some("nope")));
        assert_eq!(unknown, default);
    }
}
