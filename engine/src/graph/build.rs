//! The distributed build: this rank's edges -> shuffle to owners -> `LocalGraph`.
//!
//! 1. Every edge goes to the owner of its source and, if different, to the owner of its
//!    target; every declared vertex goes to its owner (one `all_to_all_v`).
//! 2. Each rank numbers its owned vertices, then its ghosts, hubs first (see `numbering`),
//!    and builds both CSRs by counting sort (rows keep arrival order).
//! 3. Each rank sends every peer the global ids of the ghosts that peer owns (in local-id
//!    order); the peer turns them into its mirror plan. Both sides now agree on the order,
//!    so later ghost updates are payload only.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rayon::prelude::*;

use super::numbering::Numbering;
use super::topology::{Csr, LocalGraph, Topology};
use crate::comm::{Comm, CommExt};
use crate::error::{EngineError, Result};
use crate::ids::{LocalId, VertexId};
use crate::ownership::{Ownership, mix64};
use crate::wire::{Wire, decode_all, encode_all};

/// This rank's share of the input: edges (struct of arrays) and declared vertices.
#[derive(Debug, Clone)]
pub struct EdgeInput<E> {
    /// Edge sources.
    pub src: Vec<VertexId>,
    /// Edge targets.
    pub dst: Vec<VertexId>,
    /// Edge data, one per edge.
    pub data: Vec<E>,
    /// Vertices that exist even without edges (may repeat edge endpoints).
    pub vertices: Vec<VertexId>,
}

impl<E> Default for EdgeInput<E> {
    fn default() -> Self {
        EdgeInput {
            src: Vec::new(),
            dst: Vec::new(),
            data: Vec::new(),
            vertices: Vec::new(),
        }
    }
}

impl<E> EdgeInput<E> {
    /// Number of edges.
    pub fn len(&self) -> usize {
        self.src.len()
    }
    /// True when there are no edges.
    pub fn is_empty(&self) -> bool {
        self.src.is_empty()
    }
}

/// A fast hasher for integer keys (the ids are mixed by SplitMix64's finaliser).
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        mix64(self.0)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b) ^ (self.0 >> 56);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub(crate) type IdMap<V> = HashMap<VertexId, V, BuildHasherDefault<IdHasher>>;

/// Builds this rank's `LocalGraph`. Collective: every rank calls it with its own share.
pub fn build_local_graph<E: Wire + Send + Sync>(
    comm: &dyn Comm,
    ownership: &dyn Ownership,
    input: EdgeInput<E>,
) -> Result<LocalGraph<E>> {
    let n_ranks = comm.size();
    let me = comm.rank();
    if ownership.num_ranks() != n_ranks {
        return Err(EngineError::Config(format!(
            "ownership map is for {} ranks but {} ranks are running",
            ownership.num_ranks(),
            n_ranks
        )));
    }
    assert_eq!(input.src.len(), input.dst.len(), "src/dst lengths differ");
    assert_eq!(input.src.len(), input.data.len(), "one datum per edge");

    // 1. Shuffle edges and declared vertices to their owners.
    let (edges, declared) = shuffle(comm, ownership, input)?;

    // 2. Number owned vertices, then ghosts, hubs first.
    let numbering = Numbering::new(me, ownership, &edges, &declared)?;
    drop(declared);
    let num_owned = numbering.num_owned;
    let local_of = |g: VertexId| numbering.local(g).expect("every endpoint is numbered");
    let ghosts = &numbering.global_ids[num_owned..];
    let ghost_owner: Vec<usize> = ghosts.iter().map(|&g| ownership.owner(g)).collect();

    // 3. CSRs. Edges with an owned source come first, in out-CSR order.
    let local_edges: Vec<(LocalId, LocalId, E)> = edges
        .into_par_iter()
        .map(|(s, d, e)| (local_of(s), local_of(d), e))
        .collect();
    let (out_csr, in_csr, in_edge_ids, edge_data) = build_csrs::<E>(num_owned, local_edges);

    // 4. Mirror plans.
    let mut ghosts_by_owner: Vec<Vec<LocalId>> = vec![Vec::new(); n_ranks];
    let mut ghost_slot = vec![0u32; ghosts.len()];
    for (i, &owner) in ghost_owner.iter().enumerate() {
        ghost_slot[i] = ghosts_by_owner[owner].len() as u32;
        ghosts_by_owner[owner].push((num_owned + i) as LocalId);
    }
    let requests: Vec<Vec<u8>> = ghosts_by_owner
        .iter()
        .map(|ls| {
            let gids: Vec<VertexId> = ls
                .iter()
                .map(|&l| numbering.global_ids[l as usize])
                .collect();
            encode_all(&gids)
        })
        .collect();
    let asked = comm.all_to_all_v(requests)?;
    let mirrors: Vec<Vec<LocalId>> = asked
        .iter()
        .map(|bytes| {
            decode_all::<VertexId>(bytes)
                .into_iter()
                .map(|g| {
                    let l = local_of(g);
                    debug_assert!((l as usize) < num_owned, "mirror of a vertex I do not own");
                    l
                })
                .collect()
        })
        .collect();

    let mut owned_by_gid: Vec<LocalId> = (0..num_owned as LocalId).collect();
    owned_by_gid.par_sort_unstable_by_key(|&l| numbering.global_ids[l as usize]);
    let owned_source_edges = out_csr.num_entries() as u64;
    let num_global_vertices = comm.sum_u64(num_owned as u64)?;
    let num_global_edges = comm.sum_u64(owned_source_edges)?;
    Ok(LocalGraph {
        topo: Topology {
            rank: me,
            num_ranks: n_ranks,
            num_owned,
            global_ids: numbering.global_ids,
            owned_by_gid,
            ghost_owner,
            ghost_slot,
            in_csr,
            out_csr,
            in_edge_ids,
            mirrors,
            ghosts_by_owner,
            num_global_vertices,
            num_global_edges,
        },
        edge_data,
    })
}

