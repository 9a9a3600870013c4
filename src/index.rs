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

/// A phrasing of an entry as terms: see [`EntryTerms::terms_of`].
#[derive(Debug, Clone)]
pub struct Phrase {
    /// Where its distinct terms are in the entry's `phrase_terms`: one array per entry
    /// instead of one per phrase, a third of the index's memory.
    start: u32,
    end: u32,
    /// Where it was written, packed: see [`Phrase::source`].
    kind: u8,
    first: u32,
    second: u32,
}

impl Phrase {
    fn new(start: u32, end: u32, source: Source) -> Phrase {
        let small = |i: usize| u32::try_from(i).expect("fewer than 2^32 phrases");
        let (kind, first, second) = match source {
            Source::Question => (0, 0, 0),
            Source::Alternate(i) => (1, small(i), 0),
            Source::Keyword(i) => (2, small(i), 0),
            Source::AspectKeyword(a, i) => (3, small(a), small(i)),
            Source::AspectTitle(a) => (4, small(a), 0),
        };
        Phrase {
            start,
            end,
            kind,
            first,
            second,
        }
    }

    /// Where it was written.
    pub fn source(&self) -> Source {
        let (first, second) = (self.first as usize, self.second as usize);
        match self.kind {
            0 => Source::Question,
            1 => Source::Alternate(first),
            2 => Source::Keyword(first),
            3 => Source::AspectKeyword(first, second),
            _ => Source::AspectTitle(first),
        }
    }

