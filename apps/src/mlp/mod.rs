//! `gasket mlp`: a multi-layer perceptron whose layers are the vertices of a graph,
//! trained by data-parallel SGD (momentum) or Adam through the parameter table, with the
//! layer math on the CPU or on an NVIDIA GPU.
//!
//! - [`net`]: the network graph (any DAG of dense layers and a softmax cross-entropy
//!   loss vertex), from `--layers` or a network file;
//! - [`kernels`]: the kernel trait and the CPU backend; `cuda`: the GPU backend
//!   (feature `cuda`); [`device`]: choosing one, with a reported CPU fallback;
//! - [`model`]: forward and backward as gather/apply over the graph on a device;
//! - [`store`]: where parameters live (on the device for one rank, in parameter tables
//!   with server-side optimizer steps for several);
//! - [`data`]: IDX directories (MNIST, Fashion-MNIST), dense CSV and libsvm;
//! - [`train`]: the per-rank loop; [`saved`]: model files; [`command`]: the CLI.

pub mod command;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod data;
pub mod device;
#[cfg(test)]
mod gradcheck;
pub mod kernels;
pub mod model;
pub mod net;
pub mod saved;
pub mod store;
pub mod train;

pub use self::net::{Activation, Net};
