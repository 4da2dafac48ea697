//! What the subcommands share: how a failure is reported (usage or runtime, hence the exit
//! code) and the runtime they run on.

/// What went wrong, already rendered.
pub(super) enum Failure {
    /// Bad arguments or configuration: exit 64.
    Usage(String),
    /// A failure while running: exit 1.
    Runtime(String),
}

/// The multi-thread runtime the gateway and the admin commands run on.
pub(super) fn runtime() -> Result<tokio::runtime::Runtime, String> {
    builder()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

/// The runtime's settings. A task woken by the running task is queued behind the tasks already
/// waiting, not run next (tokio's "LIFO slot", on by default, is off): a batch of requests read
/// together is then written to the upstream together, and their responses to the clients, so
/// that a peer is woken once per batch rather than once per request (each wake of a process on
/// another core costs the writer an inter-processor interrupt). Needs `--cfg tokio_unstable`,
/// which `.cargo/config.toml` sets; built without it, the slot stays on.
fn builder() -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    #[cfg(tokio_unstable)]
    builder.disable_lifo_slot();
    builder
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tokio::sync::{mpsc, oneshot};

    /// With the LIFO slot on, a task woken by the running one runs before a task that running
    /// one spawned just before; with it off, after.
    #[test]
    fn a_woken_task_waits_behind_the_tasks_already_queued() {
        let rt = super::builder()
            .worker_threads(1)
            .build()
            .unwrap_or_else(|e| unreachable!("a runtime: {e}"));
        let order = Arc::new(Mutex::new(Vec::new()));
        let push = |order: &Arc<Mutex<Vec<&'static str>>>, what| {
            order.lock().unwrap_or_else(|p| p.into_inner()).push(what);
        };
        rt.block_on(async {
            let (ready, is_ready) = oneshot::channel::<()>();
            let (wake, woken) = oneshot::channel::<()>();
            let (done, mut all_done) = mpsc::unbounded_channel::<()>();
            let (o, d) = (Arc::clone(&order), done.clone());
            tokio::spawn(async move {
                // Waiting (registered with `woken`) once this poll returns.
                let _ = ready.send(());
                let _ = woken.await;
                push(&o, "woken");
                drop(d);
            });
            let _ = is_ready.await;
            let (o, d) = (Arc::clone(&order), done.clone());
            // On the worker: queue a task, then wake the waiter.
            tokio::spawn(async move {
                tokio::spawn(async move {
                    push(&o, "queued");
                    drop(d);
                });
                let _ = wake.send(());
            });
            drop(done);
            // Every sender dropped: both tasks ran.
            while all_done.recv().await.is_some() {}
        });
        let seen = order.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(seen, ["queued", "woken"]);
    }
}
