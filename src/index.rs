//! The search index over a [`Knowledge`]: vocabulary, term weights, postings and typo lookup.
//!
//! Built once per load so that answering touches only plausible candidates: a question's
//! terms lead through postings to the entries that use them, and a word that is not in the
//! vocabulary is corrected through a deletion index (SymSpell-style) and verified with
//! strsim, instead of being compared with every word the knowledge has.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};

use crate::knowledge::Knowledge;
use crate::text::{Analyzer, Term};

/// A term's number in the vocabulary.
pub type TermId = u32;

/// How much a match in each field counts, relative to the entry's own questions.
pub mod weight {
    /// The question, its alternates and the comparison's subjects.
    pub const QUESTION: f32 = 1.0;
    /// Entry keywords, aspect keywords and aspect titles.
    pub const KEYWORD: f32 = 0.9;
    /// Aspect summaries: descriptive prose, weaker evidence.
    pub const SUMMARY: f32 = 0.5;
}

/// Where a phrase of an entry comes from, to show it in explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The entry's question.
    Question,
    /// The entry's n-th alternate.
    Alternate(usize),
    /// The entry's n-th keyword.
    Keyword(usize),
    /// The n-th keyword of the a-th aspect.
    AspectKeyword(usize, usize),
    /// The title of the a-th aspect.
    AspectTitle(usize),
}

/// A phrasing of an entry as terms.
#[derive(Debug, Clone)]
pub struct Phrase {
    /// Its distinct terms.
    pub terms: Vec<TermId>,
    /// Where it was written.
    pub source: Source,
}

/// Terms of one field group, each with the weight of its best field.
pub type TermWeights = Vec<(TermId, f32)>;

/// What the matcher needs to know about one entry.
#[derive(Debug, Clone, Default)]
pub struct EntryTerms {
    /// Question, alternates and keywords as phrases.
    pub phrases: Vec<Phrase>,
    /// Terms of the question, alternates, keywords and subjects.
    pub terms: TermWeights,
    /// Terms of the subjects' names (never evidence for an aspect).
    pub subjects: Vec<TermId>,
    /// Per aspect: its terms (title, keywords, summary) and its keyword/title phrases.
    pub aspects: Vec<(TermWeights, Vec<Phrase>)>,
    /// The negatives, as term lists.
    pub negatives: Vec<Vec<TermId>>,
}

/// A query word matched to the vocabulary.
#[derive(Debug, Clone, PartialEq)]
pub struct Lookup {
    /// The vocabulary term, if any.
    pub term: Option<TermId>,
    /// 1 for an exact match, less for a typo correction.
    pub similarity: f32,
}

/// The index. Immutable once built.
#[derive(Debug)]
pub struct Index {
    /// The analyzer with the pack's synonyms; questions must go through this one.
    pub analyzer: Analyzer,
    ids: HashMap<String, TermId>,
    words: Vec<String>,
    idf: Vec<f32>,
    postings: Vec<Vec<(u32, f32)>>,
    /// Stems and written forms of the vocabulary, each with its term: what typos are
    /// compared with.
    spellings: Vec<(String, TermId)>,
    spelled: HashSet<String>,
    /// Hash of a spelling or of a one-deletion variant -> indices into `spellings`.
    deletions: HashMap<u64, Vec<u32>, FixedState>,
    /// Per entry, in knowledge order.
    pub entries: Vec<EntryTerms>,
    unknown_weight: f32,
}

/// A fixed-seed hasher for the deletion keys: the index stores only their hashes.
#[derive(Debug, Clone, Copy, Default)]
struct FixedState;

impl BuildHasher for FixedState {
    type Hasher = std::collections::hash_map::DefaultHasher;
    fn build_hasher(&self) -> Self::Hasher {
        std::collections::hash_map::DefaultHasher::new()
    }
}

fn hash_str(s: &str) -> u64 {
    let mut h = FixedState.build_hasher();
    h.write(s.as_bytes());
    h.finish()
}

/// `word` with its i-th character removed, for each i.
fn deletions(word: &str) -> impl Iterator<Item = String> + '_ {
    word.char_indices()
        .map(move |(i, c)| format!("{}{}", &word[..i], &word[i + c.len_utf8()..]))
}

