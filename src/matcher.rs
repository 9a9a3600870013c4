//! Matching: from a chat question to a decision (answer, suggest, or stay quiet).
//!
//! A question's terms are weighed by how rare they are in the knowledge. Each entry that
//! shares a term is a candidate; its confidence is how much of the question's weight it
//! explains (*coverage*), tempered by how much of its best phrasing the question says
//! (*precision*), so "what is flask" prefers the entry asked exactly that over the comparison
//! that merely mentions Flask. The aspect of a comparison is chosen when the question's words
//! beyond the subjects' names are explained by that aspect. A candidate is answered only when
//! it is confident *and* clearly ahead of the runner-up: a close race is a suggestion.

use crate::config::Matching;
use crate::index::{weight, EntryTerms, Index, Source, TermId, TermWeights};
use crate::text::Term;

/// Only this many entries (ranked by coverage) are scored in full.
const SHORTLIST: usize = 16;

/// How much precision counts in the confidence: `coverage * (1 - P + P * precision)`.
const PRECISION_SHARE: f32 = 0.4;

/// A whole comparison explains a question through its aspects slightly less than through its
/// own questions: asked about one aspect, the aspect itself should win.
const THROUGH_ASPECT: f32 = 0.9;

/// Share of the question's known non-subject weight an aspect must explain to be chosen.
const ASPECT_SHARE: f32 = 0.3;

/// A comparison asked about without naming anything it compares ("what is machine
/// learning" against Django vs FastAPI's use cases) counts this much: at best a suggestion.
const UNNAMED_SUBJECTS: f32 = 0.6;

/// Each further word the knowledge does not know weighs this much of the one before: the
/// first unknown word is a strong hint that the question is about something else, but a
/// long, chatty question ("best place to host a django app cheaply?") is not five times as
/// off-topic for having five words the pack never uses.
const UNKNOWN_DECAY: f32 = 0.8;

/// A question naming one of the pack's other topics ("how do i deploy a react app") and
/// none of its subjects is about something else: every entry counts this much, so it is at
/// best a suggestion.
pub const OTHER_TOPIC: f32 = 0.5;

/// How much an aspect cue ("when", for use cases) counts towards choosing the aspect,
/// relative to the weight of a rare word: less than any keyword said.
const CUE: f32 = 0.5;

/// An answer needs the question to say more than half of the phrasing it matched: one word
/// of a long alternate ("time" of "Real time updates in Django") explains a one-word
/// question fully, and says nearly nothing.
pub const MIN_PRECISION: f32 = 0.6;

/// A question naming two things a comparison compares ("flask or django for a rest api") is
/// asking to compare them: an entry about something else counts this much.
const NOT_THE_COMPARISON: f32 = 0.8;

/// What qabot does with a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Confident, with a clear margin: answer it.
    Answered,
    /// Plausible: offer "did you mean" choices.
    Suggested,
    /// Off-topic or unknown: stay quiet (or say so, when addressed).
    None,
}

/// One scored possibility: an entry, or one aspect of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Index of the entry in the knowledge.
    pub entry: usize,
    /// Index of the aspect in the entry, when the question is about one aspect.
    pub aspect: Option<usize>,
    /// In [0, 1].
    pub confidence: f32,
    /// Share of the question's weight the candidate explains.
    pub coverage: f32,
    /// Share of the best-matching phrasing the question says.
    pub precision: f32,
    /// The best-matching phrasing.
    pub phrase: Option<Source>,
    /// What the question as a whole makes of the entry, 1 unless it names none of a
    /// comparison's subjects, asks for another comparison, or names another topic.
    pub factor: f32,
    /// The confidence from words alone (equal to `confidence` without semantic matching).
    pub lexical: f32,
    /// How close the question's meaning is to the candidate's phrasings, when semantic
    /// matching is on.
    pub semantic: Option<Meaning>,
    /// The question is this entry's question or one of its alternates, word for word.
    pub exact: bool,
}

/// The semantic evidence for a candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Meaning {
    /// The best cosine between the question and the candidate's phrasings.
    pub cosine: f32,
    /// That cosine read against the pack's calibration: 0 at off-topic chat, 1 at the pack's
    /// own phrasings.
    pub level: f32,
}

