//! A fake Discord for integration tests: the REST API and the gateway websocket, served on
//! `127.0.0.1` on a random port, speaking the real protocol so the real serenity client can be
//! pointed at it.
//!
//! ```ignore
//! let fake = FakeDiscord::start().await;
//! let http = HttpBuilder::new(FakeDiscord::TOKEN)
//!     .proxy(fake.base_url())
//!     .ratelimiter_disabled(true) // without this, serenity ignores the proxy
//!     .build();
//! let mut client = ClientBuilder::new_with_http(http, intents).event_handler(handler).await?;
//! tokio::spawn(async move { client.start().await });
//! fake.wait_ready(Duration::from_secs(5)).await.expect("READY");
//! let id = fake.send_message(MessageSpec::guild("hello")).await;
//! let reply = fake.wait_for_request(|r| r.is("POST", "/channels/"), timeout).await;
//! ```
//!
//! What it does:
//! - **Gateway** (`/gateway-ws`): HELLO, IDENTIFY (token and intents checked), READY, heartbeat
//!   ACKs, RESUME → RESUMED, dispatches with increasing sequence numbers. Events sent while no
//!   session is live are queued and delivered once a client is READY or RESUMED. Events the
//!   session's intents exclude are withheld (recorded as [`GatewayRecord::Withheld`]); without
//!   the message-content intent, guild message content is blanked unless the bot is mentioned.
//! - **Shards**: any number of sessions at once, each with the `shard: [id, total]` of its
//!   IDENTIFY; an event goes to the session of shard `(guild_id >> 22) % total` (DMs and
//!   guildless events to shard 0), or waits for it. `GET /gateway/bot` advertises a settable
//!   shard count and `session_start_limit`, and IDENTIFY obeys it as Discord does: with
//!   `remaining = 0` (until `reset_after` has passed) the connection is closed with 4004 (the
//!   token would be reset), and a second IDENTIFY in one bucket (`shard_id % max_concurrency`)
//!   within 5 s gets op 9; both are recorded as [`GatewayRecord::IdentifyRefused`]. The 5 s
//!   window is policed once a test sets the limits ([`FakeDiscord::set_gateway_bot`]), so
//!   tests that stop a bot and start another on one fake need not wait it out.
//! - **REST** (`/api/v10/...`): the routes a bot uses (gateway, current user and application,
//!   commands, interaction callbacks and webhooks, channel messages, reactions, DMs). Bodies are
//!   validated like Discord does (see the `validate` module) and every request is recorded as a
//!   [`Recorded`]; unknown routes answer 404 and are recorded too.
//! - **Faults**: REST 429/5xx for the next N requests, gateway op 7 / op 9, close codes, abrupt
//!   drops, unacknowledged heartbeats, refused resumes, interaction deadlines.
//!
//! Waiting is event-driven: every state change bumps a `watch` channel, so `wait_*` methods
//! never poll on a timer.

mod gateway;
mod rest;
mod validate;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use self::gateway::Outgoing;

/// Gateway intent bits the fake cares about.
mod intents {
    pub const GUILDS: u64 = 1 << 0;
    pub const GUILD_MESSAGES: u64 = 1 << 9;
    pub const GUILD_MESSAGE_REACTIONS: u64 = 1 << 10;
    pub const DIRECT_MESSAGES: u64 = 1 << 12;
    pub const DIRECT_MESSAGE_REACTIONS: u64 = 1 << 13;
    pub const MESSAGE_CONTENT: u64 = 1 << 15;
}

/// `GATEWAY_MESSAGE_CONTENT_LIMITED`: the application flag of an unverified bot whose
/// message-content intent is switched on in the developer portal.
const FLAG_MESSAGE_CONTENT_LIMITED: u64 = 1 << 19;

/// Discord's epoch (2015-01-01) in Unix milliseconds, for snowflake ids.
const DISCORD_EPOCH_MS: u64 = 1_420_070_400_000;

/// A running fake Discord. Dropping it stops the listener and drops open websockets.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

impl FakeDiscord {
    /// The bot token the fake accepts (REST `Authorization: Bot <token>` and IDENTIFY).
    pub const TOKEN: &'static str = "fake-qabot-token.test";
    /// The bot's user id (distinct from the application id, to catch mix-ups).
    pub const BOT_USER_ID: u64 = 1_100_000_000_000_000_001;
    /// The bot's username.
    pub const BOT_NAME: &'static str = "qabot";
    /// The application id (READY `application.id`, command and webhook routes).
    pub const APPLICATION_ID: u64 = 1_100_000_000_000_000_002;
    /// The default guild, listed (unavailable) in READY.
    pub const GUILD_ID: u64 = 1_200_000_000_000_000_001;
    /// The default text channel in [`Self::GUILD_ID`].
    pub const CHANNEL_ID: u64 = 1_200_000_000_000_000_002;
    /// The default DM channel between the bot and [`Self::USER_ID`].
    pub const DM_CHANNEL_ID: u64 = 1_200_000_000_000_000_003;
    /// The default human user.
    pub const USER_ID: u64 = 1_300_000_000_000_000_001;
    /// The default human user's name.
    pub const USER_NAME: &'static str = "alice";

