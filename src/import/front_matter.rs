//! Front matter: the metadata block at the top of a Markdown file, YAML between `---` lines
//! or TOML between `+++` lines, read for the few keys an entry uses.
//!
//! Only the YAML shapes bot tag collections and static-site generators write are read, with
//! no YAML library: `key: value` (plain, `"double"` or `'single'` quoted), `key: [a, b]`,
//! `key:` followed by `- item` lines, and `key: |` or `key: >` block text. Anything else
//! (nested maps, anchors) is skipped, as are keys the importer does not use.

use std::collections::BTreeMap;

/// A front-matter value, as far as the importer cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// One text.
    Text(String),
    /// A list of texts.
    List(Vec<String>),
    /// Something else (a nested map, a number in TOML): never used.
    Other,
}

/// The keys of a front-matter block, by name.
pub type Fields = BTreeMap<String, Value>;

/// A Markdown file split into its front matter and its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split<'a> {
    /// The front matter's keys (empty without front matter).
    pub fields: Fields,
    /// The text after the front matter.
    pub body: &'a str,
    /// How many lines come before the body (0 without front matter).
    pub body_offset: usize,
}

/// Splits `text` into front matter and body. An error carries its 1-based line.
pub fn split(text: &str) -> Result<Split<'_>, (usize, String)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let no_front = Split {
        fields: Fields::new(),
        body: text,
        body_offset: 0,
    };
    let Some(first_line) = text.split_inclusive('\n').next() else {
        return Ok(no_front);
    };
    let first = first_line.trim_end();
    let (close, yaml): (&[&str], bool) = match first {
        "---" => (&["---", "..."], true),
        "+++" => (&["+++"], false),
        _ => return Ok(no_front),
    };
    let mut offset = first_line.len();
    let mut block = Vec::new();
    for line in text[offset..].split_inclusive('\n') {
        offset += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        if close.contains(&content.trim_end()) {
            let fields = if yaml {
                parse_yaml(&block)?
            } else {
                parse_toml(&block)?
            };
            return Ok(Split {
                fields,
                body: &text[offset..],
                body_offset: block.len() + 2,
            });
        }
        block.push(content);
    }
    Err((
        1,
        format!(
            "the front matter opened by `{first}` on line 1 is never closed; end it with a `{}` line",
            close[0]
        ),
    ))
}

