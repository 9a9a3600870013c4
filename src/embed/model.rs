//! The sentence-embedding model: a BERT-family sentence-transformers folder run with candle
//! on the CPU, turning a text into one L2-normalised vector whose cosine with another says
//! how close their meanings are.
//!
//! Loading reads three files of the folder (`config.json`, `tokenizer.json`,
//! `model.safetensors`) through the same size-capped reader as the knowledge, so a broken
//! or foreign model is a located error, never a panic. Nothing is downloaded.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::safetensors::Load;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use half::{f16, slice::HalfFloatSliceExt};
use rayon::prelude::*;
use safetensors::{Dtype, SafeTensors};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// Word pieces kept of one text: sentence-transformers' `max_seq_length` for this family.
/// A chat question is a few dozen; an answer beyond this is judged by its opening.
pub const MAX_TOKENS: usize = 256;

/// Texts embedded in one forward pass: larger batches waste work on padding and outgrow the
/// CPU's caches, smaller ones pay per-pass overhead. Measured on the shipped pack's first
/// start (2 cores): 32 took 6.4 s and 214 MB, 16 took 4.4 s, 8 took 4.2 s and 157 MB, 1
/// took 6.2 s.
const BATCH: usize = 8;

/// Largest model file read (the f32 original is 91 MB; a base-size BERT about 440 MB).
const MAX_WEIGHTS_BYTES: u64 = 512 * 1024 * 1024;

/// Why a model could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// A file of the model folder is missing or unreadable.
    #[error("{path}: {reason}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The files are there but do not make a usable BERT model.
    #[error("{path}: not a usable BERT sentence model: {reason}")]
    Invalid {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Running the model failed.
    #[error("embedding failed: {0}")]
    Run(String),
    /// The progress callback asked to stop (a reload past its time limit).
    #[error("stopped before every phrasing was embedded")]
    Stopped,
}

/// A loaded sentence model. Immutable and `Sync`: one model serves every question and
/// survives reloads of the knowledge.
pub struct Model {
    bert: BertModel,
    tokenizer: Tokenizer,
    dim: usize,
    fingerprint: u64,
    dir: PathBuf,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("dir", &self.dir)
            .field("dim", &self.dim)
            .finish()
    }
}

