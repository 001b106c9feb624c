//! A whole graph handed to one rank already in the engine's layout: both CSRs, the edge
//! ids of the in-CSR and the edge data, as a stored binary graph holds them. Nothing is
//! shuffled, numbered or sorted, so a run on one rank starts as soon as the arrays are in
//! memory.
//!
//! The engine's loops index vertex data by CSR neighbour without a bounds check and hand
//! out each edge's data mutably through its in-CSR entry, so [`LocalGraph::from_whole`]
//! checks everything those rely on (scans in parallel): offsets that start at 0, never decrease
//! and end at the edge count; neighbours below the vertex count; in-CSR edge ids that are a
//! permutation of the edges; distinct global ids. That the in-CSR is the transpose of the
//! out-CSR is the caller's promise (a stored file guards it with a checksum): breaking it
//! gives wrong answers, never undefined behaviour.

use rayon::prelude::*;

use super::topology::{Csr, LocalGraph, Topology, by_global_id};
use crate::error::{EngineError, Result};
use crate::ids::{LocalId, VertexId};

/// A whole graph in the engine's one-rank layout (see the module docs).
#[derive(Debug, Clone, Default)]
pub struct WholeGraph<E> {
    /// Global id of each local id `0..n` (distinct, any order; the engine's own build
    /// numbers them hubs first, see [`sort_hubs_first`](super::sort_hubs_first)).
    pub global_ids: Vec<VertexId>,
    /// Out-edges: row `v` holds the local ids of `v`'s targets.
    pub out_csr: Csr,
    /// In-edges: row `v` holds the local ids of `v`'s sources.
    pub in_csr: Csr,
    /// The edge id (out-CSR position) of each in-CSR entry; empty when `E` is zero-sized.
    pub in_edge_ids: Vec<usize>,
    /// Edge data by edge id, i.e. in out-CSR order.
    pub edge_data: Vec<E>,
}

impl<E: Send + Sync> LocalGraph<E> {
    /// The graph of a run on one rank, from arrays already in the engine's layout.
    ///
    /// # Errors
    ///
    /// [`EngineError::Build`] naming the first broken rule of the module docs.
    pub fn from_whole(whole: WholeGraph<E>) -> Result<Self> {
        let n = whole.global_ids.len();
        let m = whole.out_csr.neighbors.len();
        let fail = |what: String| Err(EngineError::Build(what));
        if n >= LocalId::MAX as usize {
            return fail(format!("{n} vertices, more than 2^32-2 local ids"));
        }
        check_csr("out", &whole.out_csr, n, m)?;
        check_csr("in", &whole.in_csr, n, m)?;
        if whole.edge_data.len() != m {
            return fail(format!("{} edge data for {m} edges", whole.edge_data.len()));
        }
        if std::mem::size_of::<E>() == 0 {
            if !whole.in_edge_ids.is_empty() {
                return fail("in-edge ids given for edges without data".into());
            }
        } else {
            check_permutation(&whole.in_edge_ids, m)?;
        }
        let owned_by_gid = by_global_id(&whole.global_ids);
        if let Some(w) = owned_by_gid
            .par_windows(2)
            .find_first(|w| whole.global_ids[w[0] as usize] == whole.global_ids[w[1] as usize])
        {
            return fail(format!(
                "vertex {} appears twice (local ids {} and {})",
                whole.global_ids[w[0] as usize], w[0], w[1]
            ));
        }
        Ok(LocalGraph {
            topo: Topology {
                rank: 0,
                num_ranks: 1,
                num_owned: n,
                global_ids: whole.global_ids,
                owned_by_gid,
                ghost_owner: Vec::new(),
                ghost_slot: Vec::new(),
                in_csr: whole.in_csr,
                out_csr: whole.out_csr,
                in_edge_ids: whole.in_edge_ids,
                mirrors: vec![Vec::new()],
                ghosts_by_owner: vec![Vec::new()],
                num_global_vertices: n as u64,
                num_global_edges: m as u64,
            },
            edge_data: whole.edge_data,
        })
    }
}

/// Offsets `0..=m`, one row per vertex, never decreasing; neighbours below `n`.
fn check_csr(name: &str, csr: &Csr, n: usize, m: usize) -> Result<()> {
    let fail = |what: String| Err(EngineError::Build(format!("{name}-CSR: {what}")));
    if csr.offsets.len() != n + 1 {
        return fail(format!("{} offsets for {n} vertices", csr.offsets.len()));
    }
    if csr.offsets[0] != 0 || csr.offsets[n] != m {
        return fail(format!(
            "the offsets run from {} to {}, not from 0 to the {m} edges",
            csr.offsets[0], csr.offsets[n]
        ));
    }
    if csr.neighbors.len() != m {
        return fail(format!("{} entries for {m} edges", csr.neighbors.len()));
    }
    if let Some(v) = (0..n)
        .into_par_iter()
        .find_first(|&v| csr.offsets[v] > csr.offsets[v + 1])
    {
        return fail(format!("the offsets decrease at row {v}"));
    }
    if let Some(&u) = csr.neighbors.par_iter().find_any(|&&u| u as usize >= n) {
        return fail(format!(
            "a neighbour is local id {u}, but there are {n} vertices"
        ));
    }
    Ok(())
}

/// Every edge id `0..m` exactly once: each in-CSR entry then owns its edge's data.
fn check_permutation(ids: &[usize], m: usize) -> Result<()> {
    if ids.len() != m {
        return Err(EngineError::Build(format!(
            "{} in-edge ids for {m} edges",
            ids.len()
        )));
    }
    let mut seen = vec![0u64; m.div_ceil(64)];
    for &id in ids {
        let (word, bit) = (id / 64, 1u64 << (id % 64));
        if id >= m || seen[word] & bit != 0 {
            return Err(EngineError::Build(format!(
                "in-edge id {id} is out of range or repeated ({m} edges)"
            )));
        }
        seen[word] |= bit;
    }
    Ok(())
}
