//! A generator of synthetic knowledge bases and question mixes, for the matching benchmark
//! (`benches/matching.rs`) and the scale report (`benches/scale.rs`). Not part of the bot.
//!
//! The vocabulary is a few hundred common English words plus made-up technical words (a few
//! thousand for small packs, up to 40,000 for large ones), drawn with Zipf-distributed
//! frequencies. Each entry is about a few "core" words that its question, alternates and
//! keywords share, as in a hand-written pack; about 5% of entries are comparisons with aspects.
//! Lengths follow the knowledge README: questions of 6-14 words, 3-8 alternates, 3-10
//! keywords, answers of 300-1,200 characters. Everything is deterministic for a given seed.

// The bench and the example each use a different part of this module.
#![allow(dead_code)]

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Entries per generated file.
const PER_FILE: usize = 1_000;

/// A tiny xorshift64* generator: deterministic, no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15 | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as usize
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniformly chosen element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() - 1)]
    }
}

/// Ranks drawn with probability proportional to `1 / (rank + 1)^s`.
#[derive(Debug, Clone)]
struct Zipf {
    cdf: Vec<f64>,
}

impl Zipf {
    fn new(n: usize, s: f64) -> Zipf {
        let mut cdf = Vec::with_capacity(n);
        let mut sum = 0.0;
        for rank in 0..n {
            sum += 1.0 / ((rank + 1) as f64).powf(s);
            cdf.push(sum);
        }
        for c in &mut cdf {
            *c /= sum;
        }
        Zipf { cdf }
    }

    fn sample(&self, rng: &mut Rng) -> usize {
        let u = rng.unit();
        self.cdf.partition_point(|&c| c < u).min(self.cdf.len() - 1)
    }
}

/// Common English content words, most frequent first: they take the top Zipf ranks.
#[rustfmt::skip]
const ENGLISH: &[&str] = &[
    "use", "error", "file", "project", "data", "server", "user", "code", "app", "page", "model",
    "test", "run", "build", "config", "setting", "version", "install", "update", "database",
    "request", "response", "field", "list", "value", "name", "type", "function", "class", "object",
    "method", "module", "package", "library", "command", "script", "service", "client", "query",
    "table", "column", "record", "key", "token", "session", "cache", "log", "message", "event",
    "task", "job", "queue", "worker", "thread", "process", "memory", "disk", "network", "port",
    "host", "domain", "email", "password", "account", "login", "permission", "role", "group",
    "admin", "form", "input", "output", "template", "view", "route", "url", "path", "folder",
    "directory", "image", "upload", "download", "export", "import", "backup", "restore", "deploy",
    "release", "branch", "commit", "merge", "review", "issue", "bug", "crash", "fail", "slow",
    "fast", "speed", "performance", "timeout", "retry", "limit", "size", "count", "number", "date",
    "time", "zone", "format", "language", "text", "string", "integer", "float", "boolean", "array",
    "map", "set", "index", "search", "filter", "sort", "order", "page", "paginate", "api",
    "endpoint", "schema", "migration", "seed", "fixture", "mock", "debug", "trace", "profile",
    "monitor", "alert", "metric", "report", "dashboard", "chart", "graph", "plugin", "extension",
    "theme", "style", "layout", "button", "menu", "link", "header", "footer", "sidebar", "modal",
    "window", "screen", "mobile", "desktop", "browser", "cookie", "storage", "secret",
    "certificate", "proxy", "gateway", "container", "image", "volume", "cluster", "node",
    "replica", "shard", "partition", "transaction", "lock", "conflict", "sync", "async",
    "callback", "promise", "stream", "buffer", "socket", "channel", "signal", "hook", "middleware",
    "handler", "parser", "compiler", "runtime", "engine", "driver", "adapter", "wrapper", "helper",
    "utility", "variable", "constant", "parameter", "argument", "option", "flag", "default",
    "custom", "local", "remote", "global", "private", "public", "static", "dynamic", "shared",
    "single", "multiple", "large", "small", "empty", "missing", "broken", "wrong", "invalid",
    "unknown", "beginner", "tutorial", "example", "guide", "documentation", "course", "learn",
    "start", "setup", "create", "delete", "remove", "change", "rename", "move", "copy", "connect",
    "disconnect", "enable", "disable", "allow", "block", "send", "receive", "read", "write",
    "open", "close", "save", "load", "parse", "validate", "check", "compare", "convert", "encode",
    "decode", "encrypt", "hash", "sign", "verify", "schedule", "trigger", "notify", "subscribe",
    "publish", "share", "invite", "join", "leave", "ban", "mute", "rank", "score", "payment",
    "invoice", "price", "plan", "subscription", "license", "team", "company",
];

