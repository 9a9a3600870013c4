//! `--explain`: why a question got the decision it got, for knowledge authors.
//!
//! Shows each question word (and what it became: stem, synonym, typo correction, unknown),
//! then the best candidate and the runner-up with their score parts and the phrasing that
//! matched, so an author sees which alternate or keyword to add or which negative to write.

use std::fmt::Write;

use crate::index::Source;
use crate::matcher::{Candidate, Decision};
use crate::Engine;

/// The explanation as text.
pub fn explain(engine: &Engine, decision: &Decision) -> String {
    let mut out = String::new();
    let index = engine.index();
    let m = engine.matching();
    let _ = writeln!(out, "terms (word -> term: weight):");
    if decision.terms.is_empty() {
        let _ = writeln!(out, "  (none: only stopwords, mentions, code or links)");
    }
    for t in &decision.terms {
        let matched = match t.term {
            Some(id) if t.similarity < 1.0 => {
                format!("{} (typo, similarity {:.2})", index.word(id), t.similarity)
            }
            Some(id) => index.word(id).to_string(),
            None => "unknown to the knowledge".to_string(),
        };
        let _ = writeln!(out, "  {} -> {}: {:.2}", t.word, matched, t.weight);
    }
    use crate::matcher::{
        LEAD_DISCOUNT, LEAD_EXTRA_MARGIN, LEAD_LEVEL, MIN_PRECISION, VOUCH_LEVEL,
    };
    let _ = writeln!(
        out,
        "decision: {:?} (confidence {:.3}, margin {:.3})",
        decision.status,
        decision.confidence(),
        decision.margin(),
    );
    let _ = writeln!(
        out,
        "  answer needs one of its phrasings word for word, or >= {:.2} with margin >= {:.2} (or >= {:.2} with margin >= {:.2} and meaning level >= {LEAD_LEVEL:.2}), and precision >= {MIN_PRECISION:.2} or meaning level >= {VOUCH_LEVEL:.2}; suggest >= {:.2}",
        m.answer_threshold,
        m.margin,
        m.answer_threshold - LEAD_DISCOUNT,
        m.margin + LEAD_EXTRA_MARGIN,
        m.suggest_threshold
    );
    if let Some(semantic) = engine.semantic() {
        let c = semantic.calibration();
        let _ = writeln!(
            out,
            "calibration: cosine {:.3} is level 0 (p95 of off-topic chat), {:.3} level 1 (median of the pack's own phrasings, {} samples)",
            c.noise, c.own, c.samples
        );
    }
    if let Some(word) = &decision.elsewhere {
        let _ = writeln!(
            out,
            "names {word:?}, one of the pack's other_topics, and none of its subjects: every entry counts x {}",
            crate::matcher::OTHER_TOPIC
        );
    }
    for (name, candidate) in [("best", &decision.best), ("runner-up", &decision.runner_up)] {
        match candidate {
            Some(c) => describe(&mut out, engine, name, c),
            None => {
                let _ = writeln!(out, "{name}: none");
            }
        }
    }
    out
}

fn describe(out: &mut String, engine: &Engine, name: &str, c: &Candidate) {
    let entry = &engine.knowledge().entries[c.entry];
    let aspect = c
        .aspect
        .map_or("-".to_string(), |a| entry.aspects[a].id.clone());
    let phrase = c.phrase.map_or("-".to_string(), |source| match source {
        Source::Question => format!("question {:?}", entry.question),
        Source::Alternate(i) => format!("alternate {:?}", &entry.alternates[i]),
        Source::Keyword(i) => format!("keyword {:?}", &entry.keywords[i]),
        Source::AspectKeyword(a, i) => format!(
            "aspect {} keyword {:?}",
            entry.aspects[a].id, &entry.aspects[a].keywords[i]
        ),
        Source::AspectTitle(a) => format!(
            "aspect {} title {:?}",
            entry.aspects[a].id, entry.aspects[a].title
        ),
    });
    let factor = if c.factor == 1.0 {
        String::new()
    } else {
        format!("{:.2} x ", c.factor)
    };
    let words = format!(
        "{factor}coverage {:.3} x (0.6 + 0.4 x precision {:.3})",
        c.coverage, c.precision
    );
    let parts = match c.semantic {
        Some(crate::matcher::Meaning { cosine, level }) => {
            use crate::fuse::{alone, fused, LEXICAL_SHARE, SEMANTIC_FLOOR};
            let meaning = format!("level {level:.3} [cosine {cosine:.3}]");
            if c.factor * alone(level) > fused(c.lexical, level) {
                format!("{factor}meaning alone {:.3} [from {meaning}]", alone(level))
            } else {
                format!(
                    "{LEXICAL_SHARE} x lexical {:.3} [{words}] + {:.1} x ({meaning} - {SEMANTIC_FLOOR})",
                    c.lexical,
                    1.0 - LEXICAL_SHARE,
                )
            }
        }
        _ => words,
    };
    let parts = if c.exact {
        format!("1 (the question is one of its phrasings, word for word; else {parts})")
    } else {
        parts
    };
    let _ = writeln!(
        out,
        "{name}: {} / {aspect}: confidence {:.3} = {parts}\n  matched phrasing: {phrase}\n  defined at {}:{}",
        entry.id,
        c.confidence,
        entry.origin.path.display(),
        entry.origin.line
    );
}
