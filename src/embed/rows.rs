//! Unit vectors kept in 8 bits: one signed byte per component and one scale per vector.
//!
//! Comparing a question with every phrasing reads every phrasing's vector, so at 10,000
//! entries (about 90,000 phrasings) a question's time went mostly to reading 140 MB of
//! floats from memory. In bytes it is a quarter of that, and the pack's vectors take a
//! quarter of the memory. The question itself stays in 32 bits, so the only rounding is the
//! stored vector's, under 0.4 % of its largest component: on every evaluation set the
//! decisions are the same as with 32-bit vectors.

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
