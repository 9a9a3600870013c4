//! Calibration: what a cosine means *in this pack*.
//!
//! A cosine of 0.6 is a near-certain match in one pack and noise in another: packs differ in
//! how alike their entries are and how they are worded. So the semantic side is not read
//! against fixed numbers but against two levels measured on the pack itself at load time:
//! - **own**: how close an entry's ways of being asked are to each other (each question or
//!   alternate against the entry's other phrasings, leaving itself out): the closeness of
//!   a right answer, as this pack's author words things;
//! - **noise**: how close ordinary off-topic chat, shipped with the engine, comes to the
//!   pack's nearest phrasing: the closeness of a wrong answer.
//!
//! A cosine is then read as a *level* between the two: 0 at noise, 1 at own.

pub mod memo;

/// Off-topic chat lines, one a line, in no domain: the wrong-answer side of calibration.
pub const CHAT: &str = include_str!("chat.txt");

/// The chat lines of [`CHAT`].
pub fn chat_lines() -> impl Iterator<Item = &'static str> {
    CHAT.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// Which quantile of the chat lines' closeness is the noise level: nearly all ordinary chat
/// stays below it.
const NOISE_QUANTILE: f32 = 0.95;

/// Which quantile of the leave-one-out closeness is the own level: a typical right answer.
const OWN_QUANTILE: f32 = 0.5;

/// The narrowest span between noise and own: a pack whose phrasings are barely closer to each
/// other than chat is to them still gets a usable scale.
const MIN_SPAN: f32 = 0.05;

/// Used when a pack has no entry with two ways of being asked: the median measured on the
/// packs under `tests/eval/` (0.67 to 0.89).
const DEFAULT_OWN: f32 = 0.7;

/// Used when the chat lines could not be measured: the 95th percentile measured on the packs
/// under `tests/eval/` (0.29 to 0.38).
const DEFAULT_NOISE: f32 = 0.35;

/// A pack's two levels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    /// Typical cosine of a right answer in this pack.
    pub own: f32,
    /// Cosine that ordinary chat rarely reaches in this pack.
    pub noise: f32,
    /// How many leave-one-out phrasings measured `own` (0: the default was used).
    pub samples: usize,
}

impl Default for Calibration {
    fn default() -> Calibration {
        Calibration {
            own: DEFAULT_OWN,
            noise: DEFAULT_NOISE,
            samples: 0,
        }
    }
}

impl Calibration {
    /// Measures the levels from `own` (each asked phrasing's best cosine with its entry's
    /// other phrasings) and `chat` (each chat line's best cosine with any phrasing).
    pub fn measure(own: &[f32], chat: &[f32]) -> Calibration {
        let noise = quantile(chat, NOISE_QUANTILE).unwrap_or(DEFAULT_NOISE);
        let own_level = quantile(own, OWN_QUANTILE).unwrap_or(DEFAULT_OWN);
        Calibration {
            own: own_level.max(noise + MIN_SPAN),
            noise,
            samples: own.len(),
        }
    }

    /// Where `cosine` lies between noise (0) and own (1); may fall outside.
    pub fn level(&self, cosine: f32) -> f32 {
        (cosine - self.noise) / (self.own - self.noise)
    }
}

/// The `q` quantile of `values` (nearest rank), or `None` when there are none.
fn quantile(values: &[f32], q: f32) -> Option<f32> {
    let mut v: Vec<f32> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f32::total_cmp);
    let rank = (q * (v.len() - 1) as f32).round() as usize;
    Some(v[rank.min(v.len() - 1)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_come_from_the_pack() {
        let own = [0.9, 0.8, 0.7, 0.6, 0.5];
        let chat: Vec<f32> = (0..100).map(|i| i as f32 / 250.0).collect();
        let c = Calibration::measure(&own, &chat);
        assert_eq!(c.own, 0.7);
        assert!((c.noise - 0.376).abs() < 0.005, "{}", c.noise);
        assert_eq!(c.samples, 5);
        assert!(c.level(c.noise).abs() < 1e-6);
        assert!((c.level(c.own) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn degenerate_packs_still_get_a_scale() {
        let c = Calibration::measure(&[], &[]);
        assert_eq!(c, Calibration::default());
        let tight = Calibration::measure(&[0.3], &[0.4]);
        assert!(tight.own - tight.noise >= MIN_SPAN - 1e-6);
        assert!(tight.level(0.5).is_finite());
    }

    #[test]
    fn the_chat_lines_are_many_and_short() {
        let lines: Vec<&str> = chat_lines().collect();
        assert!(lines.len() >= 100, "{}", lines.len());
        assert!(lines.iter().all(|l| l.len() < 200));
    }
}
