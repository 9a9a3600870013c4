//! The engine: loaded knowledge, its index and the thresholds, answering questions.
//!
//! This is the one code path from a question to a reply: the CLI, the Discord adapter and the
//! evaluation all call [`Engine::ask`], so what a terminal prints is what Discord users get.
//! An engine is immutable; reloading builds a new one and swaps it in whole.
//!
//! A question goes through named stages: the lexical [`matcher::rank`], the semantic
//! [`Semantic::closeness`] read through the pack's calibration and merged by
//! [`crate::fuse`], then [`matcher::settle`] into answer, suggestion or silence.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use crate::config::Matching;
use crate::embed::Progress;
use crate::index::Index;
use crate::knowledge::{Knowledge, LoadProgress};
use crate::matcher::{self, Decision};
use crate::problem::{Problem, Problems};
use crate::reply::{self, Reply};
use crate::semantic::{Loaded, Semantic};

/// Knowledge ready to answer.
#[derive(Debug)]
pub struct Engine {
    knowledge: Knowledge,
    index: Index,
    matching: Matching,
    semantic: Option<Semantic>,
}

/// What [`Engine::open`] did: whether the start-up snapshot was used, and what the semantic
/// side loaded, for the log.
#[derive(Debug, Clone)]
pub struct Started {
    /// The start-up snapshot's fate.
    pub snapshot: crate::snapshot::Report,
    /// The vectors' loading, when semantic matching is on.
    pub semantic: Option<Loaded>,
}

/// A question's decision and the reply built from it.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Why: the candidates and their scores.
    pub decision: Decision,
    /// What to say.
    pub reply: Reply,
}

impl Answer {
    /// The answer as the `ask --json` object: `status`, `entry`, `aspect`, `confidence`,
    /// `suggestions` (each `entry`, `aspect`, `confidence`) and `text`.
    pub fn json(&self, knowledge: &Knowledge) -> serde_json::Value {
        let ids = |c: &crate::matcher::Candidate| {
            let e = &knowledge.entries[c.entry];
            (e.id.clone(), c.aspect.map(|a| e.aspects[a].id.clone()))
        };
        let answered = self.decision.status == crate::Status::Answered;
        let (entry, aspect) = match (&self.decision.best, answered) {
            (Some(best), true) => {
                let (e, a) = ids(best);
                (Some(e), a)
            }
            _ => (None, None),
        };
        let suggestions: Vec<serde_json::Value> = self
            .decision
            .suggestions
            .iter()
            .map(|c| {
                let (e, a) = ids(c);
                serde_json::json!({ "entry": e, "aspect": a, "confidence": round(c.confidence) })
            })
            .collect();
        serde_json::json!({
            "status": self.decision.status,
            "entry": entry,
            "aspect": aspect,
            "confidence": round(self.decision.confidence()),
            "suggestions": suggestions,
            "text": self.reply.text(),
        })
    }
}

/// Three decimals: enough to compare, short enough to read.
fn round(x: f32) -> f64 {
    (f64::from(x) * 1000.0).round() / 1000.0
}

impl Engine {
    /// Indexes `knowledge` for answering with `matching` thresholds, by words alone
    /// (whatever `matching.semantic` says): no model, nothing read from disk.
    pub fn new(knowledge: Knowledge, matching: Matching) -> Engine {
        let index = Index::build(&knowledge);
        Engine {
            knowledge,
            index,
            matching,
            semantic: None,
        }
    }

    /// An engine by words alone from `knowledge` and its `index` (built or read back).
    pub(crate) fn from_parts(knowledge: Knowledge, index: Index, matching: Matching) -> Engine {
        Engine {
            knowledge,
            index,
            matching,
            semantic: None,
        }
    }

    /// Loads and indexes a knowledge folder (through the start-up snapshot, when
    /// `matching.cache_dir` is set), with semantic matching if `matching` says so.
    pub fn load(dir: &Path, matching: Matching) -> Result<Engine, Problems> {
        Engine::open(dir, matching, &|_, _, _, _| {}, &mut |_, _| {
            ControlFlow::Continue(())
        })
        .map(|(engine, _)| engine)
    }

