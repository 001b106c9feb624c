//! Writing the synchronous engine's state to a checkpoint and restoring it (see
//! [`crate::checkpoint`] for the layout and the guarantees).
//!
//! A part holds, as `(global id, value)` records: the data of every owned vertex; the
//! vertices active in the next superstep with their combined message (signalled
//! programs); and the data of every edge whose source the rank owns (each edge once).
//! Restoring keeps the records of the vertices and edges this rank holds. Parallel edges
//! (same two endpoints) are interchangeable; their values are handed out in saved order
//! to the copies in arrival order, which both endpoint owners share, so the two copies of
//! a cut edge get the same value.

use std::collections::HashMap;
use std::path::Path;

use super::{Frontier, FrontierKind, SyncEngine, exchange_ghosts};
use crate::checkpoint::{
    FileEntry, GLOBAL, MANIFEST, Manifest, newest_complete, part_name, prune, read_framed,
    read_manifest, step_dir, write_framed, write_manifest,
};
use crate::comm::Comm;
use crate::error::{EngineError, Result};
use crate::ids::{LocalId, VertexId};
use crate::program::{Activation, VertexProgram};
use crate::sync::Bitset;
use crate::wire::Wire;

/// Every rank's outcome of a local step, agreed in one collective: all ranks get every
/// rank's payload, or all return the same error (naming the first rank that failed).
fn gather_agreed(
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
fn agree(comm: &dyn Comm, mine: std::result::Result<(), String>) -> Result<()> {
    gather_agreed(comm, mine.map(|()| Vec::new())).map(|_| ())
}

impl<P: VertexProgram> SyncEngine<'_, P> {
    /// Writes a checkpoint of the state after `self.iteration` supersteps (collective).
    pub(super) fn write_checkpoint(&self) -> Result<()> {
        let settings = &self.config.checkpoint;
        let root = settings.dir.as_deref().expect("due() checked the folder");
        let dir = step_dir(root, self.iteration as u64);
        let rank = self.comm.rank();
        let started = std::time::Instant::now();

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
        agree(self.comm, prepared)?;

        let body = self.encode_part();
        let written = std::fs::create_dir_all(&dir)
            .and_then(|()| write_framed(&dir, &part_name(rank), &body))
            .map(|entry| {
                let mut bytes = Vec::new();
                (entry.len, entry.crc).encode(&mut bytes);
                bytes
            })
            .map_err(|e| format!("cannot write checkpoint {}: {e}", dir.display()));
        let entries = gather_agreed(self.comm, written)?;

        let finished = if rank == 0 {
            self.write_global_and_manifest(&dir, &entries)
                .map_err(|e| format!("cannot write checkpoint {}: {e}", dir.display()))
        } else {
            Ok(())
        };
        agree(self.comm, finished)?;
        if rank == 0 {
            prune(root, settings.keep());
            if self.config.log_progress {
                tracing::info!(
                    "checkpoint after superstep {} written to {} in {:.3}s",
                    self.iteration,
                    dir.display(),
                    started.elapsed().as_secs_f64()
                );
            }
        }
        Ok(())
    }

    fn write_global_and_manifest(&self, dir: &Path, parts: &[Vec<u8>]) -> std::io::Result<()> {
        let mut global = Vec::new();
        (self.iteration as u64).encode(&mut global);
        self.aggregates.encode(&mut global);
        (self.frontier.kind() == FrontierKind::All).encode(&mut global);
        self.program.save_state().encode(&mut global);
        let mut files = vec![write_framed(dir, GLOBAL, &global)?];
        for (rank, bytes) in parts.iter().enumerate() {
            let (len, crc) = <(u64, u32)>::decode(&mut bytes.as_slice());
            files.push(FileEntry {
                name: part_name(rank),
                len,
                crc,
            });
        }
        let topo = &self.graph.topo;
        let manifest = Manifest {
            program: std::any::type_name::<P>().to_string(),
            iteration: self.iteration as u64,
            ranks: self.comm.size(),
            vertices: topo.num_global_vertices(),
            edges: topo.num_global_edges(),
            files,
        };
        write_manifest(dir, &manifest)
    }

    /// This rank's records: owned vertices, the next superstep's active vertices and
    /// messages, and the edges whose source it owns.
    fn encode_part(&self) -> Vec<u8> {
        let topo = &self.graph.topo;
        let n_owned = topo.num_owned();
        let mut out = Vec::new();
        (n_owned as u64).encode(&mut out);
        for v in 0..n_owned {
            topo.global_id(v as LocalId).encode(&mut out);
            self.data[v].encode(&mut out);
        }
        let signalled = self.program.activation() == Activation::Signalled
            && self.frontier.kind() != FrontierKind::All;
        let mut active = Vec::new();
        if signalled {
            self.frontier.for_each_in(0, n_owned, |v| active.push(v));
        }
        (active.len() as u64).encode(&mut out);
        for v in active {
            topo.global_id(v).encode(&mut out);
            self.inbox[v as usize].encode(&mut out);
        }
        if std::mem::size_of::<P::Edge>() == 0 {
            0u64.encode(&mut out);
            return out;
        }
        let csr = &topo.out_csr;
        (csr.num_entries() as u64).encode(&mut out);
        for v in 0..n_owned as LocalId {
            let src = topo.global_id(v);
            for k in csr.range(v) {
                src.encode(&mut out);
                topo.global_id(csr.neighbors[k]).encode(&mut out);
                self.graph.edge_data[k].encode(&mut out);
            }
        }
        out
    }

    /// Replaces the freshly initialised state with the newest complete checkpoint in
    /// `root` (collective).
    pub(super) fn restore_checkpoint(&mut self, root: &Path) -> Result<()> {
        // Rank 0 chooses; every rank uses its choice.
        let choice = if self.comm.rank() == 0 {
            newest_complete(root).map(|info| {
                if self.config.log_progress {
                    tracing::info!(
                        "resuming from {} (superstep {}, written by {} rank(s))",
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
        let chosen = gather_agreed(self.comm, choice)?.swap_remove(0);
        let dir = std::path::PathBuf::from(String::from_utf8_lossy(&chosen).into_owned());
        let started = std::time::Instant::now();
        let loaded = self.load_records(&dir);
        agree(self.comm, loaded)?;
        if self.config.log_progress && self.comm.rank() == 0 {
            tracing::info!(
                "checkpoint read in {:.3}s; continuing after superstep {}",
                started.elapsed().as_secs_f64(),
                self.iteration
            );
        }

        // Ghosts take their owners' restored data; the spare buffer starts equal.
        let topo = &self.graph.topo;
        let n_owned = topo.num_owned();
        let (owned, ghosts) = self.data.split_at_mut(n_owned);
        exchange_ghosts::<P>(self.comm, topo, owned, None, |g, value| ghosts[g] = value)?;
        self.spare = self.data.clone();
        self.stopped = if self.iteration >= self.config.max_iterations {
            Some(super::StopReason::IterationLimit)
        } else {
            None
        };
        Ok(())
    }

    /// Reads the chosen checkpoint and installs the records of this rank's vertices and
    /// edges, checking that it belongs to this program and graph and covers both.
    fn load_records(&mut self, dir: &Path) -> std::result::Result<(), String> {
        let manifest = read_manifest(dir)?;
        let topo = &self.graph.topo;
        let program = std::any::type_name::<P>();
        if manifest.program != program {
            return Err(format!(
                "{} was written by `{}`, not by this program (`{program}`)",
                dir.display(),
                manifest.program
            ));
        }
        if (manifest.vertices, manifest.edges)
            != (topo.num_global_vertices(), topo.num_global_edges())
        {
            return Err(format!(
                "{} belongs to a graph of {} vertices and {} edges; this one has {} and {}",
                dir.display(),
                manifest.vertices,
                manifest.edges,
                topo.num_global_vertices(),
                topo.num_global_edges()
            ));
        }
        let global = read_framed(dir, &manifest.files[0])?;
        let parts: Vec<Vec<u8>> = manifest.files[1..]
            .iter()
            .map(|entry| read_framed(dir, entry))
            .collect::<std::result::Result<_, _>>()?;
        // The checksums passed, so a decoding failure means the files do not hold this
        // program's types: report it rather than unwind through the engine.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.install(&global, &parts)
        }))
        .unwrap_or_else(|_| {
            Err(format!(
                "{} does not decode as this program's vertex, edge and message types",
                dir.display()
            ))
        })
    }

    fn install(&mut self, global: &[u8], parts: &[Vec<u8>]) -> std::result::Result<(), String> {
        let mut input = global;
        let iteration = u64::decode(&mut input) as usize;
        let aggregates = Vec::<f64>::decode(&mut input);
        let all_active = bool::decode(&mut input);
        let state = Vec::<u8>::decode(&mut input);
        if aggregates.len() != self.ops.len() {
            return Err(format!(
                "the checkpoint has {} aggregator values; this program has {}",
                aggregates.len(),
                self.ops.len()
            ));
        }
        self.program.restore_state(&state)?;

        let topo = &self.graph.topo;
        let n_owned = topo.num_owned();
        let local: HashMap<VertexId, LocalId> = topo
            .global_ids
            .iter()
            .enumerate()
            .map(|(l, &g)| (g, l as LocalId))
            .collect();
        let owned_id = |g: VertexId| local.get(&g).copied().filter(|&l| (l as usize) < n_owned);
        let mut edge_slots = self.edge_slots_by_ends();
        let mut restored_vertices = 0usize;
        let mut restored_edges = 0usize;
        let mut active_bits = Bitset::new(n_owned);
        let mut active_list = Vec::new();
        for part in parts {
            let mut input = part.as_slice();
            for _ in 0..u64::decode(&mut input) {
                let g = VertexId::decode(&mut input);
                let value = P::Vertex::decode(&mut input);
                if let Some(v) = owned_id(g) {
                    self.data[v as usize] = value;
                    restored_vertices += 1;
                }
            }
            for _ in 0..u64::decode(&mut input) {
                let g = VertexId::decode(&mut input);
                let message = Option::<P::Message>::decode(&mut input);
                if let Some(v) = owned_id(g)
                    && active_bits.insert(v as usize)
                {
                    active_list.push(v);
                    self.inbox[v as usize] = message;
                }
            }
            for _ in 0..u64::decode(&mut input) {
                let (s, d) = (VertexId::decode(&mut input), VertexId::decode(&mut input));
                let value = P::Edge::decode(&mut input);
                let (Some(&ls), Some(&ld)) = (local.get(&s), local.get(&d)) else {
                    continue;
                };
                if let Some(slots) = edge_slots.get_mut(&(ls, ld))
                    && let Some(id) = slots.next()
                {
                    self.graph.edge_data[id] = value;
                    restored_edges += 1;
                }
            }
        }
        if restored_vertices != n_owned {
            return Err(format!(
                "the checkpoint covers {restored_vertices} of this rank's {n_owned} vertices \
                 (it belongs to another graph)"
            ));
        }
        let expected_edges = if std::mem::size_of::<P::Edge>() == 0 {
            0
        } else {
            self.graph.edge_data.len()
        };
        if restored_edges != expected_edges {
            return Err(format!(
                "the checkpoint covers {restored_edges} of this rank's {expected_edges} edges \
                 (it belongs to another graph)"
            ));
        }

        self.iteration = iteration;
        self.aggregates = aggregates;
        if self.program.activation() == Activation::Signalled {
            self.frontier = if all_active {
                Frontier::all(n_owned)
            } else {
                Frontier::from_signals(active_bits, active_list, n_owned)
            };
        }
        Ok(())
    }

    /// The local edge ids between each pair of local endpoints, in arrival order: out-CSR
    /// entries for owned sources, in-CSR entries for ghost sources.
    fn edge_slots_by_ends(&self) -> HashMap<(LocalId, LocalId), std::vec::IntoIter<usize>> {
        if std::mem::size_of::<P::Edge>() == 0 {
            return HashMap::new();
        }
        let mut slots: HashMap<(LocalId, LocalId), Vec<usize>> = HashMap::new();
        let topo = &self.graph.topo;
        let n_owned = topo.num_owned() as LocalId;
        for v in 0..n_owned {
            for k in topo.out_csr.range(v) {
                slots
                    .entry((v, topo.out_csr.neighbors[k]))
                    .or_default()
                    .push(k);
            }
            for k in topo.in_csr.range(v) {
                let u = topo.in_csr.neighbors[k];
                if u >= n_owned {
                    slots.entry((u, v)).or_default().push(topo.in_edge_ids[k]);
                }
            }
        }
        slots.into_iter().map(|(k, v)| (k, v.into_iter())).collect()
    }
}
