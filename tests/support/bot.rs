//! Starting the real bot against the fake, and reading what it posted: shared by the
//! end-to-end tests of reload, shutdown, security and faults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};
use std::time::Duration;

use qabot::discord::{Bot, BotError, Registration, ReloadHandle, ShutdownHandle, Token};
use qabot::live::Live;
use qabot::metrics::Metrics;
use qabot::{Config, Engine};
use serde_json::Value;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::fake_discord::{FakeDiscord, GatewayRecord, MessageSpec, Recorded};

/// How long any single expectation may take; only reached when something is broken.
pub const WAIT: Duration = Duration::from_secs(5);

/// A new IDENTIFY waits about 5 s inside serenity; a reconnection may take that much more.
pub const RECONNECT_WAIT: Duration = Duration::from_secs(12);

/// How long a shutdown may take: the drain (5 s at most), then serenity's shard shutdown.
pub const SHUTDOWN_WAIT: Duration = Duration::from_secs(15);

pub fn shipped_knowledge() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

/// Defaults without the cooldown, channel rate and feedback files, so tests may ask many
/// questions and leave nothing behind.
pub fn config() -> Config {
    let mut config = Config::default();
    config.discord.user_cooldown_secs = 0;
    config.discord.channel_replies_per_minute = 0;
    config.misses.path = PathBuf::new();
    config.misses.pending_path = PathBuf::new();
    config
}

/// Keeps reqwest from sending loopback traffic to a proxy configured in the environment.
pub fn bypass_proxies() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::env::set_var("NO_PROXY", "127.0.0.1,localhost"));
}

/// A bot running against a fake.
pub struct Running {
    pub stop: ShutdownHandle,
    pub reload: ReloadHandle,
    pub metrics: Arc<Metrics>,
    pub task: JoinHandle<Result<(), BotError>>,
    /// Each command-registration check, as the bot reports them.
    pub registrations: watch::Receiver<Vec<Registration>>,
    /// Feedback records written so far.
    pub written: watch::Receiver<u64>,
    /// Where the metrics endpoint listens, when configured.
    pub metrics_addr: Option<SocketAddr>,
}

impl Running {
    /// Starts `bot` (built with the fake's token and base) and waits for READY.
    pub async fn start_bot(fake: &FakeDiscord, bot: qabot::discord::BotBuilder) -> Running {
        bypass_proxies();
        let token = Token::parse(FakeDiscord::TOKEN, "test").expect("the fake's token is valid");
        let bot: Bot = bot
            .token(token)
            .api_base(fake.base_url())
            .build()
            .expect("bot builds");
        let running = Running {
            stop: bot.shutdown_handle(),
            reload: bot.reload_handle(),
            metrics: bot.metrics(),
            registrations: bot.registrations(),
            written: bot.feedback_written(),
            metrics_addr: bot.metrics_addr(),
            task: tokio::spawn(bot.run()),
        };
        fake.wait_ready(WAIT)
            .await
            .expect("the bot identifies and gets READY");
        running
    }

    /// The bot on the shipped knowledge.
    pub async fn start(fake: &FakeDiscord, config: Config) -> Running {
        Running::start_with(fake, config, &shipped_knowledge()).await
    }

    /// The bot on `knowledge`.
    pub async fn start_with(fake: &FakeDiscord, mut config: Config, knowledge: &Path) -> Running {
        // A test's own pack caches beside itself and goes with it, rather than leaving a file
        // per run in the repository's cache.
        if knowledge != shipped_knowledge() {
            config.matching.cache_dir = knowledge.join(".cache");
        }
        let engine = Engine::load(knowledge, config.matching.clone()).expect("knowledge loads");
        Running::start_bot(fake, Bot::builder(engine, config)).await
    }

    /// Waits until the feedback writer has finished `n` records in all.
    pub async fn written(&mut self, n: u64) {
        tokio::time::timeout(WAIT, self.written.wait_for(|w| *w >= n))
            .await
            .expect("feedback written")
            .expect("bot alive");
    }

