//! The event handler: Discord events in, [`Engine`] calls, replies out.
//!
//! It decides only *whether* and *where* to answer (addressed or not, auto-answer rules,
//! cooldowns, repeats, who may delete); *what* to answer comes from the engine and is drawn by
//! `render`. One handler serves every connection of a run (including the reconnect without
//! the message-content intent), so its gate and answer memory survive reconnects.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::Instant;

use serenity::all::{
    CommandDataOptionValue, CommandInteraction, ComponentInteraction, Context,
    CreateAutocompleteResponse, CreateInteractionResponse, EventHandler, Interaction, Message,
    MessageReference, Permissions, Ready,
};
use serenity::async_trait;
use tokio::sync::watch;
use tracing::{debug, error, info, warn};

use super::commands::{self, Registration};
use super::gate::{Admission, Gate};
use super::render::{self, Action};
use crate::config::Config;
use crate::engine::{Answer, Engine};
use crate::reply::{shorten, Reply};
use crate::text::strip_noise;
use crate::Status;

/// The engine answering now; a reload swaps the inner `Arc` and in-flight answers finish on
/// the engine they started with.
pub type SharedEngine = Arc<RwLock<Arc<Engine>>>;

/// Discord's limits on autocomplete: choices, and characters in a choice's name and value.
const AUTOCOMPLETE_CHOICES: usize = 25;
const AUTOCOMPLETE_TEXT: usize = 100;

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
}

impl Handler {
    pub(crate) fn new(
        engine: SharedEngine,
        config: Config,
        registrations: watch::Sender<Vec<Registration>>,
    ) -> Handler {
        Handler {
            engine,
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
        }
    }

    /// Records the bot's user id (known from the token check, and again at READY).
    pub(crate) fn set_bot_id(&self, id: u64) {
        self.bot_id.store(id, Ordering::Relaxed);
    }

    fn engine(&self) -> Arc<Engine> {
        Arc::clone(&self.engine.read().unwrap_or_else(PoisonError::into_inner))
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
        let engine = self.engine();
        let answer = engine.ask(question);
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
        if let Some(earlier) = earlier {
            let link = message_link(message.guild_id.map(|g| g.get()), channel, earlier);
            let note = render::channel_note(
                &format!("I answered this here a few minutes ago: {link}"),
                user,
            );
            if let Err(e) = message
                .channel_id
                .send_message(&ctx.http, note.reference_message(reply_to(message)))
                .await
            {
                warn!(channel, "could not send the link to an earlier answer: {e}");
            }
            return;
        }
        for (i, reply) in render::channel_messages(&answer.reply, user)
            .into_iter()
            .enumerate()
        {
            let reply = if i == 0 {
                reply.reference_message(reply_to(message))
            } else {
                reply
            };
            match message.channel_id.send_message(&ctx.http, reply).await {
                Ok(sent) => {
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
                    warn!(channel, "could not send an answer: {e}");
                    return;
                }
            }
        }
    }

    async fn on_command(&self, ctx: &Context, command: &CommandInteraction) {
        let name = command.data.name.as_str();
        let (user, channel) = (command.user.id.get(), command.channel_id.get());
        if name != commands::HELP {
            let admission = self.gate().admit(user, channel, Instant::now());
            if admission != Admission::Admitted {
                let text = match admission {
                    Admission::UserCooldown => "Slow down a little: ask again in a few seconds.",
                    _ => "This channel has had a lot of answers in the last minute; try again shortly.",
                };
                let note = CreateInteractionResponse::Message(render::ephemeral_note(text));
                logged(command.create_response(&ctx.http, note).await, name);
                return;
            }
        }
        let engine = self.engine();
        let reply = match name {
            commands::HELP => {
                let help = render::help(&self.config.discord.prefix);
                let result = command
                    .create_response(&ctx.http, CreateInteractionResponse::Message(help))
                    .await;
                return logged(result, name);
            }
            commands::TOPICS => {
                let page = render::topics_page(engine.knowledge(), 0);
                let result = command
                    .create_response(&ctx.http, CreateInteractionResponse::Message(page))
                    .await;
                return logged(result, name);
            }
            commands::ASK => {
                engine
                    .ask(string_option(command, commands::QUESTION).unwrap_or_default())
                    .reply
            }
            aspect => aspect_reply(&engine, aspect, string_option(command, commands::TOPIC)),
        };
        self.send_interaction_reply(ctx, InteractionRef::Command(command), &reply, user)
            .await;
    }

