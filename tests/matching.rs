//! Matching behaviour on the shipped pack and on small packs built for one mechanism each.
//! One line a case: add a line when a new kind of question matters.

use std::path::{Path, PathBuf};

use qabot::config::Matching;
use qabot::{Engine, Knowledge, Status};

fn shipped() -> Engine {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    Engine::load(&dir, Matching::default()).expect("shipped knowledge loads")
}

fn pack(text: &str) -> Engine {
    let k = Knowledge::from_sources(&[(PathBuf::from("t.toml"), text.to_string())])
        .expect("test pack loads");
    Engine::new(k, Matching::default())
}

/// (status, entry id, aspect id) as `ask --json` would report it.
fn outcome(engine: &Engine, question: &str) -> (Status, Option<String>, Option<String>) {
    let d = engine.decide(question);
    let k = engine.knowledge();
    match (&d.best, d.status) {
        (Some(c), Status::Answered) => {
            let e = &k.entries[c.entry];
            (
                d.status,
                Some(e.id.clone()),
                c.aspect.map(|a| e.aspects[a].id.clone()),
            )
        }
        _ => (d.status, None, None),
    }
}

/// Asserts each `(question, status, entry id or "-", aspect id or "-")`.
fn check(engine: &Engine, cases: &[(&str, Status, &str, &str)]) {
    for (question, status, entry, aspect) in cases {
        let (got_status, got_entry, got_aspect) = outcome(engine, question);
        let want_entry = (*entry != "-").then(|| entry.to_string());
        let want_aspect = (*aspect != "-").then(|| aspect.to_string());
        assert_eq!(got_status, *status, "{question:?}");
        assert_eq!(
            (got_entry, got_aspect),
            (want_entry, want_aspect),
            "{question:?}"
        );
    }
}

#[test]
fn chat_questions_on_the_shipped_pack() {
    use Status::*;
    let engine = shipped();
    let cases: &[(&str, Status, &str, &str)] = &[
        // Typos, shouting, greetings, mentions, emoji and several sentences around a question.
        ("DJANGO OR FLASK???", Answered, "django-vs-flask", "-"),
        (
            "hey <@12345> which is easier to learn, django or flsk? thanks!",
            Answered,
            "django-vs-flask",
            "learning-curve",
        ),
        (
            "hi all 👋 I'm new here. Is Djnago opinionated compared to flask?",
            Answered,
            "django-vs-flask",
            "complexity",
        ),
        (
            "how do I run my migartions in django",
            Answered,
            "django-migrations",
            "-",
        ),
        (
            "> someone said flask\nwhat is the django admin",
            Answered,
            "django-admin",
            "-",
        ),
        (
            "```py\nimport flask\n```\nhow do i write tests for django",
            Answered,
            "django-testing",
            "-",
        ),
        // Off-topic: nothing said, whatever the shape.
        ("who wants to play chess?", None, "-", "-"),
        ("what is rust", None, "-", "-"),
        ("react vs vue", None, "-", "-"),
        ("lol", None, "-", "-"),
        ("", None, "-", "-"),
        ("<@123> <#456> https://example.com", None, "-", "-"),
    ];
    check(&engine, cases);
}

#[test]
fn off_topic_never_answered_whatever_the_chatter() {
    let engine = shipped();
    for q in [
        "good morning everyone",
        "anyone up for lunch?",
        "what's the weather like",
        "how do I center a div",
        "my cat is asleep on my keyboard",
        // These share a word with an aspect ("learning", "fast") but name nothing a
        // comparison compares: at most a suggestion.
        "what is machine learning",
        "how to learn python fast",
        "how do i install node",
    ] {
        assert_ne!(engine.decide(q).status, Status::Answered, "{q:?}");
    }
}

const BOT_PACK: &str = r#"
[[entry]]
id = "bot-setup"
question = "How do I set up the bot?"
keywords = ["bot"]
negatives = ["bot army"]
answer = "Run qabot run."

[[entry]]
id = "cache-redis"
question = "How do I cache with Redis?"
answer = "Use django-redis."

[[entry]]
id = "cache-memcached"
question = "How do I cache with Memcached?"
answer = "Use pymemcache."
"#;

#[test]
fn whole_words_only() {
    let engine = pack(BOT_PACK);
    assert_eq!(
        outcome(&engine, "bot setup").1.as_deref(),
        Some("bot-setup")
    );
    assert_eq!(
        engine.decide("I am bothered").status,
        Status::None,
        "`bot` inside `bothered`"
    );
}

#[test]
fn negatives_kill_a_known_false_positive() {
    let engine = pack(BOT_PACK);
    assert_eq!(engine.decide("bot army").status, Status::None);
    assert_eq!(
        outcome(&engine, "set up bot").1.as_deref(),
        Some("bot-setup")
    );
}

