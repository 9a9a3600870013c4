//! `config/qabot.toml`: how confident qabot must be, and how it behaves on Discord.
//!
//! Every key is optional and has a sensible default, so an empty file (or none) gives a
//! working bot. Unknown keys are errors with their line and column: a misspelt key silently
//! ignored is a setting the owner believes in but does not have.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::problem::{Problem, Problems};
use crate::sharding::{ShardCount, Sharding, ShardingError};

/// Config files larger than this are refused.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// The whole configuration.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Thresholds of the matcher.
    pub matching: Matching,
    /// The Discord adapter.
    pub discord: Discord,
    /// The log of questions qabot could not answer.
    pub misses: Misses,
}

/// Where and how the misses log is kept (see `qabot misses`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Misses {
    /// The JSONL file; `""` turns logging off.
    pub path: PathBuf,
    /// Rotate when the file would grow past this many bytes.
    pub max_bytes: u64,
    /// How many rotated files to keep.
    pub keep: usize,
    /// Record who asked (off: questions only).
    pub record_user_ids: bool,
    /// The JSONL file where "Add as alternate question…" writes moderators' picks for review;
    /// never the live knowledge, so nothing changes until the owner edits it. `""`: off.
    pub pending_path: PathBuf,
}

impl Default for Misses {
    fn default() -> Misses {
        Misses {
            path: PathBuf::from("data/misses.jsonl"),
            max_bytes: 5 * 1024 * 1024,
            keep: 3,
            record_user_ids: false,
            pending_path: PathBuf::from("data/pending-alternates.jsonl"),
        }
    }
}

impl Misses {
    /// The log, unless turned off.
    pub fn log(&self) -> Option<crate::misses::MissLog> {
        (!self.path.as_os_str().is_empty())
            .then(|| crate::misses::MissLog::new(&self.path, self.max_bytes, self.keep))
    }
}

/// When a match is an answer, a suggestion, or nothing.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Matching {
    /// Confidence from which qabot answers (if the margin also holds).
    pub answer_threshold: f32,
    /// Confidence from which qabot offers "did you mean" choices.
    pub suggest_threshold: f32,
    /// How far the best candidate must lead the runner-up to be answered outright.
    pub margin: f32,
    /// How many "did you mean" choices at most.
    pub max_suggestions: usize,
    /// Match by meaning too, with the sentence model in `model` (false: words only).
    pub semantic: bool,
    /// A sentence-transformers folder (BERT family): `model.safetensors`, `config.json`,
    /// `tokenizer.json`.
    pub model: PathBuf,
    /// Where phrasing vectors are kept between runs, one file per knowledge folder, so a
    /// restart embeds only what changed. `""`: no cache.
    pub cache_dir: PathBuf,
}

impl Default for Matching {
    fn default() -> Matching {
        Matching {
            answer_threshold: 0.55,
            suggest_threshold: 0.3,
            margin: 0.08,
            max_suggestions: 3,
            semantic: true,
            model: PathBuf::from("models/all-MiniLM-L6-v2"),
            cache_dir: PathBuf::from("data/embeddings"),
        }
    }
}

/// How qabot behaves on Discord.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Discord {
    /// A file holding the bot token, for secret mounts; `DISCORD_TOKEN` wins over it.
    pub token_file: Option<PathBuf>,
    /// Base URL replacing `https://discord.com` for REST calls (a rate-limit proxy).
    /// `QABOT_API_PROXY` wins over it.
    pub api_proxy: Option<String>,
    /// The application id, for `qabot invite` without asking Discord.
    pub application_id: Option<u64>,
    /// Messages starting with this are questions (besides mentions and DMs). Empty: off.
    pub prefix: String,
    /// Channels where qabot answers unprompted, when it is sure.
    pub auto_answer_channels: Vec<u64>,
    /// Confidence needed to answer unprompted in an auto-answer channel.
    pub auto_answer_threshold: f32,
    /// Margin over the runner-up needed to answer unprompted.
    pub auto_answer_margin: f32,
    /// Guilds to register slash commands in (instant); empty: register globally.
    pub guilds: Vec<u64>,
    /// Questions one user may ask back to back before the steady rate applies: trying a
    /// mention and two slash commands in a row is how members first explore the bot.
    pub user_burst: u32,
    /// After the burst, one more question per user every this many seconds (0: no per-user
    /// limit). The name is from when this was a plain cooldown; the meaning carried over.
    pub user_cooldown_secs: u64,
    /// Public replies one channel may get at once before its steady rate applies.
    pub channel_burst: u32,
    /// A channel's steady rate of public replies per minute (0: no per-channel limit).
    /// Ephemeral replies do not count: only the asker sees them.
    pub channel_replies_per_minute: u32,
    /// Within this many seconds, the same answer in the same channel links to the earlier one.
    pub repeat_window_secs: u64,
    /// User ids allowed to run admin commands (`/reload`) besides Manage Server members.
    pub admins: Vec<u64>,
    /// Reload the knowledge and config by itself when their files change (polled every
    /// second, applied once they have stayed unchanged for one more second, so a save in
    /// several writes is read whole). `/reload` and SIGHUP work either way.
    pub watch: bool,
    /// Seconds a reload may take to read and check the files (and embed new phrasings)
    /// before it is given up; the previous knowledge answers throughout either way.
    pub reload_timeout_secs: f64,
    /// Guilds the bot may be in; it leaves any other (at READY and when added). Empty: any
    /// guild. For a private bot whose invite link could leak.
    pub allowed_guilds: Vec<u64>,
    /// 👍/👎 buttons under answers, so askers can tell the owner which answers miss.
    pub feedback_buttons: bool,
    /// Where to serve Prometheus metrics (`GET /metrics`): an IP address and port such as
    /// `127.0.0.1:9100`; off when unset, since it is an open port.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// How many gateway shards the bot has when this process runs them all: `"auto"` takes
    /// Discord's recommendation, which grows with the bot (Discord refuses one connection
    /// past 2,500 servers).
    pub shards: ShardCount,
    /// `[first, last]` (inclusive): the shards this process runs, when several processes or
    /// machines share the bot's shards. Needs `total_shards`.
    pub shard_range: Option<[u32; 2]>,
    /// How many shards all processes run together, with `shard_range`: every process must
    /// agree, since it decides which shard Discord sends each guild to.
    pub total_shards: Option<u32>,
}

