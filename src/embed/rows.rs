//! Unit vectors kept in 8 bits: one signed byte per component and one scale per vector.
//!
//! Comparing a question with every phrasing reads every phrasing's vector, so at 10,000
//! entries (about 90,000 phrasings) a question's time went mostly to reading 140 MB of
//! floats from memory. In bytes it is a quarter of that, and the pack's vectors take a
//! quarter of the memory. The question itself stays in 32 bits, so the only rounding is the
//! stored vector's, under 0.4 % of its largest component: on every evaluation set the
//! decisions are the same as with 32-bit vectors.
//!
//! The rows of a pack are also stored as they are, beside the embedding cache
//! (`<cache>.rows`), keyed like the calibration memo by everything they were made from: a
//! restart of an unchanged pack reads a quarter of the bytes and rounds nothing, where
//! opening the cache read every float, indexed it by text and rounded it again (most of a
//! 10,000-entry start). Like the cache, the file is checked whole and never trusted blindly.

use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64;

/// Vectors of one length, row after row.
#[derive(Debug, Default)]
pub struct Rows {
    dim: usize,
    bytes: Vec<i8>,
    /// Per row: the value of one step (its largest component / 127).
    scales: Vec<f32>,
}

impl Rows {
    /// Rounds `flat` (row after row of `dim` floats) to 8 bits.
    pub fn quantize(flat: &[f32], dim: usize) -> Rows {
        let dim = dim.max(1);
        let mut rows = Rows {
            dim,
            bytes: Vec::with_capacity(flat.len()),
            scales: Vec::with_capacity(flat.len() / dim),
        };
        for row in flat.chunks_exact(dim) {
            let largest = row.iter().fold(0f32, |m, x| m.max(x.abs()));
            let scale = if largest > 0.0 { largest / 127.0 } else { 1.0 };
            rows.scales.push(scale);
            rows.bytes.extend(
                row.iter()
                    .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8),
            );
        }
        rows
    }

    /// How many vectors.
    pub fn len(&self) -> usize {
        self.scales.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.scales.is_empty()
    }

    /// Vector `i` back in floats.
    pub fn row(&self, i: usize) -> Vec<f32> {
        let scale = self.scales[i];
        self.bytes[i * self.dim..(i + 1) * self.dim]
            .iter()
            .map(|&b| f32::from(b) * scale)
            .collect()
    }

    /// The rows, `block` at a time (the last block may be shorter): the unit a scan hands
    /// to one core.
    pub fn blocks(&self, block: usize) -> impl Iterator<Item = Block<'_>> {
        let block = block.max(1);
        self.bytes
            .chunks(self.dim * block)
            .zip(self.scales.chunks(block))
            .map(|(bytes, scales)| Block {
                dim: self.dim,
                bytes,
                scales,
            })
    }

    /// The same blocks as [`Rows::blocks`], for rayon.
    pub fn par_blocks(
        &self,
        block: usize,
    ) -> impl rayon::iter::IndexedParallelIterator<Item = Block<'_>> {
        use rayon::prelude::*;
        let block = block.max(1);
        let dim = self.dim;
        self.bytes
            .par_chunks(dim * block)
            .zip(self.scales.par_chunks(block))
            .map(move |(bytes, scales)| Block { dim, bytes, scales })
    }
}

/// The file's first bytes: format name and version.
const MAGIC: &[u8; 8] = b"qabotr01";

/// Magic, key, dim, rows; then the scales, the bytes and a checksum of all before it.
const HEADER: usize = 8 + 8 + 8 + 8;

/// Largest rows file read: 100,000 entries' phrasings take about 400 MB.
const MAX_FILE_BYTES: u64 = 4 << 30;

/// The rows file that goes with the embedding cache at `cache`.
pub fn path(cache: &Path) -> PathBuf {
    super::cache::beside(cache, ".rows")
}

impl Rows {
    /// The rows stored at `path` for `key`, if there are any to trust.
    pub fn load(path: &Path, key: u64) -> Option<Rows> {
        let bytes = crate::problem::read_regular_file(path, MAX_FILE_BYTES).ok()?;
        Rows::decode(bytes, key)
    }

    /// Stores the rows for `key` at `path`, atomically (a temporary file renamed over).
    pub fn save(&self, path: &Path, key: u64) -> std::io::Result<()> {
        super::cache::write_atomically(path, &self.encode(key))
    }

