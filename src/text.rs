//! Text analysis: turns chat text and knowledge phrasings into comparable terms.
//!
//! Both sides of a match go through the same [`Analyzer`], so "Migrations?", "migrate" and
//! "MIGRATING" all become the term `migrat`. The pipeline is: drop what is not prose (code
//! blocks, quoted lines, mentions, custom emoji, links), fold case and accents, split into
//! words, drop stopwords, stem (Snowball English), then apply the pack's synonyms.
//!
//! Everything here is bounded: input beyond [`MAX_INPUT_CHARS`] is ignored and at most
//! [`MAX_TERMS`] distinct terms come out, whatever the message looks like.

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Only this many characters of a message are looked at. Discord messages are at most 4,000
/// characters, and a question that has not made its point by then will not make it later.
pub const MAX_INPUT_CHARS: usize = 4_000;

/// At most this many distinct terms are kept from one text: bounds matching time.
pub const MAX_TERMS: usize = 32;

/// At most this many ignored words are kept for aspect cues.
pub const MAX_IGNORED: usize = 32;

/// Words longer than this are not words (hashes, base64, keyboard mashing) and are skipped.
const MAX_WORD_CHARS: usize = 40;

/// Words that carry no topic: function words, question words, chat filler and comparison cues.
/// Comparison cues ("vs", "better", "difference") are here on purpose: they say *that* two
/// things are compared, and the subjects themselves say *which*; counting them would let
/// "angular vs react" look half like "django vs flask".
#[rustfmt::skip]
const STOPWORDS: &[&str] = &[
    "a", "about", "above", "actually", "after", "again", "against", "all", "also", "am", "an",
    "and", "any", "anybody", "anyone", "anything", "are", "aren", "as", "ask", "asking", "at",
    "be", "because", "been", "before", "being", "best", "better", "between", "bit", "both", "bro",
    "but", "by", "can", "cannot", "cant", "choose", "choosing", "compare", "compared",
    "comparison", "could", "couldn", "dear", "did", "didn", "difference", "differences",
    "different", "differ", "do", "does", "doesn", "doing", "don", "dont", "each", "eh", "else",
    "er", "even", "ever", "every", "everybody", "everyone", "explain", "few", "folks", "for",
    "from", "further", "get", "getting", "give", "go", "going", "gonna", "got", "guys", "had",
    "has", "have", "having", "he", "hello", "help", "her", "here", "hers", "hey", "hi", "him",
    "his", "hm", "hmm", "how", "however", "i", "id", "if", "im", "in", "into", "is", "isn", "it",
    "its", "ive", "just", "kind", "know", "let", "lets", "like", "lol", "look", "looking", "me",
    "mean", "might", "mine", "more", "most", "much", "must", "my", "myself", "need", "needs", "no",
    "nor", "not", "now", "of", "off", "oh", "ok", "okay", "on", "one", "only", "or", "other",
    "our", "ours", "out", "over", "own", "people", "please", "pls", "plz", "pick", "prefer",
    "pretty", "question", "questions", "rather", "really", "say", "says", "she", "should",
    "shouldn", "so", "some", "somebody", "someone", "something", "still", "such", "sure",
    "tell", "than", "thank", "thanks", "that", "thats", "the", "their", "them", "then", "there",
    "these", "they", "thing", "things", "think", "this", "those", "thx", "to", "too", "ty", "u",
    "uh", "um", "under", "until", "up", "ur", "use", "used", "using", "vs", "versus", "very",
    "wanna", "want", "wanted", "wants", "was", "way", "we", "well", "were", "what", "whats",
    "when", "where", "whether", "which", "while", "who", "whom", "why", "will", "with", "won",
    "wonder", "wondering", "would", "wouldn", "ya", "yeah", "yes", "yet", "you", "your", "yours",
    "yourself", "whose", "whos", "hows", "wheres", "theres", "goes", "via", "etc", "anyway",
    "anyways", "maybe", "probably", "basically", "good", "bad", "great", "nice", "cool", "exactly",
    "explain", "explained", "meaning", "simply", "overall", "generally", "thoughts", "opinion",
    "opinions", "recommend", "recommendation", "advice", "suggest", "suggestion", "idea", "ideas",
    "tutorial", "tutorials", "guide", "guides", "example", "examples", "work", "works", "working",
    "worked", "instead", "yo", "sup", "hiya", "heya", "lmao", "btw", "tbh", "imo", "imho",
    "idk", "ngl", "fr", "q", "cheers", "appreciate", "appreciated", "advance", "seem", "seems",
    "seemed", "hear", "heard", "right", "correct", "honestly", "kinda", "sorta", "guess",
    "stuff", "literally", "main", "major", "rn", "atm", "tbf", "feel", "feels", "felt",
    "everything", "anything", "new", "sorry", "dumb", "stupid", "silly", "keep", "keeps",
];