/// The level from which meaning vouches for a candidate whose words match only a small
/// part of a long phrasing (see [`MIN_PRECISION`]).
pub const VOUCH_LEVEL: f32 = 0.25;

/// A clear lead: a candidate this far ahead of every other (`margin` plus this), whose
/// meaning is near the pack's own level ([`LEAD_LEVEL`]), is answered with this much less
/// than `answer_threshold`. Chat questions full of words the pack does not know score low
/// on words, yet leave no doubt which entry they mean.
pub const LEAD_EXTRA_MARGIN: f32 = 0.17;
/// See [`LEAD_EXTRA_MARGIN`].
pub const LEAD_DISCOUNT: f32 = 0.15;
/// See [`LEAD_EXTRA_MARGIN`].
pub const LEAD_LEVEL: f32 = 0.8;

/// A question word as the matcher saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryTerm {
    /// As written (folded).
    pub word: String,
    /// Stemmed and synonym-resolved.
    pub stem: String,
    /// The vocabulary term it matched, if any.
    pub term: Option<TermId>,
    /// 1 exact, less for a typo correction, 0 unknown.
    pub similarity: f32,
    /// How much it counts.
    pub weight: f32,
}

/// The outcome of matching one question.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// What to do.
    pub status: Status,
    /// The best candidate, if any entry matched at all.
    pub best: Option<Candidate>,
    /// The best candidate for another entry.
    pub runner_up: Option<Candidate>,
    /// "Did you mean" choices (when suggested), best first.
    pub suggestions: Vec<Candidate>,
    /// The question's terms.
    pub terms: Vec<QueryTerm>,
    /// The other topic the question names ("react"), when it names none of the pack's
    /// subjects: every candidate then counts [`OTHER_TOPIC`] of its confidence.
    pub elsewhere: Option<String>,
}

impl Decision {
    /// The best candidate's confidence, or 0.
    pub fn confidence(&self) -> f32 {
        self.best.as_ref().map_or(0.0, |c| c.confidence)
    }

    /// How far the best candidate leads the runner-up.
    pub fn margin(&self) -> f32 {
        self.confidence() - self.runner_up.as_ref().map_or(0.0, |c| c.confidence)
    }
}

/// The lexical stage's outcome: every entry the question's words point to, scored, before
/// any threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// Scored candidates, one per entry, in no particular order.
    pub ranked: Vec<Candidate>,
    /// Entries the question rules out (it is one of their negatives): no other evidence may
    /// bring them back.
    pub ruled_out: Vec<usize>,
    /// The question's terms.
    pub terms: Vec<QueryTerm>,
    /// The other topic the question names, as in [`Decision::elsewhere`].
    pub elsewhere: Option<String>,
}

/// The lexical stage: the question's words against the index.
pub fn rank(index: &Index, question: &str) -> Ranking {
    let analysis = index.analyzer.analyze(question);
    let terms = query_terms(index, analysis.terms);
    let total: f32 = terms.iter().map(|t| t.weight).sum();
    let on_topic = terms
        .iter()
        .any(|t| t.term.is_some_and(|id| index.is_subject(id)));
    let elsewhere = terms
        .iter()
        .find(|t| !on_topic && (index.is_other_topic(&t.word) || index.is_other_topic(&t.stem)))
        .map(|t| t.word.clone());
    let mut ranked = Vec::new();
    let mut ruled_out = Vec::new();
    if total > 0.0 {
        let shortlist = shortlist(index, &terms, total);
        let compared = shortlist.iter().any(|&entry| {
            let subjects = index.entries[entry].subjects();
            let named = subjects
                .iter()
                .enumerate()
                .filter(|&(i, id)| !subjects[..i].contains(id))
                .filter(|&(_, id)| terms.iter().any(|t| t.term == Some(*id)))
                .count();
            named >= 2
        });
        let asked = Asked {
            terms: &terms,
            total,
            compared,
            ignored: &analysis.ignored,
            elsewhere: elsewhere.is_some(),
        };
        for entry in shortlist {
            match score_entry(index, entry, &asked) {
                Some(c) => ranked.push(c),
                None => ruled_out.push(entry),
            }
        }
        if let Some(entry) = index.exact(question) {
            match ranked.iter_mut().find(|c| c.entry == entry) {
                Some(c) => c.exact = true,
                // Left out of a crowded shortlist (its words all common ones): typed word
                // for word, it is the one meant all the same.
                None if !ruled_out.contains(&entry) => {
                    if let Some(mut c) = score_entry(index, entry, &asked) {
                        c.exact = true;
                        ranked.push(c);
                    }
                }
                None => {}
            }
        }
    }
    Ranking {
        ranked,
        ruled_out,
        terms,
        elsewhere,
    }
}

