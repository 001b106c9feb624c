//! Graph storage on one rank.
//!
//! A rank holds the vertices it owns (local ids `0..num_owned`) and, after them, ghost
//! copies of the remote endpoints of its cut edges. Every edge with an owned endpoint is
//! stored here, so an owned vertex sees all of its in- and out-edges locally and gather /
//! scatter never leave the rank. The in-CSR and out-CSR have one row per owned vertex;
//! their entries are local ids of neighbours (owned or ghost).
//!
//! Edge data is stored once per rank, in `edge_data`: first the edges whose source is
//! owned, in out-CSR order (so an out-row's data is one contiguous slice), then the edges
//! whose source is a ghost. The in-CSR carries each entry's edge id (omitted when the edge
//! data is a zero-sized type, so PageRank's pull loop touches only neighbour ids).
//!
//! Mirror plans: for each peer, `mirrors[p]` lists my owned vertices that `p` holds as
//! ghosts, and `ghosts_by_owner[p]` lists my ghosts owned by `p`, both in the ghost
//! holder's local-id order. The two ranks agree on that order at build time, so a ghost
//! update carries only payload bytes.

mod build;
mod numbering;
mod topology;
mod undirected;
mod whole;

pub use build::{EdgeInput, LocalOrder, build_local_graph};
pub use numbering::sort_hubs_first;
pub use topology::{Csr, LocalGraph, Topology};
pub(crate) use topology::{zst_mut, zst_ref, zst_slice_mut};
pub use undirected::{SimpleAdjacency, Undirected, sorted_vertex_ids};
pub use whole::WholeGraph;
