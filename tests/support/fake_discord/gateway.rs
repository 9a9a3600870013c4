//! The gateway websocket: one task per connection, plus the session logic on [`State`].
//!
//! Every frame for a connection goes through its channel, queued while the state lock is held,
//! so frames leave in the order their sequence numbers were assigned.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State as AxumState};
use axum::response::Response;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::{
    intents, shard_field, Connection, FakeDiscord, GatewayRecord, Session, Shared, StartLimit,
    State,
};

/// Discord's IDENTIFY window: one per bucket per 5 s.
const IDENTIFY_WINDOW: Duration = Duration::from_secs(5);
/// Slack on that window: serenity measures its 5 s from when its previous connection opened,
/// a few milliseconds before that shard's IDENTIFY reaches the gateway.
const WINDOW_SLACK: Duration = Duration::from_millis(250);

/// What a connection task should do next.
pub(super) enum Outgoing {
    /// Send a JSON text frame.
    Frame(Value),
    /// Send a close frame with this code, then keep reading until the client goes away.
    Close(u16),
    /// Drop the TCP stream without a close frame.
    Drop,
}

/// `GET /gateway-ws`: upgrades to a websocket and runs the connection.
pub(super) async fn upgrade(
    AxumState(shared): AxumState<Arc<Shared>>,
    RawQuery(query): RawQuery,
    ws: WebSocketUpgrade,
) -> Response {
    ws.max_message_size(1 << 20)
        .on_upgrade(move |socket| run(shared, socket, query))
}

async fn run(shared: Arc<Shared>, mut socket: WebSocket, query: Option<String>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let conn = shared.update(|s| s.open(tx, query));
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => shared.update(|s| s.client_frame(conn, text.as_str())),
                Some(Ok(Message::Close(frame))) => shared.update(|s| {
                    s.gateway_events.push(GatewayRecord::ClientClosed { conn, code: frame.map(|f| f.code) });
                }),
                Some(Ok(_)) => {},
                Some(Err(_)) | None => break,
            },
            Some(out) = rx.recv() => match out {
                Outgoing::Frame(payload) => {
                    if socket.send(Message::Text(payload.to_string().into())).await.is_err() {
                        break;
                    }
                },
                Outgoing::Close(code) => {
                    let frame = CloseFrame { code, reason: "closed by fake discord".into() };
                    // Keep reading afterwards so the client can finish the close handshake.
                    let _ = socket.send(Message::Close(Some(frame))).await;
                },
                Outgoing::Drop => break,
            },
        }
    }
    shared.update(|s| s.closed(conn));
}

impl State {
    /// Registers a new connection and greets it with HELLO (or 4012 for a wrong API version).
    fn open(&mut self, tx: mpsc::UnboundedSender<Outgoing>, query: Option<String>) -> u64 {
        self.last_conn += 1;
        let conn = self.last_conn;
        self.connections
            .insert(conn, Connection { tx, session: None });
        let version = query.as_deref().and_then(|q| {
            q.split('&')
                .find_map(|pair| pair.strip_prefix("v="))
                .map(str::to_owned)
        });
        self.gateway_events
            .push(GatewayRecord::Connected { conn, query });
        if version.is_some_and(|v| v != "10") {
            self.send(conn, Outgoing::Close(4012));
            return conn;
        }
        let interval = self.config.heartbeat_interval.as_millis() as u64;
        self.send(
            conn,
            Outgoing::Frame(
                json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": interval}}),
            ),
        );
        conn
    }

    /// Forgets a connection whose socket ended.
    fn closed(&mut self, conn: u64) {
        self.connections.remove(&conn);
        self.active.retain(|_, (active, _)| *active != conn);
        self.gateway_events
            .push(GatewayRecord::Disconnected { conn });
    }

    /// Handles one text frame from a client.
    fn client_frame(&mut self, conn: u64, text: &str) {
        let Ok(payload) = serde_json::from_str::<Value>(text) else {
            self.send(conn, Outgoing::Close(4002));
            return;
        };
        match payload["op"].as_u64() {
            Some(1) => {
                let seq = payload["d"].as_u64();
                self.gateway_events
                    .push(GatewayRecord::Heartbeat { conn, seq });
                if self.config.ack_heartbeats {
                    self.send(conn, Outgoing::Frame(json!({"op": 11})));
                }
            }
            Some(2) => self.identify(conn, payload),
            Some(6) => self.resume(conn, payload),
            _ => {
                let authenticated = self
                    .connections
                    .get(&conn)
                    .is_some_and(|c| c.session.is_some());
                self.gateway_events
                    .push(GatewayRecord::ClientPayload { conn, payload });
                if !authenticated {
                    self.send(conn, Outgoing::Close(4003));
                }
            }
        }
    }

    fn token_ok(payload: &Value) -> bool {
        let token = payload["d"]["token"].as_str().unwrap_or("");
        token.strip_prefix("Bot ").unwrap_or(token) == FakeDiscord::TOKEN
    }

