//! Pack lint: advice `qabot check` gives about a valid pack, beside the hard errors
//! `knowledge::parse` refuses: too few alternates, answers too long, phrasings no question can
//! match by their words, keywords that pull in another entry's questions, and answers that
//! repeat what qabot adds around them. `check --strict` makes them errors. Pure: no model,
//! no I/O.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;

use crate::knowledge::{Entry, Knowledge};
use crate::reply::{ANOTHER_ASPECT, MORE_ON_ONE_ASPECT, VERDICT};
use crate::text::Analyzer;

/// Fewer alternates than this earns a warning; knowledge/README.md says "Aim for 6-15".
pub const MIN_ALTERNATES: usize = 6;
/// An answer longer than this many characters earns a warning; knowledge/README.md says
/// "roughly 400-1,200 characters".
pub const MAX_ANSWER_CHARS: usize = 1200;

/// An answer's first line sharing at least this share of its searchable words with the
/// entry's title (shared over all, both ways) restates the title qabot shows above it.
const SAME_AS_TITLE: f32 = 0.75;

/// What a warning is about, so tests and tools need not read the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advice {
    /// Fewer than [`MIN_ALTERNATES`] alternates.
    FewAlternates,
    /// An answer longer than [`MAX_ANSWER_CHARS`].
    LongAnswer,
    /// A question or alternate with no word matching searches for.
    NothingSearchable,
    /// A keyword that is another entry's core term.
    AnotherEntrysTerm,
    /// An answer, verdict or aspect text repeating what qabot adds around it.
    RepeatsFraming,
}

/// One piece of advice, pointing at where the entry is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file.
    pub path: PathBuf,
    /// 1-based line of the entry.
    pub line: usize,
    /// The entry's id.
    pub entry: String,
    /// What kind of advice.
    pub advice: Advice,
    /// What is wrong, and how to fix it.
    pub message: String,
}

impl fmt::Display for Warning {
    /// `path:line:` first, so editors can jump to it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "warning: {}:{}: entry {:?}: {}",
            self.path.display(),
            self.line,
            self.entry,
            self.message
        )
    }
}

/// Every warning for `knowledge`, in entry order.
pub fn lint(knowledge: &Knowledge) -> Vec<Warning> {
    let analyzer = crate::index::analyzer(knowledge);
    let cores = Cores::new(knowledge, &analyzer);
    let mut out = Vec::new();
    for (n, entry) in knowledge.entries.iter().enumerate() {
        let mut advice = Vec::new();
        size(entry, &mut advice);
        searchable(entry, &analyzer, &mut advice);
        keywords(knowledge, n, &cores, &analyzer, &mut advice);
        framing(entry, &analyzer, &mut advice);
        out.extend(advice.into_iter().map(|(advice, message)| Warning {
            path: entry.origin.path.to_path_buf(),
            line: entry.origin.line,
            entry: entry.id.clone(),
            advice,
            message,
        }));
    }
    out
}

type Advices = Vec<(Advice, String)>;

fn size(entry: &Entry, out: &mut Advices) {
    if entry.alternates.len() < MIN_ALTERNATES {
        out.push((
            Advice::FewAlternates,
            format!(
                "{} alternates; knowledge/README.md recommends at least {MIN_ALTERNATES} varied phrasings (short and long, \"how do I ...\", the words your members use)",
                entry.alternates.len()
            ),
        ));
    }
    let chars = entry.answer.chars().count();
    if chars > MAX_ANSWER_CHARS {
        out.push((
            Advice::LongAnswer,
            format!(
                "the answer is {chars} characters; knowledge/README.md recommends at most {MAX_ANSWER_CHARS}: shorten it or split it into entries"
            ),
        ));
    }
}

/// A phrasing made only of words matching ignores ("What is it?") can never be matched by
/// its words: the owner meant it to say something.
fn searchable(entry: &Entry, analyzer: &Analyzer, out: &mut Advices) {
    let phrasings = std::iter::once(("the question", entry.question.as_str()))
        .chain(entry.alternates.iter().map(|a| ("alternate", a)));
    for (what, text) in phrasings {
        let analysis = analyzer.analyze(text);
        if !analysis.terms.is_empty() {
            continue;
        }
        let ignored = if analysis.ignored.is_empty() {
            String::from("it has no words outside code, quotes and links")
        } else {
            let quoted: Vec<String> = analysis.ignored.iter().map(|w| format!("{w:?}")).collect();
            format!("qabot ignores {}", quoted.join(", "))
        };
        out.push((
            Advice::NothingSearchable,
            format!(
                "{what} {text:?} leaves no word to search for ({ignored}), so no question matches it by its words; say what it is about (a name, a command, the problem) or remove it"
            ),
        ));
    }
}

