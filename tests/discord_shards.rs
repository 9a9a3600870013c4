//! Sharding end to end: the real bot against the fake Discord serving `GET /gateway/bot` with
//! several shards and a session start limit, which it enforces as Discord does (IDENTIFY over
//! the budget closes the connection, two in one bucket within 5 s get op 9).
//!
//! The fake advertises a large `max_concurrency` or a short `reset_after` where a test does
//! not check the spacing itself, so these take seconds: only the bucket test waits out one
//! 5-second window, the one serenity's queue imposes within a bucket.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use qabot::discord::Bot;
use qabot::sharding::Sharding;
use qabot::Engine;
use serenity::all::{ClientBuilder, GatewayIntents, HttpBuilder};

use support::bot::{config, finish, replies_to, shipped_knowledge, Running, WAIT};
use support::fake_discord::{guild_on_shard, FakeDiscord, GatewayRecord, MessageSpec, StartLimit};

/// Long enough for a bucket's second shard (5 s after its first) and a re-IDENTIFY after
/// serenity's 5 s restart pause.
const SHARDS_WAIT: Duration = Duration::from_secs(15);

fn limit(max_concurrency: u64) -> StartLimit {
    StartLimit {
        max_concurrency,
        ..StartLimit::default()
    }
}

/// A mention of the bot in a channel of a guild Discord routes to `shard` of `total`.
fn on_shard(shard: u32, total: u32, text: &str) -> MessageSpec {
    let guild = guild_on_shard(shard, total);
    MessageSpec::guild(text)
        .in_channel(Some(guild), guild + 1)
        .mentioning_bot()
}

/// The connection the fake sent MESSAGE_CREATE `id` on.
fn delivered_on(fake: &FakeDiscord, id: u64) -> Option<u64> {
    fake.gateway_events().into_iter().find_map(|e| match e {
        GatewayRecord::Sent { conn, payload }
            if payload["t"] == "MESSAGE_CREATE"
                && payload["d"]["id"].as_str() == Some(id.to_string().as_str()) =>
        {
            Some(conn)
        }
        _ => None,
    })
}

/// Asks on `shard` and waits for the answer; returns the question's id.
async fn answered_on(fake: &FakeDiscord, shard: u32, total: u32) -> u64 {
    let asked = fake
        .send_message(on_shard(shard, total, "What is Django?"))
        .await;
    fake.wait_for_request(replies_to(asked), WAIT)
        .await
        .unwrap_or_else(|| panic!("the question routed to shard {shard} is answered"));
    assert_eq!(
        delivered_on(fake, asked),
        fake.shard_connection(shard),
        "Discord's routing sent it on shard {shard}'s connection"
    );
    asked
}