/// Two-word spellings of one word ("set up" / "setup", "log in" / "login"): joined before
/// anything else, so that both spellings, in questions and in the knowledge, are one term
/// (and "up" or "in", being stopwords, do not leave "set" or "log" meaning something else).
const COMPOUNDS: &[(&str, &str, &str)] = &[
    ("set", "up", "setup"),
    ("sign", "up", "signup"),
    ("sign", "in", "signin"),
    ("sign", "out", "signout"),
    ("log", "in", "login"),
    ("log", "out", "logout"),
    ("back", "end", "backend"),
    ("front", "end", "frontend"),
    ("data", "base", "database"),
    ("web", "site", "website"),
    ("user", "name", "username"),
    ("pass", "word", "password"),
    ("start", "up", "startup"),
    ("roll", "back", "rollback"),
    ("look", "up", "lookup"),
    ("pick", "up", "pickup"),
    ("work", "flow", "workflow"),
];

/// True for folded words that say nothing about the topic (see [`Analyzer::is_stopword`],
/// the fast way for many words).
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// Turns text into terms. Built once per knowledge base (it holds the pack's synonyms).
pub struct Analyzer {
    stemmer: Stemmer,
    stopwords: std::collections::HashSet<&'static str>,
    /// Stemmed word, or two stemmed words joined by a space -> stemmed replacement terms.
    synonyms: HashMap<String, Vec<String>>,
    /// The first stems of the two-word synonyms: only after one is the next word read.
    pair_heads: std::collections::HashSet<String>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("synonyms", &self.synonyms.len())
            .finish()
    }
}

impl Analyzer {
    /// An analyzer that rewrites words by `synonyms` (one or two words people type -> word(s)
    /// the knowledge uses). Keys and values go through the same folding and stemming as
    /// questions, so `noobs = "beginners"` and `noob = "beginner"` mean the same thing, and
    /// `"fast api" = "fastapi"` also reads "Fast-APIs". Longer keys are ignored.
    pub fn new<'a>(synonyms: impl IntoIterator<Item = (&'a str, &'a str)>) -> Analyzer {
        let mut analyzer = Analyzer {
            stemmer: Stemmer::create(Algorithm::English),
            stopwords: STOPWORDS.iter().copied().collect(),
            synonyms: HashMap::new(),
            pair_heads: std::collections::HashSet::new(),
        };
        let mut table = HashMap::new();
        for (from, to) in synonyms {
            let key: Vec<String> = words(from).map(|w| analyzer.stem(&w)).collect();
            if !(1..=2).contains(&key.len()) {
                continue;
            }
            let value: Vec<String> = words(to)
                .filter(|w| !analyzer.is_stopword(w))
                .map(|w| analyzer.stem(&w))
                .collect();
            if !value.is_empty() {
                if let [head, _] = key.as_slice() {
                    analyzer.pair_heads.insert(head.clone());
                }
                table.insert(key.join(" "), value);
            }
        }
        analyzer.synonyms = table;
        analyzer
    }

    /// The same analyzer, with each one-word phrase of `phrases` counting even where it is
    /// usually filler: a word an owner made a keyword or a subject on its own ("else",
    /// "when", "some") names something in their domain. In a longer phrase ("out of the
    /// box") such words are only glue, and stay ignored.
    pub fn keeping<'a>(mut self, phrases: impl IntoIterator<Item = &'a str>) -> Analyzer {
        for phrase in phrases {
            let mut all = words(phrase);
            // One letter ("'a", a lifetime) is too little to call a name.
            if let (Some(word), None) = (all.next(), all.next()) {
                if word.chars().nth(1).is_some() {
                    self.stopwords.remove(word.as_str());
                }
            }
        }
        self
    }

    /// True for words that say nothing about the topic.
    pub fn is_stopword(&self, word: &str) -> bool {
        self.stopwords.contains(word)
    }

    /// The stem of one folded word.
    pub fn stem(&self, word: &str) -> String {
        self.stemmer.stem(word).into_owned()
    }

    /// The terms of `text`: see [`Analysis::terms`].
    pub fn terms(&self, text: &str) -> Vec<Term> {
        self.analyze(text).terms
    }

    /// The terms of `text` and the words it ignored, in one pass.
    pub fn analyze(&self, text: &str) -> Analysis {
        let mut out: Vec<Term> = Vec::new();
        let mut ignored: Vec<String> = Vec::new();
        let prose = strip_noise(text);
        let mut words = words(&prose).peekable();
        while let Some(mut word) = words.next() {
            if let Some(next) = words.peek() {
                let compound = COMPOUNDS.iter().find(|(a, b, _)| *a == word && b == next);
                if let Some((_, _, joined)) = compound {
                    word = (*joined).to_string();
                    words.next();
                }
            }
            if self.is_stopword(&word) {
                if ignored.len() < MAX_IGNORED && !ignored.contains(&word) {
                    ignored.push(word);
                }
                continue;
            }
            let stem = self.stem(&word);
            let pair = match words.peek() {
                Some(next) if self.pair_heads.contains(&stem) => {
                    let key = format!("{stem} {}", self.stem(next));
                    self.synonyms.get(&key).map(|stems| (next.clone(), stems))
                }
                _ => None,
            };
            let (stems, synonym) = match pair {
                Some((next, stems)) => {
                    words.next();
                    word = format!("{word} {next}");
                    (stems.clone(), true)
                }
                None => match self.synonyms.get(&stem) {
                    Some(stems) => (stems.clone(), true),
                    None => (vec![stem], false),
                },
            };
            for stem in stems {
                if !out.iter().any(|t| t.stem == stem) {
                    out.push(Term {
                        stem,
                        word: word.clone(),
                        synonym,
                    });
                }
            }
            if out.len() >= MAX_TERMS {
                out.truncate(MAX_TERMS);
                break;
            }
        }
        Analysis {
            terms: out,
            ignored,
        }
    }
}

