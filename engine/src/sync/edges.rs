//! Mutable access to edge data during scatter, and reconciliation of cut edges.
//!
//! Within a rank each edge is stored once. Scatter runs in two passes: out-edges, whose
//! data for a chunk of source vertices is one contiguous slice (split safely), then
//! in-edges, whose ids are scattered: [`EdgeSlots`] hands out `&mut` by id under the
//! invariant that every edge id occurs in exactly one in-CSR entry.
//!
//! A cut edge is stored on both endpoint owners. When scatter changes a cut edge's data
//! (detected by comparing its encoding before and after, in buffers a task reuses), the
//! new value is sent to the peer as (position in the peer edge plan, payload). If both
//! copies changed in the same superstep, the copy written by the owner of the edge's
//! source wins on both ranks, so the copies never diverge. Edge plans list the shared
//! edges of each peer in ascending (source id, target id) with ties in arrival order,
//! which both ranks share; a dense index finds a cut edge's place by edge id.

use crate::error::{EngineError, Result};
use crate::graph::Topology;
use crate::ids::{LocalId, Rank};

/// Raw, shared access to edge data by id for the in-edge scatter pass. It borrows the
/// slice it points into for `'a`, so the slice can neither be dropped nor touched
/// otherwise while slots are handed out.
pub(crate) struct EdgeSlots<'a, E> {
    ptr: *mut E,
    len: usize,
    borrow: std::marker::PhantomData<&'a mut [E]>,
}

// SAFETY: `EdgeSlots` only hands out `&mut E` through `get_mut`, whose contract forbids two
// live references to the same slot; moving such references across threads requires `E: Send`.
unsafe impl<E: Send> Sync for EdgeSlots<'_, E> {}
// SAFETY: as above.
unsafe impl<E: Send> Send for EdgeSlots<'_, E> {}

impl<'a, E> EdgeSlots<'a, E> {
    pub(crate) fn new(data: &'a mut [E]) -> Self {
        EdgeSlots {
            ptr: data.as_mut_ptr(),
            len: data.len(),
            borrow: std::marker::PhantomData,
        }
    }

    /// # Safety
    /// No other reference to slot `i` may be alive while the returned one is. (The slice
    /// outlives the returned reference and is not touched otherwise: `self` borrows it.)
    #[inline]
    #[allow(clippy::mut_from_ref)]
    pub(crate) unsafe fn get_mut(&self, i: usize) -> &'a mut E {
        assert!(i < self.len, "edge id {i} out of range {}", self.len);
        // SAFETY: in bounds (checked), and exclusive by the caller's contract.
        unsafe { &mut *self.ptr.add(i) }
    }
}

/// Where a cut edge stands in the plans.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CutEdge {
    /// The peer holding the other copy.
    pub(crate) peer: Rank,
    /// Position in that peer's plan.
    pub(crate) position: usize,
    /// Whether this rank owns the edge's source (its copy wins a conflict).
    pub(crate) source_owned: bool,
}

/// For each peer, the local ids of the edges shared with it (cut edges), in plan order;
/// and for each cut edge, where it stands (looked up by edge id through a dense index: one
/// load per changed edge, no hashing).
#[derive(Debug, Default)]
pub(crate) struct EdgePlans {
    pub(crate) by_peer: Vec<Vec<usize>>,
    /// Per peer, the index among the cut edges of its plan's first edge (`cuts` lists the
    /// plans one after another, in peer order).
    peer_base: Vec<usize>,
    /// Per local edge id, its index in `cuts`, or `NOT_CUT`.
    cut_index: Vec<u32>,
    cuts: Vec<CutEdge>,
}

const NOT_CUT: u32 = u32::MAX;