    /// Loads the knowledge folder `dir` with its index from the start-up snapshot under
    /// `matching.cache_dir` when it is current, or parses (telling `parsing` of each file)
    /// and indexes it and saves a new snapshot; then, if `matching.semantic`, embeds as
    /// [`Engine::build`] does. Also says what the snapshot and the semantic side did.
    pub fn open(
        dir: &Path,
        matching: Matching,
        parsing: &LoadProgress,
        embedding: Progress,
    ) -> Result<(Engine, Started), Problems> {
        let (knowledge, index, snapshot) =
            crate::snapshot::load(dir, &matching.cache_dir, parsing)?;
        let engine = Engine::from_parts(knowledge, index, matching);
        let (engine, semantic) = engine.with_semantic(dir, embedding)?;
        Ok((engine, Started { snapshot, semantic }))
    }

    /// Indexes `knowledge` (loaded from `dir`) and, if `matching.semantic`, embeds its
    /// phrasings through the cache for `dir`, telling `progress` about texts being embedded
    /// (it may stop the build). Also returns what the semantic side loaded, if it is on.
    pub fn build(
        knowledge: Knowledge,
        matching: Matching,
        dir: &Path,
        progress: Progress,
    ) -> Result<(Engine, Option<Loaded>), Problems> {
        Engine::new(knowledge, matching).with_semantic(dir, progress)
    }

    /// Adds the semantic side if `matching.semantic` says so.
    fn with_semantic(
        mut self,
        dir: &Path,
        progress: Progress,
    ) -> Result<(Engine, Option<Loaded>), Problems> {
        if !self.matching.semantic {
            return Ok((self, None));
        }
        let problem = |e: crate::embed::ModelError| {
            Problems(vec![Problem::file(
                &self.matching.model,
                format!("{e} (set `[matching] semantic = false` to match by words only)"),
            )])
        };
        let model = crate::embed::shared(&self.matching.model).map_err(problem)?;
        let cache = cache_file(&self.matching.cache_dir, dir);
        let (semantic, loaded) =
            Semantic::build(&self.knowledge, model, cache.as_deref(), progress).map_err(problem)?;
        self.semantic = Some(semantic);
        Ok((self, Some(loaded)))
    }

    /// Decides what to do with `question` and builds the reply.
    pub fn ask(&self, question: &str) -> Answer {
        let decision = self.decide(question);
        let reply = reply::build(&self.knowledge, &decision);
        Answer { decision, reply }
    }

    /// Only the decision, without building a reply.
    pub fn decide(&self, question: &str) -> Decision {
        let mut ranking = matcher::rank(&self.index, question);
        // One of the pack's phrasings, word for word, is answered whatever meaning says
        // (`settle`): the model would take milliseconds to change nothing.
        let exact = ranking.ranked.iter().any(|c| c.exact);
        let Some(semantic) = self.semantic.as_ref().filter(|_| !exact) else {
            return matcher::settle(ranking, &self.matching);
        };
        match semantic.embed_question(question) {
            Ok(q) => {
                let closeness = semantic.closeness(&q);
                crate::fuse::fuse(&mut ranking, &closeness, semantic.calibration());
                matcher::settle(ranking, &self.matching)
            }
            // The model failing on one question must not silence the bot: words still work.
            Err(e) => {
                tracing::warn!("semantic matching failed, answering by words: {e}");
                matcher::settle(ranking, &self.matching)
            }
        }
    }

    /// The full answer for an entry id and optional aspect id (buttons, slash commands).
    pub fn answer_for(&self, entry: &str, aspect: Option<&str>) -> Option<Reply> {
        let e = self.knowledge.entries.iter().position(|e| e.id == entry)?;
        let a = match aspect {
            Some(id) => Some(
                self.knowledge.entries[e]
                    .aspects
                    .iter()
                    .position(|a| a.id == id)?,
            ),
            None => None,
        };
        Some(reply::answer(&self.knowledge, e, a))
    }

    /// The knowledge answered from.
    pub fn knowledge(&self) -> &Knowledge {
        &self.knowledge
    }

    /// The index, for explanations.
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The thresholds in force.
    pub fn matching(&self) -> &Matching {
        &self.matching
    }

    /// The semantic side, when it is on.
    pub fn semantic(&self) -> Option<&Semantic> {
        self.semantic.as_ref()
    }
}

/// The cache file for the knowledge in `dir`, under `cache_dir` (`""`: none): named for the
/// folder and a hash of its full path, so two packs never share (and prune) one file.
pub(crate) fn cache_file(cache_dir: &Path, dir: &Path) -> Option<PathBuf> {
    if cache_dir.as_os_str().is_empty() {
        return None;
    }
    let full = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let name = full
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let hash = crate::embed::fnv(full.to_string_lossy().as_bytes());
    Some(cache_dir.join(format!("{name}-{:08x}.bin", hash as u32)))
}
