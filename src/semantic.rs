//! Semantic evidence: how close in meaning a question is to each entry and aspect.
//!
//! Every phrasing a pack gives an entry (its question, alternates, keywords, the
//! comparison's title, each aspect's title, keywords, summary and texts, and its answer) is
//! embedded once at load time. A question is embedded when asked and compared with all of
//! them; each entry keeps its best cosine per kind of phrasing. The lexical side knows
//! *words*; this side knows that "my loop is 50x slower than python" is about optimisation
//! levels without sharing one of their words.

use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::calibrate::{self, Calibration};
use crate::embed::rows::{self, Block};
use crate::embed::{Cache, Model, ModelError, Opened, Progress, Rows};
use crate::knowledge::Knowledge;
use crate::text;

/// What a phrasing is, which says how much its closeness counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The entry's question, an alternate, its keywords or a comparison's title: a way to
    /// ask for the entry.
    Asked,
    /// The answer (or an aspect's texts): what the entry says, weaker evidence of what
    /// people ask.
    Answer,
}

/// Phrasings compared with a question (or chat line) per task: a pack with more is scanned
/// on every core, since comparing with every phrasing reads all their vectors.
const SCAN_ROWS: usize = 4096;

/// Whose phrasing a vector is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Owner {
    entry: u32,
    /// The aspect, for an aspect's phrasings.
    aspect: Option<u16>,
    kind: Kind,
}

/// One entry's closeness to a question.
#[derive(Debug, Clone, PartialEq)]
pub struct Closeness {
    /// The entry's index in the knowledge.
    pub entry: usize,
    /// Best cosine with a way to ask for the whole entry.
    pub asked: f32,
    /// Best cosine with its answer.
    pub answer: f32,
    /// Per aspect, the best cosine with a way to ask for it.
    pub aspects: Vec<f32>,
    /// Per aspect, the best cosine with its texts.
    pub aspect_texts: Vec<f32>,
}

impl Closeness {
    /// The best cosine over everything the entry has.
    pub fn best(&self) -> f32 {
        self.aspects
            .iter()
            .chain(&self.aspect_texts)
            .fold(self.asked.max(self.answer), |a, &b| a.max(b))
    }
}

/// The embedded phrasings of one knowledge, with the model that made them.
pub struct Semantic {
    model: Arc<Model>,
    /// One unit vector per phrasing, in 8 bits.
    vectors: Rows,
    owners: Vec<Owner>,
    /// Per entry, its aspect count (to size [`Closeness`]).
    aspect_counts: Vec<u16>,
    calibration: Calibration,
}

impl std::fmt::Debug for Semantic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Semantic")
            .field("model", &self.model)
            .field("phrasings", &self.owners.len())
            .field("calibration", &self.calibration)
            .finish()
    }
}

/// An entry whose ways of being asked mostly sit closer to another entry's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confusion {
    /// The entry, by index.
    pub entry: usize,
    /// The entry its phrasings are closer to.
    pub with: usize,
    /// How many of its phrasings are closer to `with` than to its own others.
    pub closer: usize,
    /// How many phrasings it has.
    pub of: usize,
}

/// What loading the vectors did, for the log and `qabot check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loaded {
    /// How many phrasings the pack has.
    pub phrasings: usize,
    /// How many had to be embedded (the rest came from the cache).
    pub embedded: usize,
    /// What the cache file was found to be.
    pub cache: Opened,
    /// Why the cache could not be written, if it could not.
    pub save_error: Option<String>,
}

/// The texts embedded for `knowledge`, with their owners, in a stable order.
fn phrasings(knowledge: &Knowledge) -> (Vec<String>, Vec<Owner>) {
    let mut texts = Vec::new();
    let mut owners = Vec::new();
    for (n, e) in knowledge.entries.iter().enumerate() {
        let mut push = |text: String, aspect: Option<u16>, kind: Kind| {
            if !text.trim().is_empty() {
                texts.push(text);
                owners.push(Owner {
                    entry: n as u32,
                    aspect,
                    kind,
                });
            }
        };
        push(e.question.clone(), None, Kind::Asked);
        for alt in e.alternates.iter() {
            push(alt.to_string(), None, Kind::Asked);
        }
        if !e.keywords.is_empty() {
            push(e.keywords.join(", "), None, Kind::Asked);
        }
        let title = e.subjects.join(" vs ");
        if e.is_comparison() {
            push(title.clone(), None, Kind::Asked);
        }
        push(answer_text(&e.answer), None, Kind::Answer);
        for (a, aspect) in e.aspects.iter().enumerate() {
            let a = Some(a as u16);
            push(format!("{title}: {}", aspect.title), a, Kind::Asked);
            if !aspect.keywords.is_empty() {
                push(
                    format!("{title}: {}", aspect.keywords.join(", ")),
                    a,
                    Kind::Asked,
                );
            }
            if let Some(summary) = &aspect.summary {
                push(summary.clone(), a, Kind::Asked);
            }
            for text in aspect.texts.iter() {
                push(answer_text(text), a, Kind::Answer);
            }
        }
    }
    (texts, owners)
}

