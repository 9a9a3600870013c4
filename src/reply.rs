//! Replies: what qabot says for a decision, as Discord-shaped messages and as plain text.
//!
//! The reply is built once here and only *mapped* by the adapters (embeds on Discord, text in
//! a terminal), so `qabot ask` prints exactly what Discord users get. Every message built here
//! fits Discord's limits; long texts are split at paragraph, line, sentence or word
//! boundaries, never inside a word, and a split code block is closed and reopened.

use crate::knowledge::{Entry, Knowledge};
use crate::matcher::{Candidate, Decision, Status};

/// Discord's message and embed limits.
pub mod limits {
    /// Message content.
    pub const CONTENT: usize = 2_000;
    /// Embeds in one message.
    pub const EMBEDS: usize = 10;
    /// Embed title.
    pub const TITLE: usize = 256;
    /// Embed description.
    pub const DESCRIPTION: usize = 4_096;
    /// Fields in one embed.
    pub const FIELDS: usize = 25;
    /// Field name.
    pub const FIELD_NAME: usize = 256;
    /// Field value.
    pub const FIELD_VALUE: usize = 1_024;
    /// Footer text.
    pub const FOOTER: usize = 2_048;
    /// All embed text of one message together.
    pub const EMBED_TOTAL: usize = 6_000;
    /// Button label.
    pub const BUTTON_LABEL: usize = 80;
}

/// A reply, ready for any adapter.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Answered, suggested or none.
    pub status: Status,
    /// One or more messages, each within Discord's limits, to send in order.
    pub messages: Vec<Message>,
    /// "Did you mean" choices, to offer as buttons.
    pub choices: Vec<Choice>,
}

/// One message: content and/or embeds.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Message {
    /// Plain content (at most 2,000 characters).
    pub content: Option<String>,
    /// Embeds (at most 10, 6,000 characters in all).
    pub embeds: Vec<Embed>,
}

/// An embed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Embed {
    /// Title (at most 256).
    pub title: String,
    /// Description (at most 4,096).
    pub description: String,
    /// Fields (at most 25).
    pub fields: Vec<Field>,
    /// Footer (at most 2,048).
    pub footer: Option<String>,
}

/// An embed field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Name (at most 256).
    pub name: String,
    /// Value (at most 1,024).
    pub value: String,
}

/// A "did you mean" choice.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// Button label (at most 80).
    pub label: String,
    /// The entry id.
    pub entry: String,
    /// The aspect id, if the choice is one aspect.
    pub aspect: Option<String>,
}

impl Embed {
    /// Characters counted against the 6,000 total.
    pub fn len(&self) -> usize {
        chars(&self.title)
            + chars(&self.description)
            + self.footer.as_deref().map_or(0, chars)
            + self
                .fields
                .iter()
                .map(|f| chars(&f.name) + chars(&f.value))
                .sum::<usize>()
    }

    /// True if the embed has no text at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Reply {
    /// The reply as a person reads it in a terminal.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for message in &self.messages {
            if let Some(content) = &message.content {
                push_block(&mut out, content);
            }
            for embed in &message.embeds {
                if !embed.title.is_empty() {
                    push_block(&mut out, &format!("**{}**", embed.title));
                }
                if !embed.description.is_empty() {
                    push_block(&mut out, &embed.description);
                }
                for field in &embed.fields {
                    push_block(&mut out, &format!("**{}**\n{}", field.name, field.value));
                }
                if let Some(footer) = &embed.footer {
                    push_block(&mut out, footer);
                }
            }
        }
        out
    }
}

