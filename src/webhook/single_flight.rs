//! Concurrent callers asking for the same key share one run of the work: the webhook's cold
//! path, where a rollout brings many reviews of one new digest at once, asks the registry once
//! instead of once per review.
//!
//! Nothing is kept after the run: a result is shared only with those already waiting (keeping
//! successes is the cache's job). If the caller doing the work is cancelled (its connection
//! went away), a waiting one takes the work over (`tokio::sync::OnceCell`), and the entry goes
//! when its last caller does, so abandoned keys hold no memory.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

pub struct SingleFlight<V> {
    calls: Mutex<HashMap<String, Arc<OnceCell<V>>>>,
}

impl<V> Default for SingleFlight<V> {
    fn default() -> Self {
        SingleFlight {
            calls: Mutex::new(HashMap::new()),
        }
    }
}

/// Takes the entry out when the run is over, or when the last caller leaves before it is.
struct Leave<'a, V> {
    flight: &'a SingleFlight<V>,
    key: &'a str,
    cell: Arc<OnceCell<V>>,
}

impl<V> Drop for Leave<'_, V> {
    fn drop(&mut self) {
        let mut calls = self.flight.lock();
        let ours = calls
            .get(self.key)
            .is_some_and(|c| Arc::ptr_eq(c, &self.cell));
        // Two holders left, the map and us: nobody else is waiting.
        if ours && (self.cell.initialized() || Arc::strong_count(&self.cell) <= 2) {
            calls.remove(self.key);
        }
    }
}

impl<V> SingleFlight<V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<OnceCell<V>>>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<V: Clone> SingleFlight<V> {
    /// `work()`'s value, or the value of the run of it already in flight for `key`.
    pub async fn run<F, Fut>(&self, key: &str, work: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V>,
    {
        let cell = self.lock().entry(key.to_owned()).or_default().clone();
        let leave = Leave {
            flight: self,
            key,
            cell,
        };
        leave.cell.get_or_init(work).await.clone()
    }

    /// Keys with a run in flight (for tests).
    #[cfg(test)]
    fn in_flight(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::FutureExt as _;
    use futures_util::future::{join, join_all};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn concurrent_callers_of_one_key_share_one_run() {
        let flight = SingleFlight::default();
        let runs = AtomicUsize::new(0);
        let (open, gate) = tokio::sync::watch::channel(false);
        let call = |key: &'static str| {
            let mut gate = gate.clone();
            let (flight, runs) = (&flight, &runs);
            async move {
                flight
                    .run(key, || async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        let _ = gate.wait_for(|open| *open).await;
                        format!("checked {key}")
                    })
                    .await
            }
        };
        // join_all polls every call once before `open` runs: all ten are waiting by then.
        let calls = join_all((0..10).map(|_| call("a")).chain([call("b")]));
        let (answers, _) = join(calls, async {
            let _ = open.send(true);
        })
        .await;
        assert_eq!(runs.load(Ordering::SeqCst), 2, "one run for a, one for b");
        assert!(answers[..10].iter().all(|a| a == "checked a"));
        assert_eq!(answers[10], "checked b");
        assert_eq!(flight.in_flight(), 0, "nothing kept after the run");
        // A later miss runs again: results are shared only while in flight.
        let (_, gate) = tokio::sync::watch::channel(true);
        let again = flight
            .run("a", || async move {
                let _ = gate.clone().wait_for(|o| *o).await;
                "again".to_owned()
            })
            .await;
        assert_eq!(again, "again");
    }

    #[tokio::test]
    async fn a_cancelled_run_is_taken_over_and_an_abandoned_key_is_dropped() {
        let flight: SingleFlight<u32> = SingleFlight::default();
        let mut leader = Box::pin(flight.run("k", std::future::pending::<u32>));
        let mut follower = Box::pin(flight.run("k", || async { 7 }));
        // The leader starts the work, the follower waits for it; then the leader goes.
        assert!(leader.as_mut().now_or_never().is_none());
        assert!(follower.as_mut().now_or_never().is_none());
        drop(leader);
        assert_eq!(follower.await, 7, "the follower took the work over");
        assert_eq!(flight.in_flight(), 0);
        let mut abandoned = Box::pin(flight.run("gone", std::future::pending::<u32>));
        assert!(abandoned.as_mut().now_or_never().is_none());
        assert_eq!(flight.in_flight(), 1);
        drop(abandoned);
        assert_eq!(flight.in_flight(), 0, "an abandoned key holds nothing");
    }
}
