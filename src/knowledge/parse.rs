//! The knowledge file format (TOML) and its checks.
//!
//! Lenient to read, strict to validate: every field a person can get wrong is kept with its
//! span so each problem names the file, line and column, and what to do about it. The format
//! is documented for authors in `knowledge/README.md`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::{Aspect, Entry, Knowledge, Origin, Texts};
use crate::problem::{Lines, Problem, Problems};

/// Command names qabot itself uses: an aspect may not take them.
pub const RESERVED_COMMANDS: &[&str] = &["ask", "topics", "help", "reload"];

/// Discord's limit on a slash command's description, which an aspect's title becomes.
const MAX_TITLE: usize = 100;
/// Discord's limit on a slash command's name, which an aspect's id becomes.
const MAX_COMMAND_NAME: usize = 32;

type S = Spanned<String>;

/// A file's content, as far as it could be read: each entry is read on its own, so one
/// entry's mistake does not hide the others'.
#[derive(Default)]
struct RawFile {
    synonyms: BTreeMap<S, S>,
    other_topics: Vec<S>,
    entry: Vec<Spanned<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: S,
    question: S,
    #[serde(default)]
    alternates: Vec<S>,
    #[serde(default)]
    keywords: Vec<S>,
    #[serde(default)]
    negatives: Vec<S>,
    answer: S,
    #[serde(default)]
    subjects: Vec<S>,
    #[serde(default)]
    aspect: Vec<Spanned<RawAspect>>,
    verdict: Option<S>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAspect {
    id: S,
    title: S,
    summary: Option<S>,
    #[serde(default)]
    keywords: Vec<S>,
    #[serde(default)]
    text: BTreeMap<S, S>,
}

/// True if `name` is a valid kebab-case id: lowercase ASCII letters and digits in words
/// joined by single hyphens. Slash-command names allow more, but ids also go in URLs, logs
/// and custom ids, where plain ASCII saves everyone trouble.
pub fn is_command_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_COMMAND_NAME
        && name.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Collects problems for one file.
struct Checker<'a> {
    path: &'a Path,
    /// The same path, shared by the origins of the file's entries.
    shared_path: Arc<Path>,
    /// Where lines start: an entry's line, or a problem's place, is a binary search, not a
    /// count from the start of the file (which made loading and reporting quadratic).
    lines: Lines<'a>,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    /// The 1-based line of byte offset `at`.
    fn line(&self, at: usize) -> usize {
        self.lines.line(at)
    }

    fn report(&mut self, at: &S, message: impl Into<String>) {
        let problem = self.lines.problem(self.path, at.span().start, message);
        self.problems.push(problem);
    }

    /// The trimmed text, or a problem if it is empty.
    fn text(&mut self, field: &str, value: &S) -> String {
        self.trimmed(field, value).to_string()
    }

