//! The link a server owner opens to add qabot: scopes and the fewest permissions it needs.
//!
//! qabot only reads the channels it is in, replies (also in threads) with embeds, and deletes
//! its own messages (which needs no permission), so Manage Messages is not asked for.

use serenity::all::{Http, Permissions};

/// View Channel, Send Messages, Send Messages in Threads, Embed Links and Read Message
/// History (needed to reply to a message).
pub const PERMISSIONS: Permissions = Permissions::VIEW_CHANNEL
    .union(Permissions::SEND_MESSAGES)
    .union(Permissions::SEND_MESSAGES_IN_THREADS)
    .union(Permissions::EMBED_LINKS)
    .union(Permissions::READ_MESSAGE_HISTORY);

/// The OAuth2 URL that adds the application `application_id` to a server, with the `bot` and
/// `applications.commands` scopes.
pub fn invite_url(application_id: u64) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={application_id}&scope=bot%20applications.commands&permissions={}",
        PERMISSIONS.bits()
    )
}

/// The application id, asked from Discord (`GET /oauth2/applications/@me`) when the config
/// does not have it.
pub async fn application_id(http: &Http) -> Result<u64, serenity::Error> {
    Ok(http.get_current_application_info().await?.id.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_has_both_scopes_and_only_the_needed_permissions() {
        let url = invite_url(123);
        assert!(url.starts_with("https://discord.com/oauth2/authorize?client_id=123&"));
        assert!(url.contains("scope=bot%20applications.commands"));
        assert!(url.ends_with("&permissions=274877991936"), "{url}");
        assert!(!PERMISSIONS.contains(Permissions::MANAGE_MESSAGES));
        assert!(!PERMISSIONS.contains(Permissions::ADMINISTRATOR));
    }
}
