//! The optional `allowed_guilds` list: the bot leaves any guild not on it, whether it was
//! there at startup (READY) or is added later (GUILD_CREATE), so a leaked invite link does not
//! put a private bot to work elsewhere.

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};

use serenity::all::{GatewayIntents, GuildId, Http};
use tracing::{error, warn};

/// The intents an allow-list needs: GUILD_CREATE comes only with `GUILDS`.
pub(crate) fn intents(allowed: &[u64]) -> GatewayIntents {
    if allowed.is_empty() {
        GatewayIntents::empty()
    } else {
        GatewayIntents::GUILDS
    }
}

/// The allow-list and the guilds already left.
pub(crate) struct AllowedGuilds {
    allowed: HashSet<u64>,
    /// READY and GUILD_CREATE both name a guild: leave it once.
    left: Mutex<HashSet<u64>>,
}

impl AllowedGuilds {
    /// Any guild is allowed when `allowed` is empty.
    pub(crate) fn new(allowed: &[u64]) -> AllowedGuilds {
        AllowedGuilds {
            allowed: allowed.iter().copied().collect(),
            left: Mutex::new(HashSet::new()),
        }
    }

    fn must_leave(&self, guild: u64) -> bool {
        !self.allowed.is_empty()
            && !self.allowed.contains(&guild)
            && self
                .left
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(guild)
    }

    /// Leaves `guild` unless it is allowed (or already left).
    pub(crate) async fn check(&self, http: &Http, guild: u64) {
        if !self.must_leave(guild) {
            return;
        }
        warn!(guild, "leaving a guild that is not in `allowed_guilds`");
        if let Err(e) = GuildId::new(guild).leave(http).await {
            error!(
                guild,
                "could not leave a guild that is not in `allowed_guilds`: {e}"
            );
            self.left
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&guild);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listed_guilds_stay_and_each_other_is_left_once() {
        let open = AllowedGuilds::new(&[]);
        assert!(!open.must_leave(1));
        assert!(intents(&[]).is_empty());
        let list = AllowedGuilds::new(&[1]);
        assert!(!list.must_leave(1));
        assert!(list.must_leave(2));
        assert!(!list.must_leave(2), "already left");
        assert_eq!(intents(&[1]), GatewayIntents::GUILDS);
    }
}
