//! The shipped pack against the question sets in `tests/eval/`: a floor under matching
//! quality, so a change that helps one kind of question cannot quietly cost another.
//! `qabot eval tests/eval/blind.tsv` lists the misses behind these figures.

use std::path::Path;

use qabot::config::Matching;
use qabot::{eval, Engine};

/// (set, least share of on-topic questions answered exactly, least share of off-topic ones
/// left unanswered). Raise a floor when matching improves; never lower one to make a change
/// pass without saying why in its commit.
const FLOORS: &[(&str, f64, f64)] = &[("tuning.tsv", 0.96, 0.98), ("blind.tsv", 0.91, 0.99)];

#[test]
fn the_shipped_pack_keeps_its_level_on_every_set() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let engine = Engine::load(&root.join("knowledge"), Matching::default())
        .expect("shipped knowledge loads");
    for &(name, on_floor, off_floor) in FLOORS {
        let path = root.join("tests/eval").join(name);
        let text = std::fs::read_to_string(&path).expect("eval set is readable");
        let cases = eval::parse(&path, &text).unwrap_or_else(|e| panic!("{e}"));
        let report = eval::run(&engine, &cases);
        let (on, off) = (report.accuracy(), report.rejection());
        assert!(
            on >= on_floor && off >= off_floor,
            "{name}: on-topic {on:.3} (floor {on_floor}), off-topic {off:.3} (floor {off_floor}); \
             run `qabot eval tests/eval/{name}` for the misses"
        );
    }
}