/// [`ENGLISH`] without repeats, in order.
fn english() -> Vec<String> {
    let mut seen = HashSet::new();
    ENGLISH
        .iter()
        .filter(|w| seen.insert(**w))
        .map(|w| w.to_string())
        .collect()
}

/// Stopword-heavy openings of chat questions.
const OPENINGS: &[&str] = &[
    "how do i",
    "how can i",
    "what is the",
    "why does my",
    "is it possible to",
    "what's the best way to",
    "can i",
    "where do i",
    "how to",
    "should i",
    "why is my",
    "what happens when i",
    "is there a way to",
    "how would you",
];

/// Short connectors between content words.
const JOINS: &[&str] = &[
    "with", "in", "for", "and", "on", "from", "to", "using", "without",
];

/// Words around a chat question that carry no topic.
const CHATTER: &[&str] = &[
    "hey",
    "hi all",
    "quick question:",
    "sorry if this is dumb but",
    "help!",
    "pls",
    "thanks in advance",
    "anyone?",
    "lol",
    "@bot",
];

/// Off-topic questions' words: none of them is in the generated vocabulary.
#[rustfmt::skip]
const OFF_TOPIC: &[&str] = &[
    "weather", "pizza", "movie", "football", "recipe", "vacation", "guitar", "birthday",
    "restaurant", "paris", "tokyo", "cat", "dog", "coffee", "sunset", "beach", "novel", "painting",
    "concert", "marathon", "garden", "wedding", "homework", "lunch", "dinner", "song", "album",
    "soccer", "tennis", "chess", "mountain", "river", "holiday", "shopping", "fashion", "haircut",
    "doctor", "dentist", "salad", "chocolate", "banana", "elephant",
];

/// Aspect names of comparisons (each id is used by at most 25 comparisons).
const ASPECTS: &[&str] = &[
    "performance",
    "learning-curve",
    "community",
    "use-cases",
    "pricing",
    "scaling",
    "tooling",
    "security",
    "ecosystem",
    "stability",
    "setup",
    "docs",
    "testing",
    "async",
    "hosting",
    "flexibility",
    "complexity",
    "licensing",
    "support",
    "migration",
];

/// What a generated question is, and so what the bot should do with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An entry's question or alternate, verbatim.
    Exact,
    /// An entry's core words rephrased, with chatter and one or two typos.
    Paraphrase,
    /// Nothing the knowledge is about.
    OffTopic,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 3] = [Kind::Exact, Kind::Paraphrase, Kind::OffTopic];

    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Exact => "exact",
            Kind::Paraphrase => "paraphrase+typos",
            Kind::OffTopic => "off-topic",
        }
    }
}

/// How the generated pack is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// As the knowledge README advises: keywords are an entry's own distinctive words.
    Careful,
    /// Beyond its core words, an entry's keywords are common words ("error", "install",
    /// "user") that many other entries' questions also use: the pack a hurried owner writes.
    Careless,
}

