//! Fuzzes matching and reply building on the shipped knowledge: any question gets a decision
//! with a confidence in [0, 1] and a reply within Discord's limits, never a panic.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use qabot::reply::limits;

fn engine() -> &'static qabot::Engine {
    static ENGINE: OnceLock<qabot::Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../knowledge");
        qabot::Engine::load(&dir, Default::default()).expect("shipped knowledge loads")
    })
}

fuzz_target!(|question: &str| {
    let answer = engine().ask(question);
    assert!((0.0..=1.0).contains(&answer.decision.confidence()));
    for m in &answer.reply.messages {
        assert!(m.content.as_deref().is_none_or(|c| c.chars().count() <= limits::CONTENT));
        assert!(m.embeds.iter().map(|e| e.len()).sum::<usize>() <= limits::EMBED_TOTAL);
    }
});