    fn span(&self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Terms of one field group, each with the weight of its best field.
pub type TermWeights = Vec<(TermId, f32)>;

/// What the matcher needs to know about one entry.
#[derive(Debug, Clone, Default)]
pub struct EntryTerms {
    /// The terms of every phrase of the entry, its own and its aspects', one after another.
    phrase_terms: Vec<TermId>,
    /// Question, alternates and keywords as phrases.
    pub phrases: Vec<Phrase>,
    /// Terms of the subjects' names (never evidence for an aspect).
    pub subjects: Vec<TermId>,
    /// Per aspect: its terms (title, keywords, summary) and its keyword/title phrases.
    pub aspects: Vec<(TermWeights, Vec<Phrase>)>,
    /// The negatives, as term lists.
    pub negatives: Vec<Vec<TermId>>,
}

impl EntryTerms {
    /// The distinct terms of one of this entry's phrases (its own or an aspect's).
    pub fn terms_of(&self, phrase: &Phrase) -> &[TermId] {
        &self.phrase_terms[phrase.span()]
    }

    /// The weight of the entry's own best field holding `id` (question, alternates and
    /// subjects count fully, keywords a little less), or 0. Derived from the phrases rather
    /// than stored: a table per entry would cost a third more memory than the phrases do.
    pub fn weight(&self, id: TermId) -> f32 {
        if self.subjects.contains(&id) {
            return weight::QUESTION;
        }
        let mut best: f32 = 0.0;
        for p in &self.phrases {
            if self.terms_of(p).contains(&id) {
                match p.source() {
                    Source::Keyword(_) => best = best.max(weight::KEYWORD),
                    _ => return weight::QUESTION,
                }
            }
        }
        best
    }

    /// Interns `text` as a phrase of this entry.
    fn phrase(&mut self, index: &mut Index, text: &str, source: Source) -> Phrase {
        let start = self.phrase_terms.len() as u32;
        index.intern_into(text, &mut self.phrase_terms);
        Phrase::new(start, self.phrase_terms.len() as u32, source)
    }

    /// Gives back the room the vectors grew into while the entry was built.
    fn shrink_to_fit(&mut self) {
        self.phrase_terms.shrink_to_fit();
        self.phrases.shrink_to_fit();
        self.subjects.shrink_to_fit();
        for (terms, phrases) in &mut self.aspects {
            terms.shrink_to_fit();
            phrases.shrink_to_fit();
        }
        self.aspects.shrink_to_fit();
    }
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
    /// (hash of a spelling or of a one-deletion variant, index into `spellings`), sorted and
    /// without repeats: one flat array instead of a map of small lists, compact and quick to
    /// build; a key's candidates are a contiguous run, in `spellings` order.
    deletions: Vec<(u64, u32)>,
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

/// The hashes of `word` and of `word` with its i-th character removed, for each i, in that
/// order. The variants are hashed in two pieces, without building them: the hasher sees a
/// stream of bytes, so this is `hash_str` of the variant.
fn deletion_keys(word: &str) -> impl Iterator<Item = u64> + '_ {
    std::iter::once(hash_str(word)).chain(word.char_indices().map(move |(i, c)| {
        let mut h = FixedState.build_hasher();
        h.write(&word.as_bytes()[..i]);
        h.write(&word.as_bytes()[i + c.len_utf8()..]);
        h.finish()
    }))
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
            deletions: Vec::new(),
            entries: Vec::with_capacity(knowledge.entries.len()),
            unknown_weight: 0.0,
        };
        for (n, entry) in knowledge.entries.iter().enumerate() {
            let mut terms = EntryTerms::default();
            // The entry's own terms at their best weight, for its postings.
            let mut own = TermWeights::new();
            let q = terms.phrase(&mut index, &entry.question, Source::Question);
            terms.phrases.push(q);
            for (i, alt) in entry.alternates.iter().enumerate() {
                let p = terms.phrase(&mut index, alt, Source::Alternate(i));
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
                add(&mut own, &terms.phrase_terms[p.span()], weight::QUESTION);
            }
            for (i, kw) in entry.keywords.iter().enumerate() {
                let p = terms.phrase(&mut index, kw, Source::Keyword(i));
                add(&mut own, &terms.phrase_terms[p.span()], weight::KEYWORD);
                terms.phrases.push(p);
            }
            for subject in &entry.subjects {
                let ids = index.intern_all(subject);
                add(&mut own, &ids, weight::QUESTION);
                terms.subjects.extend(ids);
            }
            for (a, aspect) in entry.aspects.iter().enumerate() {
                let mut aspect_terms = TermWeights::new();
                let mut phrases = Vec::new();
                let title = terms.phrase(&mut index, &aspect.title, Source::AspectTitle(a));
                add(&mut aspect_terms, terms.terms_of(&title), weight::KEYWORD);
                phrases.push(title);
                for (i, kw) in aspect.keywords.iter().enumerate() {
                    let p = terms.phrase(&mut index, kw, Source::AspectKeyword(a, i));
                    add(&mut aspect_terms, terms.terms_of(&p), weight::KEYWORD);
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
            let mut all = own;
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
            terms.shrink_to_fit();
            index.entries.push(terms);
        }
        for list in &mut index.postings {
            list.shrink_to_fit();
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
        let mut keys = Vec::new();
        for (n, (word, _)) in index.spellings.iter().enumerate() {
            if word.chars().count() < 4 {
                continue;
            }
            keys.extend(deletion_keys(word).map(|key| (key, n as u32)));
        }
        keys.sort_unstable();
        keys.dedup();
        keys.shrink_to_fit();
        index.deletions = keys;
        index
    }

    fn intern_all(&mut self, text: &str) -> Vec<TermId> {
        let mut ids = Vec::new();
        self.intern_into(text, &mut ids);
        ids
    }

    /// Interns the terms of `text`, appending their ids to `out`.
    fn intern_into(&mut self, text: &str, out: &mut Vec<TermId>) {
        for t in self.analyzer.terms(text) {
            let id = self.intern(&t.stem);
            for spelling in [&t.stem, &t.word] {
                if !self.spelled.contains(spelling) {
                    self.spelled.insert(spelling.clone());
                    self.spellings.push((spelling.clone(), id));
                }
            }
            out.push(id);
        }
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

    /// The spellings with a variant hashed to `key`, in `spellings` order.
    fn candidates(&self, key: u64) -> &[(u64, u32)] {
        let start = self.deletions.partition_point(|&(k, _)| k < key);
        let len = self.deletions[start..].partition_point(|&(k, _)| k == key);
        &self.deletions[start..start + len]
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
            for key in deletion_keys(typed) {
                for &(_, n) in self.candidates(key) {
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
    fn phrases_keep_their_source() {
        let sources = [
            Source::Question,
            Source::Alternate(7),
            Source::Keyword(0),
            Source::AspectKeyword(3, 12),
            Source::AspectTitle(2),
        ];
        for source in sources {
            assert_eq!(Phrase::new(1, 4, source).source(), source);
        }
        let index = index();
        let b = &index.entries[1];
        let words: Vec<&str> = b
            .terms_of(&b.phrases[0])
            .iter()
            .map(|&id| index.word(id))
            .collect();
        assert_eq!(words, ["django", "flask"]);
        let (_, aspect_phrases) = &b.aspects[0];
        assert_eq!(aspect_phrases[0].source(), Source::AspectTitle(0));
        assert_eq!(b.terms_of(&aspect_phrases[0]).len(), 2, "rest, api");
    }

    #[test]
    fn deletion_keys_hash_the_variants() {
        for word in ["django", "héllo", "ab", ""] {
            let variants = word
                .char_indices()
                .map(|(i, c)| format!("{}{}", &word[..i], &word[i + c.len_utf8()..]));
            let want: Vec<u64> = std::iter::once(word.to_string())
                .chain(variants)
                .map(|w| hash_str(&w))
                .collect();
            assert_eq!(deletion_keys(word).collect::<Vec<_>>(), want, "{word}");
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