/// One question of the mix, with the entry it was made from (none for off-topic).
#[derive(Debug, Clone)]
pub struct Question {
    /// What kind of question it is.
    pub kind: Kind,
    /// The question text.
    pub text: String,
    /// The index of the entry it was made from.
    pub entry: Option<usize>,
}

/// What the questions need to remember about an entry.
#[derive(Debug, Clone)]
struct Seed {
    id: String,
    phrasings: Vec<String>,
    core: Vec<String>,
}

/// A synthetic knowledge base: TOML sources as `Knowledge::from_sources` takes them.
#[derive(Debug, Clone)]
pub struct Pack {
    /// `(path, TOML text)`, about a thousand entries per file.
    pub sources: Vec<(PathBuf, String)>,
    /// Number of entries.
    pub entries: usize,
    /// Number of distinct vocabulary words available to the generator.
    pub vocabulary: usize,
    seeds: Vec<Seed>,
    synonyms: Vec<(String, String)>,
    seed: u64,
}

struct Words {
    all: Vec<String>,
    /// Zipf over all words: filler and prose.
    common: Zipf,
    /// Flatter Zipf over the made-up words only: an entry's distinctive words.
    rare: Zipf,
    made_up: usize,
}

impl Words {
    fn new(rng: &mut Rng, made_up: usize) -> Words {
        let mut seen: HashSet<String> = OFF_TOPIC.iter().map(|w| w.to_string()).collect();
        let mut all: Vec<String> = english();
        seen.extend(all.iter().cloned());
        let english = all.len();
        while all.len() < english + made_up {
            let w = made_up_word(rng, b"bcdfgklmnprstvz", b"aeiou");
            if seen.insert(w.clone()) {
                all.push(w);
            }
        }
        Words {
            common: Zipf::new(all.len(), 1.0),
            rare: Zipf::new(made_up, 0.6),
            made_up,
            all,
        }
    }

    fn common(&self, rng: &mut Rng) -> &str {
        &self.all[self.common.sample(rng)]
    }

    fn rare(&self, rng: &mut Rng) -> &str {
        let english = self.all.len() - self.made_up;
        &self.all[english + self.rare.sample(rng)]
    }
}

/// A pronounceable made-up word of 2 to 4 syllables, e.g. "kromadel".
fn made_up_word(rng: &mut Rng, consonants: &[u8], vowels: &[u8]) -> String {
    let syllables = rng.range(2, 4);
    let mut w = String::new();
    for _ in 0..syllables {
        w.push(*rng.pick(consonants) as char);
        w.push(*rng.pick(vowels) as char);
        if rng.chance(0.3) {
            w.push(*rng.pick(consonants) as char);
        }
    }
    w
}

fn capitalized(w: &str) -> String {
    let mut c = w.chars();
    c.next()
        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
        .unwrap_or_default()
}

/// Prose of `lo..=hi` characters made of Zipf words, with some Discord markdown.
fn prose(rng: &mut Rng, words: &Words, lo: usize, hi: usize) -> String {
    let target = rng.range(lo, hi);
    let mut out = String::with_capacity(target + 16);
    let mut sentence = 0;
    while out.len() < target {
        if sentence == 0 {
            if !out.is_empty() {
                out.push_str(". ");
            }
            out.push_str(&capitalized(words.common(rng)));
            sentence = rng.range(6, 16);
        } else {
            out.push(' ');
            let w = words.common(rng);
            if rng.chance(0.04) {
                let _ = write!(out, "`{w}`");
            } else if rng.chance(0.03) {
                let _ = write!(out, "**{w}**");
            } else {
                out.push_str(w);
            }
        }
        sentence -= 1;
    }
    out.truncate(target.min(out.len()));
    while out.ends_with(['`', '*', ' ']) || !out.is_char_boundary(out.len()) {
        out.pop();
    }
    out.push('.');
    out
}

