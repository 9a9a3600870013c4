//! Markdown sources: a file that is one entry (a tag: front matter, a `#` heading, the
//! answer), and a file that is a whole FAQ (a heading per question, the text under it the
//! answer).
//!
//! Headings are ATX headings (`# Title`, `## Title`) and setext headings (a line underlined
//! with `===` or `---`) outside fenced code blocks, so a `# comment` in a shell snippet is
//! never taken for a question. Answers are kept as written,
//! code blocks and all: Discord reads the same markdown.

use super::front_matter::{self, Fields, Value};
use super::{Draft, SourceError};

/// A heading: its level (1 for `#` or `===`), its text, and its 0-based lines in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// 1 to 6.
    pub level: usize,
    /// The text, without the `#` marks or the underline.
    pub text: String,
    /// 0-based index of its first line.
    pub line: usize,
    /// 0-based index of its last line: the underline of a setext heading, else `line`.
    pub end: usize,
}

/// The heading on `line`, if it is one: up to three spaces, 1 to 6 `#`, then a blank or the
/// end of the line; a closing run of `#` is dropped.
fn heading(line: &str) -> Option<(usize, String)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let level = rest.len() - rest.trim_start_matches('#').len();
    let after = &rest[level..];
    if !(1..=6).contains(&level) || !(after.is_empty() || after.starts_with([' ', '\t'])) {
        return None;
    }
    let text = after.trim();
    // `## Question ##`: the closing run goes, if a blank separates it from the text.
    let stripped = text.trim_end_matches('#');
    let text = if stripped.is_empty() || stripped.ends_with([' ', '\t']) {
        stripped.trim_end()
    } else {
        text
    };
    Some((level, text.to_string()))
}

/// The opening fence of a code block on `line` (its character and length), if any.
fn fence(line: &str) -> Option<(char, usize)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let c = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = rest.len() - rest.trim_start_matches(c).len();
    (n >= 3 && !(c == '`' && rest[n..].contains('`'))).then_some((c, n))
}

/// The level a setext underline on `line` gives the paragraph above it: 1 for `===`, 2 for
/// `---` (up to three spaces first, trailing blanks allowed).
fn underline(line: &str) -> Option<usize> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    let t = line.trim();
    if indent > 3 || t.is_empty() {
        return None;
    }
    if t.chars().all(|c| c == '=') {
        Some(1)
    } else if t.chars().all(|c| c == '-') {
        Some(2)
    } else {
        None
    }
}

/// True for a line that opens a list item or a block quote: what follows it, up to a blank
/// line, belongs to that block, so a `---` under it is a rule, not an underline.
fn opens_block(line: &str) -> bool {
    let t = line.trim_start();
    let numbered = t.trim_start_matches(|c: char| c.is_ascii_digit());
    t.starts_with(['>', '|'])
        || ["- ", "* ", "+ "].iter().any(|m| t.starts_with(m))
        || (numbered.len() < t.len() && (numbered.starts_with(". ") || numbered.starts_with(") ")))
}

/// Every heading of `lines` outside fenced code blocks.
pub fn headings(lines: &[&str]) -> Vec<Heading> {
    let mut out = Vec::new();
    let mut open: Option<(char, usize)> = None;
    // Where the paragraph a setext underline would make a heading starts; `None` outside
    // one (after a blank line, a heading, a fence, or inside a list item or quote).
    let mut paragraph: Option<usize> = None;
    let mut in_block = false;
    for (i, line) in lines.iter().enumerate() {
        if let Some((c, n)) = open {
            let t = line.trim();
            if t.len() >= n && t.chars().all(|x| x == c) {
                open = None;
            }
            continue;
        }
        if line.trim().is_empty() {
            (paragraph, in_block) = (None, false);
        } else if let Some(f) = fence(line) {
            open = Some(f);
            paragraph = None;
        } else if let Some((level, text)) = heading(line) {
            out.push(Heading {
                level,
                text,
                line: i,
                end: i,
            });
            paragraph = None;
        } else if let (Some(start), Some(level)) = (paragraph, underline(line)) {
            let text: Vec<&str> = lines[start..i].iter().map(|l| l.trim()).collect();
            out.push(Heading {
                level,
                text: text.join(" "),
                line: start,
                end: i,
            });
            paragraph = None;
        } else if in_block || opens_block(line) {
            in_block = true;
        } else if paragraph.is_none() && line.len() - line.trim_start_matches(' ').len() <= 3 {
            paragraph = Some(i);
        }
    }
    out
}

