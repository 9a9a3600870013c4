//! Proves the fake Discord speaks well enough for the real serenity client: every payload it
//! sends reaches the event handler (serenity silently drops malformed events, so a payload
//! regression would otherwise only show up as a timeout), every REST answer deserializes, and
//! the fake's validation, fault injection and resume path behave as documented.

mod support;

use std::sync::{Arc, Once};
use std::time::Duration;

use serde_json::json;
use serenity::all::{
    ActionRowComponent, ButtonStyle, ChannelId, Command, CommandDataOptionValue, CommandOptionType,
    Context, CreateActionRow, CreateAllowedMentions, CreateAutocompleteResponse, CreateButton,
    CreateCommand, CreateCommandOption, CreateEmbed, CreateInteractionResponse,
    CreateInteractionResponseMessage, CreateMessage, EventHandler, GatewayIntents, Guild, Http,
    HttpBuilder, Interaction, Message, Reaction, Ready, ResumedEvent, ShardManager,
};
use serenity::async_trait;
use serenity::client::ClientBuilder;
use serenity::http::HttpError;
use serenity::model::id::{ApplicationId, InteractionId, MessageId};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use support::fake_discord::{
    ComponentSpec, FakeDiscord, GatewayRecord, InteractionSpec, MessageSpec, OptionSpec,
    ReactionSpec, RestFault,
};

/// How long any single expectation may take; only reached when something is broken.
const WAIT: Duration = Duration::from_secs(3);

const INTENTS: GatewayIntents = GatewayIntents::GUILDS
    .union(GatewayIntents::GUILD_MESSAGES)
    .union(GatewayIntents::GUILD_MESSAGE_REACTIONS)
    .union(GatewayIntents::DIRECT_MESSAGES)
    .union(GatewayIntents::MESSAGE_CONTENT);

/// What the test handler saw, with the outcome of its own REST calls.
#[derive(Debug)]
enum Seen {
    Ready {
        application_id: u64,
        user_id: u64,
    },
    Message {
        id: u64,
        content: String,
        in_guild: bool,
    },
    Replied(Result<Box<Message>, String>),
    Command {
        name: String,
        question: Option<String>,
        permissions: Option<u64>,
        responded: Result<(), String>,
    },
    Autocomplete {
        focused: Option<String>,
        responded: Result<(), String>,
    },
    Component {
        custom_id: String,
        message_id: u64,
        buttons: usize,
        responded: Result<(), String>,
    },
    Reaction {
        message_id: u64,
        emoji: String,
    },
    GuildCreate {
        id: u64,
        channels: usize,
    },
    Resumed,
}

/// A tiny bot: reports everything, answers `ping` with `say("pong")`, answers interactions.
struct Handler {
    seen: mpsc::UnboundedSender<Seen>,
}

impl Handler {
    fn report(&self, seen: Seen) {
        // The receiver outlives the client in every test; a send error just means it ended.
        let _ = self.seen.send(seen);
    }
}

fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        self.report(Seen::Ready {
            application_id: ready.application.id.get(),
            user_id: ready.user.id.get(),
        });
    }

    async fn resume(&self, _ctx: Context, _event: ResumedEvent) {
        self.report(Seen::Resumed);
    }

    async fn message(&self, ctx: Context, message: Message) {
        self.report(Seen::Message {
            id: message.id.get(),
            content: message.content.clone(),
            in_guild: message.guild_id.is_some(),
        });
        if message.content == "ping" {
            let reply = message.channel_id.say(&ctx.http, "pong").await;
            self.report(Seen::Replied(
                reply.map(Box::new).map_err(|e| e.to_string()),
            ));
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match interaction {
            Interaction::Command(command) => {
                let question = command.data.options.iter().find_map(|o| match &o.value {
                    CommandDataOptionValue::String(s) if o.name == "question" => Some(s.clone()),
                    _ => None,
                });
                let permissions = command
                    .member
                    .as_ref()
                    .and_then(|m| m.permissions)
                    .map(|p| p.bits());
                let answer = CreateInteractionResponseMessage::new()
                    .content(format!(
                        "answer to {}",
                        question.as_deref().unwrap_or("nothing")
                    ))
                    .allowed_mentions(no_pings());
                let responded = command
                    .create_response(&ctx.http, CreateInteractionResponse::Message(answer))
                    .await
                    .map_err(|e| e.to_string());
                self.report(Seen::Command {
                    name: command.data.name.clone(),
                    question,
                    permissions,
                    responded,
                });
            }
            Interaction::Autocomplete(autocomplete) => {
                let focused = autocomplete.data.autocomplete().map(|o| o.value.to_owned());
                let choices = CreateAutocompleteResponse::new()
                    .add_string_choice("How do I install?", "install");
                let responded = autocomplete
                    .create_response(&ctx.http, CreateInteractionResponse::Autocomplete(choices))
                    .await
                    .map_err(|e| e.to_string());
                self.report(Seen::Autocomplete { focused, responded });
            }
            Interaction::Component(component) => {
                let buttons = component
                    .message
                    .components
                    .iter()
                    .flat_map(|row| &row.components)
                    .filter(|c| matches!(c, ActionRowComponent::Button(_)))
                    .count();
                let responded = component
                    .create_response(&ctx.http, CreateInteractionResponse::Acknowledge)
                    .await
                    .map_err(|e| e.to_string());
                self.report(Seen::Component {
                    custom_id: component.data.custom_id.clone(),
                    message_id: component.message.id.get(),
                    buttons,
                    responded,
                });
            }
            _ => {}
        }
    }

    async fn reaction_add(&self, _ctx: Context, reaction: Reaction) {
        self.report(Seen::Reaction {
            message_id: reaction.message_id.get(),
            emoji: reaction.emoji.to_string(),
        });
    }

    async fn guild_create(&self, _ctx: Context, guild: Guild, _is_new: Option<bool>) {
        self.report(Seen::GuildCreate {
            id: guild.id.get(),
            channels: guild.channels.len(),
        });
    }
}

/// Keeps reqwest from sending loopback traffic to a proxy configured in the environment.
fn bypass_proxies() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| std::env::set_var("NO_PROXY", "127.0.0.1,localhost"));
}

/// A serenity `Http` pointed at the fake.
fn http(fake: &FakeDiscord) -> Http {
    bypass_proxies();
    HttpBuilder::new(FakeDiscord::TOKEN)
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .application_id(ApplicationId::new(fake.application_id()))
        .build()
}

/// Waits for a report matching `pattern` (with an optional guard) and evaluates `out` with its
/// bindings.
macro_rules! expect_seen {
    ($bot:expr, $pattern:pat $(if $guard:expr)? => $out:expr) => {{
        let wanted = |seen: &Seen| {
            // The pattern's bindings are only used by the arm below.
            #[allow(unused_variables)]
            let wanted = matches!(seen, $pattern $(if $guard)?);
            wanted
        };
        match $bot.expect(stringify!($pattern), wanted).await {
            // Bindings used only by the guard are unused here.
            #[allow(unused_variables)]
            $pattern => $out,
            _ => unreachable!("expect returned a report the pattern rejects"),
        }
    }};
}

/// A running serenity client and what its handler reports.
struct Bot {
    seen: mpsc::UnboundedReceiver<Seen>,
    /// Reports received while waiting for another one; handlers run concurrently, so reports
    /// do not arrive in event order.
    backlog: Vec<Seen>,
    shard_manager: Arc<ShardManager>,
    run: JoinHandle<serenity::Result<()>>,
}

