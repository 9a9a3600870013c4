//! Hostile input: whatever a user types, matching gives a decision and a reply within
//! Discord's limits, without panicking. (Time bounds are measured by `cargo bench`, not here.)

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;
use qabot::config::Matching;
use qabot::reply::limits;
use qabot::Engine;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        Engine::load(&dir, Matching::default()).expect("shipped knowledge loads")
    })
}

fn check(question: &str) {
    let answer = engine().ask(question);
    let c = answer.decision.confidence();
    assert!((0.0..=1.0).contains(&c), "confidence {c}");
    for m in &answer.reply.messages {
        assert!(m
            .content
            .as_deref()
            .is_none_or(|c| c.chars().count() <= limits::CONTENT));
        assert!(m.embeds.len() <= limits::EMBEDS);
        assert!(m.embeds.iter().map(|e| e.len()).sum::<usize>() <= limits::EMBED_TOTAL);
    }
}

/// Pieces hostile messages are made of.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,40}",
        any::<String>(),
        Just("django".to_string()),
        Just("<@!123456789012345678>".to_string()),
        Just("@everyone".to_string()),
        Just("```rust\nfn main() {}\n".to_string()),
        Just("**__~~||".to_string()),
        Just("> ".to_string()),
        Just(">>> ".to_string()),
        Just("\u{202e}\u{200b}\u{200d}\u{fe0f}".to_string()),
        Just(
            "Z\u{0351}\u{0352}\u{0357}\u{035b}\u{0363}a\u{0364}\u{0365}l\u{0366}g\u{0367}o"
                .to_string()
        ),
        Just("https://example.com/a?b=c".to_string()),
        Just("`".to_string()),
        Just("\n".to_string()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_text_gets_a_decision(text in any::<String>()) {
        check(&text);
    }

    #[test]
    fn any_mix_of_hostile_pieces_gets_a_decision(pieces in prop::collection::vec(piece(), 0..200)) {
        check(&pieces.concat());
    }
}

#[test]
fn huge_inputs_get_a_decision() {
    let cases = [
        "django ".repeat(10_000),
        "a".repeat(100_000),
        "é\u{0301}".repeat(30_000),
        "*".repeat(100_000),
        "<@".repeat(50_000),
        "```".repeat(30_000),
        "> x\n".repeat(25_000),
        (0..10_000).map(|i| format!("w{i} ")).collect(),
        "\u{200b}".repeat(50_000),
    ];
    for text in &cases {
        assert!(text.len() <= 200_000);
        check(text);
    }
}