/// The first and last non-blank lines of `lines[from..to]` (0-based, inclusive), if any.
fn content(lines: &[&str], from: usize, to: usize) -> Option<(usize, usize)> {
    let part = lines.get(from..to)?;
    let first = part.iter().position(|l| !l.trim().is_empty())?;
    let last = part.iter().rposition(|l| !l.trim().is_empty())?;
    Some((from + first, from + last))
}

/// `lines[from..to]` as one text, as written but for blank lines at both ends.
fn text_of(lines: &[&str], from: usize, to: usize) -> String {
    content(lines, from, to)
        .map_or_else(String::new, |(first, last)| lines[first..=last].join("\n"))
}

/// The heading level that marks questions in a one-file FAQ: `#` if it repeats (and is not
/// only a category above repeated `##` questions), else `##` if present, else `#`.
pub fn question_level(headings: &[Heading], lines: &[&str]) -> Option<usize> {
    let count = |level: usize| headings.iter().filter(|h| h.level == level).count();
    let (h1, h2) = (count(1), count(2));
    // `# Category` directly followed by `## Question`: the `##` are the questions.
    let categories = headings.iter().filter(|h| h.level == 1).all(|h| {
        let next = lines[h.end + 1..]
            .iter()
            .position(|l| !l.trim().is_empty())
            .map(|at| h.end + 1 + at);
        headings
            .iter()
            .any(|other| Some(other.line) == next && other.level == 2)
    });
    match (h1, h2) {
        (0, 0) => None,
        (2.., 2..) if !categories => Some(1),
        (2.., _) if h2 < 2 => Some(1),
        (_, 1..) => Some(2),
        _ => Some(1),
    }
}

/// A one-file FAQ: its entries, and the lines outside every question (a title, an intro),
/// which are left out, as 1-based inclusive ranges.
#[derive(Debug, Default)]
pub struct Faq {
    /// One draft per question heading.
    pub drafts: Vec<Draft>,
    /// Non-blank text before the first question or under a category heading.
    pub left_out: Vec<(usize, usize)>,
}

/// Splits a one-file FAQ at its question headings (see [`question_level`]). Front matter,
/// if any, is skipped. Errors carry their 1-based line.
pub fn faq(text: &str) -> Result<Faq, (usize, SourceError)> {
    let split = front_matter::split(text).map_err(|(l, m)| (l, SourceError::FrontMatter(m)))?;
    let lines: Vec<&str> = split.body.lines().collect();
    let base = split.body_offset + 1;
    let headings = headings(&lines);
    let Some(level) = question_level(&headings, &lines) else {
        return Err((1, SourceError::NoHeadings));
    };
    let mut out = Faq::default();
    // Sections end at the next heading of the question level or above.
    let bounds: Vec<&Heading> = headings.iter().filter(|h| h.level <= level).collect();
    let mut left_out = |from: usize, to: usize| {
        if let Some((first, last)) = content(&lines, from, to) {
            out.left_out.push((first + base, last + base));
        }
    };
    left_out(0, bounds.first().map_or(lines.len(), |h| h.line));
    let mut drafts = Vec::new();
    for (i, h) in bounds.iter().enumerate() {
        let end = bounds.get(i + 1).map_or(lines.len(), |next| next.line);
        if h.level < level {
            left_out(h.end + 1, end);
            continue;
        }
        let line = h.line + base;
        if h.text.is_empty() {
            return Err((line, SourceError::NoQuestion));
        }
        let answer = text_of(&lines, h.end + 1, end);
        if answer.is_empty() {
            return Err((
                line,
                SourceError::NoAnswer {
                    question: h.text.clone(),
                },
            ));
        }
        drafts.push(Draft {
            id: None,
            question: h.text.clone(),
            alternates: Vec::new(),
            keywords: Vec::new(),
            answer,
            line,
        });
    }
    out.drafts = drafts;
    Ok(out)
}