    /// The session start limit now: `remaining` back to `total` once the reset time passed.
    pub(super) fn start_limit(&mut self) -> StartLimit {
        let now = Instant::now();
        if now >= self.limit_reset_at {
            self.config.limit.remaining = self.config.limit.total;
            self.limit_reset_at = now + self.config.limit.reset_after;
        }
        self.config.limit
    }

    /// Whether an IDENTIFY of `shard` may start a session now, as Discord decides; refusals
    /// are recorded and answered (close 4004, or op 9).
    fn identify_allowed(&mut self, conn: u64, shard: [u64; 2]) -> bool {
        let limit = self.start_limit();
        let bucket = shard[0] % limit.max_concurrency.max(1);
        let now = Instant::now();
        let refusal = if limit.remaining == 0 {
            Some((
                4004,
                "session start limit reached (remaining = 0)".to_owned(),
            ))
        } else {
            let last = self
                .last_identify
                .get(&bucket)
                .filter(|_| self.config.police_window);
            last.and_then(|last| {
                let since = now.duration_since(*last);
                (since + WINDOW_SLACK < IDENTIFY_WINDOW).then(|| {
                    (
                        9,
                        format!(
                            "bucket {bucket} identified {since:?} ago (max_concurrency {})",
                            limit.max_concurrency
                        ),
                    )
                })
            })
        };
        match refusal {
            Some((code, reason)) => {
                self.gateway_events.push(GatewayRecord::IdentifyRefused {
                    conn,
                    shard,
                    code,
                    reason,
                });
                if code == 9 {
                    self.send(conn, Outgoing::Frame(json!({"op": 9, "d": false})));
                } else {
                    self.send(conn, Outgoing::Close(code));
                }
                false
            }
            None => {
                self.config.limit.remaining -= 1;
                self.last_identify.insert(bucket, now);
                true
            }
        }
    }

    fn identify(&mut self, conn: u64, payload: Value) {
        self.gateway_events.push(GatewayRecord::Identify {
            conn,
            payload: payload.clone(),
            at: Instant::now(),
        });
        if self
            .connections
            .get(&conn)
            .is_some_and(|c| c.session.is_some())
        {
            return self.send(conn, Outgoing::Close(4005));
        }
        if !Self::token_ok(&payload) {
            return self.send(conn, Outgoing::Close(4004));
        }
        let Some(intents) = payload["d"]["intents"].as_u64() else {
            return self.send(conn, Outgoing::Close(4013));
        };
        let wants_content = intents & intents::MESSAGE_CONTENT != 0;
        if wants_content && !self.config.message_content_allowed && self.config.reject_privileged {
            return self.send(conn, Outgoing::Close(4014));
        }
        let shard = shard_field(&payload["d"]["shard"]);
        if shard[1] == 0 || shard[0] >= shard[1] {
            return self.send(conn, Outgoing::Close(4010));
        }
        if !self.identify_allowed(conn, shard) {
            return;
        }
        self.shard_total = shard[1] as u32;
        let session_id = format!("fake-session-{}", self.next_id());
        let content_access = wants_content && self.config.message_content_allowed;
        self.sessions.insert(
            session_id.clone(),
            Session {
                seq: 0,
                intents,
                shard,
                content_access,
            },
        );
        let ready = json!({
            "v": 10,
            "user": Self::bot_user(),
            "guilds": [{"id": FakeDiscord::GUILD_ID.to_string(), "unavailable": true}],
            "session_id": session_id,
            "resume_gateway_url": self.gateway_url(),
            "shard": payload["d"]["shard"],
            "application": {
                "id": FakeDiscord::APPLICATION_ID.to_string(),
                "flags": self.application_flags(),
            },
        });
        self.attach(conn, &session_id, "READY", ready);
    }

    fn resume(&mut self, conn: u64, payload: Value) {
        self.gateway_events.push(GatewayRecord::Resume {
            conn,
            payload: payload.clone(),
        });
        if !Self::token_ok(&payload) {
            return self.send(conn, Outgoing::Close(4004));
        }
        let session_id = payload["d"]["session_id"].as_str().unwrap_or("").to_owned();
        if !self.config.resume_allowed || !self.sessions.contains_key(&session_id) {
            return self.send(conn, Outgoing::Frame(json!({"op": 9, "d": false})));
        }
        self.attach(conn, &session_id, "RESUMED", json!({}));
    }

    /// Binds a session to a connection, sends READY/RESUMED and flushes the dispatches queued
    /// for its shard.
    fn attach(&mut self, conn: u64, session_id: &str, event: &str, data: Value) {
        if let Some(connection) = self.connections.get_mut(&conn) {
            connection.session = Some(session_id.to_owned());
        }
        let shard = self
            .sessions
            .get(session_id)
            .map_or(0, |s| s.shard[0] as u32);
        self.active.insert(shard, (conn, session_id.to_owned()));
        self.send_dispatch(conn, session_id, event, data);
        let queued = std::mem::take(&mut self.pending);
        for (event, data) in queued {
            if self.shard_for(&data) == shard {
                self.deliver(conn, session_id, &event, data);
            } else {
                self.pending.push_back((event, data));
            }
        }
    }