    /// The trimmed text, borrowed, or a problem if it is empty.
    fn trimmed<'v>(&mut self, field: &str, value: &'v S) -> &'v str {
        let text = value.get_ref().trim();
        if text.is_empty() {
            self.report(
                value,
                format!("`{field}` is empty; write the text or remove the field"),
            );
        }
        text
    }

    fn texts(&mut self, field: &str, values: &[S]) -> Texts {
        values.iter().map(|v| self.trimmed(field, v)).collect()
    }

    fn id(&mut self, what: &str, id: &S) -> String {
        let value = id.get_ref();
        if !is_command_name(value) {
            self.report(
                id,
                format!(
                    "{what} id {value:?} is not valid: use 1 to {MAX_COMMAND_NAME} lowercase \
                     letters, digits and single hyphens, like \"learning-curve\" (see \
                     \"Ids\" in knowledge/README.md)"
                ),
            );
        }
        value.clone()
    }

    fn aspect(&mut self, raw: &Spanned<RawAspect>, subjects: &[S]) -> Aspect {
        let a = raw.get_ref();
        let id = self.id("aspect", &a.id);
        if RESERVED_COMMANDS.contains(&id.as_str()) {
            self.report(
                &a.id,
                format!("aspect id {id:?} is a command qabot already has; pick another id"),
            );
        }
        let title = self.text("title", &a.title);
        if title.chars().count() > MAX_TITLE {
            self.report(
                &a.title,
                format!("title is longer than {MAX_TITLE} characters (it becomes the command's description); shorten it"),
            );
        }
        let summary = a.summary.as_ref().map(|s| self.text("summary", s));
        let keywords = self.texts("keywords", &a.keywords);
        let mut texts: Vec<&str> = Vec::new();
        for subject in subjects {
            match a.text.get(subject.get_ref().as_str()) {
                Some(text) => texts.push(self.trimmed("text", text)),
                None => {
                    let line = self.line(raw.span().start);
                    self.problems.push(self.lines.problem(
                        self.path,
                        raw.span().start,
                        format!(
                            "aspect {id:?} has no text for subject {:?}; add `text.{} = \"…\"` to the aspect at line {line}",
                            subject.get_ref(),
                            toml_key(subject.get_ref())
                        ),
                    ));
                }
            }
        }
        for key in a.text.keys() {
            if !subjects.iter().any(|s| s.get_ref() == key.get_ref()) {
                let known: Vec<&str> = subjects.iter().map(|s| s.get_ref().as_str()).collect();
                self.report(
                    key,
                    format!(
                        "text for {:?}, which is not one of the entry's subjects {known:?}; fix the name or add it to `subjects`",
                        key.get_ref()
                    ),
                );
            }
        }
        Aspect {
            id,
            title,
            summary,
            keywords,
            texts: texts.iter().collect(),
        }
    }

    fn entry(&mut self, raw: &Spanned<RawEntry>) -> Entry {
        let e = raw.get_ref();
        let id = self.id("entry", &e.id);
        let subjects = self.texts("subjects", &e.subjects);
        if e.subjects.len() == 1 {
            self.report(&e.subjects[0], "a comparison needs at least two subjects");
        }
        if e.subjects.is_empty() {
            if let Some(first) = e.aspect.first() {
                self.report(&first.get_ref().id, "aspects need the entry to list its `subjects` (e.g. subjects = [\"Django\", \"Flask\"])");
            }
            if let Some(verdict) = &e.verdict {
                self.report(
                    verdict,
                    "`verdict` is only for comparisons (entries with `subjects`)",
                );
            }
        }
        let mut seen: HashMap<&str, &S> = HashMap::new();
        for aspect in &e.aspect {
            let aid = &aspect.get_ref().id;
            if let Some(first) = seen.insert(aid.get_ref(), aid) {
                let line = self.line(first.span().start);
                self.report(aid, format!("aspect id {:?} is used twice in this entry (first at line {line}); rename one", aid.get_ref()));
            }
        }
        let aspects = e
            .aspect
            .iter()
            .map(|a| {
                self.aspect(
                    a,
                    if e.subjects.len() > 1 {
                        &e.subjects
                    } else {
                        &[]
                    },
                )
            })
            .collect();
        Entry {
            id,
            question: self.text("question", &e.question),
            alternates: self.texts("alternates", &e.alternates),
            keywords: self.texts("keywords", &e.keywords),
            negatives: self.texts("negatives", &e.negatives),
            answer: self.text("answer", &e.answer),
            subjects,
            aspects,
            verdict: e.verdict.as_ref().map(|v| self.text("verdict", v).into()),
            origin: Origin {
                path: self.shared_path.clone(),
                line: self.line(raw.span().start),
            },
        }
    }
}

