//! Autocomplete for `/ask`: the questions to offer while a member types.

use serenity::all::{
    CommandInteraction, Context, CreateAutocompleteResponse, CreateInteractionResponse,
};

use super::state::Shared;
use crate::engine::Engine;
use crate::reply::shorten;

/// Discord's limits on autocomplete: choices, and characters in a choice's name and value.
const AUTOCOMPLETE_CHOICES: usize = 25;
const AUTOCOMPLETE_TEXT: usize = 100;

/// Answers an autocomplete request with the questions closest to what was typed.
pub(crate) async fn on_autocomplete(shared: &Shared, ctx: &Context, command: &CommandInteraction) {
    let typed = command.data.autocomplete().map_or("", |o| o.value);
    let mut choices = CreateAutocompleteResponse::new();
    for question in ask_suggestions(&shared.engine(), typed) {
        choices = choices.add_string_choice(question.clone(), question);
    }
    let result = command
        .create_response(&ctx.http, CreateInteractionResponse::Autocomplete(choices))
        .await;
    shared.logged(result, "autocomplete");
}

/// Questions to offer while the user types `typed` into `/ask`: the entries the matcher
/// ranks highest, then every question or alternate containing the typed text, at most 25,
/// each at most 100 characters.
fn ask_suggestions(engine: &Engine, typed: &str) -> Vec<String> {
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
    fn suggestions_fit_discord_and_match_the_text() {
        let engine = engine();
        let got = ask_suggestions(&engine, "flask");
        assert!(!got.is_empty() && got.len() <= 25);
        assert!(got.iter().all(|q| q.chars().count() <= 100));
        assert!(got.iter().any(|q| q.to_lowercase().contains("flask")));
        let all = ask_suggestions(&engine, "");
        assert_eq!(all.len(), engine.knowledge().entries.len().min(25));
    }
}
