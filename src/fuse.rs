//! Fusion: one confidence per candidate from the lexical and the semantic evidence.
//!
//! The lexical stage knows words: subjects named, typos corrected, aspects keyed, negatives
//! and other topics. The semantic stage knows meaning: a symptom described in other words.
//! Each candidate's confidence becomes
//!
//! ```text
//! LEXICAL_SHARE * lexical + (1 - LEXICAL_SHARE) * (level - SEMANTIC_FLOOR)
//! ```
//!
//! where `level` is the candidate's best cosine read against the pack's own calibration
//! ([`crate::calibrate`]): 0 at the closeness of off-topic chat, 1 at the closeness of the
//! pack's own phrasings to each other. Below [`SEMANTIC_FLOOR`] meaning counts *against*
//! a candidate, so words alone need more to answer than they do without the model; above
//! it, meaning carries a candidate whose words were not quite enough. And meaning alone
//! ([`alone`]) can carry a candidate whose words say little or nothing, when the question
//! is as close to one of its phrasings as the pack's phrasings are to each other: the
//! question that describes a symptom instead of naming the concept. The larger of the two
//! counts, times what the question says of the pack as a whole (another topic named).
//!
//! The shares were chosen on the packs under `tests/eval/packs` and the shipped pack's blind
//! set, for the best worst case rather than the best average: a rule that helps one pack and
//! costs another is not taken. The config's thresholds apply to the fused confidence, so
//! they keep their meaning and their defaults.

use crate::calibrate::Calibration;
use crate::matcher::{Candidate, Meaning, Ranking, OTHER_TOPIC};
use crate::semantic::Closeness;

/// How much the lexical confidence counts.
pub const LEXICAL_SHARE: f32 = 0.8;

/// The calibrated level at which meaning starts to count for a candidate.
pub const SEMANTIC_FLOOR: f32 = 0.25;

/// Levels above this count as this: being closer to a phrasing than the pack's own
/// phrasings are to each other says no more.
const LEVEL_CAP: f32 = 1.25;

/// How fast the confidence of meaning alone grows with the level, and the level it starts
/// from (negative: even a level of 0 is a faint candidate, never a suggestion).
const ALONE_SLOPE: f32 = 0.4;
const ALONE_LIFT: f32 = 0.2;

/// An answer (whole or an aspect's text) is what an entry *says*, not how it is asked:
/// its closeness counts this much.
const ANSWER_SHARE: f32 = 0.9;

/// Rescores `ranking` with `closeness` (every entry's, in knowledge order): lexical
/// candidates get their fused confidence, and entries the words missed join with their
/// semantic evidence alone. Entries the question rules out stay out.
pub fn fuse(ranking: &mut Ranking, closeness: &[Closeness], calibration: &Calibration) {
    let mut lexical: Vec<Option<usize>> = vec![None; closeness.len()];
    for (n, c) in ranking.ranked.iter().enumerate() {
        if let Some(slot) = lexical.get_mut(c.entry) {
            *slot = Some(n);
        }
    }
    for (entry, close) in closeness.iter().enumerate() {
        if ranking.ruled_out.contains(&entry) {
            continue;
        }
        let (aspect, cosine) = match lexical[entry] {
            Some(n) => {
                let aspect = ranking.ranked[n].aspect;
                (aspect, closest(close, aspect))
            }
            None => choose_aspect(close),
        };
        let level = level(calibration, cosine);
        let meaning_of = Meaning { cosine, level };
        let meaning = fused(0.0, level);
        match lexical[entry] {
            Some(n) => {
                let c = &mut ranking.ranked[n];
                c.confidence = fused(c.lexical, level)
                    .max(c.factor * alone(level))
                    .max(0.0);
                c.semantic = Some(meaning_of);
            }
            None => {
                // What the question says of the pack as a whole still counts.
                let factor = if ranking.elsewhere.is_some() {
                    OTHER_TOPIC
                } else {
                    1.0
                };
                let confidence = meaning.max(factor * alone(level));
                if confidence > 0.0 {
                    ranking.ranked.push(Candidate {
                        entry,
                        aspect,
                        confidence,
                        coverage: 0.0,
                        precision: 0.0,
                        phrase: None,
                        factor,
                        lexical: 0.0,
                        semantic: Some(meaning_of),
                        exact: false,
                    });
                }
            }
        }
    }
}

/// Words and meaning together: the lexical confidence, nudged up or down by the level.
pub fn fused(lexical: f32, level: f32) -> f32 {
    LEXICAL_SHARE * lexical + (1.0 - LEXICAL_SHARE) * (level - SEMANTIC_FLOOR)
}

/// The confidence meaning gives on its own: a question as close to a candidate's phrasing
/// as the pack's own phrasings are to each other, or closer, is answered even when its words
/// miss (at the default thresholds, from level 1.175); below that it can only be suggested.
pub fn alone(level: f32) -> f32 {
    ALONE_SLOPE * (level + ALONE_LIFT)
}

