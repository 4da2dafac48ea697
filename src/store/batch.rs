//! Group execution for a database backend: calls that arrive while earlier groups are still
//! running wait and go to the database together, as one statement and one commit.
//!
//! Why: with one statement per call, every DAuth request costs the database a commit of its
//! own (a WAL flush with `synchronous_commit` on) and the gateway a round trip of its own. On
//! this project's two-core machine that capped the PostgreSQL replay window at about 60% of the
//! memory window's rate, and onboarding (a new user per request) at about 5,000 a second. The
//! rule each call follows is unchanged: a group runs the very statements one call would, over
//! arrays (`unnest`), so every durability and race guarantee of the single call holds for each
//! member, and a failed group fails each of its calls (the callers fail closed).
//!
//! How: one dispatcher task (started by the first call, so a batcher can be made outside a
//! runtime) takes a permit (at most [`Batcher::start`]'s `lanes` groups run at
//! once), then the first waiting call, then every call already queued behind it (up to
//! `most`), and runs that group on a task of its own. While every lane is busy, calls queue, so
//! the next group is larger exactly when the database is the bottleneck; under light load a
//! group is one call and costs what the call alone would.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::{Semaphore, mpsc, oneshot};

use super::error::{BackendError, StoreError};

/// One queued call: its input and where its answer goes.
type Call<I, O> = (I, oneshot::Sender<Result<O, StoreError>>);

/// Calls queued at most before a caller waits to queue.
const QUEUE: usize = 8192;

/// What runs one group.
type Run<I, O> = Arc<
    dyn Fn(Vec<I>) -> Pin<Box<dyn Future<Output = Result<Vec<O>, StoreError>> + Send>>
        + Send
        + Sync,
>;

/// The dispatcher's part, until the first call starts it.
struct Idle<I, O> {
    queued: mpsc::Receiver<Call<I, O>>,
    lanes: usize,
    most: usize,
    run: Run<I, O>,
}

/// The sending side: cheap to clone, shared by every caller.
pub struct Batcher<I, O> {
    calls: mpsc::Sender<Call<I, O>>,
    idle: Arc<Mutex<Option<Idle<I, O>>>>,
    started: Arc<OnceLock<()>>,
}

impl<I, O> Clone for Batcher<I, O> {
    fn clone(&self) -> Self {
        Self {
            calls: self.calls.clone(),
            idle: Arc::clone(&self.idle),
            started: Arc::clone(&self.started),
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// A batcher of up to `lanes` groups at once, each of at most `most` calls, run by `run`,
    /// which answers one output per input, in order. Its dispatcher starts on the tokio runtime
    /// of the first call and ends when the last `Batcher` is dropped.
    pub fn start<F, Fut>(lanes: usize, most: usize, run: F) -> Self
    where
        F: Fn(Vec<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Vec<O>, StoreError>> + Send + 'static,
    {
        let (calls, queued) = mpsc::channel(QUEUE);
        let run: Run<I, O> = Arc::new(move |inputs| Box::pin(run(inputs)));
        let idle = Idle {
            queued,
            lanes: lanes.max(1),
            most: most.max(1),
            run,
        };
        Self {
            calls,
            idle: Arc::new(Mutex::new(Some(idle))),
            started: Arc::new(OnceLock::new()),
        }
    }

    /// Queues `input` and waits for its group to run. The caller bounds the wait.
    pub async fn call(&self, input: I) -> Result<O, StoreError> {
        self.started.get_or_init(|| {
            let idle = self.idle.lock().ok().and_then(|mut idle| idle.take());
            if let Some(idle) = idle {
                tokio::spawn(dispatch(idle));
            }
        });
        let (answer, answered) = oneshot::channel();
        self.calls
            .send((input, answer))
            .await
            .map_err(|_| stopped())?;
        answered.await.map_err(|_| stopped())?
    }
}

async fn dispatch<I: Send + 'static, O: Send + 'static>(idle: Idle<I, O>) {
    let Idle {
        mut queued,
        lanes,
        most,
        run,
    } = idle;
    let lanes = Arc::new(Semaphore::new(lanes));
    loop {
        let Ok(lane) = Arc::clone(&lanes).acquire_owned().await else {
            return;
        };
        let Some(first) = queued.recv().await else {
            return;
        };
        let mut group = vec![first];
        while group.len() < most {
            match queued.try_recv() {
                Ok(call) => group.push(call),
                Err(_) => break,
            }
        }
        let run = Arc::clone(&run);
        tokio::spawn(async move {
            let (inputs, answers): (Vec<I>, Vec<_>) = group.into_iter().unzip();
            let n = inputs.len();
            match run(inputs).await {
                Ok(outputs) if outputs.len() == n => {
                    for (answer, out) in answers.into_iter().zip(outputs) {
                        let _ = answer.send(Ok(out));
                    }
                }
                Ok(_) => answer_all(answers, "a group's answer does not match its calls"),
                Err(e) => answer_all(answers, &e.to_string()),
            }
            drop(lane);
        });
    }
}

/// Every call of a failed group gets the failure (the error itself is not `Clone`).
fn answer_all<O>(answers: Vec<oneshot::Sender<Result<O, StoreError>>>, why: &str) {
    for answer in answers {
        let _ = answer.send(Err(StoreError::Backend(BackendError(
            why.to_owned().into(),
        ))));
    }
}

fn stopped() -> StoreError {
    StoreError::Backend(BackendError("the store's group writer stopped".into()))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn calls_queued_behind_a_running_group_go_together_in_order() {
        let groups = Arc::new(AtomicUsize::new(0));
        let (release, gate) = tokio::sync::watch::channel(false);
        let g = Arc::clone(&groups);
        let batcher = Batcher::start(1, 64, move |inputs: Vec<u32>| {
            g.fetch_add(1, Ordering::SeqCst);
            let mut gate = gate.clone();
            async move {
                let _ = gate.wait_for(|open| *open).await;
                Ok(inputs.into_iter().map(|i| i * 10).collect())
            }
        });
        // The first call occupies the only lane; the next nine queue behind it.
        let calls: Vec<_> = (0..10u32)
            .map(|i| {
                let b = batcher.clone();
                tokio::spawn(async move { b.call(i).await.map_err(|e| e.to_string()) })
            })
            .collect();
        while groups.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        for _ in 0..50 {
            tokio::task::yield_now().await;
        }
        release.send(true).unwrap();
        let mut out = Vec::new();
        for c in calls {
            out.push(c.await.unwrap().unwrap());
        }
        assert_eq!(out, (0..10).map(|i| i * 10).collect::<Vec<_>>());
        assert!(groups.load(Ordering::SeqCst) <= 3, "{groups:?} groups");
    }

    #[tokio::test]
    async fn a_failed_group_fails_every_call_in_it() {
        let batcher = Batcher::start(2, 8, |_: Vec<u8>| async {
            Err::<Vec<u8>, _>(StoreError::Backend(BackendError("db down".into())))
        });
        let err = batcher.call(1).await.unwrap_err();
        assert!(err.to_string().contains("db down"), "{err}");
    }

    #[tokio::test]
    async fn an_answer_of_the_wrong_length_is_an_error_not_a_wrong_answer() {
        let batcher = Batcher::start(1, 8, |_: Vec<u8>| async { Ok(Vec::<u8>::new()) });
        assert!(batcher.call(1).await.is_err());
    }
}
