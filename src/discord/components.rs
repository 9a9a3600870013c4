//! Buttons and select menus on qabot's messages: "did you mean" choices, 🗑️, `/topics`
//! pages, 👍/👎, and the alternate pick (handed to `context_menu`). A component's custom id
//! ([`Action`]) is all the state a click needs.

use serenity::all::{ComponentInteraction, Context, CreateInteractionResponse};
use tracing::{debug, warn};

use super::context_menu;
use super::feedback;
use super::render::{self, Action, Rated};
use super::state::{moderator, InteractionRef, Shared};
use crate::misses::Record;

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
        Action::Show { entry, aspect } => {
            match shared.engine().answer_for(&entry, aspect.as_deref()) {
                Some(reply) => {
                    // The chosen answer's buttons rate it for the question that got the
                    // suggestions.
                    let question = shared
                        .feedback
                        .question_of(&component.message, shared.bot_id());
                    shared.feedback.remember(component.id.get(), &question);
                    let rated = Rated { entry, aspect };
                    let rated = shared.config.discord.feedback_buttons.then_some(&rated);
                    let to = InteractionRef::Component(component);
                    let private = shared.private(&reply, component.channel_id.get());
                    shared
                        .send_interaction_reply(ctx, to, &reply, user, rated, private)
                        .await;
                }
                None => {
                    let note = render::ephemeral_note(
                        "That answer is no longer in my knowledge; try `/topics`.",
                    );
                    let result = component
                        .create_response(&ctx.http, CreateInteractionResponse::Message(note))
                        .await;
                    shared.logged(result, "show");
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
                return shared.logged(result, "delete");
            }
            let ack = component
                .create_response(&ctx.http, CreateInteractionResponse::Acknowledge)
                .await;
            shared.logged(ack, "delete");
            if let Err(e) = component
                .channel_id
                .delete_message(&ctx.http, component.message.id)
                .await
            {
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
            let note = render::ephemeral_note("Thanks for the feedback!");
            let result = component
                .create_response(&ctx.http, CreateInteractionResponse::Message(note))
                .await;
            shared.logged(result, "vote");
        }
        Action::Alternate { message } => {
            context_menu::on_pick(shared, ctx, component, message).await;
        }
    }
}