type Shuffled<E> = (Vec<(VertexId, VertexId, E)>, Vec<VertexId>);

fn shuffle<E: Wire>(
    comm: &dyn Comm,
    ownership: &dyn Ownership,
    input: EdgeInput<E>,
) -> Result<Shuffled<E>> {
    let n_ranks = comm.size();
    let mut edge_bufs: Vec<Vec<u8>> = vec![Vec::new(); n_ranks];
    let mut edge_counts = vec![0u64; n_ranks];
    for ((s, d), e) in input.src.iter().zip(&input.dst).zip(&input.data) {
        let (os, od) = (ownership.owner(*s), ownership.owner(*d));
        for o in if os == od { [os, usize::MAX] } else { [os, od] } {
            if o == usize::MAX {
                continue;
            }
            s.encode(&mut edge_bufs[o]);
            d.encode(&mut edge_bufs[o]);
            e.encode(&mut edge_bufs[o]);
            edge_counts[o] += 1;
        }
    }
    drop(input.data);
    let mut vertex_lists: Vec<Vec<VertexId>> = vec![Vec::new(); n_ranks];
    for &v in &input.vertices {
        vertex_lists[ownership.owner(v)].push(v);
    }
    let send: Vec<Vec<u8>> = edge_bufs
        .into_iter()
        .zip(edge_counts)
        .zip(vertex_lists)
        .map(|((edges, count), vertices)| {
            let mut buf = Vec::with_capacity(16 + edges.len() + 8 * vertices.len());
            count.encode(&mut buf);
            buf.extend_from_slice(&edges);
            vertices.encode(&mut buf);
            buf
        })
        .collect();
    let recv = comm.all_to_all_v(send)?;
    let mut edges = Vec::new();
    let mut declared = Vec::new();
    for buf in recv {
        let mut input = buf.as_slice();
        let count = u64::decode(&mut input);
        edges.reserve(count as usize);
        for _ in 0..count {
            let s = VertexId::decode(&mut input);
            let d = VertexId::decode(&mut input);
            edges.push((s, d, E::decode(&mut input)));
        }
        declared.extend(Vec::<VertexId>::decode(&mut input));
    }
    Ok((edges, declared))
}

type Csrs<E> = (Csr, Csr, Vec<usize>, Vec<E>);

/// Counting sort of the local edges into the out-CSR (owned sources) and in-CSR (owned
/// targets). Returns (out, in, in-entry -> edge id, edge data by edge id).
fn build_csrs<E>(num_owned: usize, edges: Vec<(LocalId, LocalId, E)>) -> Csrs<E> {
    let owned = |v: LocalId| (v as usize) < num_owned;
    let mut out_offsets = vec![0usize; num_owned + 1];
    let mut in_offsets = vec![0usize; num_owned + 1];
    for &(s, d, _) in &edges {
        if owned(s) {
            out_offsets[s as usize + 1] += 1;
        }
        if owned(d) {
            in_offsets[d as usize + 1] += 1;
        }
    }
    prefix_sum(&mut out_offsets);
    prefix_sum(&mut in_offsets);
    let num_out = out_offsets[num_owned];
    let num_in = in_offsets[num_owned];

    // Edge ids: owned-source edges at their out-CSR position, the others after them.
    let mut out_neighbors = vec![0 as LocalId; num_out];
    let mut in_neighbors = vec![0 as LocalId; num_in];
    let store_ids = std::mem::size_of::<E>() != 0;
    let mut in_edge_ids = if store_ids {
        vec![0usize; num_in]
    } else {
        Vec::new()
    };
    let mut out_cursor = out_offsets.clone();
    let mut in_cursor = in_offsets.clone();
    let mut ghost_source_next = num_out;
    let mut edge_slot: Vec<(usize, E)> = Vec::with_capacity(edges.len());
    for (s, d, e) in edges {
        let id = if owned(s) {
            let k = out_cursor[s as usize];
            out_cursor[s as usize] += 1;
            out_neighbors[k] = d;
            k
        } else {
            ghost_source_next += 1;
            ghost_source_next - 1
        };
        if owned(d) {
            let k = in_cursor[d as usize];
            in_cursor[d as usize] += 1;
            in_neighbors[k] = s;
            if store_ids {
                in_edge_ids[k] = id;
            }
        }
        edge_slot.push((id, e));
    }
    // Place edge data by id (a permutation; nothing to place for zero-sized data).
    if std::mem::size_of::<E>() != 0 {
        edge_slot.sort_unstable_by_key(|&(id, _)| id);
    }
    let edge_data: Vec<E> = edge_slot.into_iter().map(|(_, e)| e).collect();
    (
        Csr {
            offsets: out_offsets,
            neighbors: out_neighbors,
        },
        Csr {
            offsets: in_offsets,
            neighbors: in_neighbors,
        },
        in_edge_ids,
        edge_data,
    )
}

