//! The search index over a [`Knowledge`]: vocabulary, term weights, postings and typo lookup.
//!
//! Built once per load so that answering touches only plausible candidates: a question's
//! terms lead through postings to the entries that use them, and a word that is not in the
//! vocabulary is corrected through a deletion index (SymSpell-style) and verified with
//! strsim, instead of being compared with every word the knowledge has.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, Hasher};

use crate::knowledge::Knowledge;
use crate::text::{words, Analyzer, Term};

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

/// A word found only in alternates, the pack's free-form phrasings, is part of how people
/// talk ("find", "live", "feature") more than of what an entry is about: its weight is this
/// share of its rarity, so it neither makes nor breaks a match on its own.
const ALTERNATES_ONLY: f32 = 0.6;

/// The field weights a posting can carry: a posting packs its weight's rank in two bits
/// beside the entry's number, half the memory of an `(entry, weight)` pair.
const POSTING_WEIGHTS: [f32; 4] = [0.0, weight::SUMMARY, weight::KEYWORD, weight::QUESTION];

/// Packs an entry's number and a weight (rounded down to one of [`POSTING_WEIGHTS`]).
fn posting(entry: usize, w: f32) -> u32 {
    let rank = POSTING_WEIGHTS.iter().rposition(|&p| p <= w).unwrap_or(0);
    // A knowledge of 2^30 entries would need tens of gigabytes of text first.
    (entry as u32) << 2 | rank as u32
}

/// Terms of one field group, each with the weight of its best field.
pub type TermWeights = Box<[(TermId, f32)]>;

/// What the matcher needs to know about one entry, kept small: at 100,000 entries every
/// byte here is 100 KB. The terms of all its phrases sit in one array, each phrase known by
/// where it ends; a phrase's source follows from its position, as the entry lists them.
#[derive(Debug, Clone, Default)]
pub struct EntryTerms {
    /// The distinct terms of each phrase, one phrase after another: the question, the
    /// alternates, the keywords, then each aspect's title and keywords.
    pub(crate) terms: Box<[TermId]>,
    /// Where each phrase ends in `terms` (it starts where the one before ends).
    pub(crate) ends: Box<[u32]>,
    /// How many alternates the entry has, to tell them from its keywords.
    pub(crate) alternates: u32,
    /// How many of the phrases are the entry's own (question, alternates, keywords).
    pub(crate) own: u32,
    /// Subjects and aspects; boxed because most entries are not comparisons.
    pub(crate) comparison: Option<Box<ComparisonTerms>>,
    /// The negatives, as term lists.
    pub(crate) negatives: Box<[Box<[TermId]>]>,
}

/// The terms of a comparison's subjects and aspects.
#[derive(Debug, Clone, Default)]
pub(crate) struct ComparisonTerms {
    pub(crate) subjects: Box<[TermId]>,
    pub(crate) aspects: Box<[AspectTerms]>,
}

/// One aspect's terms.
#[derive(Debug, Clone, Default)]
pub struct AspectTerms {
    /// Its terms (title, keywords, summary), each at its best field's weight.
    pub terms: TermWeights,
    /// Its phrases (title, then keywords), as positions in the entry's phrase ends.
    pub(crate) phrases: std::ops::Range<u32>,
    /// Its keywords made only of words matching otherwise ignores ("when"), as folded
    /// words joined by spaces: a question saying all of one's words leans to this aspect,
    /// but is never brought to the entry by it.
    pub cues: Box<[Box<str>]>,
}

impl EntryTerms {
    /// The terms of the phrase ending at `ends[i]`.
    fn phrase(&self, i: usize) -> &[TermId] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.terms[start..self.ends[i] as usize]
    }

    /// The entry's own phrases (question, alternates, keywords), each with its source.
    pub fn phrases(&self) -> impl Iterator<Item = (Source, &[TermId])> + '_ {
        let alternates = self.alternates as usize;
        (0..self.own as usize).map(move |i| {
            let source = match i {
                0 => Source::Question,
                i if i <= alternates => Source::Alternate(i - 1),
                i => Source::Keyword(i - 1 - alternates),
            };
            (source, self.phrase(i))
        })
    }

    /// The phrases of aspect `a` (title, then keywords), each with its source.
    pub fn aspect_phrases(&self, a: usize) -> impl Iterator<Item = (Source, &[TermId])> + '_ {
        let range = self.aspects()[a].phrases.clone();
        let first = range.start as usize;
        range.map(move |i| {
            let i = i as usize;
            let source = match i - first {
                0 => Source::AspectTitle(a),
                k => Source::AspectKeyword(a, k - 1),
            };
            (source, self.phrase(i))
        })
    }

    /// Terms of the subjects' names (never evidence for an aspect); empty for a plain entry.
    pub fn subjects(&self) -> &[TermId] {
        self.comparison.as_ref().map_or(&[], |c| &c.subjects)
    }

    /// The aspects' terms, in the entry's aspect order; empty for a plain entry.
    pub fn aspects(&self) -> &[AspectTerms] {
        self.comparison.as_ref().map_or(&[], |c| &c.aspects)
    }

    /// The negatives, as term lists.
    pub fn negatives(&self) -> &[Box<[TermId]>] {
        &self.negatives
    }
}

