//! `qabot import`: existing FAQ material turned into a valid knowledge pack.
//!
//! The readers ([`markdown`] with [`front_matter`], [`csv`]) turn each source into drafts;
//! [`ids`] makes their ids valid and unique; [`plan`] does all of it in memory, writes the
//! TOML (`render`) and checks it with the pack's own parser, noting every change it made in a
//! [`Report`]; [`write`] then puts the files on disk, never over an existing file unless asked,
//! and loads the folder back as `qabot check` would.

pub mod csv;
pub mod front_matter;
pub mod ids;
pub mod markdown;
mod render;

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use crate::problem::{Problem, Problems};
use crate::Knowledge;

/// Sources larger than this are refused (the knowledge loader's own cap).
pub const MAX_SOURCE_BYTES: u64 = crate::knowledge::MAX_FILE_BYTES;

/// An answer longer than this does not fit one Discord embed: it is kept whole (qabot sends
/// it in several parts) and flagged in the report.
pub const LONG_ANSWER: usize = crate::reply::limits::DESCRIPTION;

/// One entry as a source gives it, before its id is made valid and unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// The id the source gives (an `id` column or key, a file name), if any.
    pub id: Option<String>,
    /// The question.
    pub question: String,
    /// Other phrasings.
    pub alternates: Vec<String>,
    /// Keywords.
    pub keywords: Vec<String>,
    /// The answer, as written.
    pub answer: String,
    /// The 1-based line of the source where the entry starts.
    pub line: usize,
}

/// What is wrong with a source's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// Nothing to import.
    #[error("nothing to import here (no entries)")]
    Empty,
    /// A Markdown entry or a table row without a question.
    #[error("no question: give the file a `# Question` heading or a `title:` in its front matter (in a table, fill the `question` cell)")]
    NoQuestion,
    /// A one-file FAQ without headings.
    #[error("no `#` or `##` headings (nor lines underlined with `===` or `---`): in a one-file FAQ each question is a heading with its answer below it")]
    NoHeadings,
    /// A question with nothing under it.
    #[error("question {question:?} has no answer; write the answer below it (in a table, in the `answer` cell)")]
    NoAnswer {
        /// The question.
        question: String,
    },
    /// Front matter that cannot be read.
    #[error("front matter: {0}")]
    FrontMatter(String),
    /// Broken quoting in a table.
    #[error("{0}")]
    Csv(#[from] csv::CsvError),
    /// A header row without the columns an entry needs.
    #[error("no {} column{}: the first row must name the columns, with at least `question` and `answer` (found {found:?})",
        .missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" or "),
        if .missing.len() > 1 { "s" } else { "" })]
    MissingColumns {
        /// The required columns not found.
        missing: Vec<&'static str>,
        /// The header's cells.
        found: Vec<String>,
    },
    /// A row longer than the header.
    #[error("this row has {got} fields but the header row has {want}; is a quote missing?")]
    ExtraFields {
        /// Fields in the row.
        got: usize,
        /// Fields in the header.
        want: usize,
    },
}

/// Why an import did not happen (or, for [`ImportError::Folder`], did not end well).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A source cannot be read (missing, not a regular file, too big, not UTF-8).
    #[error("{0}")]
    Read(Problem),
    /// A file of a kind the importer does not read.
    #[error("{}: qabot import reads a folder of .md files, a .md FAQ, a .csv or a .tsv file; rename the file if it is one of these", .path.display())]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A source whose content cannot be imported.
    #[error("{}{}: {what}", .path.display(), at_line(.line))]
    Source {
        /// The file.
        path: PathBuf,
        /// The 1-based line, 0 for the file as a whole.
        line: usize,
        /// What is wrong.
        what: SourceError,
    },
    /// An output file exists and `--force` was not given.
    #[error("{} already exists; pass --force to overwrite it, or choose another --out folder (nothing was written)", .path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// Writing failed.
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The pack could not be written as TOML: a bug.
    #[error("cannot write the pack as TOML (a bug in qabot import; please report it): {0}")]
    Render(#[from] toml::ser::Error),
    /// The pack written does not validate: a bug. Nothing was written.
    #[error("the imported pack does not validate (a bug in qabot import; please report it); nothing was written:\n{0}")]
    Invalid(Problems),
    /// The files were written, but the output folder as a whole does not load (another
    /// file there has problems).
    #[error("the imported files were written, but {} does not load as a whole (another file there?):\n{problems}", .dir.display())]
    Folder {
        /// The output folder.
        dir: PathBuf,
        /// Its problems.
        problems: Problems,
    },
}

