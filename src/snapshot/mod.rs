//! The start-up snapshot: the loaded knowledge and its built index saved under the cache
//! folder, so a restart of a big pack reads them back instead of parsing and indexing again.
//!
//! The TOML stays the only source of truth. The snapshot is keyed by every knowledge file's
//! path and content (and by the engine that wrote it: [`FORMAT`] and the crate version), so
//! any edit, added or removed file makes it stale, and a stale pack is parsed in full: a bad
//! edit is reported exactly as without a snapshot. A missing, stale, truncated or corrupt
//! file (checksummed, and every length and number bounds-checked as it is read) is rebuilt,
//! never trusted; one that cannot be written is a warning, never a failure to start. Writes
//! go to a temporary file renamed over the old one, as the embedding cache's do.

mod codec;
mod layout;

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_128, xxh3_64, Xxh3};

use crate::index::Index;
use crate::knowledge::{Knowledge, LoadProgress, MAX_FILE_BYTES};
use crate::problem::Problems;

pub use codec::DecodeError;

/// The layout's version: bump it whenever [`layout`] or anything the index stores changes,
/// so that snapshots written by an older engine are rebuilt rather than misread.
pub const FORMAT: u32 = 1;

/// The file's first bytes.
const MAGIC: &[u8; 8] = b"qabotsnp";

/// Which engine wrote a snapshot: the layout version and the crate's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    format: u32,
    engine: u64,
}

impl Stamp {
    /// This engine's stamp.
    fn current() -> Stamp {
        Stamp {
            format: FORMAT,
            engine: xxh3_64(env!("CARGO_PKG_VERSION").as_bytes()),
        }
    }
}

/// What was found where the snapshot should be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Read and used: nothing was parsed or indexed.
    Used,
    /// There was none yet; one was built.
    Missing,
    /// There was one that could not be used, and why; it was rebuilt.
    Rebuilt(String),
    /// No cache folder is configured (`cache_dir = ""`).
    Off,
}

/// What loading did with the snapshot, for the log: the only way to tell a warm start from
/// a cold one from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The snapshot file, when there is a cache folder.
    pub path: Option<PathBuf>,
    /// What it was found to be.
    pub state: State,
    /// Why a new snapshot could not be written, if it could not: the bot runs on, but
    /// the next start will be a cold one too.
    pub save_error: Option<String>,
}

/// A file's content hash, the same whether taken while checking or while parsing.
fn content_hash(text: &str) -> u128 {
    xxh3_128(text.as_bytes())
}

/// The key of a folder's knowledge: each file's path under the folder and content hash,
/// in path order. `None` when a path is not under `dir` or not UTF-8 (no snapshot then).
fn key(dir: &Path, files: &[(PathBuf, u128)]) -> Option<u128> {
    let mut h = Xxh3::new();
    for (path, hash) in files {
        let relative = path.strip_prefix(dir).ok()?.to_str()?;
        h.update(&(relative.len() as u64).to_le_bytes());
        h.update(relative.as_bytes());
        h.update(&hash.to_le_bytes());
    }
    Some(h.digest128())
}

/// The key of the knowledge files in `dir` as they are now, read on every core; `None` if
/// one cannot be read (loading will say why).
fn current_key(dir: &Path) -> Option<u128> {
    let files = crate::knowledge::toml_files(dir).ok()?;
    let hashed: Option<Vec<(PathBuf, u128)>> = files
        .into_par_iter()
        .map(|path| {
            let text = crate::problem::read_text(&path, MAX_FILE_BYTES).ok()?;
            let hash = content_hash(&text);
            Some((path, hash))
        })
        .collect();
    key(dir, &hashed?)
}

/// The snapshot file for the knowledge in `dir` under `cache_dir` (`""`: none), named as
/// the embedding cache is, for the same reason: two packs never share one.
pub fn path_for(cache_dir: &Path, dir: &Path) -> Option<PathBuf> {
    crate::engine::cache_file(cache_dir, dir).map(|p| p.with_extension("snapshot"))
}

