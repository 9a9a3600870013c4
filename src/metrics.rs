//! Counters and a latency histogram for the bot, rendered in the Prometheus text exposition
//! format (version 0.0.4).
//!
//! Pure: every counter update is one or two relaxed atomic additions, so the handler can count
//! on its hot path, and the adapter that serves `/metrics` only calls [`Metrics::render`]. The
//! per-shard gauges sit behind a mutex instead: the set of shards is only known at start-up,
//! and they change about once a second, off the hot path. Nothing here knows about Discord or
//! sockets.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use crate::Status;

/// The content type of [`Metrics::render`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds (seconds) of the answer latency buckets: Prometheus' default buckets, which
/// span a fast in-memory match (milliseconds) to a reply stuck behind Discord's rate limits.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Everything qabot counts while it runs; share it behind an `Arc`.
#[derive(Debug, Default)]
pub struct Metrics {
    answered: AtomicU64,
    suggested: AtomicU64,
    none: AtomicU64,
    /// Per-bucket (not cumulative) counts; the last slot is `+Inf` only.
    latency_buckets: [AtomicU64; BUCKETS.len() + 1],
    latency_micros: AtomicU64,
    latency_count: AtomicU64,
    votes_up: AtomicU64,
    votes_down: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    reconnects: AtomicU64,
    rest_errors: AtomicU64,
    /// Each gateway shard of this process: connected or not, and its heartbeat latency.
    shards: Mutex<BTreeMap<u32, ShardGauge>>,
}

/// One shard's gauges.
#[derive(Debug, Clone, Copy, PartialEq)]
struct ShardGauge {
    up: bool,
    /// `None` until a heartbeat has been acknowledged.
    latency: Option<Duration>,
}

