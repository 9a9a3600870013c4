//! The TOML text of an imported file: a header comment, then one `[[entry]]` per entry with
//! a comment saying where it came from.
//!
//! Values are written by the `toml` crate's serializer, so every string is escaped correctly
//! whatever it holds; answers with line breaks come out as multi-line strings.

use serde::Serialize;

/// One entry as written to the pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// A valid, unique id.
    pub id: String,
    /// The canonical question.
    pub question: String,
    /// Other phrasings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub alternates: Vec<String>,
    /// Keywords.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// The answer, as written.
    pub answer: String,
}

#[derive(Serialize)]
struct One<'a> {
    entry: [&'a Entry; 1],
}

/// `text` made safe for a one-line `#` comment: control characters (a line break in a file
/// name) become `?`.
pub fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// The whole file: `header` lines as comments, then each entry preceded by its `from`
/// comment.
pub fn file(header: &[String], entries: &[(String, Entry)]) -> Result<String, toml::ser::Error> {
    let mut out = String::new();
    for line in header {
        out.push_str("# ");
        out.push_str(&comment(line));
        out.push('\n');
    }
    for (from, entry) in entries {
        out.push_str("\n# from ");
        out.push_str(&comment(from));
        out.push('\n');
        out.push_str(&toml::to_string_pretty(&One { entry: [entry] })?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(answer: &str) -> Entry {
        Entry {
            id: "x".into(),
            question: "Q \"quoted\" \\ back?".into(),
            alternates: vec!["a 'b'".into(), "tab\there".into()],
            keywords: Vec::new(),
            answer: answer.into(),
        }
    }

    #[test]
    fn every_string_survives_the_round_trip() {
        let answers = [
            "plain",
            "two\nlines",
            "```sh\necho \"hi\" \\\n  there\n```",
            "ends with a quote\"",
            "ends with an apostrophe'",
            "three quotes \"\"\" and ''' inside\nand a line",
            "control \u{7} bell and \u{7f} delete\nline",
            "crlf\r\nline",
            "tab\tand emoji 🎲\n",
        ];
        for answer in answers {
            let e = entry(answer);
            let text = file(
                &["header\nwith a break".into()],
                &[("a.md:1\n[[entry]]".into(), e.clone())],
            )
            .unwrap();
            let parsed: toml::Table =
                toml::from_str(&text).unwrap_or_else(|err| panic!("{text}\n{err}"));
            let got = &parsed["entry"][0];
            assert_eq!(got["answer"].as_str(), Some(answer), "{text}");
            assert_eq!(got["question"].as_str(), Some(e.question.as_str()));
            assert_eq!(got["alternates"][1].as_str(), Some("tab\there"));
            assert!(got.get("keywords").is_none(), "{text}");
            assert_eq!(parsed["entry"].as_array().map(Vec::len), Some(1), "{text}");
        }
    }

    #[test]
    fn multi_line_answers_read_as_multi_line() {
        let text = file(&[], &[("a.md:1".into(), entry("**Bold**\n- one\n- two"))]).unwrap();
        assert!(text.contains("\n- one\n- two"), "{text}");
        assert!(
            text.starts_with("\n# from a.md:1\n[[entry]]\nid = \"x\"\n"),
            "{text}"
        );
    }
}
