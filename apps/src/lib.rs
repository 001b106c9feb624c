//! # gasket-apps
//!
//! The bundled apps, each a library module with a config struct (defaults as constants),
//! a `run` function on the engine and an independent serial `verify`:
//!
//! - [`pagerank`]: PageRank by pull-based power iteration;
//! - [`pagerank_delta`]: PageRank by pushing residuals, for the asynchronous engine;
//! - [`components`]: weakly connected components by min-label propagation;
//! - [`sssp`]: single-source shortest paths, push-based Bellman-Ford;
//! - [`als`]: alternating least squares (ALS-WR) matrix factorisation for collaborative
//!   filtering on the bipartite user-item ratings graph;
//! - [`kcore`]: k-core decomposition (coreness) by the h-index iteration;
//! - [`labelprop`]: community detection by synchronous label propagation;
//! - [`triangles`]: triangles through each vertex, GraphLab's two-superstep count;
//! - [`lda`]: topic modelling by collapsed Gibbs sampling on the document-word graph;
//! - [`sgd`]: data-parallel SGD (matrix factorisation, logistic regression) on the
//!   parameter table.
//!
//! [`run`] holds the pipeline every app shares (read on every rank, build the graph, run,
//! gather to rank 0); [`cli`] is the `gasket` command; [`output`] writes result files
//! atomically.
#![warn(missing_docs)]

pub mod als;
pub mod checkpointing;
pub mod cli;
pub mod components;
mod error;
pub mod kcore;
pub mod labelprop;
pub mod lda;
pub mod mlp;
pub mod output;
pub mod pagerank;
pub mod pagerank_delta;
pub mod progress;
pub mod run;
pub mod sgd;
pub mod sssp;
pub mod triangles;

pub use error::{AppError, Result};