/// The decision stage: the best candidate is answered when confident and clearly ahead (or
/// far ahead, with meaning close: see [`LEAD_EXTRA_MARGIN`]),
/// offered with the next ones when plausible, and dropped otherwise. An answer must say most
/// of the phrasing it matched, or be vouched for by meaning: the guard against one common
/// word matching a long phrasing.
pub fn settle(ranking: Ranking, thresholds: &Matching) -> Decision {
    let Ranking {
        mut ranked,
        terms,
        elsewhere,
        ..
    } = ranking;
    // Exactness first: an owner's phrasing typed word for word is certain, however many
    // other entries share its words.
    for c in ranked.iter_mut().filter(|c| c.exact) {
        c.confidence = 1.0;
    }
    let order = |a: &Candidate, b: &Candidate| {
        b.exact
            .cmp(&a.exact)
            .then(b.confidence.total_cmp(&a.confidence))
            .then(a.entry.cmp(&b.entry))
    };
    // Only the first few are ever read: with meaning on, every entry of a big pack is a
    // (faint) candidate, and sorting them all was a question's time for nothing.
    let wanted = thresholds.max_suggestions.max(2);
    if ranked.len() > wanted {
        ranked.select_nth_unstable_by(wanted - 1, order);
        ranked.truncate(wanted);
    }
    ranked.sort_by(order);
    let best = ranked.first().cloned();
    let runner_up = ranked.get(1).cloned();
    let mut decision = Decision {
        status: Status::None,
        best,
        runner_up,
        suggestions: Vec::new(),
        terms,
        elsewhere,
    };
    let confidence = decision.confidence();
    let said = decision.best.as_ref().is_some_and(|c| {
        c.precision >= MIN_PRECISION || c.semantic.is_some_and(|m| m.level >= VOUCH_LEVEL)
    });
    let margin = decision.margin();
    let plain = confidence >= thresholds.answer_threshold && margin >= thresholds.margin;
    let lead = confidence >= thresholds.answer_threshold - LEAD_DISCOUNT
        && margin >= thresholds.margin + LEAD_EXTRA_MARGIN
        && decision
            .best
            .as_ref()
            .and_then(|c| c.semantic)
            .is_some_and(|m| m.level >= LEAD_LEVEL);
    let exact = decision.best.as_ref().is_some_and(|c| c.exact);
    if exact || (plain || lead) && said {
        decision.status = Status::Answered;
    } else if confidence >= thresholds.suggest_threshold {
        decision.status = Status::Suggested;
        decision.suggestions = ranked
            .into_iter()
            .filter(|c| c.confidence >= thresholds.suggest_threshold)
            .take(thresholds.max_suggestions)
            .collect();
    }
    decision
}

/// The question's terms with their vocabulary matches and weights.
fn query_terms(index: &Index, terms: Vec<Term>) -> Vec<QueryTerm> {
    let mut unknown_scale = 1.0;
    terms
        .into_iter()
        .map(|t| {
            let found = index.lookup(&t);
            let weight = match found.term {
                Some(id) => index.idf(id),
                None => {
                    let w = index.unknown_weight() * unknown_scale;
                    unknown_scale *= UNKNOWN_DECAY;
                    w
                }
            };
            QueryTerm {
                word: t.word,
                stem: t.stem,
                term: found.term,
                similarity: found.similarity,
                weight,
            }
        })
        .collect()
}

/// Per-thread scratch space for [`shortlist`]: a score per entry (all zero between queries)
/// and the entries touched by the current query, so that a query costs what its postings
/// cost, not what the knowledge's size costs, and allocates nothing once warm.
#[derive(Default)]
struct Accumulator {
    scores: Vec<f32>,
    touched: Vec<u32>,
}

