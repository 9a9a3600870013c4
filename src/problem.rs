//! Problems in files a person wrote (knowledge and config), located to the line and column.
//!
//! Every validation error qabot reports is a [`Problem`], printed as `path:line:column:
//! message` so editors and terminals can jump to it. Loading collects all of them rather than
//! stopping at the first, so an author fixes a file in one pass.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One thing wrong in one file, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, as given to the loader.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Problem {
    /// A problem at byte offset `at` of `source` (the text of `path`).
    pub fn at(path: &Path, source: &str, at: usize, message: impl Into<String>) -> Problem {
        let (line, column) = line_column(source, at);
        Problem {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A problem at the start of a span, when there is one, else at the top of the file.
    pub fn spanned(
        path: &Path,
        source: &str,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Problem {
        Problem::at(path, source, span.map_or(0, |s| s.start), message)
    }

    /// A problem with the file as a whole (cannot read it, not UTF-8, too big).
    pub fn file(path: &Path, message: impl Into<String>) -> Problem {
        Problem {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Everything wrong with a set of files. Never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

/// How many problems are printed one by one: past this, an author has a pasted block or a
/// wrong file to fix, not a list to read, and printing them all only buries the first.
pub const SHOWN: usize = 100;

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.0.iter().take(SHOWN).enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        if let Some(rest) = self.0.len().checked_sub(SHOWN).filter(|&n| n > 0) {
            write!(
                f,
                "\n... and {rest} more problem{}; fix these first",
                if rest == 1 { "" } else { "s" }
            )?;
        }
        Ok(())
    }
}

/// A text's line breaks, found once: locating each of many problems is then a binary search
/// and a walk along one line, so reporting stays linear however many problems a file has.
pub struct Lines<'a> {
    source: &'a str,
    newlines: Vec<usize>,
}

impl<'a> Lines<'a> {
    /// Indexes `source`'s line breaks.
    pub fn new(source: &'a str) -> Lines<'a> {
        Lines {
            source,
            newlines: source.match_indices('\n').map(|(i, _)| i).collect(),
        }
    }

    /// The 1-based line of byte offset `at`.
    pub fn line(&self, at: usize) -> usize {
        self.newlines.partition_point(|&n| n < at) + 1
    }

    /// What [`line_column`] says of `at`, without reading the text before its line.
    pub fn line_column(&self, at: usize) -> (usize, usize) {
        let mut at = at.min(self.source.len());
        while !self.source.is_char_boundary(at) {
            at -= 1;
        }
        let line = self.line(at);
        let start = match line {
            1 => 0,
            n => self.newlines[n - 2] + 1,
        };
        (line, self.source[start..at].chars().count() + 1)
    }

    /// A problem at byte offset `at` of `path`, this text.
    pub fn problem(&self, path: &Path, at: usize, message: impl Into<String>) -> Problem {
        let (line, column) = self.line_column(at);
        Problem {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// 1-based line and character column of byte offset `at` in `source` (clamped to its end).
pub fn line_column(source: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(source.len());
    while !source.is_char_boundary(at) {
        at -= 1;
    }
    let before = &source[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Reads a file a person wrote, refusing what cannot be text: not a regular file, more than
/// `max_bytes`, or not UTF-8 (with the line and column of the first bad byte).
pub fn read_text(path: &Path, max_bytes: u64) -> Result<String, Problem> {
    let bytes = read_regular_file(path, max_bytes).map_err(|reason| Problem::file(path, reason))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let source = String::from_utf8_lossy(&e.as_bytes()[..valid]).into_owned();
        Problem::at(
            path,
            &source,
            valid,
            "not valid UTF-8 text; save the file as UTF-8",
        )
    })
}

/// Reads at most `max_bytes` of a regular file (a symlink to one is fine). Anything else (a
/// FIFO, socket or device) is refused before it is opened: opening a FIFO blocks until a
/// writer comes, which would hang `check` or a reload. The error is a sentence for a person.
pub fn read_regular_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read this file: {e}"))?;
    if !meta.is_file() {
        return Err(if meta.is_dir() {
            "is a folder, not a file".to_string()
        } else {
            "not a regular file (a pipe, socket or device?); only regular files are read"
                .to_string()
        });
    }
    if meta.len() > max_bytes {
        return Err(format!(
            "file is {} bytes, more than the {max_bytes} allowed; split it into smaller files",
            meta.len()
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read this file: {e}"))?;
    // The file may have grown since the metadata was read: never read past the cap.
    std::io::Read::read_to_end(&mut std::io::Read::take(file, max_bytes + 1), &mut bytes)
        .map_err(|e| format!("cannot read this file: {e}"))?;
    if bytes.len() as u64 > max_bytes {
        return Err(format!(
            "file is more than the {max_bytes} bytes allowed; split it into smaller files"
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_column_table() {
        let src = "ab\ncdé\nf";
        let cases = [
            (0, (1, 1)),
            (1, (1, 2)),
            (3, (2, 1)),
            (7, (2, 4)),
            (8, (3, 1)),
            (99, (3, 2)),
        ];
        for (at, want) in cases {
            assert_eq!(line_column(src, at), want, "offset {at}");
        }
        assert_eq!(line_column(src, 6), (2, 3), "inside a multi-byte char");
        let lines = Lines::new(src);
        for at in 0..12 {
            assert_eq!(lines.line_column(at), line_column(src, at), "offset {at}");
        }
    }

    #[test]
    fn past_a_hundred_problems_the_rest_is_a_count() {
        let many = |n: usize| {
            Problems(
                (1..=n)
                    .map(|line| Problem::at(Path::new("a.toml"), "", 0, format!("bad {line}")))
                    .collect(),
            )
            .to_string()
        };
        assert_eq!(many(SHOWN).lines().count(), SHOWN);
        let text = many(SHOWN + 2);
        assert_eq!(text.lines().count(), SHOWN + 1);
        assert!(
            text.ends_with("... and 2 more problems; fix these first"),
            "{text}"
        );
        assert!(many(SHOWN + 1).ends_with("... and 1 more problem; fix these first"));
    }

    #[test]
    fn display_is_path_line_column_message() {
        let p = Problem::at(Path::new("k/a.toml"), "x\ny", 2, "bad");
        assert_eq!(p.to_string(), "k/a.toml:2:1: bad");
    }

    #[test]
    fn read_text_refuses_binary_and_huge() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin.toml");
        std::fs::write(&bin, b"id = 1\nx = \"\xff\xfe\"").unwrap();
        let err = read_text(&bin, 1 << 20).unwrap_err();
        assert_eq!((err.line, err.column), (2, 6));
        assert!(err.message.contains("UTF-8"));
        let big = dir.path().join("big.toml");
        std::fs::write(&big, vec![b'#'; 2048]).unwrap();
        assert!(read_text(&big, 1024)
            .unwrap_err()
            .message
            .contains("more than"));
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("y.toml");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !status.is_ok_and(|s| s.success()) {
            panic!("mkfifo is needed for this test");
        }
        let err = read_text(&fifo, 1 << 20).unwrap_err();
        assert!(err.message.contains("not a regular file"), "{err}");
        // In a knowledge folder, beside a good file: one located problem, at once.
        std::fs::write(
            dir.path().join("a.toml"),
            "[[entry]]\nid = \"a\"\nquestion = \"q\"\nanswer = \"a\"\n",
        )
        .unwrap();
        let problems = crate::Knowledge::load_dir(dir.path()).unwrap_err();
        assert_eq!(problems.0.len(), 1, "{problems}");
        // A symlink to a regular file is read like the file.
        let link = dir.path().join("link.toml");
        std::os::unix::fs::symlink(dir.path().join("a.toml"), &link).unwrap();
        assert!(read_text(&link, 1 << 20).unwrap().contains("[[entry]]"));
        assert!(
            problems
                .to_string()
                .starts_with(&format!("{}:1:1: not a regular file", fifo.display())),
            "{problems}"
        );
    }
}
