//! Matching speed on synthetic knowledge bases of 100, 10,000 and 100,000 entries
//! (issue #2, section 5): load + index time, and the time to answer one question of each
//! kind (exact, paraphrased with typos, off-topic) and of the whole mix.
//!
//! `cargo bench` runs every size; `cargo bench -- ask/` or `-- 10000` picks some. Criterion
//! reports means and medians over samples; for per-question percentiles and memory, run
//! `cargo bench --bench scale`, which uses the same generator and seed.
//!
//! Under `cargo test --benches` (criterion's test mode: no `--bench` argument) only the
//! 100-entry size runs, once, so that the other sizes cost nothing outside `cargo bench`.

#[path = "synth/mod.rs"]
mod synth;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, SamplingMode};
use qabot::config::Matching;
use qabot::{Engine, Knowledge};
use synth::{Kind, Pack, Question};

/// The generator's seed, the same as the scale report's.
const SEED: u64 = 2;
/// Questions in the mix.
const QUESTIONS: usize = 2_000;

fn load(pack: &Pack) -> Engine {
    let knowledge = Knowledge::from_sources(&pack.sources).expect("synthetic pack is valid");
    Engine::new(knowledge, Matching::default())
}

fn bench_size(c: &mut Criterion, size: usize) {
    let pack = Pack::generate(size, SEED);

    let mut group = c.benchmark_group("load");
    if size >= 10_000 {
        // Seconds per iteration: the fewest samples criterion allows, one load each.
        group.sample_size(10);
        group.sampling_mode(SamplingMode::Flat);
        group.warm_up_time(Duration::from_millis(1));
    }
    group.bench_with_input(BenchmarkId::from_parameter(size), &pack, |b, pack| {
        b.iter(|| load(black_box(pack)))
    });
    group.finish();

    let engine = load(&pack);
    let questions = pack.questions(QUESTIONS);
    let mut group = c.benchmark_group("ask");
    let mut cases: Vec<(&str, Vec<&Question>)> = Kind::ALL
        .iter()
        .map(|&kind| {
            let of_kind = questions.iter().filter(|q| q.kind == kind).collect();
            (kind.label(), of_kind)
        })
        .collect();
    cases.push(("mix", questions.iter().collect()));
    for (label, qs) in &cases {
        // Each iteration answers the next question of the list, round and round.
        group.bench_with_input(BenchmarkId::new(*label, size), qs, |b, qs| {
            let mut next = qs.iter().cycle();
            b.iter(|| {
                let q = next.next().expect("questions");
                engine.ask(black_box(&q.text))
            })
        });
    }
    group.finish();
}

/// The worst inputs a user can send (100 KB each), answered from the shipped pack: the time
/// bound that `tests/hostile.rs` relies on.
fn bench_hostile(c: &mut Criterion) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let engine = Engine::load(&dir, Matching::default()).expect("shipped knowledge loads");
    let cases: [(&str, String); 6] = [
        ("repeated-word", "django ".repeat(14_000)),
        (
            "distinct-words",
            (0..14_000).map(|i| format!("w{i} ")).collect(),
        ),
        ("one-long-word", "a".repeat(100_000)),
        (
            "zalgo",
            "d\u{0351}\u{0352}j\u{0357}a\u{0363}n\u{0364}g\u{0365}o ".repeat(4_000),
        ),
        ("markup", "**<@123>** `x` ```py\n".repeat(5_000)),
        ("typos", "djnago flsak migartions templtaes ".repeat(3_000)),
    ];
    let mut group = c.benchmark_group("hostile");
    for (label, text) in &cases {
        group.bench_with_input(BenchmarkId::from_parameter(label), text, |b, text| {
            b.iter(|| engine.ask(black_box(text)))
        });
    }
    group.finish();
}

/// The shipped pack as a server runs it, with semantic matching on: the blind set's
/// questions one at a time (the figure is for the whole set: divide by its 673 questions).
/// Start-up is measured on the real binary instead (README), since the model is loaded once
/// per process and an in-process figure would leave it out.
fn bench_shipped(c: &mut Criterion) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let engine = Engine::load(&root.join("knowledge"), Matching::default())
        .expect("shipped knowledge loads");
    let text = std::fs::read_to_string(root.join("tests/eval/blind.tsv")).expect("blind set");
    let questions: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split('\t').next())
        .collect();
    let mut group = c.benchmark_group("shipped");
    group.sample_size(10);
    group.bench_function("ask-blind-set", |b| {
        b.iter(|| {
            for q in &questions {
                black_box(engine.decide(black_box(q)));
            }
        })
    });
    group.finish();
}

/// A careless owner's folder: one entry pasted over and over (20 MB), every copy after the
/// first a duplicate id. Reporting must stay linear however many problems there are.
fn bench_bad_knowledge(c: &mut Criterion) {
    let entry =
        "[[entry]]\nid = \"same\"\nquestion = \"What is the same thing?\"\nanswer = \"It is.\"\n";
    let text = entry.repeat(20_000_000 / entry.len());
    let sources = [(std::path::PathBuf::from("k/pasted.toml"), text)];
    let mut group = c.benchmark_group("bad-knowledge");
    group.sample_size(10);
    group.bench_function("duplicate-ids-20mb", |b| {
        b.iter(|| {
            let problems = qabot::Knowledge::from_sources(black_box(&sources))
                .expect_err("every copy is a duplicate");
            black_box(problems.to_string())
        })
    });
    group.finish();
}

fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let sizes: &[usize] = if benchmarking {
        &[100, 10_000, 100_000]
    } else {
        &[100]
    };
    let mut c = Criterion::default().configure_from_args();
    for &size in sizes {
        bench_size(&mut c, size);
    }
    bench_hostile(&mut c);
    bench_shipped(&mut c);
    bench_bad_knowledge(&mut c);
    c.final_summary();
}