/// What each entry's question, subjects and id say (the words a question about it names),
/// and which of those words only it says: its core terms.
struct Cores {
    /// Per entry, the terms of its question, subjects and id.
    named: Vec<HashSet<String>>,
    /// Core term -> the one entry naming it.
    owner: HashMap<String, usize>,
}

impl Cores {
    fn new(knowledge: &Knowledge, analyzer: &Analyzer) -> Cores {
        let named: Vec<HashSet<String>> = knowledge
            .entries
            .iter()
            .map(|e| {
                let id = e.id.replace('-', " ");
                let texts = [e.question.as_str(), id.as_str()]
                    .into_iter()
                    .chain(e.subjects.iter());
                texts.flat_map(|t| stems(analyzer, t)).collect()
            })
            .collect();
        // A word several entries name ("server" in a server's FAQ) is the pack's shared
        // vocabulary: no one entry is about it.
        let mut namers: HashMap<&String, Vec<usize>> = HashMap::new();
        for (n, terms) in named.iter().enumerate() {
            for term in terms {
                namers.entry(term).or_default().push(n);
            }
        }
        let owner = namers
            .into_iter()
            .filter_map(|(term, entries)| match entries[..] {
                [only] => Some((term.clone(), only)),
                _ => None,
            })
            .collect();
        Cores { named, owner }
    }
}

fn stems(analyzer: &Analyzer, text: &str) -> Vec<String> {
    analyzer.terms(text).into_iter().map(|t| t.stem).collect()
}

/// A keyword made only of another entry's core terms, none of them named by this entry:
/// a question about that entry says the keyword, and is pulled to this one. A keyword that
/// also says something of this entry's own ("restart loop", "flask install") is its own.
fn keywords(
    knowledge: &Knowledge,
    n: usize,
    cores: &Cores,
    analyzer: &Analyzer,
    out: &mut Advices,
) {
    for keyword in knowledge.entries[n].keywords.iter() {
        let terms = stems(analyzer, keyword);
        let Some(&m) = terms.first().and_then(|t| cores.owner.get(t)) else {
            continue;
        };
        let pulled = m != n
            && terms
                .iter()
                .all(|t| cores.owner.get(t) == Some(&m) && !cores.named[n].contains(t));
        if !pulled {
            continue;
        }
        let other = &knowledge.entries[m];
        out.push((
            Advice::AnotherEntrysTerm,
            format!(
                "keyword {keyword:?} is what entry {:?} is about (its question {:?}, {}:{}), so questions about it can be pulled to this entry; remove the keyword, or make it a phrase only this entry's askers use",
                other.id,
                other.question,
                other.origin.path.display(),
                other.origin.line
            ),
        ));
    }
}

/// What qabot writes around an answer, written again by the owner (see `reply`): a title
/// line restating the question, a "Verdict" heading, an offer of the aspects, a list of them.
fn framing(entry: &Entry, analyzer: &Analyzer, out: &mut Advices) {
    let title = entry.title();
    if let Some(lead) = title_line(&entry.answer) {
        let lead_terms = stems(analyzer, lead);
        let same = [entry.question.as_str(), title.as_str()]
            .iter()
            .any(|t| overlap(&lead_terms, &stems(analyzer, t)) >= SAME_AS_TITLE);
        if same {
            out.push((
                Advice::RepeatsFraming,
                format!(
                    "the answer starts with {lead:?}, but qabot already shows {title:?} in bold above every answer; start with the answer itself"
                ),
            ));
        }
    }
    if !entry.is_comparison() {
        return;
    }
    let verdict = entry.verdict.as_deref().unwrap_or("");
    if verdict_heading(verdict.lines().next().unwrap_or("")) {
        out.push((
            Advice::RepeatsFraming,
            format!("the verdict starts with \"{VERDICT}\", but qabot already shows it under a **{VERDICT}** heading; start with the verdict itself"),
        ));
    }
    if let Some(line) = entry.answer.lines().find(|l| verdict_heading(l)) {
        out.push((
            Advice::RepeatsFraming,
            format!("the answer has a verdict line {:?}; qabot shows the comparison's `verdict` under its own **{VERDICT}** heading after the aspects: move it there", line.trim()),
        ));
    }
    let offer = entry
        .answer
        .lines()
        .chain(verdict.lines())
        .chain(
            entry
                .aspects
                .iter()
                .flat_map(|a| a.texts.iter())
                .flat_map(str::lines),
        )
        .find(|l| offers_aspects(entry, l));
    if let Some(line) = offer {
        let commands: Vec<String> = entry.aspects.iter().map(|a| format!("/{}", a.id)).collect();
        out.push((
            Advice::RepeatsFraming,
            format!(
                "{:?} offers the aspects, but qabot already ends the comparison with \"{MORE_ON_ONE_ASPECT} {}\" (and each aspect with \"/id · {ANOTHER_ASPECT}\"); remove the line",
                line.trim(),
                commands.join(" ")
            ),
        ));
    }
    let listed = entry
        .answer
        .lines()
        .filter(|l| {
            let item = plain(l.trim_start_matches(|c: char| {
                c.is_whitespace() || c.is_ascii_digit() || matches!(c, '-' | '*' | '•' | '.' | ')')
            }));
            entry
                .aspects
                .iter()
                .any(|a| starts_with_folded(&item, &a.title))
        })
        .count();
    if listed >= 2 {
        out.push((
            Advice::RepeatsFraming,
            format!("the answer lists the aspects ({listed} lines start with an aspect's title), but qabot lists them itself under the answer, a line each with its summary; remove the list, or put what it says in each aspect's `summary`"),
        ));
    }
}

