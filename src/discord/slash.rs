//! Slash commands: `/ask`, `/topics`, `/help` and one per comparison aspect. (`/reload` is
//! routed to `reload`, and the message context menu to `context_menu`, by the dispatcher.)

use std::sync::Arc;
use std::time::Instant;

use serenity::all::{
    CommandDataOptionValue, CommandInteraction, Context, CreateInteractionResponse,
};

use super::autocomplete;
use super::commands;
use super::render::{self, Rated, Under};
use super::state::{answer_menu, aspect_menu, InteractionRef, Shared};
use crate::engine::Engine;
use crate::reply::Reply;
use crate::Status;

/// Answers a slash command other than `/reload`.
pub(crate) async fn on_command(shared: &Shared, ctx: &Context, command: &CommandInteraction) {
    let name = command.data.name.as_str();
    let (user, channel) = (command.user.id.get(), command.channel_id.get());
    let started = Instant::now();
    if name == commands::HELP {
        // Private, and free: asking how to ask never costs a question.
        let help = render::help(
            &shared.config.discord.prefix,
            shared.config.discord.feedback_buttons,
            &commands::shared_aspects(shared.engine().knowledge()),
        );
        let result = command
            .create_response(&ctx.http, CreateInteractionResponse::Message(help))
            .await;
        return shared.logged(result, name);
    }
    if !shared.gate().admit_user(user) {
        let slow = "Slow down a little: ask again in a few seconds.";
        shared
            .note(ctx, InteractionRef::Command(command), slow, name)
            .await;
        return;
    }
    let engine = shared.engine();
    let (reply, rated) = match name {
        commands::TOPICS => {
            let private = !shared.gate().admit_channel(channel);
            let page = render::topics_page(engine.knowledge(), 0).ephemeral(private);
            let result = command
                .create_response(&ctx.http, CreateInteractionResponse::Message(page))
                .await;
            return shared.logged(result, name);
        }
        commands::ASK => return ask(shared, ctx, command, &engine, started).await,
        aspect => {
            let (reply, rated) =
                aspect_reply(&engine, aspect, string_option(command, commands::TOPIC));
            (
                reply,
                rated.filter(|_| shared.config.discord.feedback_buttons),
            )
        }
    };
    let to = InteractionRef::Command(command);
    let private = shared.private(&reply, channel);
    let under = Under {
        asker: user,
        rated: rated.as_ref(),
        aspects: None,
    };
    shared
        .send_interaction_reply(ctx, to, &reply, under, private)
        .await;
}

/// `/ask`: a picked suggestion answers the entry (or aspect) it names; free text is matched.
async fn ask(
    shared: &Shared,
    ctx: &Context,
    command: &CommandInteraction,
    engine: &Arc<Engine>,
    started: Instant,
) {
    let (user, channel) = (command.user.id.get(), command.channel_id.get());
    let typed = string_option(command, commands::QUESTION).unwrap_or_default();
    let (reply, status, rated, menu, question) = match autocomplete::picked(typed) {
        Some((entry, aspect)) => {
            let (Some(reply), Some(e)) = (
                engine.answer_for(entry, aspect),
                engine.knowledge().entries.iter().find(|e| e.id == entry),
            ) else {
                return shared
                    .note(
                        ctx,
                        InteractionRef::Command(command),
                        "That answer is no longer in my knowledge; try `/topics`.",
                        commands::ASK,
                    )
                    .await;
            };
            let rated = shared.config.discord.feedback_buttons.then(|| Rated {
                entry: entry.to_string(),
                aspect: aspect.map(str::to_string),
            });
            // What a 👎 logs: the phrasing the member picked, as the entry states it.
            let question = e.question.clone();
            let menu = aspect_menu(engine, entry, aspect);
            (reply, Status::Answered, rated, menu, question)
        }
        None => {
            let Some(answer) = shared.ask(engine, typed).await else {
                return shared
                    .note(
                        ctx,
                        InteractionRef::Command(command),
                        "Something went wrong matching that question; please try other words.",
                        commands::ASK,
                    )
                    .await;
            };
            shared.log_miss(engine, typed, &answer, user);
            let rated = shared.rated(engine, &answer);
            let menu = answer_menu(engine, &answer);
            let status = answer.decision.status;
            (answer.reply, status, rated, menu, typed.to_string())
        }
    };
    // The response message's id is not known here; a click on it finds the question through
    // the interaction id Discord puts on the message.
    shared.feedback.remember(command.id.get(), &question);
    let to = InteractionRef::Command(command);
    let private = shared.private(&reply, channel);
    let under = Under {
        asker: user,
        rated: rated.as_ref(),
        aspects: menu.as_ref(),
    };
    if shared
        .send_interaction_reply(ctx, to, &reply, under, private)
        .await
    {
        shared.metrics.question(status, started.elapsed());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::engine;

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