/// What [`Analyzer::analyze`] makes of a text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Analysis {
    /// The terms, in order of first appearance, without repeats, at most [`MAX_TERMS`].
    /// Each comes with the surface word it was made from (for explanations).
    pub terms: Vec<Term>,
    /// The distinct words it ignored (stopwords, folded), in order, at most
    /// [`MAX_IGNORED`]: what aspect cues ("when") are looked up in.
    pub ignored: Vec<String>,
}

/// One analysed term of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    /// The stemmed, synonym-resolved form that matching compares.
    pub stem: String,
    /// The folded word as written, for typo correction and explanations.
    pub word: String,
    /// True when a synonym rewrote the word.
    pub synonym: bool,
}

/// Splits text into lowercase, accent-free alphanumeric words. Apostrophes inside a word are
/// dropped ("what's" -> "whats"); every other non-alphanumeric character separates words.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    let mut chars = text
        .chars()
        .take(MAX_INPUT_CHARS)
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .peekable();
    std::iter::from_fn(move || loop {
        let mut word = String::new();
        let mut long = false;
        while let Some(&c) = chars.peek() {
            if c.is_alphanumeric() {
                if word.chars().count() < MAX_WORD_CHARS {
                    word.push(c);
                } else {
                    long = true;
                }
                chars.next();
            } else if (c == '\'' || c == '’') && !word.is_empty() {
                chars.next();
            } else {
                break;
            }
        }
        if word.is_empty() {
            chars.next()?;
            continue;
        }
        if !long {
            return Some(word);
        }
    })
}

/// Removes what is not the asker's own prose: fenced and inline code, quoted lines (`> `,
/// and everything after `>>> `), mentions, channel and role links, custom emoji, timestamps
/// and URLs. Looks at most at [`MAX_INPUT_CHARS`] characters.
pub fn strip_noise(text: &str) -> String {
    strip(text, false)
}

/// Removes Discord's markup (mentions, channel and role links, custom emoji, timestamps),
/// URLs and quoted lines, but keeps code: for a sentence model, a pasted error or snippet
/// is often what the question is about. Looks at most at [`MAX_INPUT_CHARS`] characters.
pub fn strip_markup(text: &str) -> String {
    strip(text, true)
}

/// The walk behind [`strip_noise`] and [`strip_markup`]: code fences' marker lines always
/// go, their contents and inline code only unless `keep_code`.
fn strip(text: &str, keep_code: bool) -> String {
    let text: String = text.chars().take(MAX_INPUT_CHARS).collect();
    let mut out = String::with_capacity(text.len());
    let mut in_fence = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(after) = trimmed.strip_prefix("```") {
            // A fence that opens and closes on one line leaves the state as it was.
            if !after.contains("```") {
                in_fence = !in_fence;
            }
            continue;
        }
        if in_fence && !keep_code {
            continue;
        }
        if trimmed.starts_with(">>> ") {
            break;
        }
        if trimmed.starts_with("> ") || trimmed == ">" {
            continue;
        }
        strip_inline(line, &mut out, keep_code);
        out.push('\n');
    }
    out
}