#[test]
fn a_close_race_is_a_suggestion_not_an_answer() {
    let engine = pack(BOT_PACK);
    let d = engine.decide("how do I cache");
    assert_eq!(d.status, Status::Suggested);
    let ids: Vec<&str> = d
        .suggestions
        .iter()
        .map(|c| engine.knowledge().entries[c.entry].id.as_str())
        .collect();
    assert_eq!(ids, ["cache-redis", "cache-memcached"]);
    let reply = engine.ask("how do I cache").reply;
    assert_eq!(reply.choices.len(), 2);
    assert!(reply.text().contains("Did you mean"));
}

#[test]
fn synonyms_from_the_pack_apply() {
    let engine = shipped();
    let (status, entry, aspect) = outcome(&engine, "django or flask for a total noob");
    assert_eq!(status, Status::Answered);
    assert_eq!(
        (entry.as_deref(), aspect.as_deref()),
        (Some("django-vs-flask"), Some("learning-curve"))
    );
}

#[test]
fn confidence_is_a_share() {
    let engine = shipped();
    for q in [
        "django",
        "django django flask flask",
        "what is the difference between django and flask",
    ] {
        let c = engine.decide(q).confidence();
        assert!((0.0..=1.0).contains(&c), "{q}: {c}");
    }
}

const DRINKS_PACK: &str = r#"
other_topics = ["cocoa"]

[[entry]]
id = "tea-vs-coffee"
question = "Tea or coffee?"
subjects = ["Tea", "Coffee"]
answer = "Both have their place."
[[entry.aspect]]
id = "caffeine"
title = "Caffeine"
keywords = ["caffeine", "awake", "energy"]
text.Tea = "Less."
text.Coffee = "More."
[[entry.aspect]]
id = "taste"
title = "Taste"
keywords = ["taste", "flavour", "bitter"]
text.Tea = "Light."
text.Coffee = "Bold."
[[entry.aspect]]
id = "occasions"
title = "Occasions"
keywords = ["morning", "evening", "when"]
text.Tea = "Afternoons."
text.Coffee = "Mornings."

[[entry]]
id = "coffee-awake"
question = "Does coffee keep me awake at night?"
keywords = ["awake", "sleep"]
answer = "For about five hours."

[[entry]]
id = "coffee-brewing"
question = "How do I brew coffee?"
alternates = ["How do I set up a coffee grinder?", "Brewing coffee for a long office meeting"]
keywords = ["brew"]
answer = "Grind, pour, wait."

[[entry]]
id = "grinder-cleaning"
question = "How do I clean a coffee grinder?"
answer = "Grind rice, then brush."
"#;

#[test]
fn comparison_questions_on_a_small_pack() {
    use Status::*;
    let engine = pack(DRINKS_PACK);
    let cases: &[(&str, Status, &str, &str)] = &[
        ("tea or coffee", Answered, "tea-vs-coffee", "-"),
        // Naming both subjects asks for the comparison, even when another entry shares
        // more of the words.
        (
            "tea or coffee to stay awake",
            Answered,
            "tea-vs-coffee",
            "caffeine",
        ),
        (
            "tea or coffee, awake at night",
            Answered,
            "tea-vs-coffee",
            "caffeine",
        ),
        ("does coffee keep me awake", Answered, "coffee-awake", "-"),
        (
            "tea vs coffee, which is more bitter?",
            Answered,
            "tea-vs-coffee",
            "taste",
        ),
        // A keyword of words matching otherwise ignores is a cue for its aspect...
        (
            "when would you pick tea over coffee",
            Answered,
            "tea-vs-coffee",
            "occasions",
        ),
        // ...that never brings a question to the comparison.
        (
            "when does coffee keep me awake",
            Answered,
            "coffee-awake",
            "-",
        ),
        ("how do i brew coffee", Answered, "coffee-brewing", "-"),
        // One word of a long phrasing explains a one-word question fully, and says little.
        ("meeting", Suggested, "-", "-"),
        // Another topic, and none of the pack's subjects: about something else.
        ("how do i brew cocoa", None, "-", "-"),
        (
            "how do i brew coffee with cocoa",
            Answered,
            "coffee-brewing",
            "-",
        ),
        // "set up" and "setup" are one word.
        ("coffee grinder setup", Answered, "coffee-brewing", "-"),
    ];
    check(&engine, cases);
}

#[test]
fn unknown_words_do_not_hide_the_aspect() {
    let engine = pack(DRINKS_PACK);
    for question in [
        "tea vs coffee, which is more bitter?",
        "tea or coffee for energy",
    ] {
        let aspect = |q: &str| engine.decide(q).best.and_then(|c| c.aspect);
        let noisy = format!("{question} flumpy grizzle wobble");
        assert!(aspect(question).is_some(), "{question:?}");
        assert_eq!(aspect(&noisy), aspect(question), "{noisy:?}");
    }
}