impl Model {
    /// Loads the model in `dir` (a sentence-transformers folder).
    pub fn load(dir: &Path) -> Result<Model, ModelError> {
        let read = |name: &str, cap: u64| -> Result<Vec<u8>, ModelError> {
            let path = dir.join(name);
            crate::problem::read_regular_file(&path, cap).map_err(|reason| ModelError::Read {
                path: path.clone(),
                reason,
            })
        };
        let invalid = |name: &str, reason: String| ModelError::Invalid {
            path: dir.join(name),
            reason,
        };
        let config_bytes = read("config.json", 1024 * 1024)?;
        let config: Config = serde_json::from_slice(&config_bytes)
            .map_err(|e| invalid("config.json", e.to_string()))?;
        let tokenizer_bytes = read("tokenizer.json", 64 * 1024 * 1024)?;
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer_bytes)
            .map_err(|e| invalid("tokenizer.json", e.to_string()))?;
        // The shipped tokenizer pads everything to 128: pad a batch to its longest text only.
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            pad_id: config.pad_token_id as u32,
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS.min(config.max_position_embeddings),
                ..TruncationParams::default()
            }))
            .map_err(|e| invalid("tokenizer.json", e.to_string()))?;
        let weights = read("model.safetensors", MAX_WEIGHTS_BYTES)?;
        // Two independent passes over the weights, one a core.
        let (fingerprint, tensors) = rayon::join(
            || fingerprint(&[&config_bytes, &tokenizer_bytes, &weights]),
            || widened(&weights),
        );
        let tensors = tensors.map_err(|e| invalid("model.safetensors", e))?;
        drop(weights);
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
        let bert = BertModel::load(vb, &config)
            .map_err(|e| invalid("model.safetensors", e.to_string()))?;
        Ok(Model {
            bert,
            tokenizer,
            dim: config.hidden_size,
            fingerprint,
            dir: dir.to_path_buf(),
        })
    }

    /// The length of every vector this model makes.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// A hash of the model's files: vectors made by another model (or another version of
    /// this one) are not comparable, so caches are keyed by it.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The folder it was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// One unit vector per text, in order. The batches run on every core.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        // Texts of similar length share a batch, so padding costs little.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let batches: Vec<Vec<Vec<f32>>> = order
            .par_chunks(BATCH)
            .map(|chunk| {
                let batch: Vec<&str> = chunk.iter().map(|&i| texts[i]).collect();
                self.embed_batch(&batch)
            })
            .collect::<Result<_, _>>()?;
        let mut out = vec![Vec::new(); texts.len()];
        for (chunk, vectors) in order.chunks(BATCH).zip(batches) {
            for (&i, v) in chunk.iter().zip(vectors) {
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// One unit vector for `text`, computed on one of rayon's workers.
    ///
    /// candle's layer norms (13 a question) split their rows with rayon. Called from a thread
    /// outside the pool, each hands its work to a worker and sleeps until it is done; from a
    /// worker they run where they are. One hand-over instead of 13
    /// took the shipped pack's median question from about 11 to about 9 ms.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, ModelError> {
        Ok(rayon::scope(|_| self.embed_batch(&[text]))?
            .pop()
            .unwrap_or_default())
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, ModelError> {
        let run = |e: &dyn std::fmt::Display| ModelError::Run(e.to_string());
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| run(&e))?;
        let rows = encodings.len();
        let len = encodings.first().map_or(0, |e| e.get_ids().len());
        let mut ids = Vec::with_capacity(rows * len);
        let mut mask = Vec::with_capacity(rows * len);
        for e in &encodings {
            ids.extend(e.get_ids().iter().map(|&x| x as i64));
            mask.extend(e.get_attention_mask().iter().map(|&x| x as i64));
        }
        let device = Device::Cpu;
        let ids = Tensor::from_vec(ids, (rows, len), &device).map_err(|e| run(&e))?;
        let mask = Tensor::from_vec(mask, (rows, len), &device).map_err(|e| run(&e))?;
        let types = ids.zeros_like().map_err(|e| run(&e))?;
        let hidden = self
            .bert
            .forward(&ids, &types, Some(&mask))
            .map_err(|e| run(&e))?;
        // Mean over the real (non-padding) tokens, then unit length.
        let pooled = (|| {
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
            let counts = mask.sum(1)?.clamp(1.0, f64::MAX)?;
            let mean = summed.broadcast_div(&counts)?;
            let norm = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
            mean.broadcast_div(&norm)?.to_vec2::<f32>()
        })()
        .map_err(|e| run(&e))?;
        Ok(pooled)
    }
}

/// The model's tensors, in f32. Weights shipped in f16 are widened with the CPU's
/// conversion instructions (through `half`), tensors spread over the cores: candle widens
/// one value at a time, which was a third of a cached start-up. The values are the same.
fn widened(weights: &[u8]) -> Result<HashMap<String, Tensor>, String> {
    let file = SafeTensors::deserialize(weights).map_err(|e| e.to_string())?;
    file.tensors()
        .into_par_iter()
        .map(|(name, view)| {
            let tensor = match view.dtype() {
                Dtype::F16 => {
                    let narrow: Vec<f16> = view
                        .data()
                        .chunks_exact(2)
                        .map(|b| f16::from_le_bytes([b[0], b[1]]))
                        .collect();
                    let mut wide = vec![0f32; narrow.len()];
                    narrow.convert_to_f32_slice(&mut wide);
                    Tensor::from_vec(wide, view.shape(), &Device::Cpu)
                }
                _ => view.load(&Device::Cpu).and_then(|t| t.to_dtype(DType::F32)),
            };
            tensor.map(|t| (name, t)).map_err(|e| e.to_string())
        })
        .collect()
}

