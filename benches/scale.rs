//! Scale report: load + index time, per-question median and p99, and resident memory for
//! synthetic knowledge bases of 100, 10,000 and 100,000 entries (issue #2, section 5).
//!
//! ```text
//! cargo bench --bench scale                        # all three sizes
//! cargo bench --bench scale -- 10000               # chosen sizes
//! cargo bench --bench scale -- --dump 10000 > before.txt
//! cargo bench --bench scale -- --write 100000 /tmp/synth
//! cargo bench --bench scale -- --careless 10000    # common words as keywords
//! ```
//!
//! Plain `cargo bench` runs it after the criterion suite (`benches/matching.rs`); filter
//! words meant for criterion (`cargo bench -- hostile`) skip it, and entry counts pick its
//! sizes. Under `cargo test --benches` only the 100-entry size runs.
//!
//! `--dump SIZE` prints every question's decision instead (status, best, runner-up and
//! suggestions with exact confidences): diff it before and after a change to the index or
//! the matcher that must not change behaviour.
//!
//! `--write SIZE DIR` writes the knowledge files and the question mix (`questions.txt`, one
//! per line; `questions.tsv` with the entry each should get, for `qabot eval DIR`) under DIR,
//! to measure the real binary on them:
//! `/usr/bin/time -v target/release/qabot ask --json --knowledge DIR/knowledge < DIR/questions.txt`.
//!
//! Each size runs in a fresh child process so that its memory figures are its own. The
//! knowledge and questions come from `benches/synth` (deterministic); `cargo bench` measures
//! the same cases with criterion.

#[path = "synth/mod.rs"]
mod synth;

use std::alloc::{GlobalAlloc, Layout, System};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use qabot::config::Matching;
use qabot::{Engine, Knowledge, Status};
use synth::{Kind, Pack, Style};

/// The generator's seed: the figures in the README come from this one.
const SEED: u64 = 2;
/// Questions in the timed mix.
const QUESTIONS: usize = 2_000;
/// Timed passes over the mix (after one untimed warm-up pass).
const PASSES: usize = 5;

/// The system allocator, counting live heap bytes: what the knowledge and the index hold,
/// apart from what the allocator keeps around.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

// SAFETY: defers to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn live() -> u64 {
    LIVE.load(Ordering::Relaxed) as u64
}

/// Resident and peak resident memory of this process, in bytes, from /proc/self/status.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// Measures one size in this process and prints its table row.
fn one(style: Style, size: usize) {
    let pack = Pack::generate_in(style, size, SEED);
    let questions = pack.questions(QUESTIONS);
    let (rss_before, _) = memory();
    let heap_before = live();

    let start = Instant::now();
    let knowledge = Knowledge::from_sources(&pack.sources).expect("synthetic pack is valid");
    let parsed = start.elapsed();
    let heap_knowledge = live() - heap_before;
    let engine = Engine::new(knowledge, Matching::default());
    let load = start.elapsed();
    let (rss_after, peak) = memory();
    let heap_engine = live() - heap_before;

    // Outcomes per kind: answered with the entry it came from, answered another, suggested, none.
    let mut outcomes = [[0usize; 4]; 3];
    for q in &questions {
        let d = engine.decide(&q.text);
        let k = Kind::ALL.iter().position(|&k| k == q.kind).unwrap_or(0);
        let slot = match d.status {
            Status::Answered if d.best.as_ref().map(|b| b.entry) == q.entry => 0,
            Status::Answered => 1,
            Status::Suggested => 2,
            Status::None => 3,
        };
        outcomes[k][slot] += 1;
    }
    let mut times = Vec::with_capacity(QUESTIONS * PASSES);
    for _ in 0..PASSES {
        for q in &questions {
            let t = Instant::now();
            std::hint::black_box(engine.ask(std::hint::black_box(&q.text)));
            times.push(t.elapsed());
        }
    }
    times.sort();
    let median = times[times.len() / 2];
    let p99 = times[times.len() * 99 / 100];
    let max = times[times.len() - 1];

    println!(
        "| {size} | {} ms (parse {} ms) | {} | {} | {} | {} | {} (+{}) | {} |",
        load.as_millis(),
        parsed.as_millis(),
        micros(median),
        micros(p99),
        micros(max),
        mb(rss_before),
        mb(rss_after),
        mb(rss_after.saturating_sub(rss_before)),
        mb(peak),
    );
    for (k, kind) in Kind::ALL.iter().enumerate() {
        let [right, wrong, suggested, none] = outcomes[k];
        eprintln!(
            "  {size}: {:>16}: answered right {right}, answered other {wrong}, suggested {suggested}, none {none}",
            kind.label()
        );
    }
    eprintln!(
        "  {size}: live heap: knowledge {}, index {}",
        mb(heap_knowledge),
        mb(heap_engine - heap_knowledge)
    );
    eprintln!(
        "  {size}: {} entries, {} files, {} of TOML, {} generator words, vocabulary {} terms",
        pack.entries,
        pack.sources.len(),
        mb(pack.bytes() as u64),
        pack.vocabulary,
        engine.index().vocabulary_len()
    );
}

