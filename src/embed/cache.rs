//! The embedding cache: vectors of the texts a pack was last embedded with, on disk, so a
//! restart or reload embeds only what changed.
//!
//! One file, keyed by the model's fingerprint and each text's hash. It is a convenience,
//! never a source of truth: a missing, truncated, corrupt or foreign file (another model,
//! another format) is detected by its header and checksum and simply rebuilt. Writes go to
//! a temporary file renamed over the old one, so a crash mid-write leaves the old cache or
//! the new one, never half of one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::model::{Model, ModelError};
use super::Progress;

/// The file's first bytes: format name and version.
const MAGIC: &[u8; 8] = b"qabotv01";

/// Header: magic, model fingerprint, dimension, record count.
const HEADER: usize = 8 + 8 + 4 + 4;

/// Refuse to read a cache larger than this: it would not fit the memory it promises to save.
const MAX_CACHE_BYTES: u64 = 4 * 1024 * 1024 * 1024;

/// Texts embedded between two progress reports.
const PROGRESS_STEP: usize = 64;

/// Vectors by text, for one model: one flat block of floats with an index by text, so a
/// pack of 100,000 entries is a few large allocations rather than a million small ones.
#[derive(Debug, Default)]
pub struct Cache {
    dim: usize,
    /// The row of each text's vector in `data`, by text key.
    rows: HashMap<u64, usize>,
    /// Row after row of `dim` floats.
    data: Vec<f32>,
}

/// What happened when the cache file was read, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// Read whole, with this many vectors.
    Read(usize),
    /// No file yet.
    Missing,
    /// A file that could not be trusted, and why; it will be rebuilt.
    Rebuilt(String),
    /// Not opened: the pack is unchanged, and its 8-bit rows and calibration were stored
    /// beside the cache ([`super::rows::path`]).
    Unneeded,
}

/// A text's key: FNV-1a of its bytes, then its length, mixed.
fn key(text: &str) -> u64 {
    super::fnv(text.as_bytes()) ^ (text.len() as u64).rotate_left(32)
}

/// Checksum of the records: catches truncation and bit rot.
fn checksum(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0x8422_2325_cbf2_9ce4;
    for chunk in bytes.chunks(8) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        h = (h ^ u64::from_le_bytes(word)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Cache {
    /// Reads the cache at `path` for `model`: whatever cannot be trusted is left out.
    pub fn open(path: &Path, model: &Model) -> (Cache, Opened) {
        let bytes = match crate::problem::read_regular_file(path, MAX_CACHE_BYTES) {
            Ok(bytes) => bytes,
            Err(_) if !path.exists() => return (Cache::default(), Opened::Missing),
            Err(reason) => return (Cache::default(), Opened::Rebuilt(reason)),
        };
        match Cache::parse(&bytes, model.fingerprint(), model.dim()) {
            Ok(cache) => {
                let n = cache.len();
                (cache, Opened::Read(n))
            }
            Err(reason) => (Cache::default(), Opened::Rebuilt(reason.to_string())),
        }
    }

    fn parse(bytes: &[u8], fingerprint: u64, dim: usize) -> Result<Cache, &'static str> {
        let u64_at = |at: usize| -> u64 {
            let mut b = [0u8; 8];
            b.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let u32_at = |at: usize| -> usize {
            let mut b = [0u8; 4];
            b.copy_from_slice(&bytes[at..at + 4]);
            u32::from_le_bytes(b) as usize
        };
        if bytes.len() < HEADER + 8 || &bytes[..8] != MAGIC {
            return Err("not a qabot embedding cache (or an older format)");
        }
        if u64_at(8) != fingerprint || u32_at(16) != dim {
            return Err("made with another model");
        }
        let count = u32_at(20);
        let record = 8 + 4 * dim;
        let body = &bytes[HEADER..bytes.len() - 8];
        if body.len() != count.saturating_mul(record) {
            return Err("truncated or padded");
        }
        if checksum(body) != u64_at(bytes.len() - 8) {
            return Err("checksum does not match: the file is corrupt");
        }
        let mut cache = Cache {
            dim,
            rows: HashMap::with_capacity(count),
            data: Vec::with_capacity(count * dim),
        };
        for (row, r) in body.chunks_exact(record).enumerate() {
            let mut k = [0u8; 8];
            k.copy_from_slice(&r[..8]);
            cache.data.extend(
                r[8..]
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            );
            cache.rows.insert(u64::from_le_bytes(k), row);
        }
        if !cache.data.iter().all(|x| x.is_finite()) {
            return Err("holds a vector that is not a number");
        }
        Ok(cache)
    }

    /// Makes the cache hold the vectors of exactly `texts`, in order ([`Cache::into_rows`]): from
    /// the cache where it has them, embedded with `model` where it does not. `progress`
    /// hears about the texts embedded, and may stop the embedding ([`ModelError::Stopped`];
    /// what was embedded stays, for a later save). Returns how many texts were embedded.
    pub fn embed(
        &mut self,
        model: &Model,
        texts: &[&str],
        progress: Progress,
    ) -> Result<usize, ModelError> {
        let dim = model.dim();
        if self.dim != dim {
            *self = Cache {
                dim,
                ..Cache::default()
            };
        }
        let keys: Vec<u64> = texts.iter().map(|t| key(t)).collect();
        let mut wanted = std::collections::HashSet::new();
        let mut missing: Vec<usize> = (0..keys.len())
            .filter(|&i| !self.rows.contains_key(&keys[i]) && wanted.insert(keys[i]))
            .collect();
        // Texts of like length in one pass of the model waste little on padding.
        missing.sort_by_key(|&i| texts[i].len());
        let total = missing.len();
        for (n, chunk) in missing.chunks(PROGRESS_STEP).enumerate() {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
            for (&i, v) in chunk.iter().zip(model.embed(&batch)?) {
                self.rows.insert(keys[i], self.data.len() / dim);
                self.data
                    .extend(v.iter().copied().chain(std::iter::repeat(0.0)).take(dim));
            }
            if progress(((n + 1) * PROGRESS_STEP).min(total), total).is_break() {
                return Err(ModelError::Stopped);
            }
        }
        let mut data = Vec::with_capacity(keys.len() * dim);
        let mut rows = HashMap::with_capacity(keys.len());
        for (i, k) in keys.iter().enumerate() {
            match self.rows.get(k) {
                Some(&row) => {
                    data.extend_from_slice(&self.data[row * dim..(row + 1) * dim]);
                    rows.entry(*k).or_insert(i);
                }
                // The model returned fewer vectors than texts: this text matches nothing,
                // and is not kept.
                None => data.resize(data.len() + dim, 0.0),
            }
        }
        *self = Cache { dim, rows, data };
        Ok(total)
    }

    /// Every vector, row after row, without copying them: after [`Cache::embed`], one row
    /// per text asked for, in that order.
    pub fn into_rows(self) -> Vec<f32> {
        self.data
    }

    /// Writes the cache to `path` for `model`, atomically.
    pub fn save(&self, path: &Path, model: &Model) -> std::io::Result<()> {
        let bytes = self.bytes(model.fingerprint(), model.dim());
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)?;
        }
        write_atomically(path, &bytes)
    }

    /// The file's bytes: header, records in key order, checksum.
    fn bytes(&self, fingerprint: u64, dim: usize) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.rows.len() * (8 + 4 * dim));
        let mut keys: Vec<(&u64, &usize)> = self.rows.iter().collect();
        keys.sort_unstable();
        for (k, &row) in keys {
            body.extend_from_slice(&k.to_le_bytes());
            for x in &self.data[row * dim..(row + 1) * dim] {
                body.extend_from_slice(&x.to_le_bytes());
            }
        }
        let mut bytes = Vec::with_capacity(HEADER + body.len() + 8);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&fingerprint.to_le_bytes());
        bytes.extend_from_slice(&(dim as u32).to_le_bytes());
        bytes.extend_from_slice(&(self.rows.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&body);
        bytes.extend_from_slice(&checksum(&body).to_le_bytes());
        bytes
    }

    /// How many texts it holds a vector for.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`, so a reader