    /// Binds `127.0.0.1:0` and serves REST under `/api/v10` and the gateway at `/gateway-ws`.
    pub async fn start() -> FakeDiscord {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(port)),
            changed: watch::Sender::new(0),
        });
        let app = axum::Router::new()
            .route("/gateway-ws", axum::routing::get(gateway::upgrade))
            .fallback(rest::handle)
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .expect("fake discord server");
        });
        FakeDiscord { shared, server }
    }

    /// `http://127.0.0.1:PORT`: give it to serenity's `HttpBuilder::proxy` (it replaces
    /// `https://discord.com`).
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.shared.lock().port)
    }

    /// The websocket URL `GET /gateway` hands out.
    pub fn gateway_url(&self) -> String {
        self.shared.lock().gateway_url()
    }

    /// The application id (see [`Self::APPLICATION_ID`]).
    pub fn application_id(&self) -> u64 {
        Self::APPLICATION_ID
    }

    /// The bot user's id (see [`Self::BOT_USER_ID`]).
    pub fn bot_user_id(&self) -> u64 {
        Self::BOT_USER_ID
    }

    // ---- configuration -------------------------------------------------------------------

    /// Whether the developer portal allows the message-content intent (default `true`).
    ///
    /// When `false`, an IDENTIFY asking for `MESSAGE_CONTENT` is closed with 4014 if
    /// [`Self::set_reject_privileged_intents`] is on (the default, as on Discord); if it is off,
    /// the session is accepted but guild message content is blanked as if the intent were absent.
    pub fn set_message_content_allowed(&self, allowed: bool) {
        self.shared
            .update(|s| s.config.message_content_allowed = allowed);
    }

    /// Whether a disallowed privileged intent closes the connection with 4014 (default `true`).
    pub fn set_reject_privileged_intents(&self, reject: bool) {
        self.shared.update(|s| s.config.reject_privileged = reject);
    }

    /// The heartbeat interval announced in HELLO to later connections (default 41 250 ms).
    pub fn set_heartbeat_interval(&self, interval: Duration) {
        self.shared
            .update(|s| s.config.heartbeat_interval = interval);
    }

    /// Whether heartbeats are answered with op 11 (default `true`). Without ACKs, serenity
    /// reconnects after its next heartbeat interval.
    pub fn set_heartbeat_ack(&self, ack: bool) {
        self.shared.update(|s| s.config.ack_heartbeats = ack);
    }

    /// What `GET /gateway/bot` advertises, and IDENTIFY enforces, bucket window included
    /// (default: 1 shard, 1000 of 1000 starts left, reset after 24 h, max_concurrency 1, and
    /// no window). `remaining` goes back to `total` once `reset_after` has passed from now.
    pub fn set_gateway_bot(&self, shards: u32, limit: StartLimit) {
        self.shared.update(|s| {
            s.config.police_window = true;
            s.config.recommended_shards = shards;
            s.config.limit = limit;
            s.limit_reset_at = Instant::now() + limit.reset_after;
        });
    }

    /// The instant `remaining` goes back to `total` (see [`Self::set_gateway_bot`]).
    pub fn limit_reset_at(&self) -> Instant {
        self.shared.lock().limit_reset_at
    }

    /// Whether RESUME is accepted (default `true`); when `false` it gets op 9 `d: false`.
    pub fn set_resume_allowed(&self, allowed: bool) {
        self.shared.update(|s| s.config.resume_allowed = allowed);
    }

    /// How long an interaction may wait for its callback before it is unknown (default 3 s,
    /// as on Discord); a late callback gets 404 `10062 Unknown interaction`.
    pub fn set_interaction_deadline(&self, deadline: Duration) {
        self.shared
            .update(|s| s.config.interaction_deadline = deadline);
    }

    /// Makes a channel known (in a guild, or a DM with [`Self::USER_ID`] when `guild_id` is
    /// `None`). Channels used by specs are registered automatically; posting to an unknown
    /// channel answers 404 `10003 Unknown Channel`.
    pub fn register_channel(&self, channel_id: u64, guild_id: Option<u64>) {
        self.shared.update(|s| {
            let info = match guild_id {
                Some(guild_id) => ChannelInfo::Guild(guild_id),
                None => ChannelInfo::dm_with(FakeDiscord::USER_ID, FakeDiscord::USER_NAME),
            };
            s.channels.insert(channel_id, info);
        });
    }

    // ---- waiting -------------------------------------------------------------------------

    /// Resolves once a client has IDENTIFIED and been sent READY (at any time so far).
    pub async fn wait_ready(&self, timeout: Duration) -> Option<ReadyInfo> {
        self.shared
            .wait(timeout, |s| {
                s.gateway_events.iter().find_map(|e| match e {
                    GatewayRecord::Sent { payload, .. } if payload["t"] == "READY" => {
                        let session_id = payload["d"]["session_id"].as_str()?.to_owned();
                        let intents = s.sessions.get(&session_id)?.intents;
                        Some(ReadyInfo {
                            session_id,
                            intents,
                        })
                    }
                    _ => None,
                })
            })
            .await
    }

    /// The first recorded REST request (past or future) matching `pred`.
    pub async fn wait_for_request(
        &self,
        pred: impl Fn(&Recorded) -> bool,
        timeout: Duration,
    ) -> Option<Recorded> {
        self.shared
            .wait(timeout, |s| s.requests.iter().find(|r| pred(r)).cloned())
            .await
    }

    /// The first `count` recorded REST requests matching `pred`, once there are that many.
    pub async fn wait_for_requests(
        &self,
        pred: impl Fn(&Recorded) -> bool,
        count: usize,
        timeout: Duration,
    ) -> Option<Vec<Recorded>> {
        self.shared
            .wait(timeout, |s| {
                let found: Vec<_> = s
                    .requests
                    .iter()
                    .filter(|r| pred(r))
                    .take(count)
                    .cloned()
                    .collect();
                (found.len() == count).then_some(found)
            })
            .await
    }

    /// Resolves once `count` recorded REST requests match `pred`, without copying them (for
    /// bursts of thousands); `false` on timeout.
    pub async fn wait_for_request_count(
        &self,
        pred: impl Fn(&Recorded) -> bool,
        count: usize,
        timeout: Duration,
    ) -> bool {
        self.shared
            .wait(timeout, |s| {
                (s.requests.iter().filter(|r| pred(r)).count() >= count).then_some(())
            })
            .await
            .is_some()
    }

    /// The first gateway event (past or future) matching `pred`.
    pub async fn wait_for_gateway_event(
        &self,
        pred: impl Fn(&GatewayRecord) -> bool,
        timeout: Duration,
    ) -> Option<GatewayRecord> {
        self.shared
            .wait(timeout, |s| {
                s.gateway_events.iter().find(|e| pred(e)).cloned()
            })
            .await
    }

    // ---- gateway events ------------------------------------------------------------------

    /// Dispatches MESSAGE_CREATE; returns the message id. The message is stored, so the bot can
    /// fetch, react to or reply to it.
    pub async fn send_message(&self, spec: MessageSpec) -> u64 {
        self.shared.update(|s| {
            let id = s.next_id();
            let message = s.user_message(id, &spec);
            s.messages.insert(id, message.clone());
            s.dispatch("MESSAGE_CREATE", message);
            id
        })
    }

    /// Dispatches INTERACTION_CREATE type 2 (slash command); returns the interaction id.
    pub async fn send_slash_command(&self, spec: InteractionSpec) -> u64 {
        self.shared.update(|s| s.command_interaction(2, &spec))
    }

    /// Dispatches INTERACTION_CREATE type 2 for the message context-menu command `spec.name`
    /// (`data.type` 3) on the stored message `message_id`, which is sent in
    /// `data.resolved.messages` as Discord does. Returns the interaction id.
    pub async fn send_message_command(&self, spec: InteractionSpec, message_id: u64) -> u64 {
        self.shared
            .update(|s| s.message_command_interaction(&spec, message_id))
    }

    /// Dispatches INTERACTION_CREATE type 4 (autocomplete); one option must be
    /// [`OptionSpec::focused`]. Returns the interaction id.
    pub async fn send_autocomplete(&self, spec: InteractionSpec) -> u64 {
        assert!(
            spec.has_focused_option(),
            "an autocomplete interaction needs a focused option"
        );
        self.shared.update(|s| s.command_interaction(4, &spec))
    }

    /// Dispatches INTERACTION_CREATE type 3 (button click or select) on a stored message;
    /// returns the interaction id.
    pub async fn send_component(&self, spec: ComponentSpec) -> u64 {
        self.shared.update(|s| s.component_interaction(&spec))
    }

    /// Dispatches MESSAGE_REACTION_ADD for a stored message.
    pub async fn send_reaction(&self, spec: ReactionSpec) {
        self.shared.update(|s| s.reaction(&spec));
    }

    /// Dispatches GUILD_CREATE for a guild with one text channel ([`Self::CHANNEL_ID`] for the
    /// default guild, a new one otherwise); returns that channel's id.
    pub async fn send_guild_create(&self, guild_id: u64, name: &str) -> u64 {
        self.shared.update(|s| s.guild_create(guild_id, name))
    }

    /// Dispatches any event with the given data, as is (subject to intent filtering).
    pub async fn dispatch(&self, event: &str, data: Value) {
        self.shared.update(|s| s.dispatch(event, data));
    }

    // ---- inspection ----------------------------------------------------------------------

    /// Every REST request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// Requests refused for breaking Discord's body rules (400).
    pub fn rejected_requests(&self) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| r.rejected).collect()
    }

    /// Message payloads whose `allowed_mentions` could ping someone (see [`Recorded::unsafe_mentions`]).
    pub fn unsafe_mention_requests(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| r.unsafe_mentions.is_some())
            .collect()
    }

    /// Everything that happened on the gateway so far.
    pub fn gateway_events(&self) -> Vec<GatewayRecord> {
        self.shared.lock().gateway_events.clone()
    }

    /// Every accepted IDENTIFY so far: when, on which connection, and its `shard` `[id, total]`.
    pub fn identified_shards(&self) -> Vec<(Instant, u64, [u64; 2])> {
        self.gateway_events()
            .into_iter()
            .filter_map(|e| match e {
                GatewayRecord::Identify { at, conn, payload } => {
                    let refused = self.gateway_events().iter().any(|r| {
                        matches!(r, GatewayRecord::IdentifyRefused { conn: c, .. } if *c == conn)
                    });
                    (!refused).then(|| (at, conn, shard_field(&payload["d"]["shard"])))
                }
                _ => None,
            })
            .collect()
    }

    /// IDENTIFYs refused for breaking the session start limit or the bucket rate.
    pub fn refused_identifies(&self) -> Vec<GatewayRecord> {
        self.gateway_events()
            .into_iter()
            .filter(|e| matches!(e, GatewayRecord::IdentifyRefused { .. }))
            .collect()
    }

    /// Resolves once sessions of `count` distinct shards have been sent READY.
    pub async fn wait_ready_shards(&self, count: usize, timeout: Duration) -> bool {
        self.shared
            .wait(timeout, |s| {
                let mut ready: Vec<u64> = s
                    .gateway_events
                    .iter()
                    .filter_map(|e| match e {
                        GatewayRecord::Sent { payload, .. } if payload["t"] == "READY" => {
                            Some(shard_field(&payload["d"]["shard"])[0])
                        }
                        _ => None,
                    })
                    .collect();
                ready.sort_unstable();
                ready.dedup();
                (ready.len() >= count).then_some(())
            })
            .await
            .is_some()
    }

    /// The IDENTIFY payloads received so far.
    pub fn identifies(&self) -> Vec<Value> {
        self.gateway_events()
            .into_iter()
            .filter_map(|e| match e {
                GatewayRecord::Identify { payload, .. } => Some(payload),
                _ => None,
            })
            .collect()
    }

    /// The registered global commands, as the fake returns them.
    pub fn global_commands(&self) -> Vec<Value> {
        self.shared.lock().global_commands.clone()
    }

    /// The registered commands of one guild.
    pub fn guild_commands(&self, guild_id: u64) -> Vec<Value> {
        self.shared
            .lock()
            .guild_commands
            .get(&guild_id)
            .cloned()
            .unwrap_or_default()
    }

    /// A stored message (sent by a user spec or created/edited by the bot), as JSON.
    pub fn message(&self, id: u64) -> Option<Value> {
        self.shared.lock().messages.get(&id).cloned()
    }

    /// The id of an interaction's original response message (callbacks 4 and 5; for a
    /// component's 6 and 7, the message the component is on), once answered.
    pub fn original_response(&self, interaction_id: u64) -> Option<u64> {
        self.shared
            .lock()
            .interactions
            .get(&interaction_id)
            .and_then(|i| i.original)
    }

    /// The token of an interaction the fake sent.
    pub fn interaction_token(&self, id: u64) -> Option<String> {
        self.shared
            .lock()
            .interactions
            .get(&id)
            .map(|i| i.token.clone())
    }

    // ---- faults --------------------------------------------------------------------------

    /// The next `count` REST requests (any route) fail with `fault`.
    pub fn fail_next_requests(&self, count: usize, fault: RestFault) {
        self.fail_next_requests_matching(count, fault, |_, _| true);
    }

    /// The next `count` REST requests for which `matches(method, path)` holds fail with `fault`
    /// (`path` without the `/api/v10` prefix). Failed requests are recorded, not applied.
    pub fn fail_next_requests_matching(
        &self,
        count: usize,
        fault: RestFault,
        matches: impl Fn(&str, &str) -> bool + Send + 'static,
    ) {
        self.shared.update(|s| {
            s.faults.push_back(FaultRule {
                remaining: count,
                fault,
                matches: Box::new(matches),
            });
        });
    }

    /// Drops the TCP stream of the connection serving shard `shard` (see
    /// [`Self::drop_gateway`]); `false` if no session of that shard is live.
    pub fn drop_shard(&self, shard: u32) -> bool {
        self.shared.update(|s| match s.active.get(&shard) {
            Some(&(conn, _)) => {
                s.send(conn, Outgoing::Drop);
                true
            }
            None => false,
        })
    }

    /// The connection serving shard `shard` now, if any.
    pub fn shard_connection(&self, shard: u32) -> Option<u64> {
        self.shared.lock().active.get(&shard).map(|&(conn, _)| conn)
    }

    /// Sends op 7 RECONNECT on the newest open connection; `false` if there is none.
    pub fn send_reconnect(&self) -> bool {
        self.shared.update(|s| {
            s.on_newest_connection(|s, conn| {
                s.send(conn, Outgoing::Frame(json!({"op": 7, "d": null})))
            })
        })
    }

    /// Sends op 9 INVALID SESSION (`d: resumable`) on the newest open connection; `false` if
    /// there is none.
    pub fn send_invalid_session(&self, resumable: bool) -> bool {
        self.shared.update(|s| {
            s.on_newest_connection(|s, conn| {
                s.send(conn, Outgoing::Frame(json!({"op": 9, "d": resumable})))
            })
        })
    }

    /// Closes the newest open connection with a close frame carrying `code` (e.g. 4000; 1006
    /// cannot be sent on the wire, use [`Self::drop_gateway`]). The fake keeps reading so the
    /// close handshake can complete. `false` if there is no open connection.
    pub fn close_gateway(&self, code: u16) -> bool {
        self.shared
            .update(|s| s.on_newest_connection(|s, conn| s.send(conn, Outgoing::Close(code))))
    }

    /// Drops the newest open connection's TCP stream without a close frame (what a client sees
    /// as 1006). `false` if there is no open connection.
    pub fn drop_gateway(&self) -> bool {
        self.shared
            .update(|s| s.on_newest_connection(|s, conn| s.send(conn, Outgoing::Drop)))
    }
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        self.server.abort();
        self.shared.update(|s| {
            let open: Vec<u64> = s.connections.keys().copied().collect();
            for conn in open {
                s.send(conn, Outgoing::Drop);
            }
        });
    }
}