impl Default for Discord {
    fn default() -> Discord {
        Discord {
            token_file: None,
            api_proxy: None,
            application_id: None,
            prefix: "?ask ".to_string(),
            auto_answer_channels: Vec::new(),
            auto_answer_threshold: 0.75,
            auto_answer_margin: 0.15,
            guilds: Vec::new(),
            user_burst: 3,
            user_cooldown_secs: 5,
            channel_burst: 10,
            channel_replies_per_minute: 20,
            repeat_window_secs: 300,
            admins: Vec::new(),
            watch: false,
            reload_timeout_secs: 120.0,
            allowed_guilds: Vec::new(),
            feedback_buttons: true,
            metrics_addr: None,
            shards: ShardCount::Auto,
            shard_range: None,
            total_shards: None,
        }
    }
}

impl Discord {
    /// The checked sharding settings (`shards`, `shard_range`, `total_shards`).
    pub fn sharding(&self) -> Result<Sharding, ShardingError> {
        Sharding::new(self.shards, self.shard_range, self.total_shards)
    }
}

impl Config {
    /// Reads `path`. A missing file is the default configuration when `required` is false
    /// (the default path), and a problem when the owner named the file explicitly.
    pub fn load(path: &Path, required: bool) -> Result<Config, Problems> {
        if !required && !path.exists() {
            return Ok(Config::default());
        }
        let text =
            crate::problem::read_text(path, MAX_CONFIG_BYTES).map_err(|p| Problems(vec![p]))?;
        Config::parse(path, &text)
    }

    /// Parses and checks config text; `path` is only for messages.
    pub fn parse(path: &Path, text: &str) -> Result<Config, Problems> {
        let config: Config = toml::from_str(text).map_err(|e| {
            Problems(vec![Problem::spanned(
                path,
                text,
                e.span(),
                e.message().trim().replace('\n', " "),
            )])
        })?;
        let problems = config.check(path, text);
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(Problems(problems))
        }
    }

    /// Values that parse but make no sense.
    fn check(&self, path: &Path, text: &str) -> Vec<Problem> {
        let mut problems = Vec::new();
        let mut at_key = |key: &str, message: String| {
            let at = text.find(key).unwrap_or(0);
            problems.push(Problem::at(path, text, at, message));
        };
        let m = &self.matching;
        for (key, value) in [
            ("answer_threshold", m.answer_threshold),
            ("suggest_threshold", m.suggest_threshold),
            ("margin", m.margin),
            ("auto_answer_threshold", self.discord.auto_answer_threshold),
            ("auto_answer_margin", self.discord.auto_answer_margin),
        ] {
            if !(0.0..=1.0).contains(&value) {
                at_key(key, format!("`{key}` is {value}; use a number from 0 to 1"));
            }
        }
        if m.suggest_threshold > m.answer_threshold {
            at_key(
                "suggest_threshold",
                "`suggest_threshold` is above `answer_threshold`; suggestions are for questions below the answer threshold".into(),
            );
        }
        if !(1..=5).contains(&m.max_suggestions) {
            at_key(
                "max_suggestions",
                "`max_suggestions` must be 1 to 5 (one row of Discord buttons)".into(),
            );
        }
        for (key, burst, off) in [
            ("user_burst", self.discord.user_burst, "user_cooldown_secs"),
            (
                "channel_burst",
                self.discord.channel_burst,
                "channel_replies_per_minute",
            ),
        ] {
            if burst == 0 {
                at_key(
                    key,
                    format!("`{key}` is 0; use 1 or more (`{off} = 0` turns this limit off)"),
                );
            }
        }
        if self.discord.user_cooldown_secs > 86_400 {
            at_key(
                "user_cooldown_secs",
                format!(
                    "`user_cooldown_secs` is {}; use at most 86400 (one question a day after `user_burst`), or 0 for no limit",
                    self.discord.user_cooldown_secs
                ),
            );
        }
        let timeout = self.discord.reload_timeout_secs;
        if !(timeout > 0.0 && timeout <= 86_400.0) {
            at_key(
                "reload_timeout_secs",
                format!("`reload_timeout_secs` is {timeout}; use a number of seconds above 0, at most 86400"),
            );
        }
        if let Some(proxy) = &self.discord.api_proxy {
            if !(proxy.starts_with("http://") || proxy.starts_with("https://")) {
                at_key(
                    "api_proxy",
                    format!("`api_proxy` {proxy:?} must start with http:// or https://"),
                );
            }
        }
        if let Err(e) = self.discord.sharding() {
            let at = key_line(text, e.key()).unwrap_or(0);
            problems.push(Problem::at(path, text, at, e.to_string()));
        }
        problems
    }
}

