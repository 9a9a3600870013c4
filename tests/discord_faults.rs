//! Discord's bad days, survived: gateway drops, RECONNECT, INVALID SESSION, close codes and
//! silent heartbeats, then REST 429s and 5xx; and a burst of 2,000 questions. The real bot
//! against the fake Discord; after each fault, the next question is answered.
//!
//! The burst test prints its reply latency; see it with
//! `cargo test --test discord_faults burst -- --nocapture`.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use support::bot::{
    back_online, config, delivered_to, finish, is_post, newest_connection, referenced, replies_to,
    Running, RECONNECT_WAIT, WAIT,
};
use support::fake_discord::{
    FakeDiscord, InteractionSpec, MessageSpec, OptionSpec, Recorded, RestFault,
};

/// Asks a question by mention in the default channel and waits for the accepted reply.
async fn answered(fake: &FakeDiscord, question: &str, within: Duration) -> Recorded {
    let asked = fake
        .send_message(MessageSpec::guild(question).mentioning_bot())
        .await;
    fake.wait_for_request(delivered_to(asked), within)
        .await
        .unwrap_or_else(|| panic!("{question:?} answered"))
}

/// Starts a bot, checks it answers, applies `fault`, waits until the bot has a session on a
/// new connection, and checks the next question is answered. Returns how the session came
/// back (`READY` after a new IDENTIFY, `RESUMED` after a RESUME).
async fn survives(fake: &FakeDiscord, fault: impl FnOnce(&FakeDiscord)) -> String {
    let bot = Running::start(fake, config()).await;
    answered(fake, "What is Django?", WAIT).await;
    let before = newest_connection(fake);
    fault(fake);
    let how = back_online(fake, before).await;
    answered(fake, "What is Flask?", RECONNECT_WAIT).await;
    finish(fake, bot).await;
    how
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abrupt_drop_is_resumed() {
    let fake = FakeDiscord::start().await;
    let how = survives(&fake, |f| assert!(f.drop_gateway())).await;
    assert_eq!(how, "RESUMED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn op_7_reconnect_is_resumed() {
    let fake = FakeDiscord::start().await;
    let how = survives(&fake, |f| assert!(f.send_reconnect())).await;
    assert_eq!(how, "RESUMED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn op_9_resumable_invalid_session_is_survived() {
    // Serenity may resume or identify again; either way the next question is answered.
    let fake = FakeDiscord::start().await;
    survives(&fake, |f| assert!(f.send_invalid_session(true))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn op_9_invalid_session_identifies_again() {
    let fake = FakeDiscord::start().await;
    let how = survives(&fake, |f| assert!(f.send_invalid_session(false))).await;
    assert_eq!(how, "READY");
    assert_eq!(fake.identifies().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_4000_is_resumed() {
    let fake = FakeDiscord::start().await;
    let how = survives(&fake, |f| assert!(f.close_gateway(4000))).await;
    assert_eq!(how, "RESUMED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1006_close_whose_session_is_gone_identifies_again() {
    // 1006 is never sent on the wire: it is what a client reports for a stream that ended
    // without a close frame. Here the session is also gone on Discord's side, so the RESUME
    // is refused (op 9) and the bot must IDENTIFY again.
    let fake = FakeDiscord::start().await;
    let how = survives(&fake, |f| {
        f.set_resume_allowed(false);
        assert!(f.drop_gateway());
    })
    .await;
    assert_eq!(how, "READY");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unacknowledged_heartbeats_lead_to_a_new_connection() {
    let fake = FakeDiscord::start().await;
    fake.set_heartbeat_interval(Duration::from_millis(300));
    let bot = Running::start(&fake, config()).await;
    answered(&fake, "What is Django?", WAIT).await;
    let before = newest_connection(&fake);
    fake.set_heartbeat_ack(false);
    back_online(&fake, before).await;
    fake.set_heartbeat_ack(true);
    answered(&fake, "What is Flask?", RECONNECT_WAIT).await;
    finish(&fake, bot).await;
}

/// POSTs of channel messages.
fn channel_posts(method: &str, path: &str) -> bool {
    method == "POST" && path.starts_with("/channels/") && path.ends_with("/messages")
}

/// The reply to a question goes through after `failures` faults on message posts; returns
/// how many tries it took.
async fn reply_after(fault: RestFault, failures: usize) -> usize {
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config()).await;
    fake.fail_next_requests_matching(failures, fault, channel_posts);
    let asked = fake
        .send_message(MessageSpec::guild("What is Django?").mentioning_bot())
        .await;
    fake.wait_for_request(delivered_to(asked), WAIT)
        .await
        .unwrap_or_else(|| panic!("sent after {fault:?}"));
    let tries = fake
        .requests()
        .iter()
        .filter(|r| replies_to(asked)(r))
        .count();
    finish(&fake, bot).await;
    tries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_route_429_is_retried() {
    let fault = RestFault::RateLimited {
        retry_after: 0.05,
        global: false,
    };
    assert_eq!(reply_after(fault, 2).await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_global_429_is_retried() {
    let fault = RestFault::RateLimited {
        retry_after: 0.05,
        global: true,
    };
    assert_eq!(reply_after(fault, 1).await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried() {
    for status in [500, 502, 503] {
        assert_eq!(
            reply_after(RestFault::Status(status), 2).await,
            3,
            "{status}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interaction_answer_is_retried_after_a_server_error() {
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config()).await;
    let callbacks = |method: &str, path: &str| {
        method == "POST" && path.starts_with("/interactions/") && path.ends_with("/callback")
    };
    fake.fail_next_requests_matching(1, RestFault::Status(502), callbacks);
    let ask =
        InteractionSpec::guild("ask").option(OptionSpec::string("question", "What is Django?"));
    let id = fake.send_slash_command(ask).await;
    let prefix = format!("/interactions/{id}/");
    let delivered = fake
        .wait_for_request(|r| r.path.starts_with(&prefix) && r.status == 204, WAIT)
        .await
        .expect("answered after the 502");
    assert_eq!(delivered.body.as_ref().expect("a JSON body")["type"], 4);
    let tries = fake
        .requests()
        .iter()
        .filter(|r| r.path.starts_with(&prefix))
        .count();
    assert_eq!(tries, 2, "one 502, then the answer");
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_that_keeps_failing_is_dropped_after_three_tries_and_the_bot_goes_on() {
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config()).await;
    fake.fail_next_requests_matching(3, RestFault::Status(503), channel_posts);
    let doomed = fake
        .send_message(MessageSpec::guild("What is Django?").mentioning_bot())
        .await;
    fake.wait_for_requests(replies_to(doomed), 3, WAIT)
        .await
        .expect("three tries");
    answered(&fake, "What is Flask?", WAIT).await;
    // The shutdown waits for every event still being handled, so after it no try can come.
    finish(&fake, bot).await;
    let tries = fake
        .requests()
        .iter()
        .filter(|r| replies_to(doomed)(r))
        .count();
    assert_eq!(tries, 3, "bounded: three tries, then dropped");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_channel_does_not_hold_up_another() {
    let fake = FakeDiscord::start().await;
    let bot = Running::start(&fake, config()).await;
    let slow = FakeDiscord::CHANNEL_ID + 100;
    let slow_path = format!("/channels/{slow}/messages");
    fake.fail_next_requests_matching(
        2,
        RestFault::RateLimited {
            retry_after: 0.05,
            global: false,
        },
        move |method, path| method == "POST" && path == slow_path,
    );
    let waiting = fake
        .send_message(
            MessageSpec::guild("What is Django?")
                .mentioning_bot()
                .in_channel(Some(FakeDiscord::GUILD_ID), slow),
        )
        .await;
    fake.wait_for_request(|r| replies_to(waiting)(r) && r.status == 429, WAIT)
        .await
        .expect("the slow channel is rate limited");
    let other = answered(&fake, "What is Flask?", WAIT).await;
    let late = fake
        .wait_for_request(delivered_to(waiting), WAIT)
        .await
        .expect("the rate-limited reply follows");
    assert!(other.at < late.at, "the other channel was answered first");
    finish(&fake, bot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_2000_questions_gets_every_allowed_reply_exactly_once() {
    const USERS: u64 = 50;
    const CHANNELS: u64 = 10;
    const QUESTIONS: u64 = 2_000;
    const PER_CHANNEL_PER_MINUTE: u32 = 150;
    let questions = [
        "What is Django?",
        "What is Flask?",
        "which is easier to learn, django or flask?",
        "How do I install Django?",
        "is fastapi async?",
    ];
    let fake = FakeDiscord::start().await;
    let mut config = config();
    // No per-user limit and no repeat links: each channel takes a burst of 150 replies and
    // refills one a minute, so within the minute it replies to the first 150 questions and
    // drops the other 50: 1,500 replies are due.
    config.discord.channel_burst = PER_CHANNEL_PER_MINUTE;
    config.discord.channel_replies_per_minute = 1;
    config.discord.repeat_window_secs = 0;
    // The gate and the delivery are under test, at 2,000 questions within the minute the
    // limits count in: by words only, as a debug build cannot embed 33 questions a second.
    config.matching.semantic = false;
    let bot = Running::start(&fake, config).await;

    let started = Instant::now();
    let mut sent: HashMap<u64, (Instant, u64)> = HashMap::new();
    for i in 0..QUESTIONS {
        let (user, channel) = (
            FakeDiscord::USER_ID + 10 + i % USERS,
            FakeDiscord::CHANNEL_ID + 1 + i % CHANNELS,
        );
        let spec = MessageSpec::guild(questions[i as usize % questions.len()])
            .mentioning_bot()
            .author(user, format!("user{}", i % USERS))
            .in_channel(Some(FakeDiscord::GUILD_ID), channel);
        let at = Instant::now();
        sent.insert(fake.send_message(spec).await, (at, channel));
    }
    let due = (CHANNELS * u64::from(PER_CHANNEL_PER_MINUTE)) as usize;
    let burst: HashSet<u64> = sent.keys().copied().collect();
    let to_burst = |r: &Recorded| is_post(r) && referenced(r).is_some_and(|id| burst.contains(&id));
    assert!(
        fake.wait_for_request_count(to_burst, due, Duration::from_secs(60))
            .await,
        "{due} replies within 60 s"
    );
    let elapsed = started.elapsed();
    // The shutdown waits for every event still being handled: after it, no reply can come,
    // so the counts below are final (an extra or duplicate reply would be there).
    finish(&fake, bot).await;

    let replies: Vec<Recorded> = fake
        .requests()
        .into_iter()
        .filter(|r| to_burst(r))
        .collect();
    let mut per_question: HashMap<u64, usize> = HashMap::new();
    let mut per_channel: HashMap<u64, usize> = HashMap::new();
    let mut latencies = Vec::new();
    for r in &replies {
        assert_eq!(r.status, 200, "{r:#?}");
        let id = referenced(r).expect("reference");
        *per_question.entry(id).or_default() += 1;
        let (at, channel) = sent[&id];
        *per_channel.entry(channel).or_default() += 1;
        latencies.push(r.at.duration_since(at));
    }
    assert_eq!(replies.len(), due, "exactly the allowed replies");
    assert!(per_question.values().all(|&n| n == 1), "each at most once");
    assert!(
        per_channel
            .values()
            .all(|&n| n == PER_CHANNEL_PER_MINUTE as usize),
        "{per_channel:?}"
    );
    latencies.sort();
    let pct = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    println!(
        "burst: {QUESTIONS} questions from {USERS} users in {CHANNELS} channels, {} replies in \
         {elapsed:.2?}; reply latency p50 {:.1?}, p99 {:.1?}, max {:.1?}",
        replies.len(),
        pct(50),
        pct(99),
        latencies[latencies.len() - 1]
    );
}