/// Prints every question's decision for one size.
fn dump(style: Style, size: usize) {
    let pack = Pack::generate_in(style, size, SEED);
    let knowledge = Knowledge::from_sources(&pack.sources).expect("synthetic pack is valid");
    let engine = Engine::new(knowledge, Matching::default());
    let show = |c: &Option<qabot::matcher::Candidate>| {
        c.as_ref().map_or("-".to_string(), |c| {
            format!(
                "{}/{:?}/{:?}/{:08x}",
                c.entry,
                c.aspect,
                c.phrase,
                c.confidence.to_bits()
            )
        })
    };
    for q in pack.questions(QUESTIONS) {
        let d = engine.decide(&q.text);
        let suggestions: Vec<String> = d
            .suggestions
            .iter()
            .map(|c| show(&Some(c.clone())))
            .collect();
        println!(
            "{}\t{:?}\t{}\t{}\t{}",
            q.text,
            d.status,
            show(&d.best),
            show(&d.runner_up),
            suggestions.join(" ")
        );
    }
}

/// Writes one size's knowledge files and questions under `dir`.
fn write(style: Style, size: usize, dir: &std::path::Path) -> std::io::Result<()> {
    let pack = Pack::generate_in(style, size, SEED);
    let knowledge = dir.join("knowledge");
    for (path, text) in &pack.sources {
        let file = knowledge.join(path.file_name().unwrap_or(path.as_os_str()));
        std::fs::create_dir_all(&knowledge)?;
        std::fs::write(file, text)?;
    }
    let questions = pack.questions(QUESTIONS);
    let texts: Vec<&str> = questions.iter().map(|q| q.text.as_str()).collect();
    std::fs::write(dir.join("questions.txt"), texts.join("\n") + "\n")?;
    // The same questions with what should answer them, for `qabot eval DIR`.
    let mut tsv = String::new();
    for q in &questions {
        let id = q.entry.map_or("-", |e| pack.id(e));
        tsv.push_str(&format!("{}\t{id}\t-\n", q.text));
    }
    std::fs::write(dir.join("questions.tsv"), tsv)
}

fn main() {
    let all: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let benching = all.iter().any(|a| a == "--bench");
    let careless = all.iter().any(|a| a == "--careless");
    let style = if careless {
        Style::Careless
    } else {
        Style::Careful
    };
    let args: Vec<&str> = all
        .iter()
        .map(String::as_str)
        .filter(|&a| a != "--bench" && a != "--careless")
        .collect();
    match args.as_slice() {
        ["--one", size] => return one(style, size.parse().expect("a size")),
        ["--dump", size] => return dump(style, size.parse().expect("a size")),
        ["--write", size, dir] => {
            let dir = std::path::Path::new(dir);
            write(style, size.parse().expect("a size"), dir).expect("write the pack");
            return println!("wrote {}", dir.display());
        }
        _ => {}
    }
    let mut sizes = Vec::new();
    for arg in &args {
        match arg.parse::<usize>() {
            Ok(size) => sizes.push(size),
            Err(_) => return println!("scale: skipped (filter {arg:?} is not an entry count)"),
        }
    }
    if sizes.is_empty() {
        sizes = if benching {
            vec![100, 10_000, 100_000]
        } else {
            vec![100]
        };
    }
    println!(
        "{QUESTIONS} questions (40% exact, 40% paraphrased with typos, 20% off-topic), \
         {PASSES} timed passes, seed {SEED}, {style:?} pack"
    );
    println!();
    println!("| entries | load + index | median | p99 | max | RSS before | RSS after (engine) | peak RSS |");
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let exe = std::env::current_exe().expect("own path");
    for size in sizes {
        let status = Command::new(&exe)
            .args(["--one", &size.to_string()])
            .args(careless.then_some("--careless"))
            .status()
            .expect("run a child");
        assert!(status.success(), "size {size} failed");
    }
}