impl ImportError {
    /// True for the errors that are qabot's fault, not the input's.
    pub fn is_bug(&self) -> bool {
        matches!(self, ImportError::Render(_) | ImportError::Invalid(_))
    }
}

fn at_line(line: &usize) -> String {
    if *line == 0 {
        String::new()
    } else {
        format!(":{line}")
    }
}

/// A place in a source: `file:line`, or the file alone (line 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The file.
    pub file: PathBuf,
    /// 1-based line; 0 for the whole file.
    pub line: usize,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.file.display(), at_line(&self.line))
    }
}

/// One change the import made, or one thing it left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// A given id (id column or key, file name) was not valid.
    IdRepaired {
        /// The entry.
        at: Place,
        /// The id as given.
        from: String,
        /// The id written.
        to: String,
    },
    /// An id was already taken.
    Renamed {
        /// The entry.
        at: Place,
        /// The id it wanted.
        from: String,
        /// The id written.
        to: String,
        /// Who has `from`.
        first: Place,
    },
    /// An answer longer than one Discord embed.
    LongAnswer {
        /// The entry.
        at: Place,
        /// Its id.
        id: String,
        /// Its length in characters.
        chars: usize,
    },
    /// Text outside every question of a one-file FAQ (a title, an intro).
    LeftOut {
        /// The file.
        file: PathBuf,
        /// First line.
        from: usize,
        /// Last line.
        to: usize,
    },
    /// A file in a Markdown folder that is not imported.
    Skipped {
        /// The file.
        path: PathBuf,
        /// Why.
        why: &'static str,
    },
    /// A table column the importer does not read.
    IgnoredColumn {
        /// The file.
        file: PathBuf,
        /// The header cell.
        name: String,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::IdRepaired { at, from, to } => {
                write!(f, "id repaired: {at}: {from:?} -> {to:?}")
            }
            Note::Renamed {
                at,
                from,
                to,
                first,
            } => write!(
                f,
                "duplicate renamed: {at}: {from:?} -> {to:?} ({from:?} is {first})"
            ),
            Note::LongAnswer { at, id, chars } => write!(
                f,
                "long answer: {at}: {id:?} is {chars} characters, more than one Discord embed holds ({LONG_ANSWER}); kept whole (qabot sends it in parts), but consider shortening or splitting it"
            ),
            Note::LeftOut { file, from, to } => {
                let lines = if from == to {
                    format!("line {from}")
                } else {
                    format!("lines {from}-{to}")
                };
                write!(
                    f,
                    "left out: {}: {lines}, text that is under no question (a title or an introduction)",
                    file.display()
                )
            }
            Note::Skipped { path, why } => write!(f, "skipped: {}: {why}", path.display()),
            Note::IgnoredColumn { file, name } => write!(
                f,
                "ignored column: {}: {name:?} (columns read: question, answer, id, alternates, keywords)",
                file.display()
            ),
        }
    }
}

/// One file to write.
#[derive(Debug, Clone)]
pub struct OutFile {
    /// Where, inside the output folder.
    pub path: PathBuf,
    /// The source it comes from.
    pub source: PathBuf,
    /// Its TOML text.
    pub text: String,
    /// How many entries it holds.
    pub entries: usize,
}

/// An import ready to write: its files, and what it changed.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The output folder.
    pub out: PathBuf,
    /// One file per source.
    pub files: Vec<OutFile>,
    /// Every change made and everything left out, in source order.
    pub notes: Vec<Note>,
    /// How many ids were made from questions (no id given).
    pub ids_from_questions: usize,
}

impl Plan {
    /// Entries in all files.
    pub fn entries(&self) -> usize {
        self.files.iter().map(|f| f.entries).sum()
    }
}

