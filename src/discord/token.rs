//! The bot token: where it comes from, a first check of its shape, and a type that never
//! prints it.
//!
//! A token in a log line or an error message is a leaked bot, so [`Token`] has no way to
//! show its text outside this crate: `Debug` and `Display` print `Token(***)`. A token that
//! is plainly not one (whitespace, quotes, a pasted `Bot ` prefix with more after it) is
//! refused before any network call, with a message that names the problem and never the
//! token.

use std::fmt;
use std::path::Path;

/// The environment variable holding the token; it wins over `token_file`.
pub const TOKEN_ENV: &str = "DISCORD_TOKEN";

/// Where to get a token, appended to every token error so a newcomer knows what to do.
const HOW_TO_GET_ONE: &str = "get one at https://discord.com/developers/applications \
    (your application > Bot > Reset Token) and put it in the DISCORD_TOKEN environment \
    variable, or in a file named by `token_file` in the config";

/// Shortest and longest text accepted as a token. Real bot tokens are about 70 characters.
const MIN_LEN: usize = 20;
const MAX_LEN: usize = 256;

/// Files larger than this cannot hold a token.
const MAX_FILE_BYTES: u64 = 4096;

/// A bot token whose text cannot be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

/// Why no usable token was found. The messages never contain the token.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Neither `DISCORD_TOKEN` nor `token_file` gave one.
    #[error("no Discord bot token: {TOKEN_ENV} is not set and the config names no `token_file`; {HOW_TO_GET_ONE}")]
    Missing,
    /// The token text cannot be a bot token.
    #[error("the Discord bot token from {origin} is malformed ({problem}); {HOW_TO_GET_ONE}")]
    Malformed {
        /// `DISCORD_TOKEN` or the file's path.
        origin: String,
        /// What is wrong, without the token.
        problem: &'static str,
    },
    /// `token_file` could not be read.
    #[error("cannot read the token file {path}: {reason}; {HOW_TO_GET_ONE}")]
    Unreadable {
        /// The file.
        path: String,
        /// The I/O error.
        reason: String,
    },
}

impl Token {
    /// Checks the shape of `text` (surrounding whitespace and a leading `Bot ` are removed):
    /// base64url segments separated by dots, 20 to 256 characters. `origin` names where it
    /// came from, for the error.
    pub fn parse(text: &str, origin: &str) -> Result<Token, TokenError> {
        let text = text.trim();
        let text = text.strip_prefix("Bot ").unwrap_or(text).trim();
        let malformed = |problem| TokenError::Malformed {
            origin: origin.to_string(),
            problem,
        };
        if text.is_empty() {
            return Err(malformed("it is empty"));
        }
        if text.chars().any(char::is_whitespace) {
            return Err(malformed("it contains spaces or line breaks"));
        }
        let base64url = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
        if !text.chars().all(|c| base64url(c) || c == '.') {
            return Err(malformed(
                "it contains characters a token never has (quotes, symbols or non-ASCII)",
            ));
        }
        if !(MIN_LEN..=MAX_LEN).contains(&text.len()) {
            return Err(malformed("its length is not that of a bot token"));
        }
        if !text.contains('.') || text.split('.').any(str::is_empty) {
            return Err(malformed(
                "a bot token is dot-separated parts; this may be the application id, \
                 public key or client secret instead",
            ));
        }
        Ok(Token(text.to_string()))
    }

    /// The token from `DISCORD_TOKEN` (`env` is its value, if set) or else from `token_file`.
    /// An empty variable counts as unset, so `DISCORD_TOKEN=` does not hide a token file.
    pub fn find(env: Option<&str>, token_file: Option<&Path>) -> Result<Token, TokenError> {
        if let Some(value) = env.filter(|v| !v.trim().is_empty()) {
            return Token::parse(value, TOKEN_ENV);
        }
        let Some(path) = token_file else {
            return Err(TokenError::Missing);
        };
        let unreadable = |reason: String| TokenError::Unreadable {
            path: path.display().to_string(),
            reason,
        };
        let meta = std::fs::metadata(path).map_err(|e| unreadable(e.to_string()))?;
        if let Some(mode) = open_to_others(&meta) {
            tracing::warn!(
                "the token file {} can be read by other users (mode {mode:o}); anyone who can \
                 read it controls the bot: run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
        let size = meta.len();
        if size > MAX_FILE_BYTES {
            return Err(unreadable(format!(
                "it is {size} bytes, too big for a token"
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| unreadable(e.to_string()))?;
        Token::parse(&text, &path.display().to_string())
    }

    /// The token text, for the HTTP client only.
    pub(crate) fn secret(&self) -> &str {
        &self.0
    }
}

/// The file's permission bits when its group or other users may read, write or run it.
#[cfg(unix)]
fn open_to_others(meta: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

/// Other systems have no such permission bits.
#[cfg(not(unix))]
fn open_to_others(_: &std::fs::Metadata) -> Option<u32> {
    None
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REAL_SHAPE: &str =
        "MTA5ODc2NTQzMjEwOTg3NjU0.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789AB";

    #[test]
    fn accepts_token_shapes_and_trims() {
        let t = Token::parse(&format!("  Bot {REAL_SHAPE}\n"), "x").unwrap();
        assert_eq!(t.secret(), REAL_SHAPE);
        assert!(Token::parse("fake-qabot-token.test", "x").is_ok());
    }

    #[test]
    fn never_prints_the_token() {
        let t = Token::parse(REAL_SHAPE, "x").unwrap();
        assert_eq!(format!("{t}"), "Token(***)");
        assert_eq!(format!("{t:?}"), "Token(***)");
        let secret = "sEcReT-tok3n-value with a space";
        let err = Token::parse(secret, TOKEN_ENV).unwrap_err().to_string();
        assert!(!err.contains("sEcReT"), "{err}");
        assert!(err.contains("DISCORD_TOKEN"), "{err}");
        assert!(err.contains("developers/applications"), "{err}");
    }

    #[test]
    fn refuses_what_is_not_a_token() {
        for bad in [
            "",
            "short.x",
            "123456789012345678901234",
            "\"quoted.token-value-here\"",
            "two.parts..empty-middle",
        ] {
            assert!(
                matches!(Token::parse(bad, "x"), Err(TokenError::Malformed { .. })),
                "{bad:?}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_token_file_open_to_others_is_noticed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "x").unwrap();
        let set = |mode| std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode));
        set(0o600).unwrap();
        assert_eq!(open_to_others(&std::fs::metadata(&file).unwrap()), None);
        set(0o640).unwrap();
        assert_eq!(
            open_to_others(&std::fs::metadata(&file).unwrap()),
            Some(0o640)
        );
    }

    #[test]
    fn env_wins_over_file_and_empty_env_is_unset() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("token");
        std::fs::write(&file, "file-token-value-long.enough\n").unwrap();
        let from_env = Token::find(Some(REAL_SHAPE), Some(&file)).unwrap();
        assert_eq!(from_env.secret(), REAL_SHAPE);
        let from_file = Token::find(Some(" "), Some(&file)).unwrap();
        assert_eq!(from_file.secret(), "file-token-value-long.enough");
        assert_eq!(Token::find(None, None), Err(TokenError::Missing));
        let missing = Token::find(None, Some(&dir.path().join("nope")));
        assert!(matches!(missing, Err(TokenError::Unreadable { .. })));
    }
}
