//! The real bot (`qabot::discord::Bot`, the real serenity client) against the fake Discord:
//! each test starts a fake and a bot pointed at it through `api_base`, acts like Discord
//! users, and checks what reached the fake. Every test ends with [`finish`], which asserts
//! that no request was refused by the fake's validation and that every message and
//! interaction response carried empty allowed mentions.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use qabot::discord::{commands, Registration};
use qabot::{Engine, Status};
use serde_json::Value;

use support::bot::{
    ask, config, finish, is_post, referenced, replies_to, shipped_knowledge, Running, WAIT,
};
use support::fake_discord::{
    ComponentSpec, FakeDiscord, GatewayRecord, InteractionSpec, MessageSpec, OptionSpec, Recorded,
};

/// MANAGE_MESSAGES.
const MANAGE_MESSAGES: u64 = 1 << 13;

fn body(r: &Recorded) -> &Value {
    r.body.as_ref().expect("request has a body")
}

/// The id of the message the fake created for a request.
fn created_id(r: &Recorded) -> u64 {
    r.response.as_ref().expect("response")["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("message id")
}

fn custom_ids(message: &Value) -> Vec<String> {
    message["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
        .collect()
}

/// The interaction callback for interaction `id`.
async fn callback(fake: &FakeDiscord, id: u64) -> Value {
    let path = format!("/interactions/{id}/");
    let request = fake
        .wait_for_request(|r| r.is("POST", &path), WAIT)
        .await
        .unwrap_or_else(|| panic!("no callback for interaction {id}"));
    assert_eq!(request.status, 204, "callback accepted: {request:#?}");
    request.body.expect("callback body")
}

fn shipped_engine() -> Engine {
    Engine::load(&shipped_knowledge(), config().matching).expect("knowledge loads")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mention_is_answered_with_the_aspect_embed_as_a_reply() {
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config()).await;

    let question =
        MessageSpec::guild("which is easier to learn, django or flask?").mentioning_bot();
    let asked = fake.send_message(question).await;
    let reply = fake
        .wait_for_request(replies_to(asked), WAIT)
        .await
        .expect("a reply to the question");
    assert_eq!(reply.status, 200);
    let embed = &body(&reply)["embeds"][0];
    let title = embed["title"].as_str().expect("title");
    assert!(title.contains("Learning curve"), "{title}");
    let fields: Vec<&str> = embed["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["name"].as_str())
        .collect();
    assert_eq!(fields, ["Django", "Flask"], "one field per subject");
    assert_eq!(
        custom_ids(body(&reply)),
        [
            "qa:vote:up:django-vs-flask:learning-curve".to_string(),
            "qa:vote:down:django-vs-flask:learning-curve".to_string(),
            format!("qa:delete:{}", FakeDiscord::USER_ID)
        ]
    );
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dms_and_the_prefix_are_answered_and_unknowns_point_to_topics() {
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config()).await;

    let (_, reply) = ask(&fake, MessageSpec::dm("How do I install Django?")).await;
    assert_eq!(
        reply.path,
        format!("/channels/{}/messages", FakeDiscord::DM_CHANNEL_ID)
    );
    assert!(body(&reply)["embeds"][0]["title"].is_string());

    let (_, reply) = ask(&fake, MessageSpec::guild("?ask what is django?")).await;
    assert!(body(&reply)["embeds"][0]["title"].is_string());

    let unknown = MessageSpec::guild("who wants to play chess?").mentioning_bot();
    let unknown = fake.send_message(unknown).await;
    let reply = fake
        .wait_for_request(replies_to(unknown), WAIT)
        .await
        .expect("an addressed unknown question gets a note");
    assert_eq!(body(&reply)["content"], qabot::reply::NO_ANSWER);
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_answer_channel_answers_on_topic_and_ignores_off_topic() {
    let fake = FakeDiscord::start().await;
    let mut config = config();
    config.discord.auto_answer_channels = vec![FakeDiscord::CHANNEL_ID];
    let bot = Running::start(&fake, config).await;

    let off_topic = fake
        .send_message(MessageSpec::guild("who wants to play chess?"))
        .await;
    let statement = fake
        .send_message(MessageSpec::guild("I installed django yesterday"))
        .await;
    let on_topic = fake
        .send_message(MessageSpec::guild("How do I install Django?"))
        .await;
    let first = fake
        .wait_for_request(is_post, WAIT)
        .await
        .expect("the on-topic question is answered");
    assert_eq!(referenced(&first), Some(on_topic), "{first:#?}");
    let replied: Vec<Option<u64>> = fake
        .requests()
        .iter()
        .filter(|r| is_post(r))
        .map(referenced)
        .collect();
    assert!(!replied.contains(&Some(off_topic)) && !replied.contains(&Some(statement)));
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_webhooks_and_itself_are_ignored() {
    let fake = FakeDiscord::start().await;
    let mut config = config();
    config.discord.auto_answer_channels = vec![FakeDiscord::CHANNEL_ID];
    let bot = Running::start(&fake, config).await;

    let question = "How do I install Django?";
    fake.send_message(
        MessageSpec::guild(question)
            .mentioning_bot()
            .by_bot()
            .author(77, "otherbot"),
    )
    .await;
    fake.send_message(MessageSpec::guild(question).via_webhook(78))
        .await;
    fake.send_message(
        MessageSpec::guild(question)
            .author(FakeDiscord::BOT_USER_ID, FakeDiscord::BOT_NAME)
            .by_bot(),
    )
    .await;
    let human = fake.send_message(MessageSpec::guild(question)).await;
    let first = fake
        .wait_for_request(is_post, WAIT)
        .await
        .expect("the human is answered");
    assert_eq!(referenced(&first), Some(human));
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_slash_command_is_registered_valid_and_answered() {
    let fake = FakeDiscord::start().await;
    let mut bot = Running::start(&fake, config()).await;
    let done = bot.registered().await;
    assert_eq!(
        done,
        [Registration {
            guild: None,
            updated: true
        }]
    );

    let engine = shipped_engine();
    let set = commands::command_set(engine.knowledge());
    let registered: Vec<String> = fake
        .global_commands()
        .iter()
        .filter_map(|c| c["name"].as_str().map(str::to_string))
        .collect();
    let wanted: Vec<String> = set.iter().map(|c| c.name.clone()).collect();
    assert_eq!(registered, wanted);

    for (aspect, entries) in engine.knowledge().aspect_commands() {
        let id = fake
            .send_slash_command(InteractionSpec::guild(&aspect))
            .await;
        let response = callback(&fake, id).await;
        assert_eq!(response["type"], 4, "/{aspect}");
        let title = response["data"]["embeds"][0]["title"]
            .as_str()
            .expect("title");
        let expected = entries[0].aspect(&aspect).expect("aspect").title.clone();
        assert!(title.contains(&expected), "/{aspect}: {title}");
        assert!(
            title.starts_with(&entries[0].title()),
            "/{aspect} defaults to the first"
        );
    }
    let chosen = InteractionSpec::guild("learning-curve")
        .option(OptionSpec::string("topic", "django-vs-fastapi"));
    let response = callback(&fake, fake.send_slash_command(chosen).await).await;
    let title = response["data"]["embeds"][0]["title"]
        .as_str()
        .expect("title");
    assert!(title.starts_with("Django vs FastAPI"), "{title}");

    let ask = InteractionSpec::guild("ask").option(OptionSpec::string(
        "question",
        "which is easier to learn, django or flask?",
    ));
    let response = callback(&fake, fake.send_slash_command(ask).await).await;
    assert_eq!(response["type"], 4);
    let title = response["data"]["embeds"][0]["title"]
        .as_str()
        .expect("title");
    assert!(title.contains("Learning curve"), "{title}");

    let topics = callback(
        &fake,
        fake.send_slash_command(InteractionSpec::guild("topics"))
            .await,
    )
    .await;
    assert_eq!(topics["type"], 4);
    assert!(custom_ids(&topics["data"]).contains(&"qa:topics:1".to_string()));

    let help = callback(
        &fake,
        fake.send_slash_command(InteractionSpec::dm("help")).await,
    )
    .await;
    assert_eq!(help["data"]["flags"], 64, "help is ephemeral");
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topics_pages_turn_with_buttons() {
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config()).await;
    let id = fake
        .send_slash_command(InteractionSpec::guild("topics"))
        .await;
    let first = callback(&fake, id).await;
    let title = first["data"]["embeds"][0]["title"].as_str().expect("title");
    assert!(title.ends_with("(1/2)"), "{title}");

    // Click "next" on the response message, as stored by the fake.
    let http = serenity::all::HttpBuilder::new(FakeDiscord::TOKEN)
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .application_id(serenity::all::ApplicationId::new(
            FakeDiscord::APPLICATION_ID,
        ))
        .build();
    let token = fake.interaction_token(id).expect("token");
    let message = http
        .get_original_interaction_response(&token)
        .await
        .expect("response message");
    let click = fake
        .send_component(ComponentSpec::button("qa:topics:1", message.id.get()))
        .await;
    let next = callback(&fake, click).await;
    assert_eq!(next["type"], 7, "the page is updated in place");
    let title = next["data"]["embeds"][0]["title"].as_str().expect("title");
    assert!(title.ends_with("(2/2)"), "{title}");
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_offers_matching_questions() {
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config()).await;
    let typing =
        InteractionSpec::guild("ask").option(OptionSpec::string("question", "flask").focused());
    let response = callback(&fake, fake.send_autocomplete(typing).await).await;
    assert_eq!(response["type"], 8);
    let choices = response["data"]["choices"].as_array().expect("choices");
    assert!(!choices.is_empty() && choices.len() <= 25, "{choices:?}");
    for choice in choices {
        let name = choice["name"].as_str().expect("name");
        assert!(name.chars().count() <= 100);
        let value = choice["value"].as_str().expect("value");
        assert!(value.starts_with("qa:entry:"), "names its entry: {value}");
    }
    assert!(choices.iter().any(|c| c["name"]
        .as_str()
        .is_some_and(|n| n.to_lowercase().contains("flask"))));
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unchanged_commands_are_not_sent_again() {
    let fake = FakeDiscord::start().await;
    let mut first = Running::start(&fake, config()).await;
    assert!(first.registered().await[0].updated);
    first.stop().await;

    let mut second = Running::start(&fake, config()).await;
    assert_eq!(
        second.registered().await,
        [Registration {
            guild: None,
            updated: false
        }]
    );
    let puts = fake.requests().iter().filter(|r| r.method == "PUT").count();
    let gets = fake
        .requests()
        .iter()
        .filter(|r| {
            r.is(
                "GET",
                &format!("/applications/{}/commands", FakeDiscord::APPLICATION_ID),
            )
        })
        .count();
    assert_eq!((puts, gets), (1, 2), "one PUT in all; each start GETs");
    finish(&fake, second).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guild_commands_go_to_the_configured_guilds() {
    let fake = FakeDiscord::start().await;
    let mut config = config();
    config.discord.guilds = vec![FakeDiscord::GUILD_ID];
    let mut bot = Running::start(&fake, config).await;
    assert_eq!(
        bot.registered().await,
        [Registration {
            guild: Some(FakeDiscord::GUILD_ID),
            updated: true
        }]
    );
    assert!(fake.global_commands().is_empty());
    assert!(!fake.guild_commands(FakeDiscord::GUILD_ID).is_empty());
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_answer_is_split_within_limits() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sentence = "The tortoise walked on, slowly but without stopping, past the sleeping hare. ";
    let mut answer = String::new();
    while answer.len() < 20_000 {
        answer.push_str(&sentence.repeat(8));
        answer.push_str("\n\n");
    }
    let answer = &answer[..20_000];
    let question = "Tell me the whole saga of the tortoise";
    std::fs::write(
        dir.path().join("huge.toml"),
        format!(
            "[[entry]]\nid = \"huge-story\"\nquestion = \"{question}\"\nanswer = '''{answer}'''\n"
        ),
    )
    .expect("write knowledge");
    let engine = Engine::load(dir.path(), config().matching).expect("loads");
    let parts = engine.ask(question).reply.messages.len();
    assert!(
        parts >= 3,
        "20,000 characters need several messages, got {parts}"
    );

    let fake = FakeDiscord::start().await;
    let bot = Running::start_with(&fake, config(), dir.path()).await;
    let asked = fake
        .send_message(MessageSpec::guild(question).mentioning_bot())
        .await;
    let posts = fake
        .wait_for_requests(is_post, parts, WAIT)
        .await
        .expect("every part is posted");
    assert_eq!(
        referenced(&posts[0]),
        Some(asked),
        "the first part replies to the question"
    );
    let mut total = 0;
    for post in &posts {
        assert_eq!(post.status, 200, "{post:#?}");
        for embed in body(post)["embeds"].as_array().expect("embeds") {
            total += embed["description"].as_str().unwrap_or_default().len();
        }
    }
    assert!(
        total >= 19_900,
        "the whole answer arrives ({total} characters)"
    );
    finish(&fake, bot).await;
}

/// The test config matching by words alone: for packs made by a test, which have no
/// embedding cache, when what is tested is not matching.
fn words_only() -> qabot::Config {
    let mut config = config();
    config.matching.semantic = false;
    config
}

/// The test config with the shipped flood control (a burst of 3 per user, then one every
/// 5 s; a burst of 10 per channel, then 20 a minute).
fn flood_controlled() -> qabot::Config {
    let mut config = config();
    let shipped = qabot::config::Discord::default();
    config.discord.user_burst = shipped.user_burst;
    config.discord.user_cooldown_secs = shipped.user_cooldown_secs;
    config.discord.channel_burst = shipped.channel_burst;
    config.discord.channel_replies_per_minute = shipped.channel_replies_per_minute;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mention_and_two_slash_commands_in_a_row_get_three_answers() {
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, flood_controlled()).await;
    let started = std::time::Instant::now();
    let mention = fake
        .send_message(MessageSpec::guild("What is Django?").mentioning_bot())
        .await;
    let aspect = fake
        .send_slash_command(InteractionSpec::guild("use-cases"))
        .await;
    let ask =
        InteractionSpec::guild("ask").option(OptionSpec::string("question", "What is Flask?"));
    let ask = fake.send_slash_command(ask).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "asked within 2 s"
    );

    let reply = fake
        .wait_for_request(replies_to(mention), WAIT)
        .await
        .expect("the mention is answered");
    assert!(body(&reply)["embeds"][0]["title"].is_string(), "{reply:#?}");
    for id in [aspect, ask] {
        let response = callback(&fake, id).await;
        assert_eq!(response["type"], 4);
        assert_ne!(response["data"]["flags"], 64, "a public answer: {response}");
        assert!(
            response["data"]["embeds"][0]["title"].is_string(),
            "an answer, not a note: {response}"
        );
    }
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_from_one_user_gets_at_most_the_burst_plus_the_rate() {
    let fake = FakeDiscord::start().await;
    let mut config = flood_controlled();
    // Flood control is under test: by words alone, so 20 questions are decided at once.
    config.matching.semantic = false;
    let (burst, every) = (
        config.discord.user_burst as usize,
        config.discord.user_cooldown_secs,
    );
    let bot = Running::start(&fake, config).await;

    let started = std::time::Instant::now();
    let mut flood = Vec::new();
    for _ in 0..20 {
        let spec = MessageSpec::guild("How do I install Django?").mentioning_bot();
        flood.push(fake.send_message(spec).await);
    }
    let sent_within = started.elapsed();
    assert!(sent_within < Duration::from_secs(5), "{sent_within:?}");
    let from_flood =
        |r: &Recorded| is_post(r) && referenced(r).is_some_and(|id| flood.contains(&id));
    fake.wait_for_requests(&from_flood, burst, WAIT)
        .await
        .expect("the burst is answered");
    // Another user is not held by alice's bucket; once they are answered, every flood
    // message has long been handled.
    let bob = MessageSpec::guild("What is Flask?")
        .mentioning_bot()
        .author(FakeDiscord::USER_ID + 1, "bob");
    let bob = fake.send_message(bob).await;
    fake.wait_for_request(replies_to(bob), WAIT)
        .await
        .expect("bob answered");
    // One more token every `every` seconds since the flood began.
    let refilled = (started.elapsed().as_secs() / every) as usize;
    let replies = fake.requests().iter().filter(|r| from_flood(r)).count();
    assert!(
        (burst..=burst + refilled).contains(&replies),
        "{replies} replies to 20 messages: the burst of {burst} plus {refilled} refilled"
    );
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_commands_over_the_limit_slow_down_and_a_busy_channel_answers_privately() {
    let fake = FakeDiscord::start().await;
    let mut config = config();
    // One question per user and one public reply per channel, for the length of the test.
    config.discord.user_burst = 1;
    config.discord.user_cooldown_secs = 3_600;
    config.discord.channel_burst = 1;
    config.discord.channel_replies_per_minute = 1;
    let bot = Running::start(&fake, config).await;
    let ask = |question: &str| {
        InteractionSpec::guild("ask").option(OptionSpec::string("question", question))
    };

    // Nothing to say: a private note, which spends alice's question but not the channel's
    // reply.
    let none = callback(&fake, fake.send_slash_command(ask(UNKNOWN)).await).await;
    assert_eq!(none["data"]["flags"], 64);
    assert_eq!(none["data"]["content"], qabot::reply::NO_ANSWER);

    let again = callback(&fake, fake.send_slash_command(ask("What is Django?")).await).await;
    assert_eq!(again["data"]["flags"], 64);
    let note = again["data"]["content"].as_str().expect("content");
    assert!(note.contains("Slow down"), "{note}");

    let bob = ask("What is Django?").user(FakeDiscord::USER_ID + 1, "bob");
    let public = callback(&fake, fake.send_slash_command(bob).await).await;
    assert_ne!(public["data"]["flags"], 64, "the channel's reply: {public}");
    assert!(public["data"]["embeds"][0]["title"].is_string());

    let carol = InteractionSpec::guild("use-cases").user(FakeDiscord::USER_ID + 2, "carol");
    let private = callback(&fake, fake.send_slash_command(carol).await).await;
    assert_eq!(
        private["data"]["flags"], 64,
        "answered, privately: {private}"
    );
    assert!(private["data"]["embeds"][0]["title"].is_string());

    let help = callback(
        &fake,
        fake.send_slash_command(InteractionSpec::guild("help"))
            .await,
    )
    .await;
    assert_eq!(
        help["data"]["embeds"][0]["title"], "How to ask me",
        "/help is never counted"
    );
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_answer_links_to_the_earlier_one() {
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config()).await;
    let (first, answer) = ask(
        &fake,
        MessageSpec::guild("What is Django?").mentioning_bot(),
    )
    .await;
    let answer_id = created_id(&answer);
    let again = MessageSpec::guild("what is django?")
        .mentioning_bot()
        .author(FakeDiscord::USER_ID + 1, "bob");
    let again = fake.send_message(again).await;
    let link = fake
        .wait_for_request(replies_to(again), WAIT)
        .await
        .expect("linked");
    let content = body(&link)["content"].as_str().expect("a short note");
    // The link goes to the answer, or (if the repeat came while the answer was still being
    // posted) to the first question, right above the answer.
    let url = |id: u64| {
        format!(
            "https://discord.com/channels/{}/{}/{id}",
            FakeDiscord::GUILD_ID,
            FakeDiscord::CHANNEL_ID
        )
    };
    assert!(
        content.contains(&url(answer_id)) || content.contains(&url(first)),
        "{content}"
    );
    assert!(body(&link)["embeds"].as_array().is_none_or(Vec::is_empty));
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestion_buttons_show_the_chosen_answer() {
    let question = "testing deployment";
    let engine = shipped_engine();
    let expected = engine.ask(question);
    assert_eq!(
        expected.decision.status,
        Status::Suggested,
        "pick another ambiguous question for this test"
    );
    let choice = &expected.reply.choices[0];

    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config()).await;
    let (_, suggestion) = ask(&fake, MessageSpec::guild(question).mentioning_bot()).await;
    let ids = custom_ids(body(&suggestion));
    let show = format!(
        "qa:show:{}:{}",
        choice.entry,
        choice.aspect.as_deref().unwrap_or("-")
    );
    assert_eq!(ids[0], show, "{ids:?}");
    assert!(ids.contains(&format!("qa:delete:{}", FakeDiscord::USER_ID)));

    let chosen = engine
        .answer_for(&choice.entry, choice.aspect.as_deref())
        .expect("choice exists");
    let title = chosen.messages[0].embeds[0].title.as_str();
    let suggestion_id = created_id(&suggestion);

    // Someone else's pick shows them the answer privately and leaves the message alone.
    let stranger = ComponentSpec::button(&show, suggestion_id).user(999, "bob");
    let private = callback(&fake, fake.send_component(stranger).await).await;
    assert_eq!(private["type"], 4);
    assert_eq!(private["data"]["flags"], 64);
    assert_eq!(private["data"]["embeds"][0]["title"], title);
    let unchanged = fake.message(suggestion_id).expect("the suggestion");
    assert_eq!(
        custom_ids(&unchanged)[0],
        show,
        "still offering the choices"
    );

    // The asker's pick turns the suggestion into the answer, its choices gone.
    let click = fake
        .send_component(ComponentSpec::button(&show, suggestion_id))
        .await;
    let response = callback(&fake, click).await;
    assert_eq!(response["type"], 7, "UPDATE_MESSAGE");
    assert_eq!(response["data"]["embeds"][0]["title"], title);
    let content = response["data"]["content"].as_str().expect("content");
    assert!(
        content.starts_with("You picked **") && content.contains(&choice.label),
        "{content}"
    );
    let updated = fake.message(suggestion_id).expect("the same message");
    assert_eq!(updated["embeds"][0]["title"], title);
    assert_eq!(
        updated["content"], content,
        "the suggestion text is replaced"
    );
    let ids = custom_ids(&updated);
    assert!(ids.iter().all(|id| !id.starts_with("qa:show:")), "{ids:?}");
    assert_eq!(
        ids.last().map(String::as_str),
        Some(format!("qa:delete:{}", FakeDiscord::USER_ID).as_str()),
        "{ids:?}"
    );
    assert!(
        ids.iter().any(|id| id.starts_with("qa:vote:up:")),
        "{ids:?}"
    );
    let posts = fake.requests().iter().filter(|r| is_post(r)).count();
    assert_eq!(
        posts, 1,
        "no second message: the suggestion became the answer"
    );
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picked_suggestion_answers_its_entry_however_long_its_question() {
    let dir = tempfile::tempdir().expect("temp dir");
    let question = "How do I configure the widget frobnicator so that it keeps its settings \
                    between restarts, even when the configuration folder lives on a network share?";
    assert!(question.chars().count() > 100);
    std::fs::write(
        dir.path().join("k.toml"),
        format!(
            "[[entry]]\nid = \"frobnicator-settings\"\nquestion = \"{question}\"\n\
             answer = \"Set `keep = true`.\"\n\n\
             [[entry]]\nid = \"what-is-a-widget\"\nquestion = \"What is a widget?\"\n\
             answer = \"A thing.\"\n"
        ),
    )
    .expect("write knowledge");
    let fake = FakeDiscord::start().await;
    let bot = Running::start_with(&fake, words_only(), dir.path()).await;

    let typing = InteractionSpec::guild("ask")
        .option(OptionSpec::string("question", "frobnicator").focused());
    let offered = callback(&fake, fake.send_autocomplete(typing).await).await;
    let choices = offered["data"]["choices"].as_array().expect("choices");
    let long = choices
        .iter()
        .find(|c| {
            c["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("How do I configure"))
        })
        .unwrap_or_else(|| panic!("the long question is offered: {choices:?}"));
    assert!(long["name"].as_str().expect("name").chars().count() <= 100);
    assert_eq!(long["value"], "qa:entry:frobnicator-settings");

    // What Discord sends once the member picks it: the value.
    let value = long["value"].as_str().expect("value");
    let pick = InteractionSpec::guild("ask").option(OptionSpec::string("question", value));
    let answer = callback(&fake, fake.send_slash_command(pick).await).await;
    assert_eq!(answer["type"], 4);
    assert_ne!(answer["data"]["flags"], 64);
    assert_eq!(
        answer["data"]["embeds"][0]["title"], question,
        "the whole question's entry, not a truncated one"
    );

    // Free text still works.
    let typed =
        InteractionSpec::guild("ask").option(OptionSpec::string("question", "What is a widget?"));
    let answer = callback(&fake, fake.send_slash_command(typed).await).await;
    assert_eq!(answer["data"]["embeds"][0]["title"], "What is a widget?");

    // An entry gone since the suggestion (a reload) is said so, privately.
    let gone = InteractionSpec::guild("ask")
        .option(OptionSpec::string("question", "qa:entry:no-such-entry"));
    let note = callback(&fake, fake.send_slash_command(gone).await).await;
    assert_eq!(note["data"]["flags"], 64);
    assert!(note["data"]["content"]
        .as_str()
        .is_some_and(|c| c.contains("no longer in my knowledge")));
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trash_button_on_an_interaction_answer_deletes_through_the_webhook() {
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config()).await;
    let question =
        InteractionSpec::guild("ask").option(OptionSpec::string("question", "What is Django?"));
    let used = fake.send_slash_command(question).await;
    callback(&fake, used).await;
    let answer_id = fake.original_response(used).expect("the answer message");
    let delete = format!("qa:delete:{}", FakeDiscord::USER_ID);

    let click = fake
        .send_component(ComponentSpec::button(&delete, answer_id))
        .await;
    assert_eq!(callback(&fake, click).await["type"], 6);
    let click_token = fake.interaction_token(click).expect("token");
    let path = format!(
        "/webhooks/{}/{click_token}/messages/@original",
        FakeDiscord::APPLICATION_ID
    );
    let deleted = fake
        .wait_for_request(|r| r.is("DELETE", &path), WAIT)
        .await
        .expect("deleted through the interaction webhook");
    assert_eq!(deleted.status, 204, "{deleted:#?}");
    assert!(fake.message(answer_id).is_none());
    assert!(
        !fake.requests().iter().any(|r| r.is("DELETE", "/channels/")),
        "not through the channel"
    );

    // As on Discord, the webhook reaches only what it made: not a channel answer.
    let (_, posted) = ask(&fake, MessageSpec::guild("What is Flask?").mentioning_bot()).await;
    let http = serenity::all::HttpBuilder::new(FakeDiscord::TOKEN)
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .application_id(serenity::all::ApplicationId::new(
            FakeDiscord::APPLICATION_ID,
        ))
        .build();
    let refused = http
        .delete_followup_message(
            &click_token,
            serenity::all::MessageId::new(created_id(&posted)),
        )
        .await;
    assert!(
        matches!(&refused, Err(serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r))) if r.status_code.as_u16() == 404),
        "{refused:?}"
    );
    assert!(fake.message(created_id(&posted)).is_some());
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_comparison_offers_its_aspects_and_shows_one_privately() {
    let engine = shipped_engine();
    let question = "django or flask?";
    let whole = engine.ask(question);
    assert_eq!(whole.decision.status, Status::Answered);
    let best = whole.decision.best.as_ref().expect("best");
    assert_eq!(best.aspect, None, "a whole comparison");
    let entry = &engine.knowledge().entries[best.entry];

    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config()).await;
    let (_, answer) = ask(&fake, MessageSpec::guild(question).mentioning_bot()).await;
    let rows = body(&answer)["components"]
        .as_array()
        .expect("rows")
        .clone();
    let offered: Vec<&str> = rows[0]["components"]
        .as_array()
        .expect("aspect buttons")
        .iter()
        .filter_map(|b| b["label"].as_str())
        .collect();
    let titles: Vec<&str> = entry.aspects.iter().map(|a| a.title.as_str()).collect();
    assert_eq!(offered, titles, "one button per aspect, in order");
    let aspect = &entry.aspects[1];
    let id = format!("qa:aspect:{}:{}", entry.id, aspect.id);
    assert!(custom_ids(body(&answer)).contains(&id));

    let click = fake
        .send_component(ComponentSpec::button(&id, created_id(&answer)).user(999, "bob"))
        .await;
    let shown = callback(&fake, click).await;
    assert_eq!(shown["type"], 4);
    assert_eq!(shown["data"]["flags"], 64, "only the reader sees it");
    let title = shown["data"]["embeds"][0]["title"].as_str().expect("title");
    assert!(title.ends_with(&aspect.title), "{title}");
    assert_eq!(
        fake.message(created_id(&answer)).expect("answer")["components"],
        body(&answer)["components"],
        "the public answer is left as it is"
    );
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trash_button_deletes_for_the_asker_and_moderators_only() {
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config()).await;
    let (_, answer) = ask(
        &fake,
        MessageSpec::guild("What is Django?").mentioning_bot(),
    )
    .await;
    let answer_id = created_id(&answer);
    let delete = format!("qa:delete:{}", FakeDiscord::USER_ID);

    let stranger = ComponentSpec::button(&delete, answer_id).user(999, "mallory");
    let refused = callback(&fake, fake.send_component(stranger).await).await;
    assert_eq!(refused["data"]["flags"], 64);
    assert!(refused["data"]["content"]
        .as_str()
        .unwrap_or_default()
        .contains("Only the person who asked"));
    assert!(fake.message(answer_id).is_some());

    let click = fake
        .send_component(ComponentSpec::button(&delete, answer_id))
        .await;
    assert_eq!(callback(&fake, click).await["type"], 6);
    let path = format!("/channels/{}/messages/{answer_id}", FakeDiscord::CHANNEL_ID);
    fake.wait_for_request(|r| r.is("DELETE", &path), WAIT)
        .await
        .expect("deleted");
    assert!(fake.message(answer_id).is_none());

    // A moderator may delete someone else's answer.
    let (_, answer) = ask(&fake, MessageSpec::guild("What is Flask?").mentioning_bot()).await;
    let answer_id = created_id(&answer);
    let mut moderator = ComponentSpec::button(&delete, answer_id).user(998, "mod");
    moderator.permissions |= MANAGE_MESSAGES;
    assert_eq!(
        callback(&fake, fake.send_component(moderator).await).await["type"],
        6
    );
    let path = format!("/channels/{}/messages/{answer_id}", FakeDiscord::CHANNEL_ID);
    fake.wait_for_request(|r| r.is("DELETE", &path), WAIT)
        .await
        .expect("deleted by a moderator");
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_message_content_intent_falls_back_to_mentions() {
    let fake = FakeDiscord::start().await;
    fake.set_message_content_allowed(false);
    let bot = Running::start(&fake, config()).await;
    let identifies = fake.identifies();
    assert_eq!(identifies.len(), 2, "refused once, then reconnected");
    let intents = |i: usize| identifies[i]["d"]["intents"].as_u64().expect("intents");
    assert_ne!(intents(0) & (1 << 15), 0, "asked for message content first");
    assert_eq!(intents(1) & (1 << 15), 0, "then did without");
    assert!(fake
        .gateway_events()
        .iter()
        .any(|e| matches!(e, GatewayRecord::ServerClosed { code: 4014, .. })));

    let (_, reply) = ask(
        &fake,
        MessageSpec::guild("which is easier to learn, django or flask?").mentioning_bot(),
    )
    .await;
    let title = body(&reply)["embeds"][0]["title"].as_str().expect("title");
    assert!(title.contains("Learning curve"), "{title}");
    finish(&fake, bot).await;
}

/// Runs the built binary with `args` and `env` (DISCORD_TOKEN and QABOT_API_PROXY unset
/// unless given), from the package root.
async fn qabot(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_qabot"));
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DISCORD_TOKEN")
        .env_remove("QABOT_API_PROXY")
        .env("NO_PROXY", "127.0.0.1,localhost");
    for (key, value) in env {
        command.env(key, value);
    }
    tokio::task::spawn_blocking(move || command.output().expect("qabot runs"))
        .await
        .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_without_a_usable_token_exits_2_and_never_prints_it() {
    let missing = qabot(&["run"], &[]).await;
    assert_eq!(missing.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("DISCORD_TOKEN") && stderr.contains("developers/applications"),
        "{stderr}"
    );

    let secret = "SeCrEt-part of a pasted token";
    let malformed = qabot(&["run"], &[("DISCORD_TOKEN", secret)]).await;
    assert_eq!(malformed.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&malformed.stderr);
    assert!(
        stderr.contains("malformed") && !stderr.contains("SeCrEt"),
        "{stderr}"
    );

    let fake = FakeDiscord::start().await;
    let wrong = "well-formed-but-wrong.token-value";
    let rejected = qabot(
        &["run"],
        &[
            ("DISCORD_TOKEN", wrong),
            ("QABOT_API_PROXY", &fake.base_url()),
        ],
    )
    .await;
    assert_eq!(rejected.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&rejected.stderr);
    assert!(
        stderr.contains("401") && !stderr.contains(wrong),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invite_prints_the_oauth_url_from_config_or_discord() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("qabot.toml");
    std::fs::write(&config, "[discord]\napplication_id = 42\n").expect("config");
    let out = qabot(
        &["invite", "--config", config.to_str().expect("utf-8")],
        &[],
    )
    .await;
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "https://discord.com/oauth2/authorize?client_id=42&scope=bot%20applications.commands&permissions=274877991936"
    );

    let fake = FakeDiscord::start().await;
    let out = qabot(
        &["invite"],
        &[
            ("DISCORD_TOKEN", FakeDiscord::TOKEN),
            ("QABOT_API_PROXY", &fake.base_url()),
        ],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = String::from_utf8_lossy(&out.stdout);
    assert!(
        url.contains(&format!("client_id={}&", FakeDiscord::APPLICATION_ID)),
        "{url}"
    );
}

/// The records of the misses log at `path`.
fn misses(path: &Path) -> Vec<qabot::misses::Record> {
    qabot::misses::read(path)
}

/// A question the shipped knowledge has nothing for.
const UNKNOWN: &str = "what is the airspeed of an unladen swallow?";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn addressed_misses_are_logged_without_user_ids_unless_turned_on() {
    assert_eq!(shipped_engine().ask(UNKNOWN).decision.status, Status::None);
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("misses.jsonl");
    let mut config = config();
    config.misses.path = log.clone();
    config.discord.auto_answer_channels = vec![FakeDiscord::CHANNEL_ID];
    let fake = FakeDiscord::start().await;
    let mut bot = Running::start(&fake, config.clone()).await;

    // Unaddressed in an auto-answer channel: silent, and not logged. Sent first, so had it
    // been logged it would be the first record.
    fake.send_message(MessageSpec::guild(UNKNOWN)).await;
    let asked = fake
        .send_message(MessageSpec::guild(UNKNOWN).mentioning_bot())
        .await;
    fake.wait_for_request(replies_to(asked), WAIT)
        .await
        .expect("the addressed question gets a note");
    bot.written(1).await;
    let records = misses(&log);
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].question, UNKNOWN, "logged without the mention");
    assert_eq!(records[0].outcome, "none");
    assert_eq!(records[0].user, None, "no user ids by default");
    bot.stop().await;

    config.misses.record_user_ids = true;
    let mut bot = Running::start(&fake, config).await;
    let asked = fake
        .send_message(MessageSpec::guild(format!("?ask {UNKNOWN}")))
        .await;
    fake.wait_for_request(replies_to(asked), WAIT)
        .await
        .expect("the prefixed question gets a note");
    bot.written(1).await;
    let records = misses(&log);
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!(records[1].question, UNKNOWN);
    assert_eq!(records[1].user, Some(FakeDiscord::USER_ID));
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbs_down_logs_the_answer_with_its_question_and_thumbs_up_only_thanks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("misses.jsonl");
    let mut config = config();
    config.misses.path = log.clone();
    let fake = FakeDiscord::start().await;
    let mut bot = Running::start(&fake, config).await;
    let question = "which is easier to learn, django or flask?";
    let (_, answer) = ask(&fake, MessageSpec::guild(question).mentioning_bot()).await;
    let ids = custom_ids(body(&answer));
    assert_eq!(ids.len(), 3, "👍 👎 🗑️ in one row: {ids:?}");

    // 👍 first: had it been logged, it would be the first record.
    for id in &ids[..2] {
        let click = fake
            .send_component(ComponentSpec::button(id, created_id(&answer)))
            .await;
        let thanks = callback(&fake, click).await;
        assert_eq!(thanks["type"], 4);
        assert_eq!(
            thanks["data"]["flags"], 64,
            "only the voter sees the thanks"
        );
        let text = thanks["data"]["content"].as_str().unwrap_or_default();
        assert!(text.contains("Thanks for the feedback"), "{text}");
    }
    bot.written(1).await;
    let records = misses(&log);
    assert_eq!(records.len(), 1, "{records:#?}");
    let down = &records[0];
    assert_eq!(down.outcome, "thumbs-down");
    assert_eq!(down.question, question);
    assert_eq!(down.entry.as_deref(), Some("django-vs-flask"));
    assert_eq!(down.aspect.as_deref(), Some("learning-curve"));
    assert_eq!(down.user, None);
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_buttons_can_be_turned_off() {
    let mut config = config();
    config.discord.feedback_buttons = false;
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config).await;
    let (_, answer) = ask(
        &fake,
        MessageSpec::guild("What is Django?").mentioning_bot(),
    )
    .await;
    assert_eq!(
        custom_ids(body(&answer)),
        [format!("qa:delete:{}", FakeDiscord::USER_ID)]
    );
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderators_propose_a_message_as_an_alternate_question_for_review() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pending = dir.path().join("pending.jsonl");
    let mut config = config();
    config.misses.pending_path = pending.clone();
    let fake = FakeDiscord::start().await;
    let mut bot = Running::start(&fake, config).await;
    bot.registered().await;
    let menu = fake
        .global_commands()
        .into_iter()
        .find(|c| c["name"] == commands::ADD_ALTERNATE)
        .expect("the context-menu command is registered");
    assert_eq!(menu["type"], 3);
    assert_eq!(
        menu["default_member_permissions"],
        MANAGE_MESSAGES.to_string()
    );

    let text = "how do I put my django site on a server";
    let target = fake.send_message(MessageSpec::guild(text)).await;
    let member = InteractionSpec::guild(commands::ADD_ALTERNATE);
    let refused = callback(&fake, fake.send_message_command(member, target).await).await;
    let note = refused["data"]["content"].as_str().unwrap_or_default();
    assert!(
        note.contains("Only moderators"),
        "checked server-side: {note}"
    );

    let moderator = InteractionSpec::guild(commands::ADD_ALTERNATE)
        .user(998, "mod")
        .permissions(MANAGE_MESSAGES);
    let used = fake.send_message_command(moderator, target).await;
    let picker = callback(&fake, used).await;
    assert_eq!(picker["data"]["flags"], 64);
    let select = &picker["data"]["components"][0]["components"][0];
    let custom_id = format!("qa:alt:{target}");
    assert_eq!(select["custom_id"], custom_id.as_str());
    let options = select["options"].as_array().expect("options");
    let entries = shipped_engine().knowledge().entries.len();
    assert_eq!(options.len(), entries.min(25));
    let entry = "django-deployment";
    assert!(
        options.iter().any(|o| o["value"] == entry),
        "{entry} offered: {options:?}"
    );

    let http = serenity::all::HttpBuilder::new(FakeDiscord::TOKEN)
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .application_id(serenity::all::ApplicationId::new(
            FakeDiscord::APPLICATION_ID,
        ))
        .build();
    let token = fake.interaction_token(used).expect("token");
    let picker_id = http
        .get_original_interaction_response(&token)
        .await
        .expect("the picker message")
        .id
        .get();
    // A member who is not a moderator cannot pick either, whatever the client shows.
    let sneaky = ComponentSpec::select(&custom_id, picker_id, vec![entry.into()]);
    let refused = callback(&fake, fake.send_component(sneaky).await).await;
    let note = refused["data"]["content"].as_str().unwrap_or_default();
    assert!(note.contains("Only moderators"), "{note}");

    let mut pick =
        ComponentSpec::select(&custom_id, picker_id, vec![entry.into()]).user(998, "mod");
    pick.permissions |= MANAGE_MESSAGES;
    let saved = callback(&fake, fake.send_component(pick).await).await;
    assert_eq!(saved["data"]["flags"], 64);
    let note = saved["data"]["content"].as_str().unwrap_or_default();
    assert!(note.contains("for the owner to review"), "{note}");
    bot.written(1).await;
    let lines: Vec<Value> = std::fs::read_to_string(&pending)
        .expect("pending file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0]["entry"], entry);
    assert_eq!(lines[0]["question"], text);
    assert_eq!(lines[0]["by"], 998);
    assert!(lines[0]["time"].as_u64().is_some_and(|t| t > 0));
    finish(&fake, bot).await;
}

/// `GET path` on the metrics endpoint: the whole response.
async fn http_get(addr: SocketAddr, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .expect("connect to the metrics endpoint");
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .await
        .expect("read response");
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_endpoint_counts_answers_and_reconnects() {
    let mut config = config();
    config.discord.metrics_addr = Some("127.0.0.1:0".parse().expect("address"));
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config).await;
    let addr = bot.metrics_addr.expect("metrics are served");
    assert_ne!(addr.port(), 0, "the bound port is exposed");

    let empty = http_get(addr, "/metrics").await;
    assert!(empty.starts_with("HTTP/1.1 200"), "{empty}");
    assert!(empty.contains("Content-Type: text/plain; version=0.0.4"));
    assert!(empty.contains("qabot_questions_total{outcome=\"answered\"} 0\n"));

    let asked = fake
        .send_message(MessageSpec::guild("What is Django?").mentioning_bot())
        .await;
    fake.wait_for_request(replies_to(asked), WAIT)
        .await
        .expect("answered");
    let scraped = scrape_until(addr, "qabot_questions_total{outcome=\"answered\"} 1\n").await;
    assert!(scraped.contains("qabot_answer_latency_seconds_count 1\n"));
    assert!(scraped.contains("qabot_questions_total{outcome=\"none\"} 0\n"));
    assert!(scraped.contains("qabot_gateway_reconnects_total 0\n"));
    assert!(http_get(addr, "/other").await.starts_with("HTTP/1.1 404"));

    // A dropped gateway connection is resumed, and counted.
    assert!(fake.drop_gateway());
    fake.wait_for_gateway_event(|e| matches!(e, GatewayRecord::Resume { .. }), WAIT)
        .await
        .expect("the bot resumes");
    scrape_until(addr, "qabot_gateway_reconnects_total 1\n").await;
    finish(&fake, bot).await;
}

/// Scrapes `/metrics` until it contains `sample`. A counter moves once the bot has handled
/// Discord's answer (a reply accepted, a RESUMED received), which the fake cannot signal, so
/// this scrapes as Prometheus would, bounded by WAIT.
async fn scrape_until(addr: SocketAddr, sample: &str) -> String {
    tokio::time::timeout(WAIT, async {
        loop {
            let text = http_get(addr, "/metrics").await;
            if text.contains(sample) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{sample:?} never showed in /metrics"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thumbs_down_on_an_ask_answer_logs_the_asked_question() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("misses.jsonl");
    let mut config = config();
    config.misses.path = log.clone();
    config.misses.record_user_ids = true;
    let fake = FakeDiscord::start().await;
    let mut bot = Running::start(&fake, config).await;
    let question = "What is Flask?";
    let ask = InteractionSpec::guild("ask").option(OptionSpec::string("question", question));
    let used = fake.send_slash_command(ask).await;
    let answer = callback(&fake, used).await;
    let ids = custom_ids(&answer["data"]);
    let down = ids
        .iter()
        .find(|id| id.starts_with("qa:vote:down:"))
        .expect("a 👎 button under the /ask answer")
        .clone();

    // The response message carries no question; the bot finds it through the interaction
    // id Discord sets on the message (`interaction_metadata`).
    let http = serenity::all::HttpBuilder::new(FakeDiscord::TOKEN)
        .proxy(fake.base_url())
        .ratelimiter_disabled(true)
        .application_id(serenity::all::ApplicationId::new(
            FakeDiscord::APPLICATION_ID,
        ))
        .build();
    let token = fake.interaction_token(used).expect("token");
    let message = http
        .get_original_interaction_response(&token)
        .await
        .expect("the answer message");
    let voter = ComponentSpec::button(&down, message.id.get()).user(997, "bob");
    callback(&fake, fake.send_component(voter).await).await;
    bot.written(1).await;
    let records = misses(&log);
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0].outcome, "thumbs-down");
    assert_eq!(records[0].question, question);
    assert_eq!(records[0].entry.as_deref(), Some("what-is-flask"));
    assert_eq!(records[0].user, Some(997), "the voter, as the owner asked");
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_aspect_command_says_which_comparison_it_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    // Files are read in path order: `a-vs-b` (0.toml) is the first comparison with the aspect.
    for (file, id, a, b) in [
        ("1.toml", "c-vs-d", "Cobol", "Delphi"),
        ("0.toml", "a-vs-b", "Ada", "Basic"),
        ("2.toml", "e-vs-f", "Eiffel", "Fortran"),
    ] {
        std::fs::write(
            dir.path().join(file),
            format!(
                "[[entry]]\nid = \"{id}\"\nquestion = \"{a} or {b}?\"\nsubjects = [\"{a}\", \"{b}\"]\n\
                 answer = \"It depends.\"\n[[entry.aspect]]\nid = \"performance\"\n\
                 title = \"Performance\"\ntext.{a} = \"{a} is fast.\"\ntext.{b} = \"{b} is fast too.\"\n"
            ),
        )
        .expect("write knowledge");
    }
    let fake = FakeDiscord::start().await;
    let mut bot = Running::start_with(&fake, words_only(), dir.path()).await;
    bot.registered().await;
    let performance = fake
        .global_commands()
        .into_iter()
        .find(|c| c["name"] == "performance")
        .expect("registered");
    assert_eq!(
        performance["description"],
        "Performance: Ada vs Basic by default; topic: Cobol vs Delphi, Eiffel vs Fortran"
    );

    let help = callback(
        &fake,
        fake.send_slash_command(InteractionSpec::guild("help"))
            .await,
    )
    .await;
    let text = help["data"]["embeds"][0]["description"]
        .as_str()
        .expect("description");
    assert!(
        text.contains(
            "`/performance`: **Ada vs Basic**; with `topic:` Cobol vs Delphi, Eiffel vs Fortran"
        ),
        "{text}"
    );

    let title = |response: Value| {
        response["data"]["embeds"][0]["title"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let default = InteractionSpec::guild("performance");
    let default = title(callback(&fake, fake.send_slash_command(default).await).await);
    assert_eq!(default, "Ada vs Basic — Performance");
    let chosen =
        InteractionSpec::guild("performance").option(OptionSpec::string("topic", "e-vs-f"));
    let chosen = title(callback(&fake, fake.send_slash_command(chosen).await).await);
    assert_eq!(chosen, "Eiffel vs Fortran — Performance");
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_comparison_of_many_aspects_offers_them_in_a_menu() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::from(
        "[[entry]]\nid = \"ada-vs-basic\"\nquestion = \"Ada or Basic?\"\n\
         subjects = [\"Ada\", \"Basic\"]\nanswer = \"It depends.\"\n",
    );
    for i in 0..6 {
        text.push_str(&format!(
            "[[entry.aspect]]\nid = \"aspect-{i}\"\ntitle = \"Aspect {i}\"\n\
             text.Ada = \"Ada on {i}.\"\ntext.Basic = \"Basic on {i}.\"\n"
        ));
    }
    std::fs::write(dir.path().join("k.toml"), text).expect("write knowledge");
    let fake = FakeDiscord::start().await;
    let bot = Running::start_with(&fake, words_only(), dir.path()).await;
    let (_, answer) = ask(&fake, MessageSpec::guild("Ada or Basic?").mentioning_bot()).await;
    let menu = &body(&answer)["components"][0]["components"][0];
    assert_eq!(menu["type"], 3, "a select menu: {menu}");
    assert_eq!(menu["custom_id"], "qa:aspect:ada-vs-basic:-");
    assert_eq!(menu["options"].as_array().map(Vec::len), Some(6));

    let pick = ComponentSpec::select(
        "qa:aspect:ada-vs-basic:-",
        created_id(&answer),
        vec!["aspect-5".into()],
    );
    let shown = callback(&fake, fake.send_component(pick).await).await;
    assert_eq!(shown["data"]["flags"], 64);
    assert_eq!(
        shown["data"]["embeds"][0]["title"],
        "Ada vs Basic — Aspect 5"
    );
    finish(&fake, bot).await;
}
