//! The knowledge model: entries, comparison aspects and synonyms, loaded from `knowledge/`.
//!
//! A [`Knowledge`] is immutable once loaded and always valid: every id is unique and a
//! valid slash-command name, every aspect has a text for every subject. Reloading builds a new
//! one beside the old, so a bad edit never replaces good knowledge (see `parse` for the file
//! format and its checks).

mod parse;
mod texts;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::problem::{Problem, Problems};

pub use parse::{is_command_name, RESERVED_COMMANDS};
pub use texts::Texts;

/// Hears of each file as it is parsed, `(its number in path order, files, path, text)`, from
/// any of the parsing threads, in any order: what a terminal's progress line counts, and
/// what the start-up snapshot's key is made of (the very text parsed).
pub type LoadProgress<'a> = dyn Fn(usize, usize, &Path, &str) + Sync + 'a;

/// Knowledge files larger than this are refused rather than parsed.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Every entry of a knowledge directory, in file then file-order, plus its synonyms.
#[derive(Debug, Clone, Default)]
pub struct Knowledge {
    /// All entries; ids are unique.
    pub entries: Vec<Entry>,
    /// Word people type -> word(s) the knowledge uses.
    pub synonyms: BTreeMap<String, String>,
    /// Lowercase names of what the pack does not cover ("react", "java"): a question naming
    /// one, and none of the pack's subjects, is about something else.
    pub other_topics: Vec<String>,
}

/// One question and its answer, or one comparison with its aspects.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Kebab-case id, unique across the knowledge.
    pub id: String,
    /// The canonical question.
    pub question: String,
    /// Other ways people ask it.
    pub alternates: Texts,
    /// Terms that signal this entry beyond its questions' words.
    pub keywords: Texts,
    /// Phrasings that must not match this entry.
    pub negatives: Texts,
    /// The answer, in Discord markdown.
    pub answer: String,
    /// For comparisons: what is compared, in display order. Empty otherwise.
    pub subjects: Texts,
    /// For comparisons: the aspects, in display order. Empty otherwise, and possibly for a
    /// comparison that is only ever answered whole.
    pub aspects: Box<[Aspect]>,
    /// For comparisons: the closing verdict.
    pub verdict: Option<Box<str>>,
    /// Where the entry was written.
    pub origin: Origin,
}

/// One aspect of a comparison ("learning curve"), answerable on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Aspect {
    /// Kebab-case id, at most 32 characters: also the slash command's name.
    pub id: String,
    /// Human title ("Learning curve"), also the slash command's description.
    pub title: String,
    /// Optional one-line summary, used when the whole comparison is shown.
    pub summary: Option<String>,
    /// Terms that signal this aspect.
    pub keywords: Texts,
    /// One text per subject, in the entry's subject order.
    pub texts: Texts,
}

/// Where something was written, for messages that point back at the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The file, shared by every entry written in it.
    pub path: Arc<Path>,
    /// 1-based line.
    pub line: usize,
}

impl Entry {
    /// The aspect with this id, if the entry has one.
    pub fn aspect(&self, id: &str) -> Option<&Aspect> {
        self.aspects.iter().find(|a| a.id == id)
    }

    /// True for comparisons: entries with subjects, with or without aspects (a comparison
    /// without aspects is answered whole).
    pub fn is_comparison(&self) -> bool {
        !self.subjects.is_empty()
    }

    /// "Django vs Flask" for comparisons, the question otherwise.
    pub fn title(&self) -> String {
        if self.is_comparison() {
            self.subjects.join(" vs ")
        } else {
            self.question.clone()
        }
    }
}

impl Knowledge {
    /// Loads every `*.toml` file under `dir` (recursively, in path order; hidden files and
    /// folders are skipped). Returns every problem found, or the knowledge if there is none.
    pub fn load_dir(dir: &Path) -> Result<Knowledge, Problems> {
        Knowledge::load_dir_with(dir, &|_, _, _, _| {})
    }

    /// [`Knowledge::load_dir`], telling `progress` of each file parsed: a pack of thousands
    /// of files takes seconds to parse, and a terminal should show it.
    /// Files are read and parsed on every core, each on its own; what spans files (unique
    /// ids, synonyms) is checked afterwards in path order, so the knowledge and the problems
    /// are those of reading the files one by one.
    pub fn load_dir_with(dir: &Path, progress: &LoadProgress) -> Result<Knowledge, Problems> {
        use rayon::prelude::*;
        let files = toml_files(dir).map_err(|p| Problems(vec![p]))?;
        if files.is_empty() {
            return Err(Problems(vec![Problem::file(
                dir,
                "no .toml knowledge files here; see knowledge/README.md for the format",
            )]));
        }
        // Each worker reads a file as it gets to it: at 100,000 entries holding every file's
        // text at once would add their whole size (150 MB) to the peak memory.
        let parsed: Vec<Result<parse::FileParse, Problem>> = files
            .par_iter()
            .enumerate()
            .map(|(n, path)| {
                let text = crate::problem::read_text(path, MAX_FILE_BYTES)?;
                let file = parse::parse_file(path, &text);
                progress(n, files.len(), path, &text);
                Ok(file)
            })
            .collect();
        let mut problems = Vec::new();
        let built = parse::merge(parsed.into_iter().filter_map(|file| match file {
            Ok(file) => Some(file),
            Err(p) => {
                problems.push(p);
                None
            }
        }));
        match built {
            Ok(k) if problems.is_empty() => Ok(k),
            Ok(_) => Err(Problems(problems)),
            Err(Problems(more)) => {
                problems.extend(more);
                problems
                    .sort_by(|a, b| (&a.path, a.line, a.column).cmp(&(&b.path, b.line, b.column)));
                Err(Problems(problems))
            }
        }
    }

