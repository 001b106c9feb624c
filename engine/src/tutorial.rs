//! # Tutorial: from an empty crate to your own program under `mpirun -np 4`
//!
//! This page builds one complete program, hop distances from a source vertex
//! (breadth-first search), and runs it on thread ranks and MPI ranks. Every code block on
//! this page is compiled and run by `cargo test`.
//!
//! ## 1. The crate
//!
//! ```toml
//! [package]
//! name = "hops"
//! version = "0.1.0"
//! edition = "2024"
//!
//! [dependencies]
//! gasket-engine = { path = "../gasket/engine" }             # the engine and the launcher
//! gasket-datasets = { path = "../gasket/datasets" }         # SNAP / METIS / Matrix Market readers
//! gasket-partitioning = { path = "../gasket/partitioning" } # hash, range, LDG, Fennel, METIS
//!
//! [features]
//! mpi = ["gasket-engine/mpi"]   # one rank per MPI process; needs libopenmpi-dev and libclang
//! ```
//!
//! `use gasket_engine::prelude::*;` brings in everything a program author needs.
//!
//! ## 2. The model
//!
//! The graph is directed and cut by vertex: each rank owns some vertices with all their
//! edges, and keeps a read-only *ghost* copy of every neighbour that another rank owns. A
//! vertex has data (`Vertex`), an edge may have data (`Edge`, `()` costs nothing). The
//! synchronous engine runs *supersteps*; in each, every active vertex runs three phases:
//!
//! - **gather** over the edges [`gather_edges`](crate::VertexProgram::gather_edges) names
//!   ([`EdgeDir::In`](crate::EdgeDir): the neighbour is the edge's source; `Out`: its
//!   target; `All`: both). Each edge yields a `Gather` value from the edge's data and the
//!   neighbour's data; `combine` folds them and must be commutative and associative (edge
//!   order is not specified). When a total is cheaper to extend by one edge than to merge
//!   with a fresh value (counts, lists), override
//!   [`gather_into`](crate::VertexProgram::gather_into) as well: the engine starts each
//!   accumulator with `gather` and extends it with `gather_into`.
//! - **apply** gets the folded total (`None` when there was no edge) and is the only place a
//!   vertex's data changes. It may contribute to *aggregators* (global sums, minima or
//!   maxima over all vertices and ranks, readable by every vertex in the next superstep and
//!   by `after_superstep`) and vote to stop.
//! - **scatter** over the edges [`scatter_edges`](crate::VertexProgram::scatter_edges)
//!   names may update the edge and **signal** the neighbour, optionally with a `Message`.
//!   Messages to the same vertex are folded with `combine_messages`; a signalled vertex is
//!   active in the next superstep and reads its message with `ctx.message()`. A program
//!   whose work on one out-edge gains from seeing the others (prefetching the next
//!   neighbours' data, paying per-vertex set-up once) overrides
//!   [`scatter_out`](crate::VertexProgram::scatter_out), which gets all of a vertex's
//!   out-edges in one [`OutEdges`](crate::OutEdges) (LDA resamples a document this way).
//!
//! A program whose scatter does nothing but signal neighbours, with a message computed
//! from the two endpoints' data and the edge (BFS, shortest paths, components), can say
//! so instead: name the edges in [`signal_edges`](crate::VertexProgram::signal_edges) and
//! return the message from [`signal_along`](crate::VertexProgram::signal_along), leaving
//! `scatter_edges` and `scatter` alone. The synchronous engine then picks a direction per
//! superstep, as Ligra's `edgeMap` does: it **pushes** along the active vertices' edges
//! while they are few and **pulls** over every vertex's edges from active neighbours once
//! they pass |E|/20, with an early exit a program may ask for in
//! [`wants_signal`](crate::VertexProgram::wants_signal); `--metrics` records which
//! direction each superstep took. `apps/examples/bfs.rs` is the program below written
//! that way.
//!
//! Which vertices are active: with [`Activation::Signalled`](crate::Activation) (the
//! default) those signalled in the previous superstep, or in `init`; with `All`, every
//! vertex every superstep (PageRank). The run ends when nothing is signalled, a vertex or
//! `after_superstep` asks to stop, or at the iteration limit.
//!
//! ## 3. The program
//!
//! A vertex's data is its hop distance (`u32::MAX` until reached). The source signals
//! itself with distance 0; a vertex offered a shorter distance takes it and offers one more
//! to its out-neighbours that are still unreached. The aggregator counts vertices reached
//! per superstep. No gather: the work of a superstep is proportional to the frontier.
//!
//! ```
//! use gasket_engine::prelude::*;
//!
//! /// Hop distance from `source` along edge directions (`u32::MAX`: unreachable).
//! pub struct Hops {
//!     pub source: VertexId,
//! }
//!
//! impl VertexProgram for Hops {
//!     type Vertex = u32;
//!     type Edge = ();
//!     type Gather = ();
//!     type Message = u32; // a distance on offer
//!
//!     fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, u32>) -> u32 {
//!         if v.id() == self.source {
//!             ctx.signal_with(v.handle(), 0);
//!         }
//!         u32::MAX
//!     }
//!
//!     fn apply(&self, v: &mut VertexMut<'_, u32>, _total: Option<()>, ctx: &mut Context<'_, u32>) {
//!         let offered = *ctx.message().expect("only signalled vertices run");
//!         if offered < *v.data() {
//!             *v.data_mut() = offered;
//!             ctx.aggregate(0, 1.0); // one more vertex reached
//!         }
//!     }
//!
//!     fn scatter_edges(&self, _v: &VertexRef<'_, u32>) -> EdgeDir {
//!         EdgeDir::Out
//!     }
//!
//!     fn scatter(&self, v: &VertexRef<'_, u32>, _edge: &mut (), other: &Neighbor<'_, u32>,
//!                ctx: &mut Context<'_, u32>) {
//!         if *other.data() == u32::MAX {
//!             ctx.signal_with(other.handle(), *v.data() + 1);
//!         }
//!     }
//!
//!     fn combine_messages(&self, acc: &mut u32, offer: u32) {
//!         *acc = (*acc).min(offer);
//!     }
//!
//!     fn aggregators(&self) -> Vec<ReduceOp> {
//!         vec![ReduceOp::Sum]
//!     }
//!
//!     fn after_superstep(&self, info: &SuperstepInfo<'_>) -> Control {
//!         // Identical on every rank: reduced in rank order.
//!         assert!(info.aggregates[0] >= 0.0);
//!         Control::Continue
//!     }
//! }
//! # let graph = InMemory::new(vec![(0, 1, ()), (1, 2, ())]);
//! # let out = Launcher::new(Backend::Threads(2)).progress(false).run(&graph, &Hops { source: 0 }, |v| *v.data())?;
//! # assert_eq!(out.unwrap().values, vec![(0, 0), (1, 1), (2, 2)]);
//! # Ok::<(), EngineError>(())
//! ```
//!
//! ## 4. Test it against a serial verifier
//!
//! A distributed program is only as trustworthy as the independent answer it is compared
//! with. Write the plainest serial algorithm for the same quantity and compare on 1, 2
//! and 4 thread ranks (ranks as threads need no MPI, so this runs in `cargo test`).
//! [`InMemory`](crate::InMemory) deals a graph held in memory to the ranks as if each had
//! read its part of a file:
//!
//! ```
//! # use gasket_engine::prelude::*;
//! # pub struct Hops { pub source: VertexId }
//! # impl VertexProgram for Hops {
//! #     type Vertex = u32; type Edge = (); type Gather = (); type Message = u32;
//! #     fn init(&self, v: &VertexRef<'_, ()>, ctx: &mut Context<'_, u32>) -> u32 {
//! #         if v.id() == self.source { ctx.signal_with(v.handle(), 0); } u32::MAX }
//! #     fn apply(&self, v: &mut VertexMut<'_, u32>, _t: Option<()>, ctx: &mut Context<'_, u32>) {
//! #         let o = *ctx.message().unwrap(); if o < *v.data() { *v.data_mut() = o; } }
//! #     fn scatter_edges(&self, _v: &VertexRef<'_, u32>) -> EdgeDir { EdgeDir::Out }
//! #     fn scatter(&self, v: &VertexRef<'_, u32>, _e: &mut (), o: &Neighbor<'_, u32>, ctx: &mut Context<'_, u32>) {
//! #         if *o.data() == u32::MAX { ctx.signal_with(o.handle(), *v.data() + 1); } }
//! #     fn combine_messages(&self, acc: &mut u32, m: u32) { *acc = (*acc).min(m); }
//! # }
//! use std::collections::{BTreeMap, VecDeque};
//!
//! /// Serial breadth-first search: the reference.
//! fn bfs(edges: &[(u64, u64)], source: u64) -> Vec<(u64, u32)> {
//!     let mut dist: BTreeMap<u64, u32> = edges.iter().flat_map(|&(s, d)| [(s, u32::MAX), (d, u32::MAX)]).collect();
//!     let mut queue = VecDeque::from([source]);
//!     dist.insert(source, 0);
//!     while let Some(u) = queue.pop_front() {
//!         for &(s, d) in edges.iter().filter(|e| e.0 == u) {
//!             if dist[&d] == u32::MAX {
//!                 dist.insert(d, dist[&s] + 1);
//!                 queue.push_back(d);
//!             }
//!         }
//!     }
//!     dist.into_iter().collect()
//! }
//!
//! // A chain with a shortcut, a cycle, and a piece the source cannot reach.
//! let edges = vec![(0, 1), (1, 2), (2, 3), (0, 3), (3, 4), (4, 2), (7, 8)];
//! let graph = InMemory::new(edges.iter().map(|&(s, d)| (s, d, ())).collect());
//! for ranks in [1, 2, 4] {
//!     let launcher = Launcher::new(Backend::Threads(ranks)).progress(false);
//!     let outcome = launcher.run(&graph, &Hops { source: 0 }, |v| *v.data())?.expect("rank 0");
//!     assert_eq!(outcome.values, bfs(&edges, 0), "{ranks} rank(s)");
//! }
//! # Ok::<(), EngineError>(())
//! ```
//!
//! For random graphs of many shapes, `proptest` generating edge lists and the rank count
//! is the next step (gasket's own tests do this for every bundled app).
//!
//! ## 5. The `main`: files, partitioners, thread ranks and MPI ranks
//!
//! [`Launcher::from_env`](crate::Launcher::from_env) chooses the ranks: MPI processes when
//! `mpirun` started the program, else `GASKET_RANKS` threads. A
//! [`GraphInput`](../../gasket_datasets/enum.GraphInput.html) reads any supported format
//! (its edge data: `()`, or `f64` weights from a third column), and a
//! [`Partitioning`](../../gasket_partitioning/enum.Partitioning.html) (or a bare `Method`)
//! places vertices. Only the process holding rank 0 gets `Some(outcome)`; an error is
//! reported with [`fail`](crate::fail), which prints it with its causes and stops every rank
//! with exit code 2 (under MPI a failed rank would otherwise leave its peers waiting).
//!
//! ```no_run
//! # use gasket_engine::prelude::*;
//! # pub struct Hops { pub source: VertexId }
//! # impl VertexProgram for Hops {
//! #     type Vertex = u32; type Edge = (); type Gather = (); type Message = u32;
//! #     fn init(&self, _v: &VertexRef<'_, ()>, _ctx: &mut Context<'_, u32>) -> u32 { 0 }
//! #     fn apply(&self, _v: &mut VertexMut<'_, u32>, _t: Option<()>, _ctx: &mut Context<'_, u32>) {}
//! # }
//! use gasket_datasets::GraphInput;
//! use gasket_partitioning::Method;
//!
//! fn main() {
//!     let path = std::env::args().nth(1).expect("usage: hops GRAPH");
//!     let outcome = Launcher::from_env().and_then(|launcher| {
//!         launcher
//!             .placement(Method::Fennel) // streaming partitioner: fewer cut edges than hash
//!             .run(&GraphInput::file(&path), &Hops { source: 0 }, |v| *v.data())
//!     });
//!     match outcome {
//!         Ok(Some(outcome)) => {
//!             let reached = outcome.values.iter().filter(|(_, d)| *d != u32::MAX).count();
//!             println!("{reached} of {} vertices reached", outcome.values.len());
//!             if let Err(e) = outcome.save("hops.tsv".as_ref(), "hop distance from 0") {
//!                 fail(&e);
//!             }
//!         }
//!         Ok(None) => {} // another process of the MPI job holds rank 0
//!         Err(e) => fail(&e),
//!     }
//! }
//! ```
//!
//! Run it:
//!
//! ```text
//! cargo run --release -- graph.txt                          # one rank
//! GASKET_RANKS=4 cargo run --release -- graph.txt           # four thread ranks
//! cargo build --release --features mpi
//! mpirun -np 4 target/release/hops graph.txt                # four MPI processes
//! ```
//!
//! (As root in a container, Open MPI also wants `OMPI_ALLOW_RUN_AS_ROOT=1
//! OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1`, and `--oversubscribe` for more ranks than cores.)
//! The answer is the same on any number of ranks. The `tests/user-crate` directory of
//! gasket holds a program of this shape that the test suite builds outside the workspace
//! and runs on thread ranks and under `mpirun -np 4`.
//!
//! To do more per rank than one program run (pick the program from the built graph, run
//! two programs in turn, return a global figure), use
//! [`Launcher::run_with`](crate::Launcher::run_with) with a body that calls
//! [`run_program`](crate::run_program) or drives a [`SyncEngine`](crate::SyncEngine)
//! step by step.
//!
//! ## 6. Consistency: what a program may rely on
//!
//! The synchronous engine gives bulk-synchronous semantics, so programs need no locks:
//!
//! - gather reads every neighbour's data **as of the end of the previous superstep** (the
//!   engine double-buffers vertex data), whichever rank owns the neighbour; so results do
//!   not depend on the order vertices run in, nor on the number of ranks;
//! - apply has its vertex's data to itself (a `&mut`); nothing else writes it;
//! - scatter sees the vertex's new data and the neighbour's data after this superstep's
//!   apply; it may write the edge. An edge between vertices owned by two ranks exists on
//!   both; if both endpoints write it in one superstep, the source owner's write wins
//!   everywhere (on one rank the later write wins, so write cut edges from one side only);
//! - messages to a vertex are combined with `combine_messages` before its apply, so it sees
//!   one message whatever the number of senders and ranks;
//! - aggregators are reduced in rank order: every rank sees bit-identical values.
//!
//! What this model cannot express is a vertex reading a neighbour's value written in the
//! *same* superstep, which is what asynchronous engines (GraphLab's vertex and edge
//! consistency) provide.
//!
//! ## 7. Where next
//!
//! - `apps/examples/` has complete programs in this shape: k-core, label propagation,
//!   triangle counting and alternating least squares (vector-valued vertex data), each
//!   checked against its serial verifier;
//! - `apps/src/` holds the bundled apps (PageRank with aggregators and `after_superstep`,
//!   SSSP with weighted edges, components), each with its verifier;
//! - [`SuperstepMetrics`](crate::SuperstepMetrics) tells what each superstep cost: active
//!   vertices, frontier kind, ghost updates, bytes sent, compute and communication time.