/// What [`FakeDiscord::wait_ready`] reports about the READY session.
#[derive(Clone, Debug)]
pub struct ReadyInfo {
    /// The session id sent in READY.
    pub session_id: String,
    /// The intents bits from the IDENTIFY.
    pub intents: u64,
}

/// One REST request as the fake saw and answered it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// When the request arrived (for latency figures).
    pub at: Instant,
    /// HTTP method, upper case.
    pub method: String,
    /// Percent-decoded path without the `/api/v10` prefix, e.g. `/channels/1/messages`.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// The JSON body (for multipart requests, the `payload_json` part).
    pub body: Option<Value>,
    /// File names of multipart attachments.
    pub attachments: Vec<String>,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The status the fake answered.
    pub status: u16,
    /// The JSON the fake answered, if any.
    pub response: Option<Value>,
    /// Refused (400) for breaking Discord's body rules: lengths, counts, names, empty message.
    pub rejected: bool,
    /// Set when a message payload's `allowed_mentions` is missing or could ping: every payload
    /// that sets `content` or `embeds` (channel messages, edits, interaction callbacks 4 and 7,
    /// webhook messages) must carry `{"parse": []}` with no users/roles and no `replied_user`.
    pub unsafe_mentions: Option<String>,
}

impl Recorded {
    /// Whether this is `method` on a path starting with `path_prefix`.
    pub fn is(&self, method: &str, path_prefix: &str) -> bool {
        self.method == method && self.path.starts_with(path_prefix)
    }
}

