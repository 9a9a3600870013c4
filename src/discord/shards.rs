//! The gateway shards of this process: which to run (see [`crate::sharding`]), started as fast
//! as Discord allows, watched, and closed together.
//!
//! serenity 0.12.5's own entry points do not fit: `Client::start_autosharded` reads only the
//! shard count from `GET /gateway/bot` and ignores `session_start_limit`, and a client's shard
//! queue waits a fixed 5 s between any two starts whatever `max_concurrency` says
//! (`gateway/bridge/shard_queuer.rs`, `WAIT_BETWEEN_BOOTS_IN_SECONDS`). So qabot checks the
//! budget itself, then builds one serenity `ShardManager` per IDENTIFY bucket
//! (`shard_id % max_concurrency`): each manager's queue spaces its own starts 5 s apart, which
//! is exactly Discord's rule for one bucket, for the first start and for every re-IDENTIFY
//! after a lost session alike; different buckets start together. A shard that drops is
//! resumed or restarted by its own runner, without touching the others.
//!
//! Serenity publishes a shard's stage and heartbeat latency only in its manager's runner
//! table (no event for a restart), so a monitor reads it every second into [`Metrics`] and
//! logs each change; READY and RESUMED also update it at once.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serenity::all::{
    Context, EventHandler, GatewayIntents, Http, Ready, ResumedEvent, ShardId,
    ShardStageUpdateEvent,
};
use serenity::async_trait;
use serenity::futures::channel::mpsc::UnboundedReceiver;
use serenity::futures::stream::{select_all, SelectAll, StreamExt};
use serenity::gateway::{
    ConnectionStage, GatewayError, ShardManager, ShardManagerOptions, ShardRunnerMessage,
};
use serenity::model::gateway::BotGateway;
use serenity::prelude::TypeMap;
use tokio::sync::watch;
use tracing::{debug, info, warn};

use super::stopped;
use crate::metrics::Metrics;
use crate::sharding::{Plan, Sharding, StartLimit};

/// How often the monitor reads each shard's stage and latency.
const MONITOR_EVERY: Duration = Duration::from_secs(1);

/// `session_start_limit` in plain types.
fn start_limit(gateway: &BotGateway) -> StartLimit {
    let limit = &gateway.session_start_limit;
    StartLimit {
        total: limit.total,
        remaining: limit.remaining,
        reset_after: Duration::from_millis(limit.reset_after),
        max_concurrency: limit.max_concurrency,
    }
}

/// Reads `GET /gateway/bot` until the day's session start budget covers every shard of this
/// process, waiting out `reset_after` (and saying why) when it does not. `None` if a shutdown
/// was asked for meanwhile.
pub(crate) async fn when_allowed(
    http: &Http,
    sharding: Sharding,
    stop: &mut watch::Receiver<bool>,
) -> Result<Option<(Plan, BotGateway)>, serenity::Error> {
    loop {
        let gateway = http.get_bot_gateway().await?;
        let plan = sharding.plan(gateway.shards);
        let limit = start_limit(&gateway);
        let Some(wait) = plan.budget_wait(&limit) else {
            return Ok(Some((plan, gateway)));
        };
        warn!(
            remaining = limit.remaining,
            total = limit.total,
            shards = plan.len(),
            "Discord allows {} more session starts today and this process needs {}; waiting \
             {wait:?} for the budget to reset (session_start_limit.reset_after) instead of \
             identifying over it, which would get the token reset",
            limit.remaining,
            plan.len()
        );
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stopped(stop) => return Ok(None),
        }
    }
}

/// One IDENTIFY bucket's shards and the serenity manager running them.
struct Bucket {
    shards: Vec<u32>,
    manager: Arc<ShardManager>,
}

/// The shards of this process, running.
pub(crate) struct Started {
    buckets: Vec<Bucket>,
    /// Each manager's outcome: `Ok` after a shutdown, or the gateway error that stopped it.
    outcomes: SelectAll<UnboundedReceiver<Result<(), GatewayError>>>,
    monitor: tokio::task::JoinHandle<()>,
}

impl Started {
    /// Starts every shard of `plan`: each bucket's shards queued on its own manager, buckets
    /// at once. `handlers` receive every shard's events.
    pub(crate) async fn start(
        plan: &Plan,
        gateway: &BotGateway,
        http: &Arc<Http>,
        intents: GatewayIntents,
        handlers: Vec<Arc<dyn EventHandler>>,
        watch: &Arc<Watch>,
    ) -> Started {
        let limit = start_limit(gateway);
        watch.total.store(plan.total, Ordering::Relaxed);
        let buckets = plan.buckets(limit.max_concurrency);
        info!(
            shards = ?plan.shards,
            total = plan.total,
            max_concurrency = limit.max_concurrency,
            buckets = buckets.len(),
            "starting shards {}..={} of {}; at most one IDENTIFY per bucket every 5 s",
            plan.shards.start(),
            plan.shards.end(),
            plan.total
        );
        for shard in plan.shards.clone() {
            watch.metrics.shard(shard, false, None);
        }
        let mut started = Vec::new();
        let mut outcomes = Vec::new();
        for shards in buckets {
            let (manager, outcome) =
                start_bucket(&shards, plan.total, &gateway.url, http, intents, &handlers).await;
            outcomes.push(outcome);
            started.push(Bucket { shards, manager });
        }
        let monitored: Vec<(Vec<u32>, Arc<ShardManager>)> = started
            .iter()
            .map(|b| (b.shards.clone(), Arc::clone(&b.manager)))
            .collect();
        let monitor = tokio::spawn(monitor(monitored, Arc::clone(watch)));
        Started {
            buckets: started,
            outcomes: select_all(outcomes),
            monitor,
        }
    }

