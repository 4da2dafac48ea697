//! Reading the files the gateway is given at start-up: configuration, keys, certificates.
//!
//! This module owns the one rule for those reads (a regular file, at most [`MAX_FILE_BYTES`],
//! UTF-8), and which directories a start creates; it does not know what the files mean:
//! config, auth and tls parse them.

use std::path::Path;

/// The largest file the gateway reads at start-up: configuration, keys, certificates.
pub(crate) const MAX_FILE_BYTES: u64 = 1 << 20;

/// Reads a UTF-8 text file of at most [`MAX_FILE_BYTES`] that must be a regular file.
///
/// A path to a device, FIFO or directory (`/dev/zero`, a named pipe) is refused at once
/// rather than read until memory runs out or forever.
pub(crate) fn read_small_file(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read};
    // Checked before opening: opening a FIFO blocks until something writes to it.
    if !std::fs::metadata(path)?.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "not a regular file"));
    }
    let file = std::fs::File::open(path)?;
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::new(
            ErrorKind::InvalidData,
            format!("larger than {MAX_FILE_BYTES} bytes"),
        ));
    }
    Ok(text)
}

/// The outermost of `path` and its ancestors that does not exist: what `create_dir_all(path)`
/// would create first, and so what to remove to undo it. `None` when `path` exists.
pub(crate) fn first_missing(path: &Path) -> Option<&Path> {
    let mut missing = None;
    for p in path.ancestors() {
        if p.as_os_str().is_empty() || std::fs::symlink_metadata(p).is_ok() {
            break;
        }
        missing = Some(p);
    }
    missing
}