/// The first value among `keys` as a text; a list is a mistake.
fn text_field(fields: &Fields, keys: &[&str]) -> Result<Option<String>, SourceError> {
    for key in keys {
        match fields.get(*key) {
            Some(Value::Text(t)) if !t.trim().is_empty() => return Ok(Some(t.trim().to_string())),
            Some(Value::List(_)) => {
                return Err(SourceError::FrontMatter(format!(
                    "`{key}` is a list; write it as one text (`{key}: ...`)"
                )))
            }
            _ => {}
        }
    }
    Ok(None)
}

/// Every value among `keys` as list items (a text is one item).
fn list_field(fields: &Fields, keys: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for key in keys {
        match fields.get(*key) {
            Some(Value::Text(t)) if !t.trim().is_empty() => out.push(t.trim().to_string()),
            Some(Value::List(items)) => out.extend(items.iter().map(|s| s.trim().to_string())),
            _ => {}
        }
    }
    out
}

/// A file that is one entry: the question is the front matter's `question` or `title`, else
/// the first `#` heading; the id is the front matter's `id`, else `stem` (the file name);
/// `aliases`/`alternates` and `keywords`/`tags` come from the front matter; the rest of the
/// text is the answer. Errors carry their 1-based line.
pub fn entry(text: &str, stem: &str) -> Result<Draft, (usize, SourceError)> {
    let split = front_matter::split(text).map_err(|(l, m)| (l, SourceError::FrontMatter(m)))?;
    let at_top = |e| (1, e);
    let fields = &split.fields;
    let given = text_field(fields, &["question", "title"]).map_err(at_top)?;
    let id = text_field(fields, &["id"]).map_err(at_top)?;
    let lines: Vec<&str> = split.body.lines().collect();
    let base = split.body_offset + 1;
    let headings = headings(&lines);
    let first_line = lines.iter().position(|l| !l.trim().is_empty());
    // The heading that is the question, if the question comes from a heading, or repeats
    // the front matter's title at the top of the body.
    let (question, heading_line) = match given {
        Some(q) => {
            let repeated = headings
                .iter()
                .find(|h| Some(h.line) == first_line && h.text.eq_ignore_ascii_case(&q));
            (q, repeated)
        }
        None => match headings.iter().find(|h| h.level == 1 && !h.text.is_empty()) {
            Some(h) => (h.text.clone(), Some(h)),
            None => return Err((1, SourceError::NoQuestion)),
        },
    };
    let answer = match heading_line {
        Some(h) => {
            let before = text_of(&lines, 0, h.line);
            let after = text_of(&lines, h.end + 1, lines.len());
            [before, after]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n")
        }
        None => text_of(&lines, 0, lines.len()),
    };
    let line = heading_line.map_or(1, |h| h.line + base);
    if answer.is_empty() {
        return Err((line, SourceError::NoAnswer { question }));
    }
    Ok(Draft {
        id: Some(id.unwrap_or_else(|| stem.to_string())),
        question,
        alternates: list_field(fields, &["alternates", "aliases"]),
        keywords: list_field(fields, &["keywords", "tags"]),
        answer,
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_skip_code_and_non_headings() {
        let text = "# One\n#hashtag\n    # indented code\n```sh\n# a shell comment\n```\n## Two ##\n~~~\n# tilde\n~~~\n### Three\n#\n####### seven\nC# is not a heading\n";
        let lines: Vec<&str> = text.lines().collect();
        let found = headings(&lines);
        let got: Vec<(usize, &str, usize)> = found
            .iter()
            .map(|h| (h.level, h.text.as_str(), h.line))
            .collect();
        assert_eq!(
            got,
            [(1, "One", 0), (2, "Two", 6), (3, "Three", 10), (1, "", 11)]
        );
    }

    /// A heading as (level, text, first line, last line).
    type Found<'a> = (usize, &'a str, usize, usize);

    #[test]
    fn setext_headings_are_headings_and_rules_are_not() {
        // (text, the headings found)
        let cases: &[(&str, &[Found])] = &[
            ("Title\n=====\n", &[(1, "Title", 0, 1)]),
            ("Question?\n---\nAnswer.\n", &[(2, "Question?", 0, 1)]),
            ("  Indented\n  ==\n", &[(1, "Indented", 0, 1)]),
            // A paragraph of two lines is one heading.
            ("Two\nlines\n---\n", &[(2, "Two lines", 0, 2)]),
            // After a blank line, a list item or a quote, `---` is a rule.
            ("Text\n\n---\n", &[]),
            ("---\n", &[]),
            ("- item\n---\n", &[]),
            ("- item\nlazy line\n---\n", &[]),
            ("> quoted\n---\n", &[]),
            ("1. step\n---\n", &[]),
            // Inside a code block, nothing is a heading.
            ("```\ncode\n---\n```\n", &[]),
            // Mixed with ATX headings.
            (
                "# One\nTwo\n===\ntext\n\nThree\n-\n",
                &[(1, "One", 0, 0), (1, "Two", 1, 2), (2, "Three", 5, 6)],
            ),
            ("=====\n", &[]),
            ("Not = an underline\n= =\n", &[]),
        ];
        for (text, want) in cases {
            let lines: Vec<&str> = text.lines().collect();
            let found = headings(&lines);
            let got: Vec<Found> = found
                .iter()
                .map(|h| (h.level, h.text.as_str(), h.line, h.end))
                .collect();
            assert_eq!(got, *want, "{text:?}");
        }
    }

    /// A one-file FAQ, its questions, and the line ranges left out.
    type FaqCase<'a> = (&'a str, &'a [&'a str], &'a [(usize, usize)]);

    #[test]
    fn faq_splitting_table() {
        let cases: &[FaqCase] = &[
            // `##` repeats under one `#` title: the `##` are questions, the title is left out.
            (
                "# Club FAQ\nIntro text.\n\n## When do we meet?\nFridays.\n\n## Where?\nThe hall.\n",
                &["When do we meet?", "Where?"],
                &[(2, 2)],
            ),
            // `#` repeats: each is a question, `##` inside answers stays in them.
            (
                "# Q1\nA1\n## Detail\nmore\n# Q2\nA2\n",
                &["Q1", "Q2"],
                &[],
            ),
            // Categories (`#` directly above `##`): the `##` are the questions.
            (
                "# Setup\n## Install?\nRun it.\n## Update?\nPull.\n# Play\n\n## Join?\nClick.\n",
                &["Install?", "Update?", "Join?"],
                &[],
            ),
            // One `#`, no `##`: one entry.
            ("# Only one\nanswer\n", &["Only one"], &[]),
            // A heading inside a code block is part of the answer.
            (
                "## Q1\n```sh\n## not a question\n```\n## Q2\nA2\n",
                &["Q1", "Q2"],
                &[],
            ),
            // Setext headings: a `===` title above `---` questions, as `#` above `##`.
            (
                "Club FAQ\n========\n\nIntro text.\n\nWhen do we meet?\n----------------\nFridays.\n\nWhere?\n------\nThe hall.\n",
                &["When do we meet?", "Where?"],
                &[(4, 4)],
            ),
            // Front matter is skipped; lines count from the top of the file.
            ("---\ntitle: FAQ\n---\nhello\n## Q\nA\n", &["Q"], &[(4, 4)]),
        ];
        for (text, questions, left_out) in cases {
            let faq = faq(text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
            let got: Vec<&str> = faq.drafts.iter().map(|d| d.question.as_str()).collect();
            assert_eq!(got, *questions, "{text:?}");
            assert_eq!(faq.left_out, *left_out, "{text:?}");
        }
    }

    #[test]
    fn faq_answers_keep_their_markdown_and_lines() {
        let text = "# FAQ\n\n## How do I start?\n\nRun:\n\n```sh\n# start it\n./start.sh\n```\n\n- **bold** item\n\n## Next?\nDone.\n";
        let faq = faq(text).unwrap();
        assert_eq!(
            faq.drafts[0].answer,
            "Run:\n\n```sh\n# start it\n./start.sh\n```\n\n- **bold** item"
        );
        assert_eq!(faq.drafts[0].line, 3);
        assert_eq!(faq.drafts[1].line, 14);
    }

    #[test]
    fn setext_answers_start_below_the_underline() {
        let text = "FAQ\n===\n\nHow do I start?\n---------------\nRun it.\n\nNext?\n-----\nDone.\n";
        let faq = faq(text).unwrap();
        let got: Vec<(&str, &str, usize)> = faq
            .drafts
            .iter()
            .map(|d| (d.question.as_str(), d.answer.as_str(), d.line))
            .collect();
        assert_eq!(
            got,
            [("How do I start?", "Run it.", 4), ("Next?", "Done.", 8)]
        );
        let tag = entry(
            "How do I whitelist?\n===================\n\nAsk a mod.\n",
            "wl",
        )
        .unwrap();
        assert_eq!(
            (tag.question.as_str(), tag.answer.as_str()),
            ("How do I whitelist?", "Ask a mod.")
        );
    }

    #[test]
    fn faq_refusals() {
        let cases: &[(&str, usize, &str)] = &[
            ("just text\n", 1, "no `#` or `##` headings"),
            ("## Q1\nA1\n## Q2\n\n", 3, "has no answer"),
            ("---\ntitle: x\n", 1, "never closed"),
        ];
        for (text, line, fragment) in cases {
            let (got, e) = faq(text).unwrap_err();
            assert_eq!(got, *line, "{text:?}");
            assert!(e.to_string().contains(fragment), "{text:?}: {e}");
        }
    }

    #[test]
    fn tag_files() {
        let d = entry(
            "---\ntitle: How do I whitelist?\naliases: [whitelist, wl]\ntags:\n  - access\n---\nAsk a mod in **#access**.\n",
            "whitelist",
        )
        .unwrap();
        assert_eq!(d.id.as_deref(), Some("whitelist"));
        assert_eq!(d.question, "How do I whitelist?");
        assert_eq!(d.alternates, ["whitelist", "wl"]);
        assert_eq!(d.keywords, ["access"]);
        assert_eq!(d.answer, "Ask a mod in **#access**.");
        assert_eq!(d.line, 1);

        let heading = entry("# What is PvP?\n\nPlayer versus player.\n", "pvp").unwrap();
        assert_eq!(
            (heading.question.as_str(), heading.line),
            ("What is PvP?", 1)
        );
        assert_eq!(heading.answer, "Player versus player.");

        let repeated = entry(
            "+++\ntitle = \"Rules\"\nid = \"server-rules\"\n+++\n# Rules\nBe kind.\n",
            "x",
        )
        .unwrap();
        assert_eq!(repeated.id.as_deref(), Some("server-rules"));
        assert_eq!((repeated.answer.as_str(), repeated.line), ("Be kind.", 5));

        let question_key = entry("---\nquestion: Q?\ntitle: T\n---\nA\n", "x").unwrap();
        assert_eq!(question_key.question, "Q?");
    }

    #[test]
    fn tag_refusals() {
        let cases: &[(&str, usize, &str)] = &[
            ("Just an answer.\n", 1, "no question"),
            ("## Only a subheading\ntext\n", 1, "no question"),
            ("---\ntitle: T\n---\n\n", 1, "has no answer"),
            ("# Q\n", 1, "has no answer"),
            ("---\ntitle: [a, b]\n---\nA\n", 1, "is a list"),
        ];
        for (text, line, fragment) in cases {
            let (got, e) = entry(text, "x").unwrap_err();
            assert_eq!(got, *line, "{text:?}");
            assert!(e.to_string().contains(fragment), "{text:?}: {e}");
        }
    }
}
