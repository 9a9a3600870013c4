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
                    "/{} · ask about another aspect with its own command",
                    a.id
                )),
            )
        }
        None if e.is_comparison() => {
            let mut fields: Vec<Field> = e
                .aspects
                .iter()
                .map(|a| Field {
                    name: shorten(&a.title, limits::FIELD_NAME),
                    value: shorten(
                        &a.summary
                            .clone()
                            .unwrap_or_else(|| first_sentence(&a.texts[0])),
                        limits::FIELD_VALUE,
                    ),
                })
                .collect();
            if let Some(verdict) = &e.verdict {
                fields.extend(fields_for("Verdict", verdict));
            }
            let commands: Vec<String> = e.aspects.iter().map(|a| format!("/{}", a.id)).collect();
            embeds(
                &e.title(),
                &e.answer,
                fields,
                Some(format!("More on one aspect: {}", commands.join(" "))),
            )
        }
        None => embeds(&e.question, &e.answer, Vec::new(), None),
    }
}

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

/// The first sentence of a text (for summaries), without markdown emphasis.
fn first_sentence(text: &str) -> String {
    let plain = text.replace("**", "");
    let end = plain.find(". ").map_or(plain.len(), |i| i + 1);
    plain[..end].trim().to_string()
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
