//! Quality of an edge cut, measured on the built graphs (collective).
//!
//! - edge-cut fraction: edges whose endpoints have different owners / all edges;
//! - vertex and edge balance: max over ranks / mean (1.0 is perfect);
//! - replication factor: local vertices (owned + ghosts) / owned vertices, summed over
//!   ranks; a superstep in which every vertex changes sends about
//!   `ghosts x size_of(vertex data)` bytes in total.

use gasket_engine::{Comm, EngineError, ReduceOp, Topology};
use rayon::prelude::*;

/// Figures describing an edge cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QualityReport {
    /// Number of ranks.
    pub ranks: usize,
    /// Fraction of edges whose endpoints live on different ranks.
    pub edge_cut_fraction: f64,
    /// Largest owned-vertex count / mean.
    pub vertex_balance: f64,
    /// Largest local-edge count / mean.
    pub edge_balance: f64,
    /// (owned + ghost vertices) / owned vertices, over all ranks.
    pub replication_factor: f64,
    /// Ghost vertices over all ranks (= vertex payloads per all-active superstep).
    pub ghosts: u64,
}

impl QualityReport {
    /// Predicted ghost-update bytes of a superstep where every vertex changes.
    pub fn bytes_per_superstep(&self, vertex_data_bytes: usize) -> u64 {
        self.ghosts * vertex_data_bytes as u64
    }
}

/// Measures the cut of the built graph. Collective.
pub fn quality(comm: &dyn Comm, topo: &Topology) -> Result<QualityReport, EngineError> {
    let owned = topo.num_owned() as u64;
    let ghosts = topo.num_ghosts() as u64;
    // Entries of `csr` whose neighbour is a ghost (none on a rank without ghosts).
    let to_ghosts = |csr: &gasket_engine::graph::Csr| -> u64 {
        if ghosts == 0 {
            return 0;
        }
        csr.neighbors
            .par_iter()
            .filter(|&&u| !topo.is_owned(u))
            .count() as u64
    };
    // Edges counted once, at the owner of the source.
    let cut = to_ghosts(topo.out_csr());
    // Edges stored here: every out-entry, plus in-entries whose source is a ghost.
    let ghost_sourced = to_ghosts(topo.in_csr());
    let local_edges = topo.out_csr().num_entries() as u64 + ghost_sourced;
    let mut sums = [owned, ghosts, cut, local_edges];
    comm.all_reduce_u64(&mut sums, ReduceOp::Sum)?;
    let mut maxes = [owned, local_edges];
    comm.all_reduce_u64(&mut maxes, ReduceOp::Max)?;
    let ranks = comm.size();
    let mean = |total: u64| total as f64 / ranks as f64;
    let edges = topo.num_global_edges().max(1);
    Ok(QualityReport {
        ranks,
        edge_cut_fraction: sums[2] as f64 / edges as f64,
        vertex_balance: maxes[0] as f64 / mean(sums[0]).max(1e-300),
        edge_balance: maxes[1] as f64 / mean(sums[3]).max(1e-300),
        replication_factor: (sums[0] + sums[1]) as f64 / sums[0].max(1) as f64,
        ghosts: sums[1],
    })
}