fn push_block(out: &mut String, block: &str) {
    if !out.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(block);
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// The text shown when qabot has nothing to say but was asked directly.
pub const NO_ANSWER: &str =
    "I don't have an answer for that. Use `/topics` to see what I can answer, or rephrase your question.";

/// Builds the reply for `decision`.
pub fn build(knowledge: &Knowledge, decision: &Decision) -> Reply {
    match (decision.status, &decision.best) {
        (Status::Answered, Some(best)) => Reply {
            status: Status::Answered,
            messages: pack(answer_embeds(knowledge, best.entry, best.aspect)),
            choices: Vec::new(),
        },
        (Status::Suggested, _) => suggestion(knowledge, &decision.suggestions),
        _ => Reply {
            status: Status::None,
            messages: vec![Message {
                content: Some(NO_ANSWER.to_string()),
                embeds: Vec::new(),
            }],
            choices: Vec::new(),
        },
    }
}

/// The full answer for an entry, or one aspect of it: what a "did you mean" button or an
/// aspect slash command shows.
pub fn answer(knowledge: &Knowledge, entry: usize, aspect: Option<usize>) -> Reply {
    Reply {
        status: Status::Answered,
        messages: pack(answer_embeds(knowledge, entry, aspect)),
        choices: Vec::new(),
    }
}

/// What a candidate is called in lists and on buttons.
pub fn label(entry: &Entry, aspect: Option<usize>) -> String {
    match aspect.and_then(|a| entry.aspects.get(a)) {
        Some(a) => format!("{} — {}", entry.title(), a.title),
        None => entry.title(),
    }
}

fn suggestion(knowledge: &Knowledge, candidates: &[Candidate]) -> Reply {
    let mut content = String::from("I'm not sure I understood. Did you mean:");
    let mut choices = Vec::new();
    for (n, c) in candidates.iter().enumerate() {
        let entry = &knowledge.entries[c.entry];
        let text = label(entry, c.aspect);
        content.push_str(&format!("\n{}. {}", n + 1, text));
        choices.push(Choice {
            label: shorten(&text, limits::BUTTON_LABEL),
            entry: entry.id.clone(),
            aspect: c.aspect.map(|a| entry.aspects[a].id.clone()),
        });
    }
    Reply {
        status: Status::Suggested,
        messages: vec![Message {
            content: Some(shorten(&content, limits::CONTENT)),
            embeds: Vec::new(),
        }],
        choices,
    }
}

fn answer_embeds(knowledge: &Knowledge, entry: usize, aspect: Option<usize>) -> Vec<Embed> {
    let e = &knowledge.entries[entry];
    match aspect.and_then(|a| e.aspects.get(a)) {
        Some(a) => {
            let mut fields = Vec::new();
            for (subject, text) in e.subjects.iter().zip(&a.texts) {
                fields.extend(fields_for(subject, text));
            }
            embeds(
                &format!("{} — {}", e.title(), a.title),
                a.summary.as_deref().unwrap_or(""),
                fields,
                Some(format!(
                    "{} · {ANOTHER_ASPECT}",
                    aspect_command(knowledge, entry, &a.id)
                )),
            )
        }
        None if e.is_comparison() => whole_comparison(knowledge, entry),
        None => embeds(&e.question, &e.answer, Vec::new(), None),
    }
}

/// How long one line of a whole comparison's aspect list may be, title included: the list
/// says what each aspect is about, and the aspect's own reply gives its texts.
pub const ASPECT_LINE: usize = 120;

/// A whole comparison, short enough to read in a chat: the intro, one line per aspect (its
/// title and its summary, or its first sentence), the verdict, and the aspects' commands.
fn whole_comparison(knowledge: &Knowledge, entry: usize) -> Vec<Embed> {
    let e = &knowledge.entries[entry];
    let mut description = e.answer.clone();
    if !e.aspects.is_empty() {
        description.push('\n');
    }
    for a in e.aspects.iter() {
        let gist = a
            .summary
            .clone()
            .unwrap_or_else(|| first_sentence(a.texts.get(0).unwrap_or("")));
        // The title is at most 100 characters (it is a command's description); the gist
        // gets what the line has left, and never less than a few words.
        let room = ASPECT_LINE.saturating_sub(chars(&a.title) + 2).max(30);
        description.push_str(&format!("\n- **{}**: {}", a.title, shorten(&gist, room)));
    }
    let fields = e
        .verdict
        .as_deref()
        .map(|verdict| fields_for(VERDICT, verdict))
        .unwrap_or_default();
    let footer = (!e.aspects.is_empty()).then(|| {
        let commands: Vec<String> = e
            .aspects
            .iter()
            .map(|a| aspect_command(knowledge, entry, &a.id))
            .collect();
        format!("{MORE_ON_ONE_ASPECT} {}", commands.join(" "))
    });
    embeds(&e.title(), &description, fields, footer)
}

/// The command that shows aspect `id` of comparison `entry`: `/id`, or, when an earlier
/// comparison has the same aspect id (and so answers `/id` alone), `/id topic:<title>`, so
/// the command a reply offers shows that reply's comparison.
fn aspect_command(knowledge: &Knowledge, entry: usize, id: &str) -> String {
    let first = knowledge
        .entries
        .iter()
        .position(|e| e.aspects.iter().any(|a| a.id == id));
    if first.is_none_or(|first| first == entry) {
        format!("/{id}")
    } else {
        format!("/{id} topic:{}", knowledge.entries[entry].title())
    }
}

/// The name of the field holding a comparison's verdict.
pub const VERDICT: &str = "Verdict";

/// How a whole comparison's footer starts, before the aspects' commands.
pub const MORE_ON_ONE_ASPECT: &str = "More on one aspect:";

/// How an aspect's footer ends, after its own command.
pub const ANOTHER_ASPECT: &str = "ask about another aspect with its own command";

/// A named text as fields, continuing in "(cont.)" fields when it is longer than one holds.
fn fields_for(name: &str, text: &str) -> Vec<Field> {
    split(text, limits::FIELD_VALUE)
        .into_iter()
        .enumerate()
        .map(|(i, value)| Field {
            name: shorten(
                &if i == 0 {
                    name.to_string()
                } else {
                    format!("{name} (cont.)")
                },
                limits::FIELD_NAME,
            ),
            value,
        })
        .collect()
}

/// One or more embeds for a title, a long description and many fields: the description is
/// split over embeds, the fields follow 25 to an embed.
fn embeds(
    title: &str,
    description: &str,
    fields: Vec<Field>,
    footer: Option<String>,
) -> Vec<Embed> {
    let mut out: Vec<Embed> = split(description, limits::DESCRIPTION)
        .into_iter()
        .map(|description| Embed {
            description,
            ..Embed::default()
        })
        .collect();
    if out.is_empty() {
        out.push(Embed::default());
    }
    out[0].title = shorten(title, limits::TITLE);
    for field in fields {
        let last = out.last_mut().expect("out is never empty");
        let fits = last.fields.len() < limits::FIELDS
            && last.len() + chars(&field.name) + chars(&field.value) <= limits::EMBED_TOTAL;
        if fits {
            last.fields.push(field);
        } else {
            out.push(Embed {
                fields: vec![field],
                ..Embed::default()
            });
        }
    }
    if let Some(footer) = footer {
        let footer = shorten(&footer, limits::FOOTER);
        let last = out.last_mut().expect("out is never empty");
        if last.len() + chars(&footer) <= limits::EMBED_TOTAL {
            last.footer = Some(footer);
        }
    }
    out
}

/// Packs embeds into as few messages as the per-message limits (10 embeds, 6,000 characters)
/// allow, in order.
fn pack(embeds: Vec<Embed>) -> Vec<Message> {
    let mut messages: Vec<Message> = Vec::new();
    for embed in embeds {
        let fits = messages.last().is_some_and(|m| {
            m.embeds.len() < limits::EMBEDS
                && m.embeds.iter().map(Embed::len).sum::<usize>() + embed.len()
                    <= limits::EMBED_TOTAL
        });
        if fits {
            messages
                .last_mut()
                .expect("checked above")
                .embeds
                .push(embed);
        } else {
            messages.push(Message {
                content: None,
                embeds: vec![embed],
            });
        }
    }
    messages
}

/// The first sentence of a text's first line (for summaries), without markdown emphasis.
fn first_sentence(text: &str) -> String {
    let plain = text.replace("**", "");
    let line = plain.trim().lines().next().unwrap_or("");
    let end = line.find(". ").map_or(line.len(), |i| i + 1);
    line[..end].trim().to_string()
}

/// `text` cut to at most `max` characters at a word boundary, with "…" when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if chars(text) <= max {
        return text.to_string();
    }
    let budget: String = text.chars().take(max.saturating_sub(1)).collect();
    let cut = budget
        .rfind(char::is_whitespace)
        .filter(|&i| i > budget.len() / 2)
        .unwrap_or(budget.len());
    format!("{}…", budget[..cut].trim_end())
}

