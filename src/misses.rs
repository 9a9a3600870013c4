//! The misses log: questions qabot could not answer with confidence, kept so the owner can
//! see what the knowledge lacks.
//!
//! The log is JSON Lines, one [`Record`] a line, capped in size and rotated (`misses.jsonl`,
//! then `misses.jsonl.1`, …), so it can run unattended for months. Several processes may share
//! one log (a bot's shards split over processes on one host): each append holds an exclusive
//! lock on `misses.jsonl.lock` while it checks the size, rotates and writes its line in one
//! `O_APPEND` write, so lines never interleave and a rotation never renames away lines
//! another process is writing. `qabot misses` reads it back
//! and [`group`]s similar questions, most frequent first, each with the closest entry.

use std::fs::OpenOptions;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Engine;

/// One logged question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Seconds since the Unix epoch.
    pub time: u64,
    /// The question as asked.
    pub question: String,
    /// "suggested", "none", or "thumbs-down" (an answer a user rated 👎).
    pub outcome: String,
    /// The closest entry, if any.
    #[serde(default)]
    pub entry: Option<String>,
    /// The closest aspect, if any.
    #[serde(default)]
    pub aspect: Option<String>,
    /// The confidence of the closest candidate.
    #[serde(default)]
    pub confidence: f32,
    /// The asker, only when the owner turned `record_user_ids` on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<u64>,
}

/// An append-only, size-capped, rotated JSONL file.
#[derive(Debug, Clone)]
pub struct MissLog {
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
}

impl MissLog {
    /// A log at `path` rotated when it would exceed `max_bytes`, keeping `keep` old files.
    pub fn new(path: impl Into<PathBuf>, max_bytes: u64, keep: usize) -> MissLog {
        MissLog {
            path: path.into(),
            max_bytes,
            keep,
        }
    }

    /// Appends one record, rotating first if it would not fit; safe with other processes
    /// appending to the same log (see the module docs).
    pub fn append(&self, record: &Record) -> std::io::Result<()> {
        let mut line = serde_json::to_string(record).map_err(std::io::Error::other)?;
        line.push('\n');
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        // A separate file, never rotated: a lock on the log itself would be renamed away with
        // it, letting the next writer lock the old file while another writes the new one.
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(self.sibling("lock"))?;
        lock.lock()?;
        let size = std::fs::metadata(&self.path).map_or(0, |m| m.len());
        if size > 0 && size + line.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        // One buffer, one write: with O_APPEND the kernel places it whole at the end.
        file.write_all(line.as_bytes())
        // The lock is released when `lock` is closed.
    }

    /// `path` with `.suffix` added (`misses.jsonl.1`, `misses.jsonl.lock`).
    fn sibling(&self, suffix: &str) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{suffix}"));
        PathBuf::from(name)
    }

    fn rotated(&self, n: usize) -> PathBuf {
        self.sibling(&n.to_string())
    }

    fn rotate(&self) -> std::io::Result<()> {
        if self.keep == 0 {
            return std::fs::remove_file(&self.path);
        }
        let _ = std::fs::remove_file(self.rotated(self.keep));
        for n in (1..self.keep).rev() {
            let from = self.rotated(n);
            if from.exists() {
                std::fs::rename(&from, self.rotated(n + 1))?;
            }
        }
        std::fs::rename(&self.path, self.rotated(1))
    }

    /// Every record of the log and its rotated files, oldest first. Lines that are not
    /// records (a crash mid-write, a hand edit) are skipped.
    pub fn read_all(&self) -> Vec<Record> {
        let mut paths: Vec<PathBuf> = (1..=self.keep).rev().map(|n| self.rotated(n)).collect();
        paths.push(self.path.clone());
        paths.iter().flat_map(|p| read(p)).collect()
    }
}

/// The records of one file; unreadable lines are skipped.
pub fn read(path: &Path) -> Vec<Record> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    std::io::BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect()
}

/// Similar questions, counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// How many logged questions fell in this group.
    pub count: usize,
    /// Up to three distinct phrasings, most recent first.
    pub examples: Vec<String>,
    /// The closest entry id and aspect id with the current knowledge, and its confidence.
    pub closest: Option<(String, Option<String>, f32)>,
}

