//! Spreadsheet sources: CSV and TSV read as RFC 4180 records, and a header row naming the
//! columns (`question`, `answer`, optional `id`, `alternates`, `keywords`) mapped to drafts.
//!
//! The reader follows RFC 4180 with the usual leniencies: LF or CRLF line ends, a byte order
//! mark, spaces around a quoted field, and the same quoting rules for tabs as for commas (what
//! spreadsheet programs write). A quoted field may hold delimiters, newlines and doubled
//! quotes (`""` is one `"`).

use super::{Draft, SourceError};

/// One row of a table: its fields, and the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The 1-based line where the record starts.
    pub line: usize,
    /// The fields, unquoted.
    pub fields: Vec<String>,
}

/// What makes a table unreadable, with the line to look at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    /// A quoted field runs to the end of the file.
    #[error("a quoted field starting on this line is never closed; add the closing `\"` (a `\"` inside a quoted field is written `\"\"`)")]
    Unclosed {
        /// Where the field starts.
        line: usize,
    },
    /// Text between a closing quote and the next delimiter.
    #[error("{found:?} after the closing `\"` of a quoted field; a quoted field ends at a delimiter or the end of the line (a `\"` inside it is written `\"\"`)")]
    AfterQuote {
        /// Where it was found.
        line: usize,
        /// What was found.
        found: char,
    },
}

impl CsvError {
    /// The 1-based line to look at.
    pub fn line(&self) -> usize {
        match self {
            CsvError::Unclosed { line } | CsvError::AfterQuote { line, .. } => *line,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a field (only blanks so far).
    Start,
    /// Inside an unquoted field.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// After a quoted field's closing quote.
    AfterQuote,
}

/// Every record of `text`, fields separated by `delimiter`. Empty lines are skipped.
pub fn records(text: &str, delimiter: char) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut state = State::Start;
    let (mut line, mut record_line, mut quote_line) = (1, 1, 1);
    let mut chars = text.chars().peekable();
    let is_blank = |c: char| (c == ' ' || c == '\t') && c != delimiter;
    while let Some(c) = chars.next() {
        let newline = c == '\n' || c == '\r';
        if c == '\r' && chars.peek() == Some(&'\n') {
            chars.next();
        }
        match state {
            State::Quoted => {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        state = State::AfterQuote;
                    }
                } else if newline {
                    line += 1;
                    field.push('\n');
                } else {
                    field.push(c);
                }
                continue;
            }
            State::AfterQuote if !(newline || c == delimiter || is_blank(c)) => {
                return Err(CsvError::AfterQuote { line, found: c });
            }
            State::AfterQuote if is_blank(c) => continue,
            State::Start if c == '"' => {
                // Blanks before an opening quote are layout, not content.
                field.clear();
                state = State::Quoted;
                quote_line = line;
                continue;
            }
            _ => {}
        }
        if c == delimiter {
            fields.push(std::mem::take(&mut field));
            state = State::Start;
        } else if newline {
            fields.push(std::mem::take(&mut field));
            let record = std::mem::take(&mut fields);
            if !(record.len() == 1 && record[0].is_empty() && state == State::Start) {
                out.push(Record {
                    line: record_line,
                    fields: record,
                });
            }
            line += 1;
            record_line = line;
            state = State::Start;
        } else {
            field.push(c);
            if !(state == State::Start && is_blank(c)) {
                state = State::Unquoted;
            }
        }
    }
    if state == State::Quoted {
        return Err(CsvError::Unclosed { line: quote_line });
    }
    if !(fields.is_empty() && field.is_empty() && state == State::Start) {
        fields.push(field);
        out.push(Record {
            line: record_line,
            fields,
        });
    }
    Ok(out)
}

/// A column the importer knows, by what its header says.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Column {
    Id,
    Question,
    Answer,
    Alternates,
    Keywords,
}