/// Splits `text` into pieces of at most `max` characters, preferring to cut between
/// paragraphs, then lines, then sentences, then words. A code block cut in two is closed at
/// the end of one piece and reopened (with its language) at the start of the next.
pub fn split(text: &str, max: usize) -> Vec<String> {
    const FENCE: &str = "```";
    let mut out = Vec::new();
    let mut rest = text.trim().to_string();
    let mut reopen = String::new();
    while !rest.is_empty() {
        let piece_text = format!("{reopen}{rest}");
        if chars(&piece_text) <= max {
            out.push(piece_text);
            break;
        }
        // Leave room to close a code block.
        let room = max.saturating_sub(FENCE.len() + 1).max(1);
        let head: String = piece_text.chars().take(room).collect();
        let min = head.len() / 3;
        let cut = ["\n\n", "\n", ". ", " "]
            .iter()
            .find_map(|sep| head.rfind(sep).filter(|&i| i > min).map(|i| i + sep.len()))
            .unwrap_or(head.len());
        let mut piece = head[..cut].trim_end().to_string();
        let open = piece.matches(FENCE).count() % 2 == 1;
        let next_reopen = if open {
            let start = piece.rfind(FENCE).unwrap_or(0);
            let lang: String = piece[start + FENCE.len()..]
                .chars()
                .take_while(|c| c.is_alphanumeric())
                .collect();
            piece.push('\n');
            piece.push_str(FENCE);
            format!("{FENCE}{lang}\n")
        } else {
            String::new()
        };
        out.push(piece);
        rest = piece_text[cut..].trim_start().to_string();
        reopen = next_reopen;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_respects_the_limit_and_boundaries() {
        let words = "lorem ipsum dolor sit amet ".repeat(200);
        for max in [20, 100, 1024] {
            let pieces = split(&words, max);
            assert!(pieces.iter().all(|p| chars(p) <= max), "max {max}");
            assert_eq!(
                pieces.join(" ").split_whitespace().count(),
                words.split_whitespace().count()
            );
            assert!(pieces
                .iter()
                .all(|p| !p.starts_with(' ') && !p.ends_with(' ')));
        }
    }

    #[test]
    fn split_prefers_paragraphs() {
        let text = format!("{}\n\n{}", "a ".repeat(30).trim(), "b ".repeat(30).trim());
        assert_eq!(
            split(&text, 100),
            ["a ".repeat(30).trim(), "b ".repeat(30).trim()]
        );
    }

    #[test]
    fn split_closes_and_reopens_code_blocks() {
        let code: String = (0..100).map(|i| format!("x = {i}\n")).collect();
        let text = format!("Run this:\n```python\n{code}```\nDone.");
        let pieces = split(&text, 200);
        assert!(pieces.len() > 2);
        for p in &pieces {
            assert!(chars(p) <= 200);
            assert_eq!(p.matches("```").count() % 2, 0, "unbalanced fence in {p:?}");
        }
        assert!(pieces[1].starts_with("```python\n"));
    }

    #[test]
    fn split_handles_unbreakable_text() {
        let pieces = split(&"x".repeat(5000), 1024);
        assert!(pieces.iter().all(|p| chars(p) <= 1024));
        assert_eq!(pieces.concat().len(), 5000);
    }

    #[test]
    fn shorten_cuts_at_a_word() {
        assert_eq!(shorten("short", 10), "short");
        assert_eq!(shorten("one two three four", 12), "one two…");
        assert!(chars(&shorten(&"é".repeat(300), 256)) <= 256);
    }

    /// A comparison of `aspects` aspects whose texts are long single sentences (no summary),
    /// the shape that once made a whole-comparison reply of thousands of characters.
    fn wide_comparison(aspects: usize) -> Knowledge {
        let mut toml = String::from(
            "[[entry]]\nid = \"a-vs-b\"\nquestion = \"A or B?\"\nsubjects = [\"A\", \"B\"]\nanswer = \"Two ways to do it.\"\nverdict = \"Pick A.\"\n",
        );
        for i in 0..aspects {
            let long = format!("**A** is {} without a full stop", "very long ".repeat(40));
            toml.push_str(&format!(
                "[[entry.aspect]]\nid = \"aspect-{i}\"\ntitle = \"Aspect number {i}\"\ntext.A = \"{long}\"\ntext.B = \"Short. Second sentence.\"\n"
            ));
        }
        Knowledge::from_sources(&[("k.toml".into(), toml)]).unwrap()
    }

    #[test]
    fn a_whole_comparison_lists_its_aspects_in_a_line_each() {
        let k = wide_comparison(12);
        let text = answer(&k, 0, None).text();
        let list: Vec<&str> = text.lines().filter(|l| l.starts_with("- **")).collect();
        assert_eq!(list.len(), 12, "{text}");
        assert!(list.iter().all(|l| chars(l) <= ASPECT_LINE + 4), "{text}");
        assert!(list[0].starts_with("- **Aspect number 0**: A is very long"));
        assert!(text.starts_with("**A vs B**\n\nTwo ways to do it.\n\n- **Aspect number 0**"));
        assert!(
            text.contains("\n\n**Verdict**\nPick A.\n\nMore on one aspect: /aspect-0 /aspect-1")
        );
        assert!(chars(&text) < 2_000, "{} characters:\n{text}", chars(&text));
        // The texts themselves stay one aspect away.
        let one = answer(&k, 0, Some(3)).text();
        assert!(one.contains(&"very long ".repeat(40)), "{one}");
        assert!(one.ends_with("/aspect-3 · ask about another aspect with its own command"));
    }

    #[test]
    fn the_commands_a_reply_offers_show_that_comparison() {
        let comparison = |id: &str, a: &str, b: &str, aspects: &[&str]| {
            let mut t = format!("[[entry]]\nid = \"{id}\"\nquestion = \"{a} or {b}?\"\nsubjects = [\"{a}\", \"{b}\"]\nanswer = \"i\"\n");
            for aspect in aspects {
                t.push_str(&format!("[[entry.aspect]]\nid = \"{aspect}\"\ntitle = \"T\"\ntext.{a} = \"x\"\ntext.{b} = \"y\"\n"));
            }
            t
        };
        let toml = comparison("a-vs-b", "A", "B", &["speed"])
            + &comparison("c-vs-d", "C", "D", &["speed", "cost"]);
        let k = Knowledge::from_sources(&[("k.toml".into(), toml)]).unwrap();
        // `/speed` alone answers A vs B, the first comparison with that aspect.
        let footer = |e, a| answer(&k, e, a).text().lines().last().unwrap().to_string();
        assert_eq!(footer(0, None), "More on one aspect: /speed");
        assert_eq!(
            footer(1, None),
            "More on one aspect: /speed topic:C vs D /cost"
        );
        assert_eq!(
            footer(1, Some(0)),
            "/speed topic:C vs D · ask about another aspect with its own command"
        );
        assert_eq!(
            footer(1, Some(1)),
            "/cost · ask about another aspect with its own command"
        );
    }

    #[test]
    fn a_summary_or_the_first_sentence_stands_for_an_aspect() {
        for (text, summary, gist) in [
            ("One. Two.", None, "One."),
            ("**Bold** first line\nsecond line", None, "Bold first line"),
            ("One. Two.", Some("The summary"), "The summary"),
        ] {
            let summary = summary.map_or(String::new(), |s| format!("summary = \"{s}\"\n"));
            let toml = format!("[[entry]]\nid = \"x\"\nquestion = \"q\"\nsubjects = [\"A\", \"B\"]\nanswer = \"i\"\n[[entry.aspect]]\nid = \"y\"\ntitle = \"T\"\n{summary}text.A = {text:?}\ntext.B = \"b\"\n");
            let k = Knowledge::from_sources(&[("k.toml".into(), toml)]).unwrap();
            let reply = answer(&k, 0, None).text();
            assert!(reply.contains(&format!("\n- **T**: {gist}\n")), "{reply}");
        }
    }

    #[test]
    fn huge_answers_fit_every_limit() {
        let huge = "A paragraph of text that goes on. ".repeat(1000);
        let fields = (0..60)
            .map(|i| Field {
                name: format!("f{i}"),
                value: "v".repeat(1000),
            })
            .collect();
        let messages = pack(embeds(
            &"t".repeat(400),
            &huge,
            fields,
            Some("f".repeat(3000)),
        ));
        for m in &messages {
            assert!(m.embeds.len() <= limits::EMBEDS);
            assert!(m.embeds.iter().map(Embed::len).sum::<usize>() <= limits::EMBED_TOTAL);
            for e in &m.embeds {
                assert!(chars(&e.title) <= limits::TITLE);
                assert!(chars(&e.description) <= limits::DESCRIPTION);
                assert!(e.fields.len() <= limits::FIELDS);
                assert!(e
                    .fields
                    .iter()
                    .all(|f| chars(&f.value) <= limits::FIELD_VALUE));
                assert!(e
                    .footer
                    .as_deref()
                    .is_none_or(|f| chars(f) <= limits::FOOTER));
            }
        }
        let text: usize = messages
            .iter()
            .flat_map(|m| &m.embeds)
            .map(|e| e.fields.len())
            .sum();
        assert_eq!(text, 60, "no field lost");
    }
}