/// What a plan says when printed: the report of an import.
pub struct Report<'a>(pub &'a Plan);

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plan = self.0;
        for file in &plan.files {
            writeln!(
                f,
                "wrote {}: {} entr{} from {}",
                file.path.display(),
                file.entries,
                if file.entries == 1 { "y" } else { "ies" },
                file.source.display()
            )?;
        }
        for note in &plan.notes {
            writeln!(f, "{note}")?;
        }
        let count = |kind: fn(&Note) -> bool| plan.notes.iter().filter(|n| kind(n)).count();
        let counted =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        write!(
            f,
            "{}: {}, {}, {}, {}",
            counted(plan.entries(), "entry imported", "entries imported"),
            counted(
                count(|n| matches!(n, Note::IdRepaired { .. })),
                "id repaired",
                "ids repaired"
            ),
            counted(
                count(|n| matches!(n, Note::Renamed { .. })),
                "duplicate renamed",
                "duplicates renamed"
            ),
            counted(
                plan.ids_from_questions,
                "id made from its question",
                "ids made from their questions"
            ),
            counted(
                count(|n| matches!(n, Note::LongAnswer { .. })),
                "long answer flagged",
                "long answers flagged"
            ),
        )
    }
}

/// How a source is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A folder of `.md` files, one entry each.
    MarkdownFolder,
    /// One `.md` file, a heading per question.
    MarkdownFaq,
    /// A table with a header row, fields separated by this character.
    Table(char),
}

/// The format of `path`: a folder, or by its extension.
pub fn format_of(path: &Path) -> Result<Format, ImportError> {
    if path.is_dir() {
        return Ok(Format::MarkdownFolder);
    }
    let ext = path.extension().map(|e| e.to_string_lossy().to_lowercase());
    match ext.as_deref() {
        Some("md" | "markdown") => Ok(Format::MarkdownFaq),
        Some("csv") => Ok(Format::Table(',')),
        Some("tsv" | "tab") => Ok(Format::Table('\t')),
        _ => match std::fs::symlink_metadata(path) {
            // Say that it is missing, not that its name is wrong.
            Err(e) => Err(ImportError::Read(Problem::file(
                path,
                format!("cannot read this file: {e}"),
            ))),
            Ok(_) => Err(ImportError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        },
    }
}

/// A source's text, with Windows line ends made plain.
fn read(path: &Path) -> Result<String, Problem> {
    let text = crate::problem::read_text(path, MAX_SOURCE_BYTES)?;
    Ok(if text.contains('\r') {
        text.replace("\r\n", "\n")
    } else {
        text
    })
}

/// A draft with the file it comes from.
struct Item {
    file: PathBuf,
    draft: Draft,
}

fn located(path: &Path) -> impl Fn((usize, SourceError)) -> ImportError + '_ {
    move |(line, what)| ImportError::Source {
        path: path.to_path_buf(),
        line,
        what,
    }
}

/// Reads one source into drafts, noting what it leaves out.
fn read_source(path: &Path, notes: &mut Vec<Note>) -> Result<Vec<Item>, ImportError> {
    let items = match format_of(path)? {
        Format::MarkdownFaq => {
            let text = read(path).map_err(ImportError::Read)?;
            let faq = markdown::faq(&text).map_err(located(path))?;
            notes.extend(faq.left_out.iter().map(|&(from, to)| Note::LeftOut {
                file: path.to_path_buf(),
                from,
                to,
            }));
            faq.drafts
                .into_iter()
                .map(|draft| Item {
                    file: path.to_path_buf(),
                    draft,
                })
                .collect()
        }
        Format::Table(delimiter) => {
            let text = read(path).map_err(ImportError::Read)?;
            let table = csv::table(&text, delimiter).map_err(located(path))?;
            notes.extend(
                table
                    .ignored_columns
                    .into_iter()
                    .map(|name| Note::IgnoredColumn {
                        file: path.to_path_buf(),
                        name,
                    }),
            );
            table
                .drafts
                .into_iter()
                .map(|draft| Item {
                    file: path.to_path_buf(),
                    draft,
                })
                .collect()
        }
        Format::MarkdownFolder => read_folder(path, notes)?,
    };
    if items.is_empty() {
        return Err(ImportError::Source {
            path: path.to_path_buf(),
            line: 0,
            what: SourceError::Empty,
        });
    }
    Ok(items)
}