/// FNV-1a over the model's files: cheap, stable across runs and platforms.
fn fingerprint(parts: &[&[u8]]) -> u64 {
    parts.iter().fold(0, |h, part| {
        super::fnv(part).rotate_left(5) ^ h.wrapping_mul(31)
    })
}

/// The cosine of two unit vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b)
}

/// `a · b`, for vectors stored as floats or as bytes.
///
/// Summed in [`LANES`] running totals, which the compiler keeps in one SIMD register: a
/// single running sum is a chain of dependent additions that it may not reorder, and
/// comparing a question with every phrasing of a 10,000-entry pack was several times
/// slower that way. Inlined so that a caller compiled for wider instructions gets them.
#[inline(always)]
pub(crate) fn dot<T: Copy + Into<f32>>(a: &[f32], b: &[T]) -> f32 {
    let n = a.len().min(b.len());
    let whole = n - n % LANES;
    let mut lanes = [0f32; LANES];
    for (x, y) in a[..whole]
        .chunks_exact(LANES)
        .zip(b[..whole].chunks_exact(LANES))
    {
        for i in 0..LANES {
            lanes[i] += x[i] * y[i].into();
        }
    }
    let tail: f32 = a[whole..n]
        .iter()
        .zip(&b[whole..n])
        .map(|(&x, &y)| x * y.into())
        .sum();
    lanes.iter().sum::<f32>() + tail
}

/// Running totals in [`dot`]: one AVX register of `f32`s (two SSE ones).
const LANES: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Model {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/all-MiniLM-L6-v2");
        Model::load(&dir).expect("the shipped model loads")
    }

    /// sentence-transformers' quickstart values for all-MiniLM-L6-v2.
    #[test]
    fn matches_the_published_reference() {
        let model = shipped();
        let v = model
            .embed(&[
                "The weather is lovely today.",
                "It's so sunny outside!",
                "He drove to the stadium.",
            ])
            .unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].len(), 384);
        for (a, b, want) in [(0, 1, 0.6660), (0, 2, 0.1046), (1, 2, 0.1411)] {
            let got = cosine(&v[a], &v[b]);
            assert!(
                (got - want).abs() < 0.002,
                "cos({a},{b}) = {got}, want {want}"
            );
        }
        // Alone or in a batch with longer texts (padding), a text gets the same vector.
        let alone = model.embed_one("It's so sunny outside!").unwrap();
        assert!(cosine(&alone, &v[1]) > 0.9999);
    }

    #[test]
    fn cosine_is_the_dot_product_at_any_length() {
        for n in [0, 1, 7, 8, 9, 384, 385] {
            let a: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((cosine(&a, &b) - plain).abs() < 1e-4, "length {n}");
        }
        assert_eq!(
            cosine(&[1.0, 2.0, 3.0], &[1.0]),
            1.0,
            "the shorter length counts"
        );
    }

    #[test]
    fn odd_input_is_still_a_unit_vector() {
        let model = shipped();
        let long = "word ".repeat(5_000);
        for text in ["", "   ", "🦀🦀🦀", "```rust\nfn main() {}\n```", &long] {
            let v = model.embed_one(text).unwrap();
            let norm: f32 = v.iter().map(|x| x * x).sum();
            assert!((norm - 1.0).abs() < 1e-3, "{text:.20}: norm {norm}");
        }
    }

    #[test]
    fn a_missing_or_foreign_folder_is_a_located_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = Model::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("config.json"), "{err}");
        std::fs::write(dir.path().join("config.json"), "{\"not\": \"bert\"}").unwrap();
        let err = Model::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("config.json") && err.contains("not a usable"),
            "{err}"
        );
    }
}