/// An [`EntryTerms`] while it is being built.
#[derive(Default)]
struct EntryBuilder {
    terms: Vec<TermId>,
    ends: Vec<u32>,
}

impl EntryBuilder {
    /// Interns `text` as the entry's next phrase and returns its terms.
    fn phrase(&mut self, index: &mut Index, text: &str) -> &[TermId] {
        let start = self.terms.len();
        index.intern_into(text, &mut self.terms);
        self.ends.push(self.terms.len() as u32);
        &self.terms[start..]
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
    pub(crate) ids: HashMap<String, TermId>,
    pub(crate) words: Vec<String>,
    pub(crate) idf: Vec<f32>,
    /// Per term, the entries using it, packed by [`posting`].
    pub(crate) postings: Vec<Vec<u32>>,
    /// Stems and written forms of the vocabulary, each with its term: what typos are
    /// compared with.
    pub(crate) spellings: Vec<(String, TermId)>,
    pub(crate) spelled: HashSet<String>,
    /// (hash of a spelling or of a one-deletion variant, index into `spellings`), sorted and
    /// without repeats: one flat array instead of a map of small lists, compact and quick to
    /// build; a key's candidates are a contiguous run, in `spellings` order.
    pub(crate) deletions: Vec<(u64, u32)>,
    /// Per entry, in knowledge order.
    pub entries: Vec<EntryTerms>,
    pub(crate) unknown_weight: f32,
    /// The pack's other topics, as folded words and as stems.
    pub(crate) other_topics: HashSet<String>,
    /// Every comparison's subject terms: naming one keeps a question on topic.
    pub(crate) subjects: HashSet<TermId>,
    /// While building: per term, whether a question, keyword, subject or aspect uses it.
    pub(crate) strong: Vec<bool>,
    /// (hash of a question or alternate's words, entry), sorted; [`AMBIGUOUS`] for a
    /// phrasing two entries share. Typed word for word, a phrasing names its entry.
    pub(crate) exact: Vec<(u64, u32)>,
}

/// The entry of an exact phrasing that more than one entry uses.
pub(crate) const AMBIGUOUS: u32 = u32::MAX;

/// The key of a text for exact phrasing lookup: its words, folded, whatever the case and
/// punctuation.
fn exact_key(text: &str) -> u64 {
    hash_str(&words(text).collect::<Vec<_>>().join(" "))
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

/// The analyzer for questions about `knowledge` and for its phrasings: its synonyms, and its
/// one-word keywords and subjects kept even where they are usually filler. `qabot check`
/// reads phrasings through the same one, so what it calls searchable is what matching sees.
/// Cheap, so a snapshot rebuilds it rather than storing it.
pub fn analyzer(knowledge: &Knowledge) -> Analyzer {
    // Aspect keywords are left out: one made of words usually ignored ("when") is a cue
    // for its aspect (see the matcher), not a term that would pull in every question.
    let named = knowledge
        .entries
        .iter()
        .flat_map(|e| e.keywords.iter().chain(e.subjects.iter()));
    Analyzer::new(
        knowledge
            .synonyms
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .keeping(named)
}

impl Index {
    /// Indexes every entry of `knowledge`.
    pub fn build(knowledge: &Knowledge) -> Index {
        let mut index = Index {
            analyzer: analyzer(knowledge),
            ids: HashMap::new(),
            words: Vec::new(),
            idf: Vec::new(),
            postings: Vec::new(),
            spellings: Vec::new(),
            spelled: HashSet::new(),
            deletions: Vec::new(),
            entries: Vec::with_capacity(knowledge.entries.len()),
            unknown_weight: 0.0,
            other_topics: HashSet::new(),
            subjects: HashSet::new(),
            strong: Vec::new(),
            exact: Vec::new(),
        };
        for word in &knowledge.other_topics {
            index.other_topics.insert(index.analyzer.stem(word));
            index.other_topics.insert(word.clone());
        }
        for (n, entry) in knowledge.entries.iter().enumerate() {
            let mut b = EntryBuilder::default();
            // The entry's own terms at their best weight, for its postings.
            let mut own: Vec<(TermId, f32)> = Vec::new();
            let add = |list: &mut Vec<(TermId, f32)>, ids: &[TermId], w: f32| {
                for &id in ids {
                    match list.iter_mut().find(|(t, _)| *t == id) {
                        Some((_, old)) => *old = old.max(w),
                        None => list.push((id, w)),
                    }
                }
            };
            for text in std::iter::once(entry.question.as_str()).chain(&entry.alternates) {
                index.exact.push((exact_key(text), n as u32));
            }
            let ids = b.phrase(&mut index, &entry.question);
            add(&mut own, ids, weight::QUESTION);
            index.mark_strong(ids);
            for text in &entry.alternates {
                let ids = b.phrase(&mut index, text);
                add(&mut own, ids, weight::QUESTION);
            }
            for kw in &entry.keywords {
                let ids = b.phrase(&mut index, kw);
                add(&mut own, ids, weight::KEYWORD);
                index.mark_strong(ids);
            }
            let own_phrases = b.ends.len() as u32;
            let mut subjects = Vec::new();
            for subject in &entry.subjects {
                let ids = index.intern_all(subject);
                add(&mut own, &ids, weight::QUESTION);
                index.mark_strong(&ids);
                index.subjects.extend(ids.iter().copied());
                subjects.extend(ids);
            }
            let mut aspects = Vec::new();
            for aspect in &entry.aspects {
                let mut aspect_terms = Vec::new();
                let first = b.ends.len() as u32;
                let ids = b.phrase(&mut index, &aspect.title);
                add(&mut aspect_terms, ids, weight::KEYWORD);
                index.mark_strong(ids);
                let mut cues = Vec::new();
                for kw in &aspect.keywords {
                    let ids = b.phrase(&mut index, kw);
                    if ids.is_empty() {
                        let cue: Vec<String> = words(kw).collect();
                        if !cue.is_empty() {
                            cues.push(cue.join(" ").into_boxed_str());
                        }
                    }
                    add(&mut aspect_terms, ids, weight::KEYWORD);
                    index.mark_strong(ids);
                }
                if let Some(summary) = &aspect.summary {
                    let ids = index.intern_all(summary);
                    add(&mut aspect_terms, &ids, weight::SUMMARY);
                    index.mark_strong(&ids);
                }
                aspect_terms.retain(|(t, _)| !subjects.contains(t));
                aspects.push(AspectTerms {
                    terms: aspect_terms.into_boxed_slice(),
                    phrases: first..b.ends.len() as u32,
                    cues: cues.into_boxed_slice(),
                });
            }
            let negatives = entry
                .negatives
                .iter()
                .map(|n| index.intern_all(n).into_boxed_slice())
                .collect();
            // Postings: each term once per entry, at its best weight anywhere in the entry.
            let mut all = own;
            for aspect in &aspects {
                for &(t, w) in aspect.terms.iter() {
                    add(&mut all, &[t], w);
                }
            }
            for (t, w) in all {
                index.postings[t as usize].push(posting(n, w));
            }
            index.entries.push(EntryTerms {
                terms: b.terms.into_boxed_slice(),
                ends: b.ends.into_boxed_slice(),
                alternates: entry.alternates.len() as u32,
                own: own_phrases,
                comparison: (!entry.subjects.is_empty() || !aspects.is_empty()).then(|| {
                    Box::new(ComparisonTerms {
                        subjects: subjects.into_boxed_slice(),
                        aspects: aspects.into_boxed_slice(),
                    })
                }),
                negatives,
            });
        }
        for list in &mut index.postings {
            list.shrink_to_fit();
        }
        let n = knowledge.entries.len().max(1) as f32;
        index.idf = index
            .postings
            .iter()
            .zip(&index.strong)
            .map(|(p, &strong)| {
                let idf = (1.0 + n / p.len().max(1) as f32).ln();
                if strong {
                    idf
                } else {
                    ALTERNATES_ONLY * idf
                }
            })
            .collect();
        index.strong = Vec::new();
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
        index.exact.sort_unstable();
        // One pair per phrasing: an entry's repeats fold away, two entries' make it ambiguous.
        index.exact.dedup_by(|later, kept| {
            let same = later.0 == kept.0;
            if same && later.1 != kept.1 {
                kept.1 = AMBIGUOUS;
            }
            same
        });
        index.exact.shrink_to_fit();
        index
    }

    /// The entry whose question or an alternate `question` is, word for word (case and
    /// punctuation aside), when exactly one entry has that phrasing.
    pub fn exact(&self, question: &str) -> Option<usize> {
        let key = exact_key(question);
        let at = self.exact.binary_search_by_key(&key, |&(k, _)| k).ok()?;
        let entry = self.exact[at].1;
        (entry != AMBIGUOUS).then_some(entry as usize)
    }

    fn mark_strong(&mut self, ids: &[TermId]) {
        for &id in ids {
            self.strong[id as usize] = true;
        }
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
        self.strong.push(false);
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
    pub fn postings(&self, id: TermId) -> impl Iterator<Item = (u32, f32)> + '_ {
        self.postings[id as usize]
            .iter()
            .map(|&p| (p >> 2, POSTING_WEIGHTS[(p & 3) as usize]))
    }

    /// How many entries use a term.
    pub fn df(&self, id: TermId) -> usize {
        self.postings[id as usize].len()
    }

    /// True if `word` (folded or stemmed) is one of the pack's other topics ("react").
    pub fn is_other_topic(&self, word: &str) -> bool {
        self.other_topics.contains(word)
    }

    /// True if `id` is (part of) a comparison's subject: naming one keeps a question on
    /// topic whatever other topic it names ("django with a react frontend").
    pub fn is_subject(&self, id: TermId) -> bool {
        self.subjects.contains(&id)
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
    /// ("flsk"), 5 also have an extra one, 6 to 7 may be one edit away, 8 and more two.
    /// Shorter words must be exact, or "rust" would become "rest".
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
                    // Short words change meaning with one letter ("logic" is not "login"):
                    // only a lost letter or two swapped ones are typos there, and at 5
                    // letters an extra one too.
                    let lost_or_extra = match len {
                        4 => word.chars().count() == 5,
                        5 => word.chars().count() != 5,
                        _ => true,
                    };
                    if !lost_or_extra && !is_transposition(typed, word) {
                        continue;
                    }
                    let df = self.df(id) as f32;
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
            ("djang", Some("django")),
            ("flasc", None),
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
        let index = index();
        let words = |ids: &[TermId]| ids.iter().map(|&id| index.word(id)).collect::<Vec<_>>();
        let a: Vec<(Source, Vec<&str>)> = index.entries[0]
            .phrases()
            .map(|(s, ids)| (s, words(ids)))
            .collect();
        assert_eq!(
            a,
            [
                (Source::Question, vec!["django"]),
                (Source::Keyword(0), vec!["framework"]),
                (Source::Keyword(1), vec!["deploy"]),
            ]
        );
        let b = &index.entries[1];
        let (source, ids) = b.phrases().next().unwrap();
        assert_eq!(
            (source, words(ids)),
            (Source::Question, vec!["django", "flask"])
        );
        let aspect: Vec<(Source, Vec<&str>)> = b
            .aspect_phrases(0)
            .map(|(s, ids)| (s, words(ids)))
            .collect();
        assert_eq!(aspect, [(Source::AspectTitle(0), vec!["rest", "api"])]);
        assert_eq!(words(b.subjects()), ["django", "flask"]);
    }

    #[test]
    fn postings_keep_the_best_field_weight() {
        let index = index();
        let id = |w: &str| index.lookup(&index.analyzer.terms(w)[0]).term.unwrap();
        let postings = |w: &str| index.postings(id(w)).collect::<Vec<_>>();
        assert_eq!(
            postings("django"),
            [(0, weight::QUESTION), (1, weight::QUESTION)]
        );
        assert_eq!(postings("framework"), [(0, weight::KEYWORD)]);
        assert_eq!(postings("rest"), [(1, weight::KEYWORD)]);
        assert_eq!(index.df(id("django")), 2);
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
    fn words_only_in_alternates_weigh_less() {
        let text =
            "[[entry]]\nid = \"a\"\nquestion = \"Orm?\"\nalternates = [\"Can I find it?\"]\n\
                    answer = \"x\"\n[[entry]]\nid = \"b\"\nquestion = \"Admin?\"\n\
                    keywords = [\"panel\"]\nanswer = \"x\"\n";
        let k = Knowledge::from_sources(&[(PathBuf::from("k.toml"), text.into())]).unwrap();
        let index = Index::build(&k);
        let idf = |w: &str| index.idf(index.lookup(&index.analyzer.terms(w)[0]).term.unwrap());
        assert_eq!(idf("orm"), idf("panel"), "same rarity, both strong");
        assert_eq!(idf("find"), ALTERNATES_ONLY * idf("orm"));
    }

    #[test]
    fn rare_terms_weigh_more() {
        let index = index();
        let id = |w: &str| index.lookup(&index.analyzer.terms(w)[0]).term.unwrap();
        assert!(index.idf(id("flask")) > index.idf(id("django")));
        assert!(index.unknown_weight() > index.idf(id("django")));
    }
}