/// Something that happened on the gateway. `conn` numbers websocket connections from 1.
#[derive(Clone, Debug)]
pub enum GatewayRecord {
    /// A client opened a websocket (with its query string, e.g. `v=10`).
    Connected { conn: u64, query: Option<String> },
    /// A client sent IDENTIFY (op 2), at `at`.
    Identify {
        conn: u64,
        payload: Value,
        at: Instant,
    },
    /// An IDENTIFY broke Discord's start rules; `code` is the close code, or 9 for op 9.
    IdentifyRefused {
        conn: u64,
        shard: [u64; 2],
        code: u16,
        reason: String,
    },
    /// A client sent RESUME (op 6).
    Resume { conn: u64, payload: Value },
    /// A client sent a heartbeat (op 1) with its last sequence number.
    Heartbeat { conn: u64, seq: Option<u64> },
    /// A client sent another opcode (presence update, request guild members, ...).
    ClientPayload { conn: u64, payload: Value },
    /// The fake sent a frame: HELLO, READY, RESUMED, dispatches, ACKs, op 7, op 9.
    Sent { conn: u64, payload: Value },
    /// An event was not delivered because the session's intents exclude it.
    Withheld { event: String, reason: String },
    /// The fake sent a close frame.
    ServerClosed { conn: u64, code: u16 },
    /// The fake dropped the TCP stream without a close frame.
    ServerDropped { conn: u64 },
    /// A client sent a close frame.
    ClientClosed { conn: u64, code: Option<u16> },
    /// A websocket ended.
    Disconnected { conn: u64 },
}

impl GatewayRecord {
    /// For a dispatch the fake sent: its event name and sequence number.
    pub fn dispatch(&self) -> Option<(&str, u64)> {
        match self {
            GatewayRecord::Sent { payload, .. } => {
                Some((payload["t"].as_str()?, payload["s"].as_u64()?))
            }
            _ => None,
        }
    }
}

/// `session_start_limit`, as `GET /gateway/bot` sends it.
#[derive(Clone, Copy, Debug)]
pub struct StartLimit {
    pub total: u64,
    pub remaining: u64,
    pub reset_after: Duration,
    pub max_concurrency: u64,
}

impl Default for StartLimit {
    fn default() -> Self {
        Self {
            total: 1000,
            remaining: 1000,
            reset_after: Duration::from_secs(24 * 3600),
            max_concurrency: 1,
        }
    }
}

/// `[id, total]` from an IDENTIFY's or READY's `shard` field (`[0, 1]` when absent).
pub fn shard_field(value: &Value) -> [u64; 2] {
    match (value[0].as_u64(), value[1].as_u64()) {
        (Some(id), Some(total)) => [id, total],
        _ => [0, 1],
    }
}

/// A guild id whose events Discord routes to shard `shard` of `total`: `(id >> 22) % total`.
pub fn guild_on_shard(shard: u32, total: u32) -> u64 {
    let timestamp = 1_000_000_000_u64;
    let base = timestamp - timestamp % u64::from(total) + u64::from(shard);
    (base << 22) | 1
}

/// A failure injected into REST answers.
#[derive(Clone, Copy, Debug)]
pub enum RestFault {
    /// 429 with `Retry-After`, `X-RateLimit-*` headers and a Discord rate-limit body.
    RateLimited { retry_after: f64, global: bool },
    /// Any status, e.g. 500, 502, 503, with a Discord-style JSON body.
    Status(u16),
}

/// A MESSAGE_CREATE to dispatch. Mentions (`<@id>` / `<@!id>`) are parsed from the content.
#[derive(Clone, Debug)]
pub struct MessageSpec {
    /// `None` for a DM.
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    pub author_id: u64,
    pub author_name: String,
    pub author_bot: bool,
    pub webhook_id: Option<u64>,
    pub content: String,
}

impl MessageSpec {
    /// A message from [`FakeDiscord::USER_ID`] in [`FakeDiscord::CHANNEL_ID`] of the default guild.
    pub fn guild(content: impl Into<String>) -> Self {
        Self {
            guild_id: Some(FakeDiscord::GUILD_ID),
            channel_id: FakeDiscord::CHANNEL_ID,
            author_id: FakeDiscord::USER_ID,
            author_name: FakeDiscord::USER_NAME.to_owned(),
            author_bot: false,
            webhook_id: None,
            content: content.into(),
        }
    }

    /// A DM from [`FakeDiscord::USER_ID`] in [`FakeDiscord::DM_CHANNEL_ID`].
    pub fn dm(content: impl Into<String>) -> Self {
        Self {
            guild_id: None,
            channel_id: FakeDiscord::DM_CHANNEL_ID,
            ..Self::guild(content)
        }
    }

    /// Prefixes the content with a mention of the bot (`<@BOT_USER_ID> `).
    pub fn mentioning_bot(mut self) -> Self {
        self.content = format!("<@{}> {}", FakeDiscord::BOT_USER_ID, self.content);
        self
    }