/// `cosine` read against the pack's calibration, within the range fusion counts.
pub fn level(calibration: &Calibration, cosine: f32) -> f32 {
    calibration.level(cosine).clamp(0.0, LEVEL_CAP)
}

/// The entry's closeness as a whole, or for `aspect` (which includes the whole entry's:
/// an aspect is asked within its comparison).
fn closest(close: &Closeness, aspect: Option<usize>) -> f32 {
    let whole = close.asked.max(ANSWER_SHARE * close.answer);
    match aspect {
        Some(a) => whole.max(aspect_closeness(close, a)),
        None => whole,
    }
}

fn aspect_closeness(close: &Closeness, a: usize) -> f32 {
    let asked = close.aspects.get(a).copied().unwrap_or(0.0);
    let said = close.aspect_texts.get(a).copied().unwrap_or(0.0);
    asked.max(ANSWER_SHARE * said)
}

/// For an entry the words did not find: its closest aspect if that is closer than the whole
/// entry, else the whole entry.
fn choose_aspect(close: &Closeness) -> (Option<usize>, f32) {
    let whole = closest(close, None);
    (0..close.aspects.len())
        .map(|a| (a, aspect_closeness(close, a)))
        .max_by(|x, y| x.1.total_cmp(&y.1))
        .filter(|&(_, c)| c > whole)
        .map_or((None, whole), |(a, c)| (Some(a), c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(asked: f32, aspects: &[f32]) -> Closeness {
        Closeness {
            entry: 0,
            asked,
            answer: 0.0,
            aspects: aspects.to_vec(),
            aspect_texts: vec![0.0; aspects.len()],
        }
    }

    fn lexical(entry: usize, confidence: f32, aspect: Option<usize>) -> Candidate {
        Candidate {
            entry,
            aspect,
            confidence,
            coverage: confidence,
            precision: 1.0,
            phrase: None,
            factor: 1.0,
            lexical: confidence,
            semantic: None,
            exact: false,
        }
    }

    fn ranking(ranked: Vec<Candidate>, ruled_out: Vec<usize>) -> Ranking {
        Ranking {
            ranked,
            ruled_out,
            terms: Vec::new(),
            elsewhere: None,
        }
    }

    const CAL: Calibration = Calibration {
        own: 0.7,
        noise: 0.3,
        samples: 10,
    };

    /// (lexical confidence, cosine, fused confidence)
    const CASES: &[(f32, f32, f32)] = &[
        (1.0, 0.7, 0.95),  // words and meaning agree: nearly the words' own confidence
        (1.0, 0.8, 1.0),   // closer than own phrasings: capped
        (0.6, 0.3, 0.43),  // words alone, meaning at noise: pulled below answering
        (0.5, 0.7, 0.55),  // weak words, meaning at the pack's own level: carried
        (0.0, 0.7, 0.48),  // meaning alone, at the pack's own level: a suggestion
        (0.0, 0.8, 0.58),  // meaning alone, closer than that: an answer
        (0.05, 0.1, 0.08), // nothing: a faint candidate, never negative
    ];

    #[test]
    fn fused_confidence_table() {
        for &(words, cosine, want) in CASES {
            let mut r = ranking(vec![lexical(0, words, None)], vec![]);
            fuse(&mut r, &[close(cosine, &[])], &CAL);
            let got = r.ranked[0].confidence;
            assert!(
                (got - want).abs() < 0.01,
                "{words} {cosine}: {got} != {want}"
            );
            assert_eq!(r.ranked[0].semantic.map(|m| m.cosine), Some(cosine));
        }
    }

    #[test]
    fn entries_the_words_missed_join_and_ruled_out_ones_do_not() {
        let mut r = ranking(vec![], vec![1]);
        fuse(
            &mut r,
            &[close(0.7, &[]), close(0.9, &[]), close(0.2, &[])],
            &CAL,
        );
        let entries: Vec<usize> = r.ranked.iter().map(|c| c.entry).collect();
        assert_eq!(entries, vec![0, 2]);
        assert!(r.ranked[0].confidence > 0.4 && r.ranked[1].confidence < 0.1);
    }

    #[test]
    fn meaning_picks_the_aspect_only_when_words_did_not() {
        let mut r = ranking(vec![lexical(0, 0.8, None)], vec![]);
        fuse(&mut r, &[close(0.5, &[0.2, 0.9])], &CAL);
        assert_eq!(r.ranked[0].aspect, None, "words chose the whole entry");
        let mut r = ranking(vec![], vec![]);
        fuse(&mut r, &[close(0.5, &[0.2, 0.9])], &CAL);
        assert_eq!(r.ranked[0].aspect, Some(1));
        let mut r = ranking(vec![], vec![]);
        fuse(&mut r, &[close(0.9, &[0.2, 0.8])], &CAL);
        assert_eq!(r.ranked[0].aspect, None, "the whole entry is closer");
    }
}