/// A folder of Markdown files, one entry each, in name order.
fn read_folder(dir: &Path, notes: &mut Vec<Note>) -> Result<Vec<Item>, ImportError> {
    let cannot = |e: std::io::Error| {
        ImportError::Read(Problem::file(dir, format!("cannot read this folder: {e}")))
    };
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(cannot)?
        .map(|item| item.map(|i| i.path()))
        .collect::<Result<_, _>>()
        .map_err(cannot)?;
    paths.sort();
    let mut items = Vec::new();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let is_md = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown"));
        if name.starts_with('.') {
            continue;
        }
        let why = if path.is_dir() {
            Some("a folder (only the .md files directly in the source folder are read)")
        } else if !is_md {
            Some("not a .md file")
        } else if name.to_lowercase().starts_with("readme.") {
            Some("a folder's README, not an entry")
        } else {
            None
        };
        if let Some(why) = why {
            notes.push(Note::Skipped { path, why });
            continue;
        }
        let text = read(&path).map_err(ImportError::Read)?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let draft = markdown::entry(&text, &stem).map_err(located(&path))?;
        items.push(Item { file: path, draft });
    }
    Ok(items)
}

/// Texts made one line (a question or alternate spread over lines in a table cell), blank
/// ones and repeats (ignoring case, and `skip`) dropped.
fn clean_list(items: &[String], skip: &str) -> Vec<String> {
    let mut seen: HashSet<String> = HashSet::from([skip.to_lowercase()]);
    items
        .iter()
        .map(|s| one_line(s))
        .filter(|s| !s.is_empty() && seen.insert(s.to_lowercase()))
        .collect()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `.toml` files under `dir` (recursively, hidden names skipped), as the loader sees them.
fn existing_toml(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&folder) else {
            continue;
        };
        for item in read.flatten() {
            let path = item.path();
            if item.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            match item.file_type() {
                Ok(kind) if kind.is_dir() => stack.push(path),
                Ok(_) if path.extension().is_some_and(|e| e == "toml") => out.push(path),
                _ => {}
            }
        }
    }
    out
}

/// The entry ids in a knowledge file, as far as it reads (a broken file gives none: the
/// final load reports it).
fn ids_in(path: &Path) -> Vec<String> {
    let Ok(text) = crate::problem::read_text(path, MAX_SOURCE_BYTES) else {
        return Vec::new();
    };
    let Ok(table) = toml::from_str::<toml::Table>(&text) else {
        return Vec::new();
    };
    let Some(entries) = table.get("entry").and_then(toml::Value::as_array) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|e| e.get("id").and_then(toml::Value::as_str))
        .map(str::to_string)
        .collect()
}

/// The output file name for a source: its name without extension, as an id.
fn out_name(source: &Path) -> String {
    let stem = source
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .or_else(|| {
            // `.` or `dir/..`: the folder's own name.
            std::fs::canonicalize(source)
                .ok()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        })
        .unwrap_or_default();
    match ids::slug(&stem) {
        s if s.is_empty() => "imported".to_string(),
        s => s,
    }
}

