//! Vertex identifiers: global `VertexId` (as in the input) and rank-local `LocalId`.

/// A vertex id as it appears in the input file; unique across the whole graph.
pub type VertexId = u64;

/// A vertex id inside one rank's `LocalGraph`: owned vertices are `0..num_owned`, ghosts
/// follow. 32 bits keep the adjacency arrays (the bulk of memory traffic) compact.
pub type LocalId = u32;

/// Index of a rank, `0..num_ranks`.
pub type Rank = usize;
