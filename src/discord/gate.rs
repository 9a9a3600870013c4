//! Who may get a reply now: a token bucket per user and one per channel (the `governor`
//! crate's GCRA), and the memory of recent answers per channel.
//!
//! A user may ask `user_burst` questions back to back (mentioning qabot, then trying two
//! slash commands, is how people first explore it), then one more every
//! `user_cooldown_secs`; a channel takes `channel_burst` public replies at once, then
//! `channel_replies_per_minute`. Synchronous, with the clock a type parameter, so the rules
//! are unit tested on a clock the test moves. The handler holds one [`Gate`] behind a mutex:
//! an admission and the repeat check that follows it happen under one lock.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

use crate::config::Discord;

/// Above this many remembered users, channels or answers, expired ones are dropped, so memory
/// stays bounded on a busy server.
const PRUNE_ABOVE: usize = 10_000;

/// The outcome of [`Gate::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Reply.
    Admitted,
    /// The user has used their burst and must wait for the bucket to refill.
    UserLimited,
    /// The channel has had its share of public replies for now.
    ChannelBusy,
}

/// One bucket per key (user or channel id).
type Buckets<C> =
    RateLimiter<u64, DefaultKeyedStateStore<u64>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// Flood control and recent answers.
pub struct Gate<C: Clock = DefaultClock> {
    /// `None`: no per-user limit (`user_cooldown_secs = 0`).
    users: Option<Buckets<C>>,
    /// `None`: no per-channel limit (`channel_replies_per_minute = 0`).
    channels: Option<Buckets<C>>,
    repeat_window: Duration,
    answers: HashMap<(u64, String), (u64, Instant)>,
}

impl<C: Clock> std::fmt::Debug for Gate<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("users", &self.users.as_ref().map(Buckets::len))
            .field("channels", &self.channels.as_ref().map(Buckets::len))
            .field("answers", &self.answers.len())
            .finish()
    }
}

impl Gate {
    /// A gate with the config's `user_burst` and `user_cooldown_secs` (0: no per-user limit),
    /// `channel_burst` and `channel_replies_per_minute` (0: no per-channel limit) and
    /// `repeat_window_secs`, on the real clock.
    pub fn new(config: &Discord) -> Gate {
        Gate::with_clock(config, &DefaultClock::default())
    }
}

impl<C: Clock + Clone> Gate<C> {
    /// [`Gate::new`] on `clock` (tests move a `FakeRelativeClock`).
    pub fn with_clock(config: &Discord, clock: &C) -> Gate<C> {
        let user = (config.user_cooldown_secs > 0)
            .then(|| Quota::with_period(Duration::from_secs(config.user_cooldown_secs)))
            .flatten()
            .map(|q| q.allow_burst(at_least_one(config.user_burst)));
        let channel = NonZeroU32::new(config.channel_replies_per_minute)
            .map(|n| Quota::per_minute(n).allow_burst(at_least_one(config.channel_burst)));
        let buckets = |quota: Quota| {
            RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone())
        };
        Gate {
            users: user.map(buckets),
            channels: channel.map(buckets),
            repeat_window: Duration::from_secs(config.repeat_window_secs),
            answers: HashMap::new(),
        }
    }
}

