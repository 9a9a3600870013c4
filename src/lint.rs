//! Pack lint: advice `qabot check` gives about a valid pack (too few alternates, answers
//! too long), beside the hard errors `knowledge::parse` refuses. Pure: no model, no I/O.

use std::fmt;
use std::path::PathBuf;

use crate::knowledge::{Entry, Knowledge};

/// Fewer alternates than this earns a warning; knowledge/README.md says "Aim for 6-15".
pub const MIN_ALTERNATES: usize = 6;
/// An answer longer than this many characters earns a warning; knowledge/README.md says
/// "roughly 400-1,200 characters".
pub const MAX_ANSWER_CHARS: usize = 1200;

/// One piece of advice, pointing at where the entry is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// What to change, and why.
    pub message: String,
}

impl fmt::Display for Warning {
    /// `path:line:` first, so editors can jump to it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "warning: {}:{}: {}",
            self.path.display(),
            self.line,
            self.message
        )
    }
}

/// Every warning for `knowledge`, in entry order.
pub fn lint(knowledge: &Knowledge) -> Vec<Warning> {
    knowledge.entries.iter().flat_map(entry_warnings).collect()
}

fn entry_warnings(entry: &Entry) -> Vec<Warning> {
    let mut messages = Vec::new();
    if entry.alternates.len() < MIN_ALTERNATES {
        messages.push(format!(
            "entry `{}` has {} alternates; knowledge/README.md recommends at least {MIN_ALTERNATES} varied phrasings",
            entry.id,
            entry.alternates.len()
        ));
    }
    let chars = entry.answer.chars().count();
    if chars > MAX_ANSWER_CHARS {
        messages.push(format!(
            "entry `{}`'s answer is {chars} characters; knowledge/README.md recommends at most {MAX_ANSWER_CHARS}: shorten it or split it into entries",
            entry.id
        ));
    }
    messages
        .into_iter()
        .map(|message| Warning {
            path: entry.origin.path.to_path_buf(),
            line: entry.origin.line,
            message,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(toml: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.toml"), toml).unwrap();
        let k = Knowledge::load_dir(dir.path()).unwrap();
        lint(&k).into_iter().map(|w| w.message).collect()
    }

    fn entry(alternates: usize, answer_len: usize) -> String {
        let alts: Vec<String> = (0..alternates)
            .map(|i| format!("\"how to deploy thing {i}\""))
            .collect();
        format!(
            "[[entry]]\nid = \"deploy\"\nquestion = \"How do I deploy?\"\nalternates = [{}]\nanswer = \"{}\"\n",
            alts.join(", "),
            "a".repeat(answer_len)
        )
    }

    #[test]
    fn each_kind_triggers_and_not() {
        let cases: &[(&str, String, bool)] = &[
            ("alternates", entry(2, 100), true),
            ("alternates", entry(MIN_ALTERNATES, 100), false),
            (
                "characters",
                entry(MIN_ALTERNATES, MAX_ANSWER_CHARS + 1),
                true,
            ),
            ("characters", entry(MIN_ALTERNATES, MAX_ANSWER_CHARS), false),
        ];
        for (kind, toml, want) in cases {
            let got = kinds(toml).iter().any(|m| m.contains(kind));
            assert_eq!(got, *want, "{kind}: {toml}");
        }
    }

    #[test]
    fn displays_path_line_first() {
        let w = Warning {
            path: "k/a.toml".into(),
            line: 3,
            message: "m".into(),
        };
        assert_eq!(w.to_string(), "warning: k/a.toml:3: m");
    }
}