thread_local! {
    static ACCUMULATOR: std::cell::RefCell<Accumulator> = std::cell::RefCell::default();
}

/// The entries most worth scoring: those explaining the most of the question's weight.
/// Ties at the cut are broken by knowledge order, so the shortlist is deterministic.
fn shortlist(index: &Index, terms: &[QueryTerm], total: f32) -> Vec<usize> {
    ACCUMULATOR.with(|acc| {
        let mut acc = acc.borrow_mut();
        let Accumulator { scores, touched } = &mut *acc;
        if scores.len() < index.entries.len() {
            scores.resize(index.entries.len(), 0.0);
        }
        for t in terms {
            let Some(id) = t.term else { continue };
            let weight = t.weight * t.similarity;
            for (entry, w) in index.postings(id) {
                let slot = &mut scores[entry as usize];
                // Weights are positive: a zero slot has not been touched by this query.
                if *slot == 0.0 {
                    touched.push(entry);
                }
                *slot += weight * w;
            }
        }
        let mut scored: Vec<(u32, f32)> = Vec::new();
        for &entry in touched.iter() {
            let slot = &mut scores[entry as usize];
            let s = std::mem::take(slot);
            if s / total > 0.05 {
                scored.push((entry, s));
            }
        }
        touched.clear();
        if scored.len() > SHORTLIST {
            scored
                .select_nth_unstable_by(SHORTLIST, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            scored.truncate(SHORTLIST);
        }
        scored.into_iter().map(|(e, _)| e as usize).collect()
    })
}

fn weight_in(list: &TermWeights, id: TermId) -> f32 {
    list.iter().find(|(t, _)| *t == id).map_or(0.0, |(_, w)| *w)
}

/// How much of `phrase` (plus `context` terms, when not already in it) the question says,
/// by term weight.
fn phrase_precision(
    index: &Index,
    phrase: &[TermId],
    context: &[TermId],
    terms: &[QueryTerm],
) -> f32 {
    let mut said = 0.0;
    let mut all = 0.0;
    let extra = context.iter().filter(|id| !phrase.contains(id));
    for &id in phrase.iter().chain(extra) {
        let idf = index.idf(id);
        all += idf;
        if let Some(t) = terms.iter().find(|t| t.term == Some(id)) {
            said += idf * t.similarity;
        }
    }
    if all > 0.0 {
        said / all
    } else {
        0.0
    }
}

/// The phrase among `phrases` the question says most of. Each phrase is read with the
/// `context` terms added: an aspect keyword ("async") stands for the question "async, in
/// Django vs FastAPI", so a question naming only Django says only part of it.
fn best_phrase<'p>(
    index: &Index,
    phrases: impl Iterator<Item = (Source, &'p [TermId])>,
    context: &[TermId],
    terms: &[QueryTerm],
) -> (f32, Option<Source>) {
    phrases.fold((0.0, None), |best, (source, phrase)| {
        let precision = phrase_precision(index, phrase, context, terms);
        if precision > best.0 {
            (precision, Some(source))
        } else {
            best
        }
    })
}

/// The weight of the entry's own best field holding `id`, or 0. The question, alternates
/// and subjects count fully. A keyword counts a little less, times the share of it the
/// question says: a keyword is a unit, so "time" alone is weak evidence for "real time",
/// while a one-word keyword said is said whole.
fn own_weight(index: &Index, e: &EntryTerms, id: TermId, terms: &[QueryTerm]) -> f32 {
    if e.subjects().contains(&id) {
        return weight::QUESTION;
    }
    let mut best: f32 = 0.0;
    for (source, phrase) in e.phrases() {
        if phrase.contains(&id) {
            match source {
                Source::Keyword(_) => {
                    let said = phrase_precision(index, phrase, &[], terms);
                    best = best.max(weight::KEYWORD * said);
                }
                _ => return weight::QUESTION,
            }
        }
    }
    best
}

/// True if the question is (nearly) one of the entry's negatives.
fn is_negative(index: &Index, entry: &EntryTerms, terms: &[QueryTerm]) -> bool {
    let asked: f32 = terms.iter().map(|t| t.weight).sum();
    entry.negatives().iter().any(|negative| {
        let neg: f32 = negative.iter().map(|&id| index.idf(id)).sum();
        let shared: f32 = negative
            .iter()
            .filter(|id| terms.iter().any(|t| t.term == Some(**id)))
            .map(|&id| index.idf(id))
            .sum();
        neg > 0.0 && 2.0 * shared / (asked + neg) >= 0.8
    })
}

/// What a question brings to the scoring of each candidate entry.
struct Asked<'a> {
    terms: &'a [QueryTerm],
    /// The question's total term weight.
    total: f32,
    /// True if it names two subjects of a shortlisted comparison.
    compared: bool,
    /// Its words that are not terms, for aspect cues.
    ignored: &'a [String],
    /// True if it names another topic and none of the pack's subjects.
    elsewhere: bool,
}