/// A question of `lo..=hi` words about `core`, opening with a stopword phrase.
fn phrasing(rng: &mut Rng, words: &Words, core: &[String], lo: usize, hi: usize) -> String {
    let target = rng.range(lo, hi);
    let opening = *rng.pick(OPENINGS);
    let mut parts: Vec<String> = opening.split(' ').map(str::to_string).collect();
    let mut content: Vec<String> = core.to_vec();
    // Keep 2 or more core words, in a shuffled order.
    while content.len() > 2 && rng.chance(0.3) {
        let i = rng.range(0, content.len() - 1);
        content.remove(i);
    }
    for i in (1..content.len()).rev() {
        let j = rng.range(0, i);
        content.swap(i, j);
    }
    let mut c = content.into_iter();
    while parts.len() < target {
        match c.next() {
            Some(w) => parts.push(w),
            None if rng.chance(0.3) => parts.push(rng.pick(JOINS).to_string()),
            None => parts.push(words.common(rng).to_string()),
        }
    }
    parts.extend(c);
    let mut s = parts.join(" ");
    s.push('?');
    s
}

/// Appends a TOML array of basic strings (the generated text needs no escapes).
fn toml_list(out: &mut String, key: &str, items: &[String]) {
    let _ = write!(out, "{key} = [");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "\"{item}\"");
    }
    out.push_str("]\n");
}

impl Pack {
    /// A pack of `entries` entries written as the README advises, the same for the same
    /// `seed`.
    pub fn generate(entries: usize, seed: u64) -> Pack {
        Pack::generate_in(Style::Careful, entries, seed)
    }