/// Loads the knowledge in `dir` and its index: from the snapshot under `cache_dir` when it
/// matches the files, otherwise by parsing (on every core, telling `progress`) and indexing,
/// then saving a new snapshot. Problems in the files are returned as [`Knowledge::load_dir`]
/// returns them.
pub fn load(
    dir: &Path,
    cache_dir: &Path,
    progress: &LoadProgress,
) -> Result<(Knowledge, Index, Report), Problems> {
    let Some(path) = path_for(cache_dir, dir) else {
        let knowledge = Knowledge::load_dir_with(dir, progress)?;
        let index = Index::build(&knowledge);
        let report = Report {
            path: None,
            state: State::Off,
            save_error: None,
        };
        return Ok((knowledge, index, report));
    };
    let state = match current_key(dir) {
        Some(key) => match open(&path, key, dir, Stamp::current()) {
            Ok((knowledge, index)) => {
                let report = Report {
                    path: Some(path),
                    state: State::Used,
                    save_error: None,
                };
                return Ok((knowledge, index, report));
            }
            Err(state) => state,
        },
        None => State::Rebuilt("a knowledge file cannot be read".into()),
    };
    // The key is of the texts parsed, not of a second look at the files: an edit landing
    // while this loads must not be saved under the old content's key.
    let hashes = Mutex::new(Vec::new());
    let seen = |n: usize, files: usize, path: &Path, text: &str| {
        let hash = content_hash(text);
        hashes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((n, path.to_path_buf(), hash));
        progress(n, files, path, text);
    };
    let knowledge = Knowledge::load_dir_with(dir, &seen)?;
    let index = Index::build(&knowledge);
    let mut hashes = hashes.into_inner().unwrap_or_else(|e| e.into_inner());
    hashes.sort_unstable_by_key(|&(n, _, _)| n);
    let files: Vec<(PathBuf, u128)> = hashes.into_iter().map(|(_, p, h)| (p, h)).collect();
    let save_error = match key(dir, &files) {
        Some(key) => save(&path, key, dir, &knowledge, &index, Stamp::current())
            .err()
            .map(|e| e.to_string()),
        None => Some("a knowledge file's name is not UTF-8".into()),
    };
    let report = Report {
        path: Some(path),
        state,
        save_error,
    };
    Ok((knowledge, index, report))
}

/// Header: magic, format, engine, key.
const HEADER: u64 = 8 + 4 + 8 + 16;

/// Reads the snapshot at `path` if it was written by `stamp`'s engine for `key`; otherwise
/// says why not.
fn open(path: &Path, key: u128, dir: &Path, stamp: Stamp) -> Result<(Knowledge, Index), State> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(_) if !path.exists() => return Err(State::Missing),
        Err(e) => return Err(State::Rebuilt(format!("cannot be read: {e}"))),
    };
    let len = file
        .metadata()
        .map_err(|e| State::Rebuilt(format!("cannot be read: {e}")))?
        .len();
    if len < HEADER + 8 {
        return Err(State::Rebuilt("truncated".into()));
    }
    let mut r = codec::Reader::new(file, len - 8);
    let rebuilt = |e: DecodeError| State::Rebuilt(e.to_string());
    let mut magic = [0; 8];
    r.fill(&mut magic).map_err(rebuilt)?;
    if &magic != MAGIC {
        return Err(State::Rebuilt("not a qabot snapshot".into()));
    }
    let found = Stamp {
        format: r.u32().map_err(rebuilt)?,
        engine: r.u64().map_err(rebuilt)?,
    };
    if found != stamp {
        return Err(State::Rebuilt("written by another engine version".into()));
    }
    let found_key =
        u128::from(r.u64().map_err(rebuilt)?) | u128::from(r.u64().map_err(rebuilt)?) << 64;
    if found_key != key {
        return Err(State::Rebuilt("stale: the knowledge files changed".into()));
    }
    let knowledge = layout::read_knowledge(&mut r, dir).map_err(rebuilt)?;
    let index = layout::read_index(&mut r, &knowledge).map_err(rebuilt)?;
    r.finish().map_err(rebuilt)?;
    Ok((knowledge, index))
}

