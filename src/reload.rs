//! Hot reload: on `SIGHUP`, or when the configuration file or a file it names changes (the
//! directories are watched, so an editor's or a deployment's replace-by-rename is seen; changes
//! are debounced), the file is loaded and checked exactly as `check-config` checks it
//! ([`crate::Config::load`]), the new policy is built over the same shared state, and only then
//! swapped in ([`crate::State::install`]). Requests already running finish on their snapshot; the
//! next request, on any connection, sees the new policy.
//!
//! Every attempt is counted in [`crate::state::reloads::ReloadStats`]: `unchanged` when the
//! file and every file it names read as before (nothing is rebuilt), `error` when the new
//! configuration fails a check, or changes a key that only a restart can apply (the message
//! names them, see [`RESTART_ONLY`]): then nothing changes, the old policy keeps serving and the
//! error is logged with the file and key.

mod fixed;
mod reloader;
mod watch;

pub use fixed::{RESTART_ONLY, restart_only_changes};
pub use reloader::Reloader;
pub(crate) use watch::spawn;