    /// The registrations done at the first READY, once done.
    pub async fn registered(&mut self) -> Vec<Registration> {
        let done = tokio::time::timeout(WAIT, self.registrations.wait_for(|r| !r.is_empty()))
            .await
            .expect("commands checked at READY")
            .expect("bot alive");
        done.clone()
    }

    /// The bot on `live`, able to reload.
    pub async fn start_live(fake: &FakeDiscord, live: Live) -> Running {
        Running::start_bot(fake, Bot::from_live(Arc::new(live))).await
    }

    /// Stops the bot and asserts `run` returned `Ok`.
    pub async fn stop(self) {
        self.stop.shutdown();
        let ended = tokio::time::timeout(SHUTDOWN_WAIT, self.task)
            .await
            .expect("run returns after shutdown");
        ended.expect("bot task").expect("run returns Ok");
    }
}

/// Stops the bot, then checks nothing the bot sent was refused or could ping anyone.
pub async fn finish(fake: &FakeDiscord, bot: Running) {
    bot.stop().await;
    let rejected = fake.rejected_requests();
    assert!(rejected.is_empty(), "refused by the fake: {rejected:#?}");
    let unsafe_mentions = fake.unsafe_mention_requests();
    assert!(
        unsafe_mentions.is_empty(),
        "messages that could ping: {unsafe_mentions:#?}"
    );
}

/// Sends `question` and waits for the bot's reply to it: (the question's id, the reply).
pub async fn ask(fake: &FakeDiscord, question: MessageSpec) -> (u64, Recorded) {
    let asked = fake.send_message(question).await;
    let reply = fake
        .wait_for_request(replies_to(asked), WAIT)
        .await
        .expect("the question is answered");
    (asked, reply)
}

/// A message the bot posted in a channel (whatever the answer).
pub fn is_post(r: &Recorded) -> bool {
    r.method == "POST" && r.path.starts_with("/channels/") && r.path.ends_with("/messages")
}

/// A message the bot posted as a Discord reply to message `id`, whatever the fake answered.
pub fn replies_to(id: u64) -> impl Fn(&Recorded) -> bool {
    move |r| is_post(r) && referenced(r) == Some(id)
}

/// A reply to message `id` that the fake accepted.
pub fn delivered_to(id: u64) -> impl Fn(&Recorded) -> bool {
    move |r| replies_to(id)(r) && r.status == 200
}

pub fn referenced(r: &Recorded) -> Option<u64> {
    let body = r.body.as_ref()?;
    let id = &body["message_reference"]["message_id"];
    id.as_str()
        .and_then(|s| s.parse().ok())
        .or_else(|| id.as_u64())
}

/// The request's JSON body as text, for looking for words in it.
pub fn body_text(r: &Recorded) -> String {
    r.body.as_ref().map(Value::to_string).unwrap_or_default()
}

/// The newest gateway connection so far.
pub fn newest_connection(fake: &FakeDiscord) -> u64 {
    fake.gateway_events()
        .iter()
        .filter_map(|e| match e {
            GatewayRecord::Connected { conn, .. } => Some(*conn),
            _ => None,
        })
        .max()
        .unwrap_or(0)
}

/// Waits for a session on a connection newer than `after` (READY after IDENTIFY, or RESUMED
/// after RESUME) and says which.
pub async fn back_online(fake: &FakeDiscord, after: u64) -> String {
    let record = fake
        .wait_for_gateway_event(
            |e| match e {
                GatewayRecord::Sent { conn, payload } => {
                    *conn > after && (payload["t"] == "READY" || payload["t"] == "RESUMED")
                }
                _ => false,
            },
            RECONNECT_WAIT,
        )
        .await
        .expect("the bot reconnects");
    match record {
        GatewayRecord::Sent { payload, .. } => payload["t"].as_str().unwrap_or("").to_string(),
        _ => String::new(),
    }
}