impl EdgePlans {
    /// Builds the plans from the topology (local computation, identical ordering on both
    /// sides of every cut edge); `num_edges` is the rank's edge count.
    ///
    /// # Errors
    ///
    /// [`EngineError::Build`] if the rank holds more cut edges than the dense index can
    /// number (2^32 - 1).
    pub(crate) fn build(topo: &Topology, num_edges: usize) -> Result<Self> {
        let mut keyed: Vec<Vec<(u64, u64, usize, bool)>> = vec![Vec::new(); topo.num_ranks()];
        for v in 0..topo.num_owned() as LocalId {
            for k in topo.out_csr.range(v) {
                let d = topo.out_csr.neighbors[k];
                if !topo.is_owned(d) {
                    keyed[topo.owner_of(d)].push((topo.global_id(v), topo.global_id(d), k, true));
                }
            }
            for k in topo.in_csr.range(v) {
                let s = topo.in_csr.neighbors[k];
                if !topo.is_owned(s) {
                    let id = topo.in_edge_ids[k];
                    keyed[topo.owner_of(s)].push((topo.global_id(s), topo.global_id(v), id, false));
                }
            }
        }
        let num_cut: usize = keyed.iter().map(Vec::len).sum();
        if num_cut >= NOT_CUT as usize {
            return Err(EngineError::Build(format!(
                "rank {} shares {num_cut} edges with other ranks, more than the 2^32-1 its \
                 cut-edge index can number: run on more ranks",
                topo.rank()
            )));
        }
        let peer_base = keyed
            .iter()
            .scan(0, |base, list| {
                let first = *base;
                *base += list.len();
                Some(first)
            })
            .collect();
        let mut cut_index = vec![NOT_CUT; num_edges];
        let mut cuts = Vec::with_capacity(num_cut);
        let by_peer = keyed
            .into_iter()
            .enumerate()
            .map(|(peer, mut list)| {
                list.sort_unstable();
                list.into_iter()
                    .enumerate()
                    .map(|(position, (_, _, id, source_owned))| {
                        // Below NOT_CUT: checked above.
                        cut_index[id] = cuts.len() as u32;
                        cuts.push(CutEdge {
                            peer,
                            position,
                            source_owned,
                        });
                        id
                    })
                    .collect()
            })
            .collect();
        Ok(EdgePlans {
            by_peer,
            peer_base,
            cut_index,
            cuts,
        })
    }

    /// Where cut edge `id` stands, and its index among the cut edges.
    #[inline]
    pub(crate) fn cut(&self, id: usize) -> (usize, &CutEdge) {
        let i = self.cut_index[id];
        debug_assert_ne!(i, NOT_CUT, "edge {id} is not cut");
        (i as usize, &self.cuts[i as usize])
    }

    /// The edge at `position` in `peer`'s plan: its id, its index among the cut edges and
    /// where it stands, found from the position alone (no load through the dense index).
    #[inline]
    pub(crate) fn in_plan(&self, peer: Rank, position: usize) -> (usize, usize, &CutEdge) {
        let id = self.by_peer[peer][position];
        let i = self.peer_base[peer] + position;
        debug_assert_eq!(self.cut_index[id] as usize, i, "plans out of step");
        (id, i, &self.cuts[i])
    }

    /// Number of cut edges.
    pub(crate) fn num_cut(&self) -> usize {
        self.cuts.len()
    }
}

/// Reusable buffers for telling whether scatter changed a cut edge (its encoding before
/// and after), and the ids of the edges it changed.
#[derive(Debug, Default)]
pub(crate) struct CutEdgeTracker {
    pub(crate) dirty: Vec<usize>,
    before: Vec<u8>,
    after: Vec<u8>,
    /// For a row: the positions of its cut edges and where each one's encoding ends in
    /// `before`.
    row_cuts: Vec<(usize, usize)>,
}

impl CutEdgeTracker {
    /// Runs `scatter` on cut edge `edge` (of id `id`) and records the id if the data
    /// changed: a row of one.
    #[inline]
    pub(crate) fn track<E: crate::wire::Wire>(
        &mut self,
        id: usize,
        edge: &mut E,
        scatter: impl FnOnce(&mut E),
    ) {
        self.track_row(
            id,
            std::slice::from_mut(edge),
            |_| true,
            |row| scatter(&mut row[0]),
        );
    }

    /// Runs `scatter` on a row of edges (`edges`, of ids `first_id..`) and records the
    /// ids of those that `is_cut` (by position) and whose data changed.
    #[inline]
    pub(crate) fn track_row<E: crate::wire::Wire>(
        &mut self,
        first_id: usize,
        edges: &mut [E],
        is_cut: impl Fn(usize) -> bool,
        scatter: impl FnOnce(&mut [E]),
    ) {
        self.before.clear();
        self.row_cuts.clear();
        for (i, edge) in edges.iter().enumerate().filter(|&(i, _)| is_cut(i)) {
            edge.encode(&mut self.before);
            self.row_cuts.push((i, self.before.len()));
        }
        scatter(edges);
        let mut start = 0;
        for &(i, end) in &self.row_cuts {
            self.after.clear();
            edges[i].encode(&mut self.after);
            if self.before[start..end] != self.after[..] {
                self.dirty.push(first_id + i);
            }
            start = end;
        }
    }
}