    async fn send_interaction_reply(
        &self,
        ctx: &Context,
        to: InteractionRef<'_>,
        reply: &Reply,
        user: u64,
    ) {
        let ephemeral = reply.status == Status::None;
        let (response, followups) = render::interaction_messages(reply, user, ephemeral);
        let response = CreateInteractionResponse::Message(response);
        let result = match to {
            InteractionRef::Command(c) => c.create_response(&ctx.http, response).await,
            InteractionRef::Component(c) => c.create_response(&ctx.http, response).await,
        };
        if result.is_err() {
            return logged(result, "answer");
        }
        for followup in followups {
            let sent = match to {
                InteractionRef::Command(c) => c.create_followup(&ctx.http, followup).await,
                InteractionRef::Component(c) => c.create_followup(&ctx.http, followup).await,
            };
            if let Err(e) = sent {
                warn!("could not send the rest of an answer: {e}");
                return;
            }
        }
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
        logged(result, "autocomplete");
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
                        self.send_interaction_reply(
                            ctx,
                            InteractionRef::Component(component),
                            &reply,
                            user,
                        )
                        .await;
                    }
                    None => {
                        let note = render::ephemeral_note(
                            "That answer is no longer in my knowledge; try `/topics`.",
                        );
                        let result = component
                            .create_response(&ctx.http, CreateInteractionResponse::Message(note))
                            .await;
                        logged(result, "show");
                    }
                }
            }
            Action::Delete { asker } => {
                let moderator = component
                    .member
                    .as_ref()
                    .and_then(|m| m.permissions)
                    .is_some_and(|p| p.contains(Permissions::MANAGE_MESSAGES));
                if user != asker && !moderator {
                    let note = render::ephemeral_note(
                        "Only the person who asked (or a moderator) can delete this.",
                    );
                    let result = component
                        .create_response(&ctx.http, CreateInteractionResponse::Message(note))
                        .await;
                    return logged(result, "delete");
                }
                let ack = component
                    .create_response(&ctx.http, CreateInteractionResponse::Acknowledge)
                    .await;
                logged(ack, "delete");
                if let Err(e) = component
                    .channel_id
                    .delete_message(&ctx.http, component.message.id)
                    .await
                {
                    warn!("could not delete an answer: {e}");
                }
            }
            Action::Topics { page } => {
                let page = render::topics_page(self.engine().knowledge(), page);
                let result = component
                    .create_response(&ctx.http, CreateInteractionResponse::UpdateMessage(page))
                    .await;
                logged(result, "topics page");
            }
        }
    }

    async fn on_ready(&self, ctx: &Context, ready: &Ready) {
        self.set_bot_id(ready.user.id.get());
        info!(
            user = ready.user.name,
            guilds = ready.guilds.len(),
            "connected to Discord"
        );
        let set = commands::command_set(self.engine().knowledge());
        let problems = commands::validate(&set);
        if !problems.is_empty() {
            error!(
                "slash commands not registered; run `qabot check` and fix: {}",
                problems.join("; ")
            );
            return;
        }
        match commands::register(&ctx.http, &self.config.discord.guilds, &set).await {
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
                self.registrations.send_modify(|all| all.extend(done));
            }
            Err(e) => error!("could not register the slash commands: {e}"),
        }
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
        self.on_message(&ctx, &message).await;
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match &interaction {
            Interaction::Command(command) => self.on_command(&ctx, command).await,
            Interaction::Autocomplete(command) => self.on_autocomplete(&ctx, command).await,
            Interaction::Component(component) => self.on_component(&ctx, component).await,
            _ => {}
        }
    }
}

/// Logs a failed interaction response; there is nobody else to tell.
fn logged(result: serenity::Result<()>, what: &str) {
    if let Err(e) = result {
        warn!("could not answer the {what} interaction: {e}");
    }
}

/// A string option of a command, by name.
fn string_option<'c>(command: &'c CommandInteraction, name: &str) -> Option<&'c str> {
    command.data.options.iter().find_map(|o| match &o.value {
        CommandDataOptionValue::String(s) if o.name == name => Some(s.as_str()),
        _ => None,
    })
}

/// The reply to an aspect command: the chosen comparison's aspect, or the first comparison
/// that has it.
fn aspect_reply(engine: &Engine, aspect: &str, topic: Option<&str>) -> Reply {
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
        .and_then(|e| engine.answer_for(&e.id, Some(aspect)))
        .unwrap_or_else(|| engine.ask("").reply)
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
        for q in std::iter::once(&e.question).chain(&e.alternates) {
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
    fn aspect_commands_default_to_the_first_comparison() {
        let engine = engine();
        let title = |r: Reply| r.messages[0].embeds[0].title.clone();
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