/// sees the old file or the new one, never half of one. The temporary file is removed if
/// either step fails.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temp_name(path);
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
}

/// The file beside the embedding cache at `cache` whose name is the cache's plus `suffix`:
/// where what is derived from its vectors is kept (the calibration, the 8-bit rows).
pub(crate) fn beside(cache: &Path, suffix: &str) -> PathBuf {
    let mut name = cache.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    cache.with_file_name(name)
}

/// A temporary name beside `path`, unique to this process and moment, so two processes
/// saving at once never write the same temporary file.
pub(crate) fn temp_name(path: &Path) -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.{nanos}.tmp", std::process::id()));
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRINT: u64 = 0x1234_5678_9abc_def0;

    fn cache(vectors: &[(&str, [f32; 2])]) -> Cache {
        let mut cache = Cache {
            dim: 2,
            ..Cache::default()
        };
        for (text, v) in vectors {
            cache.rows.insert(key(text), cache.data.len() / 2);
            cache.data.extend_from_slice(v);
        }
        cache
    }

    fn two() -> Cache {
        cache(&[("a", [0.6, 0.8]), ("b", [1.0, 0.0])])
    }

    #[test]
    fn a_saved_cache_reads_back_whole() {
        let read = Cache::parse(&two().bytes(PRINT, 2), PRINT, 2).expect("reads");
        let vector = |c: &Cache, t: &str| c.data[c.rows[&key(t)] * 2..][..2].to_vec();
        assert_eq!(read.len(), 2);
        for t in ["a", "b"] {
            assert_eq!(vector(&read, t), vector(&two(), t));
        }
    }

    #[test]
    fn anything_untrustworthy_is_refused_with_its_reason() {
        let good = two().bytes(PRINT, 2);
        let mut flipped = good.clone();
        flipped[HEADER + 9] ^= 0x40;
        let nan = cache(&[("a", [0.6, 0.8]), ("c", [f32::NAN, 0.0])]);
        let cases: [(&str, Vec<u8>, u64, usize, &str); 7] = [
            ("empty", Vec::new(), PRINT, 2, "not a qabot embedding cache"),
            (
                "foreign",
                b"GIF89a and more bytes than a header".to_vec(),
                PRINT,
                2,
                "not a qabot",
            ),
            (
                "truncated",
                good[..good.len() - 3].to_vec(),
                PRINT,
                2,
                "truncated",
            ),
            ("bit flipped", flipped, PRINT, 2, "checksum"),
            ("another model", good.clone(), PRINT ^ 1, 2, "another model"),
            ("another size", good, PRINT, 3, "another model"),
            (
                "not a number",
                nan.bytes(PRINT, 2),
                PRINT,
                2,
                "not a number",
            ),
        ];
        for (label, bytes, print, dim, reason) in cases {
            match Cache::parse(&bytes, print, dim) {
                Err(got) => assert!(got.contains(reason), "{label}: {got}"),
                Ok(_) => panic!("{label}: trusted"),
            }
        }
    }
}
