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
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}