/// The entry's best candidate (the whole entry or one aspect), or none if it is ruled out.
fn score_entry(index: &Index, entry: usize, asked: &Asked) -> Option<Candidate> {
    let Asked {
        terms,
        total,
        compared,
        ignored,
        elsewhere,
    } = *asked;
    let e = &index.entries[entry];
    if is_negative(index, e, terms) {
        return None;
    }
    let subjects = e.subjects();
    let named = subjects.is_empty()
        || terms
            .iter()
            .any(|t| t.term.is_some_and(|id| subjects.contains(&id)));
    let factor = match (subjects.is_empty(), named) {
        (true, _) if compared => NOT_THE_COMPARISON,
        (_, false) => UNNAMED_SUBJECTS,
        _ => 1.0,
    } * if elsewhere { OTHER_TOPIC } else { 1.0 };
    let confidence = |coverage: f32, precision: f32| {
        factor * coverage * (1.0 - PRECISION_SHARE + PRECISION_SHARE * precision)
    };
    // Evidence per aspect, from the question's non-subject words.
    let aspects = e.aspects();
    let mut evidence: Vec<f32> = vec![0.0; aspects.len()];
    let mut loose = 0.0;
    let mut whole = 0.0;
    // Per term, the weight of the entry's own field holding it (0 for unknown words).
    let mut owns: Vec<f32> = vec![0.0; terms.len()];
    for (t, own_slot) in terms.iter().zip(&mut owns) {
        // A word the knowledge does not know is no evidence for or against an aspect (it
        // already lowers the coverage).
        let Some(id) = t.term else { continue };
        let own = own_weight(index, e, id, terms);
        *own_slot = own;
        let mut via_aspect: f32 = 0.0;
        for (a, aspect) in aspects.iter().enumerate() {
            let w = weight_in(&aspect.terms, id);
            evidence[a] += t.weight * t.similarity * w;
            via_aspect = via_aspect.max(w);
        }
        if !subjects.contains(&id) {
            loose += t.weight;
        }
        whole += t.weight * t.similarity * own.max(via_aspect * THROUGH_ASPECT);
    }
    for (a, aspect) in aspects.iter().enumerate() {
        let cued = aspect
            .cues
            .iter()
            .any(|cue| cue.split(' ').all(|w| ignored.iter().any(|said| said == w)));
        if cued {
            evidence[a] += CUE * index.unknown_weight();
        }
    }
    let (whole_precision, whole_phrase) = best_phrase(index, e.phrases(), subjects, terms);
    let mut best = Candidate {
        entry,
        aspect: None,
        confidence: confidence(whole / total, whole_precision),
        coverage: whole / total,
        precision: whole_precision,
        phrase: whole_phrase,
        factor,
        lexical: 0.0,
        semantic: None,
        exact: false,
    };
    let mut order: Vec<usize> = (0..aspects.len()).collect();
    order.sort_by(|&a, &b| evidence[b].total_cmp(&evidence[a]));
    if let Some(&top) = order.first() {
        let second = order.get(1).map_or(0.0, |&a| evidence[a]);
        let clear = evidence[top] > 1.2 * second;
        if evidence[top] > 0.0 && evidence[top] >= ASPECT_SHARE * loose && clear {
            let aspect_terms = &aspects[top].terms;
            let covered: f32 = terms
                .iter()
                .zip(&owns)
                .filter_map(|(t, own)| {
                    let id = t.term?;
                    Some(t.weight * t.similarity * own.max(weight_in(aspect_terms, id)))
                })
                .sum();
            let (p, phrase) = best_phrase(index, e.aspect_phrases(top), subjects, terms);
            let (precision, phrase) = if p >= whole_precision {
                (p, phrase)
            } else {
                (whole_precision, whole_phrase)
            };
            best = Candidate {
                entry,
                aspect: Some(top),
                confidence: confidence(covered / total, precision),
                coverage: covered / total,
                precision,
                phrase,
                factor,
                lexical: 0.0,
                semantic: None,
                exact: false,
            };
        }
    }
    best.lexical = best.confidence;
    Some(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Knowledge;
    use std::path::PathBuf;

    fn index(entries: usize) -> Index {
        let mut text = String::new();
        for n in 0..entries {
            text.push_str(&format!(
                "[[entry]]\nid = \"e{n}\"\nquestion = \"How do I configure the widget number {n}?\"\n\
                 keywords = [\"widget\", \"gadget{n}\"]\nanswer = \"x\"\n"
            ));
        }
        let k = Knowledge::from_sources(&[(PathBuf::from("k.toml"), text)]).unwrap();
        Index::build(&k)
    }

    /// (best confidence, runner-up's, best's precision, best's meaning level, outcome)
    const SETTLE: &[(f32, f32, f32, Option<f32>, Status)] = &[
        (0.60, 0.10, 1.0, None, Status::Answered), // confident and ahead
        (0.60, 0.55, 1.0, None, Status::Suggested), // too close to the next
        (0.60, 0.10, 0.3, None, Status::Suggested), // one word of a long phrasing
        (0.60, 0.10, 0.3, Some(0.3), Status::Answered), // ...that meaning vouches for
        (0.45, 0.10, 1.0, Some(0.9), Status::Answered), // a clear lead, meaning close
        (0.45, 0.10, 1.0, Some(0.5), Status::Suggested), // a clear lead, meaning far
        (0.45, 0.25, 1.0, Some(0.9), Status::Suggested), // not lead enough
        (0.35, 0.00, 1.0, Some(1.2), Status::Suggested), // too little for any lead
        (0.20, 0.00, 1.0, Some(1.2), Status::None), // not even a suggestion
    ];

    #[test]
    fn settle_table() {
        let candidate = |entry, confidence, precision, level: Option<f32>| Candidate {
            entry,
            aspect: None,
            confidence,
            coverage: confidence,
            precision,
            phrase: None,
            factor: 1.0,
            lexical: confidence,
            semantic: level.map(|level| Meaning { cosine: 0.5, level }),
            exact: false,
        };
        for &(best, next, precision, level, want) in SETTLE {
            let ranking = Ranking {
                ranked: vec![
                    candidate(1, next, 1.0, None),
                    candidate(0, best, precision, level),
                ],
                ruled_out: Vec::new(),
                terms: Vec::new(),
                elsewhere: None,
            };
            let got = settle(ranking, &Matching::default()).status;
            assert_eq!(
                got, want,
                "{best} over {next}, precision {precision}, level {level:?}"
            );
        }
    }

    #[test]
    fn settle_picks_the_same_few_as_a_full_sort_among_thousands() {
        let candidate = |entry: usize| Candidate {
            entry,
            aspect: None,
            // Many ties (a hundred levels), one exact phrasing in the middle.
            confidence: 0.3 + (entry * 37 % 100) as f32 / 400.0,
            coverage: 1.0,
            precision: 1.0,
            phrase: None,
            factor: 1.0,
            lexical: 0.0,
            semantic: None,
            exact: entry == 2_500,
        };
        let ranked: Vec<Candidate> = (0..5_000).rev().map(candidate).collect();
        let mut sorted = ranked.clone();
        sorted.sort_by(|a, b| {
            b.exact
                .cmp(&a.exact)
                .then(b.confidence.total_cmp(&a.confidence))
                .then(a.entry.cmp(&b.entry))
        });
        let ranking = Ranking {
            ranked,
            ruled_out: Vec::new(),
            terms: Vec::new(),
            elsewhere: None,
        };
        let d = settle(ranking, &Matching::default());
        assert_eq!(d.best.map(|c| c.entry), Some(2_500));
        assert_eq!(d.runner_up.map(|c| c.entry), Some(sorted[1].entry));
        assert_eq!(d.status, Status::Answered, "the exact phrasing");
        let mut few = Matching {
            answer_threshold: 1.1,
            max_suggestions: 5,
            ..Matching::default()
        };
        let ranking = |ranked| Ranking {
            ranked,
            ruled_out: Vec::new(),
            terms: Vec::new(),
            elsewhere: None,
        };
        let without_exact: Vec<Candidate> = sorted.iter().filter(|c| !c.exact).cloned().collect();
        let d = settle(ranking(without_exact.iter().rev().cloned().collect()), &few);
        let got: Vec<usize> = d.suggestions.iter().map(|c| c.entry).collect();
        let want: Vec<usize> = without_exact[..5].iter().map(|c| c.entry).collect();
        assert_eq!(got, want);
        few.max_suggestions = 1;
        let d = settle(ranking(without_exact.iter().rev().cloned().collect()), &few);
        assert_eq!(d.runner_up.map(|c| c.entry), Some(without_exact[1].entry));
    }

    #[test]
    fn shortlist_cuts_ties_in_knowledge_order_and_leaves_no_trace() {
        let (small, large) = (index(3), index(40));
        let terms = query_terms(&large, large.analyzer.terms("configure widget"));
        let total: f32 = terms.iter().map(|t| t.weight).sum();
        // Forty entries score the same: the first sixteen are kept, whatever the hash order.
        let want: Vec<usize> = (0..SHORTLIST).collect();
        let mut got = shortlist(&large, &terms, total);
        got.sort_unstable();
        assert_eq!(got, want);
        // The scratch scores are reset: the same question gives the same shortlist after
        // questions on another index, of another size, on the same thread.
        let small_terms = query_terms(&small, small.analyzer.terms("widget gadget1"));
        let small_total: f32 = small_terms.iter().map(|t| t.weight).sum();
        let before = shortlist(&small, &small_terms, small_total);
        let _ = shortlist(&large, &terms, total);
        assert_eq!(shortlist(&small, &small_terms, small_total), before);
        let mut again = shortlist(&large, &terms, total);
        again.sort_unstable();
        assert_eq!(again, want);
    }

    #[test]
    fn each_further_unknown_word_weighs_less() {
        let index = index(3);
        let terms = query_terms(&index, index.analyzer.terms("widget zorp blick quux"));
        let w = index.unknown_weight();
        let weights: Vec<f32> = terms.iter().map(|t| t.weight).collect();
        let widget = index.idf(terms[0].term.unwrap());
        assert_eq!(
            weights,
            [
                widget,
                w,
                w * UNKNOWN_DECAY,
                w * UNKNOWN_DECAY * UNKNOWN_DECAY
            ]
        );
    }

    #[test]
    fn a_keyword_counts_by_how_much_of_it_is_said() {
        let text = "[[entry]]\nid = \"a\"\nquestion = \"What is Django?\"\n\
                    keywords = [\"real time\", \"csrf\"]\nanswer = \"x\"\n\
                    [[entry]]\nid = \"b\"\nquestion = \"What is time?\"\nanswer = \"x\"\n";
        let k = Knowledge::from_sources(&[(PathBuf::from("k.toml"), text.into())]).unwrap();
        let index = Index::build(&k);
        let weight = |question: &str, word: &str| {
            let terms = query_terms(&index, index.analyzer.terms(question));
            let id = index.lookup(&index.analyzer.terms(word)[0]).term.unwrap();
            own_weight(&index, &index.entries[0], id, &terms)
        };
        assert_eq!(weight("csrf", "csrf"), weight::KEYWORD);
        assert_eq!(weight("real time", "time"), weight::KEYWORD);
        let partial = weight("time", "time");
        assert!(
            partial > 0.0 && partial < 0.6 * weight::KEYWORD,
            "{partial}"
        );
        assert_eq!(weight("django", "django"), weight::QUESTION);
    }
}