/// Reads every source and prepares the pack for `out`, in memory: one file per source
/// (`out/<source name>.toml`), ids made valid and unique (also against the entries of other
/// `.toml` files already in `out`), and the whole checked by the pack's parser. Nothing is
/// written.
pub fn plan(sources: &[PathBuf], out: &Path) -> Result<Plan, ImportError> {
    let mut names = ids::Ids::new();
    let targets: Vec<PathBuf> = sources
        .iter()
        .map(|s| out.join(format!("{}.toml", names.claim(&out_name(s)))))
        .collect();
    let mut ids = ids::Ids::new();
    let mut holders: HashMap<String, Place> = HashMap::new();
    for file in existing_toml(out) {
        if targets.contains(&file) {
            continue;
        }
        for id in ids_in(&file) {
            ids.reserve(&id);
            holders.entry(id).or_insert(Place {
                file: file.clone(),
                line: 0,
            });
        }
    }
    let mut plan = Plan {
        out: out.to_path_buf(),
        files: Vec::new(),
        notes: Vec::new(),
        ids_from_questions: 0,
    };
    for (source, target) in sources.iter().zip(targets) {
        let items = read_source(source, &mut plan.notes)?;
        let mut entries = Vec::with_capacity(items.len());
        for Item { file, draft } in items {
            let at = Place {
                file,
                line: draft.line,
            };
            let question = one_line(&draft.question);
            let from_question = || match ids::slug(&question) {
                s if s.is_empty() => ids::FALLBACK.to_string(),
                s => s,
            };
            let wanted = match &draft.id {
                Some(given) => {
                    let repaired = match ids::slug(given) {
                        s if s.is_empty() => from_question(),
                        s => s,
                    };
                    if repaired != *given {
                        plan.notes.push(Note::IdRepaired {
                            at: at.clone(),
                            from: given.clone(),
                            to: repaired.clone(),
                        });
                    }
                    repaired
                }
                None => {
                    plan.ids_from_questions += 1;
                    from_question()
                }
            };
            let id = ids.claim(&wanted);
            if id != wanted {
                plan.notes.push(Note::Renamed {
                    at: at.clone(),
                    from: wanted.clone(),
                    to: id.clone(),
                    first: holders.get(&wanted).cloned().unwrap_or_else(|| at.clone()),
                });
            }
            holders.entry(id.clone()).or_insert_with(|| at.clone());
            let answer = draft.answer.trim().to_string();
            let chars = answer.chars().count();
            if chars > LONG_ANSWER {
                plan.notes.push(Note::LongAnswer {
                    at: at.clone(),
                    id: id.clone(),
                    chars,
                });
            }
            let entry = render::Entry {
                id,
                alternates: clean_list(&draft.alternates, &question),
                keywords: clean_list(&draft.keywords, ""),
                question,
                answer,
            };
            entries.push((at.to_string(), entry));
        }
        let header = [
            format!("Imported by `qabot import` from {}.", source.display()),
            "Edit freely, then run `qabot check`. Add `alternates` (other ways people ask) and"
                .to_string(),
            "`keywords` to help matching: see knowledge/README.md.".to_string(),
        ];
        plan.files.push(OutFile {
            text: render::file(&header, &entries)?,
            path: target,
            source: source.clone(),
            entries: entries.len(),
        });
    }
    let sources: Vec<(PathBuf, String)> = plan
        .files
        .iter()
        .map(|f| (f.path.clone(), f.text.clone()))
        .collect();
    Knowledge::from_sources(&sources).map_err(ImportError::Invalid)?;
    Ok(plan)
}

