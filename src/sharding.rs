//! Sharding: which of the bot's gateway shards this process runs, and the rules Discord sets
//! on starting them.
//!
//! Discord sends a guild's events to shard `(guild_id >> 22) % total` (DMs to shard 0) and
//! refuses an unsharded connection once a bot is in 2,500 servers, so a large bot runs
//! `total` shards, possibly split over several processes, each running the inclusive range
//! `first..=last`. Starting a shard costs one IDENTIFY from a daily budget
//! (`session_start_limit.remaining`, which resets `reset_after` later), and at most one
//! IDENTIFY per 5 seconds per bucket `shard_id % max_concurrency`. This module is the pure
//! part of that: the configured choice, the plan it resolves to with Discord's recommended
//! count, the buckets, and whether the budget allows starting now. The Discord adapter
//! (`discord::shards`) does the waiting and connecting.

use std::fmt;
use std::ops::RangeInclusive;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// Discord's window for `max_concurrency`: one IDENTIFY per bucket per this long.
pub const IDENTIFY_WINDOW: Duration = Duration::from_secs(5);

/// The shortest wait for the session start budget to refill, whatever `reset_after` says, so a
/// budget of 0 with a reset of 0 ms cannot turn into a tight loop of `GET /gateway/bot`.
pub const MIN_BUDGET_WAIT: Duration = Duration::from_secs(1);

/// The most shards one bot may have; far above any real bot (Discord's largest use a few
/// thousand), low enough that a typo cannot make a process open millions of connections.
pub const MAX_SHARDS: u32 = 65_536;

/// `shards` in `[discord]`: how many shards the bot has when this process runs them all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ShardCount {
    /// The count Discord recommends in `GET /gateway/bot` (it grows with the bot).
    #[default]
    Auto,
    /// A fixed count, for owners who plan their shards themselves.
    Fixed(u32),
}

impl<'de> Deserialize<'de> for ShardCount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<ShardCount, D::Error> {
        struct Count;
        impl Visitor<'_> for Count {
            type Value = ShardCount;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"auto\" or a number of shards")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ShardCount, E> {
                match s {
                    "auto" => Ok(ShardCount::Auto),
                    _ => Err(E::invalid_value(de::Unexpected::Str(s), &self)),
                }
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<ShardCount, E> {
                u32::try_from(n)
                    .map(ShardCount::Fixed)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<ShardCount, E> {
                u32::try_from(n)
                    .map(ShardCount::Fixed)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))
            }
        }
        deserializer.deserialize_any(Count)
    }
}

/// What the owner asked for, checked: every shard in this process, or part of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sharding {
    /// All shards, as many as `shards` says.
    All(ShardCount),
    /// Shards `first..=last` of `total`; the other processes run the rest.
    Range {
        /// The first shard this process runs.
        first: u32,
        /// The last shard this process runs (inclusive).
        last: u32,
        /// How many shards the bot has across all processes.
        total: u32,
    },
}

/// Why a sharding setting makes no sense; the messages name the config keys, since that is
/// where the owner fixes them (the command-line flags carry the same names).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardingError {
    /// `shards = 0`.
    #[error("`shards` is 0; use \"auto\" or a number from 1 to {MAX_SHARDS}")]
    NoShards,
    /// More shards than [`MAX_SHARDS`].
    #[error("`{key}` is {value}; at most {MAX_SHARDS} shards")]
    TooMany {
        /// The key holding the value.
        key: &'static str,
        /// The value given.
        value: u32,
    },
    /// `shard_range` without `total_shards`.
    #[error("`shard_range` needs `total_shards`: the shard count of all processes together")]
    RangeWithoutTotal,
    /// `total_shards` without `shard_range`.
    #[error("`total_shards` needs `shard_range`: the shards this process runs")]
    TotalWithoutRange,
    /// `shards = N` with `shard_range`: two counts that could disagree.
    #[error("`shards` is for a process running every shard; with `shard_range`, set the count in `total_shards` and leave `shards` out")]
    CountWithRange,
    /// `total_shards = 0`.
    #[error("`total_shards` is 0; a bot has at least 1 shard")]
    NoTotal,
    /// `first > last`.
    #[error("`shard_range` is [{first}, {last}]; the first shard must not be after the last")]
    Reversed {
        /// The first shard given.
        first: u32,
        /// The last shard given.
        last: u32,
    },
    /// `last >= total`.
    #[error("`shard_range` ends at shard {last}, but shards are numbered 0 to {} of `total_shards` = {total}", total.saturating_sub(1))]
    PastTotal {
        /// The last shard given.
        last: u32,
        /// `total_shards`.
        total: u32,
    },
}

impl ShardingError {
    /// The config key to point at in a config file.
    pub fn key(&self) -> &'static str {
        match self {
            ShardingError::NoShards | ShardingError::CountWithRange => "shards",
            ShardingError::TooMany { key, .. } => key,
            ShardingError::RangeWithoutTotal
            | ShardingError::Reversed { .. }
            | ShardingError::PastTotal { .. } => "shard_range",
            ShardingError::TotalWithoutRange | ShardingError::NoTotal => "total_shards",
        }
    }
}

