//! The last measured calibration, on disk beside the embedding cache.
//!
//! Measuring the noise level compares every chat line with every phrasing: a blink for a
//! small pack, seconds at 10,000 entries, most of a start at 100,000. The result depends
//! only on the vectors, so it is kept in a small file keyed by everything it was measured
//! from (model, texts, owners, chat lines) and reused while that key matches. Like the cache,
//! it is never trusted blindly: a wrong size, magic, key or checksum means measure again.

use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64;

use super::Calibration;

/// The file's first bytes: format name and version.
const MAGIC: &[u8; 8] = b"qabotc01";

/// Magic, key, own, noise, samples, checksum.
const SIZE: usize = 8 + 8 + 4 + 4 + 8 + 8;

/// The memo file that goes with the embedding cache at `cache`.
pub fn path(cache: &Path) -> PathBuf {
    crate::embed::cache::beside(cache, ".calibration")
}

/// The calibration stored at `path` for `key`, if there is one to trust.
pub fn load(path: &Path, key: u64) -> Option<Calibration> {
    let bytes = crate::problem::read_regular_file(path, SIZE as u64).ok()?;
    decode(&bytes, key)
}

/// Stores `calibration` for `key` at `path`, atomically (a temporary file renamed over).
pub fn save(path: &Path, key: u64, calibration: &Calibration) -> std::io::Result<()> {
    crate::embed::cache::write_atomically(path, &encode(key, calibration))
}

fn encode(key: u64, c: &Calibration) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(SIZE);
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&key.to_le_bytes());
    bytes.extend_from_slice(&c.own.to_le_bytes());
    bytes.extend_from_slice(&c.noise.to_le_bytes());
    bytes.extend_from_slice(&(c.samples as u64).to_le_bytes());
    let sum = xxh3_64(&bytes);
    bytes.extend_from_slice(&sum.to_le_bytes());
    bytes
}

fn decode(bytes: &[u8], key: u64) -> Option<Calibration> {
    if bytes.len() != SIZE || &bytes[..8] != MAGIC {
        return None;
    }
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap_or_default());
    let float = |at: usize| f32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default());
    if word(SIZE - 8) != xxh3_64(&bytes[..SIZE - 8]) || word(8) != key {
        return None;
    }
    let (own, noise) = (float(16), float(20));
    (own.is_finite() && noise.is_finite() && own > noise).then(|| Calibration {
        own,
        noise,
        samples: usize::try_from(word(24)).unwrap_or(usize::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAL: Calibration = Calibration {
        own: 0.7,
        noise: 0.3,
        samples: 42,
    };

    #[test]
    fn a_stored_calibration_reads_back_for_its_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = path(&dir.path().join("pack-1234.bin"));
        assert_eq!(file.file_name().unwrap(), "pack-1234.bin.calibration");
        assert_eq!(load(&file, 7), None, "nothing stored yet");
        save(&file, 7, &CAL).unwrap();
        assert_eq!(load(&file, 7), Some(CAL));
        assert_eq!(load(&file, 8), None, "another pack or model");
    }

    #[test]
    fn anything_damaged_is_refused() {
        let good = encode(7, &CAL);
        assert_eq!(decode(&good, 7), Some(CAL));
        for at in [0, 9, 17, 25, SIZE - 1] {
            let mut bad = good.clone();
            bad[at] ^= 0x10;
            assert_eq!(decode(&bad, 7), None, "flipped byte {at}");
        }
        assert_eq!(decode(&good[..SIZE - 1], 7), None, "truncated");
        let upside_down = Calibration { own: 0.2, ..CAL };
        assert_eq!(decode(&encode(7, &upside_down), 7), None, "own below noise");
    }
}
