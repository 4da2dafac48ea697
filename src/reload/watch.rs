//! What starts a reload: `SIGHUP`, and changes in the directories of the configuration file
//! and the files it names (watched with `notify`; an event counts when it is about one of those
//! files, or a `..name` entry as Kubernetes swaps a mounted ConfigMap's files; events within
//! [`DEBOUNCE`] of each other make one reload).

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{EventKind, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tracing::warn;

use super::reloader::Reloader;

/// How long the files must be quiet after a change before the reload runs.
pub(crate) const DEBOUNCE: Duration = Duration::from_millis(300);

/// The files whose changes count, shared with the watcher's callback.
type Watched = Arc<Mutex<HashSet<PathBuf>>>;

/// Starts the reload task: `SIGHUP` always, file watching when the configuration is a file.
/// Both are set up before this returns, so a change made once the server runs is seen.
pub(crate) fn spawn(reloader: Arc<Reloader>) -> JoinHandle<()> {
    let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
    let mut hangup = hangup
        .inspect_err(|e| warn!(error = %e, "cannot listen for SIGHUP; reload by file change only"))
        .ok();
    let watched: Watched = Arc::default();
    let (tx, mut changes) = mpsc::unbounded_channel();
    // No watcher (and no inotify instance) for a configuration that is not a file.
    let is_file = reloader.state().policy().config.source.is_file();
    let mut files = FileWatch::new(Arc::clone(&watched), tx, is_file);
    files.rewatch(&reloader);
    tokio::spawn(async move {
        loop {
            let trigger = tokio::select! {
                Some(()) = async { match hangup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => "SIGHUP",
                Some(()) = changes.recv() => {
                    while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, changes.recv()).await {}
                    "file change"
                }
                else => return,
            };
            reloader.reload(trigger).await;
            files.rewatch(&reloader);
        }
    })
}

/// The watcher and the directories it watches.
struct FileWatch {
    watcher: Option<notify::RecommendedWatcher>,
    watched: Watched,
    dirs: BTreeSet<PathBuf>,
}

impl FileWatch {
    fn new(watched: Watched, tx: mpsc::UnboundedSender<()>, wanted: bool) -> Self {
        if !wanted {
            return Self {
                watcher: None,
                watched,
                dirs: BTreeSet::new(),
            };
        }
        let files = Arc::clone(&watched);
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if matches!(event.kind, EventKind::Access(_)) {
                return;
            }
            let set = files.lock().unwrap_or_else(|p| p.into_inner());
            let about_ours = event.paths.iter().any(|p| {
                set.contains(p)
                    || p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(".."))
            });
            if about_ours {
                let _ = tx.send(());
            }
        });
        let watcher = watcher
            .inspect_err(|e| warn!(error = %e, "cannot watch the configuration files; reload by SIGHUP only"))
            .ok();
        Self {
            watcher,
            watched,
            dirs: BTreeSet::new(),
        }
    }

    /// Watches the directories of the current configuration's files (and no others).
    fn rewatch(&mut self, reloader: &Reloader) {
        let Some(watcher) = self.watcher.as_mut() else {
            return;
        };
        let config = &reloader.state().policy().config;
        if !config.source.is_file() {
            return;
        }
        let files: HashSet<PathBuf> = std::iter::once(&config.source)
            .chain(&config.files)
            .filter_map(|p| std::path::absolute(p).ok())
            .collect();
        let dirs: BTreeSet<PathBuf> = files
            .iter()
            .filter_map(|f| f.parent().map(Path::to_owned))
            .collect();
        for gone in self.dirs.difference(&dirs) {
            let _ = watcher.unwatch(gone);
        }
        for dir in dirs.difference(&self.dirs) {
            if let Err(e) = watcher.watch(dir, RecursiveMode::NonRecursive) {
                warn!(dir = %dir.display(), error = %e, "cannot watch a configuration directory");
            }
        }
        self.dirs = dirs;
        *self.watched.lock().unwrap_or_else(|p| p.into_inner()) = files;
    }
}