/// Where `key = ...` starts in `text`: at the start of a line, so `shards` is not found inside
/// `total_shards`.
fn key_line(text: &str, key: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        if let Some(rest) = line.trim_start().strip_prefix(key) {
            if rest.trim_start().starts_with('=') {
                return Some(offset + indent);
            }
        }
        offset += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_is_default() {
        assert_eq!(
            Config::parse(Path::new("c.toml"), "").unwrap(),
            Config::default()
        );
    }

    #[test]
    fn shipped_config_is_valid_and_documents_every_key() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/qabot.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        Config::parse(&path, &text).unwrap_or_else(|e| panic!("{e}"));
        for key in [
            "answer_threshold",
            "suggest_threshold",
            "margin",
            "max_suggestions",
            "semantic",
            "model",
            "cache_dir",
            "token_file",
            "api_proxy",
            "application_id",
            "prefix",
            "auto_answer_channels",
            "auto_answer_threshold",
            "auto_answer_margin",
            "guilds",
            "user_burst",
            "user_cooldown_secs",
            "channel_burst",
            "channel_replies_per_minute",
            "repeat_window_secs",
            "admins",
            "watch",
            "reload_timeout_secs",
            "allowed_guilds",
            "feedback_buttons",
            "metrics_addr",
            "pending_path",
            "shards",
            "shard_range",
            "total_shards",
        ] {
            assert!(
                text.contains(&format!("{key} =")),
                "config/qabot.toml does not document `{key}`"
            );
        }
    }

    #[test]
    fn mistakes_are_located() {
        let cases = [
            (
                "[matching]\nanswer_treshold = 0.5\n",
                "2:1",
                "unknown field `answer_treshold`",
            ),
            ("[matching]\nmargin = 2.0\n", "2:1", "from 0 to 1"),
            (
                "[matching]\nanswer_threshold = \"high\"\n",
                "2:20",
                "invalid type",
            ),
            (
                "[matching]\nanswer_threshold = 0.3\nsuggest_threshold = 0.5\n",
                "3:1",
                "above",
            ),
            ("[discord]\napi_proxy = \"localhost:1\"\n", "2:1", "http://"),
            ("[discord]\nreload_timeout_secs = 0\n", "2:1", "above 0"),
            (
                "[discord]\nprefix = \"!\"\nuser_burst = 0\n",
                "3:1",
                "`user_cooldown_secs = 0` turns this limit off",
            ),
            (
                "[discord]\nchannel_burst = 0\n",
                "2:1",
                "`channel_replies_per_minute = 0` turns",
            ),
            (
                "[discord]\nuser_cooldown_secs = 100000\n",
                "2:1",
                "at most 86400",
            ),
            (
                "[discord]\nuser_cooldown = 5\n",
                "2:1",
                "unknown field `user_cooldown`",
            ),
            (
                "[discord]\nmetrics_addr = \"localhost:9100\"\n",
                "2:16",
                "socket address",
            ),
            (
                "[discord]\nshards = \"many\"\n",
                "2:10",
                "\"auto\" or a number",
            ),
            ("[discord]\nshards = 0\n", "2:1", "`shards` is 0"),
            (
                "[discord]\ntotal_shards = 4\nshard_range = [0, 1]\nshards = 4\n",
                "4:1",
                "leave `shards` out",
            ),
            (
                "[discord]\ntotal_shards = 4\nshard_range = [2, 4]\n",
                "3:1",
                "numbered 0 to 3",
            ),
            (
                "[discord]\nshard_range = [1, 0]\n",
                "2:1",
                "needs `total_shards`",
            ),
            (
                "[discord]\nshard_range = [1, 0]\ntotal_shards = 2\n",
                "2:1",
                "must not be after",
            ),
            (
                "[discord]\ntotal_shards = 2\n",
                "2:1",
                "needs `shard_range`",
            ),
        ];
        for (text, at, fragment) in cases {
            let err = Config::parse(Path::new("c.toml"), text).unwrap_err();
            let got = err.to_string();
            assert!(
                got.starts_with(&format!("c.toml:{at}: ")),
                "{text:?}: {got}"
            );
            assert!(got.contains(fragment), "{text:?}: {got}");
        }
    }
}
