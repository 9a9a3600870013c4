//! Buttons and select menus on qabot's messages: "did you mean" choices, a whole
//! comparison's aspects, 🗑️, `/topics` pages, 👍/👎, and the alternate pick (handed to
//! `context_menu`). A component's custom id ([`Action`]) is all the state a click needs.

use serenity::all::{
    ActionRowComponent, Button, ButtonKind, ComponentInteraction, ComponentInteractionDataKind,
    Context, CreateInteractionResponse, Message, MessageFlags,
};
use tracing::{debug, warn};

use super::context_menu;
use super::feedback;
use super::render::{self, Action, Rated, Under};
use super::state::{aspect_menu, moderator, InteractionRef, Shared};
use crate::misses::Record;
use crate::reply::label;

/// Does what the clicked component says.
pub(crate) async fn on_component(shared: &Shared, ctx: &Context, component: &ComponentInteraction) {
    let user = component.user.id.get();
    let Some(action) = Action::parse(&component.data.custom_id) else {
        debug!(
            custom_id = component.data.custom_id,
            "a button qabot did not make"
        );
        return;
    };
    match action {
        Action::Show { entry, aspect } => show(shared, ctx, component, entry, aspect).await,
        Action::Aspect { entry, aspect } => {
            let picked = match &component.data.kind {
                ComponentInteractionDataKind::StringSelect { values } => values.first().cloned(),
                _ => None,
            };
            one_aspect(shared, ctx, component, &entry, aspect.or(picked)).await;
        }
        Action::Delete { asker } => {
            if user != asker && !moderator(component.member.as_ref()) {
                return shared
                    .note(
                        ctx,
                        InteractionRef::Component(component),
                        "Only the person who asked (or a moderator) can delete this.",
                        "delete",
                    )
                    .await;
            }
            // DEFERRED_UPDATE_MESSAGE: after it, the interaction's original response is the
            // message the button is on.
            let ack = component
                .create_response(&ctx.http, CreateInteractionResponse::Acknowledge)
                .await;
            shared.logged(ack, "delete");
            // An answer to an interaction belongs to the interaction webhook: deleted through
            // it, it needs no channel permission (the bot may not even see the channel). A
            // channel answer goes through the channel, as it was posted.
            let deleted = if from_interaction(&component.message) {
                component.delete_response(&ctx.http).await
            } else {
                component
                    .channel_id
                    .delete_message(&ctx.http, component.message.id)
                    .await
            };
            if let Err(e) = deleted {
                shared.metrics.rest_error();
                warn!("could not delete an answer: {e}");
            }
        }
        Action::Topics { page } => {
            let page = render::topics_page(shared.engine().knowledge(), page);
            let result = component
                .create_response(&ctx.http, CreateInteractionResponse::UpdateMessage(page))
                .await;
            shared.logged(result, "topics page");
        }
        Action::Vote { up, entry, aspect } => {
            shared.metrics.vote(up);
            if !up {
                let question = shared
                    .feedback
                    .question_of(&component.message, shared.bot_id());
                let confidence = shared.engine().decide(&question).confidence();
                shared.feedback.miss(Record {
                    time: feedback::now(),
                    question,
                    outcome: "thumbs-down".to_string(),
                    entry: Some(entry),
                    aspect,
                    confidence,
                    user: shared.feedback.user(user),
                });
            }
            shared
                .note(
                    ctx,
                    InteractionRef::Component(component),
                    "Thanks for the feedback!",
                    "vote",
                )
                .await;
        }
        Action::Alternate { message } => {
            context_menu::on_pick(shared, ctx, component, message).await;
        }
    }
}

/// A "did you mean" choice picked. By the asker: their suggestion message becomes the chosen
/// answer (UPDATE_MESSAGE), its choices gone, so the channel reads one settled answer instead
/// of a question, its choices and one more message. By anyone else: the answer privately,
/// leaving the asker's message as it is.
async fn show(
    shared: &Shared,
    ctx: &Context,
    component: &ComponentInteraction,
    entry: String,
    aspect: Option<String>,
) {
    let engine = shared.engine();
    let found = engine.knowledge().entries.iter().find(|e| e.id == entry);
    let (Some(reply), Some(e)) = (engine.answer_for(&entry, aspect.as_deref()), found) else {
        return shared
            .note(
                ctx,
                InteractionRef::Component(component),
                "That answer is no longer in my knowledge; try `/topics`.",
                "show",
            )
            .await;
    };
    let user = component.user.id.get();
    let ephemeral = component
        .message
        .flags
        .is_some_and(|f| f.contains(MessageFlags::EPHEMERAL));
    // Only the asker sees an ephemeral message, and a message without 🗑️ is one.
    let asker = asker_of(&component.message).unwrap_or(user);
    let chosen = label(
        e,
        e.aspects
            .iter()
            .position(|a| Some(&a.id) == aspect.as_ref()),
    );
    let menu = aspect_menu(&engine, &entry, aspect.as_deref());
    let rated = Rated { entry, aspect };
    let under = Under {
        asker,
        rated: shared.config.discord.feedback_buttons.then_some(&rated),
        aspects: menu.as_ref(),
    };
    let to = InteractionRef::Component(component);
    if user == asker {
        let note = format!("You picked **{chosen}**.");
        let (update, followups) = render::updated_message(&reply, under, ephemeral, &note);
        let update = CreateInteractionResponse::UpdateMessage(update);
        shared.respond(ctx, to, update, followups).await;
    } else {
        let under = Under {
            asker: user,
            ..under
        };
        shared
            .send_interaction_reply(ctx, to, &reply, under, true)
            .await;
    }
}

/// One aspect of a whole comparison, picked under its answer: shown privately. The answer
/// is a public message others are reading too, so it is not changed; and each reader may
/// open the aspects they care about without filling the channel with them.
async fn one_aspect(
    shared: &Shared,
    ctx: &Context,
    component: &ComponentInteraction,
    entry: &str,
    aspect: Option<String>,
) {
    let to = InteractionRef::Component(component);
    match aspect.and_then(|a| shared.engine().answer_for(entry, Some(&a))) {
        Some(reply) => {
            let under = Under::asker(component.user.id.get());
            shared
                .send_interaction_reply(ctx, to, &reply, under, true)
                .await;
        }
        None => {
            shared
                .note(
                    ctx,
                    InteractionRef::Component(component),
                    "That aspect is no longer in my knowledge; try `/topics`.",
                    "aspect",
                )
                .await;
        }
    }
}

/// Whether `message` is an interaction's answer (a response or followup), which the
/// interaction webhook made, rather than a channel message.
fn from_interaction(message: &Message) -> bool {
    message.webhook_id.is_some() || message.interaction_metadata.is_some()
}

/// Who asked the question `message` answers, from its 🗑️ button.
fn asker_of(message: &Message) -> Option<u64> {
    message
        .components
        .iter()
        .flat_map(|row| &row.components)
        .find_map(|c| match c {
            ActionRowComponent::Button(Button {
                data: ButtonKind::NonLink { custom_id, .. },
                ..
            }) => match Action::parse(custom_id) {
                Some(Action::Delete { asker }) => Some(asker),
                _ => None,
            },
            _ => None,
        })
}