    /// A pack of `entries` entries written in `style`, the same for the same `seed`.
    pub fn generate_in(style: Style, entries: usize, seed: u64) -> Pack {
        let mut rng = Rng::new(seed);
        let made_up = (entries / 2).clamp(3_000, 40_000);
        let words = Words::new(&mut rng, made_up);
        let mut sources = Vec::new();
        let mut seeds = Vec::with_capacity(entries);
        let mut text = String::new();
        // Synonyms: slang people type -> a word the pack uses.
        let mut synonyms = Vec::new();
        let mut slang_seen: HashSet<String> = words.all.iter().cloned().collect();
        while synonyms.len() < 30 {
            let slang = made_up_word(&mut rng, b"hjwxy", b"aeiouy");
            if slang_seen.insert(slang.clone()) {
                synonyms.push((slang, words.rare(&mut rng).to_string()));
            }
        }
        text.push_str("[synonyms]\n");
        for (from, to) in &synonyms {
            let _ = writeln!(text, "{from} = \"{to}\"");
        }
        let mut aspect_uses = vec![0usize; ASPECTS.len()];
        for n in 0..entries {
            let core: Vec<String> = (0..rng.range(2, 4))
                .map(|_| words.rare(&mut rng).to_string())
                .collect();
            let comparison = rng.chance(0.05);
            let id = format!("e{n}-{}", core[0]);
            let _ = write!(text, "\n[[entry]]\nid = \"{id}\"\n");
            let mut phrasings = Vec::new();
            let subjects: Vec<String> = if comparison {
                (0..rng.range(2, 3))
                    .map(|_| capitalized(words.rare(&mut rng)))
                    .collect::<HashSet<_>>()
                    .into_iter()
                    .collect()
            } else {
                Vec::new()
            };
            let mut subjects = subjects;
            subjects.sort();
            let comparison = subjects.len() >= 2;
            if comparison {
                let (a, b) = (&subjects[0], &subjects[1]);
                phrasings.push(format!("Should I use {a} or {b} for {}?", core.join(" ")));
                for _ in 0..rng.range(3, 8) {
                    let p = match rng.range(0, 3) {
                        0 => format!("{a} vs {b}?"),
                        1 => format!("{b} or {a} for {}", core[0]),
                        2 => format!("is {a} better than {b}"),
                        _ => phrasing(&mut rng, &words, &core, 6, 14),
                    };
                    phrasings.push(p);
                }
            } else {
                for _ in 0..=rng.range(3, 8) {
                    phrasings.push(phrasing(&mut rng, &words, &core, 6, 14));
                }
            }
            let _ = writeln!(text, "question = \"{}\"", phrasings[0]);
            toml_list(&mut text, "alternates", &phrasings[1..]);
            let keywords: Vec<String> = (0..rng.range(3, 10))
                .map(|i| {
                    if i < core.len() {
                        core[i].clone()
                    } else if style == Style::Careless {
                        words.all[rng.range(0, 60)].clone()
                    } else if rng.chance(0.3) {
                        format!("{} {}", words.rare(&mut rng), words.common(&mut rng))
                    } else {
                        words.rare(&mut rng).to_string()
                    }
                })
                .collect();
            toml_list(&mut text, "keywords", &keywords);
            let _ = writeln!(
                text,
                "answer = '''**{}**: {}'''",
                core.join(" "),
                prose(&mut rng, &words, 300, 1_200)
            );
            if comparison {
                toml_list(&mut text, "subjects", &subjects);
                if rng.chance(0.5) {
                    let _ = writeln!(text, "verdict = '''{}'''", prose(&mut rng, &words, 80, 300));
                }
                let mut used = HashSet::new();
                for _ in 0..rng.range(2, 5) {
                    let a = rng.range(0, ASPECTS.len() - 1);
                    if !used.insert(a) {
                        continue;
                    }
                    // Discord allows 25 comparisons per aspect command: number the ids beyond.
                    let round = aspect_uses[a] / 25;
                    aspect_uses[a] += 1;
                    let id = if round == 0 {
                        ASPECTS[a].to_string()
                    } else {
                        format!("{}-{round}", ASPECTS[a])
                    };
                    let _ = write!(
                        text,
                        "\n[[entry.aspect]]\nid = \"{id}\"\ntitle = \"{}\"\n",
                        capitalized(&ASPECTS[a].replace('-', " "))
                    );
                    if rng.chance(0.6) {
                        let summary: Vec<&str> = (0..rng.range(4, 9))
                            .map(|_| words.common(&mut rng))
                            .collect();
                        let _ = writeln!(text, "summary = \"{}\"", summary.join(" "));
                    }
                    let kw: Vec<String> = (0..rng.range(3, 7))
                        .map(|_| words.rare(&mut rng).to_string())
                        .collect();
                    toml_list(&mut text, "keywords", &kw);
                    for s in &subjects {
                        let _ = writeln!(
                            text,
                            "text.{s} = '''{}'''",
                            prose(&mut rng, &words, 150, 600)
                        );
                    }
                }
            }
            seeds.push(Seed {
                id,
                phrasings,
                core,
            });
            if (n + 1) % PER_FILE == 0 || n + 1 == entries {
                let path = PathBuf::from(format!("synth/part-{:04}.toml", n / PER_FILE));
                sources.push((path, std::mem::take(&mut text)));
            }
        }
        Pack {
            sources,
            entries,
            vocabulary: words.all.len(),
            seeds,
            synonyms,
            seed,
        }
    }

    /// The id of entry number `entry`.
    pub fn id(&self, entry: usize) -> &str {
        &self.seeds[entry].id
    }

    /// Total size of the TOML text.
    pub fn bytes(&self) -> usize {
        self.sources.iter().map(|(_, t)| t.len()).sum()
    }