/// Writes the snapshot of `knowledge` and `index` for `key` to `path`, atomically.
fn save(
    path: &Path,
    key: u128,
    dir: &Path,
    knowledge: &Knowledge,
    index: &Index,
    stamp: Stamp,
) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = crate::embed::cache::temp_name(path);
    let written = (|| {
        let mut w = codec::Writer::new(BufWriter::new(File::create(&tmp)?));
        w.bytes(MAGIC)?;
        w.u32(stamp.format)?;
        w.u64(stamp.engine)?;
        w.u64(key as u64)?;
        w.u64((key >> 64) as u64)?;
        layout::write_knowledge(&mut w, knowledge, dir)?;
        layout::write_index(&mut w, index)?;
        // No fsync: a snapshot cut short by a power loss fails its checksum and is rebuilt,
        // which costs less than making every cold start wait for the disk.
        w.finish()?.into_inner().map_err(|e| e.into_error())?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = r#"
other_topics = ["react"]
[synonyms]
noob = "beginner"
[[entry]]
id = "what-is-django"
question = "What is Django?"
alternates = ["explain django to me", "django intro"]
keywords = ["framework"]
negatives = ["django unchained"]
answer = "A web framework."
"#;
    const B: &str = r#"
[[entry]]
id = "django-vs-flask"
question = "Django or Flask?"
subjects = ["Django", "Flask"]
answer = "Both are Python web frameworks."
verdict = "It depends."
[[entry.aspect]]
id = "learning-curve"
title = "Learning curve"
summary = "Which is easier to learn"
keywords = ["beginner", "when"]
text.Django = "Steeper."
text.Flask = "Gentler."
"#;

    const QUESTIONS: &[&str] = &[
        "what is django",
        "djnago intro please",
        "django or flask for a noob",
        "flask learning curve",
        "django unchained",
        "how do I use react",
        "something else entirely",
    ];

    struct Pack {
        _root: tempfile::TempDir,
        knowledge: PathBuf,
        cache: PathBuf,
    }

    fn pack() -> Pack {
        let root = tempfile::tempdir().unwrap();
        let knowledge = root.path().join("k");
        std::fs::create_dir_all(knowledge.join("sub")).unwrap();
        std::fs::write(knowledge.join("a.toml"), A).unwrap();
        std::fs::write(knowledge.join("sub/b.toml"), B).unwrap();
        let cache = root.path().join("data");
        Pack {
            _root: root,
            knowledge,
            cache,
        }
    }

    impl Pack {
        fn load(&self) -> Result<(Knowledge, Index, Report), Problems> {
            load(&self.knowledge, &self.cache, &|_, _, _, _| {})
        }

        fn snapshot(&self) -> PathBuf {
            path_for(&self.cache, &self.knowledge).unwrap()
        }
    }

    /// Knowledge and index as built from the TOML, to compare a snapshot's with.
    fn fresh(pack: &Pack) -> (Knowledge, Index) {
        let k = Knowledge::load_dir(&pack.knowledge).unwrap();
        let index = Index::build(&k);
        (k, index)
    }

    fn assert_same(got: (Knowledge, Index), pack: &Pack) {
        let (want_k, want_i) = fresh(pack);
        assert_eq!(got.0.entries, want_k.entries);
        assert_eq!(got.0.synonyms, want_k.synonyms);
        assert_eq!(got.0.other_topics, want_k.other_topics);
        // The layout is canonical (sets sorted), so equal bytes are equal indexes.
        let bytes = |i: &Index| {
            let mut w = codec::Writer::new(Vec::new());
            layout::write_index(&mut w, i).unwrap();
            w.finish().unwrap()
        };
        assert_eq!(bytes(&got.1), bytes(&want_i));
        let engine = |k: Knowledge, i: Index| crate::Engine::from_parts(k, i, Default::default());
        let (got, want) = (engine(got.0, got.1), engine(want_k, want_i));
        for q in QUESTIONS {
            assert_eq!(got.decide(q), want.decide(q), "{q}");
        }
    }

    #[test]
    fn written_then_used_with_the_same_knowledge_and_decisions() {
        let pack = pack();
        let (k, i, report) = pack.load().unwrap();
        assert_eq!(report.state, State::Missing);
        assert_eq!(report.save_error, None);
        assert!(pack.snapshot().is_file());
        assert!(pack.snapshot().starts_with(&pack.cache));
        assert_same((k, i), &pack);
        let (k, i, report) = pack.load().unwrap();
        assert_eq!(report.state, State::Used);
        assert_same((k, i), &pack);
    }

    #[test]
    fn any_edit_makes_it_stale_and_a_bad_one_is_reported_as_without_it() {
        let pack = pack();
        pack.load().unwrap();
        // Same length, one letter changed: only the content says it changed.
        let edited = A.replace("A web framework.", "A web framewerk.");
        std::fs::write(pack.knowledge.join("a.toml"), &edited).unwrap();
        let (k, i, report) = pack.load().unwrap();
        assert!(
            matches!(&report.state, State::Rebuilt(why) if why.contains("stale")),
            "{report:?}"
        );
        assert_same((k, i), &pack);
        assert_eq!(pack.load().unwrap().2.state, State::Used);

        std::fs::write(pack.knowledge.join("c.toml"), "").unwrap();
        assert!(matches!(pack.load().unwrap().2.state, State::Rebuilt(_)));
        std::fs::remove_file(pack.knowledge.join("c.toml")).unwrap();
        assert!(matches!(pack.load().unwrap().2.state, State::Rebuilt(_)));

        std::fs::write(
            pack.knowledge.join("a.toml"),
            A.replace("What is Django?", ""),
        )
        .unwrap();
        let want = Knowledge::load_dir(&pack.knowledge)
            .unwrap_err()
            .to_string();
        assert_eq!(pack.load().unwrap_err().to_string(), want);
        assert!(want.contains("a.toml:7:12: `question` is empty"), "{want}");
    }

    #[test]
    fn a_damaged_or_foreign_snapshot_is_rebuilt_never_trusted() {
        let pack = pack();
        pack.load().unwrap();
        let good = std::fs::read(pack.snapshot()).unwrap();
        let (k, i) = fresh(&pack);
        let other_engine = |stamp: Stamp| {
            let key = current_key(&pack.knowledge).unwrap();
            let path = pack.snapshot().with_extension("other");
            save(&path, key, &pack.knowledge, &k, &i, stamp).unwrap();
            std::fs::read(path).unwrap()
        };
        let now = Stamp::current();
        let mut cases: Vec<(String, Vec<u8>, &str)> = vec![
            ("empty".into(), Vec::new(), "truncated"),
            (
                "foreign".into(),
                b"GIF89a and then some more bytes, enough for a header".to_vec(),
                "not a qabot snapshot",
            ),
            (
                "older format".into(),
                other_engine(Stamp {
                    format: FORMAT - 1,
                    ..now
                }),
                "another engine version",
            ),
            (
                "other engine".into(),
                other_engine(Stamp {
                    engine: now.engine ^ 1,
                    ..now
                }),
                "another engine version",
            ),
        ];
        for cut in [
            1,
            8,
            HEADER as usize,
            good.len() / 2,
            good.len() - 9,
            good.len() - 1,
        ] {
            cases.push((format!("cut to {cut}"), good[..cut].to_vec(), ""));
        }
        let mut padded = good.clone();
        padded.extend_from_slice(b"more");
        cases.push(("padded".into(), padded, ""));
        // Every byte in turn, one bit each: header, lengths, texts, numbers, checksum.
        for at in 0..good.len() {
            let mut flipped = good.clone();
            flipped[at] ^= 1 << (at % 8);
            cases.push((format!("bit flipped at {at}"), flipped, ""));
        }
        for (label, bytes, reason) in cases {
            std::fs::write(pack.snapshot(), &bytes).unwrap();
            let (k, i, report) = pack.load().unwrap();
            match &report.state {
                State::Rebuilt(why) => assert!(why.contains(reason), "{label}: {why}"),
                other => panic!("{label}: {other:?}"),
            }
            assert_eq!(k.entries.len(), 2, "{label}");
            assert_eq!(i.entries.len(), 2, "{label}");
            assert_eq!(
                std::fs::read(pack.snapshot()).unwrap(),
                good,
                "{label}: rewritten"
            );
        }
    }

    #[test]
    fn an_unwritable_cache_folder_still_loads_and_says_why() {
        let pack = pack();
        std::fs::write(&pack.cache, "a file where the folder should be").unwrap();
        let (k, _, report) = pack.load().unwrap();
        assert_eq!(k.entries.len(), 2);
        assert_eq!(report.state, State::Missing);
        assert!(report.save_error.is_some(), "{report:?}");

        let (_, _, report) = load(&pack.knowledge, Path::new(""), &|_, _, _, _| {}).unwrap();
        assert_eq!(report.state, State::Off);
        assert_eq!(report.path, None);
    }
}