impl Index {
    /// Indexes every entry of `knowledge`.
    pub fn build(knowledge: &Knowledge) -> Index {
        let analyzer = Analyzer::new(
            knowledge
                .synonyms
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let mut index = Index {
            analyzer,
            ids: HashMap::new(),
            words: Vec::new(),
            idf: Vec::new(),
            postings: Vec::new(),
            spellings: Vec::new(),
            spelled: HashSet::new(),
            deletions: HashMap::with_hasher(FixedState),
            entries: Vec::with_capacity(knowledge.entries.len()),
            unknown_weight: 0.0,
        };
        for (n, entry) in knowledge.entries.iter().enumerate() {
            let mut terms = EntryTerms::default();
            let phrase = |index: &mut Index, text: &str, source: Source| -> Phrase {
                Phrase {
                    terms: index.intern_all(text),
                    source,
                }
            };
            let q = phrase(&mut index, &entry.question, Source::Question);
            terms.phrases.push(q);
            for (i, alt) in entry.alternates.iter().enumerate() {
                let p = phrase(&mut index, alt, Source::Alternate(i));
                terms.phrases.push(p);
            }
            let add = |list: &mut TermWeights, ids: &[TermId], w: f32| {
                for &id in ids {
                    match list.iter_mut().find(|(t, _)| *t == id) {
                        Some((_, old)) => *old = old.max(w),
                        None => list.push((id, w)),
                    }
                }
            };
            for p in &terms.phrases {
                add(&mut terms.terms, &p.terms, weight::QUESTION);
            }
            for (i, kw) in entry.keywords.iter().enumerate() {
                let p = phrase(&mut index, kw, Source::Keyword(i));
                add(&mut terms.terms, &p.terms, weight::KEYWORD);
                terms.phrases.push(p);
            }
            for subject in &entry.subjects {
                let ids = index.intern_all(subject);
                add(&mut terms.terms, &ids, weight::QUESTION);
                terms.subjects.extend(ids);
            }
            for (a, aspect) in entry.aspects.iter().enumerate() {
                let mut aspect_terms = TermWeights::new();
                let mut phrases = Vec::new();
                let title = phrase(&mut index, &aspect.title, Source::AspectTitle(a));
                add(&mut aspect_terms, &title.terms, weight::KEYWORD);
                phrases.push(title);
                for (i, kw) in aspect.keywords.iter().enumerate() {
                    let p = phrase(&mut index, kw, Source::AspectKeyword(a, i));
                    add(&mut aspect_terms, &p.terms, weight::KEYWORD);
                    phrases.push(p);
                }
                if let Some(summary) = &aspect.summary {
                    let ids = index.intern_all(summary);
                    add(&mut aspect_terms, &ids, weight::SUMMARY);
                }
                aspect_terms.retain(|(t, _)| !terms.subjects.contains(t));
                terms.aspects.push((aspect_terms, phrases));
            }
            terms.negatives = entry
                .negatives
                .iter()
                .map(|n| index.intern_all(n))
                .collect();
            // Postings: each term once per entry, at its best weight anywhere in the entry.
            let mut all = terms.terms.clone();
            for (aspect_terms, _) in &terms.aspects {
                add(
                    &mut all,
                    &aspect_terms.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
                    0.0,
                );
                for &(t, w) in aspect_terms {
                    if let Some(slot) = all.iter_mut().find(|(id, _)| *id == t) {
                        slot.1 = slot.1.max(w);
                    }
                }
            }
            for (t, w) in all {
                index.postings[t as usize].push((n as u32, w));
            }
            index.entries.push(terms);
        }
        let n = knowledge.entries.len().max(1) as f32;
        index.idf = index
            .postings
            .iter()
            .map(|p| (1.0 + n / p.len().max(1) as f32).ln())
            .collect();
        // A word the knowledge never uses weighs like a fairly rare one: it is part of what
        // the question is about, and nothing here explains it.
        index.unknown_weight = 0.7 * (1.0 + n).ln();
        index.spelled = HashSet::new();
        for (n, (word, _)) in index.spellings.iter().enumerate() {
            if word.chars().count() < 4 {
                continue;
            }
            for key in std::iter::once(word.clone()).chain(deletions(word)) {
                index
                    .deletions
                    .entry(hash_str(&key))
                    .or_default()
                    .push(n as u32);
            }
        }
        for list in index.deletions.values_mut() {
            list.dedup();
        }
        index
    }

    fn intern_all(&mut self, text: &str) -> Vec<TermId> {
        let terms = self.analyzer.terms(text);
        terms
            .iter()
            .map(|t| {
                let id = self.intern(&t.stem);
                for spelling in [&t.stem, &t.word] {
                    if self.spelled.insert(spelling.clone()) {
                        self.spellings.push((spelling.clone(), id));
                    }
                }
                id
            })
            .collect()
    }

    fn intern(&mut self, stem: &str) -> TermId {
        if let Some(&id) = self.ids.get(stem) {
            return id;
        }
        let id = self.words.len() as TermId;
        self.ids.insert(stem.to_string(), id);
        self.words.push(stem.to_string());
        self.postings.push(Vec::new());
        id
    }

    /// The vocabulary term's text.
    pub fn word(&self, id: TermId) -> &str {
        &self.words[id as usize]
    }

    /// How informative a term is (inverse document frequency over entries).
    pub fn idf(&self, id: TermId) -> f32 {
        self.idf[id as usize]
    }

    /// The weight of a question word the knowledge does not know.
    pub fn unknown_weight(&self) -> f32 {
        self.unknown_weight
    }

    /// The entries using a term, each with the weight of its best field there.
    pub fn postings(&self, id: TermId) -> &[(u32, f32)] {
        &self.postings[id as usize]
    }

    /// How many distinct terms the knowledge uses.
    pub fn vocabulary_len(&self) -> usize {
        self.words.len()
    }

    /// Finds a query term in the vocabulary, correcting a typo when the word is long enough
    /// for a correction to be safe: 4 letters may only have lost a letter or swapped two
    /// ("flsk"), 5 to 7 may be one edit away, 8 and more two. Shorter words must be exact,
    /// or "rust" would become "rest".
    pub fn lookup(&self, term: &Term) -> Lookup {
        if let Some(&id) = self.ids.get(&term.stem) {
            return Lookup {
                term: Some(id),
                similarity: 1.0,
            };
        }
        if term.synonym {
            return Lookup {
                term: None,
                similarity: 0.0,
            };
        }
        let mut best: Option<(usize, f32, TermId)> = None;
        for typed in [term.word.as_str(), term.stem.as_str()] {
            let len = typed.chars().count();
            let max_edits = match len {
                0..=3 => continue,
                4..=7 => 1,
                _ => 2,
            };
            for key in std::iter::once(typed.to_string()).chain(deletions(typed)) {
                let Some(candidates) = self.deletions.get(&hash_str(&key)) else {
                    continue;
                };
                for &n in candidates {
                    let (word, id) = &self.spellings[n as usize];
                    let (word, id) = (word.as_str(), *id);
                    let edits = strsim::osa_distance(typed, word);
                    if edits == 0 || edits > max_edits {
                        continue;
                    }
                    if len == 4 && word.chars().count() != 5 && !is_transposition(typed, word) {
                        continue;
                    }
                    let df = self.postings(id).len() as f32;
                    let better = match best {
                        None => true,
                        Some((e, d, _)) => edits < e || (edits == e && df > d),
                    };
                    if better {
                        best = Some((edits, df, id));
                    }
                }
            }
        }
        match best {
            Some((edits, _, id)) => Lookup {
                term: Some(id),
                similarity: if edits == 1 { 0.85 } else { 0.7 },
            },
            None => Lookup {
                term: None,
                similarity: 0.0,
            },
        }
    }
}

/// True if `b` is `a` with two adjacent characters swapped.
fn is_transposition(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    a.len() == b.len() && {
        let diff: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
        diff.len() == 2
            && diff[1] == diff[0] + 1
            && a[diff[0]] == b[diff[1]]
            && a[diff[1]] == b[diff[0]]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn index() -> Index {
        let text = r#"
[[entry]]
id = "a"
question = "What is Django?"
keywords = ["framework", "deployment"]
answer = "x"
[[entry]]
id = "b"
question = "Django or Flask?"
subjects = ["Django", "Flask"]
answer = "x"
[[entry.aspect]]
id = "rest"
title = "REST APIs"
text.Django = "x"
text.Flask = "x"
"#;
        let k = Knowledge::from_sources(&[(PathBuf::from("k.toml"), text.into())]).unwrap();
        Index::build(&k)
    }

    #[test]
    fn typo_lookup_table() {
        let index = index();
        // (typed, corrected to, or None for "no safe correction")
        let cases = [
            ("django", Some("django")),
            ("djnago", Some("django")),
            ("djano", Some("django")),
            ("flaks", Some("flask")),
            ("flsk", Some("flask")),
            ("flaskk", Some("flask")),
            ("framwork", Some("framework")),
            ("deploymnet", Some("deploy")),
            ("rust", None),
            ("rest", Some("rest")),
            ("fla", None),
            ("react", None),
            ("docker", None),
        ];
        for (typed, want) in cases {
            let terms = index.analyzer.terms(typed);
            let got = terms
                .first()
                .and_then(|t| index.lookup(t).term)
                .map(|id| index.word(id));
            assert_eq!(got, want, "{typed}");
        }
    }

    #[test]
    fn rare_terms_weigh_more() {
        let index = index();
        let id = |w: &str| index.lookup(&index.analyzer.terms(w)[0]).term.unwrap();
        assert!(index.idf(id("flask")) > index.idf(id("django")));
        assert!(index.unknown_weight() > index.idf(id("django")));
    }
}