/// The TOML block's keys (lines are the block's, the opening `+++` being line 1).
fn parse_toml(block: &[&str]) -> Result<Fields, (usize, String)> {
    let text = block.join("\n");
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map_or(1, |s| crate::problem::line_column(&text, s.start).0);
        (line + 1, e.message().trim().replace('\n', " "))
    })?;
    Ok(table
        .into_iter()
        .map(|(key, value)| {
            let value = match value {
                toml::Value::String(s) => Value::Text(s),
                toml::Value::Array(items) => items
                    .into_iter()
                    .map(|item| match item {
                        toml::Value::String(s) => Some(s),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()
                    .map_or(Value::Other, Value::List),
                _ => Value::Other,
            };
            (key, value)
        })
        .collect())
}

/// The YAML block's top-level keys.
fn parse_yaml(block: &[&str]) -> Result<Fields, (usize, String)> {
    let mut fields = Fields::new();
    let mut i = 0;
    let indented = |line: &str| line.starts_with([' ', '\t']);
    while i < block.len() {
        // Line numbers count the opening `---` as line 1.
        let (line, number) = (block[i], i + 2);
        i += 1;
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if indented(line) || trimmed.starts_with("- ") || trimmed == "-" {
            return Err((
                number,
                "expected `key: value` here (list items go under a `key:` line)".into(),
            ));
        }
        let Some((key, rest)) = split_key(trimmed) else {
            return Err((number, format!("expected `key: value`, found {trimmed:?}")));
        };
        let rest = rest.trim();
        // The lines that belong to this key: indented ones, and `- item` lines.
        let start = i;
        while i < block.len() {
            let next = block[i];
            let t = next.trim();
            if t.is_empty() || indented(next) || t.starts_with("- ") || t == "-" {
                i += 1;
            } else {
                break;
            }
        }
        let children: Vec<&str> = block[start..i]
            .iter()
            .copied()
            .filter(|l| !l.trim().is_empty() && !l.trim().starts_with('#'))
            .collect();
        let value = if rest.is_empty() || rest.starts_with('#') {
            if children.is_empty() {
                Value::Text(String::new())
            } else if children.iter().all(|l| l.trim().starts_with('-')) {
                let items = children.iter().map(|l| l.trim()[1..].trim());
                Value::List(items.map(scalar).filter(|s| !s.is_empty()).collect())
            } else {
                Value::Other
            }
        } else if rest.starts_with(['|', '>']) {
            let lines: Vec<&str> = block[start..i].iter().map(|l| l.trim()).collect();
            let sep = if rest.starts_with('|') { "\n" } else { " " };
            Value::Text(lines.join(sep).trim().to_string())
        } else if rest.starts_with('[') {
            Value::List(flow_list(rest).map_err(|m| (number, m))?)
        } else if children.is_empty() {
            Value::Text(scalar(rest))
        } else {
            // A plain scalar continued on indented lines: folded into one line.
            let more = children.iter().map(|l| l.trim());
            Value::Text(
                std::iter::once(scalar(rest).as_str())
                    .chain(more)
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        };
        fields.insert(scalar(key), value);
    }
    Ok(fields)
}

/// `key: rest` split at the first `:` followed by a blank or the end (a quoted key may hold
/// colons); `None` if the line has no such colon.
fn split_key(line: &str) -> Option<(&str, &str)> {
    let skip = match line.chars().next() {
        Some(q @ ('"' | '\'')) => line[1..].find(q).map_or(0, |i| i + 2),
        _ => 0,
    };
    let bytes = line.as_bytes();
    (skip..bytes.len())
        .find(|&i| bytes[i] == b':' && bytes.get(i + 1).is_none_or(|b| *b == b' ' || *b == b'\t'))
        .map(|i| (&line[..i], &line[i + 1..]))
}

/// A scalar's text: quotes removed (`''` in single quotes and the common escapes in double
/// quotes decoded), a trailing ` # comment` dropped, `~`/`null` empty.
fn scalar(raw: &str) -> String {
    let raw = raw.trim();
    let mut chars = raw.chars();
    match chars.next() {
        Some('"') => {
            let mut out = String::new();
            while let Some(c) = chars.next() {
                match c {
                    '"' => return out,
                    '\\' => match chars.next() {
                        Some('n') => out.push('\n'),
                        Some('t') => out.push('\t'),
                        Some(other) => out.push(other),
                        None => out.push('\\'),
                    },
                    _ => out.push(c),
                }
            }
            // Never closed: the text as written.
            raw.to_string()
        }
        Some('\'') => {
            let mut out = String::new();
            let mut rest = chars.peekable();
            while let Some(c) = rest.next() {
                if c != '\'' {
                    out.push(c);
                } else if rest.peek() == Some(&'\'') {
                    rest.next();
                    out.push('\'');
                } else {
                    return out;
                }
            }
            raw.to_string()
        }
        _ => {
            let plain = match raw.find(" #") {
                Some(i) => raw[..i].trim_end(),
                None => raw,
            };
            match plain {
                "~" | "null" | "Null" | "NULL" => String::new(),
                _ => plain.to_string(),
            }
        }
    }
}

/// The items of a flow list `[a, "b, c", 'd']`.
fn flow_list(raw: &str) -> Result<Vec<String>, String> {
    // `[a, b] # comment`: the list ends at its last `]`.
    let Some(end) = raw.rfind(']') else {
        return Err("a `[` list is not closed with `]` on the same line".into());
    };
    let inner = &raw[1..end];
    let mut items = Vec::new();
    let mut item = String::new();
    let mut quote: Option<char> = None;
    for c in inner.chars() {
        match (quote, c) {
            (None, ',') => items.push(std::mem::take(&mut item)),
            (None, '"' | '\'') if item.trim().is_empty() => {
                quote = Some(c);
                item.push(c);
            }
            (Some(q), c) if c == q => {
                quote = None;
                item.push(c);
            }
            _ => item.push(c),
        }
    }
    if quote.is_some() {
        return Err("a quoted item in a `[` list is not closed".into());
    }
    items.push(item);
    Ok(items
        .iter()
        .map(|s| scalar(s))
        .filter(|s| !s.is_empty())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Value {
        Value::Text(s.to_string())
    }

    fn list(items: &[&str]) -> Value {
        Value::List(items.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn shapes_table() {
        // (file, key, value)
        let cases: &[(&str, &str, Value)] = &[
            (
                "---\ntitle: How do I join?\n---\nbody",
                "title",
                text("How do I join?"),
            ),
            (
                "---\ntitle: \"Quoted: yes\"\n---\n",
                "title",
                text("Quoted: yes"),
            ),
            (
                "---\ntitle: 'It''s fine'\n---\n",
                "title",
                text("It's fine"),
            ),
            (
                "---\ntitle: plain # a comment\n---\n",
                "title",
                text("plain"),
            ),
            (
                "---\ntitle: \"Quoted?\" # a comment\n---\n",
                "title",
                text("Quoted?"),
            ),
            (
                "---\ntitle: \"say \\\"hi\\\" \\\\o/\"\n---\n",
                "title",
                text("say \"hi\" \\o/"),
            ),
            ("---\ntitle: 'a # b' # c\n---\n", "title", text("a # b")),
            ("---\ntitle: C# or F#\n---\n", "title", text("C# or F#")),
            ("---\nid: rules\n---\n", "id", text("rules")),
            (
                "---\naliases: [a, \"b, c\", 'd']\n---\n",
                "aliases",
                list(&["a", "b, c", "d"]),
            ),
            ("---\naliases: []\n---\n", "aliases", list(&[])),
            (
                "---\ntags:\n  - one\n  - \"two\"\n- three\n---\n",
                "tags",
                list(&["one", "two", "three"]),
            ),
            (
                "---\nanswer: |\n  line 1\n  line 2\n---\n",
                "answer",
                text("line 1\nline 2"),
            ),
            (
                "---\nanswer: >\n  folded\n  text\n---\n",
                "answer",
                text("folded text"),
            ),
            ("---\nembed:\n  title: nested\n---\n", "embed", Value::Other),
            ("---\nempty:\n---\n", "empty", text("")),
            ("---\r\ntitle: crlf\r\n---\r\nbody", "title", text("crlf")),
            (
                "+++\ntitle = \"TOML\"\naliases = [\"x\", \"y\"]\n+++\nbody",
                "title",
                text("TOML"),
            ),
            (
                "+++\ntitle = \"TOML\"\naliases = [\"x\", \"y\"]\n+++\nbody",
                "aliases",
                list(&["x", "y"]),
            ),
            ("+++\nweight = 3\n+++\n", "weight", Value::Other),
        ];
        for (file, key, want) in cases {
            let split = split(file).unwrap_or_else(|e| panic!("{file:?}: {e:?}"));
            assert_eq!(split.fields.get(*key), Some(want), "{file:?}");
        }
    }

    #[test]
    fn nested_keys_are_skipped_and_the_rest_kept() {
        let file = "---\ntitle: How do I join?\nmeta:\n  author:\n    name: Sam\n    roles: [mod, admin]\n  notes: |\n    two\n    lines\nauthors:\n- name: Sam\n  email: sam@example.org\n- name: Kim\naliases:\n  - can I join\nseo: {description: \"x: y\", image: a.png}\nkeywords: [join, whitelist]\n---\nAsk in #welcome.\n";
        let split = split(file).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(split.fields["title"], text("How do I join?"));
        assert_eq!(split.fields["aliases"], list(&["can I join"]));
        assert_eq!(split.fields["keywords"], list(&["join", "whitelist"]));
        assert_eq!(split.fields["meta"], Value::Other);
        assert_eq!(split.fields["authors"], Value::Other);
        assert_eq!(split.body, "Ask in #welcome.\n");
        let draft = crate::import::markdown::entry(file, "join").unwrap();
        assert_eq!(
            (draft.question.as_str(), draft.answer.as_str()),
            ("How do I join?", "Ask in #welcome.")
        );
        assert_eq!(draft.alternates, ["can I join"]);
        assert_eq!(draft.keywords, ["join", "whitelist"]);
    }

    #[test]
    fn body_and_its_offset() {
        let s = split("---\ntitle: x\nid: y\n---\n# Heading\ntext\n").unwrap();
        assert_eq!(s.body, "# Heading\ntext\n");
        assert_eq!(s.body_offset, 4);
        let none = split("# Just markdown\n---\nnot front matter\n").unwrap();
        assert!(none.fields.is_empty());
        assert_eq!(none.body_offset, 0);
        assert_eq!(none.body, "# Just markdown\n---\nnot front matter\n");
        let ended = split("---\ntitle: x\n...\nbody").unwrap();
        assert_eq!(ended.body, "body");
        assert_eq!(split("---\ntitle: x\n---").unwrap().body, "");
    }

    #[test]
    fn mistakes_are_located() {
        let cases: &[(&str, usize, &str)] = &[
            ("---\ntitle: x\n", 1, "never closed"),
            (
                "---\ntitle: x\njust words\n---\n",
                3,
                "expected `key: value`",
            ),
            ("---\n  - stray\n---\n", 2, "list items"),
            ("---\naliases: [a, b\n---\n", 2, "not closed"),
            ("+++\ntitle = \n+++\n", 2, ""),
        ];
        for (file, line, fragment) in cases {
            let (got, message) = split(file).unwrap_err();
            assert_eq!(got, *line, "{file:?}: {message}");
            assert!(message.contains(fragment), "{file:?}: {message}");
        }
    }
}
