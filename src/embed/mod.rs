//! Embeddings: a sentence model that turns text into vectors whose cosine measures closeness
//! of meaning, the on-disk cache that spares re-embedding an unchanged pack, and the 8-bit
//! rows a pack's vectors are held in.
//!
//! This is the semantic side's machinery only; what the vectors are of, and how they count
//! in a decision, is [`crate::semantic`]'s business.

pub mod cache;
pub mod model;
pub mod rows;

pub use cache::{Cache, Opened};

/// Hears `(done, total)` as texts are embedded, and says whether to go on: a reload past its
/// time limit stops embedding rather than burn a core for nothing.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize) -> std::ops::ControlFlow<()>;
pub use model::{cosine, Model, ModelError};
pub use rows::Rows;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// FNV-1a: a fast, stable hash for cache keys and fingerprints (not for security).
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h: u64, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Fixes the number of threads the model runs on, once, for the whole process.
///
/// candle asks for its thread count before every matrix product and, unless
/// `RAYON_NUM_THREADS` is set, works it out afresh from `/proc/cpuinfo`: on a 2-core machine
/// that was a sixth of each question's time. This sets the variable (if the user has not) to
/// the physical cores this process may use.
///
/// It also keeps candle's second pool, for element-wise work, to the calling thread
/// (`CANDLE_NUM_THREADS=1`, if the user has not set it): its workers spin at a barrier
/// after every small operation, and while [`Model::embed`] runs batches on every core they
/// only took turns with them. The shipped pack's first embedding went from 3.4 to 2.0 s; a
/// question takes the same time.
///
/// It changes the environment, so call it first thing in `main`, before any thread exists.
pub fn settle_thread_count() {
    if std::env::var_os("RAYON_NUM_THREADS").is_none() {
        let allowed = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cores = num_cpus::get_physical().clamp(1, allowed);
        std::env::set_var("RAYON_NUM_THREADS", cores.to_string());
    }
    if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
    }
}

/// Models loaded so far in this process, by folder.
static LOADED: Mutex<Vec<(PathBuf, Arc<Model>)>> = Mutex::new(Vec::new());

/// The model in `dir`, loaded once per process: every reload of the knowledge (and every
/// engine a test builds) shares it instead of reading 45 MB of weights again.
pub fn shared(dir: &Path) -> Result<Arc<Model>, ModelError> {
    let key = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let mut loaded = LOADED
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((_, model)) = loaded.iter().find(|(k, _)| *k == key) {
        return Ok(Arc::clone(model));
    }
    let model = Arc::new(Model::load(dir)?);
    loaded.push((key, Arc::clone(&model)));
    Ok(model)
}
