//! Finding the newest complete checkpoint in a folder, and pruning old ones.

use std::path::{Path, PathBuf};

use super::files::{Manifest, read_framed, read_manifest, step_of};

/// A complete checkpoint chosen for resuming, and the newer ones passed over.
#[derive(Debug, Clone)]
pub struct CheckpointInfo {
    /// Its folder.
    pub dir: PathBuf,
    /// Supersteps completed when it was taken.
    pub iteration: u64,
    /// Ranks that wrote it.
    pub ranks: usize,
    /// Newer checkpoint folders that were incomplete or damaged, with the reason.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Checkpoint folders under `root`, newest first.
fn step_dirs(root: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        let name = entry.file_name();
        if let Some(step) = name.to_str().and_then(step_of)
            && entry.file_type()?.is_dir()
        {
            found.push((step, entry.path()));
        }
    }
    found.sort_unstable_by_key(|&(step, _)| std::cmp::Reverse(step));
    Ok(found)
}

/// Checks a checkpoint folder completely: manifest, then every file's length and checksum.
fn verify(dir: &Path) -> Result<Manifest, String> {
    let manifest = read_manifest(dir)?;
    let named = dir.file_name().and_then(|n| n.to_str()).and_then(step_of);
    if named != Some(manifest.iteration) {
        return Err(format!(
            "its manifest is for superstep {}, not the one its name says",
            manifest.iteration
        ));
    }
    for entry in &manifest.files {
        read_framed(dir, entry)?;
    }
    Ok(manifest)
}

/// The newest checkpoint under `root` whose manifest and files all check out. Each newer
/// folder passed over is logged as a warning and listed in [`CheckpointInfo::skipped`].
///
/// # Errors
///
/// A message when `root` cannot be read or holds no complete checkpoint (listing why each
/// candidate was rejected).
pub fn newest_complete(root: &Path) -> Result<CheckpointInfo, String> {
    let dirs = step_dirs(root)
        .map_err(|e| format!("cannot read the checkpoint folder {}: {e}", root.display()))?;
    let mut skipped = Vec::new();
    for (_, dir) in dirs {
        match verify(&dir) {
            Ok(manifest) => {
                return Ok(CheckpointInfo {
                    dir,
                    iteration: manifest.iteration,
                    ranks: manifest.ranks,
                    skipped,
                });
            }
            Err(reason) => {
                tracing::warn!(
                    "skipping checkpoint {}: {reason}; trying an older one",
                    dir.display()
                );
                skipped.push((dir, reason));
            }
        }
    }
    let mut message = format!("no complete checkpoint in {}", root.display());
    for (dir, reason) in &skipped {
        message.push_str(&format!("; {}: {reason}", dir.display()));
    }
    Err(message)
}

/// Deletes checkpoint folders under `root` older than the `keep` newest complete ones,
/// and unfinished folders older than the newest complete one. Best effort: a folder that
/// cannot be removed stays, with a warning.
pub(crate) fn prune(root: &Path, keep: usize) {
    let Ok(dirs) = step_dirs(root) else { return };
    let mut complete = 0;
    for (_, dir) in dirs {
        let is_complete = read_manifest(&dir).is_ok();
        let remove = if is_complete {
            complete += 1;
            complete > keep
        } else {
            complete > 0
        };
        if remove && let Err(e) = std::fs::remove_dir_all(&dir) {
            tracing::warn!("cannot remove old checkpoint {}: {e}", dir.display());
        }
    }
}
