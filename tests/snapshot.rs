//! The start-up snapshot end to end: a synthetic pack of 1,000 entries loaded cold (parsed
//! on every core, indexed, snapshot written) and warm (read back from the snapshot) decides
//! every one of 2,000 questions exactly as the same pack built in memory without one.

use qabot::config::Matching;
use qabot::snapshot::State;
use qabot::Engine;

#[path = "../benches/synth/mod.rs"]
mod synth;

#[test]
fn decisions_are_identical_with_and_without_the_snapshot() {
    let pack = synth::Pack::generate(1_000, 2);
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("knowledge");
    std::fs::create_dir(&dir).unwrap();
    for (path, text) in &pack.sources {
        std::fs::write(dir.join(path.file_name().unwrap()), text).unwrap();
    }
    let matching = Matching {
        semantic: false,
        cache_dir: root.path().join("data"),
        ..Matching::default()
    };
    let knowledge = qabot::Knowledge::from_sources(&pack.sources).expect("synthetic pack");
    let reference = Engine::new(knowledge, matching.clone());
    let open = || {
        Engine::open(&dir, matching.clone(), &|_, _, _, _| {}, &mut |_, _| {
            std::ops::ControlFlow::Continue(())
        })
        .expect("loads")
    };
    let (cold, started) = open();
    assert_eq!(started.snapshot.state, State::Missing);
    assert_eq!(started.snapshot.save_error, None);
    let (warm, started) = open();
    assert_eq!(started.snapshot.state, State::Used);
    let questions = pack.questions(2_000);
    assert_eq!(questions.len(), 2_000);
    for q in &questions {
        let want = reference.decide(&q.text);
        // Status, best, runner-up and suggestions: entries, aspects, phrases, confidences.
        assert_eq!(cold.decide(&q.text), want, "{}", q.text);
        assert_eq!(warm.decide(&q.text), want, "{}", q.text);
    }
    assert_eq!(
        warm.knowledge().entries,
        cold.knowledge().entries,
        "same entries, origins included"
    );
}
