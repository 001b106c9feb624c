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
use crate::checkpoint::{Describe, agree, choose, read_framed, read_manifest, write_step};
use crate::error::Result;
use crate::ids::{LocalId, VertexId};
use crate::program::{Activation, VertexProgram};
use crate::sync::Bitset;
use crate::wire::{Wire, decode_stored};

impl<P: VertexProgram> SyncEngine<'_, P> {
    /// Writes a checkpoint of the state after `self.iteration` supersteps (collective).
    pub(super) fn write_checkpoint(&self) -> Result<()> {
        let settings = &self.config.checkpoint;
        let root = settings.dir.as_deref().expect("due() checked the folder");
        let started = std::time::Instant::now();
        let topo = &self.graph.topo;
        let describe = Describe {
            program: std::any::type_name::<P>().to_string(),
            sizes: (topo.num_global_vertices(), topo.num_global_edges()),
        };
        let dir = write_step(
            self.comm,
            root,
            self.iteration as u64,
            settings.keep(),
            &self.encode_part(),
            || self.encode_global(),
            describe,
        )?;
        if self.comm.rank() == 0 && self.config.log_progress {
            tracing::info!(
                "checkpoint after superstep {} written to {} in {:.3}s",
                self.iteration,
                dir.display(),
                started.elapsed().as_secs_f64()
            );
        }
        Ok(())
    }

    /// The facts every rank shares: iteration, aggregates, frontier kind, program state.
    fn encode_global(&self) -> Vec<u8> {
        let mut global = Vec::new();
        (self.iteration as u64).encode(&mut global);
        self.aggregates.encode(&mut global);
        (self.frontier.kind() == FrontierKind::All).encode(&mut global);
        self.program.save_state().encode(&mut global);
        global
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
        let dir = choose(self.comm, root, "superstep", self.config.log_progress)?;
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
        decode_stored(|| self.install(&global, &parts)).unwrap_or_else(|| {
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
        // Messages of `init`'s signals are not the checkpoint's: only its own stay pending
        // (a leftover would be combined into a later signal to the same vertex).
        self.inbox.iter_mut().for_each(|m| *m = None);
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