/// A burst of `n`, and 1 for 0 (the config check refuses 0; a gate never refuses everything).
fn at_least_one(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// Takes a token from `key`'s bucket, if there is a limit and a token.
fn take<C: Clock>(buckets: Option<&Buckets<C>>, key: u64) -> bool {
    let Some(buckets) = buckets else {
        return true;
    };
    let taken = buckets.check_key(&key).is_ok();
    if buckets.len() > PRUNE_ABOVE {
        buckets.retain_recent();
        buckets.shrink_to_fit();
    }
    taken
}

impl<C: Clock> Gate<C> {
    /// Whether `user` may ask now; when so, the question is counted against their bucket.
    pub fn admit_user(&self, user: u64) -> bool {
        take(self.users.as_ref(), user)
    }

    /// Whether a public reply may be posted in `channel` now; when so, it is counted.
    /// Ephemeral replies are not asked for: only the asker sees them, so they cost a channel
    /// nothing.
    pub fn admit_channel(&self, channel: u64) -> bool {
        take(self.channels.as_ref(), channel)
    }

    /// Whether `user` may get a public reply in `channel` now: the user's bucket first, so
    /// one member's flood never spends the channel's tokens.
    pub fn admit(&self, user: u64, channel: u64) -> Admission {
        if !self.admit_user(user) {
            Admission::UserLimited
        } else if !self.admit_channel(channel) {
            Admission::ChannelBusy
        } else {
            Admission::Admitted
        }
    }

    /// The message that gave the answer `key` in `channel` within the repeat window, if any.
    pub fn earlier_answer(&self, channel: u64, key: &str, now: Instant) -> Option<u64> {
        let &(message, at) = self.answers.get(&(channel, key.to_string()))?;
        (now.saturating_duration_since(at) < self.repeat_window).then_some(message)
    }

    /// Remembers that `message` gave the answer `key` in `channel` at `now`.
    pub fn remember_answer(&mut self, channel: u64, key: String, message: u64, now: Instant) {
        self.answers.insert((channel, key), (message, now));
        if self.answers.len() > PRUNE_ABOVE {
            let window = self.repeat_window;
            self.answers
                .retain(|_, &mut (_, t)| now.saturating_duration_since(t) < window);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;

    fn gate(
        (burst, cooldown): (u32, u64),
        (channel_burst, per_minute): (u32, u32),
    ) -> (Gate<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let config = Discord {
            user_burst: burst,
            user_cooldown_secs: cooldown,
            channel_burst,
            channel_replies_per_minute: per_minute,
            repeat_window_secs: 300,
            ..Discord::default()
        };
        (Gate::with_clock(&config, &clock), clock)
    }

    /// Steps of one scenario: advance the clock by `after` ms, then ask as `user` in
    /// `channel`, expecting `want`.
    type Step = (u64, u64, u64, Admission);
    /// A scenario: its name, `(user_burst, user_cooldown_secs)`, `(channel_burst,
    /// channel_replies_per_minute)` and its steps.
    type Case = (&'static str, (u32, u64), (u32, u32), &'static [Step]);

    #[test]
    fn buckets_admit_a_burst_then_a_steady_rate() {
        use Admission::{Admitted as A, ChannelBusy as C, UserLimited as U};
        let cases: [Case; 6] = [
            (
                "a burst of 3, then one every 5 s",
                (3, 5),
                (1, 0),
                &[
                    (0, 1, 10, A),
                    (0, 1, 11, A),
                    (0, 1, 12, A),
                    (0, 1, 10, U),
                    (4_999, 1, 10, U),
                    (1, 1, 10, A),
                    (0, 1, 10, U),
                    (0, 2, 10, A),
                ],
            ),
            (
                "refused questions spend nothing",
                (1, 5),
                (1, 0),
                &[(0, 1, 10, A), (4_000, 1, 10, U), (1_000, 1, 10, A)],
            ),
            (
                "a long pause refills the burst, no more",
                (2, 5),
                (1, 0),
                &[
                    (0, 1, 10, A),
                    (0, 1, 10, A),
                    (60_000, 1, 10, A),
                    (0, 1, 10, A),
                    (0, 1, 10, U),
                ],
            ),
            (
                "a channel takes its burst, then 20 a minute (one every 3 s)",
                (1, 0),
                (2, 20),
                &[
                    (0, 1, 10, A),
                    (0, 2, 10, A),
                    (0, 3, 10, C),
                    (0, 3, 11, A),
                    (3_000, 3, 10, A),
                    (0, 4, 10, C),
                ],
            ),
            (
                "the user's bucket is checked first: a flooder spends no channel token",
                (1, 60),
                (1, 1),
                &[
                    (0, 1, 10, A),
                    (0, 1, 10, U),
                    (0, 1, 10, U),
                    (60_000, 2, 10, A),
                ],
            ),
            (
                "0 turns each limit off",
                (1, 0),
                (1, 0),
                &[(0, 1, 10, A), (0, 1, 10, A), (0, 1, 10, A), (0, 2, 10, A)],
            ),
        ];
        for (name, user, channel, steps) in cases {
            let (g, clock) = gate(user, channel);
            for (i, &(after, who, at, want)) in steps.iter().enumerate() {
                clock.advance(Duration::from_millis(after));
                assert_eq!(g.admit(who, at), want, "{name}: step {i}");
            }
        }
    }

    #[test]
    fn ephemeral_replies_only_spend_the_user_bucket() {
        let (g, _) = gate((3, 5), (1, 60));
        assert!(g.admit_user(1), "a private answer: the user pays");
        assert!(g.admit_user(1));
        assert_eq!(
            g.admit(1, 10),
            Admission::Admitted,
            "the channel still had its token"
        );
        assert_eq!(g.admit(2, 10), Admission::ChannelBusy);
    }

    #[test]
    fn a_flood_gets_at_most_the_burst_plus_the_rate() {
        let (g, clock) = gate((3, 5), (10, 20));
        let mut admitted = 0;
        // 21 messages over 5 s, one every 250 ms, the last at 5 s.
        for i in 0..21 {
            if i > 0 {
                clock.advance(Duration::from_millis(250));
            }
            admitted += usize::from(g.admit(1, 10) == Admission::Admitted);
        }
        assert_eq!(admitted, 3 + 1, "the burst, then the one refilled at 5 s");
    }

    #[test]
    fn earlier_answers_expire_with_the_window() {
        let t0 = Instant::now();
        let (mut g, _) = gate((1, 0), (1, 0));
        assert_eq!(g.earlier_answer(10, "a", t0), None);
        g.remember_answer(10, "a".into(), 99, t0);
        assert_eq!(
            g.earlier_answer(10, "a", t0 + Duration::from_secs(299)),
            Some(99)
        );
        assert_eq!(g.earlier_answer(11, "a", t0), None, "per channel");
        assert_eq!(g.earlier_answer(10, "b", t0), None, "per answer");
        assert_eq!(
            g.earlier_answer(10, "a", t0 + Duration::from_secs(300)),
            None
        );
    }

    #[test]
    fn memory_stays_bounded() {
        let t0 = Instant::now();
        let (mut g, clock) = gate((1, 1), (1, 60));
        for id in 0..(PRUNE_ABOVE as u64 + 10) {
            g.admit(id, id);
            g.remember_answer(id, "a".into(), id, t0);
        }
        clock.advance(Duration::from_secs(2));
        g.admit(u64::MAX, u64::MAX);
        g.remember_answer(0, "b".into(), 1, t0 + Duration::from_secs(301));
        let len = |b: &Option<Buckets<FakeRelativeClock>>| b.as_ref().map_or(0, Buckets::len);
        assert!(len(&g.users) < 10, "{g:?}");
        assert!(g.answers.len() < 10, "{g:?}");
        assert!(len(&g.channels) < 10, "{g:?}");
    }
}
