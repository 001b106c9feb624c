//! METIS multilevel k-way partitioning (cargo feature `metis`).
//!
//! Algorithm: METIS_PartGraphKway (Karypis & Kumar 1998) through the `metis` crate, which
//! builds the vendored METIS sources with the C compiler. Rank 0 gathers every edge and
//! builds the symmetrised CSR graph over the vertex ids renumbered `0..n` in ascending
//! order (each edge in both directions, no self-loops, no duplicate neighbours, unit
//! vertex and edge weights, so balance is by vertex count); METIS partitions it and the
//! assignment is broadcast to every rank.
//!
//! Parameters: `parts` (K) and `imbalance`, passed to METIS as
//! `ufactor = max(1, round((imbalance - 1) * 1000))`; the seed is fixed, so the result is
//! deterministic. K = 1 is answered without calling METIS (which rejects one part).
//! METIS treats the tolerance as a target and may miss it by a vertex or so on small
//! graphs. If METIS leaves a part empty while there are at least K vertices, the largest
//! parts each give one vertex (their highest id) to the empty ones, so all K parts are
//! used.
//!
//! Design choice and limits: one rank holds the whole graph, about `8 * 2m + 8 * n` bytes
//! for the CSR plus METIS's own working memory (a few times that), and METIS runs
//! sequentially. That is sensible up to tens of millions of edges; beyond that use the
//! streaming methods. METIS indexes with 32-bit integers: graphs with more than
//! `i32::MAX` vertices or directed adjacency entries are refused with an error.

use gasket_engine::wire::{decode_all, encode_all};
use gasket_engine::{Comm, CommExt, Ownership, VertexId};

use crate::{
    Assignment, PartitionError, PartitionRequest, Partitioner, all_vertex_ids, check_parts,
};

/// METIS k-way partitioning on rank 0 (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct Metis;

/// Seed of METIS's randomised coarsening, fixed for reproducible cuts.
const SEED: metis::Idx = 1;

impl Partitioner for Metis {
    fn name(&self) -> &'static str {
        "metis"
    }

    fn partition(
        &self,
        comm: &dyn Comm,
        request: &PartitionRequest<'_>,
    ) -> Result<Box<dyn Ownership>, PartitionError> {
        check_parts(request.parts)?;
        let k = request.parts;
        let ids = all_vertex_ids(comm, request)?;
        let n = ids.len();
        if k == 1 || n == 0 {
            return Ok(Box::new(Assignment::new(ids, vec![0; n], k)));
        }
        let total_edges = comm.sum_u64(request.src.len() as u64)?;
        if n > i32::MAX as usize
            || total_edges.saturating_mul(2) > i32::MAX as u64
            || k > i32::MAX as usize
        {
            return Err(PartitionError::Invalid(format!(
                "graph too large for METIS's 32-bit indices ({n} vertices, {total_edges} edges, {k} parts)"
            )));
        }
        let edges: Vec<(VertexId, VertexId)> = request
            .src
            .iter()
            .copied()
            .zip(request.dst.iter().copied())
            .filter(|(u, v)| u != v)
            .collect();
        let gathered = comm.gather_to(0, &edges)?;
        drop(edges);

        // Rank 0 sends (ok flag, parts or message) to every rank; the others send nothing.
        let mut send = vec![Vec::new(); comm.size()];
        if let Some(all_edges) = gathered {
            let reply = match partition_on_root(&ids, all_edges, k, request.imbalance) {
                Ok(parts) => {
                    let mut bytes = vec![1u8];
                    bytes.extend(encode_all(&parts));
                    bytes
                }
                Err(message) => {
                    let mut bytes = vec![0u8];
                    bytes.extend(message.into_bytes());
                    bytes
                }
            };
            send.fill(reply);
        }
        let recv = comm.all_to_all_v(send)?;
        let reply = &recv[0];
        match reply.split_first() {
            Some((1, parts)) => {
                let parts = decode_all::<u32>(parts);
                if parts.len() != n {
                    return Err(PartitionError::Invalid(
                        "METIS answer has the wrong length".into(),
                    ));
                }
                Ok(Box::new(Assignment::new(ids, parts, k)))
            }
            Some((_, message)) => Err(PartitionError::Invalid(
                String::from_utf8_lossy(message).into_owned(),
            )),
            None => Err(PartitionError::Invalid("no answer from METIS rank".into())),
        }
    }
}

/// Builds the CSR, runs METIS and repairs empty parts; an error is a message for all ranks.
fn partition_on_root(
    ids: &[VertexId],
    edges: Vec<(VertexId, VertexId)>,
    k: usize,
    imbalance: f64,
) -> Result<Vec<u32>, String> {
    let n = ids.len();
    let index = |v: VertexId| -> metis::Idx {
        ids.binary_search(&v)
            .expect("every edge endpoint is among the vertex ids") as metis::Idx
    };
    let mut pairs: Vec<(metis::Idx, metis::Idx)> = Vec::with_capacity(edges.len() * 2);
    for (u, v) in edges {
        let (u, v) = (index(u), index(v));
        pairs.push((u, v));
        pairs.push((v, u));
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut xadj: Vec<metis::Idx> = Vec::with_capacity(n + 1);
    xadj.push(0);
    let mut at = 0usize;
    for i in 0..n as metis::Idx {
        while at < pairs.len() && pairs[at].0 == i {
            at += 1;
        }
        xadj.push(at as metis::Idx);
    }
    let adjncy: Vec<metis::Idx> = pairs.into_iter().map(|(_, v)| v).collect();

    let imbalance = if imbalance.is_finite() {
        imbalance.max(1.0)
    } else {
        1.0
    };
    let ufactor = (((imbalance - 1.0) * 1000.0).round() as metis::Idx).max(1);
    let mut part: Vec<metis::Idx> = vec![0; n];
    // METIS seeds and draws from a process-global random generator, so two partitionings
    // running at once (thread ranks, parallel tests) would disturb each other's sequence:
    // one METIS call at a time keeps the fixed seed meaningful.
    static METIS_CALLS: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = METIS_CALLS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    metis::Graph::new(1, k as metis::Idx, &xadj, &adjncy)
        .map_err(|e| format!("METIS rejected the graph: {e}"))?
        .set_option(metis::option::UFactor(ufactor))
        .set_option(metis::option::Seed(SEED))
        .part_kway(&mut part)
        .map_err(|e| format!("METIS failed: {e}"))?;
    let mut parts: Vec<u32> = part.into_iter().map(|p| p as u32).collect();
    fill_empty_parts(&mut parts, k);
    Ok(parts)
}

/// Moves one vertex (the highest id) from the largest part into each empty part, as long
/// as the largest part keeps at least one vertex.
fn fill_empty_parts(parts: &mut [u32], k: usize) {
    let mut sizes = vec![0usize; k];
    for &p in parts.iter() {
        sizes[p as usize] += 1;
    }
    for empty in 0..k {
        if sizes[empty] != 0 {
            continue;
        }
        let Some(largest) = (0..k).max_by_key(|&i| (sizes[i], std::cmp::Reverse(i))) else {
            return;
        };
        if sizes[largest] < 2 {
            return;
        }
        if let Some(v) = parts.iter().rposition(|&p| p as usize == largest) {
            parts[v] = empty as u32;
            sizes[largest] -= 1;
            sizes[empty] += 1;
        }
    }
}
