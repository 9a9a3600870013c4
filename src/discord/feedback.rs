//! The owner's feedback loop on Discord: questions qabot missed, answers rated 👎 and
//! alternates proposed by moderators, written to their files by one background task.
//!
//! Handlers only queue a write (never waiting on the disk, never blocking the runtime); the
//! task appends in order through `spawn_blocking`. It also remembers, for a bounded number of
//! recent answers, the question each one answered: a 👎 arrives as a click on the answer, and
//! the log needs the question, which the answer message does not carry.

use std::collections::VecDeque;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serenity::all::{Message, MessageInteractionMetadata};
use tokio::sync::{mpsc, watch};
use tracing::warn;

use crate::config::Misses;
use crate::misses::{MissLog, Record};

/// Writes queued beyond this are dropped with a warning rather than held in memory.
const QUEUE: usize = 1024;
/// How many recent questions are remembered for 👎 and alternate picks.
const REMEMBERED: usize = 512;

/// One line of the pending-alternates file: a moderator's proposal, for the owner to review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alternate {
    /// Seconds since the Unix epoch.
    pub time: u64,
    /// The entry id the moderator picked.
    pub entry: String,
    /// The message text proposed as an alternate question.
    pub question: String,
    /// The moderator's user id.
    pub by: u64,
}

/// A queued write.
enum Write {
    Miss(Record),
    Alternate(Alternate),
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Queues feedback writes and remembers recent questions.
pub(crate) struct Feedback {
    /// `None` when both files are off, and once closed for shutdown.
    queue: Mutex<Option<mpsc::Sender<Write>>>,
    /// The writer task, awaited by [`Feedback::close`].
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    misses_on: bool,
    pending_on: bool,
    record_user_ids: bool,
    /// `(anchor id, question)`, oldest first: the anchor is the answer message's id, or the
    /// interaction's id for answers sent as interaction responses.
    recent: Mutex<VecDeque<(u64, String)>>,
}

impl Feedback {
    /// Starts the writer task (on the current runtime) for the files `config` names; each
    /// finished write bumps `written`, which tests and health checks can wait on.
    pub(crate) fn start(config: &Misses, written: watch::Sender<u64>) -> Feedback {
        let log = config.log();
        let pending =
            (!config.pending_path.as_os_str().is_empty()).then(|| config.pending_path.clone());
        let (misses_on, pending_on) = (log.is_some(), pending.is_some());
        let (queue, writer) = if misses_on || pending_on {
            let (tx, rx) = mpsc::channel(QUEUE);
            let writer = tokio::spawn(write_all(rx, log, pending, written));
            (Some(tx), Some(writer))
        } else {
            (None, None)
        };
        Feedback {
            queue: Mutex::new(queue),
            writer: Mutex::new(writer),
            misses_on,
            pending_on,
            record_user_ids: config.record_user_ids,
            recent: Mutex::new(VecDeque::new()),
        }
    }

    /// Whether proposed alternates can be saved.
    pub(crate) fn pending_on(&self) -> bool {
        self.pending_on
    }

    /// The user id to log for `user`: only if the owner turned `record_user_ids` on.
    pub(crate) fn user(&self, user: u64) -> Option<u64> {
        self.record_user_ids.then_some(user)
    }

    /// Queues a misses-log record (if the log is on).
    pub(crate) fn miss(&self, record: Record) {
        if self.misses_on {
            self.queue(Write::Miss(record));
        }
    }

    /// Queues a proposed alternate (if the pending file is on).
    pub(crate) fn alternate(&self, alternate: Alternate) {
        if self.pending_on {
            self.queue(Write::Alternate(alternate));
        }
    }

    fn queue(&self, write: Write) {
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(queue) = queue.as_ref() {
            if queue.try_send(write).is_err() {
                warn!("the feedback writer is behind; one record was dropped");
            }
        }
    }

    /// Stops taking writes and waits (at most `within`) for the queued ones to reach their
    /// files: at shutdown, so the last misses of a session are not lost.
    pub(crate) async fn close(&self, within: std::time::Duration) {
        drop(
            self.queue
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take(),
        );
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(writer) = writer {
            if tokio::time::timeout(within, writer).await.is_err() {
                warn!("feedback still being written after {within:?}; some records may be lost");
            }
        }
    }

    /// Remembers `question` under `anchor`: the id of the message that asked it (answers in
    /// channels are Discord replies to it), or of the interaction that asked it (answers to
    /// slash commands and buttons carry it). Both are known before the answer is sent, so a
    /// click can never arrive before the question is remembered.
    pub(crate) fn remember(&self, anchor: u64, question: &str) {
        let mut recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        if recent.len() == REMEMBERED {
            recent.pop_front();
        }
        recent.push_back((anchor, question.to_string()));
    }

    /// The question remembered for `anchor`.
    pub(crate) fn recalled(&self, anchor: u64) -> Option<String> {
        let recent = self.recent.lock().unwrap_or_else(PoisonError::into_inner);
        recent
            .iter()
            .rev()
            .find(|(a, _)| *a == anchor)
            .map(|(_, q)| q.clone())
    }

