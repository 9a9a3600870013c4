//! Evaluation of a knowledge pack against a TSV of questions with their expected answers.
//!
//! The file has one case a line: `question<TAB>entry<TAB>aspect`, with `-` for "no aspect"
//! and an entry of `-` for an off-topic question that must not be answered; `#` starts a
//! comment. Two figures come out: the share of on-topic questions answered with exactly the
//! expected entry and aspect, and the share of off-topic ones not answered. A third says
//! how often the right target was at least within reach: answered, or among the "did you
//! mean" choices. Each decision is also timed, so the same run gives the latency figures
//! (median and 99th percentile) of the questions people actually ask.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::matcher::Status;
use crate::problem::{Problem, Problems};
use crate::Engine;

/// One expected outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The question.
    pub question: String,
    /// Expected entry id; `None` for off-topic.
    pub entry: Option<String>,
    /// Expected aspect id.
    pub aspect: Option<String>,
}

/// A case the engine got wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct Miss {
    /// The case.
    pub case: Case,
    /// What the engine did.
    pub status: Status,
    /// The entry and aspect it chose (or would have chosen).
    pub got: Option<(String, Option<String>)>,
    /// Its confidence.
    pub confidence: f32,
}

/// The figures of one evaluation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// On-topic cases, and how many were answered exactly right.
    pub on_topic: (usize, usize),
    /// Off-topic cases, and how many were not answered.
    pub off_topic: (usize, usize),
    /// On-topic cases answered right or offered among the suggestions.
    pub in_reach: usize,
    /// Every miss, in file order.
    pub misses: Vec<Miss>,
    /// How long each decision took, in file order.
    pub latencies: Vec<Duration>,
}

fn share((total, right): (usize, usize)) -> f64 {
    if total == 0 {
        1.0
    } else {
        right as f64 / total as f64
    }
}

impl Report {
    /// Share of on-topic questions answered exactly right.
    pub fn accuracy(&self) -> f64 {
        share(self.on_topic)
    }

    /// Share of off-topic questions not answered.
    pub fn rejection(&self) -> f64 {
        share(self.off_topic)
    }

    /// Share of on-topic questions answered right or offered among the suggestions.
    pub fn reach(&self) -> f64 {
        share((self.on_topic.0, self.in_reach))
    }

    /// The time within which `share` (0 to 1) of the decisions were made: 0.5 for the
    /// median, 0.99 for the 99th percentile (nearest rank). Zero with no questions.
    pub fn latency(&self, share: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let rank = (share.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
        sorted
            .get(rank.saturating_sub(1))
            .copied()
            .unwrap_or_default()
    }
}

/// Reads cases from TSV text; `path` is for messages.
pub fn parse(path: &Path, text: &str) -> Result<Vec<Case>, Problems> {
    let mut cases = Vec::new();
    let mut problems = Vec::new();
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() != 3 {
            problems.push(Problem {
                path: path.to_path_buf(),
                line: n + 1,
                column: 1,
                message: format!(
                    "expected 3 tab-separated columns (question, entry, aspect), found {}",
                    cols.len()
                ),
            });
            continue;
        }
        let id = |s: &str| (s.trim() != "-").then(|| s.trim().to_string());
        cases.push(Case {
            question: cols[0].to_string(),
            entry: id(cols[1]),
            aspect: id(cols[2]),
        });
    }
    if problems.is_empty() {
        Ok(cases)
    } else {
        Err(Problems(problems))
    }
}

/// Runs every case through `engine`.
pub fn run(engine: &Engine, cases: &[Case]) -> Report {
    let mut report = Report::default();
    let knowledge = engine.knowledge();
    for case in cases {
        let start = Instant::now();
        let decision = engine.decide(&case.question);
        report.latencies.push(start.elapsed());
        let got = decision.best.as_ref().map(|c| {
            let e = &knowledge.entries[c.entry];
            (e.id.clone(), c.aspect.map(|a| e.aspects[a].id.clone()))
        });
        let right = match &case.entry {
            Some(entry) => {
                report.on_topic.0 += 1;
                let target = |c: &crate::matcher::Candidate| {
                    let e = &knowledge.entries[c.entry];
                    e.id == *entry && c.aspect.map(|a| &e.aspects[a].id) == case.aspect.as_ref()
                };
                let answered = decision.status == Status::Answered
                    && decision.best.as_ref().is_some_and(target);
                if answered || decision.suggestions.iter().any(target) {
                    report.in_reach += 1;
                }
                answered
            }
            None => {
                report.off_topic.0 += 1;
                decision.status != Status::Answered
            }
        };
        if right {
            if case.entry.is_some() {
                report.on_topic.1 += 1;
            } else {
                report.off_topic.1 += 1;
            }
        } else {
            report.misses.push(Miss {
                case: case.clone(),
                status: decision.status,
                got,
                confidence: decision.confidence(),
            });
        }
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_cases_and_locates_bad_lines() {
        let text = "# comment\nwhat is django?\twhat-is-django\t-\nhi\t-\t-\n\nbad line\n";
        let err = parse(Path::new("e.tsv"), text).unwrap_err();
        assert_eq!(
            err.to_string(),
            "e.tsv:5:1: expected 3 tab-separated columns (question, entry, aspect), found 1"
        );
        let cases = parse(Path::new("e.tsv"), &text.replace("bad line\n", "")).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].entry.as_deref(), Some("what-is-django"));
        assert_eq!(cases[1].entry, None);
    }

    #[test]
    fn latency_is_by_nearest_rank() {
        let ms = Duration::from_millis;
        let report = Report {
            latencies: (1..=100).rev().map(ms).collect(),
            ..Report::default()
        };
        assert_eq!(report.latency(0.5), ms(50));
        assert_eq!(report.latency(0.99), ms(99));
        assert_eq!(report.latency(1.0), ms(100));
        assert_eq!(Report::default().latency(0.5), Duration::ZERO);
    }
}