/// How much of an answer (or an aspect's text) the model reads: about 50 tokens.
const ANSWER_CHARS: usize = 240;

/// An answer as the model should read it: its opening, without Discord markdown's marks.
/// The opening says what the answer is about; the rest costs the model most of a start-up
/// (its time grows faster than the text) and measured no better matching.
fn answer_text(answer: &str) -> String {
    let plain: String = answer
        .chars()
        .filter(|c| !matches!(c, '*' | '_' | '`' | '#' | '>' | '|' | '~'))
        .collect();
    match plain.char_indices().nth(ANSWER_CHARS) {
        Some((cut, _)) => {
            let head = &plain[..cut];
            head.rfind(char::is_whitespace)
                .map_or(head, |end| &head[..end])
                .to_string()
        }
        None => plain,
    }
}

/// Every text embedded: the phrasings, then the calibration's chat lines (through the cache
/// too: measuring noise must not cost a restart a hundred embeddings).
fn with_chat(phrasings: &[String]) -> Vec<&str> {
    phrasings
        .iter()
        .map(String::as_str)
        .chain(calibrate::chat_lines().map(|l| -> &str { l }))
        .collect()
}

/// Everything a calibration is measured from: the model, every text embedded (phrasings,
/// then chat lines) and whose each phrasing is.
fn calibration_key(model: &Model, texts: &[&str], owners: &[Owner]) -> u64 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&model.fingerprint().to_le_bytes());
    h.update(&(texts.len() as u64).to_le_bytes());
    for text in texts {
        h.update(&(text.len() as u64).to_le_bytes());
        h.update(text.as_bytes());
    }
    for o in owners {
        h.update(&o.entry.to_le_bytes());
        h.update(&o.aspect.map_or(u32::MAX, u32::from).to_le_bytes());
        h.update(&[o.kind as u8]);
    }
    h.digest()
}

/// The pack's calibration from its phrasings' vectors (`flat`, row after row of `dim`) and
/// the chat lines': each way of asking for an entry against the entry's other phrasings
/// (itself left out), and each chat line against everything.
fn measure(owners: &[Owner], flat: &[f32], chat: &[f32], dim: usize) -> Calibration {
    let dim = dim.max(1);
    let rows: Vec<(&Owner, &[f32])> = owners.iter().zip(flat.chunks_exact(dim)).collect();
    let mut own = Vec::new();
    for group in rows.chunk_by(|a, b| a.0.entry == b.0.entry) {
        let asked: Vec<&[f32]> = group
            .iter()
            .filter(|(o, _)| o.aspect.is_none() && o.kind == Kind::Asked)
            .map(|&(_, v)| v)
            .collect();
        for (i, v) in asked.iter().enumerate() {
            let best = asked
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, w)| crate::embed::cosine(v, w))
                .fold(f32::NEG_INFINITY, f32::max);
            if best.is_finite() {
                own.push(best);
            }
        }
    }
    // Block by block, every chat line against it: a block stays in the cache while the chat
    // lines pass over it, so a big pack's vectors are read from memory once (line by line,
    // they were read a hundred times over).
    let lines = chat.len() / dim;
    let noise = flat
        .par_chunks(dim * SCAN_ROWS)
        .fold(
            || vec![-1.0f32; lines],
            |mut best, block| {
                for (b, c) in best.iter_mut().zip(chat.chunks_exact(dim)) {
                    *b = block
                        .chunks_exact(dim)
                        .map(|v| crate::embed::cosine(c, v))
                        .fold(*b, f32::max);
                }
                best
            },
        )
        .reduce(
            || vec![-1.0f32; lines],
            |a, b| a.iter().zip(&b).map(|(x, y)| x.max(*y)).collect(),
        );
    Calibration::measure(&own, &noise)
}

