//! The collective steps every kind of checkpoint shares: writing one (each rank its part,
//! rank 0 the shared file and the manifest last) and choosing the one to resume from.
//!
//! Every step that can fail on one rank (a full disk, a read-only folder) ends in
//! [`agree`]: one collective after which all ranks return the same outcome, so no rank
//! waits in a later collective for one that gave up.

use std::path::{Path, PathBuf};

use super::files::{
    FileEntry, GLOBAL, MANIFEST, Manifest, part_name, step_dir, write_framed, write_manifest,
};
use super::select::{newest_complete, prune};
use crate::comm::Comm;
use crate::error::{EngineError, Result};
use crate::wire::Wire;

/// Every rank's outcome of a local step, agreed in one collective: all ranks get every
/// rank's payload, or all return the same error (naming the first rank that failed).
pub(crate) fn gather_agreed(
    comm: &dyn Comm,
    mine: std::result::Result<Vec<u8>, String>,
) -> Result<Vec<Vec<u8>>> {
    let mut buf = Vec::new();
    match mine {
        Ok(payload) => {
            false.encode(&mut buf);
            buf.extend(payload);
        }
        Err(reason) => {
            true.encode(&mut buf);
            buf.extend(reason.into_bytes());
        }
    }
    let mut all = comm.all_gather(buf)?;
    for (rank, bytes) in all.iter_mut().enumerate() {
        let failed = bytes.first() == Some(&1);
        bytes.remove(0);
        if failed {
            let reason = String::from_utf8_lossy(bytes);
            let who = if comm.size() > 1 {
                format!("rank {rank}: ")
            } else {
                String::new()
            };
            return Err(EngineError::Checkpoint(format!("{who}{reason}")));
        }
    }
    Ok(all)
}

/// [`gather_agreed`] for steps that produce nothing to share.
pub(crate) fn agree(comm: &dyn Comm, mine: std::result::Result<(), String>) -> Result<()> {
    gather_agreed(comm, mine.map(|()| Vec::new())).map(|_| ())
}

/// What the manifest of a checkpoint being written says about its contents.
pub(crate) struct Describe {
    /// Who wrote it (a program's type name, or the parameter tables).
    pub program: String,
    /// The two sizes the manifest records (a graph's vertices and edges).
    pub sizes: (u64, u64),
}

/// Writes checkpoint `step` under `root` (collective): this rank's `part`, then on rank 0
/// the shared file from `global()` and the manifest; then rank 0 deletes checkpoints
/// beyond the `keep` newest. Returns the checkpoint's folder.
pub(crate) fn write_step(
    comm: &dyn Comm,
    root: &Path,
    step: u64,
    keep: usize,
    part: &[u8],
    global: impl FnOnce() -> Vec<u8>,
    describe: Describe,
) -> Result<PathBuf> {
    let dir = step_dir(root, step);
    let rank = comm.rank();

    // Rank 0 makes the folder and clears a manifest an earlier run may have left there,
    // before any part is replaced.
    let prepared = if rank == 0 {
        std::fs::create_dir_all(&dir)
            .and_then(|()| match std::fs::remove_file(dir.join(MANIFEST)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            })
            .map_err(|e| format!("cannot create checkpoint {}: {e}", dir.display()))
    } else {
        Ok(())
    };
    agree(comm, prepared)?;

    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| write_framed(&dir, &part_name(rank), part))
        .map(|entry| {
            let mut bytes = Vec::new();
            (entry.len, entry.crc).encode(&mut bytes);
            bytes
        })
        .map_err(|e| format!("cannot write checkpoint {}: {e}", dir.display()));
    let entries = gather_agreed(comm, written)?;

    let finished = if rank == 0 {
        finish(&dir, step, &entries, global(), describe)
            .map_err(|e| format!("cannot write checkpoint {}: {e}", dir.display()))
    } else {
        Ok(())
    };
    agree(comm, finished)?;
    if rank == 0 {
        prune(root, keep);
    }
    Ok(dir)
}

/// Rank 0's share of a write: the shared file, then the manifest naming every file.
fn finish(
    dir: &Path,
    step: u64,
    parts: &[Vec<u8>],
    global: Vec<u8>,
    describe: Describe,
) -> std::io::Result<()> {
    let mut files = vec![write_framed(dir, GLOBAL, &global)?];
    for (rank, bytes) in parts.iter().enumerate() {
        let (len, crc) = <(u64, u32)>::decode(&mut bytes.as_slice());
        files.push(FileEntry {
            name: part_name(rank),
            len,
            crc,
        });
    }
    let manifest = Manifest {
        program: describe.program,
        iteration: step,
        ranks: parts.len(),
        vertices: describe.sizes.0,
        edges: describe.sizes.1,
        files,
    };
    write_manifest(dir, &manifest)
}

/// The newest complete checkpoint under `root`, as rank 0 finds it, on every rank
/// (collective). `what` names a step in the log line ("superstep", "clock").
pub(crate) fn choose(comm: &dyn Comm, root: &Path, what: &str, log: bool) -> Result<PathBuf> {
    let choice = if comm.rank() == 0 {
        newest_complete(root).map(|info| {
            if log {
                tracing::info!(
                    "resuming from {} ({what} {}, written by {} rank(s))",
                    info.dir.display(),
                    info.iteration,
                    info.ranks
                );
            }
            info.dir.to_string_lossy().into_owned().into_bytes()
        })
    } else {
        Ok(Vec::new())
    };
    let chosen = gather_agreed(comm, choice)?.swap_remove(0);
    Ok(PathBuf::from(String::from_utf8_lossy(&chosen).into_owned()))
}
