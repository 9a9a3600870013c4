//! What a snapshot holds, field by field: the knowledge (entries with their origins,
//! synonyms, other topics) and the built index, and how each is checked when read back.
//!
//! Decoding re-checks what the engine relies on without looking (term numbers within the
//! vocabulary, entry numbers within the knowledge, phrase ends in order), so even a file
//! forged with a valid checksum cannot make matching index out of bounds. Bump
//! [`super::FORMAT`] whenever anything here changes.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use super::codec::{DecodeError, Reader, Writer};
use crate::index::{AspectTerms, ComparisonTerms, EntryTerms, Index, TermId, AMBIGUOUS};
use crate::knowledge::{Aspect, Entry, Knowledge, Origin, Texts};

type Io = std::io::Result<()>;

fn corrupt(what: &'static str) -> DecodeError {
    DecodeError::Corrupt(what)
}

fn texts<W: Write>(w: &mut Writer<W>, t: &Texts) -> Io {
    let (text, ends) = t.parts();
    w.str(text)?;
    w.u32s(ends)
}

fn read_texts<R: Read>(r: &mut Reader<R>) -> Result<Texts, DecodeError> {
    let text = r.string()?;
    let ends = r.u32s()?;
    Texts::from_parts(text, ends).ok_or(corrupt("a text list out of bounds"))
}

/// Writes `knowledge`, its entries' files as paths relative to `dir`.
pub fn write_knowledge<W: Write>(w: &mut Writer<W>, k: &Knowledge, dir: &Path) -> Io {
    let mut files: Vec<&Arc<Path>> = Vec::new();
    for e in &k.entries {
        if files.last().is_none_or(|f| !Arc::ptr_eq(f, &e.origin.path)) {
            files.push(&e.origin.path);
        }
    }
    w.len(files.len())?;
    for f in &files {
        let relative = f
            .strip_prefix(dir)
            .ok()
            .and_then(Path::to_str)
            .ok_or_else(|| std::io::Error::other("a file name that is not UTF-8"))?;
        w.str(relative)?;
    }
    w.len(k.synonyms.len())?;
    for (from, to) in &k.synonyms {
        w.str(from)?;
        w.str(to)?;
    }
    w.len(k.other_topics.len())?;
    for t in &k.other_topics {
        w.str(t)?;
    }
    w.len(k.entries.len())?;
    let mut file = 0;
    for e in &k.entries {
        if !Arc::ptr_eq(files[file], &e.origin.path) {
            file += 1;
        }
        w.len(file)?;
        w.u64(e.origin.line as u64)?;
        w.str(&e.id)?;
        w.str(&e.question)?;
        texts(w, &e.alternates)?;
        texts(w, &e.keywords)?;
        texts(w, &e.negatives)?;
        w.str(&e.answer)?;
        texts(w, &e.subjects)?;
        w.len(e.aspects.len())?;
        for a in &e.aspects {
            w.str(&a.id)?;
            w.str(&a.title)?;
            w.opt_str(a.summary.as_deref())?;
            texts(w, &a.keywords)?;
            texts(w, &a.texts)?;
        }
        w.opt_str(e.verdict.as_deref())?;
    }
    Ok(())
}

/// Reads knowledge written by [`write_knowledge`], its files under `dir` again: origins are
/// then exactly what loading `dir` gives.
pub fn read_knowledge<R: Read>(r: &mut Reader<R>, dir: &Path) -> Result<Knowledge, DecodeError> {
    let n = r.len(4)?;
    let mut files: Vec<Arc<Path>> = Vec::with_capacity(n);
    for _ in 0..n {
        files.push(Arc::from(dir.join(r.string()?)));
    }
    let mut k = Knowledge::default();
    for _ in 0..r.len(8)? {
        let from = r.string()?;
        k.synonyms.insert(from, r.string()?);
    }
    let n = r.len(4)?;
    for _ in 0..n {
        k.other_topics.push(r.string()?);
    }
    let n = r.len(64)?;
    k.entries.reserve_exact(n);
    for _ in 0..n {
        let file = r.u32()? as usize;
        let path = files.get(file).ok_or(corrupt("an entry from no file"))?;
        let line = usize::try_from(r.u64()?).map_err(|_| corrupt("a line out of range"))?;
        let id = r.string()?;
        let question = r.string()?;
        let alternates = read_texts(r)?;
        let keywords = read_texts(r)?;
        let negatives = read_texts(r)?;
        let answer = r.string()?;
        let subjects = read_texts(r)?;
        let count = r.len(24)?;
        let mut aspects = Vec::with_capacity(count);
        for _ in 0..count {
            let id = r.string()?;
            let title = r.string()?;
            let summary = r.opt_string()?;
            let keywords = read_texts(r)?;
            let texts = read_texts(r)?;
            if texts.len() != subjects.len() {
                return Err(corrupt("an aspect without a text per subject"));
            }
            aspects.push(Aspect {
                id,
                title,
                summary,
                keywords,
                texts,
            });
        }
        let verdict = r.opt_string()?.map(String::into_boxed_str);
        k.entries.push(Entry {
            id,
            question,
            alternates,
            keywords,
            negatives,
            answer,
            subjects,
            aspects: aspects.into_boxed_slice(),
            verdict,
            origin: Origin {
                path: Arc::clone(path),
                line,
            },
        });
    }
    Ok(k)
}