/// Renders `bot`'s metrics until `sample` shows (the monitor samples every second).
async fn metrics_until(bot: &Running, sample: &str) -> String {
    tokio::time::timeout(WAIT, async {
        loop {
            let text = bot.metrics.render();
            if text.contains(sample) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{sample:?} never showed in the metrics"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recommended_shards_start_per_bucket_answer_and_reconnect_alone() {
    let fake = FakeDiscord::start().await;
    // Buckets {0, 2} and {1}: shards 0 and 1 together, shard 2 one window after shard 0.
    fake.set_gateway_bot(3, limit(2));
    fake.set_heartbeat_interval(Duration::from_millis(200));
    let bot = Running::start(&fake, config()).await;
    assert!(
        fake.wait_ready_shards(3, SHARDS_WAIT).await,
        "three shards READY"
    );

    let mut identified = fake.identified_shards();
    identified.sort_by_key(|(_, _, shard)| *shard);
    let shards: Vec<[u64; 2]> = identified.iter().map(|(_, _, s)| *s).collect();
    assert_eq!(shards, [[0, 3], [1, 3], [2, 3]], "each shard once");
    let at = |shard: usize| identified[shard].0;
    let apart = |a: usize, b: usize| at(a).max(at(b)).duration_since(at(a).min(at(b)));
    assert!(
        apart(0, 1) < Duration::from_secs(2),
        "different buckets start together: {:?}",
        apart(0, 1)
    );
    assert!(
        at(2).duration_since(at(0)) >= Duration::from_millis(4_750),
        "one bucket's shards are a window apart: {:?}",
        at(2).duration_since(at(0))
    );
    assert!(fake.refused_identifies().is_empty());

    for shard in 0..3 {
        answered_on(&fake, shard, 3).await;
    }
    // A DM has no guild: Discord sends it to shard 0.
    let dm = fake.send_message(MessageSpec::dm("What is Flask?")).await;
    fake.wait_for_request(replies_to(dm), WAIT)
        .await
        .expect("the DM is answered");
    assert_eq!(delivered_on(&fake, dm), fake.shard_connection(0));

    for shard in 0..3 {
        metrics_until(&bot, &format!("qabot_shard_up{{shard=\"{shard}\"}} 1\n")).await;
        metrics_until(
            &bot,
            &format!("qabot_gateway_latency_seconds{{shard=\"{shard}\"}} "),
        )
        .await;
    }

    // Shard 1 drops: it resumes on a new connection; the others keep theirs and answer
    // meanwhile.
    let before: Vec<Option<u64>> = (0..3).map(|s| fake.shard_connection(s)).collect();
    assert!(fake.drop_shard(1));
    answered_on(&fake, 2, 3).await;
    fake.wait_for_gateway_event(|e| matches!(e, GatewayRecord::Resume { .. }), WAIT)
        .await
        .expect("shard 1 resumes");
    answered_on(&fake, 1, 3).await;
    assert_eq!(fake.shard_connection(0), before[0], "shard 0 untouched");
    assert_eq!(fake.shard_connection(2), before[2], "shard 2 untouched");
    assert_ne!(fake.shard_connection(1), before[1]);
    metrics_until(&bot, "qabot_gateway_reconnects_total 1\n").await;
    assert_eq!(
        fake.identified_shards().len(),
        3,
        "a resume, not a new IDENTIFY"
    );

    // Shutdown closes every shard with a close frame.
    let open: Vec<u64> = (0..3).filter_map(|s| fake.shard_connection(s)).collect();
    finish(&fake, bot).await;
    for conn in open {
        assert!(
            fake.gateway_events()
                .iter()
                .any(|e| matches!(e, GatewayRecord::ClientClosed { conn: c, .. } if *c == conn)),
            "connection {conn} closed by the bot"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_split_the_shards_and_answer_each_question_once() {
    let fake = FakeDiscord::start().await;
    fake.set_gateway_bot(4, limit(16));
    let engine = || Engine::load(&shipped_knowledge(), config().matching).expect("knowledge");
    let mut low = config();
    low.discord.shard_range = Some([0, 1]);
    low.discord.total_shards = Some(4);
    let first = Running::start_bot(&fake, Bot::builder(engine(), low)).await;
    // The second process's range comes from the command line, as `--shard-range` gives it.
    let high = Sharding::new(Default::default(), Some([2, 3]), Some(4)).expect("valid");
    let second = Running::start_bot(&fake, Bot::builder(engine(), config()).sharding(high)).await;
    assert!(
        fake.wait_ready_shards(4, SHARDS_WAIT).await,
        "four shards READY"
    );

    let mut shards: Vec<[u64; 2]> = fake
        .identified_shards()
        .iter()
        .map(|(_, _, s)| *s)
        .collect();
    shards.sort_unstable();
    assert_eq!(shards, [[0, 4], [1, 4], [2, 4], [3, 4]], "each shard once");
    assert!(fake.refused_identifies().is_empty());

    let mut questions = Vec::new();
    for shard in 0..4 {
        questions.push(answered_on(&fake, shard, 4).await);
    }
    let dm = fake.send_message(MessageSpec::dm("What is Flask?")).await;
    questions.push(dm);
    fake.wait_for_request(replies_to(dm), WAIT)
        .await
        .expect("the DM is answered, by shard 0's process");

    // Each process answered only its shards' questions; stopping drains every reply in
    // flight, so the counts below are final.
    let low = metrics_until(&first, "qabot_questions_total{outcome=\"answered\"} 3\n").await;
    metrics_until(&second, "qabot_questions_total{outcome=\"answered\"} 2\n").await;
    assert!(low.contains("qabot_shard_up{shard=\"1\"}"));
    assert!(
        !low.contains("qabot_shard_up{shard=\"2\"}"),
        "only its own shards"
    );
    finish(&fake, first).await;
    finish(&fake, second).await;
    for question in questions {
        let replies = fake
            .requests()
            .iter()
            .filter(|r| replies_to(question)(r))
            .count();
        assert_eq!(replies, 1, "question {question} answered exactly once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_identify_before_an_exhausted_budget_resets() {
    let fake = FakeDiscord::start().await;
    fake.set_gateway_bot(
        1,
        StartLimit {
            remaining: 0,
            reset_after: Duration::from_millis(1_500),
            ..StartLimit::default()
        },
    );
    let reset = fake.limit_reset_at();
    let bot = Running::start(&fake, config()).await;
    let identifies: Vec<Instant> = fake
        .gateway_events()
        .iter()
        .filter_map(|e| match e {
            GatewayRecord::Identify { at, .. } => Some(*at),
            _ => None,
        })
        .collect();
    assert_eq!(identifies.len(), 1, "one IDENTIFY, after the reset");
    assert!(
        identifies[0] >= reset,
        "nothing identified before reset_after"
    );
    assert!(fake.refused_identifies().is_empty());
    let asked = fake
        .send_message(MessageSpec::guild("What is Django?").mentioning_bot())
        .await;
    fake.wait_for_request(replies_to(asked), WAIT)
        .await
        .expect("answered once started");
    finish(&fake, bot).await;
}

/// The fake's own rules, shown with bare serenity clients: a second IDENTIFY in one bucket
/// within 5 s gets op 9 and serenity identifies again later; with no budget left the
/// connection is closed with 4004, which serenity reports as a rejected token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fake_refuses_identifies_over_the_limits() {
    support::bot::bypass_proxies();
    let fake = FakeDiscord::start().await;
    fake.set_gateway_bot(2, limit(1));
    let client = || async {
        let http = HttpBuilder::new(FakeDiscord::TOKEN)
            .proxy(fake.base_url())
            .ratelimiter_disabled(true)
            .build();
        ClientBuilder::new_with_http(http, GatewayIntents::GUILD_MESSAGES)
            .await
            .expect("client")
    };
    let (mut one, mut two) = (client().await, client().await);
    let managers = [
        Arc::clone(&one.shard_manager),
        Arc::clone(&two.shard_manager),
    ];
    let first = tokio::spawn(async move { one.start_shard(0, 2).await });
    let second = tokio::spawn(async move { two.start_shard(1, 2).await });
    assert!(
        fake.wait_ready_shards(2, SHARDS_WAIT).await,
        "both shards READY in the end"
    );
    let refused = fake.refused_identifies();
    assert!(
        matches!(
            refused.as_slice(),
            [GatewayRecord::IdentifyRefused { code: 9, .. }]
        ),
        "bucket 0 refused the second IDENTIFY: {refused:#?}"
    );
    for manager in managers {
        manager.shutdown_all().await;
    }
    for task in [first, second] {
        let ended = tokio::time::timeout(WAIT, task).await.expect("stops");
        ended.expect("task").expect("start returns Ok");
    }

    let spent = FakeDiscord::start().await;
    spent.set_gateway_bot(
        1,
        StartLimit {
            remaining: 0,
            ..StartLimit::default()
        },
    );
    let http = HttpBuilder::new(FakeDiscord::TOKEN)
        .proxy(spent.base_url())
        .ratelimiter_disabled(true)
        .build();
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILD_MESSAGES)
        .await
        .expect("client");
    let result = tokio::time::timeout(WAIT, client.start())
        .await
        .expect("start returns");
    assert!(
        matches!(
            result,
            Err(serenity::Error::Gateway(
                serenity::gateway::GatewayError::InvalidAuthentication
            ))
        ),
        "{result:?}"
    );
    assert!(matches!(
        spent.refused_identifies().as_slice(),
        [GatewayRecord::IdentifyRefused { code: 4004, .. }]
    ));
}

/// `--shard-range` and `--total-shards` are checked like the config keys they override,
/// before anything connects.
#[test]
fn shard_flags_are_checked_before_connecting() {
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_qabot"))
            .args(["run", "--knowledge"])
            .arg(shipped_knowledge())
            .args(args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("DISCORD_TOKEN")
            .env_remove("QABOT_SHARD_RANGE")
            .env_remove("QABOT_TOTAL_SHARDS")
            .env("QABOT_API_PROXY", "http://127.0.0.1:9")
            .output()
            .expect("run qabot")
    };
    for (args, says) in [
        (
            &["--shard-range", "3-1", "--total-shards", "4"][..],
            "must not be after",
        ),
        (
            &["--shard-range", "2-4", "--total-shards", "4"][..],
            "numbered 0 to 3",
        ),
        (&["--shard-range", "0-1"][..], "needs `total_shards`"),
        (
            &["--shard-range", "x", "--total-shards", "4"][..],
            "FIRST-LAST",
        ),
    ] {
        let out = run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}