/// The answer's first line, or its leading bold label, when it reads as a title: a heading,
/// a line all in bold or italics, a line ending in "?" or ":", or `**label**` followed by
/// ":", "," or a dash. A plain first sentence ("**Django** is ...") is not a title.
fn title_line(answer: &str) -> Option<&str> {
    let line = answer.lines().map(str::trim).find(|l| !l.is_empty())?;
    if line.starts_with('#') || line.ends_with('?') || line.ends_with(':') {
        return Some(line);
    }
    for mark in ["**", "__", "*", "_"] {
        let Some(rest) = line.strip_prefix(mark) else {
            continue;
        };
        let Some(end) = rest.find(mark) else { continue };
        let after = rest[end + mark.len()..].trim_start();
        let label_ends = after.is_empty()
            || [":", ",", "-", "—", "–"]
                .iter()
                .any(|p| after.starts_with(p));
        return label_ends.then(|| &line[..mark.len() * 2 + end]);
    }
    None
}

/// The share of terms two phrasings share (intersection over union): 1 for the same words.
fn overlap(a: &[String], b: &[String]) -> f32 {
    let a: HashSet<&String> = a.iter().collect();
    let b: HashSet<&String> = b.iter().collect();
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f32 / union as f32
}

/// `text` without markdown's marks around words, for comparing with plain names.
fn plain(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '*' | '_' | '`' | '#' | '>' | '~'))
        .collect::<String>()
        .trim()
        .to_string()
}

fn starts_with_folded(text: &str, prefix: &str) -> bool {
    let words: Vec<String> = crate::text::words(text).collect();
    let prefix: Vec<String> = crate::text::words(prefix).collect();
    !prefix.is_empty() && words.starts_with(&prefix)
}

/// "Verdict", "**Verdict:** ...", "## Verdict": a line that is, or starts with, the heading
/// qabot puts above a comparison's verdict.
fn verdict_heading(line: &str) -> bool {
    let text = plain(line).to_lowercase();
    let Some(rest) = text.strip_prefix(&VERDICT.to_lowercase()) else {
        return false;
    };
    rest.is_empty() || rest.starts_with(':')
}