fn pairs<W: Write>(w: &mut Writer<W>, pairs: &[(u64, u32)]) -> Io {
    w.len(pairs.len())?;
    pairs.iter().try_for_each(|&(k, v)| {
        w.u64(k)?;
        w.u32(v)
    })
}

/// Reads strictly sorted `(key, value)` pairs whose values are below `limit` (or `also`).
fn read_pairs<R: Read>(
    r: &mut Reader<R>,
    limit: u32,
    also: Option<u32>,
) -> Result<Vec<(u64, u32)>, DecodeError> {
    let n = r.len(12)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let pair = (r.u64()?, r.u32()?);
        if pair.1 >= limit && Some(pair.1) != also {
            return Err(corrupt("a lookup pointing nowhere"));
        }
        if out.last().is_some_and(|last| *last >= pair) {
            return Err(corrupt("a lookup out of order"));
        }
        out.push(pair);
    }
    Ok(out)
}

/// Writes the index's built parts (the analyzer and the word lookup are rebuilt on reading).
pub fn write_index<W: Write>(w: &mut Writer<W>, index: &Index) -> Io {
    w.len(index.words.len())?;
    for (word, (idf, postings)) in index
        .words
        .iter()
        .zip(index.idf.iter().zip(&index.postings))
    {
        w.str(word)?;
        w.f32(*idf)?;
        w.u32s(postings)?;
    }
    w.len(index.spellings.len())?;
    for (spelling, term) in &index.spellings {
        w.str(spelling)?;
        w.u32(*term)?;
    }
    pairs(w, &index.deletions)?;
    pairs(w, &index.exact)?;
    w.f32(index.unknown_weight)?;
    let mut topics: Vec<&String> = index.other_topics.iter().collect();
    topics.sort();
    w.len(topics.len())?;
    for t in topics {
        w.str(t)?;
    }
    let mut subjects: Vec<TermId> = index.subjects.iter().copied().collect();
    subjects.sort_unstable();
    w.u32s(&subjects)?;
    w.len(index.entries.len())?;
    for e in &index.entries {
        w.u32s(&e.terms)?;
        w.u32s(&e.ends)?;
        w.u32(e.alternates)?;
        w.u32(e.own)?;
        w.len(e.negatives.len())?;
        for n in e.negatives.iter() {
            w.u32s(n)?;
        }
        match &e.comparison {
            None => w.u32(0)?,
            Some(c) => {
                w.u32(1)?;
                w.u32s(&c.subjects)?;
                w.len(c.aspects.len())?;
                for a in c.aspects.iter() {
                    w.len(a.terms.len())?;
                    for &(t, weight) in a.terms.iter() {
                        w.u32(t)?;
                        w.f32(weight)?;
                    }
                    w.u32(a.phrases.start)?;
                    w.u32(a.phrases.end)?;
                    w.len(a.cues.len())?;
                    for cue in a.cues.iter() {
                        w.str(cue)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Term numbers, each checked to be in the vocabulary.
fn read_terms<R: Read>(r: &mut Reader<R>, vocabulary: usize) -> Result<Vec<TermId>, DecodeError> {
    let terms = r.u32s()?;
    if terms.iter().any(|&t| t as usize >= vocabulary) {
        return Err(corrupt("a term outside the vocabulary"));
    }
    Ok(terms)
}

/// Reads an index written by [`write_index`] for `knowledge`, checking it fits.
pub fn read_index<R: Read>(r: &mut Reader<R>, knowledge: &Knowledge) -> Result<Index, DecodeError> {
    let entries = knowledge.entries.len();
    let vocabulary = r.len(12)?;
    let mut ids = HashMap::with_capacity(vocabulary);
    let mut words = Vec::with_capacity(vocabulary);
    let mut idf = Vec::with_capacity(vocabulary);
    let mut postings = Vec::with_capacity(vocabulary);
    for n in 0..vocabulary {
        let word = r.string()?;
        idf.push(r.f32()?);
        let list = r.u32s()?;
        if list.iter().any(|&p| (p >> 2) as usize >= entries) {
            return Err(corrupt("a posting of no entry"));
        }
        postings.push(list);
        if ids.insert(word.clone(), n as TermId).is_some() {
            return Err(corrupt("a word twice in the vocabulary"));
        }
        words.push(word);
    }
    let n = r.len(8)?;
    let mut spellings = Vec::with_capacity(n);
    for _ in 0..n {
        let spelling = r.string()?;
        let term = r.u32()?;
        if term as usize >= vocabulary {
            return Err(corrupt("a spelling of no term"));
        }
        spellings.push((spelling, term));
    }
    let deletions = read_pairs(r, spellings.len() as u32, None)?;
    let exact = read_pairs(r, entries as u32, Some(AMBIGUOUS))?;
    let unknown_weight = r.f32()?;
    let n = r.len(4)?;
    let mut other_topics = HashSet::with_capacity(n);
    for _ in 0..n {
        other_topics.insert(r.string()?);
    }
    let subjects = read_terms(r, vocabulary)?.into_iter().collect();
    if r.len(20)? != entries {
        return Err(corrupt("an index of other knowledge"));
    }
    let mut entry_terms = Vec::with_capacity(entries);
    for entry in &knowledge.entries {
        let terms = read_terms(r, vocabulary)?;
        let ends = r.u32s()?;
        if ends.windows(2).any(|w| w[0] > w[1])
            || ends.last().is_some_and(|&e| e as usize > terms.len())
        {
            return Err(corrupt("phrases out of order"));
        }
        let alternates = r.u32()?;
        let own = r.u32()?;
        if own as usize > ends.len() || alternates >= own.max(1) {
            return Err(corrupt("more phrases than the entry has"));
        }
        let n = r.len(4)?;
        let mut negatives = Vec::with_capacity(n);
        for _ in 0..n {
            negatives.push(read_terms(r, vocabulary)?.into_boxed_slice());
        }
        let comparison = match r.u32()? {
            0 => None,
            1 => {
                let subjects = read_terms(r, vocabulary)?.into_boxed_slice();
                let n = r.len(16)?;
                if n != entry.aspects.len() {
                    return Err(corrupt("aspects of another entry"));
                }
                let mut aspects = Vec::with_capacity(n);
                for _ in 0..n {
                    let count = r.len(8)?;
                    let mut terms = Vec::with_capacity(count);
                    for _ in 0..count {
                        let t = r.u32()?;
                        if t as usize >= vocabulary {
                            return Err(corrupt("a term outside the vocabulary"));
                        }
                        terms.push((t, r.f32()?));
                    }
                    let phrases = r.u32()?..r.u32()?;
                    if phrases.start > phrases.end || phrases.end as usize > ends.len() {
                        return Err(corrupt("aspect phrases out of bounds"));
                    }
                    let n = r.len(4)?;
                    let mut cues = Vec::with_capacity(n);
                    for _ in 0..n {
                        cues.push(r.string()?.into_boxed_str());
                    }
                    aspects.push(AspectTerms {
                        terms: terms.into_boxed_slice(),
                        phrases,
                        cues: cues.into_boxed_slice(),
                    });
                }
                Some(Box::new(ComparisonTerms {
                    subjects,
                    aspects: aspects.into_boxed_slice(),
                }))
            }
            _ => return Err(corrupt("an entry neither plain nor a comparison")),
        };
        if comparison.is_none() && !entry.aspects.is_empty() {
            return Err(corrupt("aspects of another entry"));
        }
        entry_terms.push(EntryTerms {
            terms: terms.into_boxed_slice(),
            ends: ends.into_boxed_slice(),
            alternates,
            own,
            comparison,
            negatives: negatives.into_boxed_slice(),
        });
    }
    Ok(Index {
        analyzer: crate::index::analyzer(knowledge),
        ids,
        words,
        idf,
        postings,
        spellings,
        spelled: HashSet::new(),
        deletions,
        entries: entry_terms,
        unknown_weight,
        other_topics,
        subjects,
        strong: Vec::new(),
        exact,
    })
}
