//! Checkpoints of a parameter session at a clock boundary, and resuming from one on any
//! number of ranks.
//!
//! **When.** Every worker calls [`TableClient::checkpoint`] right after the same
//! [`clock`](TableClient::clock). Each rank's exchange thread then waits until its
//! server's stamp reaches that clock — every worker's updates of the earlier clocks have
//! arrived and been applied, held BSP and momentum/Adam sums included — and copies its
//! rows with their optimizer state (Adagrad squares, momentum, Adam moments and step
//! count). No update of a later clock can arrive before the copy: every worker is still
//! inside the call, which ends with a collective that follows every rank's write.
//!
//! **What.** Each rank's part holds its server's rows, keyed by `(table, row)`, and the
//! worker's own keyed records (state the app keeps outside the tables, such as matrix
//! factorization's user factors); rank 0's shared file holds the clock, the tables' names
//! and shapes, and the app's shared state (its loop position, its history). The layout,
//! checksums and manifest are the synchronous engine's (see [`crate::checkpoint`]).
//!
//! **Resuming** ([`ParamConfig::resume`](super::ParamConfig::resume)): before the session
//! starts, every rank reads every part and keeps the rows its server owns under the new
//! rank count, so a checkpoint written by 4 ranks resumes on 1, 2 or 3. Servers and
//! workers start at the saved clock, so learning-rate schedules continue where they were.
//! Every rank gets every worker record ([`Resumed::records`]) and keeps its own share.

use std::path::{Path, PathBuf};

use super::TableClient;
use super::exchange::TableComm;
use super::row::{Row, RowShape};
use super::rule::RuleState;
use super::spec::{TableId, TableSpec, owner_of};
use crate::checkpoint::{
    Describe, agree, choose, gather_agreed, read_framed, read_manifest, write_step,
};
use crate::comm::Comm;
use crate::error::{EngineError, Result};
use crate::wire::{Wire, decode_stored};

/// The `program` a parameter-table checkpoint's manifest names.
const PROGRAM: &str = "gasket::param tables";

/// One server row as a checkpoint holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SavedRow {
    pub table: TableId,
    pub row: u64,
    pub values: Row,
    pub sparse_squares: Option<Row>,
    pub state: RuleState,
}

impl Wire for SavedRow {
    fn encode(&self, out: &mut Vec<u8>) {
        (self.table, self.row).encode(out);
        self.values.encode(out);
        self.sparse_squares.encode(out);
        self.state.encode(out);
    }

    fn decode(input: &mut &[u8]) -> Self {
        let (table, row) = <(TableId, u64)>::decode(input);
        SavedRow {
            table,
            row,
            values: Row::decode(input),
            sparse_squares: Option::decode(input),
            state: RuleState::decode(input),
        }
    }
}

/// What a worker adds to a checkpoint besides the tables.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerState {
    /// State every rank shares (the loop position, a history); rank 0's copy is saved.
    pub shared: Vec<u8>,
    /// This rank's keyed records; each key belongs to one rank.
    pub records: Vec<(u64, Vec<u8>)>,
}

/// Where a resumed session starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resumed {
    /// The folder of the checkpoint.
    pub dir: PathBuf,
    /// Clocks every worker had finished when it was taken (the workers' clock now).
    pub clock: u64,
    /// Ranks that wrote it.
    pub ranks: usize,
    /// The workers' shared state, as saved.
    pub shared: Vec<u8>,
    /// Every rank's keyed records, in key order: each rank keeps the keys it now owns.
    pub records: Vec<(u64, Vec<u8>)>,
}

impl Resumed {
    /// The shared state decoded as `T` (what the workers saved with
    /// [`Wire::encode`]).
    ///
    /// # Errors
    ///
    /// [`EngineError::Checkpoint`] when it does not decode as a `T` (a checkpoint written
    /// by another program), or leaves bytes over.
    pub fn shared_as<T: Wire>(&self) -> Result<T> {
        let decoded = decode_stored(|| {
            let mut input = self.shared.as_slice();
            let value = T::decode(&mut input);
            input.is_empty().then_some(value)
        });
        decoded.flatten().ok_or_else(|| {
            EngineError::Checkpoint(format!(
                "{}: its saved state does not decode as `{}` (written by another program?)",
                self.dir.display(),
                std::any::type_name::<T>()
            ))
        })
    }
}

/// Where and how a session writes checkpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCheckpoint<'a> {
    /// The checkpoint folder.
    pub dir: &'a Path,
    /// Complete checkpoints kept (at least 1).
    pub keep: usize,
}

/// The tables' identity as a checkpoint records it: names and shapes, in table order.
fn signature(specs: &[TableSpec]) -> Vec<(Vec<u8>, u64)> {
    specs
        .iter()
        .map(|s| {
            let width = match s.shape {
                RowShape::Dense(w) => w as u64,
                RowShape::Sparse => u64::MAX,
            };
            (s.name.clone().into_bytes(), width)
        })
        .collect()
}