    /// Builds knowledge from `(path, text)` pairs, as if they were files. Checks everything,
    /// including what spans files (duplicate ids, conflicting synonyms).
    pub fn from_sources(sources: &[(PathBuf, String)]) -> Result<Knowledge, Problems> {
        parse::build(sources.iter().map(|(path, text)| (path, text)))
    }

    /// The entry with this id.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Every aspect id with the comparisons that have it, in knowledge order: the slash
    /// commands qabot offers beside `/ask`.
    pub fn aspect_commands(&self) -> Vec<(String, Vec<&Entry>)> {
        let mut out: Vec<(String, Vec<&Entry>)> = Vec::new();
        for entry in &self.entries {
            for aspect in &entry.aspects {
                match out.iter_mut().find(|(id, _)| *id == aspect.id) {
                    Some((_, entries)) => entries.push(entry),
                    None => out.push((aspect.id.clone(), vec![entry])),
                }
            }
        }
        out
    }
}

/// The `.toml` files under `dir`, sorted, skipping hidden names (editor swap files, `.git`).
pub(crate) fn toml_files(dir: &Path) -> Result<Vec<PathBuf>, Problem> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let read = std::fs::read_dir(&folder).map_err(|e| {
            Problem::file(&folder, format!("cannot read the knowledge folder: {e}"))
        })?;
        for item in read.flatten() {
            let path = item.path();
            let hidden = item.file_name().to_string_lossy().starts_with('.');
            let Ok(kind) = item.file_type() else { continue };
            if hidden {
                continue;
            }
            if kind.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "toml") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_pack_loads_with_the_contracted_ids() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let k = Knowledge::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
        let ids = [
            "django-vs-flask",
            "django-vs-fastapi",
            "what-is-django",
            "what-is-flask",
            "django-orm",
            "django-migrations",
            "django-admin",
            "django-auth",
            "django-templates",
            "django-forms",
            "django-rest-api",
            "django-async",
            "django-security",
            "django-deployment",
            "django-testing",
            "django-project-vs-app",
            "django-install",
            "django-performance",
            "django-mvt",
        ];
        for id in ids {
            assert!(k.entry(id).is_some(), "missing entry {id}");
        }
        let aspects = |id: &str| -> Vec<String> {
            k.entry(id)
                .unwrap()
                .aspects
                .iter()
                .map(|a| a.id.clone())
                .collect()
        };
        assert_eq!(
            aspects("django-vs-flask"),
            [
                "complexity",
                "flexibility",
                "learning-curve",
                "community",
                "use-cases"
            ]
        );
        assert_eq!(
            aspects("django-vs-fastapi"),
            ["performance", "async", "learning-curve", "use-cases"]
        );
        assert!(k.entry("django-vs-flask").unwrap().verdict.is_some());
    }

    #[test]
    fn aspect_commands_group_shared_aspects() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
        let k = Knowledge::load_dir(&dir).unwrap();
        let commands = k.aspect_commands();
        let (_, learning) = commands
            .iter()
            .find(|(id, _)| id == "learning-curve")
            .unwrap();
        let ids: Vec<&str> = learning.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["django-vs-flask", "django-vs-fastapi"]);
    }

    #[test]
    fn empty_folder_is_a_problem() {
        let dir = tempfile::tempdir().unwrap();
        let err = Knowledge::load_dir(dir.path()).unwrap_err();
        assert!(err.0[0].message.contains("no .toml knowledge files"));
    }

    #[test]
    fn every_file_is_read_and_every_problem_reported_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let entry =
            |id: &str| format!("[[entry]]\nid = \"{id}\"\nquestion = \"q\"\nanswer = \"a\"\n");
        std::fs::write(dir.path().join("a.toml"), entry("one")).unwrap();
        std::fs::write(dir.path().join("b.toml"), b"\xff\xfe not text").unwrap();
        std::fs::write(dir.path().join("c.toml"), entry("one")).unwrap();
        let err = Knowledge::load_dir(dir.path()).unwrap_err();
        let files: Vec<String> = err
            .0
            .iter()
            .map(|p| p.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(files, ["b.toml", "c.toml"], "{err}");
        assert!(err.0[1].message.contains("already used"), "{err}");

        std::fs::remove_file(dir.path().join("b.toml")).unwrap();
        std::fs::write(dir.path().join("c.toml"), entry("two")).unwrap();
        let k = Knowledge::load_dir(dir.path()).unwrap();
        let ids: Vec<&str> = k.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["one", "two"]);
        assert!(k.entries[1].origin.path.ends_with("c.toml"));
    }
}
