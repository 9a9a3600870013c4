//! Who may get a reply now: a per-user cooldown, a per-channel rate, and the memory of recent
//! answers per channel.
//!
//! Pure and synchronous, with the clock passed in, so the rules are unit tested without
//! waiting. The handler holds one [`Gate`] behind a mutex: a check and its record happen
//! under one lock, so a burst of concurrent messages admits exactly one.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::config::Discord;

/// The channel rate is counted over this window.
const RATE_WINDOW: Duration = Duration::from_secs(60);

/// Above this many remembered users or answers, expired ones are dropped, so memory stays
/// bounded on a busy server.
const PRUNE_ABOVE: usize = 10_000;

/// The outcome of [`Gate::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Reply.
    Admitted,
    /// The user asked too recently.
    UserCooldown,
    /// The channel had its share of replies this minute.
    ChannelBusy,
}

/// Cooldowns, channel rates and recent answers.
#[derive(Debug)]
pub struct Gate {
    cooldown: Duration,
    per_minute: u32,
    repeat_window: Duration,
    users: HashMap<u64, Instant>,
    channels: HashMap<u64, VecDeque<Instant>>,
    answers: HashMap<(u64, String), (u64, Instant)>,
}

impl Gate {
    /// A gate with the config's `user_cooldown_secs`, `channel_replies_per_minute` (0: no
    /// limit) and `repeat_window_secs`.
    pub fn new(config: &Discord) -> Gate {
        Gate {
            cooldown: Duration::from_secs(config.user_cooldown_secs),
            per_minute: config.channel_replies_per_minute,
            repeat_window: Duration::from_secs(config.repeat_window_secs),
            users: HashMap::new(),
            channels: HashMap::new(),
            answers: HashMap::new(),
        }
    }

    /// Whether `user` may get a reply in `channel` at `now`; when admitted, the reply is
    /// counted against both limits.
    pub fn admit(&mut self, user: u64, channel: u64, now: Instant) -> Admission {
        if let Some(&last) = self.users.get(&user) {
            if now.saturating_duration_since(last) < self.cooldown {
                return Admission::UserCooldown;
            }
        }
        let recent = self.channels.entry(channel).or_default();
        while recent
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= RATE_WINDOW)
        {
            recent.pop_front();
        }
        if self.per_minute > 0 && recent.len() >= self.per_minute as usize {
            return Admission::ChannelBusy;
        }
        recent.push_back(now);
        self.users.insert(user, now);
        if self.users.len() > PRUNE_ABOVE {
            let cooldown = self.cooldown;
            self.users
                .retain(|_, &mut t| now.saturating_duration_since(t) < cooldown);
            self.channels.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|&t| now.saturating_duration_since(t) < RATE_WINDOW)
            });
        }
        Admission::Admitted
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

    fn gate(cooldown: u64, per_minute: u32, repeat: u64) -> Gate {
        Gate::new(&Discord {
            user_cooldown_secs: cooldown,
            channel_replies_per_minute: per_minute,
            repeat_window_secs: repeat,
            ..Discord::default()
        })
    }

    #[test]
    fn cooldown_admits_one_then_again_after_it() {
        let t0 = Instant::now();
        let mut g = gate(5, 0, 300);
        assert_eq!(g.admit(1, 10, t0), Admission::Admitted);
        for ms in [0, 1, 4_999] {
            let at = t0 + Duration::from_millis(ms);
            assert_eq!(g.admit(1, 10, at), Admission::UserCooldown, "{ms} ms");
        }
        assert_eq!(
            g.admit(2, 10, t0),
            Admission::Admitted,
            "other users wait not"
        );
        assert_eq!(
            g.admit(1, 11, t0 + Duration::from_secs(5)),
            Admission::Admitted
        );
    }

    #[test]
    fn refused_attempts_do_not_extend_the_cooldown() {
        let t0 = Instant::now();
        let mut g = gate(5, 0, 300);
        g.admit(1, 10, t0);
        g.admit(1, 10, t0 + Duration::from_secs(4));
        assert_eq!(
            g.admit(1, 10, t0 + Duration::from_secs(5)),
            Admission::Admitted
        );
    }

    #[test]
    fn channel_rate_is_per_minute_and_per_channel() {
        let t0 = Instant::now();
        let mut g = gate(0, 2, 300);
        assert_eq!(g.admit(1, 10, t0), Admission::Admitted);
        assert_eq!(g.admit(2, 10, t0), Admission::Admitted);
        assert_eq!(g.admit(3, 10, t0), Admission::ChannelBusy);
        assert_eq!(g.admit(3, 11, t0), Admission::Admitted);
        let later = t0 + Duration::from_secs(60);
        assert_eq!(g.admit(3, 10, later), Admission::Admitted);
    }

    #[test]
    fn zero_means_no_limit() {
        let t0 = Instant::now();
        let mut g = gate(0, 0, 300);
        for user in 0..100 {
            assert_eq!(g.admit(user % 3, 10, t0), Admission::Admitted);
        }
    }

    #[test]
    fn earlier_answers_expire_with_the_window() {
        let t0 = Instant::now();
        let mut g = gate(0, 0, 300);
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
        let mut g = gate(1, 0, 1);
        for user in 0..(PRUNE_ABOVE as u64 + 10) {
            g.admit(user, user, t0);
            g.remember_answer(user, "a".into(), user, t0);
        }
        let later = t0 + Duration::from_secs(2);
        g.admit(u64::MAX, 0, later);
        g.remember_answer(0, "b".into(), 1, later);
        assert!(g.users.len() < 10 && g.answers.len() < 10);
    }
}