impl TableClient {
    /// Writes a checkpoint of every table and of `state` at the current clock
    /// (collective: every rank calls it right after the same [`clock`](Self::clock), with
    /// no update since). Returns the checkpoint's folder.
    ///
    /// # Errors
    ///
    /// Ranks at different clocks, updates not yet sent with a `clock()`, a failed write
    /// on any rank ([`EngineError::Checkpoint`], the same on every rank; the previous
    /// checkpoint stays), or a lost rank.
    pub fn checkpoint(
        &self,
        comm: &TableComm<'_>,
        target: &TableCheckpoint<'_>,
        state: &WorkerState,
    ) -> Result<PathBuf> {
        let clock = self.current_clock();
        let ready = if self.shared.has_pending() {
            Err(format!(
                "updates of clock {clock} not yet sent: call checkpoint() right after clock()"
            ))
        } else {
            Ok(clock.to_le_bytes().to_vec())
        };
        let clocks = gather_agreed(comm, ready)?;
        if let Some((rank, other)) = clocks
            .iter()
            .map(|bytes| u64::decode(&mut bytes.as_slice()))
            .enumerate()
            .find(|&(_, other)| other != clock)
        {
            return Err(EngineError::Checkpoint(format!(
                "ranks checkpoint at different clocks (rank {} at {clock}, rank {rank} at \
                 {other})",
                self.rank()
            )));
        }

        let rows = self.shared.snapshot_at(clock)?;
        let mut part = Vec::new();
        rows.encode(&mut part);
        state.records.encode(&mut part);
        let global = || {
            let mut bytes = Vec::new();
            clock.encode(&mut bytes);
            signature(&self.shared.specs).encode(&mut bytes);
            state.shared.encode(&mut bytes);
            bytes
        };
        let describe = Describe {
            program: PROGRAM.to_string(),
            sizes: (self.shared.specs.len() as u64, 0),
        };
        write_step(
            comm,
            target.dir,
            clock,
            target.keep.max(1),
            &part,
            global,
            describe,
        )
    }
}

/// Reads the newest complete checkpoint under `root` for a session of `specs` on `comm`
/// (collective, before the session starts): this rank's server rows and what every
/// worker resumes from.
pub(crate) fn restore(
    comm: &dyn Comm,
    root: &Path,
    specs: &[TableSpec],
) -> Result<(Vec<SavedRow>, Resumed)> {
    let dir = choose(comm, root, "clock", true)?;
    let started = std::time::Instant::now();
    let loaded = load(&dir, specs, comm.rank(), comm.size());
    let outcome = loaded.as_ref().map(|_| ()).map_err(Clone::clone);
    agree(comm, outcome)?;
    let (rows, resumed) = loaded.expect("agreed");
    if comm.rank() == 0 {
        tracing::info!(
            "parameter tables resume at clock {} (checkpoint of {} rank(s) read in {:.3}s)",
            resumed.clock,
            resumed.ranks,
            started.elapsed().as_secs_f64()
        );
    }
    Ok((rows, resumed))
}

fn load(
    dir: &Path,
    specs: &[TableSpec],
    rank: usize,
    ranks: usize,
) -> std::result::Result<(Vec<SavedRow>, Resumed), String> {
    let manifest = read_manifest(dir)?;
    if manifest.program != PROGRAM {
        return Err(format!(
            "{} was written by `{}`, not by a parameter-table session",
            dir.display(),
            manifest.program
        ));
    }
    let global = read_framed(dir, &manifest.files[0])?;
    let parts: Vec<Vec<u8>> = manifest.files[1..]
        .iter()
        .map(|entry| read_framed(dir, entry))
        .collect::<std::result::Result<_, _>>()?;
    // The checksums passed, so a decoding failure means files of another format version.
    let decoded = decode_stored(|| {
        let mut input = global.as_slice();
        let clock = u64::decode(&mut input);
        let saved_tables = Vec::<(Vec<u8>, u64)>::decode(&mut input);
        let shared = Vec::<u8>::decode(&mut input);
        let mut rows = Vec::new();
        let mut records = Vec::new();
        for part in &parts {
            let mut input = part.as_slice();
            rows.extend(
                Vec::<SavedRow>::decode(&mut input)
                    .into_iter()
                    .filter(|r| owner_of(r.table, r.row, ranks) == rank),
            );
            records.extend(Vec::<(u64, Vec<u8>)>::decode(&mut input));
        }
        (clock, saved_tables, shared, rows, records)
    })
    .ok_or_else(|| {
        format!(
            "{} does not decode as a parameter-table checkpoint",
            dir.display()
        )
    })?;
    let (clock, saved_tables, shared, rows, mut records) = decoded;
    let ours = signature(specs);
    if saved_tables != ours {
        let show = |t: &[(Vec<u8>, u64)]| {
            t.iter()
                .map(|(name, w)| (String::from_utf8_lossy(name), w))
                .map(|(name, w)| match *w {
                    u64::MAX => format!("{name} (sparse)"),
                    w => format!("{name} ({w} wide)"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(format!(
            "{} holds tables [{}]; this run has [{}] (other settings or another model)",
            dir.display(),
            show(&saved_tables),
            show(&ours)
        ));
    }
    records.sort_by_key(|(key, _)| *key);
    let resumed = Resumed {
        dir: dir.to_path_buf(),
        clock,
        ranks: manifest.ranks,
        shared,
        records,
    };
    Ok((rows, resumed))
}