/// Copies `line` to `out` without Discord's `<…>` markup and URLs, and without inline code
/// unless `keep_code`.
fn strip_inline(line: &str, out: &mut String, keep_code: bool) {
    let mut rest = line;
    while let Some(c) = rest.chars().next() {
        if c == '`' && !keep_code {
            let after = &rest[1..];
            match after.find('`') {
                Some(end) => {
                    rest = &after[end + 1..];
                    out.push(' ');
                }
                None => rest = after,
            }
            continue;
        }
        if c == '<' {
            if let Some(end) = rest[1..].find('>') {
                let inner = &rest[1..1 + end];
                if is_discord_markup(inner) {
                    rest = &rest[end + 2..];
                    out.push(' ');
                    continue;
                }
            }
        }
        if (rest.starts_with("http://") || rest.starts_with("https://"))
            && out.chars().last().is_none_or(char::is_whitespace)
        {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            rest = &rest[end..];
            continue;
        }
        if c == '@' && (rest.starts_with("@everyone") || rest.starts_with("@here")) {
            rest = &rest[if rest.starts_with("@here") { 5 } else { 9 }..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
}

/// True for the inside of `<…>` forms Discord renders as mentions, emoji, timestamps,
/// command links or suppressed links.
fn is_discord_markup(inner: &str) -> bool {
    inner.len() <= 120
        && (inner.starts_with('@')
            || inner.starts_with('#')
            || inner.starts_with(':')
            || inner.starts_with("a:")
            || inner.starts_with("t:")
            || inner.starts_with('/')
            || inner.starts_with("http"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stems(text: &str) -> Vec<String> {
        Analyzer::new([
            ("noob", "beginner"),
            ("drf", "django rest framework"),
            ("fast api", "fastapi"),
        ])
        .terms(text)
        .into_iter()
        .map(|t| t.stem)
        .collect()
    }

    #[test]
    fn terms_table() {
        let cases: &[(&str, &[&str])] = &[
            ("What is Django?", &["django"]),
            ("DJANGO MIGRATIONS!!!", &["django", "migrat"]),
            ("how do I run migrate", &["run", "migrat"]),
            (
                "hey <@123456> is Django opinionated? thanks",
                &["django", "opinion"],
            ),
            ("flask for a noob", &["flask", "beginn"]),
            ("drf", &["django", "rest", "framework"]),
            ("what's up", &["up"][..0]),
            ("Djängo ṽs Flask", &["django", "flask"]),
            ("D̷̢j̴a̸n̶g̵o̷", &["django"]),
            ("django django django", &["django"]),
            ("> quoted django\nflask", &["flask"]),
            ("```\nimport django\n```\nflask?", &["flask"]),
            ("use `django-admin startproject`, flask", &["flask"]),
            ("look at https://example.com/django flask", &["flask"]),
            ("<:django:123> <#42> <@&7> @everyone flask", &["flask"]),
            ("what’s django's orm", &["django", "orm"]),
            ("how do I set up login", &["setup", "login"]),
            ("Log in, then sign up", &["login", "signup"]),
            ("set it up", &["set"]),
            ("yo what even is flask lol", &["flask"]),
            ("django vs Fast-APIs", &["django", "fastapi"]),
            ("fast apps", &["fast", "app"]),
            ("fast", &["fast"]),
            ("", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(stems(text), *want, "for {text:?}");
        }
    }

    #[test]
    fn ignored_words_are_the_rest() {
        let analyzer = Analyzer::new(std::iter::empty());
        assert_eq!(
            analyzer
                .analyze("When would you, you pick `code` Flask?")
                .ignored,
            ["when", "would", "you", "pick"]
        );
    }

    #[test]
    fn output_is_bounded() {
        let many: String = (0..10_000).map(|i| format!("word{i} ")).collect();
        assert_eq!(stems(&many).len(), MAX_TERMS);
        let long = "a".repeat(1_000);
        assert!(
            stems(&long).is_empty(),
            "one 1,000-letter word is not a word"
        );
    }

    #[test]
    fn markup_goes_code_stays() {
        let cases = [
            (
                "<@123> why `x == y` <:pepe:42> fails",
                // Markup leaves a space, so the words either side never join.
                "  why `x == y`   fails\n",
            ),
            (
                "see https://x.y/z\n> quoted\n```rust\nfn main() {}\n```",
                "see \nfn main() {}\n",
            ),
            ("a\n>>> rest", "a\n"),
        ];
        for (text, want) in cases {
            assert_eq!(strip_markup(text), want, "for {text:?}");
        }
    }

    #[test]
    fn block_quote_hides_the_rest() {
        assert_eq!(stems("flask\n>>> django\nmore"), ["flask"]);
    }
}
