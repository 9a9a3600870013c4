//! The message context menu "Add as alternate question…" and the moderator's pick of an
//! entry in the menu it answers with: the proposal goes to the pending file for the owner to
//! review, never into the live knowledge.

use std::collections::{HashMap, HashSet};

use serenity::all::{
    CommandInteraction, ComponentInteraction, ComponentInteractionDataKind, Context,
    CreateInteractionResponse, ResolvedTarget,
};

use super::commands;
use super::feedback::{self, Alternate};
use super::render;
use super::state::{moderator, InteractionRef, Shared};
use crate::engine::Engine;
use crate::reply::shorten;

/// Discord's limit on the options of a select menu.
const MENU_OPTIONS: usize = 25;
/// The refusal of moderator-only actions.
const NOT_A_MODERATOR: &str = "Only moderators (Manage Messages) can add alternate questions.";

/// A message context-menu command. "Add as alternate question…" (the only one qabot
/// registers): moderators get a menu of the entries closest to the message's text.
pub(crate) async fn on_command(shared: &Shared, ctx: &Context, command: &CommandInteraction) {
    if command.data.name != commands::ADD_ALTERNATE {
        return;
    }
    let target = match command.data.target() {
        Some(ResolvedTarget::Message(m)) => Some(m),
        _ => None,
    };
    let refusal = if !moderator(command.member.as_deref()) {
        Some(NOT_A_MODERATOR)
    } else if !shared.feedback.pending_on() {
        Some("Proposed alternates are turned off (`[misses] pending_path` is empty).")
    } else if target.is_none_or(|m| m.content.trim().is_empty()) {
        Some("That message has no text I can use as a question.")
    } else {
        None
    };
    let response = match (refusal, target) {
        (None, Some(target)) => {
            let question = target.content.trim();
            shared.feedback.remember(target.id.get(), question);
            let entries = closest_entries(&shared.engine(), question);
            render::alternate_picker(target.id.get(), question, &entries)
        }
        (refusal, _) => render::ephemeral_note(refusal.unwrap_or_default()),
    };
    let result = command
        .create_response(&ctx.http, CreateInteractionResponse::Message(response))
        .await;
    shared.logged(result, commands::ADD_ALTERNATE);
}

/// The entry a moderator picked for "Add as alternate question…" on message `message`:
/// written to the pending file for the owner to review, never to the live knowledge.
pub(crate) async fn on_pick(
    shared: &Shared,
    ctx: &Context,
    component: &ComponentInteraction,
    message: u64,
) {
    let picked = match &component.data.kind {
        ComponentInteractionDataKind::StringSelect { values } => values.first(),
        _ => None,
    };
    let engine = shared.engine();
    let entry = picked.and_then(|id| engine.knowledge().entries.iter().find(|e| &e.id == id));
    let question = shared.feedback.recalled(message);
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
            shared.feedback.alternate(Alternate {
                time: feedback::now(),
                entry: entry.id.clone(),
                question,
                by: component.user.id.get(),
            });
            note
        }
    };
    shared
        .note(
            ctx,
            InteractionRef::Component(component),
            &text,
            "alternate pick",
        )
        .await;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Matching;
    use std::path::Path;

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
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let few = Engine::load(&shipped, Matching::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            closest_entries(&few, "anything").len(),
            few.knowledge().entries.len().min(25)
        );
    }
}
