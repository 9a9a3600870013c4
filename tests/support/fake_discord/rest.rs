//! The REST API under `/api/v10`: routing, Discord-style errors, fault injection.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::validate::{self, FieldError};
use super::{snowflake, ChannelInfo, FakeDiscord, Recorded, RestFault, Shared, State};

const API_PREFIX: &str = "/api/v10";

/// The fake's answer to one request.
struct Reply {
    status: u16,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
    /// Refused for breaking Discord's body rules.
    rejected: bool,
}

impl Reply {
    fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
            headers: Vec::new(),
            rejected: false,
        }
    }

    fn ok(body: Value) -> Self {
        Self::json(200, body)
    }

    fn no_content() -> Self {
        Self {
            status: 204,
            body: None,
            headers: Vec::new(),
            rejected: false,
        }
    }

    /// A Discord JSON error: `{"code": .., "message": ..}`.
    fn error(status: u16, code: u64, message: &str) -> Self {
        Self::json(status, json!({"code": code, "message": message}))
    }

    /// A 400 refusal for breaking a body rule (recorded as rejected).
    fn refuse(code: u64, message: &str, errors: Option<Value>) -> Self {
        let mut body = json!({"code": code, "message": message});
        if let Some(errors) = errors {
            body["errors"] = errors;
        }
        Self {
            rejected: true,
            ..Self::json(400, body)
        }
    }

    /// `50035 Invalid Form Body` with the nested errors.
    fn invalid(errors: &[FieldError]) -> Self {
        Self::refuse(
            50035,
            "Invalid Form Body",
            Some(validate::errors_json(errors)),
        )
    }

    fn not_found() -> Self {
        Self::error(404, 0, "404: Not Found")
    }

    fn fault(fault: RestFault) -> Self {
        match fault {
            RestFault::RateLimited {
                retry_after,
                global,
            } => {
                let mut body = json!({
                    "message": "You are being rate limited.",
                    "retry_after": retry_after,
                    "global": global,
                });
                if global {
                    body["code"] = json!(0);
                }
                let mut reply = Self::json(429, body);
                reply.headers = vec![
                    ("retry-after", (retry_after.ceil() as u64).to_string()),
                    ("x-ratelimit-limit", "5".to_owned()),
                    ("x-ratelimit-remaining", "0".to_owned()),
                    ("x-ratelimit-reset-after", retry_after.to_string()),
                    ("x-ratelimit-bucket", "fake-bucket".to_owned()),
                    (
                        "x-ratelimit-scope",
                        if global { "global" } else { "user" }.to_owned(),
                    ),
                ];
                if global {
                    reply
                        .headers
                        .push(("x-ratelimit-global", "true".to_owned()));
                }
                reply
            }
            RestFault::Status(status) => {
                let reason = StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error");
                Self::error(status, 0, &format!("{status}: {reason}"))
            }
        }
    }
}