/// The column a header cell names (case and blanks ignored), if it is one qabot reads.
fn column(name: &str) -> Option<Column> {
    match name.trim().to_lowercase().as_str() {
        "id" => Some(Column::Id),
        "question" | "title" => Some(Column::Question),
        "answer" => Some(Column::Answer),
        "alternates" | "aliases" => Some(Column::Alternates),
        "keywords" | "tags" => Some(Column::Keywords),
        _ => None,
    }
}

/// A list cell: items separated by `;` or `|`, trimmed, empty ones dropped.
pub fn list(cell: &str) -> Vec<String> {
    cell.split([';', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// What a table holds: its entries, and the header cells it did not use.
#[derive(Debug, Default)]
pub struct Table {
    /// One draft per non-blank row; `Draft::line` is the row's line.
    pub drafts: Vec<Draft>,
    /// Header cells naming no column qabot reads (left out of the pack).
    pub ignored_columns: Vec<String>,
}

/// Reads a FAQ table: a header row, then one entry per row. Errors carry their line.
pub fn table(text: &str, delimiter: char) -> Result<Table, (usize, SourceError)> {
    let rows = records(text, delimiter).map_err(|e| (e.line(), SourceError::Csv(e)))?;
    let Some((header, rows)) = rows.split_first() else {
        return Err((1, SourceError::Empty));
    };
    let columns: Vec<Option<Column>> = header.fields.iter().map(|h| column(h)).collect();
    let position = |c: Column| columns.iter().position(|&k| k == Some(c));
    let missing: Vec<&'static str> = [(Column::Question, "question"), (Column::Answer, "answer")]
        .into_iter()
        .filter(|&(c, _)| position(c).is_none())
        .map(|(_, name)| name)
        .collect();
    if !missing.is_empty() {
        return Err((
            header.line,
            SourceError::MissingColumns {
                missing,
                found: header.fields.clone(),
            },
        ));
    }
    let mut out = Table {
        ignored_columns: header
            .fields
            .iter()
            .zip(&columns)
            .filter(|(_, c)| c.is_none())
            .map(|(h, _)| h.trim().to_string())
            .collect(),
        ..Table::default()
    };
    for row in rows {
        if row.fields.len() > columns.len()
            && row.fields[columns.len()..]
                .iter()
                .any(|f| !f.trim().is_empty())
        {
            return Err((
                row.line,
                SourceError::ExtraFields {
                    got: row.fields.len(),
                    want: columns.len(),
                },
            ));
        }
        if row.fields.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let cell = |c: Column| {
            position(c)
                .and_then(|i| row.fields.get(i))
                .map_or("", |s| s.trim())
        };
        let question = cell(Column::Question);
        if question.is_empty() {
            return Err((row.line, SourceError::NoQuestion));
        }
        let answer = cell(Column::Answer);
        if answer.is_empty() {
            return Err((
                row.line,
                SourceError::NoAnswer {
                    question: question.to_string(),
                },
            ));
        }
        let id = cell(Column::Id);
        out.drafts.push(Draft {
            id: (!id.is_empty()).then(|| id.to_string()),
            question: question.to_string(),
            alternates: list(cell(Column::Alternates)),
            keywords: list(cell(Column::Keywords)),
            answer: answer.to_string(),
            line: row.line,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str, delimiter: char) -> Vec<Vec<String>> {
        records(text, delimiter)
            .unwrap()
            .into_iter()
            .map(|r| r.fields)
            .collect()
    }

    #[test]
    fn quoting_table() {
        // (input, delimiter, expected fields per record)
        let cases: &[(&str, char, &[&[&str]])] = &[
            ("a,b\n1,2\n", ',', &[&["a", "b"], &["1", "2"]]),
            ("a,b\r\n1,2", ',', &[&["a", "b"], &["1", "2"]]),
            ("\u{feff}q,a\n", ',', &[&["q", "a"]]),
            ("\"x, y\",z", ',', &[&["x, y", "z"]]),
            ("\"say \"\"hi\"\"\",z", ',', &[&["say \"hi\"", "z"]]),
            (
                "\"line 1\nline 2\",z\nnext,row",
                ',',
                &[&["line 1\nline 2", "z"], &["next", "row"]],
            ),
            ("\"crlf\r\ninside\",z", ',', &[&["crlf\ninside", "z"]]),
            ("a,,c", ',', &[&["a", "", "c"]]),
            ("a,b,", ',', &[&["a", "b", ""]]),
            ("\"\",x", ',', &[&["", "x"]]),
            ("a,b\n\n\nc,d\n", ',', &[&["a", "b"], &["c", "d"]]),
            (
                "q, \"spaced, quoted\" ,z",
                ',',
                &[&["q", "spaced, quoted", "z"]],
            ),
            ("it's \"fine\" here,z", ',', &[&["it's \"fine\" here", "z"]]),
            (
                "a\tb, c\n1\t\"x\ty\"",
                '\t',
                &[&["a", "b, c"], &["1", "x\ty"]],
            ),
            ("\"multi\n\nparagraph\"", ',', &[&["multi\n\nparagraph"]]),
        ];
        for (input, delimiter, want) in cases {
            let got = fields(input, *delimiter);
            let want: Vec<Vec<String>> = want
                .iter()
                .map(|r| r.iter().map(|s| s.to_string()).collect())
                .collect();
            assert_eq!(got, want, "{input:?}");
        }
    }

    #[test]
    fn records_know_their_lines() {
        let got = records("h1,h2\n\"a\nb\nc\",x\nlast,y\n", ',').unwrap();
        let lines: Vec<usize> = got.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 2, 5]);
    }

    #[test]
    fn broken_quoting_is_located() {
        let cases = [
            ("q,a\n\"open,x\nmore\n", CsvError::Unclosed { line: 2 }),
            (
                "q,a\nx,y\n\"closed\"oops,z",
                CsvError::AfterQuote {
                    line: 3,
                    found: 'o',
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(records(input, ',').unwrap_err(), want, "{input:?}");
        }
    }

    #[test]
    fn table_maps_columns_and_lists() {
        let text = "Question,Answer,ID,alternates,keywords,category\n\
                    \"How do I join?\",\"Click **Join**, then wait.\",join,\"join?; how to join | sign up\",\"join;invite\",x\n\
                    ,,,,,\n\
                    Where are the rules?,In #rules.,,,,\n";
        let t = table(text, ',').unwrap();
        assert_eq!(t.ignored_columns, ["category"]);
        assert_eq!(t.drafts.len(), 2);
        let d = &t.drafts[0];
        assert_eq!(d.id.as_deref(), Some("join"));
        assert_eq!(d.question, "How do I join?");
        assert_eq!(d.answer, "Click **Join**, then wait.");
        assert_eq!(d.alternates, ["join?", "how to join", "sign up"]);
        assert_eq!(d.keywords, ["join", "invite"]);
        assert_eq!((t.drafts[1].id.as_deref(), t.drafts[1].line), (None, 4));
    }

    #[test]
    fn table_refusals_name_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("q,answer\nx,y\n", 1, "no `question` column"),
            ("question,reply\nx,y\n", 1, "no `answer` column"),
            ("name,text\n", 1, "no `question` or `answer` columns"),
            ("", 1, "nothing to import"),
            ("question,answer\nx,y,z\n", 2, "3 fields"),
            ("question,answer\n,y\n", 2, "no question"),
            ("question,answer\nx,\n", 2, "has no answer"),
        ];
        for (text, line, fragment) in cases {
            let (got_line, e) = table(text, ',').unwrap_err();
            assert_eq!(got_line, *line, "{text:?}");
            let message = e.to_string();
            assert!(message.contains(fragment), "{text:?}: {message}");
        }
    }
}