impl Bot {
    async fn start(fake: &FakeDiscord, intents: GatewayIntents) -> Bot {
        let (tx, seen) = mpsc::unbounded_channel();
        let mut client = ClientBuilder::new_with_http(http(fake), intents)
            .event_handler(Handler { seen: tx })
            .await
            .expect("build client");
        let shard_manager = Arc::clone(&client.shard_manager);
        let run = tokio::spawn(async move { client.start().await });
        Bot {
            seen,
            backlog: Vec::new(),
            shard_manager,
            run,
        }
    }

    /// The first report (already received or upcoming) that `wanted` accepts.
    async fn expect(&mut self, what: &str, wanted: impl Fn(&Seen) -> bool) -> Seen {
        if let Some(at) = self.backlog.iter().position(&wanted) {
            return self.backlog.remove(at);
        }
        let found = tokio::time::timeout(WAIT, async {
            while let Some(seen) = self.seen.recv().await {
                if wanted(&seen) {
                    return Some(seen);
                }
                self.backlog.push(seen);
            }
            None
        });
        match found.await {
            Ok(Some(found)) => found,
            Ok(None) => panic!("handler gone while waiting for {what}"),
            Err(_) => panic!("timed out waiting for {what}"),
        }
    }

    /// Shuts the shards down and asserts `start()` returned `Ok`.
    async fn shutdown(self) {
        self.shard_manager.shutdown_all().await;
        let result = tokio::time::timeout(WAIT, self.run)
            .await
            .expect("start() returns after shutdown");
        result.expect("client task").expect("start() returns Ok");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_message_and_say_round_trip() {
    let fake = FakeDiscord::start().await;
    let mut bot = Bot::start(&fake, INTENTS).await;

    let ready = fake.wait_ready(WAIT).await.expect("READY sent");
    assert_eq!(ready.intents, INTENTS.bits());
    let (application_id, user_id) =
        expect_seen!(bot, Seen::Ready { application_id, user_id } => (application_id, user_id));
    assert_eq!(
        (application_id, user_id),
        (fake.application_id(), fake.bot_user_id())
    );

    let sent = fake.send_message(MessageSpec::guild("ping")).await;
    let (id, content, in_guild) =
        expect_seen!(bot, Seen::Message { id, content, in_guild } => (id, content, in_guild));
    assert_eq!((id, content.as_str(), in_guild), (sent, "ping", true));

    let reply = expect_seen!(bot, Seen::Replied(reply) => reply);
    let reply = reply.expect("say() decodes the fake's Message");
    assert_eq!(reply.content, "pong");
    assert_eq!(reply.author.id.get(), fake.bot_user_id());

    let path = format!("/channels/{}/messages", FakeDiscord::CHANNEL_ID);
    let request = fake
        .wait_for_request(|r| r.is("POST", &path), WAIT)
        .await
        .expect("POST recorded");
    assert_eq!(request.status, 200);
    assert_eq!(request.body.as_ref().expect("body")["content"], "pong");
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bot {}", FakeDiscord::TOKEN).as_str())
    );
    // `say` sets no allowed_mentions, so the fake flags it.
    assert_eq!(
        request.unsafe_mentions.as_deref(),
        Some("allowed_mentions is missing")
    );

    let identify = &fake.identifies()[0];
    assert_eq!(identify["d"]["intents"], INTENTS.bits());
    bot.shutdown().await;
    assert!(
        fake.wait_for_gateway_event(
            |e| matches!(
                e,
                GatewayRecord::ClientClosed {
                    code: Some(1000),
                    ..
                }
            ),
            WAIT
        )
        .await
        .is_some(),
        "serenity closes with 1000 on shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_command_reaches_handler_and_response_reaches_callback() {
    let fake = FakeDiscord::start().await;
    let mut bot = Bot::start(&fake, INTENTS).await;
    fake.wait_ready(WAIT).await.expect("READY");

    let spec = InteractionSpec::guild("ask")
        .option(OptionSpec::string("question", "how do I install?"))
        .permissions(1 << 5);
    let id = fake.send_slash_command(spec).await;
    let (name, question, permissions, responded) = expect_seen!(
        bot,
        Seen::Command { name, question, permissions, responded } => (name, question, permissions, responded)
    );
    assert_eq!(name, "ask");
    assert_eq!(question.as_deref(), Some("how do I install?"));
    assert_eq!(permissions, Some(1 << 5));
    responded.expect("create_response gets 204");

    let path = format!("/interactions/{id}/");
    let callback = fake
        .wait_for_request(|r| r.is("POST", &path), WAIT)
        .await
        .expect("callback recorded");
    assert_eq!(callback.status, 204);
    let body = callback.body.expect("callback body");
    assert_eq!(body["type"], 4);
    assert_eq!(body["data"]["content"], "answer to how do I install?");
    assert_eq!(callback.unsafe_mentions, None);
    assert!(fake.unsafe_mention_requests().is_empty());

    // Discord allows one initial response per interaction.
    let token = fake.interaction_token(id).expect("token");
    let again = http(&fake)
        .create_interaction_response(
            InteractionId::new(id),
            &token,
            &json!({"type": 4, "data": {"content": "again"}}),
            vec![],
        )
        .await;
    assert_eq!(discord_error(again), (400, 40060));
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_component_reaction_and_guild_create_payloads_are_accepted() {
    let fake = FakeDiscord::start().await;
    let mut bot = Bot::start(&fake, INTENTS).await;
    fake.wait_ready(WAIT).await.expect("READY");

    fake.send_autocomplete(
        InteractionSpec::guild("ask").option(OptionSpec::string("question", "inst").focused()),
    )
    .await;
    let (focused, responded) =
        expect_seen!(bot, Seen::Autocomplete { focused, responded } => (focused, responded));
    assert_eq!(focused.as_deref(), Some("inst"));
    responded.expect("autocomplete response accepted");

    // A message with buttons, created through REST, then clicked.
    let buttons = CreateActionRow::Buttons(vec![
        CreateButton::new("helpful")
            .label("Helpful")
            .style(ButtonStyle::Success),
        CreateButton::new("unhelpful")
            .label("Not helpful")
            .style(ButtonStyle::Danger),
    ]);
    let message = ChannelId::new(FakeDiscord::CHANNEL_ID)
        .send_message(
            &http(&fake),
            CreateMessage::new()
                .content("answer")
                .components(vec![buttons])
                .allowed_mentions(no_pings()),
        )
        .await
        .expect("message with buttons");
    fake.send_component(ComponentSpec::button("helpful", message.id.get()))
        .await;
    let (custom_id, message_id, buttons, responded) = expect_seen!(
        bot,
        Seen::Component { custom_id, message_id, buttons, responded } => (custom_id, message_id, buttons, responded)
    );
    assert_eq!(
        (custom_id.as_str(), message_id, buttons),
        ("helpful", message.id.get(), 2)
    );
    responded.expect("deferred update accepted");

    fake.send_reaction(ReactionSpec::new(message.id.get(), "👍"))
        .await;
    let (message_id, emoji) =
        expect_seen!(bot, Seen::Reaction { message_id, emoji } => (message_id, emoji));
    assert_eq!((message_id, emoji.as_str()), (message.id.get(), "👍"));

    let channel = fake
        .send_guild_create(FakeDiscord::GUILD_ID, "QA guild")
        .await;
    assert_eq!(channel, FakeDiscord::CHANNEL_ID);
    let (id, channels) = expect_seen!(bot, Seen::GuildCreate { id, channels } => (id, channels));
    assert_eq!((id, channels), (FakeDiscord::GUILD_ID, 1));
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_message_content_intent_only_mentions_and_dms_carry_content() {
    let fake = FakeDiscord::start().await;
    let intents = INTENTS.difference(GatewayIntents::MESSAGE_CONTENT);
    let mut bot = Bot::start(&fake, intents).await;
    fake.wait_ready(WAIT).await.expect("READY");

    let plain = MessageSpec::guild("what is qabot?");
    assert_eq!(content_as_received(&fake, &mut bot, plain).await, "");
    let mention = MessageSpec::guild("what is qabot?").mentioning_bot();
    let expected = format!("<@{}> what is qabot?", FakeDiscord::BOT_USER_ID);
    assert_eq!(
        content_as_received(&fake, &mut bot, mention).await,
        expected
    );
    let dm = MessageSpec::dm("what is qabot?");
    assert_eq!(
        content_as_received(&fake, &mut bot, dm).await,
        "what is qabot?"
    );
    bot.shutdown().await;
}

/// Sends a message and returns the content the handler received.
async fn content_as_received(fake: &FakeDiscord, bot: &mut Bot, spec: MessageSpec) -> String {
    let sent = fake.send_message(spec).await;
    expect_seen!(bot, Seen::Message { id, content, .. } if *id == sent => content)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disallowed_message_content_intent_fails_start_with_4014() {
    let fake = FakeDiscord::start().await;
    fake.set_message_content_allowed(false);
    let bot = Bot::start(&fake, INTENTS).await;
    let result = tokio::time::timeout(WAIT, bot.run)
        .await
        .expect("start() returns")
        .expect("client task");
    assert!(
        matches!(
            result,
            Err(serenity::Error::Gateway(
                serenity::gateway::GatewayError::DisallowedGatewayIntents
            ))
        ),
        "got {result:?}"
    );
    assert!(fake
        .gateway_events()
        .iter()
        .any(|e| matches!(e, GatewayRecord::ServerClosed { code: 4014, .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abrupt_drop_resumes_and_queued_events_arrive() {
    let fake = FakeDiscord::start().await;
    let mut bot = Bot::start(&fake, INTENTS).await;
    let ready = fake.wait_ready(WAIT).await.expect("READY");

    assert!(fake.drop_gateway());
    let sent = fake.send_message(MessageSpec::dm("after the drop")).await;
    let resume = fake
        .wait_for_gateway_event(|e| matches!(e, GatewayRecord::Resume { .. }), WAIT)
        .await
        .expect("serenity resumes");
    let GatewayRecord::Resume { payload, .. } = resume else {
        unreachable!()
    };
    assert_eq!(payload["d"]["session_id"], ready.session_id.as_str());
    expect_seen!(bot, Seen::Resumed => ());
    expect_seen!(bot, Seen::Message { id, .. } if *id == sent => ());

    let sequence: Vec<u64> = fake
        .gateway_events()
        .iter()
        .filter_map(|e| e.dispatch())
        .map(|(_, s)| s)
        .collect();
    assert!(
        sequence.windows(2).all(|w| w[1] == w[0] + 1),
        "sequence numbers increase by one: {sequence:?}"
    );
    assert_eq!(fake.identifies().len(), 1, "a resume is not a new IDENTIFY");
    bot.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_acknowledged() {
    let fake = FakeDiscord::start().await;
    fake.set_heartbeat_interval(Duration::from_millis(200));
    let bot = Bot::start(&fake, INTENTS).await;
    fake.wait_ready(WAIT).await.expect("READY");
    let heartbeat = fake
        .wait_for_gateway_event(|e| matches!(e, GatewayRecord::Heartbeat { .. }), WAIT)
        .await
        .expect("serenity heartbeats at the HELLO interval");
    let GatewayRecord::Heartbeat { seq, .. } = heartbeat else {
        unreachable!()
    };
    assert_eq!(
        seq,
        Some(1),
        "heartbeat carries the last sequence number (READY)"
    );
    fake.wait_for_gateway_event(
        |e| matches!(e, GatewayRecord::Sent { payload, .. } if payload["op"] == 11),
        WAIT,
    )
    .await
    .expect("ACK sent");
    bot.shutdown().await;
}

/// The status and Discord error code of a failed serenity call.
fn discord_error<T: std::fmt::Debug>(result: serenity::Result<T>) -> (u16, isize) {
    match result {
        Err(serenity::Error::Http(HttpError::UnsuccessfulRequest(response))) => {
            (response.status_code.as_u16(), response.error.code)
        }
        other => panic!("expected an unsuccessful request, got {other:?}"),
    }
}

#[tokio::test]
async fn rest_validation_faults_and_commands() {
    let fake = FakeDiscord::start().await;
    let http = http(&fake);
    let channel = ChannelId::new(FakeDiscord::CHANNEL_ID);

    // Too long: serenity's builders check this client-side, so send the raw body.
    let too_long = http
        .send_message(channel, vec![], &json!({"content": "x".repeat(2001)}))
        .await;
    let Err(serenity::Error::Http(HttpError::UnsuccessfulRequest(response))) = too_long else {
        panic!("2001 characters must be refused, got {too_long:?}");
    };
    assert_eq!(response.status_code.as_u16(), 400);
    assert_eq!(response.error.code, 50035);
    assert_eq!(response.error.errors[0].path, "content");
    assert_eq!(response.error.errors[0].code, "BASE_TYPE_MAX_LENGTH");

    // Embed field limits are not checked by serenity; the fake refuses them like Discord.
    let long_title = CreateMessage::new()
        .embed(CreateEmbed::new().title("t".repeat(257)))
        .allowed_mentions(no_pings());
    let refused = channel.send_message(&http, long_title).await;
    assert_eq!(discord_error(refused), (400, 50035));
    assert_eq!(fake.rejected_requests().len(), 2);

    let empty = http
        .send_message(channel, vec![], &json!({"content": ""}))
        .await;
    assert_eq!(discord_error(empty), (400, 50006));

    // Faults: a rate limit, then a 502, then success.
    fake.fail_next_requests(
        1,
        RestFault::RateLimited {
            retry_after: 0.25,
            global: false,
        },
    );
    fake.fail_next_requests(1, RestFault::Status(502));
    assert_eq!(discord_error(http.get_current_user().await).0, 429);
    assert_eq!(discord_error(http.get_current_user().await).0, 502);
    let me = http.get_current_user().await.expect("current user");
    assert_eq!(me.id.get(), fake.bot_user_id());
    let info = http
        .get_current_application_info()
        .await
        .expect("application info");
    assert_eq!(info.id.get(), fake.application_id());
    let dm = ChannelId::new(FakeDiscord::DM_CHANNEL_ID)
        .to_channel(&http)
        .await
        .expect("DM channel");
    assert!(dm.private().is_some());
    let guild_channel = channel.to_channel(&http).await.expect("guild channel");
    assert_eq!(
        guild_channel.guild().expect("guild channel").guild_id.get(),
        FakeDiscord::GUILD_ID
    );

    // Commands: an upper-case name is refused; a valid set is stored and returned.
    let bad =
        Command::set_global_commands(&http, vec![CreateCommand::new("Ask").description("Ask")])
            .await;
    assert_eq!(discord_error(bad), (400, 50035));
    let ask = CreateCommand::new("ask")
        .description("Ask the knowledge base")
        .add_option(
            CreateCommandOption::new(CommandOptionType::String, "question", "Your question")
                .required(true)
                .set_autocomplete(true),
        );
    let stored = Command::set_global_commands(&http, vec![ask])
        .await
        .expect("commands stored");
    assert_eq!(stored[0].name, "ask");
    assert_eq!(
        Command::get_global_commands(&http)
            .await
            .expect("commands listed")
            .len(),
        1
    );
    assert_eq!(fake.global_commands()[0]["options"][0]["name"], "question");

    let unknown = fake.requests().len();
    let missing = http.get_message(channel, MessageId::new(42)).await;
    assert_eq!(discord_error(missing), (404, 10008));
    assert_eq!(
        fake.requests().len(),
        unknown + 1,
        "every request is recorded"
    );
}