    fn encode(&self, key: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + 4 * self.scales.len() + self.bytes.len() + 8);
        out.extend_from_slice(MAGIC);
        for n in [key, self.dim as u64, self.scales.len() as u64] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        for s in &self.scales {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out.extend(self.bytes.iter().map(|&b| b as u8));
        let sum = xxh3_64(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Reuses `file`'s buffer for the bytes: no second copy of the biggest part.
    fn decode(mut file: Vec<u8>, key: u64) -> Option<Rows> {
        let word = |at: usize| -> Option<u64> {
            Some(u64::from_le_bytes(file.get(at..at + 8)?.try_into().ok()?))
        };
        let end = file.len().checked_sub(8)?;
        if end < HEADER || &file[..8] != MAGIC || word(end)? != xxh3_64(&file[..end]) {
            return None;
        }
        let dim = usize::try_from(word(16)?).ok().filter(|&d| d > 0)?;
        let n = usize::try_from(word(24)?).ok()?;
        let scales_end = n.checked_mul(4)?.checked_add(HEADER)?;
        if word(8)? != key || Some(end) != n.checked_mul(dim)?.checked_add(scales_end) {
            return None;
        }
        let scales: Vec<f32> = file[HEADER..scales_end]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if !scales.iter().all(|s| s.is_finite()) {
            return None;
        }
        file.truncate(end);
        file.drain(..scales_end);
        // Same size and alignment: collected in place.
        let bytes = file.into_iter().map(|b| b as i8).collect();
        Some(Rows { dim, bytes, scales })
    }
}

/// Consecutive rows of [`Rows`].
pub struct Block<'a> {
    dim: usize,
    bytes: &'a [i8],
    scales: &'a [f32],
}

impl Block<'_> {
    /// The cosine of `q` (a unit vector in floats) with each row, in order.
    pub fn cosines<'q>(&'q self, q: &'q [f32]) -> impl Iterator<Item = f32> + 'q {
        let q = &q[..self.dim.min(q.len())];
        self.bytes
            .chunks_exact(self.dim)
            .zip(self.scales)
            .map(move |(row, &scale)| dot(q, row) * scale)
    }
}

/// `q · row`: with AVX2 where the CPU has it (a build for any x86-64 CPU may otherwise
/// use only SSE2, which has no instruction to widen bytes to floats).
fn dot(q: &[f32], row: &[i8]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU was just seen to have both features `dot_avx2` is compiled for.
        return unsafe { dot_avx2(q, row) };
    }
    super::model::dot(q, row)
}

/// [`super::model::dot`] compiled for AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn dot_avx2(q: &[f32], row: &[i8]) -> f32 {
    super::model::dot(q, row)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(n: usize, seed: f32) -> Vec<f32> {
        let v: Vec<f32> = (1..=n).map(|i| (i as f32 * seed).sin()).collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / norm).collect()
    }

    #[test]
    fn cosines_in_eight_bits_stay_within_a_thousandth() {
        for dim in [1, 7, 384] {
            let a = unit(dim, 0.37);
            let b = unit(dim, 1.91);
            let rows = Rows::quantize(&[a.clone(), b.clone()].concat(), dim);
            assert_eq!(rows.len(), 2);
            let q = unit(dim, 0.73);
            let got: Vec<f32> = rows
                .blocks(1)
                .flat_map(|blk| blk.cosines(&q).collect::<Vec<_>>())
                .collect();
            for (row, want) in [&a, &b].iter().zip(&got) {
                let exact = super::super::cosine(&q, row);
                // Rounding errors average out over many components.
                let tolerance = if dim >= 384 { 1e-3 } else { 1e-2 };
                assert!(
                    (exact - want).abs() < tolerance,
                    "dim {dim}: {exact} vs {want}"
                );
            }
            let back = rows.row(1);
            assert!(super::super::cosine(&back, &b) > 0.999, "dim {dim}");
        }
    }

    #[test]
    fn stored_rows_read_back_for_their_key_only_and_damage_is_refused() {
        let rows = Rows::quantize(&[unit(3, 0.37), unit(3, 1.91)].concat(), 3);
        let dir = tempfile::tempdir().unwrap();
        let file = path(&dir.path().join("pack-1234.bin"));
        assert_eq!(file.file_name().unwrap(), "pack-1234.bin.rows");
        assert!(Rows::load(&file, 7).is_none(), "nothing stored yet");
        rows.save(&file, 7).unwrap();
        let back = Rows::load(&file, 7).expect("reads back");
        assert_eq!(
            (back.dim, &back.bytes, &back.scales),
            (3, &rows.bytes, &rows.scales)
        );
        assert!(Rows::load(&file, 8).is_none(), "another pack or model");
        let good = rows.encode(7);
        for at in [0, 9, 17, 25, HEADER + 1, good.len() - 3, good.len() - 1] {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            assert!(Rows::decode(bad, 7).is_none(), "flipped byte {at}");
        }
        for len in [0, 7, HEADER, good.len() - 1] {
            assert!(
                Rows::decode(good[..len].to_vec(), 7).is_none(),
                "cut at {len}"
            );
        }
    }

    #[test]
    fn a_zero_vector_stays_zero_and_blocks_cover_every_row() {
        let rows = Rows::quantize(&[0.0, 0.0, 0.6, 0.8, 1.0, 0.0], 2);
        let q = [0.6, 0.8];
        let sequential: Vec<f32> = rows
            .blocks(2)
            .flat_map(|b| b.cosines(&q).collect::<Vec<_>>())
            .collect();
        assert_eq!(sequential.len(), 3);
        assert_eq!(sequential[0], 0.0);
        assert!((sequential[1] - 1.0).abs() < 1e-3 && (sequential[2] - 0.6).abs() < 1e-3);
        use rayon::prelude::*;
        let parallel: Vec<f32> = rows
            .par_blocks(2)
            .flat_map_iter(|b| b.cosines(&q).collect::<Vec<_>>())
            .collect();
        assert_eq!(parallel, sequential);
    }
}