/// An owner who used a common word as a keyword in another entry ("install") must still
/// see each phrasing they wrote answered by its own entry when typed word for word.
const SHARED_WORDS: &str = r#"
[[entry]]
id = "install-guide"
question = "How do I install it?"
alternates = ["Where are the install steps?", "How to set it up", "installer problems"]
answer = "Run the installer."

[[entry]]
id = "install-errors"
question = "Why does the installer fail?"
alternates = ["Installer problems!", "install fails with an error"]
answer = "Read the log."

[[entry]]
id = "plugins"
question = "How do I add a plugin?"
alternates = ["Where do plugins go?", "plugin install"]
keywords = ["install", "plugin"]
answer = "Drop it in plugins/."
"#;

#[test]
fn a_phrasing_typed_word_for_word_names_its_entry() {
    use Status::*;
    let engine = pack(SHARED_WORDS);
    check(
        &engine,
        &[
            // Case and punctuation aside, word for word: answered, though the keyword
            // "install" explains the question's one searchable word as fully.
            ("how do i install it", Answered, "install-guide", "-"),
            (
                "where are the INSTALL steps",
                Answered,
                "install-guide",
                "-",
            ),
            ("Where do plugins go?!", Answered, "plugins", "-"),
            (
                "install fails with an error",
                Answered,
                "install-errors",
                "-",
            ),
            // Two entries wrote the same phrasing: no phrasing decides, the words do.
            ("installer problems", Suggested, "-", "-"),
            // Not word for word: the words tie with the keyword.
            ("how would i install it", Suggested, "-", "-"),
            // One word more is no longer the phrasing.
            (
                "where are the install steps please",
                Answered,
                "install-guide",
                "-",
            ),
        ],
    );
    let d = engine.decide("Where do plugins go?");
    assert!(d.best.as_ref().is_some_and(|c| c.exact));
    assert!(d.margin() > 0.0);
}

#[test]
fn a_phrasing_word_for_word_is_answered_without_asking_the_model() {
    let k = Knowledge::from_sources(&[(PathBuf::from("t.toml"), SHARED_WORDS.to_string())])
        .expect("test pack loads");
    let matching = Matching {
        cache_dir: PathBuf::new(),
        ..Matching::default()
    };
    let (engine, loaded) = Engine::build(k, matching, Path::new("t"), &mut |_, _| {
        std::ops::ControlFlow::Continue(())
    })
    .expect("builds with the shipped model");
    assert!(loaded.is_some(), "meaning is on");
    let exact = engine.decide("Where do plugins go?");
    assert_eq!(exact.status, Status::Answered);
    assert!(exact.best.is_some_and(|c| c.exact && c.semantic.is_none()));
    let other = engine.decide("where do the plugins live");
    assert!(other.best.is_some_and(|c| !c.exact && c.semantic.is_some()));
}

/// A comparison written from a page with no sub-sections: subjects, no aspects.
const WHOLE_COMPARISON_PACK: &str = r#"
[[entry]]
id = "tabs-vs-spaces"
question = "Should I indent with tabs or spaces?"
alternates = ["Tabs or spaces?", "Is indenting with spaces better?"]
subjects = ["Tabs", "Spaces"]
answer = "Spaces render the same everywhere; tabs let each reader pick a width."
verdict = "Follow your formatter's default."

[[entry]]
id = "tab-width"
question = "How wide should a tab be?"
keywords = ["width"]
answer = "Four columns."

[[entry]]
id = "trailing-spaces"
question = "How do I remove trailing spaces?"
keywords = ["trailing", "whitespace"]
answer = "Let your editor trim them on save."
"#;

#[test]
fn a_comparison_without_aspects_is_answered_whole() {
    use Status::*;
    let engine = pack(WHOLE_COMPARISON_PACK);
    let cases: &[(&str, Status, &str, &str)] = &[
        ("tabs or spaces?", Answered, "tabs-vs-spaces", "-"),
        (
            "spaces or tabs, which is better for indenting?",
            Answered,
            "tabs-vs-spaces",
            "-",
        ),
        // Naming one subject is no comparison: the entry about it answers.
        ("how wide should a tab be", Answered, "tab-width", "-"),
        ("remove trailing spaces", Answered, "trailing-spaces", "-"),
    ];
    check(&engine, cases);
    let text = engine.ask("tabs or spaces?").reply.text();
    assert_eq!(
        text,
        "**Tabs vs Spaces**\n\nSpaces render the same everywhere; tabs let each reader pick a width.\n\n**Verdict**\nFollow your formatter's default.",
        "intro and verdict, no aspect list or offer"
    );
}