    /// Sets the author.
    pub fn author(mut self, id: u64, name: impl Into<String>) -> Self {
        self.author_id = id;
        self.author_name = name.into();
        self
    }

    /// Marks the author as a bot account.
    pub fn by_bot(mut self) -> Self {
        self.author_bot = true;
        self
    }

    /// Makes it a webhook message (`webhook_id` set, author flagged as bot, no member).
    pub fn via_webhook(mut self, webhook_id: u64) -> Self {
        self.webhook_id = Some(webhook_id);
        self.author_bot = true;
        self
    }

    /// Sets where the message is (`guild_id: None` for a DM).
    pub fn in_channel(mut self, guild_id: Option<u64>, channel_id: u64) -> Self {
        self.guild_id = guild_id;
        self.channel_id = channel_id;
        self
    }
}

/// A slash command (or autocomplete) invocation to dispatch.
#[derive(Clone, Debug)]
pub struct InteractionSpec {
    /// The command name; `data.id` is the registered command's id when one matches.
    pub name: String,
    pub options: Vec<OptionSpec>,
    /// `None` for a DM (then `user` is sent instead of `member`).
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    pub user_id: u64,
    pub user_name: String,
    /// The member's permission bits in the channel (sent as a string).
    pub permissions: u64,
    pub locale: String,
}

/// VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY | USE_APPLICATION_COMMANDS: an ordinary
/// member, without ADMINISTRATOR or MANAGE_GUILD.
const MEMBER_PERMISSIONS: u64 = (1 << 10) | (1 << 11) | (1 << 16) | (1 << 31);

impl InteractionSpec {
    /// `/name` used by [`FakeDiscord::USER_ID`] in the default guild channel.
    pub fn guild(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            options: Vec::new(),
            guild_id: Some(FakeDiscord::GUILD_ID),
            channel_id: FakeDiscord::CHANNEL_ID,
            user_id: FakeDiscord::USER_ID,
            user_name: FakeDiscord::USER_NAME.to_owned(),
            permissions: MEMBER_PERMISSIONS,
            locale: "en-US".to_owned(),
        }
    }

    /// `/name` used by [`FakeDiscord::USER_ID`] in the DM channel.
    pub fn dm(name: impl Into<String>) -> Self {
        Self {
            guild_id: None,
            channel_id: FakeDiscord::DM_CHANNEL_ID,
            ..Self::guild(name)
        }
    }

    /// Adds an option.
    pub fn option(mut self, option: OptionSpec) -> Self {
        self.options.push(option);
        self
    }

    /// Sets the invoking user.
    pub fn user(mut self, id: u64, name: impl Into<String>) -> Self {
        self.user_id = id;
        self.user_name = name.into();
        self
    }

    /// Sets the member's permission bits (e.g. `1 << 3` ADMINISTRATOR, `1 << 5` MANAGE_GUILD).
    pub fn permissions(mut self, bits: u64) -> Self {
        self.permissions = bits;
        self
    }

    /// Sets the user's locale.
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = locale.into();
        self
    }

    fn has_focused_option(&self) -> bool {
        fn any(options: &[OptionSpec]) -> bool {
            options.iter().any(|o| {
                o.focused || matches!(&o.value, OptionValue::SubCommand(inner) if any(inner))
            })
        }
        any(&self.options)
    }
}

/// One option of an invoked command.
#[derive(Clone, Debug)]
pub struct OptionSpec {
    pub name: String,
    pub value: OptionValue,
    /// The option being typed, for autocomplete.
    pub focused: bool,
}

/// An option's value; its variant gives the option type.
#[derive(Clone, Debug)]
pub enum OptionValue {
    String(String),
    Integer(i64),
    Number(f64),
    Boolean(bool),
    /// A subcommand with its own options.
    SubCommand(Vec<OptionSpec>),
}

impl OptionSpec {
    fn new(name: impl Into<String>, value: OptionValue) -> Self {
        Self {
            name: name.into(),
            value,
            focused: false,
        }
    }

    /// A string option (type 3).
    pub fn string(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(name, OptionValue::String(value.into()))
    }

    /// An integer option (type 4).
    pub fn integer(name: impl Into<String>, value: i64) -> Self {
        Self::new(name, OptionValue::Integer(value))
    }

    /// A number option (type 10).
    pub fn number(name: impl Into<String>, value: f64) -> Self {
        Self::new(name, OptionValue::Number(value))
    }

    /// A boolean option (type 5).
    pub fn boolean(name: impl Into<String>, value: bool) -> Self {
        Self::new(name, OptionValue::Boolean(value))
    }

    /// A subcommand (type 1) with nested options.
    pub fn subcommand(name: impl Into<String>, options: Vec<OptionSpec>) -> Self {
        Self::new(name, OptionValue::SubCommand(options))
    }

    /// Marks the option as focused (autocomplete).
    pub fn focused(mut self) -> Self {
        self.focused = true;
        self
    }

    fn to_json(&self) -> Value {
        let (kind, value) = match &self.value {
            OptionValue::SubCommand(options) => {
                let options: Vec<_> = options.iter().map(OptionSpec::to_json).collect();
                return json!({"name": self.name, "type": 1, "options": options});
            }
            OptionValue::String(s) => (3, json!(s)),
            OptionValue::Integer(i) => (4, json!(i)),
            OptionValue::Boolean(b) => (5, json!(b)),
            OptionValue::Number(n) => (10, json!(n)),
        };
        let mut option = json!({"name": self.name, "type": kind, "value": value});
        if self.focused {
            option["focused"] = json!(true);
        }
        option
    }
}

/// A component interaction (button click or select) on a stored message.
#[derive(Clone, Debug)]
pub struct ComponentSpec {
    pub custom_id: String,
    /// The stored message the component belongs to; its channel and guild are used.
    pub message_id: u64,
    /// `None` for a button (component type 2), the chosen values for a string select (type 3).
    pub values: Option<Vec<String>>,
    pub user_id: u64,
    pub user_name: String,
    pub permissions: u64,
}

impl ComponentSpec {
    /// [`FakeDiscord::USER_ID`] clicks the button `custom_id` on `message_id`.
    pub fn button(custom_id: impl Into<String>, message_id: u64) -> Self {
        Self {
            custom_id: custom_id.into(),
            message_id,
            values: None,
            user_id: FakeDiscord::USER_ID,
            user_name: FakeDiscord::USER_NAME.to_owned(),
            permissions: MEMBER_PERMISSIONS,
        }
    }

    /// [`FakeDiscord::USER_ID`] picks `values` in the string select `custom_id`.
    pub fn select(custom_id: impl Into<String>, message_id: u64, values: Vec<String>) -> Self {
        Self {
            values: Some(values),
            ..Self::button(custom_id, message_id)
        }
    }

    /// Sets the clicking user.
    pub fn user(mut self, id: u64, name: impl Into<String>) -> Self {
        self.user_id = id;
        self.user_name = name.into();
        self
    }
}