    /// Resolves when a manager stops: `Ok` after a shutdown, else the gateway error (a
    /// rejected token or intents) that every shard will meet.
    pub(crate) async fn ended(&mut self) -> Result<(), GatewayError> {
        self.outcomes.next().await.unwrap_or(Ok(()))
    }

    /// Closes every shard cleanly (close frame, then the close handshake), all buckets at
    /// once.
    pub(crate) async fn shutdown(self) {
        self.monitor.abort();
        let closing = self.buckets.iter().map(|b| b.manager.shutdown_all());
        serenity::futures::future::join_all(closing).await;
    }

    /// After a fatal gateway error: asks every shard still running to close, without
    /// serenity's clean shutdown, which waits 5 s for each runner that already died of the
    /// error.
    pub(crate) async fn abandon(self) {
        self.monitor.abort();
        for bucket in &self.buckets {
            let runners = bucket.manager.runners.lock().await;
            for (id, runner) in runners.iter() {
                runner
                    .runner_tx
                    .send_to_shard(ShardRunnerMessage::Shutdown(*id, 1000));
            }
        }
    }
}

/// Starts one bucket's shards on a new manager; its queue spaces them 5 s apart.
async fn start_bucket(
    shards: &[u32],
    total: u32,
    url: &str,
    http: &Arc<Http>,
    intents: GatewayIntents,
    handlers: &[Arc<dyn EventHandler>],
) -> (
    Arc<ShardManager>,
    UnboundedReceiver<Result<(), GatewayError>>,
) {
    let first = shards.first().copied().unwrap_or(0);
    let ws_url = Arc::new(tokio::sync::Mutex::new(url.to_string()));
    let (manager, outcome) = ShardManager::new(ShardManagerOptions {
        data: Arc::new(tokio::sync::RwLock::new(TypeMap::new())),
        event_handlers: handlers.to_vec(),
        raw_event_handlers: Vec::new(),
        shard_index: first,
        shard_init: 1,
        shard_total: total,
        ws_url: Arc::clone(&ws_url),
        http: Arc::clone(http),
        intents,
        presence: None,
    });
    // A manager boots a contiguous range, and a bucket's shards are `max_concurrency` apart,
    // so each is queued with its own `set_shards` + `initialize`. `set_shards` first shuts
    // down the manager's running shards; while this lock is held none can exist, because a
    // new shard reads the URL under it before connecting (serenity's `Shard::new`).
    let held = ws_url.lock().await;
    for &shard in shards {
        manager.set_shards(shard, 1, total).await;
        // Only errs in later serenity versions; the boot is queued either way.
        let _ = manager.initialize();
    }
    drop(held);
    (manager, outcome)
}

/// Reads each shard's stage and latency from its manager every [`MONITOR_EVERY`].
async fn monitor(buckets: Vec<(Vec<u32>, Arc<ShardManager>)>, watch: Arc<Watch>) {
    let mut every = tokio::time::interval(MONITOR_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        for (shards, manager) in &buckets {
            let runners = manager.runners.lock().await;
            for &shard in shards {
                let (stage, latency) = runners
                    .get(&ShardId(shard))
                    .map_or((None, None), |r| (Some(r.stage), r.latency));
                if let Some(latency) = latency {
                    debug!(shard, ?latency, "heartbeat round trip");
                }
                watch.report(
                    shard,
                    stage == Some(ConnectionStage::Connected),
                    latency,
                    stage,
                );
            }
        }
    }
}

/// Per-shard state for the logs and metrics, fed by gateway events and the monitor; also
/// counts reconnects (a READY on a shard that had one, or a RESUMED).
pub(crate) struct Watch {
    metrics: Arc<Metrics>,
    /// The bot's shard count, for log lines such as "shard 2/4".
    total: AtomicU32,
    /// Shards that have had a READY.
    readied: Mutex<HashSet<u32>>,
}

impl Watch {
    pub(crate) fn new(metrics: Arc<Metrics>) -> Watch {
        Watch {
            metrics,
            total: AtomicU32::new(1),
            readied: Mutex::new(HashSet::new()),
        }
    }

    /// Records a shard's state, logging when it goes up or down.
    fn report(
        &self,
        shard: u32,
        up: bool,
        latency: Option<Duration>,
        stage: Option<ConnectionStage>,
    ) {
        if !self.metrics.shard(shard, up, latency) {
            return;
        }
        let total = self.total.load(Ordering::Relaxed);
        let stage = stage.map_or_else(|| "restarting".to_string(), |s| s.to_string());
        if up {
            info!(shard, total, latency = ?latency, "shard {shard}/{total} connected");
        } else {
            warn!(
                shard,
                total,
                stage,
                "shard {shard}/{total} disconnected ({stage}); serenity reconnects it"
            );
        }
    }
}

#[async_trait]
impl EventHandler for Watch {
    async fn ready(&self, ctx: Context, ready: Ready) {
        let shard = ctx.shard_id.0;
        let again = !self
            .readied
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(shard);
        if again {
            self.metrics.reconnect();
        }
        info!(
            shard,
            guilds = ready.guilds.len(),
            session = if again {
                "new after a lost one"
            } else {
                "first"
            },
            "shard {shard} READY"
        );
        self.report(shard, true, None, Some(ConnectionStage::Connected));
    }

    /// A resumed session is a reconnect too (the same session, picked up again).
    async fn resume(&self, ctx: Context, _resumed: ResumedEvent) {
        self.metrics.reconnect();
        self.report(ctx.shard_id.0, true, None, Some(ConnectionStage::Connected));
    }

    async fn shard_stage_update(&self, _ctx: Context, event: ShardStageUpdateEvent) {
        let up = event.new == ConnectionStage::Connected;
        self.report(event.shard_id.0, up, None, Some(event.new));
    }
}
