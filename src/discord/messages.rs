//! Chat messages: mentions, DMs, the prefix and auto-answer channels.
//!
//! It decides only *whether* and *where* to answer a message (addressed or not, the
//! auto-answer rules, flood control, repeats); *what* to answer comes from the engine and is
//! drawn by `render`.

use std::time::Instant;

use serenity::all::{Context, Message, MessageReference};
use tracing::{debug, warn};

use super::feedback::without_mention;
use super::gate::Admission;
use super::render::{self, Under};
use super::send;
use super::state::{answer_menu, Shared};
use crate::engine::{Answer, Engine};
use crate::text::strip_noise;
use crate::Status;

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

/// Answers `message` if it is a question for qabot.
pub(crate) async fn on_message(shared: &Shared, ctx: &Context, message: &Message) {
    let bot = shared.bot_id();
    if message.author.bot || message.webhook_id.is_some() || message.author.id.get() == bot {
        return;
    }
    let Some((question, trigger)) = question(shared, message) else {
        return;
    };
    let started = Instant::now();
    let engine = shared.engine();
    let Some(answer) = shared.ask(&engine, question).await else {
        return;
    };
    if trigger == Trigger::Auto && !sure_enough(shared, question, &answer) {
        return;
    }
    let (user, channel) = (message.author.id.get(), message.channel_id.get());
    let key = answer_key(&engine, &answer);
    let now = Instant::now();
    // Under one lock: admission, and the repeat check with its claim. Until the answer is
    // posted, the claim points at the question (the answer appears right under it), so
    // the same question asked again meanwhile links there instead of answering twice.
    let earlier = {
        let mut gate = shared.gate();
        if let refused @ (Admission::UserLimited | Admission::ChannelBusy) =
            gate.admit(user, channel)
        {
            debug!(user, channel, ?refused, "message dropped by flood control");
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
    shared.log_miss(&engine, &asked, &answer, user);
    shared.feedback.remember(message.id.get(), &asked);
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
            shared.metrics.rest_error();
            warn!(channel, "could not send the link to an earlier answer: {e}");
        } else {
            shared
                .metrics
                .question(answer.decision.status, started.elapsed());
        }
        return;
    }
    let rated = shared.rated(&engine, &answer);
    let menu = answer_menu(&engine, &answer);
    let under = Under {
        asker: user,
        rated: rated.as_ref(),
        aspects: menu.as_ref(),
    };
    for (i, reply) in render::channel_messages(&answer.reply, under)
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
                    shared
                        .metrics
                        .question(answer.decision.status, started.elapsed());
                }
                if let (0, Some(key)) = (i, &key) {
                    shared.gate().remember_answer(
                        channel,
                        key.clone(),
                        sent.id.get(),
                        Instant::now(),
                    );
                }
            }
            Err(e) => {
                shared.metrics.rest_error();
                warn!(channel, "could not send an answer: {e}");
                return;
            }
        }
    }
}

/// The question in `message` and how it was asked, or `None` if qabot should not look at
/// it.
fn question<'m>(shared: &Shared, message: &'m Message) -> Option<(&'m str, Trigger)> {
    let bot = shared.bot_id();
    let content = message.content.trim();
    let mentioned = message.mentions.iter().any(|u| u.id.get() == bot);
    if mentioned || message.guild_id.is_none() {
        // The mention itself is dropped by the matcher with the rest of the markup.
        return Some((content, Trigger::Addressed));
    }
    let prefix = shared.config.discord.prefix.as_str();
    if !prefix.trim().is_empty() {
        if let Some(rest) = content.strip_prefix(prefix.trim_end()) {
            if rest.is_empty() || rest.starts_with(char::is_whitespace) {
                return Some((rest, Trigger::Addressed));
            }
        }
    }
    shared
        .auto_channels
        .contains(&message.channel_id.get())
        .then_some((content, Trigger::Auto))
}

/// Whether an unprompted answer is sure enough for an auto-answer channel.
fn sure_enough(shared: &Shared, question: &str, answer: &Answer) -> bool {
    let d = &shared.config.discord;
    reads_as_question(question)
        && answer.decision.status == Status::Answered
        && answer.decision.confidence() >= d.auto_answer_threshold
        && answer.decision.margin() >= d.auto_answer_margin
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
fn reads_as_question(text: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