    /// The shard Discord sends an event to: `(guild_id >> 22) % total`, or 0 without a guild.
    fn shard_for(&self, data: &Value) -> u32 {
        let guild = data["guild_id"]
            .as_str()
            .and_then(|g| g.parse::<u64>().ok());
        guild.map_or(0, |g| {
            ((g >> 22) % u64::from(self.shard_total.max(1))) as u32
        })
    }

    /// Sends an event to the live session of its shard, or queues it until there is one.
    pub(super) fn dispatch(&mut self, event: &str, data: Value) {
        match self.active.get(&self.shard_for(&data)).cloned() {
            Some((conn, session_id)) => self.deliver(conn, &session_id, event, data),
            None => self.pending.push_back((event.to_owned(), data)),
        }
    }

    /// Applies the session's intents, then sends.
    fn deliver(&mut self, conn: u64, session_id: &str, event: &str, data: Value) {
        let Some(session) = self.sessions.get(session_id) else {
            return;
        };
        match shape(event, data, session) {
            Ok(data) => self.send_dispatch(conn, session_id, event, data),
            Err(reason) => {
                self.gateway_events.push(GatewayRecord::Withheld {
                    event: event.to_owned(),
                    reason,
                });
            }
        }
    }

    fn send_dispatch(&mut self, conn: u64, session_id: &str, event: &str, data: Value) {
        let Some(session) = self.sessions.get_mut(session_id) else {
            return;
        };
        session.seq += 1;
        let frame = json!({"op": 0, "t": event, "s": session.seq, "d": data});
        self.send(conn, Outgoing::Frame(frame));
    }

    /// Queues `out` on a connection and records it; a close or drop detaches the connection.
    pub(super) fn send(&mut self, conn: u64, out: Outgoing) {
        let Some(connection) = self.connections.get(&conn) else {
            return;
        };
        let event = match &out {
            Outgoing::Frame(payload) => GatewayRecord::Sent {
                conn,
                payload: payload.clone(),
            },
            Outgoing::Close(code) => GatewayRecord::ServerClosed { conn, code: *code },
            Outgoing::Drop => GatewayRecord::ServerDropped { conn },
        };
        let detach = !matches!(out, Outgoing::Frame(_));
        // The receiver only goes away with the connection task, which then cleans up itself.
        let _ = connection.tx.send(out);
        self.gateway_events.push(event);
        if detach {
            self.connections.remove(&conn);
            self.active.retain(|_, (active, _)| *active != conn);
        }
    }

    /// Runs `f` on the newest open connection; `false` if there is none.
    pub(super) fn on_newest_connection(&mut self, f: impl FnOnce(&mut Self, u64)) -> bool {
        match self.connections.keys().max().copied() {
            Some(conn) => {
                f(self, conn);
                true
            }
            None => false,
        }
    }
}

/// What a session receives of an event: `Err(reason)` if its intents exclude the event; guild
/// message content is blanked without the message-content intent unless the bot is mentioned.
fn shape(event: &str, mut data: Value, session: &Session) -> Result<Value, String> {
    let in_guild = !data["guild_id"].is_null();
    let needed = match (event, in_guild) {
        ("MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE", true) => intents::GUILD_MESSAGES,
        ("MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE", false) => intents::DIRECT_MESSAGES,
        ("MESSAGE_REACTION_ADD" | "MESSAGE_REACTION_REMOVE", true) => {
            intents::GUILD_MESSAGE_REACTIONS
        }
        ("MESSAGE_REACTION_ADD" | "MESSAGE_REACTION_REMOVE", false) => {
            intents::DIRECT_MESSAGE_REACTIONS
        }
        ("GUILD_CREATE" | "GUILD_UPDATE" | "GUILD_DELETE", _) => intents::GUILDS,
        _ => 0,
    };
    if session.intents & needed != needed {
        return Err(format!("{event} needs intent bit {needed:#x}"));
    }
    if matches!(event, "MESSAGE_CREATE" | "MESSAGE_UPDATE") && in_guild && !session.content_access {
        let bot_id = FakeDiscord::BOT_USER_ID.to_string();
        let by_bot = data["author"]["id"] == bot_id.as_str();
        let mentions_bot = data["mentions"]
            .as_array()
            .is_some_and(|m| m.iter().any(|u| u["id"] == bot_id.as_str()));
        if !by_bot && !mentions_bot {
            data["content"] = json!("");
            for key in ["embeds", "attachments", "components"] {
                data[key] = json!([]);
            }
        }
    }
    Ok(data)
}