    /// A fixed mix of `count` questions: 40% exact, 40% paraphrased with typos, 20% off-topic,
    /// interleaved. The same for the same pack and count.
    pub fn questions(&self, count: usize) -> Vec<Question> {
        let mut rng = Rng::new(self.seed.wrapping_add(0x5EED));
        let filler = Words {
            all: english(),
            common: Zipf::new(english().len(), 1.0),
            rare: Zipf::new(1, 1.0),
            made_up: 0,
        };
        (0..count)
            .map(|i| match i % 5 {
                0 | 2 => {
                    let entry = rng.range(0, self.seeds.len() - 1);
                    let text = rng.pick(&self.seeds[entry].phrasings).clone();
                    Question {
                        kind: Kind::Exact,
                        text,
                        entry: Some(entry),
                    }
                }
                1 | 3 => {
                    let entry = rng.range(0, self.seeds.len() - 1);
                    let text = self.paraphrase(&mut rng, &filler, entry);
                    Question {
                        kind: Kind::Paraphrase,
                        text,
                        entry: Some(entry),
                    }
                }
                _ => Question {
                    kind: Kind::OffTopic,
                    text: off_topic(&mut rng),
                    entry: None,
                },
            })
            .collect()
    }

    fn paraphrase(&self, rng: &mut Rng, filler: &Words, entry: usize) -> String {
        let mut core = self.seeds[entry].core.clone();
        // Sometimes the asker uses slang that a synonym maps to a core word.
        if let Some((slang, _)) = self.synonyms.iter().find(|(_, to)| core.contains(to)) {
            if rng.chance(0.5) {
                let to = &self.synonyms.iter().find(|(s, _)| s == slang).unwrap().1;
                if let Some(slot) = core.iter_mut().find(|w| *w == to) {
                    *slot = slang.clone();
                }
            }
        }
        let mut q = phrasing(rng, filler, &core, 5, 12);
        // One or two typos in words long enough to be corrected.
        for _ in 0..rng.range(1, 2) {
            let mut ws: Vec<String> = q.split(' ').map(str::to_string).collect();
            let long: Vec<usize> = (0..ws.len())
                .filter(|&i| ws[i].len() >= 6 && ws[i].bytes().all(|b| b.is_ascii_lowercase()))
                .collect();
            if long.is_empty() {
                break;
            }
            let i = *rng.pick(&long);
            ws[i] = typo(rng, &ws[i]);
            q = ws.join(" ");
        }
        if rng.chance(0.3) {
            q = format!("{} {q}", rng.pick(CHATTER));
        }
        if rng.chance(0.2) {
            q = format!("{q} {}", rng.pick(CHATTER));
        }
        if rng.chance(0.1) {
            q = q.to_uppercase();
        }
        q
    }
}

/// `word` with one random edit: a deletion, a swap of neighbours, a substitution or an
/// insertion (never at the first letter).
fn typo(rng: &mut Rng, word: &str) -> String {
    let mut b: Vec<u8> = word.bytes().collect();
    let i = rng.range(1, b.len() - 2);
    match rng.range(0, 3) {
        0 => {
            b.remove(i);
        }
        1 => b.swap(i, i + 1),
        2 => b[i] = b'a' + rng.range(0, 25) as u8,
        _ => b.insert(i, b'a' + rng.range(0, 25) as u8),
    }
    String::from_utf8(b).unwrap_or_else(|_| word.to_string())
}

/// A question about nothing the pack knows: everyday words, another technology, or a
/// made-up word (which a typo correction may still catch).
fn off_topic(rng: &mut Rng) -> String {
    match rng.range(0, 3) {
        0 => format!(
            "{} what's a good {} near {}?",
            rng.pick(CHATTER),
            rng.pick(OFF_TOPIC),
            rng.pick(OFF_TOPIC)
        ),
        1 => format!(
            "{} or {}, which is better",
            rng.pick(OFF_TOPIC),
            rng.pick(OFF_TOPIC)
        ),
        2 => format!(
            "anyone know about {} and {}",
            made_up_word(rng, b"qxjw", b"aeiouy"),
            rng.pick(OFF_TOPIC)
        ),
        _ => format!(
            "how was your {} today lol, mine had {} and {}",
            rng.pick(OFF_TOPIC),
            rng.pick(OFF_TOPIC),
            rng.pick(OFF_TOPIC)
        ),
    }
}
