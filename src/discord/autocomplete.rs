//! Autocomplete for `/ask`: the answers to offer while a member types, each a choice whose
//! value names its entry (and aspect), so picking one answers exactly it however long its
//! question; the `/ask` handler reads such a value back with [`picked`], and still takes
//! free text.

use serenity::all::{
    CommandInteraction, Context, CreateAutocompleteResponse, CreateInteractionResponse,
};

use super::state::Shared;
use crate::engine::Engine;
use crate::reply::{label, shorten};

/// Discord's limits on autocomplete: choices, and characters in a choice's name and value.
const AUTOCOMPLETE_CHOICES: usize = 25;
const AUTOCOMPLETE_TEXT: usize = 100;
/// How a choice value starts: `qa:entry:<entry id>` or `qa:entry:<entry id>:<aspect id>`.
/// Ids are at most 32 characters, so a value always fits Discord's 100; nobody types it.
const VALUE: &str = "qa:entry:";

/// The choice value standing for `entry`, or one `aspect` of it.
pub(crate) fn choice_value(entry: &str, aspect: Option<&str>) -> String {
    match aspect {
        Some(aspect) => format!("{VALUE}{entry}:{aspect}"),
        None => format!("{VALUE}{entry}"),
    }
}

/// The entry (and aspect) a `/ask` value names when it is a picked suggestion; `None` for
/// free text a member typed.
pub(crate) fn picked(value: &str) -> Option<(&str, Option<&str>)> {
    let ids = value.strip_prefix(VALUE)?;
    let mut parts = ids.split(':');
    let (entry, aspect) = (parts.next()?, parts.next());
    let valid = |id: &str| !id.is_empty() && !id.contains(char::is_whitespace);
    (valid(entry) && aspect.is_none_or(valid) && parts.next().is_none()).then_some((entry, aspect))
}

/// Answers an autocomplete request with the answers closest to what was typed.
pub(crate) async fn on_autocomplete(shared: &Shared, ctx: &Context, command: &CommandInteraction) {
    let typed = command.data.autocomplete().map_or("", |o| o.value);
    let mut choices = CreateAutocompleteResponse::new();
    for (name, value) in ask_suggestions(&shared.engine(), typed) {
        choices = choices.add_string_choice(name, value);
    }
    let result = command
        .create_response(&ctx.http, CreateInteractionResponse::Autocomplete(choices))
        .await;
    shared.logged(result, "autocomplete");
}

/// `(name, value)` choices to offer while the user types `typed` into `/ask`: the entries
/// (or aspects) the matcher ranks highest, then the entries with a question or alternate
/// containing the typed text, named by that phrasing; one choice per answer, at most 25,
/// names shortened to 100 characters.
fn ask_suggestions(engine: &Engine, typed: &str) -> Vec<(String, String)> {
    let k = engine.knowledge();
    let typed = typed.trim();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut push = |name: &str, value: String| {
        let name = shorten(name, AUTOCOMPLETE_TEXT);
        let fresh = out.iter().all(|(n, v)| *n != name && *v != value);
        if out.len() < AUTOCOMPLETE_CHOICES && !name.is_empty() && fresh {
            out.push((name, value));
        }
    };
    if typed.is_empty() {
        k.entries
            .iter()
            .for_each(|e| push(&e.question, choice_value(&e.id, None)));
        return out;
    }
    let decision = engine.decide(typed);
    let ranked = decision
        .best
        .iter()
        .chain(&decision.suggestions)
        .chain(&decision.runner_up);
    for c in ranked {
        let Some(e) = k.entries.get(c.entry) else {
            continue;
        };
        if let Some(aspect) = c.aspect.and_then(|a| e.aspects.get(a)) {
            push(&label(e, c.aspect), choice_value(&e.id, Some(&aspect.id)));
        }
        push(&e.question, choice_value(&e.id, None));
    }
    let needle = typed.to_lowercase();
    for e in &k.entries {
        for q in std::iter::once(e.question.as_str()).chain(&e.alternates) {
            if q.to_lowercase().contains(&needle) {
                push(q, choice_value(&e.id, None));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::engine;

    #[test]
    fn suggestions_fit_discord_match_the_text_and_name_their_answer() {
        let engine = engine();
        for typed in ["flask", "which is easier to learn, django or flask", ""] {
            let got = ask_suggestions(&engine, typed);
            assert!(!got.is_empty() && got.len() <= 25, "{typed}: {got:?}");
            for (name, value) in &got {
                assert!(name.chars().count() <= 100 && value.chars().count() <= 100);
                let (entry, aspect) = picked(value).unwrap_or_else(|| panic!("{value}"));
                assert!(
                    engine.answer_for(entry, aspect).is_some(),
                    "{value} names an answer"
                );
            }
            let values: std::collections::HashSet<&String> = got.iter().map(|(_, v)| v).collect();
            assert_eq!(values.len(), got.len(), "one choice per answer");
        }
        let flask = ask_suggestions(&engine, "flask");
        assert!(flask
            .iter()
            .any(|(q, _)| q.to_lowercase().contains("flask")));
        let learning = ask_suggestions(&engine, "which is easier to learn, django or flask");
        assert_eq!(
            learning[0].1, "qa:entry:django-vs-flask:learning-curve",
            "{learning:?}"
        );
        let all = ask_suggestions(&engine, "");
        assert_eq!(all.len(), engine.knowledge().entries.len().min(25));
    }

    #[test]
    fn picked_values_are_read_back_and_free_text_is_not() {
        type Ids<'a> = Option<(&'a str, Option<&'a str>)>;
        let cases: [(&str, Ids); 9] = [
            ("qa:entry:what-is-django", Some(("what-is-django", None))),
            (
                "qa:entry:django-vs-flask:learning-curve",
                Some(("django-vs-flask", Some("learning-curve"))),
            ),
            ("What is Django?", None),
            ("qa:entry:", None),
            ("qa:entry:a:", None),
            ("qa:entry:a:b:c", None),
            ("qa:entry:two words", None),
            ("entry:what-is-django", None),
            ("  qa:entry:x", None),
        ];
        for (value, want) in cases {
            assert_eq!(picked(value), want, "{value:?}");
        }
        for (entry, aspect) in [("e", None), ("e", Some("a"))] {
            assert_eq!(picked(&choice_value(entry, aspect)), Some((entry, aspect)));
        }
    }
}
