//! Clean shutdown: once a stop is asked for, the handler takes no new events, the events
//! already being handled get up to [`DRAIN`] to send their replies, and only then is the
//! gateway closed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

/// How long replies in flight may take to finish once a stop is asked for.
pub(crate) const DRAIN: Duration = Duration::from_secs(5);

/// Counts the events being handled, and refuses new ones once stopping.
pub(crate) struct InFlight {
    stopping: Arc<watch::Sender<bool>>,
    count: watch::Sender<usize>,
}

/// One event being handled; dropping it says the event is done.
pub(crate) struct Working<'a>(&'a watch::Sender<usize>);

impl Drop for Working<'_> {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl InFlight {
    /// Stops taking events once `stopping` holds `true` (the bot's shutdown flag).
    pub(crate) fn new(stopping: Arc<watch::Sender<bool>>) -> InFlight {
        InFlight {
            stopping,
            count: watch::Sender::new(0),
        }
    }

    /// Counts an event in, or `None` once stopping: the event is then ignored.
    pub(crate) fn start(&self) -> Option<Working<'_>> {
        // Counted before the flag is read: a drain that saw zero was started after the flag
        // was set, so this event then sees the flag and backs out.
        self.count.send_modify(|n| *n += 1);
        let working = Working(&self.count);
        (!*self.stopping.borrow()).then_some(working)
    }

    /// Waits until no event is being handled, at most `within`; `false` if some still were.
    pub(crate) async fn drained(&self, within: Duration) -> bool {
        let mut count = self.count.subscribe();
        let drained = tokio::time::timeout(within, count.wait_for(|n| *n == 0)).await;
        drained.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn events_are_refused_once_stopping_and_the_drain_waits_for_the_rest() {
        let stop = Arc::new(watch::Sender::new(false));
        let in_flight = InFlight::new(Arc::clone(&stop));
        let working = in_flight.start().expect("taken before the stop");
        stop.send_replace(true);
        assert!(in_flight.start().is_none(), "refused once stopping");
        assert!(!in_flight.drained(Duration::from_millis(10)).await);
        drop(working);
        assert!(in_flight.drained(Duration::from_millis(10)).await);
    }
}
