//! Sending replies (channel messages and interaction answers) with a bounded retry.
//!
//! With an API base set, serenity's own rate limiter is off (it ignores the base otherwise),
//! so a 429 or a 5xx reaches the adapter as an error. A reply is tried at most
//! [`ATTEMPTS`] times: after a 429 it waits [`RATE_LIMITED`] (serenity drops the response
//! body without its limiter, so Discord's `retry_after` is not available here; the waits are
//! longer than the sub-second per-route limits Discord usually sets), after a 5xx or a
//! connection error [`SERVER_ERROR`]. Then the error is returned for the caller to log once.
//! Each reply runs in its own event task, so a reply waiting here never holds up other
//! channels.

use std::time::Duration;

use serenity::all::{ChannelId, CreateMessage, Http, Message};
use serenity::http::HttpError;
use tracing::debug;

/// Tries per message, the first included.
pub(crate) const ATTEMPTS: usize = 3;
/// Waits before the 2nd and 3rd try after a 429.
const RATE_LIMITED: [Duration; ATTEMPTS - 1] =
    [Duration::from_millis(250), Duration::from_millis(1_000)];
/// Waits before the 2nd and 3rd try after a 5xx or a failed connection.
const SERVER_ERROR: [Duration; ATTEMPTS - 1] =
    [Duration::from_millis(100), Duration::from_millis(400)];

/// Posts `message` in `channel`, retrying a 429, 5xx or connection failure a bounded number
/// of times.
pub(crate) async fn message(
    http: &Http,
    channel: ChannelId,
    message: CreateMessage,
) -> serenity::Result<Message> {
    retried(|| channel.send_message(http, message.clone())).await
}

/// Runs `attempt` until it succeeds, fails in a way not worth retrying, or has been tried
/// [`ATTEMPTS`] times: one retry policy for every kind of reply.
pub(crate) async fn retried<T, F, Fut>(mut attempt: F) -> serenity::Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = serenity::Result<T>>,
{
    let mut retry = 0;
    loop {
        let error = match attempt().await {
            Ok(done) => return Ok(done),
            Err(error) => error,
        };
        let Some(wait) = wait_before_retry(&error, retry) else {
            return Err(error);
        };
        debug!(retry, ?wait, "retrying a reply: {error}");
        tokio::time::sleep(wait).await;
        retry += 1;
    }
}

/// How long to wait before retry number `retry` (0-based) after `error`; `None` when the error
/// is not worth retrying or the tries are used up.
fn wait_before_retry(error: &serenity::Error, retry: usize) -> Option<Duration> {
    let waits = match error {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => match r.status_code.as_u16() {
            429 => &RATE_LIMITED,
            500 | 502 | 503 | 504 => &SERVER_ERROR,
            _ => return None,
        },
        serenity::Error::Http(HttpError::Request(_)) => &SERVER_ERROR,
        _ => return None,
    };
    waits.get(retry).copied()
}
