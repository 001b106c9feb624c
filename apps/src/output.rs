//! Result files of the apps, written atomically by the engine's writers (a failed run
//! never leaves a partial file that looks whole); errors name the file.

use std::io::Write;
use std::path::Path;

use crate::{AppError, Result};

fn output_error(path: &Path) -> impl FnOnce(std::io::Error) -> AppError + '_ {
    move |source| AppError::Output {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes a file through `body`, atomically (temporary file, fsync, rename).
pub fn write_atomically(
    path: &Path,
    body: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    gasket_engine::output::write_atomically(path, body).map_err(output_error(path))
}

/// Writes `vertex<TAB>value` lines (sorted as given) to `path`, atomically.
pub fn write_values<T: std::fmt::Display>(
    path: &Path,
    header: &str,
    values: &[(u64, T)],
) -> Result<()> {
    gasket_engine::output::write_values(path, header, values).map_err(output_error(path))
}
