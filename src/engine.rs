//! The engine: loaded knowledge, its index and the thresholds, answering questions.
//!
//! This is the one code path from a question to a reply: the CLI, the Discord adapter and the
//! evaluation all call [`Engine::ask`], so what a terminal prints is what Discord users get.
//! An engine is immutable; reloading builds a new one and swaps it in whole.

use std::path::Path;

use crate::config::Matching;
use crate::index::Index;
use crate::knowledge::Knowledge;
use crate::matcher::{self, Decision};
use crate::problem::Problems;
use crate::reply::{self, Reply};

/// Knowledge ready to answer.
#[derive(Debug)]
pub struct Engine {
    knowledge: Knowledge,
    index: Index,
    matching: Matching,
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
    /// Indexes `knowledge` for answering with `matching` thresholds.
    pub fn new(knowledge: Knowledge, matching: Matching) -> Engine {
        let index = Index::build(&knowledge);
        Engine {
            knowledge,
            index,
            matching,
        }
    }

    /// Loads and indexes a knowledge folder.
    pub fn load(dir: &Path, matching: Matching) -> Result<Engine, Problems> {
        Ok(Engine::new(Knowledge::load_dir(dir)?, matching))
    }

    /// Decides what to do with `question` and builds the reply.
    pub fn ask(&self, question: &str) -> Answer {
        let decision = self.decide(question);
        let reply = reply::build(&self.knowledge, &decision);
        Answer { decision, reply }
    }

    /// Only the decision, without building a reply.
    pub fn decide(&self, question: &str) -> Decision {
        matcher::decide(&self.index, &self.matching, question)
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
}
