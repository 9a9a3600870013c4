//! The optional `metrics_addr` endpoint: `GET /metrics` answers the Prometheus text of
//! [`Metrics::render`]; `GET /ready` answers 200 once every shard of this process is
//! connected and 503 otherwise (a readiness probe, so an orchestrator starts the next process
//! of a split bot only then); anything else is a 404.
//!
//! A scrape is one small request every few seconds from a trusted scraper, so a minimal
//! HTTP/1.1 responder on a tokio listener is enough and keeps a web framework out of the
//! bot. Each connection answers one request and closes; a client that sends nothing, or too
//! much, is dropped, so a stray connection cannot hold the task or grow memory.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::debug;

use crate::metrics::{Metrics, CONTENT_TYPE};

/// A request head larger than this is refused.
const MAX_HEAD: usize = 8 * 1024;
/// How long a client may take to send its request head.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Answers connections on `listener` until the task is dropped.
pub(crate) async fn serve(listener: TcpListener, metrics: Arc<Metrics>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(answer(stream, Arc::clone(&metrics)));
            }
            Err(e) => debug!("metrics endpoint: accept failed: {e}"),
        }
    }
}

/// Reads one request head and answers it.
async fn answer(mut stream: TcpStream, metrics: Arc<Metrics>) {
    let Ok(Some(head)) = tokio::time::timeout(READ_TIMEOUT, read_head(&mut stream)).await else {
        return;
    };
    let response = respond(&head, &metrics);
    if let Err(e) = stream.write_all(response.as_bytes()).await {
        debug!("metrics endpoint: write failed: {e}");
    }
    let _ = stream.shutdown().await;
}

/// The request head (up to the blank line), or `None` if the client closed early or sent
/// more than [`MAX_HEAD`] bytes without ending it.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 || head.len() + n > MAX_HEAD {
            return None;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// The whole HTTP response for request head `head`.
fn respond(head: &str, metrics: &Metrics) -> String {
    let mut words = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, target) = (words.next(), words.next());
    let path = target.map(|t| t.split('?').next().unwrap_or_default());
    let (status, content_type, body) = match (method, path) {
        (Some("GET"), Some("/metrics")) => ("200 OK", CONTENT_TYPE, metrics.render()),
        (Some("GET"), Some("/ready")) if metrics.all_shards_up() => {
            ("200 OK", "text/plain; charset=utf-8", "ready\n".into())
        }
        (Some("GET"), Some("/ready")) => (
            "503 Service Unavailable",
            "text/plain; charset=utf-8",
            "shards still connecting\n".into(),
        ),
        _ => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found\n".into(),
        ),
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_metrics_is_served() {
        let metrics = Metrics::default();
        let ok = respond("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &metrics);
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("Content-Type: text/plain; version=0.0.4"));
        assert!(ok.contains("qabot_questions_total"));
        let (head, body) = ok.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
        let ready = |m: &Metrics| respond("GET /ready HTTP/1.1\r\n\r\n", m);
        assert!(ready(&metrics).starts_with("HTTP/1.1 503"), "no shard yet");
        metrics.shard(0, true, None);
        assert!(ready(&metrics).starts_with("HTTP/1.1 200"));
        metrics.shard(1, false, None);
        assert!(
            ready(&metrics).starts_with("HTTP/1.1 503"),
            "one shard down"
        );
        let query = respond("GET /metrics?x=1 HTTP/1.1\r\n\r\n", &metrics);
        assert!(query.starts_with("HTTP/1.1 200"));
        for other in [
            "GET / HTTP/1.1\r\n\r\n",
            "POST /metrics HTTP/1.1\r\n\r\n",
            "GET /metricsx HTTP/1.1\r\n\r\n",
            "\r\n\r\n",
        ] {
            assert!(
                respond(other, &metrics).starts_with("HTTP/1.1 404"),
                "{other:?}"
            );
        }
    }
}
