//! `Topology` (ids, CSRs, mirror plans) and `LocalGraph` (topology + edge data).

use std::ops::Range;

use rayon::prelude::*;

use crate::ids::{LocalId, Rank, VertexId};

/// Compressed sparse rows over the owned vertices of a rank.
#[derive(Debug, Clone, Default)]
pub struct Csr {
    /// `offsets[v]..offsets[v + 1]` is row `v`; length `num_owned + 1`.
    pub offsets: Vec<usize>,
    /// Neighbour local ids, row after row.
    pub neighbors: Vec<LocalId>,
}

impl Csr {
    /// Entry positions of row `v`.
    #[inline]
    pub fn range(&self, v: LocalId) -> Range<usize> {
        self.offsets[v as usize]..self.offsets[v as usize + 1]
    }
    /// Neighbours of `v`.
    #[inline]
    pub fn row(&self, v: LocalId) -> &[LocalId] {
        &self.neighbors[self.range(v)]
    }
    /// Number of entries in row `v`.
    #[inline]
    pub fn degree(&self, v: LocalId) -> usize {
        self.offsets[v as usize + 1] - self.offsets[v as usize]
    }
    /// Number of entries.
    pub fn num_entries(&self) -> usize {
        self.neighbors.len()
    }
}

/// Everything about a rank's part of the graph except edge data.
#[derive(Debug, Clone)]
pub struct Topology {
    pub(crate) rank: Rank,
    pub(crate) num_ranks: usize,
    pub(crate) num_owned: usize,
    pub(crate) global_ids: Vec<VertexId>,
    /// Owned local ids in ascending global id (for lookups by global id).
    pub(crate) owned_by_gid: Vec<LocalId>,
    pub(crate) ghost_owner: Vec<Rank>,
    pub(crate) ghost_slot: Vec<u32>,
    pub(crate) in_csr: Csr,
    pub(crate) out_csr: Csr,
    pub(crate) in_edge_ids: Vec<usize>,
    pub(crate) mirrors: Vec<Vec<LocalId>>,
    pub(crate) ghosts_by_owner: Vec<Vec<LocalId>>,
    pub(crate) num_global_vertices: u64,
    pub(crate) num_global_edges: u64,
}

impl Topology {
    /// Whether every owned vertex has the same neighbours, with the same multiplicities,
    /// along its out-edges as along its in-edges: on every rank, this means the graph
    /// lists both directions of every edge (an undirected graph stored as a directed
    /// one). One pass over both CSRs, counting each row's neighbours up and down in a
    /// per-task array; it stops at the first vertex that differs.
    pub fn is_symmetric(&self) -> bool {
        self.every_owned_row(|count, v| {
            let (out, inn) = (self.out_csr.row(v), self.in_csr.row(v));
            if out.len() != inn.len() {
                return false;
            }
            for &u in out {
                count[u as usize] += 1;
            }
            let mut same = true;
            for &u in inn {
                let c = &mut count[u as usize];
                same &= *c > 0;
                *c -= 1;
            }
            for &u in out {
                count[u as usize] = 0;
            }
            same
        })
    }

    /// Whether no owned vertex lists a neighbour twice, or itself, among its out-edges: on
    /// a symmetric graph ([`Topology::is_symmetric`]) on every rank, the undirected graph
    /// is simple, and a program that reads each neighbour once along out-edges needs no
    /// deduplication. One pass over the out-CSR, marking each row's neighbours in a
    /// per-task array; it stops at the first repeat.
    pub fn is_simple(&self) -> bool {
        self.every_owned_row(|seen, v| {
            let row = self.out_csr.row(v);
            let mut simple = true;
            for &u in row {
                let s = &mut seen[u as usize];
                simple &= *s == 0 && u != v;
                *s = 1;
            }
            for &u in row {
                seen[u as usize] = 0;
            }
            simple
        })
    }