impl Sharding {
    /// Checks the three settings together (`shards`, `shard_range`, `total_shards`).
    pub fn new(
        count: ShardCount,
        range: Option<[u32; 2]>,
        total: Option<u32>,
    ) -> Result<Sharding, ShardingError> {
        if count == ShardCount::Fixed(0) {
            return Err(ShardingError::NoShards);
        }
        if let ShardCount::Fixed(n) = count {
            if n > MAX_SHARDS {
                return Err(ShardingError::TooMany {
                    key: "shards",
                    value: n,
                });
            }
        }
        match (range, total) {
            (None, None) => Ok(Sharding::All(count)),
            (Some(_), None) => Err(ShardingError::RangeWithoutTotal),
            (None, Some(_)) => Err(ShardingError::TotalWithoutRange),
            (Some(_), Some(_)) if count != ShardCount::Auto => Err(ShardingError::CountWithRange),
            (Some(_), Some(0)) => Err(ShardingError::NoTotal),
            (Some(_), Some(total)) if total > MAX_SHARDS => Err(ShardingError::TooMany {
                key: "total_shards",
                value: total,
            }),
            (Some([first, last]), Some(_)) if first > last => {
                Err(ShardingError::Reversed { first, last })
            }
            (Some([_, last]), Some(total)) if last >= total => {
                Err(ShardingError::PastTotal { last, total })
            }
            (Some([first, last]), Some(total)) => Ok(Sharding::Range { first, last, total }),
        }
    }

    /// Whether the plan needs Discord's recommended count (`GET /gateway/bot`).
    pub fn needs_recommendation(&self) -> bool {
        *self == Sharding::All(ShardCount::Auto)
    }

    /// The shards to run, given Discord's `recommended` count (used only for `"auto"`; a
    /// recommendation of 0 is read as 1).
    pub fn plan(&self, recommended: u32) -> Plan {
        match *self {
            Sharding::All(ShardCount::Auto) => {
                let total = recommended.clamp(1, MAX_SHARDS);
                Plan {
                    shards: 0..=total - 1,
                    total,
                }
            }
            Sharding::All(ShardCount::Fixed(total)) => Plan {
                shards: 0..=total.max(1) - 1,
                total: total.max(1),
            },
            Sharding::Range { first, last, total } => Plan {
                shards: first..=last,
                total,
            },
        }
    }
}

/// The shards this process runs: `shards` of `total`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The shard ids, inclusive.
    pub shards: RangeInclusive<u32>,
    /// How many shards the bot has across all processes.
    pub total: u32,
}

/// `session_start_limit` from `GET /gateway/bot`, in plain types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StartLimit {
    /// IDENTIFYs allowed per day.
    pub total: u64,
    /// IDENTIFYs left until the reset.
    pub remaining: u64,
    /// Time until `remaining` goes back to `total`.
    pub reset_after: Duration,
    /// IDENTIFYs allowed at once: one per bucket `shard_id % max_concurrency` per 5 s.
    pub max_concurrency: u64,
}

impl Plan {
    /// How many shards this process runs.
    pub fn len(&self) -> u32 {
        self.shards.end() - self.shards.start() + 1
    }

    /// Always false: a plan has at least one shard (here for clippy's `len` convention).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The shards grouped by IDENTIFY bucket (`shard_id % max_concurrency`), each bucket in
    /// ascending order, buckets ordered by their first shard. Shards of one bucket must start
    /// 5 s apart; different buckets may start together. A `max_concurrency` of 0 is read as 1.
    pub fn buckets(&self, max_concurrency: u64) -> Vec<Vec<u32>> {
        let concurrency = max_concurrency.max(1);
        let mut buckets: Vec<(u64, Vec<u32>)> = Vec::new();
        for shard in self.shards.clone() {
            let key = u64::from(shard) % concurrency;
            match buckets.iter_mut().find(|(k, _)| *k == key) {
                Some((_, shards)) => shards.push(shard),
                None => buckets.push((key, vec![shard])),
            }
        }
        buckets.into_iter().map(|(_, shards)| shards).collect()
    }

    /// How long to wait before starting, or `None` to start now: when the day's budget cannot
    /// cover every shard of this process, until it resets (at least [`MIN_BUDGET_WAIT`]).
    /// Waiting for the whole budget rather than starting some shards keeps the process in one
    /// state (all shards or none yet) and never spends the last IDENTIFY another process may
    /// need.
    pub fn budget_wait(&self, limit: &StartLimit) -> Option<Duration> {
        (limit.remaining < u64::from(self.len())).then(|| limit.reset_after.max(MIN_BUDGET_WAIT))
    }
}