/// Every request outside `/gateway-ws`: decoded, answered and recorded.
pub(super) async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |name| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let content_type = header(header::CONTENT_TYPE).unwrap_or_default();
    let (body, attachments, malformed) = decode_body(&content_type, &body);
    let path = uri.path();
    let mut request = Recorded {
        at: std::time::Instant::now(),
        method: method.as_str().to_owned(),
        path: percent_decode(path.strip_prefix(API_PREFIX).unwrap_or(path)),
        query: uri.query().map(str::to_owned),
        body,
        attachments,
        authorization: header(header::AUTHORIZATION),
        status: 0,
        response: None,
        rejected: false,
        unsafe_mentions: None,
    };
    let routed = path.starts_with(API_PREFIX);
    let reply = shared.update(|state| {
        let reply = if !routed {
            Reply::not_found()
        } else if malformed {
            Reply::refuse(50109, "The request body contains invalid JSON.", None)
        } else {
            state.route(&mut request)
        };
        request.status = reply.status;
        request.response = reply.body.clone();
        request.rejected = reply.rejected;
        state.requests.push(request);
        reply
    });

    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = match reply.body {
        Some(body) => (status, axum::Json(body)).into_response(),
        None => status.into_response(),
    };
    for (name, value) in reply.headers {
        if let Ok(value) = value.parse() {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// The JSON body (`payload_json` for multipart), attachment file names, and whether the body
/// could not be decoded.
fn decode_body(content_type: &str, body: &[u8]) -> (Option<Value>, Vec<String>, bool) {
    if body.is_empty() {
        return (None, Vec::new(), false);
    }
    if let Some(boundary) = content_type.split("boundary=").nth(1) {
        let boundary = boundary.trim_matches('"');
        let mut payload = None;
        let mut files = Vec::new();
        for part in split(body, format!("--{boundary}").as_bytes()) {
            let Some(end) = find(part, b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&part[..end]);
            let content = part[end + 4..]
                .strip_suffix(b"\r\n")
                .unwrap_or(&part[end + 4..]);
            if head.contains("name=\"payload_json\"") {
                payload = serde_json::from_slice(content).ok();
            } else if let Some(name) = head.split("filename=\"").nth(1) {
                files.push(name.split('"').next().unwrap_or_default().to_owned());
            }
        }
        let malformed = payload.is_none();
        return (payload, files, malformed);
    }
    match serde_json::from_slice(body) {
        Ok(value) => (Some(value), Vec::new(), false),
        Err(_) => (None, Vec::new(), true),
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split<'a>(mut bytes: &'a [u8], separator: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(at) = find(bytes, separator) {
        parts.push(&bytes[..at]);
        bytes = &bytes[at + separator.len()..];
    }
    parts.push(bytes);
    parts
}

/// Decodes `%XX` escapes (reaction emoji travel percent-encoded in paths).
fn percent_decode(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl State {
    /// Takes the first matching injected fault, if any.
    fn take_fault(&mut self, method: &str, path: &str) -> Option<RestFault> {
        let rule = self
            .faults
            .iter_mut()
            .find(|r| r.remaining > 0 && (r.matches)(method, path))?;
        rule.remaining -= 1;
        let fault = rule.fault;
        self.faults.retain(|r| r.remaining > 0);
        Some(fault)
    }

    fn route(&mut self, request: &mut Recorded) -> Reply {
        if let Some(fault) = self.take_fault(&request.method, &request.path) {
            return Reply::fault(fault);
        }
        let (method, path) = (request.method.clone(), request.path.clone());
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let public = matches!(
            segments.as_slice(),
            ["gateway"] | ["interactions", ..] | ["webhooks", ..]
        );
        let expected = format!("Bot {}", FakeDiscord::TOKEN);
        if !public && request.authorization.as_deref() != Some(expected.as_str()) {
            return Reply::error(401, 0, "401: Unauthorized");
        }
        let body = request.body.clone().unwrap_or(Value::Null);
        let app = FakeDiscord::APPLICATION_ID.to_string();
        match (method.as_str(), segments.as_slice()) {
            ("GET", ["gateway"]) => Reply::ok(json!({"url": self.gateway_url()})),
            ("GET", ["gateway", "bot"]) => {
                let limit = self.start_limit();
                let reset_after = self
                    .limit_reset_at
                    .saturating_duration_since(std::time::Instant::now());
                Reply::ok(json!({
                    "url": self.gateway_url(),
                    "shards": self.config.recommended_shards,
                    "session_start_limit": {
                        "total": limit.total,
                        "remaining": limit.remaining,
                        "reset_after": reset_after.as_millis() as u64,
                        "max_concurrency": limit.max_concurrency,
                    },
                }))
            }
            ("GET", ["users", "@me"]) => Reply::ok(Self::bot_user()),
            ("GET", ["oauth2", "applications", "@me"]) => Reply::ok(self.application_info()),
            ("POST", ["users", "@me", "channels"]) => self.create_dm(&body),
            ("DELETE", ["users", "@me", "guilds", _]) => Reply::no_content(),

            (_, ["applications", id, ..]) if *id != app => {
                Reply::error(403, 50001, "Missing Access")
            }
            (method, ["applications", _, "commands", rest @ ..]) => {
                self.commands(method, None, rest, &body)
            }
            (method, ["applications", _, "guilds", guild, "commands", rest @ ..]) => {
                match guild.parse() {
                    Ok(guild) => self.commands(method, Some(guild), rest, &body),
                    Err(_) => Reply::not_found(),
                }
            }

            ("POST", ["interactions", id, token, "callback"]) => {
                self.callback(id, token, &body, request)
            }
            (_, ["webhooks", id, ..]) if *id != app => Reply::error(404, 10015, "Unknown Webhook"),
            ("POST", ["webhooks", _, token]) => self.followup(token, &body, request),
            (method, ["webhooks", _, token, "messages", message]) => {
                self.webhook_message(method, token, message, &body, request)
            }

            (method, ["channels", channel, rest @ ..]) => match channel.parse() {
                Ok(channel) => self.channel_route(method, channel, rest, &body, request),
                Err(_) => Reply::not_found(),
            },
            _ => Reply::not_found(),
        }
    }

    fn application_info(&self) -> Value {
        json!({
            "id": FakeDiscord::APPLICATION_ID.to_string(),
            "name": FakeDiscord::BOT_NAME,
            "icon": null,
            "description": "",
            "bot_public": false,
            "bot_require_code_grant": false,
            "owner": Self::user(FakeDiscord::USER_ID, FakeDiscord::USER_NAME, false),
            "verify_key": "0".repeat(64),
            "team": null,
            "flags": self.application_flags(),
            "bot": Self::bot_user(),
        })
    }

    /// `POST /users/@me/channels`: opens (or finds) the DM with `recipient_id`.
    fn create_dm(&mut self, body: &Value) -> Reply {
        let Some(recipient) = snowflake(&body["recipient_id"]) else {
            return Reply::invalid(&[FieldError::new(
                "recipient_id",
                "BASE_TYPE_REQUIRED",
                "This field is required",
            )]);
        };
        let existing = self
            .channels
            .iter()
            .find_map(|(id, channel)| match channel {
                ChannelInfo::Dm { recipient_id, .. } if *recipient_id == recipient => Some(*id),
                _ => None,
            });
        let channel_id = existing.unwrap_or_else(|| {
            let id = self.next_id();
            self.channels.insert(
                id,
                ChannelInfo::dm_with(recipient, &format!("user{recipient}")),
            );
            id
        });
        Reply::ok(
            self.channel_json(channel_id)
                .expect("channel just registered"),
        )
    }

    /// Global (`guild: None`) or guild command routes; `rest` is what follows `/commands`.
    fn commands(&mut self, method: &str, guild: Option<u64>, rest: &[&str], body: &Value) -> Reply {
        match (method, rest) {
            ("GET", []) => Reply::ok(json!(self.command_list(guild).clone())),
            ("PUT", []) => {
                let errors = validate::command_list(body);
                if !errors.is_empty() {
                    return Reply::invalid(&errors);
                }
                let old = std::mem::take(self.command_list(guild));
                let stored: Vec<Value> = array(body)
                    .iter()
                    .map(|command| {
                        let previous = old.iter().find(|c| same_command(c, command));
                        self.stored_command(previous, command, guild)
                    })
                    .collect();
                *self.command_list(guild) = stored.clone();
                Reply::ok(json!(stored))
            }
            ("POST", []) => {
                let errors = validate::command(body, "");
                if !errors.is_empty() {
                    return Reply::invalid(&errors);
                }
                let list = self.command_list(guild).clone();
                let previous = list.iter().position(|c| same_command(c, body));
                if previous.is_none() && list.len() >= 100 {
                    return Reply::refuse(
                        30032,
                        "Maximum number of application commands reached (100)",
                        None,
                    );
                }
                let command = self.stored_command(previous.map(|i| &list[i]), body, guild);
                let commands = self.command_list(guild);
                match previous {
                    Some(i) => commands[i] = command.clone(),
                    None => commands.push(command.clone()),
                }
                Reply::json(if previous.is_some() { 200 } else { 201 }, command)
            }
            ("GET", [id]) => match self.command_list(guild).iter().find(|c| c["id"] == *id) {
                Some(command) => Reply::ok(command.clone()),
                None => Reply::error(404, 10063, "Unknown application command"),
            },
            ("DELETE", [id]) => {
                let commands = self.command_list(guild);
                let before = commands.len();
                commands.retain(|c| c["id"] != *id);
                if commands.len() == before {
                    Reply::error(404, 10063, "Unknown application command")
                } else {
                    Reply::no_content()
                }
            }
            _ => Reply::not_found(),
        }
    }

    fn command_list(&mut self, guild: Option<u64>) -> &mut Vec<Value> {
        match guild {
            Some(guild) => self.guild_commands.entry(guild).or_default(),
            None => &mut self.global_commands,
        }
    }

    /// The command as Discord returns it, keeping the id of the command it replaces.
    fn stored_command(
        &mut self,
        previous: Option<&Value>,
        command: &Value,
        guild: Option<u64>,
    ) -> Value {
        let mut stored = command.clone();
        let id = match previous {
            Some(previous) => previous["id"].clone(),
            None => json!(self.next_id().to_string()),
        };
        stored["id"] = id;
        stored["application_id"] = json!(FakeDiscord::APPLICATION_ID.to_string());
        stored["version"] = json!(self.next_id().to_string());
        stored["type"] = json!(command["type"].as_u64().unwrap_or(1));
        for (key, default) in [
            ("description", json!("")),
            ("options", json!([])),
            ("nsfw", json!(false)),
        ] {
            if stored[key].is_null() {
                stored[key] = default;
            }
        }
        if let Some(guild) = guild {
            stored["guild_id"] = json!(guild.to_string());
        }
        stored
    }

    /// `POST /interactions/{id}/{token}/callback`.
    fn callback(&mut self, id: &str, token: &str, body: &Value, request: &mut Recorded) -> Reply {
        let deadline = self.config.interaction_deadline;
        let Some((id, interaction)) = id
            .parse::<u64>()
            .ok()
            .and_then(|id| self.interactions.get(&id).map(|i| (id, i)))
            .filter(|(_, i)| i.token == token && i.created.elapsed() <= deadline)
        else {
            return Reply::error(404, 10062, "Unknown interaction");
        };
        if interaction.response.is_some() {
            return Reply::error(400, 40060, "Interaction has already been acknowledged.");
        }
        let errors = validate::callback(body, interaction.kind);
        if !errors.is_empty() {
            return Reply::invalid(&errors);
        }
        let kind = body["type"].as_u64().unwrap_or_default();
        let data = &body["data"];
        if kind == 4 && validate::is_empty_message(data) {
            return Reply::refuse(50006, "Cannot send an empty message", None);
        }
        if matches!(kind, 4 | 7) {
            request.unsafe_mentions = validate::unsafe_mentions(data);
        }
        let (channel_id, source) = (interaction.channel_id, interaction.source_message);
        let metadata = interaction.metadata.clone();
        let original = match kind {
            4 => {
                let mut message = self.bot_message(channel_id, data, true);
                message["interaction_metadata"] = metadata;
                if let Some(stored) =
                    snowflake(&message["id"]).and_then(|m| self.messages.get_mut(&m))
                {
                    stored["interaction_metadata"] = message["interaction_metadata"].clone();
                }
                Some(message)
            }
            5 => {
                let flags = data["flags"].as_u64().unwrap_or(0) | 128; // LOADING
                Some(self.bot_message(channel_id, &json!({"flags": flags}), true))
            }
            7 => {
                if let Some(source) = source {
                    self.edit_message(source, data);
                }
                None
            }
            _ => None,
        };
        let interaction = self
            .interactions
            .get_mut(&id)
            .expect("interaction looked up above");
        interaction.response = Some(kind);
        if let Some(original) = original {
            interaction.original = snowflake(&original["id"]);
        } else if matches!(kind, 6 | 7) {
            // After (deferring) an update, a component interaction's original response is
            // the message the component is on.
            interaction.original = source;
        }
        Reply::no_content()
    }

    /// The acknowledged interaction a webhook token belongs to.
    fn interaction_by_token(&self, token: &str) -> Option<u64> {
        self.interactions
            .iter()
            .find(|(_, i)| i.token == token && i.response.is_some())
            .map(|(id, _)| *id)
    }

    /// `POST /webhooks/{app}/{token}`: a followup message.
    fn followup(&mut self, token: &str, body: &Value, request: &mut Recorded) -> Reply {
        let Some(id) = self.interaction_by_token(token) else {
            return Reply::error(404, 10015, "Unknown Webhook");
        };
        let errors = validate::message(body, "");
        if !errors.is_empty() {
            return Reply::invalid(&errors);
        }
        if validate::is_empty_message(body) && request.attachments.is_empty() {
            return Reply::refuse(50006, "Cannot send an empty message", None);
        }
        request.unsafe_mentions = validate::unsafe_mentions(body);
        let channel_id = self.interactions[&id].channel_id;
        Reply::ok(self.bot_message(channel_id, body, true))
    }

    /// `GET`/`PATCH`/`DELETE /webhooks/{app}/{token}/messages/{id or @original}`.
    fn webhook_message(
        &mut self,
        method: &str,
        token: &str,
        message: &str,
        body: &Value,
        request: &mut Recorded,
    ) -> Reply {
        let Some(id) = self.interaction_by_token(token) else {
            return Reply::error(404, 10015, "Unknown Webhook");
        };
        let message_id = match message {
            "@original" => self.interactions[&id].original,
            other => other.parse().ok(),
        };
        // The interaction webhook reaches only messages it made (interaction responses and
        // followups), in the interaction's channel: a message the bot posted through the
        // channel route is unknown here, as on Discord.
        let channel = self.interactions[&id].channel_id.to_string();
        let app = FakeDiscord::APPLICATION_ID.to_string();
        let Some(message_id) = message_id.filter(|m| {
            self.messages.get(m).is_some_and(|stored| {
                stored["webhook_id"] == app.as_str() && stored["channel_id"] == channel.as_str()
            })
        }) else {
            return Reply::error(404, 10008, "Unknown Message");
        };
        match method {
            "GET" => Reply::ok(self.messages[&message_id].clone()),
            "PATCH" => self.edit(message_id, body, request),
            "DELETE" => {
                self.messages.remove(&message_id);
                Reply::no_content()
            }
            _ => Reply::not_found(),
        }
    }

    /// Validates and applies a message edit.
    fn edit(&mut self, message_id: u64, body: &Value, request: &mut Recorded) -> Reply {
        let errors = validate::message(body, "");
        if !errors.is_empty() {
            return Reply::invalid(&errors);
        }
        request.unsafe_mentions = validate::unsafe_mentions(body);
        match self.edit_message(message_id, body) {
            Some(message) => Reply::ok(message),
            None => Reply::error(404, 10008, "Unknown Message"),
        }
    }

    /// `/channels/{channel}/...`; `rest` is what follows the channel id.
    fn channel_route(
        &mut self,
        method: &str,
        channel: u64,
        rest: &[&str],
        body: &Value,
        request: &mut Recorded,
    ) -> Reply {
        if !self.channels.contains_key(&channel) {
            return Reply::error(404, 10003, "Unknown Channel");
        }
        let stored = |state: &Self, message: &str| {
            message.parse::<u64>().ok().filter(|m| {
                state
                    .messages
                    .get(m)
                    .is_some_and(|m| m["channel_id"] == channel.to_string().as_str())
            })
        };
        match (method, rest) {
            ("GET", []) => Reply::ok(self.channel_json(channel).expect("known channel")),
            ("POST", ["typing"]) => Reply::no_content(),
            ("POST", ["messages"]) => self.create_message(channel, body, request),
            (method, ["messages", message, rest @ ..]) => {
                let Some(message) = stored(self, message) else {
                    return Reply::error(404, 10008, "Unknown Message");
                };
                match (method, rest) {
                    ("GET", []) => Reply::ok(self.messages[&message].clone()),
                    ("PATCH", []) => {
                        let author = &self.messages[&message]["author"]["id"];
                        if *author != FakeDiscord::BOT_USER_ID.to_string().as_str() {
                            return Reply::error(
                                403,
                                50005,
                                "Cannot edit a message authored by another user",
                            );
                        }
                        self.edit(message, body, request)
                    }
                    ("DELETE", []) => {
                        self.messages.remove(&message);
                        Reply::no_content()
                    }
                    ("PUT" | "DELETE", ["reactions", _emoji, "@me"]) => Reply::no_content(),
                    _ => Reply::not_found(),
                }
            }
            _ => Reply::not_found(),
        }
    }

    /// `POST /channels/{channel}/messages`.
    fn create_message(&mut self, channel: u64, body: &Value, request: &mut Recorded) -> Reply {
        let errors = validate::message(body, "");
        if !errors.is_empty() {
            return Reply::invalid(&errors);
        }
        if validate::is_empty_message(body) && request.attachments.is_empty() {
            return Reply::refuse(50006, "Cannot send an empty message", None);
        }
        let reference = &body["message_reference"];
        if let Some(referenced) = snowflake(&reference["message_id"]) {
            if !self.messages.contains_key(&referenced) && reference["fail_if_not_exists"] != false
            {
                return Reply::invalid(&[FieldError::new(
                    "message_reference",
                    "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                    "Unknown message",
                )]);
            }
        }
        request.unsafe_mentions = validate::unsafe_mentions(body);
        Reply::ok(self.bot_message(channel, body, false))
    }
}

/// Whether two command bodies name the same command (same name and type).
fn same_command(a: &Value, b: &Value) -> bool {
    a["name"] == b["name"] && a["type"].as_u64().unwrap_or(1) == b["type"].as_u64().unwrap_or(1)
}

fn array(value: &Value) -> &[Value] {
    value.as_array().map_or(&[], Vec::as_slice)
}