    /// Whether `test(scratch, v)` holds for every owned vertex, run in parallel over a few
    /// large tasks, each with a zeroed array of `num_local()` counters that `test` must
    /// leave zeroed; it stops at the first vertex that fails.
    fn every_owned_row(&self, test: impl Fn(&mut [i32], LocalId) -> bool + Sync) -> bool {
        let (n_owned, n_local) = (self.num_owned(), self.num_local());
        let tasks = rayon::current_num_threads() * 4;
        let per_task = n_owned.div_ceil(tasks).max(1);
        (0..n_owned.div_ceil(per_task)).into_par_iter().all(|t| {
            let mut scratch = vec![0i32; n_local];
            (t * per_task..((t + 1) * per_task).min(n_owned))
                .all(|v| test(&mut scratch, v as LocalId))
        })
    }
    /// This rank.
    pub fn rank(&self) -> Rank {
        self.rank
    }
    /// Number of ranks the graph is spread over.
    pub fn num_ranks(&self) -> usize {
        self.num_ranks
    }
    /// Owned vertices: local ids `0..num_owned()`.
    pub fn num_owned(&self) -> usize {
        self.num_owned
    }
    /// Owned plus ghost vertices.
    pub fn num_local(&self) -> usize {
        self.global_ids.len()
    }
    /// Ghost vertices: local ids `num_owned()..num_local()`.
    pub fn num_ghosts(&self) -> usize {
        self.num_local() - self.num_owned
    }
    /// Vertices in the whole graph.
    pub fn num_global_vertices(&self) -> u64 {
        self.num_global_vertices
    }
    /// Edges in the whole graph.
    pub fn num_global_edges(&self) -> u64 {
        self.num_global_edges
    }
    /// Global id of a local vertex.
    #[inline]
    pub fn global_id(&self, v: LocalId) -> VertexId {
        self.global_ids[v as usize]
    }
    /// Global ids of all local vertices (owned first, then ghosts).
    pub fn global_ids(&self) -> &[VertexId] {
        &self.global_ids
    }
    /// True when `v` is owned by this rank.
    #[inline]
    pub fn is_owned(&self, v: LocalId) -> bool {
        (v as usize) < self.num_owned
    }
    /// The rank owning local vertex `v`.
    pub fn owner_of(&self, v: LocalId) -> Rank {
        if self.is_owned(v) {
            self.rank
        } else {
            self.ghost_owner[v as usize - self.num_owned]
        }
    }
    /// In-edges of owned vertices.
    pub fn in_csr(&self) -> &Csr {
        &self.in_csr
    }
    /// Out-edges of owned vertices.
    pub fn out_csr(&self) -> &Csr {
        &self.out_csr
    }
    /// The edge id (index into [`LocalGraph::edge_data`]) of each in-CSR entry; empty when
    /// the edge data is zero-sized.
    pub fn in_edge_ids(&self) -> &[usize] {
        &self.in_edge_ids
    }
    /// Owned vertices that rank `peer` holds as ghosts, in the agreed order.
    pub fn mirrors(&self, peer: Rank) -> &[LocalId] {
        &self.mirrors[peer]
    }
    /// Ghosts owned by rank `peer`, in the agreed order.
    pub fn ghosts_owned_by(&self, peer: Rank) -> &[LocalId] {
        &self.ghosts_by_owner[peer]
    }
    /// Position of ghost `v` in `ghosts_owned_by(owner_of(v))`.
    pub(crate) fn ghost_slot(&self, v: LocalId) -> u32 {
        self.ghost_slot[v as usize - self.num_owned]
    }
    /// Local id of an owned vertex by global id (binary search over the owned vertices in
    /// global-id order).
    pub fn owned_local_id(&self, v: VertexId) -> Option<LocalId> {
        self.owned_by_gid
            .binary_search_by_key(&v, |&l| self.global_ids[l as usize])
            .ok()
            .map(|i| self.owned_by_gid[i])
    }
}