fn prefix_sum(offsets: &mut [usize]) {
    for i in 1..offsets.len() {
        offsets[i] += offsets[i - 1];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comm::ThreadComm;
    use crate::ownership::HashOwnership;

    fn triangle_plus_tail() -> EdgeInput<u32> {
        // 1->2 (a), 2->3 (b), 3->1 (c), 3->4 (d); vertex 9 isolated.
        EdgeInput {
            src: vec![1, 2, 3, 3],
            dst: vec![2, 3, 1, 4],
            data: vec![10, 20, 30, 40],
            vertices: vec![9],
        }
    }

    #[test]
    fn sparse_ids_take_the_hashed_path_with_the_same_result() {
        let far = 1u64 << 40;
        let shift = |input: EdgeInput<u32>| EdgeInput {
            src: input.src.iter().map(|v| v + far).collect(),
            dst: input.dst.iter().map(|v| v + far).collect(),
            data: input.data,
            vertices: input.vertices.iter().map(|v| v + far).collect(),
        };
        let g = build_local_graph(
            &crate::SingleComm,
            &HashOwnership::new(1),
            shift(triangle_plus_tail()),
        )
        .unwrap();
        // Hubs first: 3 has two out-edges, then ascending ids.
        let expect: Vec<u64> = [3, 1, 2, 4, 9].iter().map(|v| v + far).collect();
        assert_eq!(g.global_ids(), &expect[..]);
        let three = g.owned_local_id(3 + far).unwrap();
        let outs: Vec<u64> = g
            .out_csr()
            .row(three)
            .iter()
            .map(|&l| g.global_id(l))
            .collect();
        assert_eq!(outs, vec![1 + far, 4 + far]);
    }

    #[test]
    fn every_rank_sees_all_edges_of_its_owned_vertices() {
        for n in 1..=4 {
            let graphs = ThreadComm::run(n, |comm| -> Result<_> {
                let input = if comm.rank() == 0 {
                    triangle_plus_tail()
                } else {
                    EdgeInput::default()
                };
                build_local_graph(&comm, &HashOwnership::new(comm.size()), input)
            })
            .unwrap();
            let mut owned_total = 0;
            let mut out_edges = Vec::new();
            let mut in_edges = Vec::new();
            for g in &graphs {
                assert_eq!(g.num_global_vertices(), 5);
                assert_eq!(g.num_global_edges(), 4);
                owned_total += g.num_owned();
                for v in 0..g.num_owned() as LocalId {
                    for k in g.out_csr().range(v) {
                        let d = g.out_csr().neighbors[k];
                        out_edges.push((g.global_id(v), g.global_id(d), *g.out_edge(k)));
                    }
                    for k in g.in_csr().range(v) {
                        let s = g.in_csr().neighbors[k];
                        in_edges.push((g.global_id(s), g.global_id(v), *g.in_edge(k)));
                    }
                }
                // Mirror plans agree with the peers' ghost lists.
                for (p, peer) in graphs.iter().enumerate() {
                    let mine: Vec<_> = g.mirrors(p).iter().map(|&l| g.global_id(l)).collect();
                    let theirs: Vec<_> = peer
                        .ghosts_owned_by(g.rank())
                        .iter()
                        .map(|&l| peer.global_id(l))
                        .collect();
                    assert_eq!(mine, theirs);
                }
            }
            assert_eq!(owned_total, 5);
            out_edges.sort_unstable();
            in_edges.sort_unstable();
            let expect = vec![(1, 2, 10), (2, 3, 20), (3, 1, 30), (3, 4, 40)];
            assert_eq!(out_edges, expect);
            assert_eq!(in_edges, expect);
        }
    }
}
