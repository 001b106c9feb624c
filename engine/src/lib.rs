//! # gasket-engine
//!
//! A GraphLab-style Gather-Apply-Scatter engine over edge-cut-partitioned graphs. Map of
//! the crate, in the order data flows:
//!
//! - [`ids`]: global [`VertexId`] (`u64`, as in the input) and rank-local [`LocalId`] (`u32`).
//! - [`comm`]: [`Comm`], the only door to other ranks (all-to-all of byte buffers,
//!   all-reduce, barrier); [`SingleComm`], [`ThreadComm`] (ranks as threads),
//!   [`MpiComm`](comm::MpiComm) (one rank per MPI process, feature `mpi`), and [`launch`]
//!   to start ranks from a [`Backend`].
//! - [`ownership`]: which rank owns each vertex ([`HashOwnership`] by default).
//! - [`graph`]: the distributed build ([`build_local_graph`]: shuffle edges to owners,
//!   number owned vertices then ghosts, CSRs, mirror plans) and [`LocalGraph`].
//! - [`program`]: the [`VertexProgram`] trait (gather / apply / scatter) and its
//!   [`Context`].
//! - [`sync`]: the synchronous (BSP) engine, [`SyncEngine`]: the all-active pull, the
//!   program's own scatter, and for programs that signal through
//!   [`VertexProgram::signal_along`] a push or a pull chosen per superstep
//!   ([`DirectionRule`]); signals combine in dense per-vertex slots.
//! - [`checkpoint`]: the synchronous engine's checkpoints, keyed by global ids so a run
//!   resumes on any number of ranks ([`Checkpointing`](checkpoint::Checkpointing)).
//! - [`param`]: the parameter table (sharded rows, BSP / SSP / async reads) for
//!   data-parallel learning; vertex programs reach it through [`Context::tables`].
//! - [`wire`]: the byte codec for everything that crosses ranks.
//! - [`launcher`]: [`Launcher`], one call from a user's `main` to a finished run (ranks,
//!   loading, placement, build, run, results on rank 0); [`output`] writes result files
//!   atomically.
//!
//! New here? The [`tutorial`] goes from an empty crate to a custom program running under
//! `mpirun -np 4`, and the [`launcher`] docs show the shortest complete program.
//!
//! The shortest complete program counts in-degrees by gathering over in-edges:
//!
//! ```
//! use gasket_engine::prelude::*;
//!
//! struct InDegree;
//! impl VertexProgram for InDegree {
//!     type Vertex = u64;
//!     type Edge = ();
//!     type Gather = u64;
//!     type Message = ();
//!     fn init(&self, _v: &VertexRef<'_, ()>, _ctx: &mut Context<'_, ()>) -> u64 { 0 }
//!     fn activation(&self) -> Activation { Activation::All }
//!     fn gather_edges(&self, _v: &VertexRef<'_, u64>) -> EdgeDir { EdgeDir::In }
//!     fn gather(&self, _v: &VertexRef<'_, u64>, _e: &(), _other: &u64) -> u64 { 1 }
//!     fn combine(&self, acc: &mut u64, x: u64) { *acc += x }
//!     fn apply(&self, v: &mut VertexMut<'_, u64>, total: Option<u64>, _ctx: &mut Context<'_, ()>) {
//!         *v.data_mut() = total.unwrap_or(0);
//!     }
//! }
//!
//! let degrees = ThreadComm::run(2, |comm| -> Result<Vec<(u64, u64)>, EngineError> {
//!     // Rank 0 reads the edges 1->3, 2->3; rank 1 reads nothing.
//!     let input = if comm.rank() == 0 {
//!         EdgeInput { src: vec![1, 2], dst: vec![3, 3], data: vec![(), ()], ..EdgeInput::default() }
//!     } else {
//!         EdgeInput::default()
//!     };
//!     let mut graph = build_local_graph(&comm, &HashOwnership::new(comm.size()), input)?;
//!     let config = SyncConfig { max_iterations: 1, ..SyncConfig::default() };
//!     let mut engine = SyncEngine::new(&InDegree, &mut graph, &comm, config)?;
//!     engine.run()?;
//!     let mut out = Vec::new();
//!     engine.for_each_owned(|v| out.push((v.id(), *v.data())));
//!     Ok(out)
//! })
//! .unwrap();
//! let mut all: Vec<_> = degrees.into_iter().flatten().collect();
//! all.sort();
//! assert_eq!(all, vec![(1, 0), (2, 0), (3, 2)]);
//! ```
#![warn(missing_docs)]

pub mod async_engine;
pub mod checkpoint;
pub mod chromatic;
pub mod comm;
pub mod error;
pub mod gather_list;
pub mod graph;
pub mod hash;
pub mod ids;
pub mod launcher;
pub mod output;
pub mod ownership;
pub mod param;
pub mod prefetch;
pub mod program;
pub mod sync;
pub mod tutorial;
pub mod wire;

pub use async_engine::{AsyncConfig, AsyncEngine, AsyncMetrics, Consistency, Scheduler};
pub use comm::{Backend, Comm, CommExt, ReduceOp, SingleComm, ThreadComm, launch};
pub use error::{EngineError, InputFailure, Result};
pub use gather_list::GatherList;
pub use graph::{
    EdgeInput, LocalGraph, LocalOrder, SimpleAdjacency, Topology, Undirected, build_local_graph,
    sorted_vertex_ids,
};
pub use ids::{LocalId, Rank, VertexId};
pub use launcher::{
    EdgeEnds, GraphFacts, GraphSource, Hashed, InMemory, Launcher, Outcome, Placement, RankRun,
    fail, run_program, run_program_async,
};
pub use ownership::{HashOwnership, Ownership, TableOwnership};
pub use param::{TableClient, TableComm, TableSpec};
pub use program::{
    Activation, Context, Control, EdgeDir, Neighbor, OutEdges, OwnedVertex, SuperstepInfo,
    VertexHandle, VertexMut, VertexProgram, VertexRef,
};
pub use sync::{
    Direction, DirectionRule, RunSummary, StopReason, SuperstepMetrics, SyncConfig, SyncEngine,
};
pub use wire::Wire;

/// Everything a vertex-program author needs, in one import: the program trait and its
/// views, the launcher and its seams, the engine, ranks and their communication, and the
/// wire codec for vertex, edge and message types.
pub mod prelude {
    pub use crate::async_engine::{AsyncConfig, AsyncEngine, Consistency, Scheduler};
    pub use crate::comm::{Backend, Comm, CommExt, ReduceOp, SingleComm, ThreadComm, launch};
    pub use crate::error::EngineError;
    pub use crate::gather_list::GatherList;
    pub use crate::graph::{EdgeInput, LocalGraph, LocalOrder, Undirected, build_local_graph};
    pub use crate::ids::{LocalId, Rank, VertexId};
    pub use crate::launcher::{
        EdgeEnds, GraphFacts, GraphSource, Hashed, InMemory, Launcher, Outcome, Placement, RankRun,
        fail, run_program, run_program_async,
    };
    pub use crate::ownership::{HashOwnership, Ownership};
    pub use crate::program::{
        Activation, Context, Control, EdgeDir, Neighbor, OutEdges, OwnedVertex, SuperstepInfo,
        VertexHandle, VertexMut, VertexProgram, VertexRef,
    };
    pub use crate::sync::{
        DirectionRule, RunSummary, StopReason, SuperstepMetrics, SyncConfig, SyncEngine,
    };
    pub use crate::wire::Wire;
}

/// The README's code blocks, compiled as doctests so they cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