/// A reaction added to a stored message.
#[derive(Clone, Debug)]
pub struct ReactionSpec {
    pub message_id: u64,
    pub user_id: u64,
    /// A unicode emoji.
    pub emoji: String,
}

impl ReactionSpec {
    /// [`FakeDiscord::USER_ID`] reacts with `emoji` to `message_id`.
    pub fn new(message_id: u64, emoji: impl Into<String>) -> Self {
        Self {
            message_id,
            user_id: FakeDiscord::USER_ID,
            emoji: emoji.into(),
        }
    }

    /// Sets the reacting user.
    pub fn user(mut self, id: u64) -> Self {
        self.user_id = id;
        self
    }
}

// ---- internals ---------------------------------------------------------------------------

/// State shared by the server tasks and the test, plus the change signal waiters listen to.
struct Shared {
    state: Mutex<State>,
    changed: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the state, then wakes every waiter.
    fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let result = f(&mut self.lock());
        self.changed.send_modify(|version| *version += 1);
        result
    }

    /// Re-evaluates `check` on every state change until it yields or `timeout` passes.
    fn wait<'a, T>(
        &'a self,
        timeout: Duration,
        check: impl Fn(&State) -> Option<T> + 'a,
    ) -> impl Future<Output = Option<T>> + 'a {
        // Subscribing before the first check means no change can slip in between.
        let mut changes = self.changed.subscribe();
        async move {
            let waiting = async {
                loop {
                    if let Some(found) = check(&self.lock()) {
                        return found;
                    }
                    // The sender lives as long as `self`, so this never errs.
                    let _ = changes.changed().await;
                }
            };
            tokio::time::timeout(timeout, waiting).await.ok()
        }
    }
}

struct Config {
    heartbeat_interval: Duration,
    ack_heartbeats: bool,
    message_content_allowed: bool,
    reject_privileged: bool,
    resume_allowed: bool,
    interaction_deadline: Duration,
    recommended_shards: u32,
    limit: StartLimit,
    /// Whether a second IDENTIFY in a bucket within 5 s is refused.
    police_window: bool,
}

/// A gateway session (survives its connection, so it can be resumed).
struct Session {
    seq: u64,
    intents: u64,
    /// The shard it was identified as: `[id, total]`.
    shard: [u64; 2],
    /// The session requested MESSAGE_CONTENT and the portal allows it.
    content_access: bool,
}

/// An open websocket.
struct Connection {
    tx: mpsc::UnboundedSender<Outgoing>,
    session: Option<String>,
}

/// A channel the fake knows.
enum ChannelInfo {
    /// A text channel in this guild.
    Guild(u64),
    /// A DM with this user.
    Dm {
        recipient_id: u64,
        recipient_name: String,
    },
}

impl ChannelInfo {
    fn dm_with(recipient_id: u64, recipient_name: &str) -> Self {
        ChannelInfo::Dm {
            recipient_id,
            recipient_name: recipient_name.to_owned(),
        }
    }

    fn guild_id(&self) -> Option<u64> {
        match self {
            ChannelInfo::Guild(guild_id) => Some(*guild_id),
            ChannelInfo::Dm { .. } => None,
        }
    }
}

/// An interaction the fake dispatched.
struct Interaction {
    token: String,
    /// 2 command, 3 component, 4 autocomplete.
    kind: u64,
    channel_id: u64,
    created: Instant,
    /// The callback type once answered.
    response: Option<u64>,
    /// The message a component interaction came from.
    source_message: Option<u64>,
    /// The response message (callbacks 4 and 5), or for a component interaction answered
    /// with 6 or 7, the message the component is on (what `@original` then addresses).
    original: Option<u64>,
    /// What Discord puts on the response message as `interaction_metadata`.
    metadata: Value,
}

/// Who triggers an interaction, where, and of which type.
struct Invocation<'a> {
    kind: u64,
    guild_id: Option<u64>,
    channel_id: u64,
    user_id: u64,
    user_name: &'a str,
    permissions: u64,
    locale: &'a str,
}

/// Decides from `(method, path)` whether an injected fault applies to a request.
type RequestMatcher = Box<dyn Fn(&str, &str) -> bool + Send>;

struct FaultRule {
    remaining: usize,
    fault: RestFault,
    matches: RequestMatcher,
}

struct State {
    port: u16,
    config: Config,
    last_id: u64,
    requests: Vec<Recorded>,
    gateway_events: Vec<GatewayRecord>,
    faults: VecDeque<FaultRule>,
    connections: HashMap<u64, Connection>,
    last_conn: u64,
    sessions: HashMap<String, Session>,
    /// Per shard id, the connection and session its dispatches go to.
    active: HashMap<u32, (u64, String)>,
    /// The bot's shard count, from the newest IDENTIFY: routes events to shards.
    shard_total: u32,
    /// Dispatches waiting for a READY or RESUMED session of their shard.
    pending: VecDeque<(String, Value)>,
    /// When the session start budget goes back to its total.
    limit_reset_at: Instant,
    /// Per IDENTIFY bucket (`shard_id % max_concurrency`), the last accepted IDENTIFY.
    last_identify: HashMap<u64, Instant>,
    global_commands: Vec<Value>,
    guild_commands: HashMap<u64, Vec<Value>>,
    messages: HashMap<u64, Value>,
    interactions: HashMap<u64, Interaction>,
    channels: HashMap<u64, ChannelInfo>,
}

impl State {
    fn new(port: u16) -> Self {
        let channels = HashMap::from([
            (
                FakeDiscord::CHANNEL_ID,
                ChannelInfo::Guild(FakeDiscord::GUILD_ID),
            ),
            (
                FakeDiscord::DM_CHANNEL_ID,
                ChannelInfo::dm_with(FakeDiscord::USER_ID, FakeDiscord::USER_NAME),
            ),
        ]);
        Self {
            port,
            config: Config {
                heartbeat_interval: Duration::from_millis(41_250),
                ack_heartbeats: true,
                message_content_allowed: true,
                reject_privileged: true,
                resume_allowed: true,
                interaction_deadline: Duration::from_secs(3),
                recommended_shards: 1,
                limit: StartLimit::default(),
                police_window: false,
            },
            last_id: 0,
            requests: Vec::new(),
            gateway_events: Vec::new(),
            faults: VecDeque::new(),
            connections: HashMap::new(),
            last_conn: 0,
            sessions: HashMap::new(),
            active: HashMap::new(),
            shard_total: 1,
            pending: VecDeque::new(),
            limit_reset_at: Instant::now() + StartLimit::default().reset_after,
            last_identify: HashMap::new(),
            global_commands: Vec::new(),
            guild_commands: HashMap::new(),
            messages: HashMap::new(),
            interactions: HashMap::new(),
            channels,
        }
    }

    fn gateway_url(&self) -> String {
        format!("ws://127.0.0.1:{}/gateway-ws", self.port)
    }