    /// The question `answer` (a message with qabot's buttons) answered: remembered for the
    /// message it replies to or the interaction that created it, else (after a restart) the
    /// text of the message it replies to without mentions of `bot`, when Discord includes
    /// it, else empty.
    pub(crate) fn question_of(&self, answer: &Message, bot: u64) -> String {
        let interaction = answer
            .interaction_metadata
            .as_deref()
            .and_then(|m| match m {
                MessageInteractionMetadata::Command(c) => Some(c.id.get()),
                MessageInteractionMetadata::Component(c) => Some(c.id.get()),
                _ => None,
            });
        let replied_to = answer
            .message_reference
            .as_ref()
            .and_then(|r| r.message_id)
            .map(|m| m.get());
        replied_to
            .into_iter()
            .chain(interaction)
            .find_map(|anchor| self.recalled(anchor))
            .or_else(|| {
                answer
                    .referenced_message
                    .as_ref()
                    .map(|m| without_mention(&m.content, bot))
            })
            .unwrap_or_default()
    }
}

/// `text` without mentions of user `bot` (`<@id>` or the older `<@!id>`).
pub(crate) fn without_mention(text: &str, bot: u64) -> String {
    text.replace(&format!("<@{bot}>"), "")
        .replace(&format!("<@!{bot}>"), "")
        .trim()
        .to_string()
}

/// The writer task: appends each queued write in order, off the async workers.
async fn write_all(
    mut queue: mpsc::Receiver<Write>,
    log: Option<MissLog>,
    pending: Option<PathBuf>,
    written: watch::Sender<u64>,
) {
    while let Some(write) = queue.recv().await {
        let (log, pending) = (log.clone(), pending.clone());
        let done = tokio::task::spawn_blocking(move || match (write, log, pending) {
            (Write::Miss(record), Some(log), _) => log.append(&record),
            (Write::Alternate(alternate), _, Some(path)) => append_line(&path, &alternate),
            _ => Ok(()),
        })
        .await;
        match done {
            Ok(Ok(())) => {}
            Ok(Err(e)) => warn!("could not write feedback to its file: {e}"),
            Err(e) => warn!("the feedback writer failed: {e}"),
        }
        written.send_modify(|n| *n += 1);
    }
}

/// Appends `value` as one JSON line to `path`, creating its folder.
fn append_line<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let mut line = serde_json::to_string(value).map_err(std::io::Error::other)?;
    line.push('\n');
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?
        .write_all(line.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_writes_everything_queued_before_returning() {
        let dir = tempfile::tempdir().unwrap();
        let config = Misses {
            path: dir.path().join("misses.jsonl"),
            pending_path: PathBuf::new(),
            ..Misses::default()
        };
        // One thread: the writer cannot run until the test awaits, so without `close` the
        // file would still be empty when read.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let feedback = Feedback::start(&config, watch::Sender::new(0));
            for i in 0..100 {
                feedback.miss(Record {
                    time: i,
                    question: format!("q{i}"),
                    outcome: "none".into(),
                    entry: None,
                    aspect: None,
                    confidence: 0.0,
                    user: None,
                });
            }
            feedback.close(std::time::Duration::from_secs(5)).await;
            feedback.miss(Record {
                time: 100,
                question: "after close".into(),
                outcome: "none".into(),
                entry: None,
                aspect: None,
                confidence: 0.0,
                user: None,
            });
        });
        let records = crate::misses::read(&config.path);
        assert_eq!(records.len(), 100, "all queued, none after close");
        assert_eq!(records[99].question, "q99");
    }

    #[test]
    fn recent_questions_are_bounded_and_latest_wins() {
        let config = Misses {
            path: PathBuf::new(),
            pending_path: PathBuf::new(),
            ..Misses::default()
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _in_runtime = runtime.enter();
        let feedback = Feedback::start(&config, watch::Sender::new(0));
        assert!(feedback.queue.lock().unwrap().is_none() && !feedback.pending_on());
        for i in 0..(REMEMBERED as u64 + 10) {
            feedback.remember(i, &format!("q{i}"));
        }
        feedback.remember(20, "again");
        assert_eq!(feedback.recalled(3), None, "the oldest are forgotten");
        assert_eq!(feedback.recalled(20).as_deref(), Some("again"));
        assert_eq!(feedback.recalled(100).as_deref(), Some("q100"));
    }

    /// A message in a guild channel as Discord sends it, with `extra` fields.
    fn message(id: u64, content: &str, extra: serde_json::Value) -> Message {
        let mut json = serde_json::json!({
            "id": id.to_string(),
            "channel_id": "2",
            "author": {"id": "5", "username": "qabot", "discriminator": "0", "avatar": null},
            "content": content,
            "timestamp": "2026-01-01T00:00:00Z",
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": false,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": false,
            "type": 19,
        });
        if let (Some(json), Some(extra)) = (json.as_object_mut(), extra.as_object()) {
            json.extend(extra.clone());
        }
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_question_of_an_answer_is_found_from_its_reference() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let _in_runtime = runtime.enter();
        let config = Misses {
            path: PathBuf::new(),
            pending_path: PathBuf::new(),
            ..Misses::default()
        };
        let feedback = Feedback::start(&config, watch::Sender::new(0));
        let question = message(10, "<@5> what is django?", serde_json::json!({"type": 0}));
        let reference = serde_json::json!({
            "message_reference": {"message_id": "10", "channel_id": "2"},
            "referenced_message": serde_json::to_value(&question).unwrap(),
        });
        let answer = message(11, "", reference);
        assert_eq!(
            feedback.question_of(&answer, 5),
            "what is django?",
            "after a restart: the replied-to text, without the bot's mention"
        );
        feedback.remember(10, "what is django");
        assert_eq!(feedback.question_of(&answer, 5), "what is django");
        let alone = message(12, "", serde_json::json!({}));
        assert_eq!(feedback.question_of(&alone, 5), "");
    }

    #[test]
    fn alternates_are_appended_as_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new/pending.jsonl");
        for entry in ["a", "b"] {
            let alternate = Alternate {
                time: 1,
                entry: entry.into(),
                question: "how?".into(),
                by: 7,
            };
            append_line(&path, &alternate).unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let read: Vec<Alternate> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(read.len(), 2);
        assert_eq!(read[1].entry, "b");
    }
}