/// `Django` stays `Django`; `Ruby on Rails` becomes `"Ruby on Rails"`.
fn toml_key(key: &str) -> String {
    if key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

/// Where a value was first defined, for "already defined at" messages.
struct Seen {
    path: PathBuf,
    line: usize,
}

fn toml_problem(path: &Path, lines: &Lines, e: &toml::de::Error) -> Problem {
    lines.problem(
        path,
        e.span().map_or(0, |s| s.start),
        e.message().trim().replace('\n', " "),
    )
}

/// Reads the top level of a file, then each `[[entry]]` on its own.
fn read_file(path: &Path, source: &str, lines: &Lines, problems: &mut Vec<Problem>) -> RawFile {
    use toml::de::{DeTable, DeValue, Deserializer};
    let mut raw = RawFile::default();
    let root = match DeTable::parse(source) {
        Ok(root) => root.into_inner(),
        Err(e) => {
            problems.push(toml_problem(path, lines, &e));
            return raw;
        }
    };
    for (key, value) in root {
        let span = value.span();
        match (key.get_ref().as_ref(), value.into_inner()) {
            ("synonyms", DeValue::Table(table)) => {
                match BTreeMap::<S, S>::deserialize(Deserializer::from(Spanned::new(span, table))) {
                    Ok(synonyms) => raw.synonyms = synonyms,
                    Err(e) => problems.push(toml_problem(path, lines, &e)),
                }
            }
            ("other_topics", DeValue::Array(items)) => {
                // The deserializer reads tables: read the list as the table holding it.
                #[derive(Deserialize)]
                struct Holder {
                    other_topics: Vec<S>,
                }
                let mut table = DeTable::new();
                table.insert(key.clone(), Spanned::new(span.clone(), DeValue::Array(items)));
                match Holder::deserialize(Deserializer::from(Spanned::new(span, table))) {
                    Ok(holder) => raw.other_topics = holder.other_topics,
                    Err(e) => problems.push(toml_problem(path, lines, &e)),
                }
            }
            ("entry", DeValue::Array(items)) => {
                for item in items {
                    let span = item.span();
                    let DeValue::Table(table) = item.into_inner() else {
                        problems.push(lines.problem(path, span.start, "each entry must be a table: write it as [[entry]]"));
                        continue;
                    };
                    match RawEntry::deserialize(Deserializer::from(Spanned::new(span.clone(), table))) {
                        Ok(entry) => raw.entry.push(Spanned::new(span, entry)),
                        Err(e) => problems.push(toml_problem(path, lines, &e)),
                    }
                }
            }
            (name @ ("synonyms" | "entry" | "other_topics"), _) => problems.push(lines.problem(
                path,
                span.start,
                format!("`{name}` has the wrong shape: write [synonyms] as a table, other_topics as a list of words and entries as [[entry]]"),
            )),
            (other, _) => problems.push(lines.problem(
                path,
                key.span().start,
                format!("unknown top-level key `{other}`; a knowledge file holds [synonyms], other_topics and [[entry]] tables"),
            )),
        }
    }
    raw
}

/// Builds knowledge from `(path, text)` pairs, one at a time: a caller reading files can
/// hand them over as it reads them, so only one file's text is in memory at once.
pub(super) fn build<P, T>(sources: impl IntoIterator<Item = (P, T)>) -> Result<Knowledge, Problems>
where
    P: AsRef<Path>,
    T: AsRef<str>,
{
    merge(
        sources
            .into_iter()
            .map(|(path, source)| parse_file(path.as_ref(), source.as_ref())),
    )
}

/// One file read and checked on its own, with what needs the other files (unique ids and
/// synonyms, other topics named once) left for [`merge`]: files can be parsed in parallel
/// and still give the knowledge, and the problems in the order, of reading them one by one.
pub(super) struct FileParse {
    steps: Vec<Step>,
}

/// What a file says, in the order it says it, for [`merge`] to replay.
// Most steps are entries: boxing them would add an allocation per entry to save nothing.
#[allow(clippy::large_enum_variant)]
enum Step {
    /// A problem found within the file.
    Problem(Problem),
    /// A well-formed synonym; `at` locates it for an "already defined" problem.
    Synonym {
        key: String,
        value: String,
        at: Problem,
    },
    /// A well-formed other topic, folded, and where it is.
    OtherTopic {
        folded: String,
        path: PathBuf,
        line: usize,
    },
    /// An entry; `at` locates its id for an "already used" problem.
    Entry { entry: Entry, at: Problem },
}

/// Parses and checks one file, apart from what spans files.
pub(super) fn parse_file(path: &Path, source: &str) -> FileParse {
    let mut checker = Checker {
        path,
        shared_path: Arc::from(path),
        lines: Lines::new(source),
        problems: Vec::new(),
    };
    let mut read_problems = Vec::new();
    let raw = read_file(path, source, &checker.lines, &mut read_problems);
    let mut steps: Vec<Step> = read_problems.into_iter().map(Step::Problem).collect();
    let drain = |checker: &mut Checker, steps: &mut Vec<Step>| {
        steps.extend(checker.problems.drain(..).map(Step::Problem));
    };
    for (from, to) in &raw.synonyms {
        let key = from.get_ref().trim().to_lowercase();
        let value = checker.text("synonym", to);
        if !(1..=2).contains(&crate::text::words(&key).count()) {
            checker.report(
                from,
                format!(
                    "synonym {:?} must be one or two words (what people type)",
                    from.get_ref()
                ),
            );
        } else if matches!(
            crate::text::words(&key).collect::<Vec<_>>().as_slice(),
            [first, _] if crate::text::is_stopword(first)
        ) {
            checker.report(
                from,
                format!(
                    "two-word synonym {:?} starts with a word qabot ignores; start it with the word that matters",
                    from.get_ref()
                ),
            );
        } else {
            drain(&mut checker, &mut steps);
            let at = checker.lines.problem(path, from.span().start, "");
            steps.push(Step::Synonym { key, value, at });
        }
        drain(&mut checker, &mut steps);
    }
    for word in &raw.other_topics {
        let folded = word.get_ref().trim().to_lowercase();
        if crate::text::words(&folded).count() != 1 {
            checker.report(
                word,
                format!(
                    "other topic {:?} must be one word (a name people type, like \"react\")",
                    word.get_ref()
                ),
            );
            drain(&mut checker, &mut steps);
        } else {
            let line = checker.line(word.span().start);
            let path = path.to_path_buf();
            steps.push(Step::OtherTopic { folded, path, line });
        }
    }
    for raw_entry in &raw.entry {
        let entry = checker.entry(raw_entry);
        drain(&mut checker, &mut steps);
        let at = checker
            .lines
            .problem(path, raw_entry.get_ref().id.span().start, "");
        steps.push(Step::Entry { entry, at });
    }
    FileParse { steps }
}

/// Puts parsed files together in order, with the checks that span files: ids and synonyms
/// defined once, other topics listed once and never a comparison's subject.
pub(super) fn merge(files: impl IntoIterator<Item = FileParse>) -> Result<Knowledge, Problems> {
    let mut problems = Vec::new();
    let mut knowledge = Knowledge::default();
    let mut ids: HashMap<String, Seen> = HashMap::new();
    let mut synonym_seen: HashMap<String, Seen> = HashMap::new();
    let mut other_topic_spans: Vec<(String, PathBuf, usize)> = Vec::new();
    for file in files {
        for step in file.steps {
            match step {
                Step::Problem(p) => problems.push(p),
                Step::Synonym { key, value, at } => {
                    if let Some(first) = synonym_seen.get(&key) {
                        problems.push(Problem {
                            message: format!(
                                "synonym {key:?} is already defined at {}:{}; keep one",
                                first.path.display(),
                                first.line
                            ),
                            ..at
                        });
                        continue;
                    }
                    synonym_seen.insert(
                        key.clone(),
                        Seen {
                            path: at.path,
                            line: at.line,
                        },
                    );
                    knowledge.synonyms.insert(key, value);
                }
                Step::OtherTopic { folded, path, line } => {
                    if !knowledge.other_topics.contains(&folded) {
                        other_topic_spans.push((folded.clone(), path, line));
                        knowledge.other_topics.push(folded);
                    }
                }
                Step::Entry { entry, at } => {
                    if let Some(first) = ids.get(&entry.id) {
                        problems.push(Problem {
                            message: format!(
                                "entry id {:?} is already used at {}:{}; ids must be unique across all files",
                                entry.id,
                                first.path.display(),
                                first.line
                            ),
                            ..at
                        });
                    } else {
                        ids.insert(
                            entry.id.clone(),
                            Seen {
                                path: at.path,
                                line: entry.origin.line,
                            },
                        );
                    }
                    knowledge.entries.push(entry);
                }
            }
        }
    }
    check_shared_aspects(&knowledge, &mut problems);
    check_other_topics(&knowledge, &other_topic_spans, &mut problems);
    problems.sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
    if problems.is_empty() {
        // Loaded once and kept: give back what the vector grew into (a quarter, on average).
        knowledge.entries.shrink_to_fit();
        Ok(knowledge)
    } else {
        Err(Problems(problems))
    }
}

/// An other topic that is also a comparison's subject would turn away every question about it.
fn check_other_topics(
    knowledge: &Knowledge,
    spans: &[(String, PathBuf, usize)],
    problems: &mut Vec<Problem>,
) {
    for (word, path, line) in spans {
        let subject = knowledge.entries.iter().find(|e| {
            e.subjects
                .iter()
                .any(|s| crate::text::words(s).any(|w| w == *word))
        });
        if let Some(e) = subject {
            problems.push(Problem {
                path: path.clone(),
                line: *line,
                column: 1,
                message: format!(
                    "other topic {word:?} is a subject of {:?}; remove it from other_topics",
                    e.id
                ),
            });
        }
    }
}

/// An aspect id shared by several comparisons becomes one command with a `topic` option, so
/// its title must agree; and Discord allows at most 25 choices for that option.
fn check_shared_aspects(knowledge: &Knowledge, problems: &mut Vec<Problem>) {
    for (id, entries) in knowledge.aspect_commands() {
        if entries.len() > 25 {
            let e = entries[25];
            problems.push(Problem {
                path: e.origin.path.to_path_buf(),
                line: e.origin.line,
                column: 1,
                message: format!("aspect {id:?} is in more than 25 comparisons, more than one slash command's choices can hold; rename it in some"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[synonyms]
noob = "beginner"

[[entry]]
id = "django-vs-flask"
question = "Django or Flask?"
alternates = ["which is better, django or flask"]
subjects = ["Django", "Flask"]
answer = "Both are Python web frameworks."
verdict = "It depends."

[[entry.aspect]]
id = "learning-curve"
title = "Learning curve"
keywords = ["beginner", "learn"]
text.Django = "Steeper."
text.Flask = "Gentler."

[[entry]]
id = "what-is-django"
question = "What is Django?"
answer = "A web framework."
"#;

    fn load(text: &str) -> Result<Knowledge, Problems> {
        build([("k/a.toml", text)])
    }

    /// Problems as `line:column: message-fragment`, for table-driven checks.
    fn first_problem(text: &str) -> String {
        let err = load(text).expect_err("should not load");
        let p = &err.0[0];
        format!("{}:{}: {}", p.line, p.column, p.message)
    }

    #[test]
    fn good_file_loads() {
        let k = load(GOOD).unwrap();
        assert_eq!(k.entries.len(), 2);
        let e = &k.entries[0];
        assert_eq!(e.origin.line, 5);
        assert_eq!(e.aspects[0].texts, ["Steeper.", "Gentler."]);
        assert_eq!(k.synonyms["noob"], "beginner");
        let others = load(&format!(
            "other_topics = [\"React\", \" vue \", \"react\"]\n{GOOD}"
        ))
        .unwrap();
        assert_eq!(others.other_topics, ["react", "vue"]);
        let two = load(&GOOD.replace("noob = ", "\"total noob\" = ")).unwrap();
        assert_eq!(two.synonyms["total noob"], "beginner");
        assert_eq!(e.title(), "Django vs Flask");
        assert_eq!(k.entries[1].title(), "What is Django?");
    }

    #[test]
    fn a_comparison_may_have_no_aspects() {
        let text = "[[entry]]\nid = \"tabs-vs-spaces\"\nquestion = \"Tabs or spaces?\"\nsubjects = [\"Tabs\", \"Spaces\"]\nanswer = \"Spaces.\"\nverdict = \"Follow your formatter.\"\n";
        let k = load(text).unwrap_or_else(|e| panic!("{e}"));
        let e = &k.entries[0];
        assert!(e.is_comparison() && e.aspects.is_empty());
        assert_eq!(e.title(), "Tabs vs Spaces");
        assert!(k.aspect_commands().is_empty(), "no aspect, no command");
    }

    #[test]
    fn each_mistake_is_located_and_explained() {
        // (what to change in GOOD, expected "line:column: ..." prefix, fragment of the message)
        let cases: &[(&str, &str, &str, &str)] = &[
            ("question = \"What is Django?\"", "question = \"What is Django?\"\nqustion = \"typo\"", "23:1", "unknown field `qustion`"),
            ("id = \"what-is-django\"", "id = \"django-vs-flask\"", "21:6", "already used at k/a.toml:5"),
            ("answer = \"A web framework.\"", "answer = \"  \"", "23:10", "`answer` is empty"),
            ("text.Flask = \"Gentler.\"", "", "13:1", "no text for subject \"Flask\""),
            ("text.Flask = \"Gentler.\"", "text.Flask = \"x\"\ntext.Flsk = \"y\"", "19:6", "not one of the entry's subjects"),
            ("id = \"learning-curve\"", "id = \"Learning Curve\"", "14:6", "is not valid"),
            ("id = \"learning-curve\"", "id = \"a-very-long-aspect-id-that-is-too-long\"", "14:6", "1 to 32"),
            ("id = \"learning-curve\"", "id = \"ask\"", "14:6", "command qabot already has"),
            ("title = \"Learning curve\"", "title = \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"", "15:9", "longer than 100"),
            ("noob = \"beginner\"", "noob = \"beginner\"\nnoob = \"x\"", "4:1", "duplicate key"),
            ("noob = \"beginner\"", "two words = \"beginner\"", "3:5", ""),
            ("noob = \"beginner\"", "\"one two three\" = \"beginner\"", "3:1", "one or two words"),
            ("noob = \"beginner\"", "\"the noob\" = \"beginner\"", "3:1", "starts with a word qabot ignores"),
            ("[synonyms]", "other_topics = [\"react\", \"ruby on rails\"]\n[synonyms]", "2:26", "must be one word"),
            ("[synonyms]", "other_topics = \"react\"\n[synonyms]", "2:16", "wrong shape"),
            ("[synonyms]", "other_topics = [\"Flask\"]\n[synonyms]", "2:1", "subject of \"django-vs-flask\""),
            ("keywords = [\"beginner\", \"learn\"]", "keywords = \"beginner\"", "16:12", "invalid type"),
            ("subjects = [\"Django\", \"Flask\"]", "subjects = [\"Django\"]", "9:13", "at least two subjects"),
        ];
        for (from, to, at, fragment) in cases {
            assert!(GOOD.contains(from), "case {from:?} does not apply");
            let got = first_problem(&GOOD.replacen(from, to, 1));
            assert!(got.starts_with(at), "{to:?}: got {got}, want at {at}");
            assert!(
                got.contains(fragment),
                "{to:?}: got {got}, want {fragment:?}"
            );
        }
    }

    #[test]
    fn all_problems_are_reported_not_just_the_first() {
        let text = GOOD
            .replace("answer = \"A web framework.\"", "answer = \"\"")
            .replace("question = \"Django or Flask?\"", "question = \"\"");
        assert_eq!(load(&text).unwrap_err().0.len(), 2);
    }

    #[test]
    fn a_pasted_entry_gives_every_duplicate_located_and_prints_the_first_hundred() {
        let entry = "[[entry]]\nid = \"same\"\nquestion = \"q\"\nanswer = \"a\"\n";
        let sources = [(PathBuf::from("k/a.toml"), entry.repeat(5_000))];
        let err = build(sources).unwrap_err();
        assert_eq!(err.0.len(), 4_999);
        let last = &err.0[4_998];
        assert_eq!((last.line, last.column), (4_999 * 4 + 2, 6));
        let text = err.to_string();
        assert_eq!(text.lines().count(), crate::problem::SHOWN + 1);
        assert!(
            text.starts_with("k/a.toml:6:6: entry id \"same\" is already used at k/a.toml:1"),
            "{text}"
        );
        assert!(
            text.ends_with("... and 4899 more problems; fix these first"),
            "{text}"
        );
    }

    #[test]
    fn duplicate_ids_across_files_name_both_places() {
        let sources = [
            (PathBuf::from("k/a.toml"), GOOD.to_string()),
            (
                PathBuf::from("k/b.toml"),
                "[[entry]]\nid = \"what-is-django\"\nquestion = \"q\"\nanswer = \"a\"\n"
                    .to_string(),
            ),
        ];
        let err = build(sources).unwrap_err();
        assert_eq!(err.to_string(), "k/b.toml:2:6: entry id \"what-is-django\" is already used at k/a.toml:20; ids must be unique across all files");
    }

    #[test]
    fn hostile_files_fail_cleanly() {
        let deep = format!("x = {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let cases = [
            deep.as_str(),
            "\u{0}\u{1}",
            "[[entry]]\nid = 1",
            "= = =",
            &"[[entry]]\n".repeat(10_000),
        ];
        for text in cases {
            assert!(
                load(text).is_err(),
                "{:?} loaded",
                &text[..text.len().min(20)]
            );
        }
    }

    #[test]
    fn command_names() {
        for ok in ["ask", "use-cases", "a1", "x-2-y"] {
            assert!(is_command_name(ok), "{ok}");
        }
        for bad in [
            "",
            "Use-cases",
            "use_cases",
            "-a",
            "a-",
            "a--b",
            "é",
            &"a".repeat(33),
        ] {
            assert!(!is_command_name(bad), "{bad}");
        }
    }
}