/// The local ids `0..global_ids.len()` in ascending global id (what
/// [`Topology::owned_local_id`] searches), sorted as (id, local id) pairs so that the sort
/// compares keys in hand rather than loading one per comparison.
pub(crate) fn by_global_id(global_ids: &[VertexId]) -> Vec<LocalId> {
    let mut pairs: Vec<(VertexId, LocalId)> = global_ids
        .par_iter()
        .enumerate()
        .map(|(l, &g)| (g, l as LocalId))
        .collect();
    pairs.par_sort_unstable();
    pairs.into_par_iter().map(|(_, l)| l).collect()
}

/// One rank's part of the graph: topology plus edge data of type `E`.
#[derive(Debug, Clone)]
pub struct LocalGraph<E> {
    pub(crate) topo: Topology,
    pub(crate) edge_data: Vec<E>,
}

impl<E> LocalGraph<E> {
    /// The topology (ids, adjacency, mirror plans).
    pub fn topology(&self) -> &Topology {
        &self.topo
    }
    /// Edge data, indexed by local edge id.
    pub fn edge_data(&self) -> &[E] {
        &self.edge_data
    }
    /// Data of the `k`-th in-CSR entry.
    #[inline]
    pub fn in_edge(&self, k: usize) -> &E {
        if std::mem::size_of::<E>() == 0 {
            zst_ref()
        } else {
            &self.edge_data[self.topo.in_edge_ids[k]]
        }
    }
    /// Asks the CPU to start loading the data of the `k`-th in-CSR entry (if there is one):
    /// in-edge data is reached through `in_edge_ids`, one random load per edge, so a pull
    /// over in-edges with data issues this a few edges ahead of its use.
    #[inline(always)]
    pub(crate) fn prefetch_in_edge(&self, k: usize) {
        if std::mem::size_of::<E>() != 0
            && let Some(&id) = self.topo.in_edge_ids.get(k)
        {
            crate::prefetch::read_value(self.edge_data.as_ptr().wrapping_add(id));
        }
    }
    /// Data of the `k`-th out-CSR entry (out-CSR position == edge id).
    #[inline]
    pub fn out_edge(&self, k: usize) -> &E {
        if std::mem::size_of::<E>() == 0 {
            zst_ref()
        } else {
            &self.edge_data[k]
        }
    }
}

impl<E> std::ops::Deref for LocalGraph<E> {
    type Target = Topology;
    fn deref(&self) -> &Topology {
        &self.topo
    }
}

/// A reference to a value of a zero-sized type.
#[inline(always)]
pub(crate) fn zst_ref<'a, E>() -> &'a E {
    assert!(std::mem::size_of::<E>() == 0, "only for zero-sized types");
    // SAFETY: `E` is zero-sized (callers check `size_of::<E>() == 0`): a dangling, aligned,
    // non-null pointer is a valid reference to a zero-sized value and no bytes are read.
    unsafe { std::ptr::NonNull::<E>::dangling().as_ref() }
}

/// A mutable reference to a value of a zero-sized type.
#[inline(always)]
pub(crate) fn zst_mut<'a, E>() -> &'a mut E {
    assert!(std::mem::size_of::<E>() == 0, "only for zero-sized types");
    // SAFETY: as in `zst_ref`; a zero-sized `&mut` aliases no bytes, so handing out several
    // at once cannot create overlapping mutable access.
    unsafe { std::ptr::NonNull::<E>::dangling().as_mut() }
}

/// A mutable slice of `len` values of a zero-sized type.
#[inline(always)]
pub(crate) fn zst_slice_mut<'a, E>(len: usize) -> &'a mut [E] {
    assert!(std::mem::size_of::<E>() == 0, "only for zero-sized types");
    // SAFETY: `E` is zero-sized, so the slice spans no bytes whatever `len` (well within
    // `isize::MAX`), and a dangling aligned pointer is valid for it; as in `zst_mut`, it
    // aliases nothing.
    unsafe { std::slice::from_raw_parts_mut(std::ptr::NonNull::<E>::dangling().as_ptr(), len) }
}