/// Every text's vector (row after row, in `texts`' order) from the cache at `cache` where it
/// has them, embedded with `model` where it does not, and the cache saved if that changed it.
/// What was embedded before a stop is saved too, for the next attempt. The first
/// `phrasings` texts are the pack's, the rest chat lines.
fn through_cache(
    model: &Model,
    texts: &[&str],
    phrasings: usize,
    cache: Option<&Path>,
    progress: Progress,
) -> Result<(Vec<f32>, Loaded), ModelError> {
    let (mut store, opened) = match cache {
        Some(path) => Cache::open(path, model),
        None => (Cache::default(), Opened::Missing),
    };
    let embedded = match store.embed(model, texts, progress) {
        Ok(embedded) => embedded,
        Err(e) => {
            if let (Some(path), ModelError::Stopped) = (cache, &e) {
                let _ = store.save(path, model);
            }
            return Err(e);
        }
    };
    let save_error = match cache {
        Some(path) if embedded > 0 || !matches!(opened, Opened::Read(n) if n == store.len()) => {
            store.save(path, model).err().map(|e| e.to_string())
        }
        _ => None,
    };
    let loaded = Loaded {
        phrasings,
        embedded,
        cache: opened,
        save_error,
    };
    Ok((store.into_rows(), loaded))
}

impl Semantic {
    /// Embeds every phrasing of `knowledge` with `model`, through the cache at `cache`
    /// (`None`: no cache). `progress` hears about texts being embedded, and may stop it:
    /// what was embedded by then is saved, so the next attempt starts from there.
    pub fn build(
        knowledge: &Knowledge,
        model: Arc<Model>,
        cache: Option<&Path>,
        progress: Progress,
    ) -> Result<(Semantic, Loaded), ModelError> {
        let (texts, owners) = phrasings(knowledge);
        let refs = with_chat(&texts);
        let key = calibration_key(&model, &refs, &owners);
        let aspect_counts = knowledge
            .entries
            .iter()
            .map(|e| e.aspects.len() as u16)
            .collect();
        let memo = cache.map(calibrate::memo::path);
        let stored = cache.map(rows::path);
        let kept = memo.as_deref().and_then(|m| calibrate::memo::load(m, key));
        // An unchanged pack: its rows as stored beside its calibration, the cache unread.
        let kept_rows = kept
            .and(stored.as_deref())
            .and_then(|r| Rows::load(r, key))
            .filter(|rows| rows.len() == owners.len());
        let (vectors, calibration, loaded) = match (kept_rows, kept) {
            (Some(vectors), Some(calibration)) => {
                let loaded = Loaded {
                    phrasings: owners.len(),
                    embedded: 0,
                    cache: Opened::Unneeded,
                    save_error: None,
                };
                (vectors, calibration, loaded)
            }
            _ => {
                let (mut flat, mut loaded) =
                    through_cache(&model, &refs, owners.len(), cache, progress)?;
                let chat = flat.split_off(owners.len() * model.dim());
                // Measured on the vectors as the model made them, before they are rounded.
                let calibration = kept.unwrap_or_else(|| {
                    let measured = measure(&owners, &flat, &chat, model.dim());
                    if let Some(m) = &memo {
                        // Only a later start's speed depends on it.
                        let _ = calibrate::memo::save(m, key, &measured);
                    }
                    measured
                });
                let vectors = Rows::quantize(&flat, model.dim());
                drop(flat);
                if let Some(path) = &stored {
                    if let Err(e) = vectors.save(path, key) {
                        loaded.save_error.get_or_insert(e.to_string());
                    }
                }
                (vectors, calibration, loaded)
            }
        };
        let semantic = Semantic {
            model,
            vectors,
            owners,
            aspect_counts,
            calibration,
        };
        Ok((semantic, loaded))
    }