/// The shard Discord sends a guild's events to (DMs go to shard 0).
pub fn shard_of(guild_id: u64, total: u32) -> u32 {
    // The remainder is below `total`, a u32.
    ((guild_id >> 22) % u64::from(total.max(1))) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(remaining: u64, reset_ms: u64, max_concurrency: u64) -> StartLimit {
        StartLimit {
            total: 1000,
            remaining,
            reset_after: Duration::from_millis(reset_ms),
            max_concurrency,
        }
    }

    #[test]
    fn settings_are_checked_together() {
        use ShardCount::{Auto, Fixed};
        assert_eq!(Sharding::new(Auto, None, None), Ok(Sharding::All(Auto)));
        assert_eq!(
            Sharding::new(Fixed(4), None, None),
            Ok(Sharding::All(Fixed(4)))
        );
        assert_eq!(
            Sharding::new(Auto, Some([2, 3]), Some(4)),
            Ok(Sharding::Range {
                first: 2,
                last: 3,
                total: 4
            })
        );
        let cases = [
            (Fixed(0), None, None, ShardingError::NoShards),
            (Auto, Some([0, 1]), None, ShardingError::RangeWithoutTotal),
            (Auto, None, Some(4), ShardingError::TotalWithoutRange),
            (
                Fixed(4),
                Some([0, 1]),
                Some(4),
                ShardingError::CountWithRange,
            ),
            (Auto, Some([0, 0]), Some(0), ShardingError::NoTotal),
            (
                Auto,
                Some([3, 2]),
                Some(4),
                ShardingError::Reversed { first: 3, last: 2 },
            ),
            (
                Auto,
                Some([2, 4]),
                Some(4),
                ShardingError::PastTotal { last: 4, total: 4 },
            ),
        ];
        for (count, range, total, error) in cases {
            assert_eq!(Sharding::new(count, range, total), Err(error.clone()));
            assert!(!error.to_string().is_empty());
        }
        assert!(matches!(
            Sharding::new(Fixed(MAX_SHARDS + 1), None, None),
            Err(ShardingError::TooMany { .. })
        ));
    }

    #[test]
    fn plans_follow_the_recommendation_only_when_auto() {
        let auto = Sharding::All(ShardCount::Auto);
        assert!(auto.needs_recommendation());
        assert_eq!(auto.plan(3).shards, 0..=2);
        assert_eq!(auto.plan(0).total, 1, "a recommendation of 0 is one shard");
        let fixed = Sharding::All(ShardCount::Fixed(2));
        assert!(!fixed.needs_recommendation());
        assert_eq!(
            fixed.plan(9),
            Plan {
                shards: 0..=1,
                total: 2
            }
        );
        let range = Sharding::Range {
            first: 4,
            last: 7,
            total: 10,
        };
        let plan = range.plan(1);
        assert_eq!(
            (plan.shards.clone(), plan.total, plan.len()),
            (4..=7, 10, 4)
        );
    }

    #[test]
    fn buckets_group_by_shard_modulo_concurrency() {
        let plan = Plan {
            shards: 0..=4,
            total: 5,
        };
        assert_eq!(plan.buckets(1), vec![vec![0, 1, 2, 3, 4]]);
        assert_eq!(plan.buckets(0), vec![vec![0, 1, 2, 3, 4]]);
        assert_eq!(plan.buckets(2), vec![vec![0, 2, 4], vec![1, 3]]);
        assert_eq!(plan.buckets(16).len(), 5, "one shard per bucket");
        let part = Plan {
            shards: 3..=6,
            total: 8,
        };
        assert_eq!(part.buckets(2), vec![vec![3, 5], vec![4, 6]]);
    }

    #[test]
    fn the_budget_must_cover_every_shard() {
        let plan = Plan {
            shards: 0..=2,
            total: 3,
        };
        assert_eq!(plan.budget_wait(&limit(3, 60_000, 1)), None);
        assert_eq!(
            plan.budget_wait(&limit(2, 60_000, 1)),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            plan.budget_wait(&limit(0, 0, 1)),
            Some(MIN_BUDGET_WAIT),
            "never a tight loop"
        );
    }

    #[test]
    fn guilds_map_to_shards_as_discord_routes_them() {
        assert_eq!(shard_of(0, 3), 0);
        assert_eq!(shard_of(5 << 22, 3), 2);
        assert_eq!(shard_of((5 << 22) | 12345, 3), 2, "low bits do not count");
        assert_eq!(shard_of(81_384_788_765_712_384, 1), 0);
    }

    #[test]
    fn counts_read_auto_or_a_number() {
        #[derive(Deserialize)]
        struct T {
            shards: ShardCount,
        }
        let read = |s: &str| toml::from_str::<T>(s).map(|t| t.shards);
        assert_eq!(read("shards = \"auto\"").ok(), Some(ShardCount::Auto));
        assert_eq!(read("shards = 12").ok(), Some(ShardCount::Fixed(12)));
        for bad in ["shards = \"many\"", "shards = -1", "shards = 1.5"] {
            let e = read(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("\"auto\" or a number of shards"), "{bad}: {e}");
        }
    }
}