/// A line offering the comparison's aspects: qabot's own offer words, or two or more of its
/// aspect ids written as commands (`/id`) or code (`` `id` ``, or with spaces for hyphens).
fn offers_aspects(entry: &Entry, line: &str) -> bool {
    let folded: Vec<String> = crate::text::words(line).collect();
    let folded = folded.join(" ");
    let said = [
        "more on one aspect",
        "ask about one aspect",
        "ask about an aspect",
        "ask about another aspect",
    ]
    .iter()
    .any(|offer| folded.contains(offer));
    let named = entry
        .aspects
        .iter()
        .filter(|a| {
            let spaced = a.id.replace('-', " ");
            line.contains(&format!("/{}", a.id))
                || line.contains(&format!("`{}`", a.id))
                || line.contains(&format!("`{spaced}`"))
        })
        .count();
    said || (entry.aspects.len() >= 2 && named >= 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn advice(toml: &str) -> Vec<(Advice, String)> {
        let k = Knowledge::from_sources(&[("k/p.toml".into(), toml.to_string())])
            .unwrap_or_else(|e| panic!("{e}\n{toml}"));
        lint(&k)
            .into_iter()
            .map(|w| (w.advice, w.message))
            .collect()
    }

    /// An entry with enough alternates (numbered phrasings) and `extra` TOML lines.
    fn entry(id: &str, question: &str, answer: &str, extra: &str) -> String {
        let alts: Vec<String> = (0..MIN_ALTERNATES)
            .map(|i| format!("\"how to {id} thing {i}\""))
            .collect();
        format!(
            "[[entry]]\nid = \"{id}\"\nquestion = {question:?}\nalternates = [{}]\nanswer = {answer:?}\n{extra}\n",
            alts.join(", ")
        )
    }

    fn sized(alternates: usize, answer_len: usize) -> String {
        let alts: Vec<String> = (0..alternates)
            .map(|i| format!("\"how to deploy thing {i}\""))
            .collect();
        format!(
            "[[entry]]\nid = \"deploy\"\nquestion = \"How do I deploy?\"\nalternates = [{}]\nanswer = \"{}\"\n",
            alts.join(", "),
            "a".repeat(answer_len)
        )
    }

    /// A comparison with aspects `speed` and `cost`, and `answer`/`verdict`/`text` as given.
    fn comparison(answer: &str, verdict: &str, text: &str) -> String {
        let head = entry(
            "pg-vs-sqlite",
            "Postgres or SQLite?",
            answer,
            &format!("subjects = [\"Postgres\", \"SQLite\"]\nverdict = {verdict:?}"),
        );
        format!("{head}[[entry.aspect]]\nid = \"speed\"\ntitle = \"Speed\"\ntext.Postgres = {text:?}\ntext.SQLite = \"Fast.\"\n[[entry.aspect]]\nid = \"cost\"\ntitle = \"Cost\"\ntext.Postgres = \"A server.\"\ntext.SQLite = \"A file.\"\n")
    }

    #[test]
    fn each_kind_triggers_and_not() {
        use Advice::*;
        let plain = |answer: &str| entry("deploy", "How do I deploy the bot?", answer, "");
        let with_alternate = |alt: &str| {
            entry(
                "deploy",
                "How do I deploy the bot?",
                "Run it.",
                "keywords = []",
            )
            .replacen("alternates = [", &format!("alternates = [{alt:?}, "), 1)
        };
        let keyword = |kw: &str| {
            entry(
                "backup",
                "How do I back up the database?",
                "Copy it.",
                &format!("keywords = [{kw:?}]"),
            ) + &entry("restart", "When does the server restart?", "At 4.", "")
        };
        // (advice, pack, whether it is given)
        let cases: Vec<(Advice, String, bool)> = vec![
            (FewAlternates, sized(2, 100), true),
            (FewAlternates, sized(MIN_ALTERNATES, 100), false),
            (LongAnswer, sized(MIN_ALTERNATES, MAX_ANSWER_CHARS + 1), true),
            (LongAnswer, sized(MIN_ALTERNATES, MAX_ANSWER_CHARS), false),
            // Nothing but words matching ignores, or only code: nothing to search for.
            (NothingSearchable, with_alternate("What is it?"), true),
            (NothingSearchable, with_alternate("`git push --force`"), true),
            (NothingSearchable, entry("x", "How do you do?", "Fine.", ""), true),
            (NothingSearchable, with_alternate("What is it for deploying?"), false),
            // A one-word keyword or subject counts even where it is usually filler.
            (NothingSearchable, with_alternate("What else?"), true),
            (
                NothingSearchable,
                with_alternate("What else?").replace("keywords = []", "keywords = [\"else\"]"),
                false,
            ),
            // Another entry's core term, alone or beside this entry's own words.
            (AnotherEntrysTerm, keyword("restart"), true),
            (AnotherEntrysTerm, keyword("server restart"), true),
            // A phrase saying more than the other entry's words, or this entry's own word.
            (AnotherEntrysTerm, keyword("restart loop"), false),
            (AnotherEntrysTerm, keyword("database restart"), false),
            (AnotherEntrysTerm, keyword("database"), false),
            (AnotherEntrysTerm, keyword("snapshot"), false),
            // A word several entries name is the pack's vocabulary, nobody's core term.
            (
                AnotherEntrysTerm,
                keyword("server")
                    + &entry("rules", "What are the server rules?", "Be kind.", ""),
                false,
            ),
            // A title line restating the question, as a heading, a bold line or a label.
            (RepeatsFraming, plain("**How do I deploy the bot?**\nRun it."), true),
            (RepeatsFraming, plain("## Deploying the bot\n\nRun it."), true),
            (RepeatsFraming, plain("**Deploy the bot**: run it."), true),
            (RepeatsFraming, plain("**Deploy**: run `qabot run` on the bot's server."), false),
            (RepeatsFraming, plain("**The bot** deploys with one command."), false),
            (RepeatsFraming, plain("To deploy the bot, run it."), false),
            (RepeatsFraming, comparison("**Postgres vs SQLite**: a server or a file.", "It depends.", "Fast."), true),
            (RepeatsFraming, comparison("A server or a file.", "**Verdict:** it depends.", "Fast."), true),
            (RepeatsFraming, comparison("A server or a file.\n\nVerdict: it depends.", "x", "Fast."), true),
            (RepeatsFraming, comparison("A server or a file.\nAsk about `speed` or `cost` for details.", "x", "Fast."), true),
            (RepeatsFraming, comparison("A server or a file.", "x", "Fast.\n\nMore on one aspect: /cost"), true),
            (RepeatsFraming, comparison("A server or a file. See `speed` and `cost`.", "x", "Fast."), true),
            (RepeatsFraming, comparison("A server or a file.\n- **Speed**: both fast\n- **Cost**: both free", "x", "Fast."), true),
            (RepeatsFraming, comparison("A server or a file, and the verdict is yours.\n- **Speed** matters less than you think.", "It depends: speed rarely decides.", "Fast."), false),
        ];
        for (kind, toml, want) in &cases {
            let got = advice(toml);
            assert_eq!(
                got.iter().any(|(a, _)| a == kind),
                *want,
                "{kind:?} in {got:#?}\n{toml}"
            );
        }
    }

    #[test]
    fn messages_say_what_and_how_to_fix() {
        let pack = entry(
            "backup",
            "How do I back up the database?",
            "**Backing up the database**\nCopy it.",
            "keywords = [\"restart\"]",
        ) + &entry("restart", "When does the server restart?", "At 4.", "")
            .replace("\"how to restart thing 0\"", "\"What is it?\"");
        let messages: Vec<String> = advice(&pack).into_iter().map(|(_, m)| m).collect();
        assert_eq!(
            messages,
            [
                "keyword \"restart\" is what entry \"restart\" is about (its question \"When does the server restart?\", k/p.toml:7), so questions about it can be pulled to this entry; remove the keyword, or make it a phrase only this entry's askers use",
                "the answer starts with \"**Backing up the database**\", but qabot already shows \"How do I back up the database?\" in bold above every answer; start with the answer itself",
                "alternate \"What is it?\" leaves no word to search for (qabot ignores \"what\", \"is\", \"it\"), so no question matches it by its words; say what it is about (a name, a command, the problem) or remove it",
            ]
        );
    }

    #[test]
    fn the_documented_example_follows_the_documented_advice() {
        let readme = include_str!("../knowledge/README.md");
        let example = readme
            .split("## A complete example file")
            .nth(1)
            .and_then(|rest| rest.split("```toml\n").nth(1))
            .and_then(|block| block.split("\n```").next())
            .expect("knowledge/README.md has its example file");
        let got = advice(example);
        assert!(got.is_empty(), "{got:#?}");
    }

    #[test]
    fn the_docs_state_the_numbers_check_uses() {
        let pack = include_str!("../knowledge/README.md");
        let readme = include_str!("../README.md");
        for (doc, says) in [
            (
                pack,
                format!("Aim for {MIN_ALTERNATES}-15 varied phrasings"),
            ),
            (
                pack,
                format!("warns about an entry with fewer than {MIN_ALTERNATES}"),
            ),
            (
                pack,
                "roughly 400-1,200 characters; `qabot check` warns above 1,200".to_string(),
            ),
            (readme, format!("at least {MIN_ALTERNATES} alternates")),
            (readme, "at most 1,200 characters".to_string()),
        ] {
            assert!(doc.contains(&says), "the docs no longer say {says:?}");
        }
        assert_eq!(MAX_ANSWER_CHARS, 1200, "update the docs' \"1,200\" with it");
    }

    #[test]
    fn displays_path_line_and_entry_first() {
        let w = Warning {
            path: "k/a.toml".into(),
            line: 3,
            entry: "e".into(),
            advice: Advice::LongAnswer,
            message: "m".into(),
        };
        assert_eq!(w.to_string(), "warning: k/a.toml:3: entry \"e\": m");
    }
}