    /// Entries most of whose ways of being asked sit closer to one other entry's than to
    /// their own: questions meant for one will often get the other, or a "did you mean".
    /// Compares every pair of whole-entry phrasings, so it is for `qabot check`, not for
    /// every load.
    pub fn confusable(&self) -> Vec<Confusion> {
        let asked: Vec<(usize, Vec<f32>)> = self
            .owners
            .iter()
            .enumerate()
            .filter(|(_, o)| o.aspect.is_none() && o.kind == Kind::Asked)
            .map(|(i, o)| (o.entry as usize, self.vectors.row(i)))
            .collect();
        let mut out = Vec::new();
        let mut start = 0;
        for group in asked.chunk_by(|a, b| a.0 == b.0) {
            let (entry, end) = (group[0].0, start + group.len());
            // Per other entry, how many of this entry's phrasings are closer to it.
            let mut tally: Vec<(usize, usize)> = Vec::new();
            for i in start..end {
                let v = &asked[i].1;
                let mut own = f32::NEG_INFINITY;
                let mut other = (f32::NEG_INFINITY, entry);
                for (j, (e, w)) in asked.iter().enumerate() {
                    let (e, cos) = (*e, crate::embed::cosine(v, w));
                    if e != entry && cos > other.0 {
                        other = (cos, e);
                    } else if e == entry && j != i {
                        own = own.max(cos);
                    }
                }
                if own.is_finite() && other.0 > own {
                    match tally.iter_mut().find(|(e, _)| *e == other.1) {
                        Some((_, n)) => *n += 1,
                        None => tally.push((other.1, 1)),
                    }
                }
            }
            let of = end - start;
            if let Some(&(with, closer)) = tally
                .iter()
                .max_by_key(|&&(e, n)| (n, std::cmp::Reverse(e)))
            {
                if 2 * closer > of {
                    out.push(Confusion {
                        entry,
                        with,
                        closer,
                        of,
                    });
                }
            }
            start = end;
        }
        out
    }

    /// What a cosine means in this pack.
    pub fn calibration(&self) -> &Calibration {
        &self.calibration
    }

    /// The model the vectors were made with.
    pub fn model(&self) -> &Arc<Model> {
        &self.model
    }

    /// The question's vector: its prose and code, without Discord's markup.
    pub fn embed_question(&self, question: &str) -> Result<Vec<f32>, ModelError> {
        self.model.embed_one(&text::strip_markup(question))
    }