    /// A fresh snowflake: current time in the high bits, strictly increasing.
    fn next_id(&mut self) -> u64 {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_millis() as u64;
        let id = (now_ms.saturating_sub(DISCORD_EPOCH_MS) << 22).max(self.last_id + 1);
        self.last_id = id;
        id
    }

    fn application_flags(&self) -> u64 {
        if self.config.message_content_allowed {
            FLAG_MESSAGE_CONTENT_LIMITED
        } else {
            0
        }
    }

    fn bot_user() -> Value {
        json!({
            "id": FakeDiscord::BOT_USER_ID.to_string(),
            "username": FakeDiscord::BOT_NAME,
            "global_name": null,
            "avatar": null,
            "bot": true,
            "verified": true,
            "mfa_enabled": false,
            "flags": 0,
        })
    }

    fn user(id: u64, name: &str, bot: bool) -> Value {
        json!({
            "id": id.to_string(),
            "username": name,
            "global_name": null,
            "avatar": null,
            "bot": bot,
            "public_flags": 0,
        })
    }

    fn member(user: Option<Value>, permissions: Option<u64>) -> Value {
        let mut member = json!({
            "roles": [],
            "joined_at": "2024-01-01T00:00:00.000Z",
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
        });
        if let Some(user) = user {
            member["user"] = user;
        }
        if let Some(bits) = permissions {
            member["permissions"] = json!(bits.to_string());
        }
        member
    }

    fn timestamp() -> String {
        serenity::model::Timestamp::now().to_string()
    }

    /// The JSON of a message with everything serenity requires; `extra` fields override.
    fn message_json(
        id: u64,
        channel_id: u64,
        guild_id: Option<u64>,
        author: Value,
        extra: Value,
    ) -> Value {
        let mut message = json!({
            "id": id.to_string(),
            "channel_id": channel_id.to_string(),
            "author": author,
            "content": "",
            "timestamp": Self::timestamp(),
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": false,
            "type": 0,
            "flags": 0,
        });
        if let Some(guild_id) = guild_id {
            message["guild_id"] = json!(guild_id.to_string());
        }
        if let (Value::Object(message), Value::Object(extra)) = (&mut message, extra) {
            message.extend(extra);
        }
        message
    }

    /// The MESSAGE_CREATE data for a user's message.
    fn user_message(&mut self, id: u64, spec: &MessageSpec) -> Value {
        self.channels
            .entry(spec.channel_id)
            .or_insert_with(|| match spec.guild_id {
                Some(guild_id) => ChannelInfo::Guild(guild_id),
                None => ChannelInfo::dm_with(spec.author_id, &spec.author_name),
            });
        let author = Self::user(spec.author_id, &spec.author_name, spec.author_bot);
        let mentions: Vec<Value> = mentioned_ids(&spec.content)
            .into_iter()
            .map(|user_id| {
                if user_id == FakeDiscord::BOT_USER_ID {
                    Self::bot_user()
                } else {
                    Self::user(user_id, &format!("user{user_id}"), false)
                }
            })
            .collect();
        let mut extra = json!({"content": spec.content, "mentions": mentions});
        if let Some(webhook_id) = spec.webhook_id {
            extra["webhook_id"] = json!(webhook_id.to_string());
        } else if spec.guild_id.is_some() {
            extra["member"] = Self::member(None, None);
        }
        Self::message_json(id, spec.channel_id, spec.guild_id, author, extra)
    }

    /// A message the bot creates from a request body (`webhook` for interaction messages).
    fn bot_message(&mut self, channel_id: u64, body: &Value, webhook: bool) -> Value {
        let id = self.next_id();
        let guild_id = self
            .channels
            .get(&channel_id)
            .and_then(ChannelInfo::guild_id);
        let mut extra = json!({});
        for key in ["content", "embeds", "components", "flags", "tts"] {
            if !body[key].is_null() {
                extra[key] = body[key].clone();
            }
        }
        if let Some(reference) = body["message_reference"].as_object() {
            extra["type"] = json!(19);
            extra["message_reference"] = json!({
                "type": 0,
                "message_id": reference.get("message_id"),
                "channel_id": channel_id.to_string(),
                "guild_id": guild_id.map(|g| g.to_string()),
            });
            let referenced = reference.get("message_id").and_then(snowflake);
            if let Some(referenced) = referenced.and_then(|m| self.messages.get(&m)) {
                extra["referenced_message"] = referenced.clone();
            }
        }
        if webhook {
            extra["webhook_id"] = json!(FakeDiscord::APPLICATION_ID.to_string());
            extra["application_id"] = json!(FakeDiscord::APPLICATION_ID.to_string());
        }
        let message = Self::message_json(id, channel_id, guild_id, Self::bot_user(), extra);
        self.messages.insert(id, message.clone());
        message
    }

    /// Applies an edit body to a stored message and returns the new version.
    fn edit_message(&mut self, id: u64, body: &Value) -> Option<Value> {
        let message = self.messages.get_mut(&id)?;
        for key in ["content", "embeds", "components", "flags"] {
            if !body[key].is_null() {
                message[key] = body[key].clone();
            }
        }
        message["edited_timestamp"] = json!(Self::timestamp());
        Some(message.clone())
    }

    fn command_interaction(&mut self, kind: u64, spec: &InteractionSpec) -> u64 {
        self.channels
            .entry(spec.channel_id)
            .or_insert_with(|| match spec.guild_id {
                Some(guild_id) => ChannelInfo::Guild(guild_id),
                None => ChannelInfo::dm_with(spec.user_id, &spec.user_name),
            });
        let registered = spec
            .guild_id
            .and_then(|g| self.guild_commands.get(&g))
            .into_iter()
            .flatten()
            .chain(&self.global_commands)
            .find(|c| c["name"] == spec.name.as_str())
            .and_then(|c| c["id"].as_str())
            .map(str::to_owned);
        let command_id = registered.unwrap_or_else(|| self.next_id().to_string());
        let options: Vec<Value> = spec.options.iter().map(OptionSpec::to_json).collect();
        let data = json!({"id": command_id, "name": spec.name, "type": 1, "options": options});
        let invocation = Invocation {
            kind,
            guild_id: spec.guild_id,
            channel_id: spec.channel_id,
            user_id: spec.user_id,
            user_name: &spec.user_name,
            permissions: spec.permissions,
            locale: &spec.locale,
        };
        self.interaction(&invocation, data, None)
    }

