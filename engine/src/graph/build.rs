//! The distributed build: this rank's edges -> shuffle to owners -> `LocalGraph`.
//!
//! 1. Every edge goes to the owner of its source and, if different, to the owner of its
//!    target; every declared vertex goes to its owner (one `all_to_all_v`).
//! 2. Each rank numbers its owned vertices, then its ghosts, hubs first or by global id
//!    ([`LocalOrder`], see `numbering`), and builds both CSRs by counting sort (rows keep
//!    arrival order).
//! 3. Each rank sends every peer the global ids of the ghosts that peer owns (in local-id
//!    order); the peer turns them into its mirror plan. Both sides now agree on the order,
//!    so later ghost updates are payload only.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rayon::prelude::*;

use super::numbering::Numbering;
use super::topology::{Csr, LocalGraph, Topology, by_global_id};
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
    /// How each rank numbers its vertices locally (the same on every rank).
    pub order: LocalOrder,
}

/// The order of a rank's local ids (owned vertices first, then ghosts, in both orders).
///
/// Results, checkpoints and messages are keyed by global id, so the order changes speed
/// only, never an answer of a program that does not depend on visiting order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LocalOrder {
    /// Descending out-edges on the rank, ties by global id: the values pull loops read
    /// most share few cache lines (hub sorting; PageRank's default).
    #[default]
    HubsFirst,
    /// Ascending global id: for programs whose work per vertex varies with its degree and
    /// that split owned vertices into a few contiguous tasks (LDA's documents), where a
    /// degree order would put the heaviest vertices all in the first task.
    ById,
}

impl<E> Default for EdgeInput<E> {
    fn default() -> Self {
        EdgeInput {
            src: Vec::new(),
            dst: Vec::new(),
            data: Vec::new(),
            vertices: Vec::new(),
            order: LocalOrder::default(),
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
    let order = input.order;
    let Shuffled {
        src,
        dst,
        data,
        declared,
    } = shuffle(comm, ownership, input)?;

    // 2. Number owned vertices, then ghosts (hubs first unless asked otherwise).
    let numbering = Numbering::new(me, ownership, (&src, &dst), &declared, order)?;
    drop(declared);
    let num_owned = numbering.num_owned;
    let local_of = |g: &VertexId| numbering.local(*g).expect("every endpoint is numbered");
    let ghosts = &numbering.global_ids[num_owned..];
    let ghost_owner: Vec<usize> = ghosts.iter().map(|&g| ownership.owner(g)).collect();

    // 3. CSRs. Edges with an owned source come first, in out-CSR order. Each endpoint
    // column is freed as soon as its local ids exist.
    let to_local = |ids: Vec<VertexId>| -> Vec<LocalId> { ids.par_iter().map(local_of).collect() };
    let src = to_local(src);
    let dst = to_local(dst);
    let (out_csr, in_csr, in_edge_ids, edge_data) = build_csrs::<E>(num_owned, &src, &dst, data);
    drop((src, dst));

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
                    let l = local_of(&g);
                    debug_assert!((l as usize) < num_owned, "mirror of a vertex I do not own");
                    l
                })
                .collect()
        })
        .collect();

    let owned_by_gid = by_global_id(&numbering.global_ids[..num_owned]);
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

/// This rank's edges after the shuffle (columns, in arrival order: by sending rank, then
/// in the sender's order) and the declared vertices it owns.
struct Shuffled<E> {
    src: Vec<VertexId>,
    dst: Vec<VertexId>,
    data: Vec<E>,
    declared: Vec<VertexId>,
}

/// Sends every edge to the owners of its endpoints and every declared vertex to its owner.
/// Edges that stay on this rank are moved, never encoded (on one rank: nothing is copied).
fn shuffle<E: Wire>(
    comm: &dyn Comm,
    ownership: &dyn Ownership,
    input: EdgeInput<E>,
) -> Result<Shuffled<E>> {
    let (n_ranks, me) = (comm.size(), comm.rank());
    if n_ranks == 1 {
        return Ok(Shuffled {
            src: input.src,
            dst: input.dst,
            data: input.data,
            declared: input.vertices,
        });
    }
    // Each buffer starts with room for its edge count, filled in once it is known.
    let mut bufs: Vec<Vec<u8>> = vec![0u64.to_le_bytes().to_vec(); n_ranks];
    let mut edge_counts = vec![0u64; n_ranks];
    let mut own = Shuffled {
        src: Vec::new(),
        dst: Vec::new(),
        data: Vec::new(),
        declared: Vec::new(),
    };
    let EdgeInput {
        src,
        dst,
        data,
        vertices,
        order: _,
    } = input;
    for ((s, d), e) in src.into_iter().zip(dst).zip(data) {
        let (os, od) = (ownership.owner(s), ownership.owner(d));
        let peers = [Some(os), (od != os).then_some(od)];
        for o in peers.into_iter().flatten().filter(|&o| o != me) {
            s.encode(&mut bufs[o]);
            d.encode(&mut bufs[o]);
            e.encode(&mut bufs[o]);
            edge_counts[o] += 1;
        }
        if os == me || od == me {
            own.src.push(s);
            own.dst.push(d);
            own.data.push(e);
        }
    }
    let mut vertex_lists: Vec<Vec<VertexId>> = vec![Vec::new(); n_ranks];
    for v in vertices {
        vertex_lists[ownership.owner(v)].push(v);
    }
    for ((buf, count), vertices) in bufs.iter_mut().zip(edge_counts).zip(vertex_lists) {
        buf[..8].copy_from_slice(&count.to_le_bytes());
        vertices.encode(buf);
    }
    let recv = comm.all_to_all_v(bufs)?;
    let total: u64 = recv
        .iter()
        .enumerate()
        .filter(|&(r, _)| r != me)
        .map(|(_, b)| u64::decode(&mut &b[..]))
        .sum::<u64>()
        + own.src.len() as u64;
    let mut out = Shuffled {
        src: Vec::with_capacity(total as usize),
        dst: Vec::with_capacity(total as usize),
        data: Vec::with_capacity(total as usize),
        declared: Vec::new(),
    };
    for (rank, buf) in recv.into_iter().enumerate() {
        let mut input = buf.as_slice();
        let count = u64::decode(&mut input);
        if rank == me {
            out.src.append(&mut own.src);
            out.dst.append(&mut own.dst);
            out.data.append(&mut own.data);
        } else {
            for _ in 0..count {
                out.src.push(VertexId::decode(&mut input));
                out.dst.push(VertexId::decode(&mut input));
                out.data.push(E::decode(&mut input));
            }
        }
        out.declared.extend(Vec::<VertexId>::decode(&mut input));
    }
    Ok(out)
}