/// Groups questions that share most of their terms (Jaccard >= 0.5 over analysed terms, so
/// "djnago forms?" and "django form" fall together), most frequent first.
pub fn group(engine: &Engine, records: &[Record]) -> Vec<Group> {
    let analyzer = &engine.index().analyzer;
    let mut groups: Vec<(Vec<String>, Group)> = Vec::new();
    for record in records.iter().rev() {
        let mut terms: Vec<String> = analyzer
            .terms(&record.question)
            .into_iter()
            .map(|t| t.stem)
            .collect();
        terms.sort();
        let similar = groups
            .iter_mut()
            .find(|(rep, _)| jaccard(rep, &terms) >= 0.5);
        match similar {
            Some((_, g)) => {
                g.count += 1;
                if g.examples.len() < 3 && !g.examples.contains(&record.question) {
                    g.examples.push(record.question.clone());
                }
            }
            None => groups.push((
                terms,
                Group {
                    count: 1,
                    examples: vec![record.question.clone()],
                    closest: None,
                },
            )),
        }
    }
    let knowledge = engine.knowledge();
    let mut out: Vec<Group> = groups
        .into_iter()
        .map(|(_, mut g)| {
            let d = engine.decide(&g.examples[0]);
            g.closest = d.best.map(|c| {
                let e = &knowledge.entries[c.entry];
                (
                    e.id.clone(),
                    c.aspect.map(|a| e.aspects[a].id.clone()),
                    c.confidence,
                )
            });
            g
        })
        .collect();
    out.sort_by_key(|g| std::cmp::Reverse(g.count));
    out
}

fn jaccard(a: &[String], b: &[String]) -> f32 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let shared = a.iter().filter(|t| b.contains(t)).count();
    shared as f32 / (a.len() + b.len() - shared) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(q: &str) -> Record {
        Record {
            time: 1,
            question: q.to_string(),
            outcome: "none".to_string(),
            entry: None,
            aspect: None,
            confidence: 0.0,
            user: None,
        }
    }

    #[test]
    fn append_rotates_at_the_cap_and_reads_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let log = MissLog::new(dir.path().join("m/misses.jsonl"), 200, 2);
        for i in 0..20 {
            log.append(&record(&format!("question {i}"))).unwrap();
        }
        for n in ["misses.jsonl", "misses.jsonl.1", "misses.jsonl.2"] {
            let len = std::fs::metadata(dir.path().join("m").join(n))
                .unwrap()
                .len();
            assert!(len <= 200, "{n} is {len} bytes");
        }
        assert!(!dir.path().join("m/misses.jsonl.3").exists());
        let all = log.read_all();
        assert!(all.len() < 20, "oldest records were dropped");
        assert_eq!(all.last().unwrap().question, "question 19");
        let numbers: Vec<u32> = all
            .iter()
            .map(|r| r.question[9..].parse().unwrap())
            .collect();
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    }

    /// Writers with their own open files contend for the lock as separate processes do
    /// (`flock` locks belong to the open file), so threads stand in for shard processes here.
    #[test]
    fn concurrent_writers_rotating_lose_and_mangle_no_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("misses.jsonl");
        let (writers, each) = (6, 60);
        std::thread::scope(|scope| {
            for w in 0..writers {
                let path = path.clone();
                scope.spawn(move || {
                    let log = MissLog::new(path, 1_500, 1_000);
                    for i in 0..each {
                        log.append(&record(&format!("writer {w} question {i}")))
                            .unwrap();
                    }
                });
            }
        });
        let log = MissLog::new(&path, 1_500, 1_000);
        assert!(log.rotated(5).exists(), "the test rotated many times");
        let mut files = vec![path.clone()];
        files.extend((1..=1_000).map(|n| log.rotated(n)).filter(|p| p.exists()));
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            for line in text.lines() {
                assert!(
                    serde_json::from_str::<Record>(line).is_ok(),
                    "whole lines only in {file:?}: {line:?}"
                );
            }
        }
        let mut questions: Vec<String> = log.read_all().into_iter().map(|r| r.question).collect();
        questions.sort();
        questions.dedup();
        assert_eq!(questions.len(), writers * each, "every record, once");
    }

    #[test]
    fn bad_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.jsonl");
        std::fs::write(
            &path,
            "{\"time\":1,\"question\":\"q\",\"outcome\":\"none\"}\nnot json\n{\"time\":2,\"quest",
        )
        .unwrap();
        assert_eq!(read(&path).len(), 1);
    }

    #[test]
    fn user_ids_are_absent_unless_recorded() {
        let line = serde_json::to_string(&record("q")).unwrap();
        assert!(!line.contains("user"));
    }
}