    fn message_command_interaction(&mut self, spec: &InteractionSpec, message_id: u64) -> u64 {
        let message = self
            .messages
            .get(&message_id)
            .unwrap_or_else(|| panic!("send_message_command: message {message_id} is not stored"))
            .clone();
        let registered = spec
            .guild_id
            .and_then(|g| self.guild_commands.get(&g))
            .into_iter()
            .flatten()
            .chain(&self.global_commands)
            .find(|c| c["name"] == spec.name.as_str() && c["type"] == 3)
            .and_then(|c| c["id"].as_str())
            .map(str::to_owned);
        let command_id = registered.unwrap_or_else(|| self.next_id().to_string());
        let id = message_id.to_string();
        let data = json!({
            "id": command_id,
            "name": spec.name,
            "type": 3,
            "target_id": id,
            "resolved": {"messages": {id.clone(): message}},
        });
        let invocation = Invocation {
            kind: 2,
            guild_id: spec.guild_id,
            channel_id: spec.channel_id,
            user_id: spec.user_id,
            user_name: &spec.user_name,
            permissions: spec.permissions,
            locale: &spec.locale,
        };
        self.interaction(&invocation, data, None)
    }

    fn component_interaction(&mut self, spec: &ComponentSpec) -> u64 {
        let message = self
            .messages
            .get(&spec.message_id)
            .unwrap_or_else(|| panic!("send_component: message {} is not stored", spec.message_id))
            .clone();
        let channel_id = message["channel_id"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .expect("channel id");
        let guild_id = message["guild_id"].as_str().and_then(|g| g.parse().ok());
        let mut data = json!({"custom_id": spec.custom_id, "component_type": 2});
        if let Some(values) = &spec.values {
            data["component_type"] = json!(3);
            data["values"] = json!(values);
        }
        let invocation = Invocation {
            kind: 3,
            guild_id,
            channel_id,
            user_id: spec.user_id,
            user_name: &spec.user_name,
            permissions: spec.permissions,
            locale: "en-US",
        };
        self.interaction(&invocation, data, Some(message))
    }

    /// Builds, stores and dispatches an INTERACTION_CREATE.
    fn interaction(
        &mut self,
        invocation: &Invocation<'_>,
        data: Value,
        message: Option<Value>,
    ) -> u64 {
        let &Invocation {
            kind,
            guild_id,
            channel_id,
            user_id,
            user_name,
            permissions,
            locale,
        } = invocation;
        let id = self.next_id();
        let token = format!("fake-interaction-token-{id}");
        let user = Self::user(user_id, user_name, false);
        let mut payload = json!({
            "id": id.to_string(),
            "application_id": FakeDiscord::APPLICATION_ID.to_string(),
            "type": kind,
            "data": data,
            "channel_id": channel_id.to_string(),
            "channel": {"id": channel_id.to_string(), "type": if guild_id.is_some() { 0 } else { 1 }},
            "token": token,
            "version": 1,
            "app_permissions": MEMBER_PERMISSIONS.to_string(),
            "locale": locale,
            "entitlements": [],
            "context": if guild_id.is_some() { 0 } else { 1 },
            "attachment_size_limit": 26_214_400,
        });
        match guild_id {
            Some(guild_id) => {
                payload["guild_id"] = json!(guild_id.to_string());
                payload["guild_locale"] = json!("en-US");
                payload["member"] = Self::member(Some(user), Some(permissions));
            }
            None => payload["user"] = user,
        }
        let source_message = message
            .as_ref()
            .and_then(|m| m["id"].as_str())
            .and_then(|m| m.parse().ok());
        if let Some(message) = message {
            payload["message"] = message;
        }
        let owner = match guild_id {
            Some(guild_id) => json!({"0": guild_id.to_string()}),
            None => json!({"1": user_id.to_string()}),
        };
        let metadata = json!({
            "id": id.to_string(),
            "type": kind,
            "user": Self::user(user_id, user_name, false),
            "authorizing_integration_owners": owner,
        });
        self.interactions.insert(
            id,
            Interaction {
                token,
                kind,
                channel_id,
                created: Instant::now(),
                response: None,
                source_message,
                original: None,
                metadata,
            },
        );
        self.dispatch("INTERACTION_CREATE", payload);
        id
    }

    fn reaction(&mut self, spec: &ReactionSpec) {
        let message = self
            .messages
            .get(&spec.message_id)
            .unwrap_or_else(|| panic!("send_reaction: message {} is not stored", spec.message_id));
        let mut data = json!({
            "user_id": spec.user_id.to_string(),
            "channel_id": message["channel_id"],
            "message_id": spec.message_id.to_string(),
            "message_author_id": message["author"]["id"],
            "emoji": {"id": null, "name": spec.emoji},
            "burst": false,
            "burst_colors": [],
            "type": 0,
        });
        if let Some(guild_id) = message.get("guild_id") {
            data["guild_id"] = guild_id.clone();
            let user = Self::user(spec.user_id, &format!("user{}", spec.user_id), false);
            data["member"] = Self::member(Some(user), None);
        }
        self.dispatch("MESSAGE_REACTION_ADD", data);
    }

    fn guild_create(&mut self, guild_id: u64, name: &str) -> u64 {
        let channel_id = if guild_id == FakeDiscord::GUILD_ID {
            FakeDiscord::CHANNEL_ID
        } else {
            self.next_id()
        };
        self.channels
            .insert(channel_id, ChannelInfo::Guild(guild_id));
        let data = json!({
            "id": guild_id.to_string(),
            "name": name,
            "icon": null,
            "owner_id": FakeDiscord::USER_ID.to_string(),
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": [],
            "emojis": [],
            "features": [],
            "mfa_level": 0,
            "system_channel_flags": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "nsfw_level": 0,
            "stickers": [],
            "premium_progress_bar_enabled": false,
            "joined_at": Self::timestamp(),
            "large": false,
            "unavailable": false,
            "member_count": 2,
            "voice_states": [],
            "members": [],
            "channels": [self.channel_json(channel_id)],
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
        });
        self.dispatch("GUILD_CREATE", data);
        channel_id
    }

    /// A known channel's object: a guild text channel or a DM.
    fn channel_json(&self, channel_id: u64) -> Option<Value> {
        Some(match self.channels.get(&channel_id)? {
            ChannelInfo::Guild(guild_id) => json!({
                "id": channel_id.to_string(),
                "type": 0,
                "guild_id": guild_id.to_string(),
                "name": "general",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": false,
                "topic": null,
                "last_message_id": null,
                "rate_limit_per_user": 0,
                "parent_id": null,
            }),
            ChannelInfo::Dm {
                recipient_id,
                recipient_name,
            } => json!({
                "id": channel_id.to_string(),
                "type": 1,
                "last_message_id": null,
                "recipients": [Self::user(*recipient_id, recipient_name, false)],
            }),
        })
    }
}

/// User ids mentioned as `<@id>` or `<@!id>` in message content, in order, without repeats.
fn mentioned_ids(content: &str) -> Vec<u64> {
    let mut ids = Vec::new();
    for part in content.split("<@").skip(1) {
        let part = part.strip_prefix('!').unwrap_or(part);
        let Some((digits, _)) = part.split_once('>') else {
            continue;
        };
        if let Ok(id) = digits.parse::<u64>() {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// A snowflake sent as a JSON string or number.
fn snowflake(value: &Value) -> Option<u64> {
    match value {
        Value::String(s) => s.parse().ok(),
        other => other.as_u64(),
    }
}