    /// Every entry's closeness to the question whose vector is `q`, in knowledge order.
    pub fn closeness(&self, q: &[f32]) -> Vec<Closeness> {
        let mut out: Vec<Closeness> = self
            .aspect_counts
            .iter()
            .enumerate()
            .map(|(entry, &n)| Closeness {
                entry,
                asked: 0.0,
                answer: 0.0,
                aspects: vec![0.0; n as usize],
                aspect_texts: vec![0.0; n as usize],
            })
            .collect();
        // Every cosine first (on every core for a big pack: the scan reads all the vectors),
        // then each entry's best per kind.
        let mut cosines = vec![0f32; self.owners.len()];
        let scan = |(block, out): (Block, &mut [f32])| {
            for (cos, slot) in block.cosines(q).zip(out) {
                *slot = cos;
            }
        };
        if self.owners.len() > SCAN_ROWS {
            self.vectors
                .par_blocks(SCAN_ROWS)
                .zip(cosines.par_chunks_mut(SCAN_ROWS))
                .for_each(scan);
        } else {
            self.vectors
                .blocks(SCAN_ROWS)
                .zip(cosines.chunks_mut(SCAN_ROWS))
                .for_each(scan);
        }
        for (owner, &cos) in self.owners.iter().zip(&cosines) {
            let c = &mut out[owner.entry as usize];
            let slot = match (owner.aspect, owner.kind) {
                (None, Kind::Asked) => &mut c.asked,
                (None, Kind::Answer) => &mut c.answer,
                (Some(a), Kind::Asked) => &mut c.aspects[a as usize],
                (Some(a), Kind::Answer) => &mut c.aspect_texts[a as usize],
            };
            *slot = slot.max(cos);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::ControlFlow;
    use std::path::PathBuf;

    fn pack(n: usize) -> Knowledge {
        let text: String = (0..n)
            .map(|i| format!("[[entry]]\nid = \"e{i}\"\nquestion = \"How do I fix gadget {i}?\"\nanswer = \"Turn it off and on {i} times.\"\n"))
            .collect();
        Knowledge::from_sources(&[(PathBuf::from("k/a.toml"), text)]).expect("valid")
    }

    /// The shipped model, loaded once for the whole test binary.
    fn shipped_model() -> Arc<Model> {
        crate::embed::shared(&Path::new(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2"))
            .expect("shipped model")
    }

    fn key_of(knowledge: &Knowledge, model: &Model) -> u64 {
        let (texts, owners) = phrasings(knowledge);
        calibration_key(model, &with_chat(&texts), &owners)
    }

    #[test]
    fn a_stopped_build_keeps_what_it_embedded_and_a_corrupt_cache_is_rebuilt() {
        let model = shipped_model();
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = dir.path().join("k.bin");
        let knowledge = pack(40);
        let mut stop = |_, _| ControlFlow::Break(());
        let stopped = Semantic::build(&knowledge, Arc::clone(&model), Some(&cache), &mut stop);
        assert!(matches!(stopped, Err(ModelError::Stopped)), "{stopped:?}");
        let (_, opened) = Cache::open(&cache, &model);
        let Opened::Read(kept) = opened else {
            panic!("the partial cache was saved: {opened:?}")
        };
        assert!(kept > 0);

        let mut go = |_, _| ControlFlow::Continue(());
        let (_, loaded) =
            Semantic::build(&knowledge, Arc::clone(&model), Some(&cache), &mut go).expect("builds");
        let total = loaded.phrasings + calibrate::chat_lines().count();
        assert_eq!(
            loaded.embedded,
            total - kept,
            "only what the stopped build missed"
        );
        assert_eq!(loaded.cache, Opened::Read(kept));

        // Unchanged, the pack's 8-bit rows and calibration are read as stored, the cache not
        // opened; the same vectors either way.
        let (measured, again) =
            Semantic::build(&knowledge, Arc::clone(&model), Some(&cache), &mut go).expect("builds");
        assert_eq!((again.embedded, again.cache), (0, Opened::Unneeded));
        let stored = rows::path(&cache);
        std::fs::remove_file(&stored).expect("rows stored");
        let (rebuilt, again) =
            Semantic::build(&knowledge, Arc::clone(&model), Some(&cache), &mut go).expect("builds");
        assert_eq!((again.embedded, again.cache), (0, Opened::Read(total)));
        let q = measured
            .embed_question("how do i fix gadget 3")
            .expect("embeds");
        assert_eq!(measured.closeness(&q), rebuilt.closeness(&q));

        // The calibration is stored beside the cache and used while its key matches; one
        // measured on other texts (here: fewer entries) is never used.
        let memo = calibrate::memo::path(&cache);
        assert_eq!(
            calibrate::memo::load(&memo, key_of(&knowledge, &model)).as_ref(),
            Some(measured.calibration())
        );
        let planted = Calibration {
            own: 0.9,
            noise: 0.1,
            samples: 1,
        };
        calibrate::memo::save(&memo, key_of(&knowledge, &model), &planted).expect("plant");
        let (used, _) =
            Semantic::build(&knowledge, Arc::clone(&model), Some(&cache), &mut go).expect("builds");
        assert_eq!(used.calibration(), &planted);
        let (fewer, _) =
            Semantic::build(&pack(20), Arc::clone(&model), Some(&cache), &mut go).expect("builds");
        assert_ne!(fewer.calibration(), &planted);

        let mut bytes = std::fs::read(&cache).expect("cache file");
        let last = bytes.len() - 20;
        bytes[last] ^= 0x01;
        std::fs::write(&cache, bytes).expect("corrupt it");
        std::fs::remove_file(&stored).expect("rows stored");
        let (_, rebuilt) =
            Semantic::build(&knowledge, model, Some(&cache), &mut go).expect("builds");
        assert_eq!(
            rebuilt.embedded, total,
            "nothing trusted from a corrupt file"
        );
        assert!(
            matches!(&rebuilt.cache, Opened::Rebuilt(why) if why.contains("checksum")),
            "{:?}",
            rebuilt.cache
        );
    }

    #[test]
    fn entries_asked_like_another_are_confusable_and_distinct_ones_are_not() {
        let model = shipped_model();
        let text = r#"
[[entry]]
id = "bread"
question = "How do I bake bread?"
alternates = ["how do i reset my password", "password reset help"]
answer = "Flour, water, salt, yeast."

[[entry]]
id = "password"
question = "How do I reset my password?"
alternates = ["i forgot my password", "my password does not work"]
answer = "Use the link on the login page."

[[entry]]
id = "weather"
question = "Will it rain tomorrow?"
alternates = ["weather forecast for tomorrow", "do i need an umbrella"]
answer = "Look at the sky."
"#;
        let knowledge = Knowledge::from_sources(&[(PathBuf::from("k/a.toml"), text.to_string())])
            .expect("valid");
        let mut go = |_, _| ControlFlow::Continue(());
        let (semantic, _) = Semantic::build(&knowledge, model, None, &mut go).expect("builds");
        let found: Vec<(usize, usize)> = semantic
            .confusable()
            .iter()
            .map(|c| (c.entry, c.with))
            .collect();
        assert!(
            found.contains(&(0, 1)) || found.contains(&(1, 0)),
            "{found:?}"
        );
        assert!(found.iter().all(|&(e, w)| e != 2 && w != 2), "{found:?}");
    }
}