impl Metrics {
    /// Counts one question that was replied to, with how it ended and how long it took from
    /// arrival to the reply being sent.
    pub fn question(&self, status: Status, latency: Duration) {
        let counter = match status {
            Status::Answered => &self.answered,
            Status::Suggested => &self.suggested,
            Status::None => &self.none,
        };
        let seconds = latency.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|&le| seconds <= le)
            .unwrap_or(BUCKETS.len());
        self.latency_buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency_micros.fetch_add(micros, Ordering::Relaxed);
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        // Counted last and released, and read first and acquired by `render`, so a scrape
        // that sees this question also sees its latency.
        counter.fetch_add(1, Ordering::Release);
    }

    /// Counts a 👍 (`up`) or 👎 on an answer.
    pub fn vote(&self, up: bool) {
        let counter = if up { &self.votes_up } else { &self.votes_down };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a knowledge reload that succeeded (`ok`) or kept the last good knowledge.
    pub fn reload(&self, ok: bool) {
        let counter = if ok {
            &self.reloads_ok
        } else {
            &self.reloads_failed
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a gateway reconnect or resume.
    pub fn reconnect(&self) {
        self.reconnects.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a Discord REST call that failed (after serenity's own retries).
    pub fn rest_error(&self) {
        self.rest_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Records the state of gateway shard `shard`: whether it is connected, and the round
    /// trip of its last acknowledged heartbeat (kept when `latency` is `None`, so a shard
    /// reconnecting still shows how it was doing). Returns whether `up` changed (or the shard
    /// is new), so the caller logs transitions rather than every sample.
    pub fn shard(&self, shard: u32, up: bool, latency: Option<Duration>) -> bool {
        let mut shards = self.shards.lock().unwrap_or_else(PoisonError::into_inner);
        let gauge = shards.entry(shard).or_insert(ShardGauge {
            up: !up,
            latency: None,
        });
        let changed = gauge.up != up;
        gauge.up = up;
        gauge.latency = latency.or(gauge.latency);
        changed
    }

    /// Whether this process has shards and every one is connected: what a readiness probe
    /// asks before the next process of a split bot starts identifying.
    pub fn all_shards_up(&self) -> bool {
        let shards = self.shards.lock().unwrap_or_else(PoisonError::into_inner);
        !shards.is_empty() && shards.values().all(|g| g.up)
    }

    /// Every metric in the Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Acquire);
        let mut out = String::new();
        family(
            &mut out,
            "qabot_questions_total",
            "counter",
            "Questions replied to, by outcome.",
            &[
                ("outcome=\"answered\"", get(&self.answered)),
                ("outcome=\"suggested\"", get(&self.suggested)),
                ("outcome=\"none\"", get(&self.none)),
            ],
        );
        let name = "qabot_answer_latency_seconds";
        let _ = writeln!(
            out,
            "# HELP {name} Time from a question's arrival to its reply being sent."
        );
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, le) in BUCKETS.iter().enumerate() {
            cumulative += get(&self.latency_buckets[i]);
            let _ = writeln!(out, "{name}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        cumulative += get(&self.latency_buckets[BUCKETS.len()]);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let sum = get(&self.latency_micros) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {}", get(&self.latency_count));
        family(
            &mut out,
            "qabot_votes_total",
            "counter",
            "Feedback buttons clicked under answers.",
            &[
                ("vote=\"up\"", get(&self.votes_up)),
                ("vote=\"down\"", get(&self.votes_down)),
            ],
        );
        family(
            &mut out,
            "qabot_reloads_total",
            "counter",
            "Knowledge reloads, by result.",
            &[
                ("result=\"ok\"", get(&self.reloads_ok)),
                ("result=\"failed\"", get(&self.reloads_failed)),
            ],
        );
        family(
            &mut out,
            "qabot_gateway_reconnects_total",
            "counter",
            "Gateway reconnects and resumes.",
            &[("", get(&self.reconnects))],
        );
        family(
            &mut out,
            "qabot_rest_errors_total",
            "counter",
            "Discord REST calls that failed.",
            &[("", get(&self.rest_errors))],
        );
        let shards = self
            .shards
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let _ = writeln!(
            out,
            "# HELP qabot_shard_up Whether each gateway shard of this process is connected (1) or not (0)."
        );
        let _ = writeln!(out, "# TYPE qabot_shard_up gauge");
        for (shard, gauge) in &shards {
            let _ = writeln!(
                out,
                "qabot_shard_up{{shard=\"{shard}\"}} {}",
                u8::from(gauge.up)
            );
        }
        let _ = writeln!(
            out,
            "# HELP qabot_gateway_latency_seconds Heartbeat round trip of each shard (absent until one is acknowledged)."
        );
        let _ = writeln!(out, "# TYPE qabot_gateway_latency_seconds gauge");
        for (shard, gauge) in &shards {
            if let Some(latency) = gauge.latency {
                let _ = writeln!(
                    out,
                    "qabot_gateway_latency_seconds{{shard=\"{shard}\"}} {}",
                    latency.as_secs_f64()
                );
            }
        }
        out
    }
}

/// One metric family: HELP, TYPE, then a sample per label set (`""` for none).
fn family(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(&str, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {value}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(text: &str, series: &str) -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn outcomes_and_operations_are_counted() {
        let m = Metrics::default();
        m.question(Status::Answered, Duration::from_millis(3));
        m.question(Status::Answered, Duration::from_millis(3));
        m.question(Status::None, Duration::from_millis(3));
        m.vote(false);
        m.reload(true);
        m.reload(false);
        m.reload(false);
        m.reconnect();
        m.rest_error();
        assert!(m.shard(0, true, Some(Duration::from_millis(25))));
        assert!(m.shard(1, false, None));
        assert!(!m.shard(0, true, None), "no change");
        assert!(m.shard(1, true, None));
        assert!(m.shard(1, false, None));
        assert!(!m.all_shards_up());
        m.shard(1, true, None);
        assert!(m.all_shards_up());
        m.shard(1, false, None);
        let text = m.render();
        for (series, value) in [
            ("qabot_questions_total{outcome=\"answered\"}", 2.0),
            ("qabot_questions_total{outcome=\"suggested\"}", 0.0),
            ("qabot_questions_total{outcome=\"none\"}", 1.0),
            ("qabot_votes_total{vote=\"up\"}", 0.0),
            ("qabot_votes_total{vote=\"down\"}", 1.0),
            ("qabot_reloads_total{result=\"ok\"}", 1.0),
            ("qabot_reloads_total{result=\"failed\"}", 2.0),
            ("qabot_gateway_reconnects_total", 1.0),
            ("qabot_rest_errors_total", 1.0),
            ("qabot_shard_up{shard=\"0\"}", 1.0),
            ("qabot_shard_up{shard=\"1\"}", 0.0),
            ("qabot_gateway_latency_seconds{shard=\"0\"}", 0.025),
        ] {
            assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
        }
        assert!(
            !text.contains("qabot_gateway_latency_seconds{shard=\"1\"}"),
            "no latency before an acknowledged heartbeat"
        );
    }

    #[test]
    fn latency_buckets_are_cumulative_with_sum_and_count() {
        let m = Metrics::default();
        m.question(Status::Answered, Duration::from_millis(4));
        m.question(Status::Suggested, Duration::from_millis(80));
        m.question(Status::None, Duration::from_secs(60));
        let text = m.render();
        let bucket = |le: &str| {
            sample(
                &text,
                &format!("qabot_answer_latency_seconds_bucket{{le=\"{le}\"}}"),
            )
        };
        assert_eq!(bucket("0.005"), Some(1.0));
        assert_eq!(bucket("0.05"), Some(1.0));
        assert_eq!(bucket("0.1"), Some(2.0));
        assert_eq!(bucket("10"), Some(2.0));
        assert_eq!(bucket("+Inf"), Some(3.0));
        assert_eq!(
            sample(&text, "qabot_answer_latency_seconds_count"),
            Some(3.0)
        );
        let sum = sample(&text, "qabot_answer_latency_seconds_sum").unwrap();
        assert!((sum - 60.084).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn the_text_format_is_well_formed() {
        let m = Metrics::default();
        m.shard(0, true, Some(Duration::from_millis(3)));
        let text = m.render();
        assert!(text.ends_with('\n'));
        let mut typed = Vec::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                assert!(["counter", "histogram", "gauge"].contains(&kind), "{line}");
                typed.push(name.to_string());
            } else if !line.starts_with("# HELP ") {
                // A sample: a declared family's name (plus a histogram suffix), then a number.
                let (series, value) = line.rsplit_once(' ').unwrap();
                value.parse::<f64>().unwrap_or_else(|_| panic!("{line}"));
                let name = series.split('{').next().unwrap();
                assert!(
                    typed.iter().any(|t| name == t
                        || ["_bucket", "_sum", "_count"]
                            .iter()
                            .any(|s| name.strip_suffix(s) == Some(t))),
                    "{line} follows its # TYPE"
                );
                assert!(series.matches('{').count() == series.matches('}').count());
            }
        }
        assert_eq!(typed.len(), 8);
    }
}