/// Writes the plan's files (refusing, before writing anything, if one exists and `force` is
/// false), then loads the output folder as `qabot check` does.
pub fn write(plan: &Plan, force: bool) -> Result<Knowledge, ImportError> {
    if !force {
        if let Some(f) = plan
            .files
            .iter()
            .find(|f| std::fs::symlink_metadata(&f.path).is_ok())
        {
            return Err(ImportError::Exists {
                path: f.path.clone(),
            });
        }
    }
    std::fs::create_dir_all(&plan.out).map_err(|source| ImportError::Write {
        path: plan.out.clone(),
        source,
    })?;
    for f in &plan.files {
        // Written aside (a hidden name the loader skips), then renamed over: a reader never
        // sees half a file.
        let name = f.path.file_name().map(|n| n.to_string_lossy().into_owned());
        let tmp = f
            .path
            .with_file_name(format!(".{}.tmp", name.unwrap_or_default()));
        let failed = |source| ImportError::Write {
            path: f.path.clone(),
            source,
        };
        std::fs::write(&tmp, &f.text).map_err(failed)?;
        std::fs::rename(&tmp, &f.path).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            failed(e)
        })?;
    }
    Knowledge::load_dir(&plan.out).map_err(|problems| ImportError::Folder {
        dir: plan.out.clone(),
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        /// Whatever a source holds, the readers give drafts or a located refusal, and every
        /// id made from any text is valid.
        #[test]
        fn readers_never_panic(text in "[-#+:\\[\\]\"'`~|>\n\r ,;\tq=aé🎲]{0,200}") {
            let _ = front_matter::split(&text);
            let _ = markdown::faq(&text);
            let _ = markdown::entry(&text, "x");
            let _ = csv::table(&text, ',');
            let _ = csv::table(&text, '\t');
            let id = ids::slug(&text);
            prop_assert!(id.is_empty() || crate::knowledge::is_command_name(&id), "{id:?}");
        }
    }

    fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn ids_are_repaired_renamed_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let csv = write_file(
            dir.path(),
            "faq.csv",
            "id,question,answer\n\
             Join Us!,How do I join?,Click join.\n\
             ,How do I join?,Again.\n\
             join-us,Another?,Yes.\n\
             🎲,Dice?,Roll them.\n\
             ,🎲🎲,Only emoji.\n",
        );
        let out = dir.path().join("out");
        let plan = plan(std::slice::from_ref(&csv), &out).unwrap();
        let k =
            Knowledge::from_sources(&[(plan.files[0].path.clone(), plan.files[0].text.clone())])
                .unwrap();
        let ids: Vec<&str> = k.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(
            ids,
            ["join-us", "how-do-i-join", "join-us-2", "dice", "entry"]
        );
        let notes: Vec<String> = plan.notes.iter().map(ToString::to_string).collect();
        let at = |line: usize| format!("{}:{line}", csv.display());
        assert_eq!(
            notes,
            [
                format!("id repaired: {}: \"Join Us!\" -> \"join-us\"", at(2)),
                format!(
                    "duplicate renamed: {}: \"join-us\" -> \"join-us-2\" (\"join-us\" is {})",
                    at(4),
                    at(2)
                ),
                format!("id repaired: {}: \"🎲\" -> \"dice\"", at(5)),
            ]
        );
        assert_eq!(plan.ids_from_questions, 2);
        assert_eq!(plan.files[0].path, out.join("faq.toml"));
    }

    #[test]
    fn ids_in_other_files_of_the_output_are_avoided() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("k");
        std::fs::create_dir(&out).unwrap();
        write_file(
            &out,
            "mine.toml",
            "[[entry]]\nid = \"rules\"\nquestion = \"Rules?\"\nanswer = \"Be nice.\"\n",
        );
        let md = write_file(dir.path(), "faq.md", "## Rules\nNo spam.\n");
        let plan = plan(&[md], &out).unwrap();
        assert!(
            plan.files[0].text.contains("id = \"rules-2\""),
            "{}",
            plan.files[0].text
        );
        assert!(
            plan.notes[0].to_string().ends_with(&format!(
                "(\"rules\" is {})",
                out.join("mine.toml").display()
            )),
            "{:?}",
            plan.notes
        );
        write(&plan, false).unwrap();
        assert_eq!(Knowledge::load_dir(&out).unwrap().entries.len(), 2);
    }

    #[test]
    fn long_answers_are_flagged_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let long = "word ".repeat(1_000);
        let md = write_file(
            dir.path(),
            "faq.md",
            &format!("# Long?\n{long}\n# Short?\nok\n"),
        );
        let plan = plan(&[md], &dir.path().join("out")).unwrap();
        assert!(
            matches!(&plan.notes[..], [Note::LongAnswer { chars: 4999, .. }]),
            "{:?}",
            plan.notes
        );
        assert!(plan.files[0].text.contains(long.trim()));
    }

    #[test]
    fn sources_of_the_same_name_get_their_own_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        let one = write_file(dir.path(), "faq.md", "# Q1\nA1\n");
        let two = write_file(&dir.path().join("a"), "faq.csv", "question,answer\nQ2,A2\n");
        let out = dir.path().join("out");
        let plan = plan(&[one, two], &out).unwrap();
        let names: Vec<PathBuf> = plan.files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(names, [out.join("faq.toml"), out.join("faq-2.toml")]);
    }

    #[test]
    fn existing_files_are_kept_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let md = write_file(dir.path(), "faq.md", "# Q1\nA1\n");
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let old = write_file(&out, "faq.toml", "# mine\n");
        let p = plan(std::slice::from_ref(&md), &out).unwrap();
        let err = write(&p, false).unwrap_err();
        assert!(
            matches!(&err, ImportError::Exists { path } if *path == old),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "# mine\n");
        write(&p, true).unwrap();
        assert!(std::fs::read_to_string(&old)
            .unwrap()
            .contains("id = \"q1\""));
    }

    #[test]
    fn unknown_and_missing_sources_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let txt = write_file(dir.path(), "faq.txt", "Q?\nA.\n");
        let out = dir.path().join("out");
        let err = plan(&[txt], &out).unwrap_err();
        assert!(matches!(err, ImportError::UnknownFormat { .. }), "{err}");
        let missing = dir.path().join("nope.pdf");
        let err = plan(&[missing], &out).unwrap_err().to_string();
        assert!(err.contains("cannot read this file"), "{err}");
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        write_file(&empty, "notes.txt", "x");
        let err = plan(&[empty], &out).unwrap_err().to_string();
        assert!(
            err.ends_with("nothing to import here (no entries)"),
            "{err}"
        );
    }
}