type Csrs<E> = (Csr, Csr, Vec<usize>, Vec<E>);

/// Counting sort of the local edges (columns of local ids) into the out-CSR (owned
/// sources) and in-CSR (owned targets). Returns (out, in, in-entry -> edge id, edge data by
/// edge id). Rows keep arrival order, so the result does not depend on the thread count.
///
/// The two CSRs are sorted at once on two threads (each pass is bound by its random
/// writes, one row cursor and one neighbour slot per edge). Edge ids are out-CSR positions,
/// so with edge data the in-CSR pass waits for the out-CSR pass's ids and runs beside the
/// placement of the edge data instead.
fn build_csrs<E: Send>(
    num_owned: usize,
    src: &[LocalId],
    dst: &[LocalId],
    data: Vec<E>,
) -> Csrs<E> {
    let (out_offsets, in_offsets) = rayon::join(
        || row_offsets(num_owned, src),
        || row_offsets(num_owned, dst),
    );
    let (out_neighbors, in_neighbors, in_edge_ids, edge_data) = if std::mem::size_of::<E>() != 0 {
        let (out_neighbors, edge_ids) = place(&out_offsets, src, dst, EdgeIds::Number);
        let ((in_neighbors, in_edge_ids), edge_data) = rayon::join(
            || place(&in_offsets, dst, src, EdgeIds::Of(&edge_ids)),
            || {
                // Edge data by id (a permutation).
                let mut slots: Vec<(usize, E)> = edge_ids.iter().copied().zip(data).collect();
                slots.sort_unstable_by_key(|&(id, _)| id);
                slots.into_iter().map(|(_, e)| e).collect::<Vec<E>>()
            },
        );
        (out_neighbors, in_neighbors, in_edge_ids, edge_data)
    } else {
        // Zero-sized edge data: nothing to place, and no ids to keep.
        let ((out_neighbors, _), (in_neighbors, _)) = rayon::join(
            || place(&out_offsets, src, dst, EdgeIds::Skip),
            || place(&in_offsets, dst, src, EdgeIds::Skip),
        );
        (out_neighbors, in_neighbors, Vec::new(), data)
    };
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

/// Row offsets of a CSR over the owned vertices `0..num_owned` whose rows are `rows`
/// (edges whose row vertex is a ghost are not in it).
fn row_offsets(num_owned: usize, rows: &[LocalId]) -> Vec<usize> {
    let mut offsets = vec![0usize; num_owned + 1];
    for &r in rows {
        if (r as usize) < num_owned {
            offsets[r as usize + 1] += 1;
        }
    }
    prefix_sum(&mut offsets);
    offsets
}

/// What [`place`] does with edge ids.
#[derive(Clone, Copy)]
enum EdgeIds<'a> {
    /// Nothing (zero-sized edge data).
    Skip,
    /// Numbers the edges (the out-CSR pass): an edge of an owned row gets its position,
    /// the others the positions after the last row, in arrival order. Returns them by edge.
    Number,
    /// Returns the id (`ids[i]` for edge `i`) of the edge at each position (the in-CSR pass).
    Of(&'a [usize]),
}

/// Places edge `i` (row `rows[i]`, neighbour `cols[i]`) of every owned row in arrival order;
/// returns the neighbours and the ids `ids` asks for.
fn place(
    offsets: &[usize],
    rows: &[LocalId],
    cols: &[LocalId],
    ids: EdgeIds<'_>,
) -> (Vec<LocalId>, Vec<usize>) {
    let num_owned = offsets.len() - 1;
    let total = offsets[num_owned];
    let mut neighbors = vec![0 as LocalId; total];
    let mut cursor = offsets.to_vec();
    let mut out_ids = match ids {
        EdgeIds::Skip => Vec::new(),
        EdgeIds::Number => Vec::with_capacity(rows.len()),
        EdgeIds::Of(_) => vec![0usize; total],
    };
    let mut unowned_next = total;
    for (i, (&r, &c)) in rows.iter().zip(cols).enumerate() {
        if (r as usize) < num_owned {
            let k = cursor[r as usize];
            cursor[r as usize] += 1;
            neighbors[k] = c;
            match ids {
                EdgeIds::Skip => {}
                EdgeIds::Number => out_ids.push(k),
                EdgeIds::Of(ids) => out_ids[k] = ids[i],
            }
        } else if let EdgeIds::Number = ids {
            out_ids.push(unowned_next);
            unowned_next += 1;
        }
    }
    (neighbors, out_ids)
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
            order: LocalOrder::HubsFirst,
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
            order: input.order,
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