/// Predicts the figures of cutting the graph of `request` with `ownership` into
/// `ownership.num_ranks()` parts, without building it (collective; every rank passes its
/// own share of the edges and gets the same report).
pub fn predict_quality(
    comm: &dyn Comm,
    request: &crate::PartitionRequest<'_>,
    ownership: &dyn gasket_engine::Ownership,
) -> Result<QualityReport, EngineError> {
    use gasket_engine::Ownership as _;
    use gasket_engine::wire::{decode_all, encode_all};
    let parts = ownership.num_ranks();
    let n_ranks = comm.size();
    let ids = crate::all_vertex_ids(comm, request).map_err(|e| match e {
        crate::PartitionError::Engine(e) => e,
        other => EngineError::Config(other.to_string()),
    })?;
    let mut vertex_load = vec![0u64; parts];
    for &v in &ids {
        vertex_load[ownership.owner(v)] += 1;
    }
    // Edge loads, the cut, and the (part, remote endpoint) pairs that become ghosts.
    let mut edge_load = vec![0u64; parts];
    let mut cut = 0u64;
    let mut pairs: Vec<Vec<(u64, u64)>> = vec![Vec::new(); n_ranks];
    let holder = gasket_engine::HashOwnership::new(n_ranks);
    for (&s, &d) in request.src.iter().zip(request.dst) {
        let (ps, pd) = (ownership.owner(s), ownership.owner(d));
        edge_load[ps] += 1;
        if ps != pd {
            edge_load[pd] += 1;
            cut += 1;
            pairs[holder.owner(d)].push((ps as u64, d));
            pairs[holder.owner(s)].push((pd as u64, s));
        }
    }
    let send = pairs
        .into_iter()
        .map(|mut p| {
            p.sort_unstable();
            p.dedup();
            encode_all(&p)
        })
        .collect();
    let mut received: Vec<(u64, u64)> = comm
        .all_to_all_v(send)?
        .iter()
        .flat_map(|b| decode_all::<(u64, u64)>(b))
        .collect();
    received.sort_unstable();
    received.dedup();
    let mut sums = vec![0u64; parts + 1];
    for &(p, _) in &received {
        sums[p as usize] += 1;
    }
    let mut edge_sums = edge_load;
    edge_sums.push(cut);
    comm.all_reduce_u64(&mut sums, ReduceOp::Sum)?;
    comm.all_reduce_u64(&mut edge_sums, ReduceOp::Sum)?;
    let ghosts: u64 = sums[..parts].iter().sum();
    let cut = edge_sums[parts];
    let total_edges = request.src.len() as u64;
    let mut total = [total_edges];
    comm.all_reduce_u64(&mut total, ReduceOp::Sum)?;
    let balance = |loads: &[u64]| {
        let sum: u64 = loads.iter().sum();
        let max = loads.iter().copied().max().unwrap_or(0);
        if sum == 0 {
            1.0
        } else {
            max as f64 * loads.len() as f64 / sum as f64
        }
    };
    Ok(QualityReport {
        ranks: parts,
        edge_cut_fraction: cut as f64 / total[0].max(1) as f64,
        vertex_balance: balance(&vertex_load),
        edge_balance: balance(&edge_sums[..parts]),
        replication_factor: (ids.len() as u64 + ghosts) as f64 / ids.len().max(1) as f64,
        ghosts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gasket_engine::{EdgeInput, HashOwnership, LocalId, ThreadComm, build_local_graph};

    #[test]
    fn one_rank_has_no_cut_and_two_ranks_report_consistent_figures() {
        // A directed 4-cycle.
        let input = || EdgeInput {
            src: vec![0, 1, 2, 3],
            dst: vec![1, 2, 3, 0],
            data: vec![(); 4],
            ..EdgeInput::default()
        };
        for n in [1usize, 2, 4] {
            let reports = ThreadComm::run(n, |comm| -> Result<_, EngineError> {
                let mine = if comm.rank() == 0 {
                    input()
                } else {
                    EdgeInput::default()
                };
                let g = build_local_graph(&comm, &HashOwnership::new(n), mine)?;
                let cut_here: u64 = (0..g.num_owned() as LocalId)
                    .map(|v| {
                        g.out_csr()
                            .row(v)
                            .iter()
                            .filter(|&&d| !g.is_owned(d))
                            .count() as u64
                    })
                    .sum();
                Ok((quality(&comm, g.topology())?, cut_here))
            })
            .unwrap();
            let cut: u64 = reports.iter().map(|(_, c)| c).sum();
            let r = reports[0].0;
            assert!(
                reports.iter().all(|(q, _)| *q == r),
                "same report on every rank"
            );
            assert_eq!(r.edge_cut_fraction, cut as f64 / 4.0);
            // The prediction from the edge list agrees with the built graphs.
            let predicted = ThreadComm::run(n, |comm| -> Result<_, EngineError> {
                let mine = if comm.rank() == 0 {
                    input()
                } else {
                    EdgeInput::default()
                };
                let request = crate::PartitionRequest {
                    src: &mine.src,
                    dst: &mine.dst,
                    vertices: &mine.vertices,
                    parts: n,
                    imbalance: 1.05,
                };
                predict_quality(&comm, &request, &HashOwnership::new(n))
            })
            .unwrap();
            assert!(predicted.iter().all(|p| *p == r), "{predicted:?} vs {r:?}");
            if n == 1 {
                assert_eq!(r.replication_factor, 1.0);
                assert_eq!(r.ghosts, 0);
                assert_eq!(r.vertex_balance, 1.0);
            } else {
                assert!(r.replication_factor >= 1.0);
                assert_eq!(r.bytes_per_superstep(8), r.ghosts * 8);
            }
        }
    }
}
